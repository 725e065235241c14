"""Loaders that say what they take: a mistyped file path never becomes an online place query."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _data import osm_extract

from geo import roads
from geo.errors import NetworkFormatError


class _OnlineCallError(Exception):
    """Raised by the stand-in for the online loader (no network access in tests)."""


@pytest.fixture
def online(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    queries: list[Any] = []

    def fake(query: Any, *, mode: str) -> Any:
        queries.append(query)
        raise _OnlineCallError(str(query))

    monkeypatch.setattr(roads, "_online_edges", fake)
    return queries


def test_missing_file_is_a_format_error_naming_the_path(tmp_path: Path, online: list[Any]) -> None:
    path = tmp_path / "roads.osm"
    with pytest.raises(NetworkFormatError, match=re.escape(f"{path}: file not found")):
        roads.load_network_file(path)
    assert online == []


@pytest.mark.parametrize(
    "typo", ["data/xinjiekou.osmm", "xinjiekou.osmm", "roads.sph", r"C:\gis\roads.gpk"]
)
def test_mistyped_path_is_never_a_place_query(typo: str, online: list[Any]) -> None:
    with pytest.raises(NetworkFormatError, match=r"file not found|unknown network file type"):
        roads.load_network(typo)
    with pytest.raises(NetworkFormatError):
        roads.load_network_file(typo)
    assert online == []


def test_place_names_still_go_online(online: list[Any]) -> None:
    for place in ("新街口街道, 南京市", "Washington, D.C"):
        with pytest.raises(_OnlineCallError):
            roads.load_network(place)
        with pytest.raises(_OnlineCallError):
            roads.load_network_place(place)
    with pytest.raises(_OnlineCallError):
        roads.load_network_bbox((118.77, 32.03, 118.79, 32.05))
    assert online == [
        "新街口街道, 南京市",
        "新街口街道, 南京市",
        "Washington, D.C",
        "Washington, D.C",
        (118.77, 32.03, 118.79, 32.05),
    ]


def test_bad_place_and_box_are_refused(online: list[Any]) -> None:
    with pytest.raises(NetworkFormatError, match="place name"):
        roads.load_network_place(Path("roads.osm"))  # type: ignore[arg-type]
    with pytest.raises(NetworkFormatError, match="four numbers"):
        roads.load_network_bbox(("w", 1, 2, 3))  # type: ignore[arg-type]
    assert online == []


def test_file_loader_equals_the_general_one() -> None:
    osm = osm_extract("nanjing_xinjiekou")
    a = roads.load_network_file(osm)
    b = roads.load_network(str(osm))
    assert a.n_nodes > 100
    assert (a.n_nodes, a.n_edges) == (b.n_nodes, b.n_edges)
    np.testing.assert_array_equal(a.length, b.length)
