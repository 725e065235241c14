"""Analytic distances on lattices: offsets, same-edge case, limits, OD matrices, directions."""

from __future__ import annotations

import numpy as np
import pytest

from coverage.distance import OD_ZERO_M, nearest_from, od_matrix, point_distance
from coverage.snap import snap_points
from geo.network import build_network, lattice_network

X0, Y0 = 500_000.0, 3_500_000.0


def xy(*pts: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    a = np.array(pts, dtype=float)
    return X0 + a[:, 0], Y0 + a[:, 1]


def test_manhattan_distances_with_offsets() -> None:
    net = lattice_network(6, 6, spacing=100.0)
    src = snap_points(net, xy((0, 0)))
    nd, ns = nearest_from(net, src)
    i, j = np.meshgrid(np.arange(6), np.arange(6), indexing="xy")
    np.testing.assert_allclose(nd, (i + j).ravel() * 100.0)
    assert (ns == 0).all()
    tgt = snap_points(net, xy((250, 310), (500, 500)))
    d, s = point_distance(net, nd, ns, tgt, sources=src)
    # (250, 310): on the horizontal edge y=300 at x=250, 10 m off it: 300 + 250 + 10.
    np.testing.assert_allclose(d, [560.0, 1000.0])
    assert s.tolist() == [0, 0]


def test_facility_mid_edge_enters_through_both_ends() -> None:
    net = lattice_network(3, 1, spacing=100.0)
    src = snap_points(net, xy((130, 20)))
    nd, _ = nearest_from(net, src)
    np.testing.assert_allclose(nd, [150.0, 50.0, 90.0])


def test_same_edge_direct_distance_beats_way_round() -> None:
    net = lattice_network(2, 2, spacing=100.0)
    src = snap_points(net, xy((40, 0)))
    tgt = snap_points(net, xy((60, 5)))
    nd, ns = nearest_from(net, src)
    d, s = point_distance(net, nd, ns, tgt, sources=src)
    assert d[0] == pytest.approx(25.0)  # 20 along the edge + 5 offset
    assert s[0] == 0
    od = od_matrix(net, src, tgt, limit_m=100)
    assert od[0, 0] == pytest.approx(25.0)


def test_nearest_of_several_and_labels() -> None:
    net = lattice_network(11, 1, spacing=100.0)
    src = snap_points(net, xy((0, 0), (1000, 0)))
    nd, ns = nearest_from(net, src)
    assert ns[:5].tolist() == [0] * 5 and ns[6:].tolist() == [1] * 5
    np.testing.assert_allclose(nd, np.minimum(np.arange(11), 10 - np.arange(11)) * 100.0)


def test_limit_cuts_search() -> None:
    net = lattice_network(11, 1, spacing=100.0)
    src = snap_points(net, xy((0, 0)))
    nd, ns = nearest_from(net, src, limit_m=300.0)
    assert np.isfinite(nd[:4]).all() and np.isinf(nd[4:]).all()
    assert (ns[4:] == -1).all()


def test_unsnapped_and_no_sources() -> None:
    net = lattice_network(3, 3, spacing=100.0)
    none = snap_points(net, (np.array([]), np.array([])))
    nd, ns = nearest_from(net, none)
    assert np.isinf(nd).all() and (ns == -1).all()
    tgt = snap_points(net, xy((50, 0), (5000, 0)), tolerance_m=100)
    src = snap_points(net, xy((0, 0)))
    nd, ns = nearest_from(net, src)
    d, s = point_distance(net, nd, ns, tgt, sources=src)
    assert d[0] == pytest.approx(50.0) and np.isinf(d[1]) and s[1] == -1


def test_isolated_component_is_unreachable() -> None:
    # Two separate segments; keep_largest=False keeps both.
    net = build_network(
        x=np.array([X0, X0 + 100, X0 + 1000, X0 + 1100]),
        y=np.full(4, Y0),
        u=np.array([0, 2]),
        v=np.array([1, 3]),
        crs="EPSG:32650",
        keep_largest=False,
    )
    src = snap_points(net, xy((1050, 0)))
    nd, ns = nearest_from(net, src)
    assert np.isinf(nd[:2]).all() and np.allclose(nd[2:], 50.0)
    tgt = snap_points(net, xy((50, 0), (1060, 0)))
    d, _ = point_distance(net, nd, ns, tgt, sources=src)
    assert np.isinf(d[0]) and d[1] == pytest.approx(10.0)


def test_od_matrix_exact_and_keeps_zero() -> None:
    net = lattice_network(5, 5, spacing=100.0)
    src = snap_points(net, xy((0, 0), (400, 400), (200, 200)))
    tgt = snap_points(net, xy((0, 0), (100, 0), (400, 300), (250, 200)))
    od = od_matrix(net, src, tgt, limit_m=300.0, batch_size=2)
    assert (od != od_matrix(net, src, tgt, limit_m=300.0, local=False)).nnz == 0
    dense = od.toarray()
    expect = np.array([[0, 100, 700, 450], [800, 700, 100, 350], [400, 300, 300, 50]], dtype=float)
    expect[expect > 300] = 0
    expect[0, 0] = OD_ZERO_M
    np.testing.assert_allclose(dense, expect, atol=1e-9)
    assert od.nnz == int((expect > 0).sum())
    with pytest.raises(ValueError, match="limit_m"):
        od_matrix(net, src, tgt, limit_m=np.inf)


def test_directed_one_way_is_respected() -> None:
    # 0 -> 1 -> 2 one-way; residents travel to the facility.
    net = build_network(
        x=np.array([X0, X0 + 100, X0 + 200]),
        y=np.full(3, Y0),
        u=np.array([0, 1]),
        v=np.array([1, 2]),
        crs="EPSG:32650",
        mode="drive",
    )
    src = snap_points(net, xy((150, 0)))
    nd, _ = nearest_from(net, src)
    # From node 0 and 1 the facility is ahead; from node 2 it cannot be reached.
    np.testing.assert_allclose(nd[:2], [150.0, 50.0])
    assert np.isinf(nd[2])
    tgt = snap_points(net, xy((120, 0), (180, 0)))
    d, _ = point_distance(net, nd, ns := nearest_from(net, src)[1], tgt, sources=src)
    assert ns[2] == -1
    assert d[0] == pytest.approx(30.0) and np.isinf(d[1])
