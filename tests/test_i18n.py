"""Interface strings: per-category headers, catalogue lookups, and every key used has a text."""

from __future__ import annotations

import ast
import logging
import re
from pathlib import Path

import pytest
from _source import python_files

from geo.messages import catalogue, fields
from geo.taxonomy import categories
from maps.i18n import PER_CATEGORY_FIELDS, code_of, heading, t

ROOT = Path(__file__).resolve().parent.parent

#: Where ``t()``/``tr()``/``text()`` look up interface strings.
SOURCES = ("maps", "ui", "views", "study", "app.py", "cli.py")

#: Lookup functions whose first argument is a catalogue key, by the module defining them.
LOOKUPS = {
    "maps.i18n": {"t"},
    "ui.widgets": {"tr"},
    "ui.maps": {"tr_text"},
    "geo.messages": {"text"},
}


def test_per_category_headers_have_strings(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="maps.i18n"):
        for key in categories():
            for field in PER_CATEGORY_FIELDS:
                for lang in ("zh", "en"):
                    assert heading(f"{key}_{field}", lang) != f"{key}_{field}"
    assert not [r for r in caplog.records if "no string" in r.getMessage()]
    assert heading("fitness_coverage_rate", "zh") == "健身 · 人口覆盖率"
    assert heading("fitness_coverage_rate", "en").endswith("· Coverage rate")
    assert heading("coverage_rate", "en") == t("maps.coverage_rate", "en") == "Coverage rate"


def test_unknown_key_is_shown_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="maps.i18n"):
        assert t("fitness_no_such_field", "zh") == "fitness_no_such_field"
        assert heading("fitness_no_such_field", "zh") == "fitness_no_such_field"
    assert sum("no string" in r.getMessage() for r in caplog.records) == 2


def test_pre_catalogue_keys_map_to_their_codes() -> None:
    assert code_of("data.rows") == "ui.data.rows"
    assert code_of("layer_gaps") == "maps.layer_gaps"
    assert code_of("ui.data.rows") == "ui.data.rows"
    assert t("data.rows", "en", n=3) == t("ui.data.rows", "en", n=3) == "3 rows"
    assert t("layer_gaps", "zh") == "覆盖缺口"


def _python_files() -> list[Path]:
    return python_files(SOURCES)


def _literal_keys(node: ast.AST) -> list[str]:
    """Literal keys of a lookup's first argument (both branches of ``a if c else b``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _literal_keys(node.body) + _literal_keys(node.orelse)
    return []


def _lookup_names(tree: ast.Module, path: Path) -> set[str]:
    """Names that call a catalogue lookup in this file (imported, or the defining module's own).

    Other modules have lookups of their own (``ui.netui.t`` reads its own table); those are
    skipped by looking at where each name comes from.
    """
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    names = set(LOOKUPS.get(module, ()))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in LOOKUPS:
            names |= {a.asname or a.name for a in node.names if a.name in LOOKUPS[node.module]}
    return names


def _key_uses() -> list[tuple[Path, int, str, set[str] | None]]:
    """(file, line, key, keyword names or None with ``**fields``) of every literal lookup."""
    uses = []
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = _lookup_names(tree, path)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            if not isinstance(node.func, ast.Name) or node.func.id not in names:
                continue
            keywords = {k.arg for k in node.keywords}
            for key in _literal_keys(node.args[0]):
                uses.append((path, node.lineno, key, None if None in keywords else keywords))
    return uses


def test_every_key_used_has_both_languages_and_its_fields() -> None:
    zh, en = catalogue("zh"), catalogue("en")
    missing, unfilled = [], []
    for path, line, key, keywords in _key_uses():
        code = code_of(key)
        where = f"{path.relative_to(ROOT)}:{line} {key}"
        if code not in zh or code not in en:
            missing.append(where)
            continue
        # Without fields the raw template comes back (callers that format later); with some,
        # every field of the text must be given.
        if keywords and not fields(en[code]) <= keywords:
            unfilled.append(f"{where} needs {sorted(fields(en[code]) - keywords)}")
    assert missing == []
    assert unfilled == []


#: A string that reads as a code of the interface domains (``"ui.exp.html"``, ``"maps.rank"``).
_CODE_LIKE = re.compile(r"^(ui|maps|study)\.[a-z_]+(\.[A-Za-z0-9_]+)*$")

#: File suffixes: ``"study.lcc.gpkg"`` is a file name, not a code.
_FILE_SUFFIXES = {".gpkg", ".toml", ".csv", ".json", ".py", ".po"}


def _code_like_literals() -> list[tuple[Path, int, str]]:
    """Code-like string literals outside f-strings (keys kept in tables, tuples, dicts)."""
    out = []
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        in_fstrings = {
            id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
                continue
            value = node.value
            if id(node) in in_fstrings or not _CODE_LIKE.match(value):
                continue
            if Path(value).suffix in _FILE_SUFFIXES:
                continue
            out.append((path, node.lineno, value))
    return out


def test_every_code_written_in_a_table_exists() -> None:
    # Keys kept in tables (the export formats, the page list) reach t()/tr() through a variable.
    en = catalogue("en")
    missing = [f"{p.relative_to(ROOT)}:{n} {v}" for p, n, v in _code_like_literals() if v not in en]
    assert missing == []
    assert any(v == "ui.exp.html" for _, _, v in _code_like_literals())


def test_lookups_name_full_codes() -> None:
    old = [f"{p.relative_to(ROOT)}:{n} {k}" for p, n, k, _ in _key_uses() if code_of(k) != k]
    assert old == []


def test_the_key_scan_sees_lookups() -> None:
    # The check above would pass vacuously if the AST scan found nothing.
    keys = {key for _, _, key, _ in _key_uses()}
    assert {"ui.app.title", "maps.layer_gaps", "maps.site_label"} <= keys


def test_an_uploads_error_names_the_planners_file_and_stays_translatable() -> None:
    from geo.errors import InputDataError
    from geo.messages import msg
    from ui.errors import renamed

    inner = msg("maps.tables.no_population", columns=["/tmp/x/network.osm"])
    exc = InputDataError(msg("ui.error.detail", kind="k", detail=inner))
    out = renamed(exc, {"/tmp/x/network.osm": "roads.osm"})
    assert type(out) is InputDataError
    assert "roads.osm" in str(out) and "/tmp/x" not in str(out)
    assert "roads.osm" in out.text("zh") and "人口" in out.text("zh")
