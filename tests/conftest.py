"""Shared test fixtures and settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
SHARED_OSM = ROOT.parent / "shared" / "osm"

settings.register_profile(
    "project",
    max_examples=int(os.environ.get("LCC_HYPOTHESIS_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("project")


@pytest.fixture(scope="session")
def shared_osm() -> Path:
    """Folder of the real OSM extracts (../shared/osm); failing, not skipping, when absent."""
    assert SHARED_OSM.is_dir(), f"expected the shared OSM extracts at {SHARED_OSM}"
    return SHARED_OSM
