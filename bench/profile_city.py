"""Profile one city run in-process (not a test): ``.venv/bin/python bench/profile_city.py CFG``.

Runs :func:`study.pipeline.run` and :func:`study.pipeline.write_outputs` under cProfile on a
cached bench_city case and prints the step timings, the write time and the top functions by
cumulative time, so that the slow step of ``bench_city.py`` can be read in one place.
``--memory`` instead samples the resident memory every 20 ms and prints each step's peak.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import pstats
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from study.pipeline import load_config, run, write_outputs  # noqa: E402

logger = logging.getLogger("profile_city")


def _rss_gb() -> float:
    """Resident memory of this process now (Linux ``/proc``), in GB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024**2
    return float("nan")


class _Peaks:
    """Peak resident memory per pipeline step, sampled on a thread."""

    def __init__(self) -> None:
        self.step = "start"
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            rss = _rss_gb()
            self.peaks[self.step] = max(self.peaks.get(self.step, 0.0), rss)

    def progress(self, step: str, fraction: float) -> None:
        """The pipeline's progress callback: a new step starts."""
        self.step = step

    def __enter__(self) -> _Peaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def _memory(cfg: Any, out: Path) -> int:
    """Run and write once, logging each step's peak resident memory."""
    with _Peaks() as peaks:
        res = run(cfg, progress=peaks.progress)
        peaks.step = "writing outputs"
        if out.exists():
            shutil.rmtree(out)
        write_outputs(res, out)
    for step, gb in peaks.peaks.items():
        logger.info("%-50s peak %5.2f GB", step, gb)
    return 0


def main() -> int:
    """Profile, print the timings and the top of the profile."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config", type=Path)
    parser.add_argument("--out", type=Path, default=Path("/tmp/profile_city_out"))
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--stats", type=Path, default=None, help="also dump the raw stats here")
    parser.add_argument("--memory", action="store_true", help="peak memory per step instead")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    cfg = load_config(args.config)
    if args.memory:
        return _memory(cfg, args.out)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    res = run(cfg)
    t1 = time.perf_counter()
    if args.out.exists():
        shutil.rmtree(args.out)
    write_outputs(res, args.out)
    prof.disable()
    t2 = time.perf_counter()
    for k, v in res.timings.items():
        logger.info("%-50s %7.1f s", k, v)
    logger.info("%-50s %7.1f s", "run (total)", t1 - t0)
    logger.info("%-50s %7.1f s", "write_outputs", t2 - t1)
    if args.stats is not None:
        prof.dump_stats(args.stats)
    pstats.Stats(prof).sort_stats("cumulative").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
