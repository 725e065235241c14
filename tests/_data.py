"""Paths of the test data the repository carries (nothing outside the repo is read)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Real OSM extracts (ODbL, © OpenStreetMap contributors; see tests/data/osm/README.md).
OSM_DIR = ROOT / "tests" / "data" / "osm"


def osm_extract(name: str) -> Path:
    """Path of a real OSM extract in the repo (``name`` with or without ``.osm``)."""
    stem = name.removesuffix(".bz2").removesuffix(".osm")
    path = OSM_DIR / f"{stem}.osm.bz2"
    assert path.is_file(), f"expected the OSM extract {path}"
    return path
