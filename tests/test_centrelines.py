"""Road centrelines: topology from shared endpoints, T-junctions, dangling ends, CRS handling."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from geo import settings
from geo.centrelines import read_centrelines
from geo.errors import EmptyNetworkError, NetworkFormatError
from geo.roads import load_network

INPUT = Path(__file__).resolve().parent / "input_data"
LINES = INPUT / "centrelines.geojson"

# The fixture (UTM 50N metres): A (0,0)-(100,0); B starts 0.4 m from A's end; C starts on A's
# interior at x=50 (T-junction); D crosses B with no shared point (a bridge); E runs north from
# B's end and stops 3 m short of F; F is on its own.


def test_topology_from_shared_endpoints():
    edges = read_centrelines(LINES)
    assert edges.crs == "EPSG:32650"
    # A split at C's start: 7 edges from 6 lines; 10 nodes.
    assert edges.u.size == 7
    assert edges.x.size == 10
    # Ends of A-start, C-end, D x2, E-end, F x2.
    assert edges.dangling_ends == 7
    notes = " ".join(edges.notes)
    assert "1 lines split at T-junctions" in notes
    assert "1 dangling ends lie within 5 m of another line" in notes
    degree = np.bincount(np.concatenate([edges.u, edges.v]))
    # T-junction (A, A, C) has degree 3; A|B and B|E joints have 2.
    assert sorted(degree.tolist()) == [1, 1, 1, 1, 1, 1, 1, 2, 2, 3]


def test_network_keeps_the_connected_part_and_reports_the_rest():
    net = load_network(LINES)
    assert net.crs == "EPSG:32650"
    assert not net.directed
    # A (two halves), B, C and E are connected; the bridge D and the detached F are not.
    assert net.n_edges == 5
    assert net.n_nodes == 6
    assert net.report.n_components == 3
    assert net.report.dropped_nodes == 4
    assert net.report.dangling_ends == 7
    assert net.length.sum() == pytest.approx(100 + 100 + 99.7 + 97, abs=0.5)
    assert set(net.edge_attrs["name"]) == {"甲路", "乙路", "丁路"}


def test_larger_snap_joins_the_gap(monkeypatch):
    monkeypatch.setattr(settings, "centreline_snap_m", 5.0)
    net = load_network(LINES)
    # E now meets F: F's two halves join the main component.
    assert net.n_edges == 7
    assert net.report.dropped_nodes == 2
    assert net.report.dangling_ends == 6
    assert "2 lines split at T-junctions" in " ".join(net.report.notes)


def test_zipped_shapefile_in_a_chinese_projected_crs(tmp_path):
    gdf = gpd.read_file(LINES).to_crs("EPSG:4549")  # CGCS2000 / 3-degree Gauss-Kruger CM 120E
    shp = tmp_path / "roads.shp"
    gdf.to_file(shp, encoding="utf-8")
    archive = tmp_path / "roads.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in tmp_path.glob("roads.*"):
            if part.suffix != ".zip":
                zf.write(part, part.name)
    net = load_network(archive)
    assert net.crs == "EPSG:32650"
    assert net.n_edges == 5
    assert net.length.sum() == pytest.approx(396.7, abs=1.0)


def test_road_class_column_filters_by_mode(tmp_path):
    gdf = gpd.read_file(LINES)
    gdf["highway"] = ["primary", "primary", "footway", "residential", "motorway", "residential"]
    path = tmp_path / "classes.gpkg"
    gdf.to_file(path)
    walk = read_centrelines(path, mode="walk")
    assert "motorway" not in set(walk.attrs["highway"])
    drive = read_centrelines(path, mode="drive")
    assert "footway" not in set(drive.attrs["highway"])
    # Without a oneway column every drive line runs both ways.
    assert drive.u.size == 2 * (drive.u.size // 2)
    assert not drive.attrs["oneway"].any()


def test_oneway_column_in_drive_mode(tmp_path):
    gdf = gpd.read_file(LINES)
    gdf["oneway"] = ["yes", "no", "no", "no", "-1", "no"]
    path = tmp_path / "oneway.geojson"
    gdf.to_file(path, driver="GeoJSON")
    net = load_network(path, mode="drive", keep_largest=False)
    assert net.directed
    # A's two halves go one way; E (oneway=-1) runs against its drawing: north end → south end.
    a_end = int(np.argmin(np.hypot(net.x - 500100, net.y - 3540000)))
    e_north = int(np.argmin(np.hypot(net.x - 500200, net.y - 3540097)))
    e_south = int(np.argmin(np.hypot(net.x - 500200, net.y - 3540000)))
    pairs = set(zip(net.u.tolist(), net.v.tolist(), strict=True))
    assert (e_north, e_south) in pairs and (e_south, e_north) not in pairs
    t_node = int(np.argmin(np.hypot(net.x - 500050, net.y - 3540000)))
    assert (t_node, a_end) in pairs and (a_end, t_node) not in pairs


# --- bad input -------------------------------------------------------------------------------


def test_points_instead_of_lines(tmp_path):
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(118.78, 32.04)], crs="EPSG:4326")
    path = tmp_path / "facilities.geojson"
    pts.to_file(path, driver="GeoJSON")
    with pytest.raises(NetworkFormatError, match=r"facilities\.geojson: no line layer.*Point"):
        load_network(path)


def test_empty_and_garbage_files(tmp_path):
    empty = tmp_path / "empty.geojson"
    empty.write_bytes(b"")
    with pytest.raises(NetworkFormatError, match=r"empty\.geojson: the file is empty"):
        load_network(empty)
    garbage = tmp_path / "roads.gpkg"
    garbage.write_text("this is not a geopackage", encoding="utf-8")
    with pytest.raises(NetworkFormatError, match=r"roads\.gpkg: not a readable vector file"):
        load_network(garbage)


@pytest.mark.filterwarnings("ignore:'crs' was not provided:UserWarning")
def test_projected_coordinates_without_crs(tmp_path):
    gdf = gpd.read_file(LINES).to_crs("EPSG:32650").set_crs(None, allow_override=True)
    path = tmp_path / "noprj.shp"
    gdf.to_file(path, encoding="utf-8")
    with pytest.raises(NetworkFormatError, match=r"noprj\.shp: the coordinate system is unknown"):
        load_network(path)


def test_no_lines_for_the_mode(tmp_path):
    gdf = gpd.read_file(LINES)
    gdf["highway"] = "footway"
    path = tmp_path / "footways.geojson"
    gdf.to_file(path, driver="GeoJSON")
    with pytest.raises(EmptyNetworkError, match=r"footways\.geojson: none of the 6 lines"):
        load_network(path, mode="drive")


def test_first_line_layer_of_a_geopackage_is_used_and_said(tmp_path):
    gdf = gpd.read_file(LINES)
    path = tmp_path / "two.gpkg"
    gdf.to_file(path, layer="roads")
    gdf.iloc[:2].to_file(path, layer="other")
    net = load_network(path)
    assert net.n_edges == 5
    assert "2 line layers in the file; used 'roads'" in net.report.notes


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(NetworkFormatError, match="is a folder"):
        load_network(tmp_path)


def _grid_lines(spacing: float = 200.0, n: int = 6, *, shared: bool = True) -> list:
    """A street grid drawn CAD-style: one long line per street through every junction."""
    xs = [i * spacing for i in range(n)]
    lines = []
    for y in xs:
        # With shared vertices at every crossing, or only the two ends.
        pts = [(x, y) for x in xs] if shared else [(xs[0], y), (xs[-1], y)]
        lines.append(shapely.LineString(pts))
    for x in xs:
        pts = [(x, y) for y in xs] if shared else [(x, xs[0]), (x, xs[-1])]
        lines.append(shapely.LineString(pts))
    return lines


def test_long_lines_meet_at_shared_vertices(tmp_path: Path):
    origin = np.array([660_000.0, 3_540_000.0])  # UTM 50N, near Nanjing
    lines = [shapely.affinity.translate(g, *origin) for g in _grid_lines()]
    path = tmp_path / "grid.gpkg"
    gpd.GeoDataFrame({"name": [f"路{i}" for i in range(12)]}, geometry=lines, crs=32650).to_file(
        path
    )
    net = load_network(path)
    assert net.n_nodes == 36 and net.n_edges == 60
    assert net.length.sum() == pytest.approx(12 * 1000.0)
    assert any(
        "36 junctions inside lines" in n or "junctions inside lines" in n for n in net.report.notes
    )
    # Along the streets from one corner to the next crossing is one block, not a detour.
    from scipy.sparse import csgraph

    corner = int(np.argmin(net.x + net.y))
    d = csgraph.dijkstra(net.csr, indices=corner)
    assert sorted(d)[1] == pytest.approx(200.0)
    assert d.max() == pytest.approx(2000.0)
    # Drawn without vertices at the crossings, the streets stay apart (bridges) and the report
    # says where.
    apart = tmp_path / "apart.gpkg"
    gpd.GeoDataFrame(
        geometry=[shapely.affinity.translate(g, *origin) for g in _grid_lines(shared=False)],
        crs=32650,
    ).to_file(apart)
    edges = read_centrelines(apart)
    assert any("16 places where lines cross without a shared vertex" in n for n in edges.notes)


def test_a_stray_vertex_does_not_move_the_utm_zone(tmp_path: Path):
    lines = [
        shapely.LineString([(118.78 + 0.002 * i, 32.04), (118.78 + 0.002 * i, 32.05)])
        for i in range(20)
    ]
    lines.append(shapely.LineString([(118.80, 32.05), (0.0, 0.0)]))  # a digitising accident
    path = tmp_path / "stray.geojson"
    gpd.GeoDataFrame(geometry=lines, crs=4490).to_file(path)
    edges = read_centrelines(path)
    assert edges.crs == "EPSG:32650"


@pytest.mark.parametrize(
    ("column", "values", "expected"),
    [
        ("oneway", ["Yes", "是", "F", "1.0", "", "-1"], [1, 1, 2, 1, 2, -1]),
        ("direction", ["F", "T", "B", ""], [1, -1, 2, 2]),
    ],
)
def test_centreline_oneway_values(tmp_path: Path, column, values, expected):
    # Parallel streets 100 m apart, each joined to a cross street so the network is connected.
    lines = [
        shapely.LineString([(660_000.0 + 100 * i, 3_540_000.0), (660_000.0 + 100 * i, 3_540_200.0)])
        for i in range(len(values))
    ]
    path = tmp_path / "ow.gpkg"
    gpd.GeoDataFrame({column: values}, geometry=lines, crs=32650).to_file(path)
    edges = read_centrelines(path, mode="drive")
    for i, want in enumerate(expected):
        x = 660_000.0 + 100 * i
        on = np.flatnonzero(np.isclose(edges.x[edges.u], x, atol=0.01))
        ups = [bool(edges.y[edges.v[k]] > edges.y[edges.u[k]]) for k in on]
        if want == 2:
            assert sorted(ups) == [False, True], (column, values[i])
        else:
            assert ups == [want == 1], (column, values[i])


def test_gbk_shapefile_without_cpg_keeps_its_chinese_names(tmp_path: Path):
    lines = [
        shapely.LineString([(660_000.0, 3_540_000.0), (660_200.0, 3_540_000.0)]),
        shapely.LineString([(660_200.0, 3_540_000.0), (660_200.0, 3_540_200.0)]),
    ]
    shp = tmp_path / "道路.shp"
    gpd.GeoDataFrame({"名称": ["中山路", "北京东路"]}, geometry=lines, crs=32650).to_file(
        shp, encoding="gbk"
    )
    for cpg in tmp_path.glob("*.cpg"):
        cpg.unlink()  # ArcGIS often writes none
    net = load_network(shp)
    assert set(net.edge_attrs["name"]) == {"中山路", "北京东路"}
    assert any("GBK" in n for n in net.report.notes)


def test_chinese_road_classes_filter_modes_and_set_speeds(tmp_path: Path):
    x0, y0 = 660_000.0, 3_540_000.0
    classes = ["快速路", "主干路", "支路", "人行道"]
    # Four streets in a row, end to end, so each mode keeps one connected piece.
    lines = [shapely.LineString([(x0 + 200 * i, y0), (x0 + 200 * (i + 1), y0)]) for i in range(4)]
    path = tmp_path / "classes.gpkg"
    gpd.GeoDataFrame({"道路等级": classes}, geometry=lines, crs=32650).to_file(path)
    walk = read_centrelines(path, mode="walk")
    assert sorted(set(walk.attrs["highway"])) == ["footway", "primary", "residential"]
    drive = read_centrelines(path, mode="drive")
    assert "footway" not in set(drive.attrs["highway"])
    speed = dict(zip(drive.attrs["highway"], drive.attrs["speed_kph"], strict=True))
    assert speed["primary"] == settings.drive_speed_kph["primary"]
    assert speed["residential"] == settings.drive_speed_kph["residential"]


def test_zipped_shapefile_inside_a_folder(tmp_path: Path):
    lines = [
        shapely.LineString([(660_000.0, 3_540_000.0), (660_200.0, 3_540_000.0)]),
        shapely.LineString([(660_200.0, 3_540_000.0), (660_200.0, 3_540_200.0)]),
    ]
    folder = tmp_path / "道路中心线"
    folder.mkdir()
    gpd.GeoDataFrame({"name": ["甲路", "乙路"]}, geometry=lines, crs=32650).to_file(
        folder / "roads.shp"
    )
    archive = tmp_path / "roads.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, arcname=f"道路中心线/{f.name}")  # as Windows' "compressed folder" does
    net = load_network(archive)
    assert net.n_edges == 2 and net.length.sum() == pytest.approx(400.0)
    # Without its .shx the message says what to add.
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as zf:
        for f in folder.iterdir():
            if f.suffix != ".shx":
                zf.write(f, arcname=f"道路中心线/{f.name}")
    with pytest.raises(NetworkFormatError, match=r"without \.shx"):
        load_network(broken)


def _split_reference(lines):
    """The former (quadratic) splitting, kept as the oracle of the vectorised one."""
    import itertools

    coords, owner = shapely.get_coordinates(lines, return_index=True)
    keys = np.round(coords / 0.01).astype("int64")
    _, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    starts = np.r_[0, np.flatnonzero(np.diff(owner)) + 1]
    first = np.zeros(owner.size, dtype=bool)
    first[starts] = True
    last = np.zeros(owner.size, dtype=bool)
    last[np.r_[starts[1:] - 1, owner.size - 1]] = True
    shared = (counts[inverse] > 1) & ~first & ~last
    pieces, origin = [], []
    cut_lines = set(owner[shared].tolist())
    for i in range(lines.size):
        if i not in cut_lines:
            pieces.append(lines[i])
            origin.append(i)
            continue
        sel = owner == i
        pts = coords[sel]
        cut = np.flatnonzero(shared[sel])
        bounds = [0, *cut.tolist(), len(pts) - 1]
        for a, b in itertools.pairwise(bounds):
            if b > a:
                pieces.append(shapely.linestrings(pts[a : b + 1]))
                origin.append(i)
    return pieces, origin


@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=2, max_size=7),
        min_size=1,
        max_size=12,
    )
)
def test_splitting_at_shared_vertices_matches_the_reference(raw):
    from geo.centreline_topology import split_at_shared_vertices

    lines = np.array(
        [shapely.linestrings(np.array(pts, dtype=float) * 10.0) for pts in raw], dtype=object
    )
    pieces, origin, _ = split_at_shared_vertices(lines)
    ref_pieces, ref_origin = _split_reference(lines)
    assert list(origin) == ref_origin
    assert len(pieces) == len(ref_pieces)
    for a, b in zip(pieces, ref_pieces, strict=True):
        assert shapely.equals_exact(a, b, tolerance=0)


def _t_split_reference(lines, snap):
    """The former per-line loop (``shapely.ops.substring``), the oracle of the vectorised pieces."""
    import itertools

    from shapely.ops import substring

    from geo.centreline_topology import _line_bounds, node_clusters

    n = lines.size
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    first, last = _line_bounds(owner, n)
    ends = np.concatenate([coords[first], coords[last]])
    labels = node_clusters(ends, snap)
    count = np.bincount(labels)
    nx_ = np.bincount(labels, weights=ends[:, 0]) / count
    ny_ = np.bincount(labels, weights=ends[:, 1]) / count
    start_node, end_node = labels[:n], labels[n:]
    node_pts = shapely.points(nx_, ny_)
    hit_node, hit_line = shapely.STRtree(lines).query(node_pts, predicate="dwithin", distance=snap)
    at = shapely.line_locate_point(lines[hit_line], node_pts[hit_node])
    inside = (at > snap) & (at < shapely.length(lines)[hit_line] - snap)
    splits: dict[int, list] = {}
    for node, line, pos in zip(hit_node[inside], hit_line[inside], at[inside], strict=True):
        splits.setdefault(int(line), []).append((float(pos), int(node)))
    out = []
    for i in range(n):
        if i not in splits:
            continue
        line = lines[i]
        cuts = [(0.0, int(start_node[i])), *sorted(splits[i]), (line.length, int(end_node[i]))]
        for (p0, a), (p1, b) in itertools.pairwise(cuts):
            if p1 - p0 <= 0:
                continue
            c = shapely.get_coordinates(substring(line, p0, p1))
            c[0], c[-1] = (nx_[a], ny_[a]), (nx_[b], ny_[b])
            out.append((a, b, i, shapely.linestrings(c)))
    return out


@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 8), st.integers(0, 8)), min_size=2, max_size=6),
        min_size=1,
        max_size=10,
    ),
    st.sampled_from([0.5, 1.0, 3.0]),
)
def test_t_junction_pieces_match_the_former_loop(raw, snap):
    from geo.centreline_topology import build_topology

    lines = np.array(
        [shapely.linestrings(np.array(pts, dtype=float) * 5.0) for pts in raw], dtype=object
    )
    lines = lines[shapely.length(lines) > 0]
    if lines.size == 0:
        return
    topo = build_topology(lines, snap=snap, gap_hint=5.0)
    ref = _t_split_reference(lines, snap)
    split = np.isin(topo.src, [r[2] for r in ref])
    assert topo.n_split == len({r[2] for r in ref})
    got = list(
        zip(topo.u[split], topo.v[split], topo.src[split], topo.geometry[split], strict=True)
    )
    assert [(a, b, i) for a, b, i, _ in got] == [(a, b, i) for a, b, i, _ in ref]
    for (*_, g), (*_, r) in zip(got, ref, strict=True):
        assert shapely.equals_exact(g, r, tolerance=0)


def test_position_ids_survive_a_hash_collision(monkeypatch):
    from geo import centreline_topology as topo

    xy = np.array([[1.0, 2.0], [3.0, 2.0], [1.0, 2.0], [5.0, 6.0]])
    codes, rep = topo._position_ids(xy)
    assert codes.tolist() == [0, 1, 0, 2]
    assert rep.tolist() == [[1.0, 2.0], [3.0, 2.0], [5.0, 6.0]]
    # Keys from y alone collide for the first two positions: the exact pairs decide.
    monkeypatch.setattr(topo, "_KEY_MULTIPLIER", 0)
    codes, rep = topo._position_ids(xy)
    assert codes.tolist() == [0, 1, 0, 2]
    assert rep.tolist() == [[1.0, 2.0], [3.0, 2.0], [5.0, 6.0]]


def test_multipart_and_missing_geometries_are_read_from_the_arrow_table(tmp_path: Path):
    from geo.centrelines import _read_lines

    parts = [
        shapely.MultiLineString([[(0, 0), (100, 0)], [(100, 0), (100, 100)]]),
        shapely.LineString([(0, 0), (0, 100)]),
        None,
    ]
    path = tmp_path / "multi.gpkg"
    gpd.GeoDataFrame({"name": ["甲", "乙", "丙"]}, geometry=parts, crs=32650).to_file(path)
    gdf = _read_lines(path)
    assert gdf["name"].tolist() == ["甲", "甲", "乙"]
    assert set(gdf.geometry.geom_type) == {"LineString"}
    assert gdf.geometry.length.sum() == pytest.approx(300.0)
