"""A corpus of broken configurations and command lines: each ends in one line, never a traceback.

Every case asserts the exit code, that stderr is exactly one line naming the key or file at
fault, that no traceback reaches the terminal, and that the traceback is in ``error.log``.
Most cases run in-process (fast); a few run ``cli.py`` as a real subprocess, where everything the
process writes to stderr is seen.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from _data import ROOT

import cli

HEAD = '[network]\nfile = "roads.osm"\n[demand]\nfile = "p.csv"\n[[facilities]]\nfile = "f.csv"\n'

#: (id, config text or None, extra CLI arguments, exit code, text stderr must contain)
CASES: list[tuple[str, str | None, list[str], int, str]] = [
    ("missing-config", None, ["nope.toml"], 1, "nope.toml"),
    ("bad-toml", "[network\nfile =", [], 1, "not valid TOML"),
    ("network-as-string", 'network = "roads.osm"\n', [], 1, "[network] must be a table"),
    ("unknown-top-key", "colour = 'red'\n" + HEAD, [], 1, "colour: unknown top-level key"),
    (
        "unknown-network-key",
        HEAD.replace("[demand]", "speed = 3\n[demand]"),
        [],
        1,
        "[network] speed: unknown key",
    ),
    (
        "mode-list",
        HEAD.replace("[demand]", 'mode = ["walk"]\n[demand]'),
        [],
        1,
        "[network] mode: must be one of walk, bike, drive, got ['walk']",
    ),
    (
        "metres-inf",
        HEAD + "[criteria.job_service]\nmetres = inf\n",
        [],
        1,
        "[criteria.job_service] metres: must be finite and > 0, got inf",
    ),
    (
        "k-text",
        HEAD + '[siting]\ncategory = "parking"\nk = "three"\n',
        [],
        1,
        "[siting] k: must be an integer ≥ 1, got 'three'",
    ),
    (
        "facility-file-number",
        HEAD.replace('file = "f.csv"', "file = 123"),
        [],
        1,
        "[[facilities]] file: must be a path string, got 123",
    ),
    ("unknown-category", HEAD + 'category = "spaceport"\n', [], 1, "[[facilities]] category"),
    (
        "unknown-criteria-table",
        HEAD + "[criteria.spaceport]\nminutes = 5\n",
        [],
        1,
        "[criteria.spaceport]",
    ),
    ("crs-mars", HEAD + 'crs = "mars"\n', [], 1, "[[facilities]] crs"),
    ("missing-network-file", HEAD.replace("roads.osm", "gone.osm"), [], 1, "[network] file: "),
    ("missing-facility-file", HEAD.replace("f.csv", "gone.csv"), [], 1, "[[facilities]] file: "),
    (
        "grid-without-population",
        HEAD.replace("[demand]", '[demand]\ntype = "grid"'),
        [],
        1,
        "total_population",
    ),
    (
        "target-percent",
        HEAD + '[siting]\ncategory = "parking"\nmodel = "lscp"\ntarget = 95\n',
        [],
        1,
        "[siting] target",
    ),
    (
        "engine-dial",
        HEAD + '[analysis]\nsearch_engine = "dial"\n',
        [],
        1,
        "[analysis] search_engine",
    ),
    (
        "minutes-and-metres",
        HEAD + "[criteria.parking]\nminutes = 5\nmetres = 400\n",
        [],
        1,
        "[criteria.parking]",
    ),
    ("bbox-order", "[network]\nbbox = [118, 32, 117, 31]\n", [], 1, "[network] bbox"),
    (
        "yes-weight-negative",
        HEAD.replace("[demand]", "[demand]\nyes_weight = -1"),
        [],
        1,
        "[demand] yes_weight",
    ),
    ("network-not-osm", HEAD, ["-q"], 1, "roads.osm"),
    ("out-is-file", HEAD, ["--out", "afile"], 2, "--out"),
    ("out-foreign-folder", HEAD, ["--out", "thesis"], 2, "thesis"),
    ("config-and-demo", HEAD, ["--demo"], 2, "either CONFIG.toml or --demo"),
    ("unknown-option", HEAD, ["--fast"], 2, "--fast"),
    ("bad-demo-name", None, ["--demo", "--demo-name", "mars"], 2, "mars"),
    ("no-config-no-demo", None, [], 2, "CONFIG.toml or --demo"),
]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with the files the configurations name; the current folder during the test."""
    (tmp_path / "roads.osm").write_text("this is not OpenStreetMap XML\n", encoding="utf-8")
    (tmp_path / "p.csv").write_text("lon,lat,population\n116.35,40.0,10\n", encoding="utf-8")
    (tmp_path / "f.csv").write_text("name,lon,lat\nA,116.35,40.0\n", encoding="utf-8")
    (tmp_path / "afile").write_text("", encoding="utf-8")
    (tmp_path / "thesis").mkdir()
    (tmp_path / "thesis" / "chapter1.docx").write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _argv(workdir: Path, text: str | None, extra: list[str]) -> list[str]:
    args = ["run"]
    if text is not None:
        (workdir / "run.toml").write_text(text, encoding="utf-8")
        args.append("run.toml")
    if "--out" not in extra:
        args += ["--out", "out"]
    quiet = [a for a in extra if a == "-q"]
    return quiet + args + [a for a in extra if a != "-q"]


def _error_log(workdir: Path) -> Path:
    logs = [p for p in (workdir / "out" / "error.log", workdir / "error.log") if p.is_file()]
    assert len(logs) == 1, logs
    return logs[0]


@pytest.mark.parametrize(
    ("text", "extra", "code", "needle"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_broken_input_ends_in_one_line(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    text: str | None,
    extra: list[str],
    code: int,
    needle: str,
) -> None:
    assert cli.main(_argv(workdir, text, extra)) == code
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert needle in lines[0]
    assert "Traceback" not in err
    log = _error_log(workdir)
    assert "Traceback (most recent call last)" in log.read_text("utf-8")
    assert str(log) in lines[0] or log.name in lines[0]
    # A failed run never leaves a folder that looks complete.
    assert not (workdir / "out" / "run.json").exists()


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 20
    assert len({c[0] for c in CASES}) == len(CASES)


def test_error_log_goes_beside_the_outputs_when_out_is_usable(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(_argv(workdir, HEAD + "[criteria.parking]\nminutes = -1\n", [])) == 1
    assert (workdir / "out" / "error.log").is_file()
    assert not (workdir / "error.log").exists()
    # --out is a file: the log cannot go there, it goes to the current folder.
    assert cli.main(_argv(workdir, HEAD, ["--out", "afile"])) == 2
    assert (workdir / "error.log").is_file()
    assert (workdir / "afile").read_text("utf-8") == ""
    capsys.readouterr()


def test_internal_error_has_its_own_exit_code(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import study.pipeline

    def boom(*_: object, **__: object) -> None:
        return {}["no such key"]  # type: ignore[return-value]

    monkeypatch.setattr(study.pipeline, "run", boom)
    assert cli.main(["run", "--demo", "--out", "out"]) == cli.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert "internal error (KeyError" in err and "report it" in err
    assert "KeyError" in (workdir / "out" / "error.log").read_text("utf-8")


def _subprocess(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.mark.parametrize(
    ("case_id"), ["metres-inf", "out-is-file", "unknown-option", "network-not-osm"]
)
def test_real_process_stderr_is_one_line(workdir: Path, case_id: str) -> None:
    _, text, extra, code, needle = next(c for c in CASES if c[0] == case_id)
    proc = _subprocess([str(ROOT / "cli.py"), *_argv(workdir, text, extra)], workdir)
    assert proc.returncode == code
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert needle in lines[0] and "Traceback" not in proc.stderr
    assert _error_log(workdir).is_file()


def test_real_process_internal_error(workdir: Path) -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import cli, study.pipeline as p\n"
        "def boom(*a, **k): raise ZeroDivisionError('division by zero')\n"
        "p.run = boom\n"
        "sys.exit(cli.main(['run', '--demo', '--out', 'out']))\n"
    )
    proc = _subprocess(["-c", code, str(ROOT)], workdir)
    assert proc.returncode == 3
    assert len(proc.stderr.splitlines()) == 1
    assert "internal error (ZeroDivisionError" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "ZeroDivisionError" in (workdir / "out" / "error.log").read_text("utf-8")


def test_app_and_cli_share_the_one_line() -> None:
    from geo.errors import ConfigError, one_line
    from ui.errors import message_for

    exc = ConfigError("run.toml: [siting] k: must be an integer ≥ 1,\ngot 'three'")
    line = one_line(exc)
    assert line == "run.toml: [siting] k: must be an integer ≥ 1, got 'three'"
    for lang in ("zh", "en"):
        assert line in message_for(exc, lang=lang)
    bug = ZeroDivisionError("division by zero")
    for lang in ("zh", "en"):
        # Both say it in the planner's language (the CLI's default is English).
        assert one_line(bug, lang=lang) in message_for(bug, lang=lang)
        assert "\n" not in message_for(bug, lang=lang)
    assert "内部错误" in message_for(bug, lang="zh")
    disk = OSError(28, "No space left on device", "out/results.gpkg")
    assert "'out/results.gpkg'" in one_line(disk)
    assert message_for(disk, lang="zh") == one_line(disk, lang="zh")
    assert "磁盘" in one_line(disk, lang="zh")
