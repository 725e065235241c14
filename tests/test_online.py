"""Online loaders with osmnx monkeypatched: endpoints, disk cache, offline errors. No network."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import osmnx
import pandas as pd
import pytest
import requests
import shapely
from osmnx import _errors as ox_errors

from geo import settings
from geo.errors import EmptyNetworkError, NetworkError, OfflineError
from geo.osm_features import buildings_from_osm, facilities_from_osm
from geo.roads import load_network, network_to_graph

TINY = Path(__file__).resolve().parent / "input_data" / "tiny.osm"
MIRROR = "https://overpass.mirror.example/api"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "cache_folder", tmp_path / "cache")
    monkeypatch.setattr(settings, "overpass_url", MIRROR)
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def tiny_walk():
    return load_network(TINY, mode="walk")


def _offline(*args, **kwargs):
    raise requests.exceptions.ConnectionError("no route to host")


def test_place_is_downloaded_once_then_read_from_cache_offline(cache, monkeypatch, tiny_walk):
    calls = []
    original_url = osmnx.settings.overpass_url

    def fake(query, **kwargs):
        calls.append((query, kwargs, osmnx.settings.overpass_url, osmnx.settings.requests_timeout))
        return network_to_graph(tiny_walk)

    monkeypatch.setattr(osmnx, "graph_from_place", fake)
    net = load_network("南京市秦淮区", mode="walk")
    assert len(calls) == 1
    query, kwargs, url, timeout = calls[0]
    assert query == "南京市秦淮区"
    assert kwargs["network_type"] == "walk" and kwargs["retain_all"] is True
    assert url == MIRROR and timeout == settings.overpass_timeout_s
    assert osmnx.settings.overpass_url == original_url  # restored afterwards
    assert net.n_edges == tiny_walk.n_edges
    assert net.length.sum() == pytest.approx(tiny_walk.length.sum(), rel=1e-6)
    assert net.crs == "EPSG:32650"
    assert len(list((cache / "osm").glob("place-*.graphml"))) == 1

    # Offline, with osmnx's own HTTP cache gone: the saved GraphML still answers.
    shutil.rmtree(cache / "osmnx", ignore_errors=True)
    monkeypatch.setattr(osmnx, "graph_from_place", _offline)
    again = load_network("南京市秦淮区", mode="walk")
    assert "(cached)" in again.report.source
    assert again.n_edges == net.n_edges

    # Another place, or another mode, is not cached: a clear OfflineError.
    with pytest.raises(
        OfflineError, match=r"南京市鼓楼区.*overpass\.mirror\.example.*LCC_OVERPASS_URL"
    ):
        load_network("南京市鼓楼区", mode="walk")
    with pytest.raises(OfflineError, match="load a local file"):
        load_network("南京市秦淮区", mode="drive")


def test_bbox_and_polygon_queries_are_clipped(cache, monkeypatch, tiny_walk):
    seen = {}

    def fake_bbox(bbox, **kwargs):
        seen["bbox"] = bbox
        return network_to_graph(tiny_walk)

    def fake_polygon(polygon, **kwargs):
        seen["polygon"] = polygon
        return network_to_graph(tiny_walk)

    monkeypatch.setattr(osmnx, "graph_from_bbox", fake_bbox)
    monkeypatch.setattr(osmnx, "graph_from_polygon", fake_polygon)
    box = (118.7795, 32.0395, 118.7815, 32.0430)
    net = load_network(box, mode="walk")
    assert seen["bbox"] == box
    assert net.length.sum() < tiny_walk.length.sum()
    assert any("clipped" in n for n in net.report.notes)
    poly = shapely.box(*box)
    by_poly = load_network(poly, mode="walk")
    assert seen["polygon"].equals(poly)
    assert by_poly.length.sum() == pytest.approx(net.length.sum(), rel=1e-9)


def test_empty_answer_and_server_error(cache, monkeypatch):
    def nothing(*args, **kwargs):
        raise ox_errors.InsufficientResponseError("Nominatim geocoder returned 0 results")

    def busy(*args, **kwargs):
        raise ox_errors.ResponseStatusCodeError("504 Gateway Timeout")

    monkeypatch.setattr(osmnx, "graph_from_place", nothing)
    with pytest.raises(EmptyNetworkError, match="no walk streets"):
        load_network("Atlantis", mode="walk")
    monkeypatch.setattr(osmnx, "graph_from_place", busy)
    with pytest.raises(NetworkError, match="answered with an error") as info:
        load_network("Atlantis", mode="walk")
    assert not isinstance(info.value, OfflineError)


def test_bad_queries():
    with pytest.raises(NetworkError, match="place name is empty"):
        load_network("   ")
    with pytest.raises(NetworkError, match="west < east"):
        load_network((118.8, 32.0, 118.7, 32.1))


def _fake_features() -> gpd.GeoDataFrame:
    index = pd.MultiIndex.from_tuples([("node", 11), ("way", 22)], names=["element", "id"])
    return gpd.GeoDataFrame(
        {
            "amenity": ["clinic", "parking"],
            "name": ["社区卫生服务站", None],
            "capacity": [None, "80"],
            "nodes": [None, [1, 2, 3, 1]],
        },
        geometry=[
            shapely.Point(118.7802, 32.0403),
            shapely.box(118.7811, 32.0406, 118.7813, 32.0408),
        ],
        index=index,
        crs="EPSG:4326",
    )


def test_features_online_are_cached(cache, monkeypatch):
    calls = []

    def fake(query, tags):
        calls.append((query, tags, osmnx.settings.overpass_url))
        return _fake_features()

    monkeypatch.setattr(osmnx, "features_from_place", fake)
    first = facilities_from_osm("南京市秦淮区", categories=["health_station", "parking"])
    assert len(calls) == 1
    assert calls[0][2] == MIRROR
    assert set(calls[0][1]["amenity"]) >= {"clinic", "parking"}
    assert set(first["osm_id"]) == {"node/11", "way/22"}
    assert first.loc[first["osm_id"] == "way/22", "capacity"].iloc[0] == 80.0
    assert first.loc[first["osm_id"] == "node/11", "name"].iloc[0] == "社区卫生服务站"

    monkeypatch.setattr(osmnx, "features_from_place", _offline)
    again = facilities_from_osm("南京市秦淮区", categories=["health_station", "parking"])
    assert len(calls) == 1
    pd.testing.assert_frame_equal(
        again.drop(columns="geometry"), first.drop(columns="geometry"), check_dtype=False
    )
    # Buildings need another query (other tags): not cached, so offline fails clearly.
    with pytest.raises(OfflineError, match="nothing cached"):
        buildings_from_osm("南京市秦淮区")


def test_features_with_no_result_are_cached_as_empty(cache, monkeypatch):
    def nothing(*args, **kwargs):
        raise ox_errors.InsufficientResponseError("no data")

    monkeypatch.setattr(osmnx, "features_from_bbox", nothing)
    box = (118.7795, 32.0395, 118.7815, 32.0430)
    assert len(facilities_from_osm(box, categories=["market"])) == 0
    monkeypatch.setattr(osmnx, "features_from_bbox", _offline)
    assert len(facilities_from_osm(box, categories=["market"])) == 0
