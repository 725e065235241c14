from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csgraph

from geo.errors import EmptyNetworkError
from geo.network import build_network, lattice_network, utm_crs_for


def test_lattice_shape_and_distances() -> None:
    net = lattice_network(5, 4, spacing=50.0)
    assert net.n_nodes == 20
    assert net.n_edges == 4 * 4 + 5 * 3
    d = csgraph.dijkstra(net.csr, indices=0)
    # Manhattan distance on the grid.
    assert d[19] == pytest.approx((4 + 3) * 50.0)
    assert (net.csr != net.csr.T).nnz == 0


def test_parallel_edges_keep_the_shortest_not_the_sum() -> None:
    x = np.array([0.0, 100.0, 200.0])
    y = np.zeros(3)
    net = build_network(
        x=x,
        y=y,
        u=np.array([0, 1, 0, 1]),
        v=np.array([1, 0, 1, 2]),
        length=np.array([120.0, 100.0, 150.0, 100.0]),
        crs="EPSG:32650",
    )
    assert net.report.parallel_edges_merged == 2
    assert net.n_edges == 2
    assert csgraph.dijkstra(net.csr, indices=0)[2] == pytest.approx(200.0)


def test_largest_component_kept_and_reported() -> None:
    x = np.array([0.0, 1, 2, 10, 11])
    y = np.zeros(5)
    net = build_network(x=x, y=y, u=np.array([0, 1, 3]), v=np.array([1, 2, 4]), crs="EPSG:32650")
    assert net.n_nodes == 3
    assert net.report.n_components == 2
    assert net.report.dropped_nodes == 2
    assert "舍弃 2 个节点" in net.report.summary("zh")
    kept = build_network(
        x=x,
        y=y,
        u=np.array([0, 1, 3]),
        v=np.array([1, 2, 4]),
        crs="EPSG:32650",
        keep_largest=False,
    )
    assert kept.n_nodes == 5


def test_directed_drive_network() -> None:
    net = build_network(
        x=np.array([0.0, 100.0]),
        y=np.zeros(2),
        u=np.array([0]),
        v=np.array([1]),
        crs="EPSG:32650",
        mode="drive",
    )
    assert net.directed
    d = csgraph.dijkstra(net.csr, indices=1)
    assert np.isinf(d[0])


def test_empty_network_error_names_the_source() -> None:
    with pytest.raises(EmptyNetworkError, match=r"roads\.osm"):
        build_network(
            x=np.zeros(2),
            y=np.zeros(2),
            u=np.array([], dtype=int),
            v=np.array([], dtype=int),
            crs="EPSG:32650",
            source="roads.osm",
        )


def test_utm_zone() -> None:
    assert utm_crs_for(118.78, 32.04) == "EPSG:32650"
    assert utm_crs_for(24.94, 60.17) == "EPSG:32635"
