"""Point queries agree with analyse() for a demand point at the same place; routes add up."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
from _data import osm_extract
from _lattice import lonlat_points

from coverage.analysis import analyse
from coverage.point_query import query_point
from geo.errors import CoordinateError
from geo.network import lattice_network
from geo.roads import load_network


def _facilities(net, n, seed, category):
    rng = np.random.default_rng(seed)
    e = rng.choice(net.n_edges, n, replace=False)
    pts = [net.geometry[i].interpolate(rng.uniform(0, 1), normalized=True) for i in e]
    x = np.array([p.x for p in pts]) + rng.normal(0, 8, n)
    y = np.array([p.y for p in pts]) + rng.normal(0, 8, n)
    return gpd.GeoDataFrame(
        {
            "facility_id": [f"{category}{i}" for i in range(n)],
            "name": [f"设施{i}" for i in range(n)],
            "category": category,
            "capacity": np.nan,
            "source": "test",
        },
        geometry=lonlat_points(net, x, y).values,
        crs=4326,
    )


def _demand(net, n, seed):
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = net.bounds
    x, y = rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)
    return gpd.GeoDataFrame(
        {
            "demand_id": [f"d{i}" for i in range(n)],
            "population": 10.0,
            "elderly": 2.0,
            "community": "",
            "kind": "building",
        },
        geometry=lonlat_points(net, x, y).values,
        crs=4326,
    )


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_query_equals_analysis_and_route_length_equals_distance(mode):
    net = load_network(osm_extract("nanjing_xinjiekou"), mode=mode)
    fac = gpd.GeoDataFrame(
        pd_concat([_facilities(net, 6, 1, "health_station"), _facilities(net, 4, 2, "parking")]),
        crs=4326,
    )
    demand = _demand(net, 40, 3)
    res = analyse(net, demand, fac)
    to_utm = pyproj.Transformer.from_crs(4326, net.crs, always_xy=True)
    checked = 0
    for i in range(len(demand)):
        pt = demand.geometry.iloc[i]
        q = query_point(net, res, lon=pt.x, lat=pt.y)
        assert list(q.table["category"]) == res.categories
        for row in q.table.itertuples():
            expect = res.demand[f"{row.category}_distance_m"].iloc[i]
            if np.isinf(expect):
                assert np.isinf(row.distance_m) and row.geometry is None
                continue
            assert row.distance_m == pytest.approx(expect, abs=1e-6)
            assert row.covered == bool(res.demand[f"{row.category}_covered"].iloc[i])
            # The drawn route is as long as the network distance (foot paths included).
            route = row.geometry
            xs, ys = to_utm.transform(*np.asarray(route.coords).T)
            length = float(np.hypot(np.diff(xs), np.diff(ys)).sum())
            assert length == pytest.approx(row.distance_m, rel=1e-6, abs=0.01)
            # It starts at the point and ends at the facility.
            fac_pt = fac.set_index("facility_id").geometry[row.facility_id]
            assert np.allclose(route.coords[0], (pt.x, pt.y), atol=1e-9)
            assert np.allclose(route.coords[-1], (fac_pt.x, fac_pt.y), atol=1e-9)
            checked += 1
    assert checked > 40


def pd_concat(frames):
    import pandas as pd

    return pd.concat(frames, ignore_index=True)


def test_lattice_query_known_distance_and_uncovered():
    net = lattice_network(6, 6, spacing=100.0)
    fac = gpd.GeoDataFrame(
        {
            "facility_id": ["a"],
            "name": ["站"],
            "category": "health_station",
            "capacity": np.nan,
            "source": "t",
        },
        geometry=lonlat_points(net, [net.x.min() + 500.0], [net.y.min()]).values,
        crs=4326,
    )
    demand = _demand(net, 5, 1)
    res = analyse(net, demand, fac, criteria={"health_station": {"metres": 600}})
    # From the corner diagonal to the facility: 500 east + 300 north = 800 m > 600.
    pt = lonlat_points(net, [net.x.min() + 500.0], [net.y.min() + 300.0]).iloc[0]
    q = query_point(net, res, lon=pt.x, lat=pt.y)
    row = q.table.iloc[0]
    assert row["distance_m"] == pytest.approx(300.0, abs=1e-6)
    assert bool(row["covered"]) and row["facility_name"] == "站"
    pt = lonlat_points(net, [net.x.min()], [net.y.min() + 300.0]).iloc[0]
    row = query_point(net, res, lon=pt.x, lat=pt.y).table.iloc[0]
    assert row["distance_m"] == pytest.approx(800.0, abs=1e-6)
    assert not bool(row["covered"])
    assert row["minutes"] == pytest.approx(800.0 / res.criteria["health_station"].speed / 60)


def test_off_network_point_and_bad_coordinates():
    net = lattice_network(4, 4, spacing=100.0)
    fac = _facilities(net, 2, 0, "health_station")
    res = analyse(net, _demand(net, 5, 2), fac)
    far = lonlat_points(net, [net.x.min() - 2000.0], [net.y.min()]).iloc[0]
    q = query_point(net, res, lon=far.x, lat=far.y)
    assert not q.snapped and q.snap_distance_m == pytest.approx(2000.0, abs=1e-3)
    assert np.isinf(q.table["distance_m"]).all() and not q.table["covered"].any()
    with pytest.raises(CoordinateError, match="lon=nan"):
        query_point(net, res, lon=float("nan"), lat=30.0)
    with pytest.raises(CoordinateError, match="longitude first"):
        query_point(net, res, lon=31.0, lat=118.0)
