"""Gaps: uncovered demand clustered, counted, located and ranked."""

from __future__ import annotations

import tracemalloc

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _lattice import CRS, X0, Y0, gdf
from hypothesis import given
from hypothesis import strategies as st
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

import coverage.gaps as gaps_mod
from coverage.analysis import analyse
from coverage.gaps import (
    GAP_COLUMNS,
    RASTER_AREA_TOLERANCE,
    disc_union_raster,
    find_gaps,
    shared_disc_unions,
    single_link_labels,
)
from geo.errors import ConfigError
from geo.network import lattice_network


@pytest.fixture(scope="module")
def result():
    net = lattice_network(31, 31, spacing=100.0)
    fac = gdf([(0, 0)], facility_id=["m"], category=["market"])
    pts = [(100, 0), (200, 0)]  # covered
    cluster_a = [(2000 + 40 * i, 2000) for i in range(5)]  # 5 points 40 m apart
    cluster_b = [(2800, 200), (2800, 260)]
    pts += cluster_a + cluster_b + [(1500, 2900)]
    pop = [9.0, 9.0] + [10.0] * 5 + [100.0, 50.0] + [1.0]
    comm = ["X", "X", "甲", "甲", "乙", "乙", "乙", "丙", "丙", ""]
    dem = gdf(pts, population=pop, elderly=[1.0] * len(pts), community=comm)
    return analyse(net, dem, fac)


def test_gaps_are_clustered_and_ranked(result) -> None:
    gaps = find_gaps(result, category="market", cluster_m=100)
    assert list(gaps.columns) == GAP_COLUMNS
    assert gaps.crs.to_epsg() == 4326
    assert gaps["uncovered_population"].tolist() == [150.0, 50.0, 1.0]
    assert gaps["rank"].tolist() == [1, 2, 3]
    assert gaps["gap_id"].iloc[0] == "market-001"
    assert gaps["n_points"].tolist() == [2, 5, 1]
    assert gaps["uncovered_elderly"].tolist() == [2.0, 5.0, 1.0]
    assert gaps["communities"].tolist() == ["丙", "乙、甲", ""]
    assert gaps["n_communities"].tolist() == [1, 2, 0]
    # lon/lat is a point inside each gap.
    inside = gpd.points_from_xy(gaps["lon"], gaps["lat"], crs=4326)
    assert all(g.contains(p) for g, p in zip(gaps.geometry, inside, strict=True))
    # Gap B: points at (2800, 200) and (2800, 260); weighted median of the network distances.
    assert gaps["nearest_facility_m"].iloc[0] == pytest.approx(3000.0)
    assert gaps["nearest_facility_max_m"].iloc[0] == pytest.approx(3060.0)
    # One point: a disc of radius cluster_m / 2.
    assert gaps["area_m2"].iloc[2] == pytest.approx(np.pi * 50**2, rel=0.01)
    proj = gaps.to_crs(CRS)
    assert proj.geometry.iloc[1].contains(gdf([(2080, 2000)]).geometry.iloc[0])


def test_min_population_and_no_gaps(result) -> None:
    gaps = find_gaps(result, category="market", cluster_m=100, min_population=40)
    assert len(gaps) == 2
    # A threshold that covers everyone leaves no gap.
    net = lattice_network(3, 3)
    r = analyse(net, gdf([(10, 0)], population=[1.0]), gdf([(0, 0)], category=["market"]))
    empty = find_gaps(r, category="market")
    assert len(empty) == 0 and list(empty.columns) == GAP_COLUMNS


def test_bad_arguments(result) -> None:
    with pytest.raises(ConfigError, match="not analysed"):
        find_gaps(result, category="fitness")
    with pytest.raises(ConfigError, match="cluster_m"):
        find_gaps(result, category="market", cluster_m=0)


# --- Linear-memory clustering and traced polygons (issue 9 §8, issue 14) ---------------------


def _pairs_labels(x: np.ndarray, y: np.ndarray, link: float) -> np.ndarray:
    """The former clustering: every pair within ``link`` from a k-d tree, then components."""
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(r=link, output_type="ndarray")
    adj = sparse.coo_matrix(
        (np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(x.size, x.size)
    )
    return csgraph.connected_components(adj, directed=False)[1]


@given(
    pts=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=1, max_size=300),
    unit=st.sampled_from([1.0, 7.0, 25.0]),
    link_units=st.integers(1, 12),
)
def test_grid_clustering_equals_pairwise_on_integer_grids(pts, unit, link_units) -> None:
    # Integer coordinates make many distances equal to the link exactly: ties must link.
    a = np.array(pts, dtype=float) * unit
    x, y = X0 + a[:, 0], Y0 + a[:, 1]
    link = link_units * unit
    np.testing.assert_array_equal(single_link_labels(x, y, link), _pairs_labels(x, y, link))


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 600),
    link=st.floats(0.5, 400.0),
    spread=st.floats(1.0, 8000.0),
    blobs=st.integers(1, 6),
)
def test_grid_clustering_equals_pairwise_on_random_points(seed, n, link, spread, blobs) -> None:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, spread, (blobs, 2))
    which = rng.integers(0, blobs, n)
    a = centres[which] + rng.normal(0, spread * rng.uniform(0.01, 0.25), (n, 2))
    x, y = X0 + a[:, 0], Y0 + a[:, 1]
    np.testing.assert_array_equal(single_link_labels(x, y, link), _pairs_labels(x, y, link))


def test_clustering_builds_no_pair_list(monkeypatch) -> None:
    # 40,000 points within 2 links: ~400 million linked pairs, 6 GB as a pair list. The grid
    # clustering allocates a few arrays of n entries; the pair-list methods are forbidden.
    monkeypatch.setattr(gaps_mod, "cKDTree", _NoPairsTree)
    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 500, 40_000), rng.uniform(0, 500, 40_000)
    x[:10], y[:10] = 5_000.0 + np.arange(10) * 300.0, 5_000.0  # ten lone points, 300 m apart
    tracemalloc.start()
    try:
        label = single_link_labels(x, y, 250.0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert label.max() == 10  # ten lone points, then the dense block
    assert label[10] == 10 and (label[10:] == 10).all()
    assert peak < 40 * 40_000 * 8  # a few tens of n-sized arrays, not n² pairs


class _NoPairsTree(cKDTree):
    """A k-d tree whose pair-listing methods fail: the clustering must not call them."""

    def _forbidden(self, *args, **kwargs):
        raise AssertionError("the gap clustering must not enumerate point pairs")

    query_pairs = sparse_distance_matrix = query_ball_point = query_ball_tree = _forbidden


def _exact_union(x, y, radius):
    return shapely.union_all(shapely.buffer(shapely.points(x, y), radius, quad_segs=64))


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 400),
    spread=st.floats(10.0, 3000.0),
    radius=st.floats(20.0, 200.0),
)
def test_traced_polygon_contains_points_and_matches_exact_area(seed, n, spread, radius) -> None:
    rng = np.random.default_rng(seed)
    x, y = X0 + rng.uniform(0, spread, n), Y0 + rng.uniform(0, spread, n)
    poly = disc_union_raster(x, y, radius)
    exact = _exact_union(x, y, radius)
    assert poly.is_valid
    assert shapely.contains_xy(poly, x, y).all()
    assert abs(poly.area - exact.area) <= RASTER_AREA_TOLERANCE * exact.area
    # The outline follows the discs, not just the area: little land differs either way.
    assert shapely.symmetric_difference(poly, exact).area <= 2 * RASTER_AREA_TOLERANCE * exact.area


def test_large_gap_uses_traced_polygon_with_its_points_inside(monkeypatch) -> None:
    monkeypatch.setattr(gaps_mod, "_EXACT_MAX", 3)
    net = lattice_network(31, 31, spacing=100.0)
    fac = gdf([(0, 0)], facility_id=["m"], category=["market"])
    rng = np.random.default_rng(5)
    pts = [(2000 + 40 * i, 2000 + 30 * (i % 3)) for i in range(12)] + [(500, 2900)]
    dem = gdf(pts, population=rng.uniform(1, 20, len(pts)), elderly=[1.0] * len(pts))
    res = analyse(net, dem, fac)
    gaps = find_gaps(res, category="market", cluster_m=100)
    assert gaps["n_points"].tolist() == [12, 1]
    proj = gaps.to_crs(CRS)
    big = proj.geometry.iloc[0]
    inside = res.demand_snap.x[:12], res.demand_snap.y[:12]
    assert shapely.contains_xy(big, *inside).all()
    exact = _exact_union(*inside, 50.0)
    assert gaps["area_m2"].iloc[0] == pytest.approx(exact.area, rel=RASTER_AREA_TOLERANCE)


def test_gap_attributes_equal_the_per_cluster_computation() -> None:
    # Many clusters with ties in population and communities: the vectorised sums and names
    # equal those computed cluster by cluster.
    net = lattice_network(41, 41, spacing=100.0)
    fac = gdf([(0, 0)], facility_id=["m"], category=["market"])
    rng = np.random.default_rng(11)
    n = 400
    pts = rng.integers(0, 80, (n, 2)) * 50.0
    comm = rng.choice(["甲", "乙", "丙", "丁", ""], n)
    pop = rng.integers(1, 4, n).astype(float)
    eld = np.where(rng.random(n) < 0.3, np.nan, 1.0)
    dem = gdf(pts, population=pop, elderly=eld, community=comm)
    res = analyse(net, dem, fac, criteria=None)
    gaps = find_gaps(res, category="market", cluster_m=60)
    unc = np.flatnonzero(~res.demand["market_covered"].to_numpy(dtype=bool))
    lab = _pairs_labels(res.demand_snap.x[unc], res.demand_snap.y[unc], 60)
    rows = []
    for c in range(lab.max() + 1):
        idx = unc[lab == c]
        sub = res.demand.iloc[idx]
        by = (
            pd.Series(sub["population"].to_numpy(), index=sub["community"].to_numpy())
            .loc[lambda s: s.index != ""]
            .groupby(level=0)
            .sum()
            .sort_values(ascending=False, kind="stable")
        )
        e = pd.to_numeric(sub["elderly"], errors="coerce")
        rows.append(
            (
                float(sub["population"].sum()),
                len(idx),
                "、".join(by.index[:3]),
                len(by),
                float(e.sum()) if e.notna().any() else np.nan,
            )
        )
    rows.sort(key=lambda r: (-r[0], -r[1]))
    got = list(
        zip(
            gaps["uncovered_population"],
            gaps["n_points"],
            gaps["communities"],
            gaps["n_communities"],
            gaps["uncovered_elderly"],
            strict=True,
        )
    )
    assert len(got) == len(rows)
    for g, r in zip(got, rows, strict=True):
        assert g[:4] == r[:4]
        assert (np.isnan(g[4]) and np.isnan(r[4])) or g[4] == r[4]


def test_compiled_and_numpy_fields_trace_the_same_polygon(monkeypatch) -> None:
    # The compiled field (every node near a point) and the numpy one (distance transform, k-d
    # tree in the band) are exact on every grid edge that crosses the outline: same polygon.
    rng = np.random.default_rng(3)
    x, y = X0 + rng.uniform(0, 2000, 300), Y0 + rng.uniform(0, 2000, 300)
    compiled = disc_union_raster(x, y, 60.0)
    monkeypatch.setattr(gaps_mod, "compiled_kernel", lambda name, func: None)
    plain = disc_union_raster(x, y, 60.0)
    assert plain.is_valid and compiled.is_valid
    assert compiled.area == pytest.approx(plain.area, rel=1e-9)
    assert shapely.symmetric_difference(compiled, plain).area <= 1e-6 * plain.area


def test_gaps_traced_on_one_grid_match_each_traced_alone() -> None:
    rng = np.random.default_rng(7)
    xs, ys = [], []
    for cx, cy in [(0, 0), (1500, 0), (0, 1500)]:
        xs.append(X0 + cx + rng.uniform(0, 300, 80))
        ys.append(Y0 + cy + rng.uniform(0, 300, 80))
    # Two lines 100.01 m apart: separate gaps for a 100 m link whose discs all but touch, so
    # their regions meet on the shared grid and they are left to be traced alone.
    xs += [X0 + 3000 + 40 * np.arange(6), X0 + 3200 + 100.01 + 40 * np.arange(6)]
    ys += [np.full(6, Y0), np.full(6, Y0)]
    x, y = np.concatenate(xs), np.concatenate(ys)
    lab = single_link_labels(x, y, 100.0)
    near = {int(lab[-1]), int(lab[-7])}
    assert len(near) == 2
    got = shared_disc_unions(x, y, lab, 50.0)
    assert near.isdisjoint(got)
    assert len(got) >= 3
    for c, poly in got.items():
        mine = lab == c
        alone = disc_union_raster(x[mine], y[mine], 50.0)
        exact = _exact_union(x[mine], y[mine], 50.0)
        assert poly.is_valid
        assert shapely.contains_xy(poly, x[mine], y[mine]).all()
        assert not shapely.contains_xy(poly, x[~mine], y[~mine]).any()
        assert abs(poly.area - exact.area) <= RASTER_AREA_TOLERANCE * exact.area
        assert poly.area == pytest.approx(alone.area, rel=RASTER_AREA_TOLERANCE)


def test_several_large_gaps_share_one_grid_in_find_gaps(monkeypatch) -> None:
    monkeypatch.setattr(gaps_mod, "_EXACT_MAX", 3)
    net = lattice_network(31, 31, spacing=100.0)
    fac = gdf([(0, 0)], facility_id=["m"], category=["market"])
    # Two interlocked L shapes: separate gaps whose extents overlap (one grid for both).
    arm = 40.0 * np.arange(41)
    a = [(500 + t, 500) for t in arm] + [(500, 540 + t) for t in arm[:-1]]
    b = [(700 + t, 2100) for t in arm] + [(2300, 700 + t) for t in arm[:-5]]
    dem = gdf(a + b, population=[1.0] * 81 + [2.0] * 77, elderly=[1.0] * 158)
    res = analyse(net, dem, fac)
    calls = []
    real = gaps_mod.shared_disc_unions
    monkeypatch.setattr(
        gaps_mod, "shared_disc_unions", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    gaps = find_gaps(res, category="market", cluster_m=100)
    assert calls == [1]
    assert gaps["n_points"].tolist() == [77, 81]
    proj = gaps.to_crs(CRS)
    sx, sy = res.demand_snap.x, res.demand_snap.y
    for poly, sel in zip(proj.geometry, [slice(81, 158), slice(0, 81)], strict=True):
        assert shapely.contains_xy(poly, sx[sel], sy[sel]).all()
        exact = _exact_union(sx[sel], sy[sel], 50.0)
        assert poly.area == pytest.approx(exact.area, rel=RASTER_AREA_TOLERANCE)
