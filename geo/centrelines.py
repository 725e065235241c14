"""Road centrelines (SHP, zipped SHP, GPKG, GeoJSON) as planning institutes hold them.

Centreline files are drawn, not routed: lines meet where their endpoints coincide (within
``settings.centreline_snap_m``), a street often ends on the middle of another one (a T-junction
with no shared vertex), and lines that cross without a shared endpoint are over- or underpasses
and must stay apart. So the topology is built from endpoints only: endpoints within the snap
distance become one node, and a line is split where another line's endpoint touches its interior.
Nodes with a single edge are dangling ends; those close to another line are reported as probable
digitising gaps.
"""

from __future__ import annotations

import itertools
import logging
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree
from shapely.ops import substring

from geo import settings
from geo.errors import EmptyNetworkError, NetworkFormatError
from geo.network import WGS84, utm_crs_for
from geo.osm_parse import (
    EdgeArrays,
    check_mode,
    default_speed_kph,
    maxspeed_kph,
    way_filter,
)

logger = logging.getLogger(__name__)

#: Columns read as the street name, first match wins (case-insensitive).
NAME_COLUMNS: tuple[str, ...] = ("name", "名称", "道路名称", "路名", "road_name", "roadname")
#: Columns read as an OSM-style road class, first match wins (case-insensitive).
CLASS_COLUMNS: tuple[str, ...] = ("highway", "fclass", "class", "type", "道路等级", "等级")


#: Chinese road classes (CJJ 37-2012 urban classes, highway administrative classes, common
#: survey names) as the OSM ``highway`` values the mode filters and drive speeds understand.
CHINESE_ROAD_CLASSES: dict[str, str] = {
    "高速公路": "motorway",
    "高速": "motorway",
    "快速路": "motorway",
    "城市快速路": "motorway",
    "匝道": "motorway_link",
    "国道": "trunk",
    "省道": "primary",
    "主干路": "primary",
    "主干道": "primary",
    "城市主干路": "primary",
    "县道": "secondary",
    "次干路": "secondary",
    "次干道": "secondary",
    "城市次干路": "secondary",
    "乡道": "tertiary",
    "支路": "residential",
    "城市支路": "residential",
    "街坊路": "residential",
    "小区道路": "service",
    "内部道路": "service",
    "村道": "unclassified",
    "步行街": "pedestrian",
    "人行道": "footway",
    "步行道": "footway",
    "绿道": "path",
    "自行车道": "cycleway",
    "非机动车道": "cycleway",
}


def road_class(value: object) -> str:
    """OSM ``highway`` value of a centreline's class (Chinese names translated, others kept)."""
    text = str(value).strip()
    return CHINESE_ROAD_CLASSES.get(text, text)


#: Columns that say whether a centreline is one-way (OSM, ArcGIS/NavInfo habits, Chinese names).
ONEWAY_COLUMNS: tuple[str, ...] = ("oneway", "one_way", "is_oneway", "单行", "单向", "direction")

# One-way values of centreline attribute tables, lower-cased. Boolean-style columns use T/F, Y/N,
# 1/0, 是/否; NavInfo/NAVTEQ-style direction columns use F (digitised direction), T (against it)
# and B (both) — only in a column named "direction".
_ONEWAY_TRUE = frozenset({"yes", "y", "true", "t", "1", "1.0", "是", "单行", "单向"})
_ONEWAY_REVERSE = frozenset({"-1", "-1.0", "reverse", "逆向"})


def _oneway_flags(
    values: np.ndarray, *, column: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(one-way in the drawn direction, one-way against it)`` per line."""
    text = [str(v).strip().lower() for v in values]
    if column is not None and column.lower() == "direction":
        fwd = np.array([t in {"f", "2", "ft"} for t in text], dtype=bool)
        rev = np.array([t in {"t", "3", "tf"} for t in text], dtype=bool)
        return fwd, rev
    fwd = np.array([t in _ONEWAY_TRUE for t in text], dtype=bool)
    rev = np.array([t in _ONEWAY_REVERSE for t in text], dtype=bool)
    return fwd, rev


def _split_at_shared_vertices(
    lines: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Split lines at interior vertices that another line (or the same line) also passes through.

    CAD-style centrelines often draw a street as one line through its junctions; a vertex shared
    by two lines is where they meet. Returns the pieces, the index of each piece's source line
    and the number of junction positions found.
    """
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    if coords.size == 0:
        return lines, np.arange(lines.size), 0
    # Positions within 1 cm are one position.
    keys = np.round(coords / 0.01).astype("int64")
    _, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    starts = np.r_[0, np.flatnonzero(np.diff(owner)) + 1]
    first = np.zeros(owner.size, dtype=bool)
    first[starts] = True
    last = np.zeros(owner.size, dtype=bool)
    last[np.r_[starts[1:] - 1, owner.size - 1]] = True
    shared = (counts[inverse] > 1) & ~first & ~last
    if not shared.any():
        return lines, np.arange(lines.size), 0
    # Vectorised (linear time): every shared interior vertex ends one piece and starts the next,
    # so it is written twice and a piece number runs over the coordinates.
    cut = np.zeros(lines.size, dtype=bool)
    cut[owner[shared]] = True
    keep = cut[owner]
    c, o, sh, fi = coords[keep], owner[keep], shared[keep], first[keep]
    repeat = 1 + sh.astype("int64")
    at = np.cumsum(repeat) - repeat  # where each vertex's first copy lands
    begins = np.zeros(int(repeat.sum()), dtype=bool)
    begins[at[fi]] = True
    begins[at[sh] + 1] = True
    piece = np.cumsum(begins) - 1
    cut_pieces = shapely.linestrings(np.repeat(c, repeat, axis=0), indices=piece)
    cut_origin = np.repeat(o, repeat)[begins]
    whole = np.flatnonzero(~cut)
    origin_all = np.concatenate([whole, cut_origin])
    order = np.argsort(origin_all, kind="stable")
    pieces = np.concatenate([lines[whole], cut_pieces]).astype(object)[order]
    origin = origin_all[order]
    n_junctions = int(np.unique(inverse[shared]).size)
    return pieces, origin.astype("int64"), n_junctions


def _crossings_without_vertex(lines: np.ndarray) -> int:
    """Pairs of lines that cross in their interiors (no shared vertex there)."""
    if lines.size < 2:
        return 0
    tree = shapely.STRtree(lines)
    a, b = tree.query(lines)
    keep = a < b
    a, b = a[keep], b[keep]
    # Lines meeting at an end (most neighbours in a street layer) cannot cross: skip the costly
    # predicate for them and test only the rest.
    ends = np.round(
        np.stack(
            [
                shapely.get_coordinates(shapely.get_point(lines, 0)),
                shapely.get_coordinates(shapely.get_point(lines, -1)),
            ],
            axis=1,
        )
        / 0.01
    ).astype("int64")
    ea, eb = ends[a], ends[b]
    meet = np.zeros(a.size, dtype=bool)
    for i in (0, 1):
        for j in (0, 1):
            meet |= (ea[:, i] == eb[:, j]).all(axis=1)
    a, b = a[~meet], b[~meet]
    return int(shapely.crosses(lines[a], lines[b]).sum())


def _pick(columns: pd.Index, wanted: tuple[str, ...]) -> str | None:
    lower = {str(c).lower(): c for c in columns}
    for w in wanted:
        if w.lower() in lower:
            return str(lower[w.lower()])
    return None


def _looks_misdecoded(gdf: gpd.GeoDataFrame) -> bool:
    """True when text attributes look like GBK bytes read as Latin-1.

    That is: accented Latin letters and no CJK character at all.
    """
    texts = [
        str(v)
        for col in gdf.columns
        if col != gdf.geometry.name and gdf[col].dtype == object
        for v in gdf[col].dropna().head(200)
    ]
    texts += [str(c) for c in gdf.columns]
    joined = "".join(texts)
    latin1 = sum(0x80 <= ord(ch) <= 0xFF for ch in joined)
    cjk = sum(ord(ch) > 0x2E80 for ch in joined)
    return latin1 >= 2 and cjk == 0


def _read_lines(path: Path) -> gpd.GeoDataFrame:
    """Read the first line layer of a vector file as exploded 2-D LineStrings."""
    if path.stat().st_size == 0:
        msg = f"{path.name}: the file is empty. Export the centrelines again (SHP/GPKG/GeoJSON)."
        raise NetworkFormatError(msg)
    source: str | Path = path
    if path.suffix.lower() == ".zip":
        # The shapefile may sit in a folder inside the zip (Windows "send to compressed folder").
        from geo.errors import InputDataError
        from geo.tables import zip_member

        try:
            source, _ = zip_member(path, path.name, [])
        except InputDataError as exc:
            raise NetworkFormatError(str(exc)) from exc
    try:
        layers = pyogrio.list_layers(source)
    except Exception as exc:  # GDAL raises DataSourceError, OSError... for unreadable files
        msg = (
            f"{path.name}: not a readable vector file ({type(exc).__name__}: {exc}). Give road "
            "centrelines as SHP (with .shx/.dbf/.prj, or zipped), GPKG or GeoJSON."
        )
        raise NetworkFormatError(msg) from exc
    # An attribute table (no geometry column) reports its type as None; a layer with geometry
    # comes first, so a GPKG holding the streets and a table of names reads the streets.
    line_layers = sorted(
        (str(name) for name, gtype in layers if gtype is None or "Line" in str(gtype)),
        key=lambda name: dict(layers.tolist()).get(name) is None,
    )
    if not line_layers:
        found = ", ".join(f"{name} ({gtype})" for name, gtype in layers) or "no layers"
        msg = (
            f"{path.name}: no line layer (found {found}). Road centrelines must be lines; "
            "export the street layer, not points or polygons."
        )
        raise NetworkFormatError(msg)
    try:
        with warnings.catch_warnings():
            # NaN coordinates warn in shapely; they are reported by feature below instead.
            warnings.simplefilter("ignore", RuntimeWarning)
            gdf = gpd.read_file(source, layer=line_layers[0])
        if isinstance(gdf, gpd.GeoDataFrame) and _looks_misdecoded(gdf):
            # A shapefile's .dbf written in GBK without a .cpg is read as Latin-1 ("ÖÐÉ½Â·"
            # for 中山路): read it again as GB18030 (a superset of GBK).
            gdf = gpd.read_file(source, layer=line_layers[0], encoding="gb18030")
            gdf.attrs["lcc_note"] = "attribute text read as GBK/GB18030 (no .cpg file)"
    except Exception as exc:
        msg = f"{path.name}: unreadable layer {line_layers[0]!r} ({type(exc).__name__}: {exc})"
        raise NetworkFormatError(msg) from exc
    if not isinstance(gdf, gpd.GeoDataFrame):
        msg = (
            f"{path.name}: layer {line_layers[0]!r} is an attribute table without geometry "
            f"(columns {', '.join(map(str, gdf.columns[:8]))}). Road centrelines must be a line "
            "layer; export the street layer itself from your GIS."
        )
        raise NetworkFormatError(msg)
    if len(line_layers) > 1:
        logger.warning(
            "%s: %d line layers (%s); using the first, %r",
            path.name,
            len(line_layers),
            ", ".join(line_layers),
            line_layers[0],
        )
        gdf.attrs["lcc_note"] = (
            f"{len(line_layers)} line layers in the file; used {line_layers[0]!r}"
        )
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    _check_coordinates(path, gdf)
    gdf = gdf.explode(index_parts=False, ignore_index=True)
    gdf = gdf[gdf.geometry.geom_type == "LineString"]
    if gdf.empty:
        msg = (
            f"{path.name}: layer {line_layers[0]!r} holds no line geometries. Road centrelines "
            "must be LineStrings or MultiLineStrings."
        )
        raise NetworkFormatError(msg)
    gdf = gdf.set_geometry(shapely.force_2d(gdf.geometry.to_numpy()), crs=gdf.crs)
    if gdf.crs is None:
        minx, miny, maxx, maxy = gdf.total_bounds
        if -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90:
            logger.warning("%s: no CRS; coordinates look like degrees, assuming WGS-84", path.name)
            gdf = gdf.set_crs(WGS84)
        else:
            msg = (
                f"{path.name}: the coordinate system is unknown (no .prj / CRS) and coordinates "
                f"{tuple(round(b, 1) for b in gdf.total_bounds)} are not degrees. Add the .prj "
                "file (or set the CRS in QGIS) and export again."
            )
            raise NetworkFormatError(msg)
    return gdf.reset_index(drop=True)


def _check_coordinates(path: Path, gdf: gpd.GeoDataFrame) -> None:
    """Raise naming the features whose coordinates are not finite (or not degrees in WGS-84)."""
    coords, owner = shapely.get_coordinates(gdf.geometry.to_numpy(), return_index=True)
    bad = ~np.isfinite(coords).all(axis=1)
    what = "NaN or infinite coordinates"
    if not bad.any() and gdf.crs is not None and gdf.crs.is_geographic:
        bad = (np.abs(coords[:, 0]) > 180) | (np.abs(coords[:, 1]) > 90)
        what = "longitudes beyond ±180 or latitudes beyond ±90 degrees"
    if bad.any():
        rows = np.unique(np.asarray(gdf.index)[owner[bad]]) + 1
        shown = ", ".join(str(r) for r in rows[:5].tolist())
        more = f" and {rows.size - 5:,} more" if rows.size > 5 else ""
        msg = (
            f"{path.name}: feature {shown}{more} (counting from 1) has {what}. Fix or delete "
            "those lines in your GIS and export the centrelines again."
        )
        raise NetworkFormatError(msg)


def _node_clusters(points: np.ndarray, snap_m: float) -> np.ndarray:
    """Label endpoints so that points within ``snap_m`` (transitively) share a label."""
    pairs = cKDTree(points).query_pairs(r=snap_m, output_type="ndarray")
    n = points.shape[0]
    adj = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = csgraph.connected_components(adj, directed=False)
    return labels


def read_centrelines(
    path: str | Path, *, mode: str = "walk", snap_m: float | None = None
) -> EdgeArrays:
    """Build network edges from a centreline file.

    Parameters
    ----------
    path
        ``.shp``, ``.zip`` (zipped shapefile), ``.gpkg``, ``.geojson``/``.json``.
    mode
        Travel mode. When the file has an OSM-style class column (``highway``/``fclass``) the
        mode's tag filter applies; otherwise every line is used. Drive edges are directed: both
        ways unless a ``oneway`` column says otherwise.
    snap_m
        Endpoints closer than this are one node; default ``settings.centreline_snap_m``.

    Returns
    -------
    EdgeArrays
        In the local UTM zone, with ``dangling_ends`` counted on the full topology.
    """
    path = Path(path)
    check_mode(mode)
    snap = float(settings.centreline_snap_m if snap_m is None else snap_m)
    gdf = _read_lines(path)
    n_read = len(gdf)
    notes: list[str] = [gdf.attrs["lcc_note"]] if "lcc_note" in gdf.attrs else []
    name_col = _pick(gdf.columns, NAME_COLUMNS)
    class_col = _pick(gdf.columns, CLASS_COLUMNS)
    oneway_col = _pick(gdf.columns, ONEWAY_COLUMNS)
    if class_col is not None:
        accept = way_filter(mode)
        extra = [c for c in gdf.columns if c not in (gdf.geometry.name,)]
        values = gdf[extra].astype("string").fillna("")
        # The filter depends only on the attribute values: judge each distinct combination once
        # (a city layer of millions of lines has a few hundred), then map back.
        key = pd.MultiIndex.from_frame(values) if len(extra) > 1 else pd.Index(values[extra[0]])
        codes, distinct = pd.factorize(key)
        distinct_rows = (
            pd.DataFrame(list(distinct), columns=extra)
            if len(extra) > 1
            else pd.DataFrame({extra[0]: list(distinct)})
        )
        verdict = np.array(
            [
                accept(
                    {
                        **{k: v for k, v in r.items() if v},
                        "highway": road_class(r[class_col]) if r[class_col] else "road",
                    }
                )
                for r in distinct_rows.to_dict("records")
            ],
            dtype=bool,
        )
        ok = verdict[codes]
        notes.append(f"{int(ok.sum()):,} of {n_read:,} lines usable for mode {mode} ({class_col})")
        gdf = gdf[ok].reset_index(drop=True)
    else:
        notes.append(f"{n_read:,} lines; no road-class column, all used for mode {mode}")
    if gdf.empty:
        msg = (
            f"{path.name}: none of the {n_read:,} lines is usable for mode {mode!r} by its "
            f"{class_col!r} values. Choose another mode or fix the road classes."
        )
        raise EmptyNetworkError(msg)

    # The UTM zone from the median of the line ends: one stray vertex (at 0,0, say) must not move
    # the whole network into a far zone, as the centroid of all geometry would.
    # A sample of line ends is enough for a median, and far cheaper than reprojecting every line.
    native = gdf.geometry.to_numpy()[~gdf.geometry.is_empty.to_numpy()]
    native = native[:: max(1, native.size // 20_000)]
    sample = np.vstack(
        [
            shapely.get_coordinates(shapely.get_point(native, 0)),
            shapely.get_coordinates(shapely.get_point(native, -1)),
        ]
    )
    ends_wgs = gpd.GeoSeries(shapely.points(sample), crs=gdf.crs).to_crs(WGS84).get_coordinates()
    ends_wgs = ends_wgs.to_numpy()
    if ends_wgs.size == 0:
        msg = f"{path.name}: every line is empty or has zero length; export the centrelines again"
        raise EmptyNetworkError(msg)
    crs = utm_crs_for(float(np.median(ends_wgs[:, 0])), float(np.median(ends_wgs[:, 1])))
    lines = gdf.to_crs(crs).geometry.to_numpy()
    lengths = shapely.length(lines)
    keep = lengths > 0
    lines, lengths, gdf = lines[keep], lengths[keep], gdf[keep].reset_index(drop=True)
    lines, origin, n_shared = _split_at_shared_vertices(lines)
    if n_shared:
        gdf = gdf.iloc[origin].reset_index(drop=True)
        lengths = shapely.length(lines)
        notes.append(
            f"{n_shared:,} junctions inside lines (a vertex shared with another line) were joined"
        )
    n_cross = _crossings_without_vertex(lines)
    if n_cross:
        notes.append(
            f"{n_cross:,} places where lines cross without a shared vertex are kept apart "
            "(taken for bridges or underpasses); add a vertex where streets really meet"
        )
    n = lines.size

    # Endpoint clusters become nodes (cluster mean as the node position).
    ends = np.vstack(
        [
            shapely.get_coordinates(shapely.get_point(lines, 0)),
            shapely.get_coordinates(shapely.get_point(lines, -1)),
        ]
    )
    labels = _node_clusters(ends, snap)
    n_nodes = int(labels.max()) + 1
    count = np.bincount(labels, minlength=n_nodes)
    nx_ = np.bincount(labels, weights=ends[:, 0], minlength=n_nodes) / count
    ny_ = np.bincount(labels, weights=ends[:, 1], minlength=n_nodes) / count
    start_node, end_node = labels[:n], labels[n:]

    # T-junctions: a node touching the interior of a line splits that line.
    node_pts = shapely.points(nx_, ny_)
    tree = shapely.STRtree(lines)
    hit_node, hit_line = tree.query(node_pts, predicate="dwithin", distance=snap)
    at = shapely.line_locate_point(lines[hit_line], node_pts[hit_node])
    interior = (at > snap) & (at < lengths[hit_line] - snap)
    splits: dict[int, list[tuple[float, int]]] = {}
    for node, line, pos in zip(
        hit_node[interior].tolist(),
        hit_line[interior].tolist(),
        at[interior].tolist(),
        strict=True,
    ):
        splits.setdefault(line, []).append((pos, node))
    n_split = len(splits)

    # Lines without a T-junction inside stay whole: their ends move onto their nodes in one
    # vectorised step; only split lines go through the loop below.
    whole = np.ones(n, dtype=bool)
    whole[list(splits)] = False
    widx = np.flatnonzero(whole)
    us: list[int] = start_node[widx].tolist()
    vs: list[int] = end_node[widx].tolist()
    geoms: list[shapely.LineString] = []
    src: list[int] = widx.tolist()
    if widx.size:
        coords_w, owner_w = shapely.get_coordinates(lines[widx], return_index=True)
        first_w = np.r_[0, np.flatnonzero(np.diff(owner_w)) + 1]
        last_w = np.r_[first_w[1:] - 1, owner_w.size - 1]
        coords_w[first_w] = np.column_stack([nx_[start_node[widx]], ny_[start_node[widx]]])
        coords_w[last_w] = np.column_stack([nx_[end_node[widx]], ny_[end_node[widx]]])
        geoms = list(shapely.linestrings(coords_w, indices=owner_w))
    for i in np.flatnonzero(~whole).tolist():
        line = lines[i]
        stops = sorted(splits.get(i, []))
        cuts = [(0.0, int(start_node[i])), *stops, (float(line.length), int(end_node[i]))]
        for (p0, a), (p1, b) in itertools.pairwise(cuts):
            if p1 - p0 <= 0:
                continue
            piece = line if len(cuts) == 2 else substring(line, p0, p1)
            coords = shapely.get_coordinates(piece)
            # Move the piece's ends onto its nodes (at most the snap distance).
            coords[0] = (nx_[a], ny_[a])
            coords[-1] = (nx_[b], ny_[b])
            us.append(a)
            vs.append(b)
            geoms.append(shapely.linestrings(coords))
            src.append(i)
    u = np.asarray(us, dtype="int64")
    v = np.asarray(vs, dtype="int64")
    geometry = np.asarray(geoms, dtype=object)
    src_arr = np.asarray(src, dtype="int64")

    degree = np.bincount(np.concatenate([u, v]), minlength=n_nodes)
    dangling = np.flatnonzero(degree == 1)
    hint = settings.centreline_gap_hint_m
    near_gap = 0
    if dangling.size:
        # A dangling end close to a line it does not belong to looks like a digitising gap.
        d_idx, l_idx = tree.query(node_pts[dangling], predicate="dwithin", distance=hint)
        own = (start_node[l_idx] == dangling[d_idx]) | (end_node[l_idx] == dangling[d_idx])
        near_gap = int(np.unique(d_idx[~own]).size)
    notes.append(
        f"topology: {n:,} lines → {u.size:,} edges, {n_nodes:,} nodes; {n_split:,} lines split "
        f"at T-junctions; {dangling.size:,} dangling ends"
    )
    if near_gap:
        notes.append(
            f"{near_gap:,} dangling ends lie within {hint:g} m of another line: probable "
            f"digitising gaps (raise settings.centreline_snap_m above {snap:g} m to join them)"
        )

    names = (
        gdf[name_col].astype("string").fillna("").to_numpy(dtype=object)
        if name_col
        else np.full(n, "", dtype=object)
    )
    classes = (
        np.array([road_class(v) for v in gdf[class_col].astype("string").fillna("")], dtype=object)
        if class_col
        else np.full(n, "", dtype=object)
    )
    attrs: dict[str, np.ndarray] = {"highway": classes[src_arr], "name": names[src_arr]}
    if mode == "drive":
        ow_vals = (
            gdf[oneway_col].astype("string").fillna("").to_numpy(dtype=object)
            if oneway_col
            else np.full(n, "", dtype=object)
        )
        fwd_flags, rev_flags = _oneway_flags(ow_vals, column=oneway_col)
        oneway = (fwd_flags | rev_flags)[src_arr]
        rev = rev_flags[src_arr]
        # Reverse pieces drawn against the one-way direction; add the way back on two-way lines.
        geometry = np.where(rev & oneway, shapely.reverse(geometry), geometry)
        u, v = np.where(rev & oneway, v, u), np.where(rev & oneway, u, v)
        two = ~oneway
        u, v = np.concatenate([u, v[two]]), np.concatenate([v, u[two]])
        geometry = np.concatenate([geometry, shapely.reverse(geometry[two])])
        src_arr = np.concatenate([src_arr, src_arr[two]])
        oneway = np.concatenate([oneway, oneway[two]])
        maxcol = _pick(gdf.columns, ("maxspeed", "speed", "限速"))
        speeds = np.array(
            [
                (maxspeed_kph(gdf[maxcol].iloc[i]) if maxcol else None)
                or default_speed_kph(classes[i] or None)
                for i in range(n)
            ],
            dtype="float64",
        )
        attrs = {
            "highway": classes[src_arr],
            "name": names[src_arr],
            "oneway": oneway,
            "speed_kph": speeds[src_arr],
            "travel_time_s": shapely.length(geometry) / (speeds[src_arr] / 3.6),
        }
    logger.info("%s: %s", path.name, "; ".join(notes))
    return EdgeArrays(
        x=nx_,
        y=ny_,
        node_ids=np.arange(n_nodes, dtype="int64"),
        u=u,
        v=v,
        geometry=geometry,
        crs=crs,
        source=path.name,
        attrs=attrs,
        bounds=None,
        notes=tuple(notes),
        dangling_ends=int(dangling.size),
    )
