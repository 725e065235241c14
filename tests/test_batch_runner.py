"""The batch runner on a real Dask cluster: scheduler and workers started as processes."""

from __future__ import annotations

import json
import threading
import time

from _batch_work import square
from _dask import dask_cluster

from study.batch_runner import BatchTask, run_tasks


def _tasks(n: int, **extra) -> list[BatchTask]:
    return [
        BatchTask(key=f"d{i}", name=f"区{i}", code=str(i), payload={"n": i, **extra})
        for i in range(n)
    ]


def test_batch_on_a_started_cluster_is_resumable_and_isolates_failures(tmp_path):
    tasks = _tasks(4)
    tasks.append(BatchTask(key="bad", name="坏区", code="x", payload={"n": 9, "fail": True}))
    lines: list[str] = []
    with dask_cluster(2) as cluster:
        ledger = run_tasks(
            tasks, square, out=tmp_path, scheduler=cluster.address, on_progress=lines.append
        )
        assert {k: v["status"] for k, v in ledger.districts.items()} == {
            "d0": "done",
            "d1": "done",
            "d2": "done",
            "d3": "done",
            "bad": "failed",
        }
        assert ledger.districts["d3"]["value"] == 9
        assert "has no network" in ledger.districts["bad"]["error"]
        assert any(line.startswith("[5/5]") and "ETA" in line for line in lines)
        assert any("dashboard" in line.lower() for line in lines)
        saved = json.loads((tmp_path / "batch.json").read_text("utf-8"))
        assert saved["complete"] is False and saved["districts"]["d0"]["status"] == "done"
        # A rerun runs only what is not done yet.
        lines.clear()
        run_tasks(tasks, square, out=tmp_path, scheduler=cluster.address, on_progress=lines.append)
        assert any(line.startswith("[1/1] 坏区") for line in lines)
        # --force runs everything again.
        lines.clear()
        run_tasks(
            tasks,
            square,
            out=tmp_path,
            scheduler=cluster.address,
            force=True,
            on_progress=lines.append,
        )
        assert any(line.startswith("[5/5]") for line in lines)


def test_batch_on_the_default_local_cluster(tmp_path):
    ledger = run_tasks(_tasks(3), square, out=tmp_path, workers=2)
    assert [ledger.districts[f"d{i}"]["value"] for i in range(3)] == [0, 1, 4]
    assert json.loads((tmp_path / "batch.json").read_text("utf-8"))["complete"] is True


def test_batch_survives_a_killed_worker(tmp_path):
    tasks = _tasks(8, sleep=1.0)
    with dask_cluster(2) as cluster:
        victim = cluster.workers[0]

        def kill_soon() -> None:
            time.sleep(1.5)
            victim.kill()

        killer = threading.Thread(target=kill_soon)
        killer.start()
        ledger = run_tasks(tasks, square, out=tmp_path, scheduler=cluster.address)
        killer.join()
        assert victim.poll() is not None, "the worker was not killed"
    assert all(v["status"] == "done" for v in ledger.districts.values())
    assert sorted(v["value"] for v in ledger.districts.values()) == [i * i for i in range(8)]
