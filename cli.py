"""Headless entry point: ``python cli.py run CONFIG.toml --out DIR`` or ``run --demo``.

Kept in its own file (not ``python -m coverage``) because our ``coverage`` package shares its import
name with coverage.py.

No traceback reaches the terminal: every failure is one line on stderr (what failed, which input,
how to fix it; :func:`geo.errors.one_line`, which the app shows too) and the traceback goes to
``error.log`` in the output folder (in the current folder when ``--out`` cannot take it). Exit
codes: 0 done, 1 a problem of the input or the machine (:data:`EXIT_ERROR`), 2 a wrong command
line (:data:`EXIT_USAGE`), 3 an internal error, i.e. a bug (:data:`EXIT_INTERNAL`), 130
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

logger = logging.getLogger("cli")

EXIT_OK = 0
#: Our own errors (bad config, unreadable input files...) and files the machine cannot give.
EXIT_ERROR = 1
#: Wrong command line: unknown option, missing argument, an --out that cannot be used.
EXIT_USAGE = 2
#: Anything else: a bug of the tool (still one line on stderr; details in error.log).
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130

ERROR_LOG = "error.log"


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing its usage block and exiting."""

    def error(self, message: str) -> NoReturn:
        msg = f"{self.prog}: {message}; see python {self.prog} --help"
        raise UsageError(msg)


def _cmd_run(args: argparse.Namespace) -> int:
    from coverage.pipeline import check_output_folder, demo_config, load_config, run, write_outputs

    if args.demo and args.config:
        msg = "cli.py run: give either CONFIG.toml or --demo, not both"
        raise UsageError(msg)
    if not args.demo and not args.config:
        msg = "cli.py run: give CONFIG.toml or --demo (see README, 'Config reference')"
        raise UsageError(msg)
    # Before any work: an --out that cannot take the outputs would fail only at the end.
    check_output_folder(args.out)
    if args.demo:
        cfg = demo_config(args.demo_name, siting=not args.no_siting)
    else:
        cfg = load_config(args.config)
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
    return 0


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
    p_run.set_defaults(func=_cmd_run)
    p_cat = sub.add_parser("categories", help="list the facility taxonomy")
    p_cat.set_defaults(func=_cmd_categories)
    return parser


def _log_folders(out: str | None) -> list[Path]:
    """Where error.log may go, best first: the output folder when it can take it, else here."""
    folders = []
    if out:
        from coverage.pipeline import output_folder_problem

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
