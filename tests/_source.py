"""The project's own Python files, for the tests that read the source (catalogue, code rules)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def python_files(sources: tuple[str, ...]) -> list[Path]:
    """Every ``.py`` file under the given folders (or the given files) of the repository."""
    out: list[Path] = []
    for name in sources:
        path = ROOT / name
        out.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return out
