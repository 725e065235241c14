"""The message catalogue: every code has both languages, fields agree, messages behave as text."""

from __future__ import annotations

import ast
import copy
import pickle
import sys
from pathlib import Path

import pandas as pd
import pytest
from _source import python_files

from geo.errors import InputDataError, one_line
from geo.messages import Message, catalogue, fields, localise, msg, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import catalogue as catalogue_tool  # noqa: E402

#: Folders whose code emits message codes.
SOURCES = ("geo", "coverage", "maps", "study", "ui", "views", "app.py", "cli.py")


def _python_files() -> list[Path]:
    return python_files(SOURCES)


def _code_uses() -> list[tuple[Path, int, str, set[str] | None]]:
    """(file, line, code, keyword names or None when ``**params`` is passed) of every use."""
    uses = []
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            first = node.args[0]
            if name not in {"msg", "Message"} or not isinstance(first, ast.Constant):
                continue
            if not isinstance(first.value, str):
                continue
            keywords = {k.arg for k in node.keywords}
            uses.append((path, node.lineno, first.value, None if None in keywords else keywords))
    return uses


def test_the_catalogue_has_no_problems() -> None:
    assert catalogue_tool.problems() == []


def test_every_code_used_has_both_languages_and_its_fields() -> None:
    zh, en = catalogue("zh"), catalogue("en")
    missing, unfilled = [], []
    for path, line, code, keywords in _code_uses():
        where = f"{path.relative_to(ROOT)}:{line} {code}"
        if code not in zh or code not in en:
            missing.append(where)
            continue
        if keywords is not None and not fields(en[code]) <= keywords:
            unfilled.append(f"{where} needs {sorted(fields(en[code]) - keywords)}")
    assert missing == []
    assert unfilled == []


def test_the_detector_sees_code_uses() -> None:
    # The check above would pass vacuously if the AST scan found nothing.
    codes = {code for _, _, code, _ in _code_uses()}
    assert "geo.errors.internal" in codes


def test_a_message_is_its_english_text_and_renders_in_chinese() -> None:
    m = msg("geo.errors.missing_package", name="rasterio")
    assert isinstance(m, str)
    assert "rasterio" in m and "pip install" in m
    assert m.text("en") == str(m)
    assert "缺少" in m.text("zh") and "rasterio" in m.text("zh")
    assert m.code == "geo.errors.missing_package"


def test_messages_survive_pickle_deepcopy_and_dataframe_attrs() -> None:
    m = msg("geo.errors.internal", kind="KeyError", detail="x")
    for copied in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m)):
        assert isinstance(copied, Message)
        assert copied == m and copied.code == m.code and copied.text("zh") == m.text("zh")
    frame = pd.DataFrame({"a": [1]})
    frame.attrs["warnings"] = [m]
    assert frame.copy().attrs["warnings"][0].text("zh") == m.text("zh")


def test_nested_messages_render_in_the_same_language() -> None:
    inner = msg("geo.errors.out_of_memory")
    outer = msg("geo.errors.internal", kind="X", detail=inner)
    assert inner.text("zh") in outer.text("zh")
    assert str(inner) in str(outer)


def test_errors_carry_their_message_in_both_languages() -> None:
    exc = InputDataError(msg("geo.errors.out_of_memory"))
    assert str(exc) == str(msg("geo.errors.out_of_memory"))
    assert exc.text("zh") == catalogue("zh")["geo.errors.out_of_memory"]
    assert one_line(exc, lang="zh") == exc.text("zh")
    assert localise(exc, "zh") == exc.text("zh")
    assert "内存" in one_line(MemoryError(), lang="zh")
    # A plain-text error (third-party) stays as it is in every language.
    assert localise(ValueError("boom"), "zh") == "boom"


def test_an_unknown_code_shows_the_code_instead_of_failing() -> None:
    assert text("geo.nowhere.nothing", "zh", n=3) == "geo.nowhere.nothing (n=3)"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_both_catalogues_are_read(lang: str) -> None:
    assert len(catalogue(lang)) >= 4
