"""Network what-ifs: added links and closures, against hand-computed distances and networkx."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pyproj
import pytest
from _data import osm_extract
from scipy.sparse import csgraph

from geo.network import Network, build_network, lattice_network
from geo.network_edits import (
    NetworkEdit,
    NetworkEditError,
    apply_network_edits,
    edits_from_config,
)
from geo.roads import load_network

X0, Y0 = 500_000.0, 3_500_000.0
TO_LONLAT = pyproj.Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)


def lonlat(*pts: tuple[float, float]) -> tuple[tuple[float, float], ...]:
    """Metre offsets from the lattice corner as WGS-84 [lon, lat] pairs."""
    out = []
    for dx, dy in pts:
        lon, lat = TO_LONLAT.transform(X0 + dx, Y0 + dy)
        out.append((float(lon), float(lat)))
    return tuple(out)


def two_banks(mode: str = "walk") -> Network:
    """Two 5 x 3 street grids (100 m blocks) across a 200 m river, one bridge at x = 400.

    Bank A: y = 0, 100, 200; bank B: y = 400, 500, 600; x = 0 … 400 on both.
    """
    xs, ys = np.meshgrid(np.arange(5) * 100.0, np.array([0, 100, 200, 400, 500, 600.0]))
    x, y = X0 + xs.ravel(), Y0 + ys.ravel()
    idx = np.arange(30).reshape(6, 5)
    u, v = [], []
    for r in range(6):
        u += list(idx[r, :-1])
        v += list(idx[r, 1:])
    for r in (0, 1, 3, 4):
        u += list(idx[r, :])
        v += list(idx[r + 1, :])
    u.append(idx[2, 4])  # the bridge
    v.append(idx[3, 4])
    if mode == "drive":  # two-way streets: both directions
        u, v = u + v, v + u
    return build_network(x=x, y=y, u=np.array(u), v=np.array(v), crs="EPSG:32650", mode=mode)


def node_at(net: Network, dx: float, dy: float) -> int:
    d = np.hypot(net.x - (X0 + dx), net.y - (Y0 + dy))
    assert d.min() < 1e-6, f"no node at ({dx}, {dy})"
    return int(np.argmin(d))


def dist(net: Network, a: tuple[float, float], b: tuple[float, float]) -> float:
    d = csgraph.dijkstra(net.csr, directed=net.directed, indices=node_at(net, *a))
    return float(d[node_at(net, *b)])


def test_footbridge_between_junctions_shortens_the_crossing():
    net = two_banks()
    assert dist(net, (0, 200), (0, 400)) == pytest.approx(1000.0)  # 400 + bridge 200 + 400
    bridge = NetworkEdit(action="add", coords=lonlat((0, 200), (0, 400)), name="步行桥")
    edited, report = apply_network_edits(net, [bridge])
    assert dist(edited, (0, 200), (0, 400)) == pytest.approx(200.0, abs=1e-6)
    assert report.loc[0, "length_m"] == pytest.approx(200.0, abs=1e-6)
    assert bool(report.loc[0, "applied"])
    # The original is untouched.
    assert dist(net, (0, 200), (0, 400)) == pytest.approx(1000.0)
    assert edited.length.sum() == pytest.approx(net.length.sum() + 200.0, abs=1e-6)


def test_link_ends_mid_block_split_the_streets_they_join():
    net = two_banks()
    # Ends drawn 5 m off the streets, halfway along the first block of each bank.
    link = NetworkEdit(action="add", coords=lonlat((50, 195), (50, 405)))
    edited, report = apply_network_edits(net, [link])
    # 50 along the bank, 5 + 210 + 5 over the link, 50 back: 320 m.
    assert dist(edited, (0, 200), (0, 400)) == pytest.approx(320.0, abs=1e-6)
    assert dist(edited, (100, 200), (100, 400)) == pytest.approx(320.0, abs=1e-6)
    assert report.loc[0, "length_m"] == pytest.approx(220.0, abs=1e-6)
    # Splitting keeps the street's length: only the link is new.
    assert edited.length.sum() == pytest.approx(net.length.sum() + 220.0, abs=1e-6)
    assert edited.n_nodes == net.n_nodes + 2


def test_link_too_far_from_any_street_is_refused_naming_the_edit():
    net = two_banks()
    far = NetworkEdit(action="add", coords=lonlat((50, 250), (50, 405)), name="远桥")
    with pytest.raises(NetworkEditError, match=r"#1 '远桥'.*start is 50 m .*join_m = 30"):
        apply_network_edits(net, [far])
    ok = NetworkEdit(action="add", coords=lonlat((50, 250), (50, 405)), join_m=60)
    edited, _ = apply_network_edits(net, [ok])
    assert np.isfinite(dist(edited, (0, 0), (0, 600)))


def test_closing_the_only_bridge_cuts_the_banks_apart():
    net = two_banks()
    close = NetworkEdit(action="close", coords=lonlat((400, 210), (400, 390)), name="危桥拆除")
    edited, report = apply_network_edits(net, [close])
    assert np.isinf(dist(edited, (0, 200), (0, 400)))
    assert report.loc[0, "length_m"] == pytest.approx(200.0)
    # Both banks stay in the network (a closure must not make residents vanish).
    assert edited.n_nodes == net.n_nodes


def test_closure_keeps_crossing_streets_and_cuts_partial_stretches():
    net = two_banks()
    # Along the top street of bank A from x = 150 to 250: crosses the street at x = 200.
    close = NetworkEdit(action="close", coords=lonlat((150, 200), (250, 200)))
    edited, report = apply_network_edits(net, [close])
    assert report.loc[0, "length_m"] == pytest.approx(100.0, abs=1e-6)
    # The crossing street at x = 200 still reaches the top row.
    assert dist(edited, (200, 100), (200, 200)) == pytest.approx(100.0)
    # Going along the top row now means a detour through y = 100: 100 + 100 + 100 + 100 + 100.
    assert dist(edited, (100, 200), (300, 200)) == pytest.approx(400.0)
    assert edited.length.sum() == pytest.approx(net.length.sum() - 100.0, abs=1e-6)


def test_a_closure_that_closes_nothing_is_an_error():
    net = two_banks()
    nothing = NetworkEdit(action="close", coords=lonlat((150, 300), (250, 300)))
    with pytest.raises(NetworkEditError, match=r"#1.*nothing\s+was closed"):
        apply_network_edits(net, [nothing])


def test_edits_apply_in_order_and_for_their_mode_only():
    net = two_banks()
    edits = [
        NetworkEdit(action="add", coords=lonlat((0, 200), (0, 400))),
        NetworkEdit(action="close", coords=lonlat((0, 210), (0, 390))),
        NetworkEdit(action="add", coords=lonlat((100, 200), (100, 400)), mode="drive"),
    ]
    edited, report = apply_network_edits(net, edits)
    assert list(report["applied"]) == [True, True, False]
    assert dist(edited, (0, 200), (0, 400)) == pytest.approx(1000.0)


def test_directed_networks_get_the_link_both_ways_and_split_both_directions():
    net = two_banks(mode="drive")
    assert net.directed
    link = NetworkEdit(action="add", coords=lonlat((50, 200), (50, 400)))
    edited, _ = apply_network_edits(net, [link])
    assert dist(edited, (0, 200), (0, 400)) == pytest.approx(300.0, abs=1e-6)
    assert dist(edited, (0, 400), (0, 200)) == pytest.approx(300.0, abs=1e-6)


def test_gcj02_coordinates_are_converted():
    from geo.datum import wgs84_to_gcj02

    net = two_banks()
    pts = np.array(lonlat((0, 200), (0, 400)))
    glon, glat = wgs84_to_gcj02(pts[:, 0], pts[:, 1])
    edit = NetworkEdit(action="add", coords=tuple(zip(glon, glat, strict=True)), crs="gcj02")
    edited, _ = apply_network_edits(net, [edit])
    assert dist(edited, (0, 200), (0, 400)) == pytest.approx(200.0, abs=0.05)


@pytest.mark.parametrize(
    ("table", "match"),
    [
        ({"action": "build", "coords": [[118.0, 32.0], [118.1, 32.0]]}, "action must be"),
        ({"action": "add", "coords": [[118.0, 32.0]]}, "at least two"),
        ({"action": "add", "coords": [[32.0, 118.0], [32.1, 118.0]]}, "longitude first"),
        ({"action": "add", "coords": "118,32"}, "list of \\[lon, lat\\] pairs"),
        ({"action": "add", "coords": [[118, 32], [118.1, 32]], "join_m": float("inf")}, "join_m"),
        ({"action": "add", "coords": [[118, 32], [118.1, 32]], "crs": "utm"}, "crs must be"),
        ({"action": "add", "coords": [[118, 32], [118.1, 32]], "width": 3}, "unknown key"),
    ],
)
def test_config_tables_are_checked_naming_the_edit(table, match):
    with pytest.raises(NetworkEditError, match=r"\[\[network_edits\]\] #1: .*" + match):
        edits_from_config([table])


def _nx_lengths(net: Network, source: int) -> dict[int, float]:
    return nx.single_source_dijkstra_path_length(net.to_networkx(), source, weight="length")


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_real_extract_after_edits_matches_networkx(mode):
    net = load_network(osm_extract("nanjing_xinjiekou"), mode=mode)
    tr = pyproj.Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True)
    rng = np.random.default_rng(5)
    # A link between two far-apart street points, and a closure along one street's middle.
    e1, e2 = rng.choice(net.n_edges, 2, replace=False)
    p1 = net.geometry[e1].interpolate(0.5, normalized=True)
    p2 = net.geometry[e2].interpolate(0.5, normalized=True)
    longest = int(np.argmax(net.length))
    g = net.geometry[longest]
    q1, q2 = g.interpolate(0.3, normalized=True), g.interpolate(0.7, normalized=True)
    edits = [
        NetworkEdit(action="add", coords=tuple(tr.transform(p.x, p.y) for p in (p1, p2))),
        NetworkEdit(action="close", coords=tuple(tr.transform(p.x, p.y) for p in (q1, q2))),
    ]
    edited, report = apply_network_edits(net, edits)
    assert report["applied"].all()
    sources = rng.choice(edited.n_nodes, 4, replace=False)
    ours = csgraph.dijkstra(edited.csr, directed=edited.directed, indices=sources)
    for row, s in enumerate(sources):
        expect = np.full(edited.n_nodes, np.inf)
        for node, d in _nx_lengths(edited, int(s)).items():
            expect[node] = d
        np.testing.assert_allclose(ours[row], expect, rtol=0, atol=1e-6)
    # The link really shortens something: some pair is nearer than before.
    assert edited.length.sum() != pytest.approx(net.length.sum())


def test_lattice_edit_keeps_every_node_and_the_original():
    net = lattice_network(6, 6, spacing=100.0)
    before = net.csr.copy()
    close = NetworkEdit(action="close", coords=lonlat((100, 0), (400, 0)))
    edited, _ = apply_network_edits(net, [close])
    assert (net.csr != before).nnz == 0
    assert edited.n_edges == net.n_edges - 3


def test_config_edits_change_the_run_and_are_reported(tmp_path):
    import pandas as pd

    import cli
    from study.demo import load_demo

    net = load_demo("synthetic").network
    bridges = np.flatnonzero(np.asarray(net.edge_attrs["bridge"]).astype(bool))
    assert bridges.size > 0
    tr = pyproj.Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True)
    lines = []
    for e in bridges:
        g = net.geometry[e]
        a, b = g.interpolate(0.2, normalized=True), g.interpolate(0.8, normalized=True)
        (x0, x1), (y0, y1) = tr.transform([a.x, b.x], [a.y, b.y])
        lines.append(
            f'[[network_edits]]\naction = "close"\ncoords = [[{x0}, {y0}], [{x1}, {y1}]]\n'
            f'name = "bridge {e}"\n'
        )
    base = 'demo = "synthetic"\n[analysis]\nservice_areas = false\n'
    (tmp_path / "base.toml").write_text(base, "utf-8")
    (tmp_path / "closed.toml").write_text(base + "\n".join(lines), "utf-8")
    assert cli.main(["-q", "run", str(tmp_path / "base.toml"), "--out", str(tmp_path / "a")]) == 0
    assert cli.main(["-q", "run", str(tmp_path / "closed.toml"), "--out", str(tmp_path / "b")]) == 0
    a = pd.read_csv(tmp_path / "a" / "summary.csv").set_index("category")
    b = pd.read_csv(tmp_path / "b" / "summary.csv").set_index("category")
    # With every bridge closed nobody is better off, and somebody is worse off.
    assert (b["covered_population"] <= a["covered_population"] + 1e-6).all()
    assert (b["covered_population"] < a["covered_population"] - 1).any()
