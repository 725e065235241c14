"""A real PostgreSQL + PostGIS server for tests: initialised in a temporary folder, on a free
loopback port, stopped afterwards. Never a mock.

Debian's postgresql-15 and postgresql-15-postgis-3 (installed by scripts/setup_env.sh --dev)
provide the binaries. initdb refuses to run as root, so as root the server runs as the
``postgres`` system user that the package creates.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@contextlib.contextmanager
def postgis_server() -> Iterator[str]:
    """Start a throw-away PostGIS server; yields ``postgresql://postgres@127.0.0.1:PORT/lcc``."""
    assert (PG_BIN / "initdb").exists(), (
        "PostgreSQL 15 is not installed: run `bash scripts/setup_env.sh --dev` "
        "(apt: postgresql-15 postgresql-15-postgis-3)"
    )
    root = Path(tempfile.mkdtemp(prefix="lcc-pg-"))
    data = root / "data"
    port = _free_port()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    run = {"check": True, "capture_output": True, "text": True}
    try:
        subprocess.run(
            _as_server_user(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ]
            ),
            **run,
        )
        opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_server_user(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    opts,
                    "-w",
                    "-t",
                    "60",
                    "-l",
                    str(root / "server.log"),
                    "start",
                ]
            ),
            **run,
        )
        base = ["-h", "127.0.0.1", "-p", str(port), "-U", "postgres"]
        subprocess.run([str(PG_BIN / "createdb"), *base, "lcc"], **run)
        subprocess.run(
            [str(PG_BIN / "psql"), *base, "-d", "lcc", "-c", "CREATE EXTENSION postgis"], **run
        )
        yield f"postgresql://postgres@127.0.0.1:{port}/lcc"
    finally:
        subprocess.run(
            _as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)
