"""Run many districts on Dask distributed: resumable, with progress, isolated failures.

The district work itself is a plain function (see :mod:`study.batch`); this module only schedules
it. A ``LocalCluster`` is the embedded default on one machine; ``scheduler="tcp://host:8786"``
uses a running cluster. No home-made process pool: Dask reschedules the tasks of a worker that
dies, and a district whose work raises is recorded as failed without stopping the others.
"""

from __future__ import annotations

import json
import logging
import os
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

__all__ = ["BatchTask", "Ledger", "run_tasks"]

LEDGER = "batch.json"


@dataclass(frozen=True)
class BatchTask:
    """One district: its folder key, display name, code and the (picklable) work payload."""

    key: str
    name: str
    code: str
    payload: Any


@dataclass
class Ledger:
    """``batch.json``: which districts are finished (or failed, with their error)."""

    path: Path
    districts: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def open(cls, out: Path) -> Ledger:
        """The ledger of an output folder (empty when there is none yet)."""
        path = out / LEDGER
        if path.is_file():
            try:
                data = json.loads(path.read_text("utf-8"))
                return cls(path=path, districts=dict(data.get("districts", {})))
            except (json.JSONDecodeError, OSError, AttributeError):
                logger.warning("%s: unreadable; starting a new batch ledger", path)
        return cls(path=path)

    def done(self, key: str) -> bool:
        """Whether the district finished successfully in an earlier run."""
        return self.districts.get(key, {}).get("status") == "done"

    def record(self, key: str, entry: dict[str, Any]) -> None:
        """Record a district's outcome and save the ledger atomically."""
        self.districts[key] = {**entry, "finished": datetime.now().astimezone().isoformat()}
        self.save()

    def save(self, **extra: Any) -> None:
        """Write the ledger (temporary file + rename: never half-written)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        body = {"districts": self.districts, **extra}
        tmp.write_text(json.dumps(body, ensure_ascii=False, indent=2, default=str), "utf-8")
        tmp.replace(self.path)


def _guarded(work: Callable[[Any], dict[str, Any]], payload: Any) -> dict[str, Any]:
    """Run the work on a worker; an error becomes a result, so other districts go on."""
    try:
        return {"ok": True, **work(payload)}
    except Exception as exc:  # one district's failure must not stop the batch
        return {
            "ok": False,
            "error": f"{type(exc).__name__}: {exc}".splitlines()[0],
            "traceback": traceback.format_exc(),
        }


def _eta(done: int, total: int, started: float) -> str:
    if done == 0:
        return "?"
    left = (time.perf_counter() - started) / done * (total - done)
    return f"{left:,.0f} s"


def run_tasks(
    tasks: Iterable[BatchTask],
    work: Callable[[Any], dict[str, Any]],
    *,
    out: Path,
    scheduler: str | None = None,
    workers: int | None = None,
    force: bool = False,
    on_progress: Callable[[str], None] | None = None,
) -> Ledger:
    """Run ``work(task.payload)`` for every task not already done, on Dask distributed.

    Parameters
    ----------
    tasks
        The districts.
    work
        A module-level (importable on the workers) function returning a JSON-safe dict.
    out
        The batch output folder (holds ``batch.json``).
    scheduler
        Address of a running scheduler (``tcp://host:8786``); default a ``LocalCluster``.
    workers
        Worker processes of the LocalCluster (default 2, one thread each).
    force
        Run districts again that an earlier run finished.
    on_progress
        Called with a one-line progress text after each district.

    Returns
    -------
    Ledger
        The outcome of every district.
    """
    from distributed import Client, LocalCluster, as_completed

    ledger = Ledger.open(out)
    tasks = list(tasks)
    todo = [t for t in tasks if force or not ledger.done(t.key)]
    if len(todo) < len(tasks):
        logger.info("%d district(s) already done; skipped", len(tasks) - len(todo))
    say = on_progress or (lambda text: logger.info("%s", text))
    if not todo:
        say("all districts are already done (use --force to run them again)")
        ledger.save(complete=True)
        return ledger
    cluster = None
    if scheduler:
        client = Client(scheduler, timeout="30s")
    else:
        cluster = LocalCluster(
            n_workers=workers or 2,
            threads_per_worker=1,
            processes=True,
            dashboard_address="127.0.0.1:0",
        )
        client = Client(cluster)
    try:
        say(f"Dask dashboard: {client.dashboard_link}")
        futures = {
            client.submit(_guarded, work, t.payload, key=f"district-{t.key}", pure=False): t
            for t in todo
        }
        started = time.perf_counter()
        for n_done, fut in enumerate(as_completed(futures), start=1):
            task = futures[fut]
            try:
                result = fut.result()
            except Exception as exc:  # e.g. KilledWorker after repeated worker deaths
                result = {"ok": False, "error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
            if result.pop("ok"):
                ledger.record(task.key, {"status": "done", "name": task.name, **result})
            else:
                ledger.record(
                    task.key,
                    {"status": "failed", "name": task.name, "error": result.get("error", "")},
                )
                logger.error("district %s failed: %s", task.name, result.get("error"))
            say(
                f"[{n_done}/{len(todo)}] {task.name}: {ledger.districts[task.key]['status']}"
                f" — ETA {_eta(n_done, len(todo), started)}"
            )
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    failed = [k for k, v in ledger.districts.items() if v.get("status") != "done"]
    ledger.save(complete=not failed)
    return ledger
