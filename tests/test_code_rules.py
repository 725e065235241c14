"""Habits that keep the core readable (issue 11 §3, §5): short functions, no sentences in code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Packages whose functions must stay short.
SHORT = ("geo", "coverage", "maps")
#: Packages that speak only through catalogue codes.
CODES_ONLY = ("geo", "coverage")
#: Longest function (def line to last line, docstring included).
MAX_LINES = 100
#: Modules that are data tables (column aliases, OSM tag and Chinese name lists), not sentences.
DATA_TABLES = {
    "geo/columns.py",
    "geo/centrelines.py",
    "geo/taxonomy.py",
    "geo/demand.py",
    # Datum names and column-name patterns people write (高德, 百度, 序号): data, not sentences.
    "geo/datum.py",
    "geo/facilities.py",
}

_CJK = re.compile(r"[\u4e00-\u9fff]")


def _files(packages: tuple[str, ...]) -> list[Path]:
    return [p for name in packages for p in sorted((ROOT / name).rglob("*.py"))]


def _long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_LINES:
                out.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    return out


def test_no_function_is_longer_than_100_lines() -> None:
    found = [line for path in _files(SHORT) for line in _long_functions(path)]
    assert found == []


def test_the_length_check_sees_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    sample = tmp_path / "long.py"
    sample.write_text(f"def f():\n{body}\n", "utf-8")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert _long_functions(sample) == [f"long.py:1 f ({MAX_LINES + 1} lines)"]
    finally:
        ROOT = saved


def _is_text(node: ast.expr) -> bool:
    """A string literal, an f-string or a concatenation/format of them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _is_text(node.left) or _is_text(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "format" and _is_text(node.func.value)
    return False


def _sentences(path: Path) -> list[str]:
    """Raises whose message is literal text, directly or through ``msg = "..."``."""
    tree = ast.parse(path.read_text("utf-8"))
    out = []
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        # A name counts as text only when every assignment to it in the function is text.
        assigned: dict[str, list[bool]] = {}
        for node in ast.walk(func):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, []).append(_is_text(node.value))
        texts = {name for name, kinds in assigned.items() if all(kinds)}
        for node in ast.walk(func):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            for arg in node.exc.args[:1]:
                if _is_text(arg) or (isinstance(arg, ast.Name) and arg.id in texts):
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    if where not in out:
                        out.append(where)
    return out


@pytest.mark.parametrize("package", CODES_ONLY)
def test_core_errors_are_catalogue_codes(package: str) -> None:
    found = [line for path in _files((package,)) for line in _sentences(path)]
    assert found == []


def test_the_sentence_check_sees_a_literal_raise(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text('def f(x):\n    m = f"bad {x}"\n    raise ValueError(m)\n', "utf-8")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert _sentences(sample) == ["bad.py:3"]
    finally:
        ROOT = saved


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def _chinese_strings(path: Path) -> list[str]:
    """String constants with Chinese characters (docstrings and comments name terms; skipped)."""
    tree = ast.parse(path.read_text("utf-8"))
    skip = _docstrings(tree)
    return [
        f"{path.relative_to(ROOT).as_posix()}:{node.lineno}: {node.value.strip()[:40]}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and _CJK.search(node.value)
    ]


def test_no_chinese_in_core_code_outside_data_tables() -> None:
    found = [
        line
        for path in _files(CODES_ONLY)
        if path.relative_to(ROOT).as_posix() not in DATA_TABLES
        for line in _chinese_strings(path)
    ]
    assert found == []


def test_the_chinese_check_sees_a_sentence(tmp_path: Path) -> None:
    global ROOT
    sample = tmp_path / "zh.py"
    sample.write_text('"""模块说明。"""\n# 注释\nX = "文件是空的"\n', "utf-8")
    saved, ROOT = ROOT, tmp_path
    try:
        assert _chinese_strings(sample) == ["zh.py:3: 文件是空的"]
    finally:
        ROOT = saved
