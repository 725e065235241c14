"""A fresh clone carries everything its tests need: nothing reads the team's shared folder."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from _data import OSM_DIR, ROOT

SHARED = re.compile(r"\.\./shared|[\"']shared[\"']\s*/|parent\s*/\s*[\"']shared")


def _tracked(*parts: str) -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "--", *parts], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return [ROOT / line for line in out.splitlines() if line.endswith((".py", ".sh", "run"))]


def test_nothing_reads_the_shared_folder():
    files = _tracked("tests", "scripts", ".ci")
    assert len(files) > 30
    offenders = [
        str(f.relative_to(ROOT))
        for f in files
        if f.name != Path(__file__).name and SHARED.search(f.read_text("utf-8"))
    ]
    assert offenders == [], (
        f"these read the team's shared folder (copy the data into the repo): {offenders}"
    )


def test_osm_extracts_carry_their_licence():
    extracts = sorted(p.name for p in OSM_DIR.glob("*.osm.bz2"))
    assert len(extracts) >= 3
    notice = (OSM_DIR / "README.md").read_text("utf-8")
    assert "© OpenStreetMap contributors" in notice and "ODbL" in notice
    for name in extracts:
        assert name in notice, f"{name} has no source line in tests/data/osm/README.md"
