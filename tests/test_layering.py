"""The core (geo/, coverage/) never depends on the UI (streamlit, folium)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UI_MODULES = {"streamlit", "folium", "streamlit_folium", "branca"}


def _imported_top_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _core_files() -> list[Path]:
    return sorted(p for d in ("geo", "coverage") for p in (ROOT / d).rglob("*.py"))


def test_core_sources_do_not_import_ui() -> None:
    files = _core_files()
    assert len(files) >= 5
    offenders = {
        str(p.relative_to(ROOT)): sorted(_imported_top_modules(p) & UI_MODULES) for p in files
    }
    offenders = {k: v for k, v in offenders.items() if v}
    assert offenders == {}


def test_maps_do_not_import_streamlit() -> None:
    files = sorted((ROOT / "maps").rglob("*.py"))
    offenders = [str(p) for p in files if "streamlit" in _imported_top_modules(p)]
    assert offenders == []


def test_importing_every_core_module_loads_no_ui_package() -> None:
    modules = [
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in _core_files()
    ]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        f"bad = sorted(set(sys.modules) & set({sorted(UI_MODULES)!r}))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_detector_sees_a_ui_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import folium\nfrom streamlit import cache_data\n", encoding="utf-8")
    assert _imported_top_modules(bad) & UI_MODULES == {"folium", "streamlit"}


# The project's layer order, top to bottom. A module may import its own layer and any layer below
# it, never one above; packages in the same tuple are independent siblings (neither imports the
# other). The study service sits between ui/ and maps/ + coverage/ once it exists.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("app", "cli", "views"),
    ("ui",),
    ("study",),
    ("maps", "coverage"),
    ("geo",),
)
_RANK = {pkg: rank for rank, group in enumerate(LAYERS) for pkg in group}


def _project_imports(path: Path) -> set[str]:
    """Project packages a file imports, at any depth of the file (function-level imports too)."""
    return _imported_top_modules(path) & set(_RANK)


def _owner(path: Path) -> str:
    rel = path.relative_to(ROOT)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _layer_violations(files: list[Path]) -> list[str]:
    bad = []
    for path in files:
        me = _owner(path)
        for other in _project_imports(path) - {me}:
            above = _RANK[other] < _RANK[me]
            sibling = _RANK[other] == _RANK[me]
            if above or sibling:
                bad.append(f"{path.relative_to(ROOT)} ({me}) imports {other}")
    return sorted(bad)


def test_the_whole_layer_order_holds() -> None:
    files = [ROOT / "app.py", ROOT / "cli.py"]
    for pkg in _RANK:
        if (ROOT / pkg).is_dir():
            files += sorted((ROOT / pkg).rglob("*.py"))
    assert len(files) > 60
    assert _layer_violations(files) == []


def test_layer_check_sees_an_upward_import(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    for pkg, text in {"geo": "from coverage import x\n", "maps": "import coverage.y\n"}.items():
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "m.py").write_text(text, encoding="utf-8")
    files = [tmp_path / "geo" / "m.py", tmp_path / "maps" / "m.py"]
    assert _layer_violations(files) == [
        "geo/m.py (geo) imports coverage",
        "maps/m.py (maps) imports coverage",
    ]
