"""Print line coverage per package from slipcover's JSON and fail below the floor.

slipcover is used because its module name does not clash with our ``coverage/`` package (the
coverage.py tool imports as ``coverage`` too). Usage, after the test run wrote the JSON::

    python scripts/line_coverage.py test-artifacts/line_coverage.json --floor 90
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import defaultdict
from pathlib import Path

logger = logging.getLogger("line_coverage")

#: Packages held to the floor; others under --source are reported only.
PACKAGES = ("geo", "coverage", "maps")
REPORTED = ("study",)


def per_package(report: dict) -> dict[str, tuple[int, int]]:
    """Covered and total executable lines per top-level package."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for name, data in report["files"].items():
        pkg = Path(name).parts[0]
        covered = len(data["executed_lines"])
        totals[pkg][0] += covered
        totals[pkg][1] += covered + len(data["missing_lines"])
    return {k: (v[0], v[1]) for k, v in totals.items()}


def main(argv: list[str] | None = None) -> int:
    """Report and check; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("json_file")
    parser.add_argument("--floor", type=float, default=90.0, help="minimum %% per package")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    report = json.loads(Path(args.json_file).read_text("utf-8"))
    rows = per_package(report)
    failed = []
    logger.info("line coverage (slipcover):")
    for pkg in PACKAGES:
        covered, total = rows.get(pkg, (0, 0))
        pct = 100.0 * covered / total if total else 0.0
        mark = "ok" if pct >= args.floor else f"below {args.floor:.0f} %"
        logger.info("  %-9s %6.1f %%  (%d of %d lines)  %s", pkg, pct, covered, total, mark)
        if pct < args.floor:
            failed.append(pkg)
    for pkg in REPORTED:
        covered, total = rows.get(pkg, (0, 0))
        if total:
            logger.info(
                "  %-9s %6.1f %%  (%d of %d lines)  (reported only)",
                pkg,
                100.0 * covered / total,
                covered,
                total,
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
