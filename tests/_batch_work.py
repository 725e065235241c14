"""Work functions for the batch-runner tests (importable on Dask workers)."""

from __future__ import annotations

import os
import time


def square(payload: dict) -> dict:
    """Square a number after a pause; fail on request; report which process did it."""
    time.sleep(float(payload.get("sleep", 0.0)))
    if payload.get("fail"):
        msg = f"district {payload['n']} has no network"
        raise ValueError(msg)
    return {"value": payload["n"] ** 2, "pid": os.getpid()}
