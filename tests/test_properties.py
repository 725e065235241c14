"""Property tests (hypothesis) of the coverage engine on small lattices."""

from __future__ import annotations

import itertools

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage.distance import COVER_TOL_M, nearest_from, od_matrix, point_distance
from coverage.service_areas import service_areas
from coverage.snap import snap_points
from geo.network import lattice_network

X0, Y0 = 500_000.0, 3_500_000.0
NET = lattice_network(6, 5, spacing=100.0)

coord = st.tuples(st.floats(-60, 560), st.floats(-60, 460))
pts = st.lists(coord, min_size=1, max_size=6)


def snap(p):
    a = np.array(p, dtype=float)
    return snap_points(NET, (X0 + a[:, 0], Y0 + a[:, 1]), tolerance_m=1000)


engines = st.sampled_from(["scipy", "bucket"])


def nearest(fac, dem, engine="scipy"):
    s, t = snap(fac), snap(dem)
    nd, ns = nearest_from(NET, s, engine=engine)
    return point_distance(NET, nd, ns, t, sources=s)


@settings(max_examples=30)
@given(fac=pts, extra=coord, dem=pts, t=st.floats(50, 800), engine=engines)
def test_adding_a_facility_never_lowers_coverage(fac, extra, dem, t, engine) -> None:
    before, _ = nearest(fac, dem, engine)
    after, _ = nearest([*fac, extra], dem, engine)
    assert np.all(after <= before + 1e-9)
    assert np.all((after <= t + COVER_TOL_M) >= (before <= t + COVER_TOL_M))


@settings(max_examples=30)
@given(fac=pts, dem=pts, t1=st.floats(10, 800), dt=st.floats(0, 500), engine=engines)
def test_larger_threshold_never_covers_less(fac, dem, t1, dt, engine) -> None:
    d, _ = nearest(fac, dem, engine)
    assert np.all((d <= t1 + dt + COVER_TOL_M) >= (d <= t1 + COVER_TOL_M))


@settings(max_examples=30)
@given(fac=pts, dem=pts, engine=engines)
def test_network_distance_at_least_straight_line(fac, dem, engine) -> None:
    d, src = nearest(fac, dem, engine)
    f, p = np.array(fac), np.array(dem)
    straight = np.hypot(*(p[:, None, :] - f[None, :, :]).transpose(2, 0, 1)).min(axis=1)
    assert np.all(d >= straight - 1e-6)
    # And the OD matrix agrees with the nearest search.
    od = od_matrix(NET, snap(fac), snap(dem), limit_m=5000).toarray()
    np.testing.assert_allclose(
        np.where(od > 0, od, np.inf).min(axis=0), np.maximum(d, 1e-12), atol=1e-6
    )
    assert np.all(od[src, np.arange(len(dem))] > 0)


@settings(max_examples=8)
@given(
    fac=st.lists(coord, min_size=1, max_size=3),
    ts=st.lists(st.floats(30, 600), min_size=2, max_size=3, unique=True),
)
def test_service_area_rings_nest(fac, ts) -> None:
    import geopandas as gpd

    a = np.array(fac, dtype=float)
    gdf = gpd.GeoDataFrame(
        {"facility_id": [f"f{i}" for i in range(len(a))], "category": "market"},
        geometry=gpd.points_from_xy(X0 + a[:, 0], Y0 + a[:, 1]),
        crs=NET.crs,
    )
    sa = service_areas(
        NET, gdf, category="market", thresholds_m=ts, buffer_m=8, min_hole_m2=2000, tolerance_m=1000
    ).to_crs(NET.crs)
    for _, g in sa.groupby(["kind", "facility_id"]):
        geoms = g.sort_values("threshold_m").geometry.to_list()
        for small, big in itertools.pairwise(geoms):
            assert small.difference(big).area < 1e-3
        assert all(shapely.is_valid(geoms))
