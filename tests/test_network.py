from __future__ import annotations

import numpy as np
import pytest
import shapely
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


def _two_routes(second: shapely.LineString) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    straight = shapely.LineString([(0, 0), (30, 17.5), (60, 0)])
    geometry = np.array([straight, second, shapely.LineString([(60, 0), (160, 0)])], dtype=object)
    return np.array([0, 1, 1]), np.array([1, 0, 2]), geometry


def test_parallel_edges_of_equal_length_but_different_shape_are_both_kept() -> None:
    # The two halves of a P-shaped road: 0.0 m apart in length, 35 m apart on the ground.
    mirror = shapely.LineString([(60, 0), (30, -17.5), (0, 0)])
    u, v, geometry = _two_routes(mirror)
    net = build_network(
        x=np.array([0.0, 60.0, 160.0]), y=np.zeros(3), u=u, v=v, geometry=geometry, crs="EPSG:32650"
    )
    assert net.report.parallel_edges_merged == 0
    assert net.length.sum() == pytest.approx(shapely.length(geometry).sum())
    assert net.n_nodes == 4  # the second half got an inner node
    # A point on the mirrored half is on the network.
    assert net.edges_gdf().distance(shapely.Point(30, -17.5)).min() == pytest.approx(0, abs=1e-9)


def test_parallel_edges_of_the_same_shape_merge_whatever_their_lengths() -> None:
    # The same street drawn twice, once wobbling 0.9 m either side of the line (metres longer).
    base = shapely.segmentize(shapely.LineString([(60, 0), (30, 17.5), (0, 0)]), 2.0)
    xy = shapely.get_coordinates(base)
    normal = np.array([17.5, 30.0]) / np.hypot(17.5, 30.0)
    wobble = np.where(np.arange(len(xy)) % 2 == 1, 0.9, 0.0)[:, None] * normal
    twin = shapely.LineString(xy + wobble * np.where(xy[:, :1] < 30, [[-1, 1]], [[1, 1]]))
    u, v, geometry = _two_routes(twin)
    net = build_network(
        x=np.array([0.0, 60.0, 160.0]), y=np.zeros(3), u=u, v=v, geometry=geometry, crs="EPSG:32650"
    )
    assert shapely.length(twin) - shapely.length(geometry[0]) > 0.5
    assert net.report.parallel_edges_merged == 1
    assert net.n_nodes == 3
    assert net.length.sum() == pytest.approx(shapely.length(geometry[[0, 2]]).sum())


def test_ring_road_closing_on_one_node_is_kept() -> None:
    ring = shapely.LineString([(0, 0), (40, 0), (40, 40), (0, 40), (0, 0)])
    stem = shapely.LineString([(0, 0), (-50, 0)])
    net = build_network(
        x=np.array([0.0, -50.0]),
        y=np.zeros(2),
        u=np.array([0, 0]),
        v=np.array([0, 1]),
        geometry=np.array([ring, stem], dtype=object),
        crs="EPSG:32650",
    )
    assert net.report.self_loops_dropped == 0
    assert net.length.sum() == pytest.approx(160 + 50)
    d = csgraph.dijkstra(net.csr, indices=1)
    # The ring's inner nodes sit a third of the way round either side: 160/3 m from its node.
    assert np.isfinite(d).all() and d.max() == pytest.approx(50 + 160 / 3)


def test_report_summary_in_both_languages():
    from geo.network import NetworkReport

    report = NetworkReport(
        source="roads.gpkg",
        mode="walk",
        n_nodes=1200,
        n_edges=2500,
        n_components=3,
        dropped_nodes=4,
        dropped_edges=5,
        dangling_ends=6,
    )
    assert report.summary("en") == (
        "Network from roads.gpkg; mode walk; 1,200 nodes, 2,500 edges; 3 connected components; "
        "kept the largest (dropped 4 nodes, 5 edges); 6 dangling ends."
    )
    assert report.summary("zh") == (
        "路网来源：roads.gpkg；出行方式：walk；节点 1,200 个，路段 2,500 条；原有连通分量 3 个，"
        "仅保留最大连通分量（舍弃 4 个节点、5 条路段）；悬挂端点 6 个。"
    )
