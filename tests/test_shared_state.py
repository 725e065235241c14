"""Shared state is safe: per-network caches live with the network, and concurrent sessions agree.

The app analyses in several session threads (and a warm-up thread) at once over shared, cached
networks; these tests run several analyses of different networks at the same time and require the
results each gives alone.
"""

from __future__ import annotations

import gc
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pandas as pd
from _lattice import lattice_demand, lonlat_points

from coverage.analysis import analyse
from coverage.service_areas import service_areas
from coverage.snap import edge_tree
from geo import network as network_mod
from geo.network import Network, derived, lattice_network


def _case(i: int) -> tuple[Network, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    net = lattice_network(14 + i, 12 + 2 * i, spacing=60.0 + 10 * i)
    demand = lattice_demand(
        net, n=300, extent_m=600.0, seed=i, max_population=80, elderly_share=0.2, n_communities=4
    )
    rng = np.random.default_rng(100 + i)
    fx = net.x.min() + rng.uniform(0, 600.0, 4 + i)
    fy = net.y.min() + rng.uniform(0, 600.0, 4 + i)
    facilities = gpd.GeoDataFrame(
        {
            "facility_id": [f"f{j}" for j in range(fx.size)],
            "name": [f"站{j}" for j in range(fx.size)],
            "category": "health_station",
            "capacity": np.nan,
            "source": "test",
        },
        geometry=lonlat_points(net, fx, fy).values,
        crs=4326,
    )
    return net, demand, facilities


def _run(case: tuple[Network, gpd.GeoDataFrame, gpd.GeoDataFrame]) -> tuple[pd.DataFrame, float]:
    net, demand, facilities = case
    res = analyse(net, demand, facilities, criteria={"health_station": {"metres": 250}})
    areas = service_areas(net, res, category="health_station", thresholds_m=[250.0])
    cols = ["health_station_distance_m", "health_station_facility_id", "health_station_covered"]
    return res.demand[cols].copy(), float(areas["area_m2"].sum())


def test_concurrent_sessions_give_the_results_they_give_alone():
    alone = [_run(_case(i)) for i in range(4)]
    # Fresh networks, so that every derived index is built while other threads build theirs.
    cases = [_case(i % 4) for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(_run, cases))
    for i, (table, area) in enumerate(together):
        ref_table, ref_area = alone[i % 4]
        pd.testing.assert_frame_equal(table, ref_table)
        assert area == ref_area


def test_derived_values_are_built_once_and_go_with_their_network():
    net = lattice_network(5, 5, spacing=50.0)
    calls: list[int] = []

    def build() -> list[int]:
        calls.append(1)
        return [len(calls)]

    first = derived(net, ("probe", 1.0), build)
    assert derived(net, ("probe", 1.0), build) is first and len(calls) == 1
    # Another setting in the key is another value.
    assert derived(net, ("probe", 2.0), build) is not first and len(calls) == 2
    # An equal but distinct network does not share the first one's indexes.
    twin = lattice_network(5, 5, spacing=50.0)
    assert edge_tree(twin)[0] is not edge_tree(net)[0]
    n_before = len(network_mod._DERIVED)
    del net, first
    gc.collect()
    assert len(network_mod._DERIVED) == n_before - 1
