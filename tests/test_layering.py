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
