"""A real Dask cluster for tests: ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1.

Started with the ``distributed`` package's own commands, stopped afterwards; never mocked.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    """Addresses and processes of a running test cluster."""

    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # Workers import the project's modules (and the tests' work functions).
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests"), env.get("PYTHONPATH", "")])
    return env


@contextlib.contextmanager
def dask_cluster(n_workers: int = 2) -> Iterator[Cluster]:
    """Start a scheduler and ``n_workers`` single-threaded worker processes."""
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask_bin = Path(sys.executable).with_name("dask")
    common = {
        "cwd": ROOT,
        "env": _env(),
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
    }
    sched = subprocess.Popen(
        [
            str(dask_bin),
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--dashboard-address",
            "127.0.0.1:0",
            "--no-show",
        ],
        **common,
    )
    cluster = Cluster(address=address, scheduler=sched)
    try:
        for _ in range(n_workers):
            cluster.workers.append(
                subprocess.Popen(
                    [
                        str(dask_bin),
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--nworkers",
                        "1",
                        "--host",
                        "127.0.0.1",
                        "--dashboard-address",
                        "127.0.0.1:0",
                        "--no-nanny",
                    ],
                    **common,
                )
            )
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(n_workers, timeout=120)
        yield cluster
    finally:
        for proc in [*cluster.workers, sched]:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.time() + 20
        for proc in [*cluster.workers, sched]:
            try:
                proc.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                proc.kill()
