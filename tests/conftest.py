"""Shared test fixtures and settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _data import OSM_DIR
from hypothesis import HealthCheck, settings

settings.register_profile(
    "project",
    max_examples=int(os.environ.get("LCC_HYPOTHESIS_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("project")


@pytest.fixture(scope="session")
def osm_dir() -> Path:
    """Folder of the real OSM extracts in the repo; failing, not skipping, when absent."""
    assert OSM_DIR.is_dir(), f"expected the OSM extracts at {OSM_DIR}"
    return OSM_DIR
