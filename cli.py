"""Headless entry point: ``python cli.py run CONFIG.toml --out DIR`` or ``run --demo``.

Kept in its own file (not ``python -m coverage``) because our ``coverage`` package shares its import
name with coverage.py.

No traceback reaches the terminal: every failure is one line on stderr (what failed, which input,
how to fix it; :func:`geo.errors.one_line`, which the app shows too) and the traceback goes to
``error.log`` in the output folder (in the current folder when ``--out`` cannot take it). Exit
codes: 0 done, 1 a problem of the input or the machine (:data:`EXIT_ERROR`), 2 a wrong command
line (:data:`EXIT_USAGE`), 3 an internal error, i.e. a bug (:data:`EXIT_INTERNAL`), 4 outputs
written but some category invalid (:data:`EXIT_PARTIAL`, unless ``--allow-partial``), 130
interrupted.
"""

from __future__ import annotations

import argparse
import logging
import platform
import sys
import traceback
from datetime import datetime
from pathlib import Path
from typing import NoReturn

from geo.errors import UsageError, is_expected, one_line
from geo.messages import msg
from maps.export_bundle import report_formats

logger = logging.getLogger("cli")

EXIT_OK = 0
#: Our own errors (bad config, unreadable input files...) and files the machine cannot give.
EXIT_ERROR = 1
#: Wrong command line: unknown option, missing argument, an --out that cannot be used.
EXIT_USAGE = 2
#: Anything else: a bug of the tool (still one line on stderr; details in error.log).
EXIT_INTERNAL = 3
#: Outputs written, but some category's result is invalid (see its status); --allow-partial: 0.
EXIT_PARTIAL = 4
EXIT_INTERRUPTED = 130

ERROR_LOG = "error.log"


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing its usage block and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(msg("ui.cli.usage", prog=self.prog, problem=message))


def _cmd_run(args: argparse.Namespace) -> int:
    from study.pipeline import check_output_folder, demo_config, load_config, run, write_outputs

    if args.demo and args.config:
        raise UsageError(msg("ui.cli.config_and_demo"))
    if not args.demo and not args.config:
        raise UsageError(msg("ui.cli.config_or_demo"))
    # Before any work: an --out that cannot take the outputs would fail only at the end.
    check_output_folder(args.out)
    if args.demo:
        cfg = demo_config(args.demo_name, siting=not args.no_siting)
    elif str(args.config).lower().endswith(".gpkg"):
        from study.runs import project_config

        cfg = project_config(args.config)
    else:
        cfg = load_config(args.config)
    if args.sink:
        from geo.postgis import is_database_url

        if not is_database_url(args.sink):
            raise UsageError(msg("ui.cli.bad_sink", sink=args.sink))
    if args.format:
        cfg.output = {**cfg.output, "format": args.format}
    result = run(cfg)
    extra = None
    if args.report:
        from maps.export_bundle import write_run_reports

        def extra(folder: Path) -> dict[str, Path]:
            # Inside the temporary folder, so the reports are part of the whole-or-absent outputs.
            return write_run_reports(result, folder, formats=args.report, lang=args.lang)

    written = write_outputs(result, args.out, extra=extra)
    if args.save_project:
        from study.runs import save_run_project

        written["project"] = save_run_project(result, args.save_project)
    if args.sink:
        from geo.postgis import safe_url
        from study.runs import write_sink

        tables = write_sink(result, args.sink)
        logger.info("wrote %d tables to %s", len(tables), safe_url(args.sink))
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
        return EXIT_PARTIAL
    return 0


def _cmd_query(args: argparse.Namespace) -> int:
    from study.pipeline import load_config
    from study.runs import project_config, query_config, query_table

    cfg = (
        project_config(args.config)
        if str(args.config).lower().endswith(".gpkg")
        else load_config(args.config)
    )
    answer = query_config(cfg, lon=args.lon, lat=args.lat, crs=args.crs)
    if not answer.snapped:
        logger.warning(
            "the point is %.0f m from the nearest street (more than the snap tolerance): "
            "nothing is reachable from it on the network",
            answer.snap_distance_m,
        )
    table = query_table(answer, lang=args.lang)
    sys.stdout.write(table.to_string(index=False) + "\n")
    if args.out:
        out = Path(args.out)
        routes = answer.table[answer.table.geometry.notna()]
        if out.suffix.lower() in (".geojson", ".json"):
            routes.to_file(out, driver="GeoJSON")
        else:
            from geo.safe_cells import write_csv

            write_csv(table, out)
        logger.info("wrote %s", out)
    return 0


def _cmd_batch(args: argparse.Namespace) -> int:
    from study.batch import run_batch

    ledger = run_batch(
        args.config,
        args.out,
        scheduler=args.scheduler,
        workers=args.workers,
        force=args.force,
        on_progress=lambda text: logger.warning("%s", text),
    )
    failed = {k: v for k, v in ledger.districts.items() if v.get("status") != "done"}
    for key, entry in failed.items():
        logger.error("district %s failed: %s", entry.get("name", key), entry.get("error", ""))
    return 1 if failed else 0


def _cmd_categories(_: argparse.Namespace) -> int:
    from geo.taxonomy import categories

    for key, cat in categories().items():
        sys.stdout.write(
            f"{key:16s} {cat.name_zh}  |  {cat.name_en}  |  {cat.criterion.label('en')}  |  "
            f"{cat.standard} [{cat.status}]\n"
        )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
        "--save-project", metavar="FILE.lcc.gpkg", help="also save the study as a project file"
    )
    p_run.add_argument(
        "--sink",
        metavar="postgresql://…?schema=lcc",
        help="also write the run's layers as PostGIS tables (replacing the previous run's)",
    )
    p_run.add_argument(
        "--report",
        metavar="FORMATS",
        type=report_formats,
        help="also write the meeting exports: comma-separated html,png,xlsx,pdf,pptx (or gpkg), "
        "or 'all'",
    )
    p_run.add_argument(
        "--lang", choices=["zh", "en"], default="zh", help="language of --report (default zh)"
    )
    p_run.add_argument(
        "--format",
        choices=["gpkg", "parquet"],
        help="map layers as results.gpkg or one GeoParquet file per layer (default: [output] "
        "format, else gpkg)",
    )
    p_run.add_argument(
        "--allow-partial",
        action="store_true",
        help="exit 0 even when some categories are invalid (status column of summary.csv)",
    )
    p_run.set_defaults(func=_cmd_run)
    p_query = sub.add_parser("query", help="what can I reach from one point? (every category)")
    p_query.add_argument("config", help="CONFIG.toml or a project file (*.lcc.gpkg)")
    p_query.add_argument("--lon", type=float, required=True, help="longitude (degrees)")
    p_query.add_argument("--lat", type=float, required=True, help="latitude (degrees)")
    p_query.add_argument(
        "--crs", default="wgs84", choices=["wgs84", "gcj02", "bd09"], help="datum of lon/lat"
    )
    p_query.add_argument("--lang", default="zh", choices=["zh", "en"])
    p_query.add_argument("--out", help="write the routes (.geojson) or the table (.csv)")
    p_query.set_defaults(func=_cmd_query)
    p_batch = sub.add_parser("batch", help="run every district of [batch] districts on Dask")
    p_batch.add_argument("config", help="CONFIG.toml with a [batch] table")
    p_batch.add_argument("--out", required=True, help="output folder (one subfolder a district)")
    p_batch.add_argument("--scheduler", help="a running Dask scheduler, e.g. tcp://host:8786")
    p_batch.add_argument("--workers", type=int, help="local worker processes (default 2)")
    p_batch.add_argument("--force", action="store_true", help="rerun districts already done")
    p_batch.set_defaults(func=_cmd_batch)
    p_cat = sub.add_parser("categories", help="list the facility taxonomy")
    p_cat.set_defaults(func=_cmd_categories)
    return parser


def _log_folders(out: str | None) -> list[Path]:
    """Where error.log may go, best first: the output folder when it can take it, else here."""
    folders = []
    if out:
        from study.pipeline import output_folder_problem

        try:
            if output_folder_problem(out) is None:
                folders.append(Path(out))
        except OSError:
            pass
    return [*folders, Path.cwd()]


def _write_error_log(exc: BaseException, *, argv: list[str], out: str | None) -> Path | None:
    text = (
        f"{datetime.now().astimezone().isoformat(timespec='seconds')}  "
        f"python {platform.python_version()} on {platform.platform()}\n"
        f"command: cli.py {' '.join(argv)}\n"
        f"message: {one_line(exc)}\n\n" + "".join(traceback.format_exception(exc))
    )
    for folder in _log_folders(out):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / ERROR_LOG
            path.write_text(text, encoding="utf-8")
        except OSError:
            continue
        return path
    return None


def exit_code(exc: BaseException) -> int:
    """The process exit code for a failure (see the module docstring)."""
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, UsageError):
        return EXIT_USAGE
    return EXIT_ERROR if is_expected(exc) else EXIT_INTERNAL


def _fail(exc: BaseException, *, argv: list[str], out: str | None) -> int:
    code = exit_code(exc)
    line = "interrupted; nothing was written" if code == EXIT_INTERRUPTED else one_line(exc)
    log = _write_error_log(exc, argv=argv, out=out)
    where = f"details in {log}" if log else "the details could not be written to error.log"
    # The one line the planner reads; written directly so that it is the only thing on stderr
    # whatever the logging set-up.
    sys.stderr.write(f"error: {line} ({where})\n")
    sys.stderr.flush()
    return code


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run a command; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    out: str | None = None
    try:
        args = _parser().parse_args(argv)
        out = getattr(args, "out", None)
        logging.getLogger("pyogrio").setLevel(logging.WARNING)
        logging.basicConfig(
            level=logging.WARNING if args.quiet else logging.INFO,
            format="%(message)s",
            stream=sys.stderr,
        )
        logging.captureWarnings(True)
        return int(args.func(args))
    except (Exception, KeyboardInterrupt) as exc:
        return _fail(exc, argv=argv, out=out)


if __name__ == "__main__":
    sys.exit(main())
