"""Headless entry point: ``python cli.py run CONFIG.toml --out DIR`` or ``run --demo``.

Kept in its own file (not ``python -m coverage``) because our ``coverage`` package shares its import
name with coverage.py.
"""

from __future__ import annotations

import argparse
import logging
import sys

from geo.errors import CoverageToolError
from geo.taxonomy import categories

logger = logging.getLogger("cli")


def _cmd_run(args: argparse.Namespace) -> int:
    from coverage.pipeline import demo_config, load_config, run, write_outputs

    if args.demo and args.config:
        logger.error("give either CONFIG.toml or --demo, not both")
        return 2
    if args.demo:
        cfg = demo_config(args.demo_name, siting=not args.no_siting)
    elif args.config:
        cfg = load_config(args.config)
    else:
        logger.error("give CONFIG.toml or --demo (see README, 'Config reference')")
        return 2
    result = run(cfg)
    written = write_outputs(result, args.out)
    summary = result.coverage.summary
    for row in summary.itertuples():
        logger.info(
            "%-16s %6.1f %%  (%s / %s residents)",
            row.category,
            100 * row.coverage_rate,
            f"{row.covered_population:,.0f}",
            f"{row.population:,.0f}",
        )
    for name, path in written.items():
        logger.info("wrote %s: %s", name, path)
    invalid = summary[summary["status"].astype(str) != "ok"]
    if len(invalid) and not args.allow_partial:
        # The outputs are written (for inspection), but a run with invalid categories must not
        # pass for a good one in a script.
        logger.error(
            "error: %d categor%s invalid (%s; see the status column of summary.csv); fix the "
            "input, or give --allow-partial to accept the other categories",
            len(invalid),
            "y is" if len(invalid) == 1 else "ies are",
            "; ".join(f"{r.category}: {r.status}" for r in invalid.itertuples()),
        )
        return 3
    return 0


def _cmd_categories(_: argparse.Namespace) -> int:
    for key, cat in categories().items():
        sys.stdout.write(
            f"{key:16s} {cat.name_zh}  |  {cat.name_en}  |  {cat.criterion.label('en')}  |  "
            f"{cat.standard} [{cat.status}]\n"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run a command; returns the process exit code."""
    parser = argparse.ArgumentParser(
        prog="cli.py", description="15-minute living-circle coverage (十五分钟生活圈覆盖评估)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="run an analysis from a TOML config or the demo")
    p_run.add_argument("config", nargs="?", help="CONFIG.toml")
    p_run.add_argument("--demo", action="store_true", help="run the embedded demo district")
    p_run.add_argument(
        "--demo-name",
        default="synthetic",
        choices=["synthetic", "helsinki"],
        help="which embedded demo (default: synthetic)",
    )
    p_run.add_argument("--no-siting", action="store_true", help="demo without the siting step")
    p_run.add_argument("--out", required=True, help="output folder")
    p_run.add_argument(
        "--allow-partial",
        action="store_true",
        help="exit 0 even when some categories are invalid (status column of summary.csv)",
    )
    p_run.set_defaults(func=_cmd_run)
    p_cat = sub.add_parser("categories", help="list the facility taxonomy")
    p_cat.set_defaults(func=_cmd_categories)
    args = parser.parse_args(argv)
    logging.getLogger("pyogrio").setLevel(logging.WARNING)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.func(args))
    except CoverageToolError as exc:
        logger.error("error: %s", exc)
        return 1


if __name__ == "__main__":
    sys.exit(main())
