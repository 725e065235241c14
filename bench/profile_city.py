"""Profile one city run in-process (not a test): ``.venv/bin/python bench/profile_city.py CFG``.

Runs :func:`study.pipeline.run` and :func:`study.pipeline.write_outputs` under cProfile on a
cached bench_city case and prints the step timings, the write time and the top functions by
cumulative time, so that the slow step of ``bench_city.py`` can be read in one place.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import pstats
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from study.pipeline import load_config, run, write_outputs  # noqa: E402

logger = logging.getLogger("profile_city")


def main() -> int:
    """Profile, print the timings and the top of the profile."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config", type=Path)
    parser.add_argument("--out", type=Path, default=Path("/tmp/profile_city_out"))
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--stats", type=Path, default=None, help="also dump the raw stats here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    cfg = load_config(args.config)
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
