"""Road centrelines (SHP, zipped SHP, GPKG, GeoJSON) as planning institutes hold them.

Centreline files are drawn, not routed: lines meet where their endpoints coincide (within
``settings.centreline_snap_m``), a street often ends on the middle of another one (a T-junction
with no shared vertex), and lines that cross without a shared endpoint are over- or underpasses
and must stay apart. So the topology is built from endpoints only: endpoints within the snap
distance become one node, and a line is split where another line's endpoint touches its interior.
Nodes with a single edge are dangling ends; those close to another line are reported as probable
digitising gaps.

This module reads the layer (through Arrow, so a city layer of millions of lines reads in
seconds), applies the travel mode's class filter and the one-way columns; the topology itself is
built in :mod:`geo.centreline_topology`.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import shapely

from geo import settings
from geo.centreline_topology import Topology, build_topology, split_at_shared_vertices
from geo.errors import EmptyNetworkError, NetworkFormatError
from geo.messages import msg
from geo.network import WGS84, utm_crs_for
from geo.osm_parse import (
    EdgeArrays,
    check_mode,
    default_speed_kph,
    maxspeed_kph,
    way_filter,
)

logger = logging.getLogger(__name__)

__all__ = [
    "CHINESE_ROAD_CLASSES",
    "CLASS_COLUMNS",
    "NAME_COLUMNS",
    "ONEWAY_COLUMNS",
    "read_centrelines",
    "road_class",
]

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
# 1/0 or yes/no in Chinese; NavInfo/NAVTEQ-style direction columns use F (digitised direction),
# T (against it) and B (both) — only in a column named "direction".
_ONEWAY_TRUE = frozenset({"yes", "y", "true", "t", "1", "1.0", "是", "单行", "单向"})
_ONEWAY_REVERSE = frozenset({"-1", "-1.0", "reverse", "逆向"})


def _oneway_flags(
    values: np.ndarray, *, column: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(one-way in the drawn direction, one-way against it)`` per line."""
    # Judge each distinct value once (a layer of millions of lines has a handful).
    codes, distinct = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=False)
    text = [str(v).strip().lower() for v in distinct]
    if column is not None and column.lower() == "direction":
        fwd = np.array([t in {"f", "2", "ft"} for t in text], dtype=bool)
        rev = np.array([t in {"t", "3", "tf"} for t in text], dtype=bool)
    else:
        fwd = np.array([t in _ONEWAY_TRUE for t in text], dtype=bool)
        rev = np.array([t in _ONEWAY_REVERSE for t in text], dtype=bool)
    return fwd[codes], rev[codes]


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


def _open_source(path: Path) -> str | Path:
    """The file (or the shapefile inside a zip) GDAL should open."""
    if path.stat().st_size == 0:
        raise NetworkFormatError(msg("geo.centrelines.empty_file", file=path.name))
    if path.suffix.lower() != ".zip":
        return path
    # The shapefile may sit in a folder inside the zip (Windows "send to compressed folder").
    from geo.errors import InputDataError
    from geo.tables import zip_member

    try:
        source, _ = zip_member(path, path.name, [])
    except InputDataError as exc:
        raise NetworkFormatError(exc.args[0]) from exc
    return source


def _line_layers(path: Path, source: str | Path) -> list[str]:
    """Names of the layers that may hold lines, those with geometry first."""
    try:
        layers = pyogrio.list_layers(source)
    except Exception as exc:  # GDAL raises DataSourceError, OSError... for unreadable files
        raise NetworkFormatError(
            msg("geo.centrelines.unreadable", file=path.name, error=_error_text(exc))
        ) from exc
    # An attribute table (no geometry column) reports its type as None; a layer with geometry
    # comes first, so a GPKG holding the streets and a table of names reads the streets.
    kinds = dict(layers.tolist())
    line_layers = sorted(
        (str(name) for name, gtype in layers if gtype is None or "Line" in str(gtype)),
        key=lambda name: kinds.get(name) is None,
    )
    if not line_layers:
        found = ", ".join(f"{name} ({gtype})" for name, gtype in layers)
        raise NetworkFormatError(
            msg(
                "geo.centrelines.no_line_layer",
                file=path.name,
                found=found or msg("geo.centrelines.no_layers"),
            )
        )
    return line_layers


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _read_frame(source: str | Path, layer: str) -> gpd.GeoDataFrame:
    """Read a layer through Arrow (columnar, no per-feature Python work) where GDAL can."""
    try:
        return _read_arrow_frame(source, layer)
    except (pyogrio.errors.DataSourceError, UnicodeDecodeError) as exc:
        if not isinstance(exc, UnicodeDecodeError) and "UTF-8" not in str(exc):
            raise
        # GDAL's Arrow reader takes UTF-8 text only; its row reader decodes the rest.
        return gpd.read_file(source, layer=layer, engine="pyogrio")


def _read_arrow_frame(source: str | Path, layer: str) -> gpd.GeoDataFrame:
    meta, table = pyogrio.read_arrow(source, layer=layer)
    name = meta["geometry_name"] or "wkb_geometry"
    dated = any(str(d).startswith("datetime") for d in meta["dtypes"] if d is not None)
    if dated or name not in table.column_names:
        # pyogrio's own conversion parses date-times and returns tables without geometry.
        del table
        return gpd.read_file(source, layer=layer, engine="pyogrio", use_arrow=True)
    # WKB straight from the Arrow column: pandas' conversion of a binary column would make a
    # bytes object per row first, which costs more than parsing the geometries.
    chunks = [c.storage if isinstance(c, pa.ExtensionArray) else c for c in table[name].chunks]
    wkb = np.concatenate([c.to_numpy(zero_copy_only=False) for c in chunks] or [[]])
    geoms = shapely.from_wkb(wkb.astype(object, copy=False))
    frame = table.drop_columns([name]).to_pandas()
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=meta["crs"])


def _read_layer(path: Path, source: str | Path, layer: str) -> gpd.GeoDataFrame:
    """Read one layer, its text decoded as GBK when it looks misdecoded."""
    try:
        with warnings.catch_warnings():
            # NaN coordinates warn in shapely; they are reported by feature below instead.
            warnings.simplefilter("ignore", RuntimeWarning)
            gdf = _read_frame(source, layer)
            if isinstance(gdf, gpd.GeoDataFrame) and _looks_misdecoded(gdf):
                # A shapefile's .dbf written in GBK without a .cpg is read as Latin-1 ("ÖÐÉ½Â·"
                # for the Chinese street name): read it again as GB18030 (a superset of GBK).
                # (GDAL's Arrow reader takes UTF-8 only.)
                gdf = gpd.read_file(source, layer=layer, engine="pyogrio", encoding="gb18030")
                gdf.attrs["lcc_note"] = msg("geo.centrelines.note_gbk")
    except Exception as exc:
        raise NetworkFormatError(
            msg(
                "geo.centrelines.unreadable_layer",
                file=path.name,
                layer=layer,
                error=_error_text(exc),
            )
        ) from exc
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise NetworkFormatError(
            msg(
                "geo.centrelines.attribute_table",
                file=path.name,
                layer=layer,
                columns=", ".join(map(str, gdf.columns[:8])),
            )
        )
    return gdf


def _read_lines(path: Path) -> gpd.GeoDataFrame:
    """Read the first line layer of a vector file as 2-D LineStrings (multi-parts exploded)."""
    source = _open_source(path)
    line_layers = _line_layers(path, source)
    gdf = _read_layer(path, source, line_layers[0])
    if len(line_layers) > 1:
        logger.warning(
            "%s: %d line layers (%s); using the first, %r",
            path.name,
            len(line_layers),
            ", ".join(line_layers),
            line_layers[0],
        )
        gdf.attrs["lcc_note"] = msg(
            "geo.centrelines.note_layers", n=len(line_layers), layer=line_layers[0]
        )
    geoms = gdf.geometry.to_numpy()
    gdf = gdf[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)]
    _check_coordinates(path, gdf)
    # Most layers hold only LineStrings: then exploding and dropping Z would only copy them.
    if (shapely.get_type_id(gdf.geometry.to_numpy()) != 1).any():
        gdf = gdf.explode(index_parts=False, ignore_index=True)
        gdf = gdf[gdf.geometry.geom_type == "LineString"]
    if gdf.empty:
        raise NetworkFormatError(
            msg("geo.centrelines.no_lines", file=path.name, layer=line_layers[0])
        )
    if shapely.has_z(gdf.geometry.to_numpy()).any():
        gdf = gdf.set_geometry(shapely.force_2d(gdf.geometry.to_numpy()), crs=gdf.crs)
    if gdf.crs is None:
        minx, miny, maxx, maxy = gdf.total_bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise NetworkFormatError(
                msg(
                    "geo.centrelines.unknown_crs",
                    file=path.name,
                    bounds=tuple(round(b, 1) for b in gdf.total_bounds),
                )
            )
        logger.warning("%s: no CRS; coordinates look like degrees, assuming WGS-84", path.name)
        gdf = gdf.set_crs(WGS84)
    return gdf.reset_index(drop=True)


def _check_coordinates(path: Path, gdf: gpd.GeoDataFrame) -> None:
    """Raise naming the features whose coordinates are not finite (or not degrees in WGS-84)."""
    coords, owner = shapely.get_coordinates(gdf.geometry.to_numpy(), return_index=True)
    bad = ~np.isfinite(coords).all(axis=1)
    what = msg("geo.centrelines.nan_coordinates")
    if not bad.any() and gdf.crs is not None and gdf.crs.is_geographic:
        bad = (np.abs(coords[:, 0]) > 180) | (np.abs(coords[:, 1]) > 90)
        what = msg("geo.centrelines.not_degrees")
    if bad.any():
        rows = np.unique(np.asarray(gdf.index)[owner[bad]]) + 1
        raise NetworkFormatError(
            msg(
                "geo.centrelines.bad_coordinates",
                file=path.name,
                rows=", ".join(str(r) for r in rows[:5].tolist()),
                more=msg("geo.centrelines.and_more", n=rows.size - 5) if rows.size > 5 else "",
                what=what,
            )
        )


def _usable_for_mode(gdf: gpd.GeoDataFrame, mode: str, class_col: str) -> np.ndarray:
    """Mask of the lines the mode's tag filter accepts (by their attribute values)."""
    accept = way_filter(mode)
    extra = [c for c in gdf.columns if c != gdf.geometry.name]
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
    return verdict[codes]


def _filter_mode(
    path: Path, gdf: gpd.GeoDataFrame, mode: str
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """The lines usable for ``mode`` and the notes saying how many."""
    n_read = len(gdf)
    notes: list[str] = [gdf.attrs["lcc_note"]] if "lcc_note" in gdf.attrs else []
    class_col = _pick(gdf.columns, CLASS_COLUMNS)
    if class_col is not None:
        ok = _usable_for_mode(gdf, mode, class_col)
        notes.append(
            msg(
                "geo.centrelines.note_usable",
                n=int(ok.sum()),
                total=n_read,
                mode=mode,
                column=class_col,
            )
        )
        if not ok.all():
            gdf = gdf[ok].reset_index(drop=True)
    else:
        notes.append(msg("geo.centrelines.note_no_class", n=n_read, mode=mode))
    if gdf.empty:
        raise EmptyNetworkError(
            msg(
                "geo.centrelines.none_usable",
                file=path.name,
                n=n_read,
                mode=mode,
                column=str(class_col),
            )
        )
    return gdf, notes


def _to_utm(path: Path, gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, str]:
    """The lines in their local UTM zone, zero-length lines left out."""
    # The UTM zone from the median of the line ends: one stray vertex (at 0,0, say) must not move
    # the whole network into a far zone, as the centroid of all geometry would.
    # A sample of line ends is enough for a median, and far cheaper than reprojecting every line.
    native = gdf.geometry.to_numpy()
    native = native[~shapely.is_empty(native)]
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
        raise EmptyNetworkError(msg("geo.centrelines.all_empty", file=path.name))
    crs = utm_crs_for(float(np.median(ends_wgs[:, 0])), float(np.median(ends_wgs[:, 1])))
    gdf = gdf.to_crs(crs)
    keep = shapely.length(gdf.geometry.to_numpy()) > 0
    if not keep.all():
        gdf = gdf[keep].reset_index(drop=True)
    return gdf, crs


def _text_column(gdf: gpd.GeoDataFrame, column: str | None) -> np.ndarray:
    """A column as Python strings (missing values as ``""``); all ``""`` without the column."""
    if column is None:
        return np.full(len(gdf), "", dtype=object)
    return gdf[column].astype("string").fillna("").to_numpy(dtype=object)


def _drive_attrs(
    gdf: gpd.GeoDataFrame,
    topo: Topology,
    classes: np.ndarray,
    names: np.ndarray,
) -> tuple[Topology, dict[str, np.ndarray]]:
    """Directed drive edges (one-way columns honoured, the way back added) and their speeds."""
    oneway_col = _pick(gdf.columns, ONEWAY_COLUMNS)
    fwd_flags, rev_flags = _oneway_flags(_text_column(gdf, oneway_col), column=oneway_col)
    src, geometry, u, v = topo.src, topo.geometry, topo.u, topo.v
    oneway = (fwd_flags | rev_flags)[src]
    rev = rev_flags[src] & oneway
    # Reverse pieces drawn against the one-way direction; add the way back on two-way lines.
    geometry = np.where(rev, shapely.reverse(geometry), geometry)
    u, v = np.where(rev, v, u), np.where(rev, u, v)
    two = ~oneway
    u, v = np.concatenate([u, v[two]]), np.concatenate([v, u[two]])
    geometry = np.concatenate([geometry, shapely.reverse(geometry[two])])
    src = np.concatenate([src, src[two]])
    oneway = np.concatenate([oneway, oneway[two]])
    maxcol = _pick(gdf.columns, ("maxspeed", "speed", "限速"))
    # Judge each distinct limit and class once: a city layer has a few dozen.
    raw = gdf[maxcol].to_numpy(dtype=object) if maxcol else np.full(len(gdf), None, dtype=object)
    lim_codes, limits = pd.factorize(raw, use_na_sentinel=False)
    limit = np.array([maxspeed_kph(x) or np.nan for x in limits], dtype="float64")[lim_codes]
    cls_codes, distinct = pd.factorize(classes)
    default = np.array([default_speed_kph(c or None) for c in distinct], dtype="float64")
    speeds = np.where(np.isnan(limit), default[cls_codes], limit)
    attrs = {
        "highway": classes[src],
        "name": names[src],
        "oneway": oneway,
        "speed_kph": speeds[src],
        "travel_time_s": shapely.length(geometry) / (speeds[src] / 3.6),
    }
    return replace(topo, u=u, v=v, geometry=geometry, src=src), attrs


def _topology_notes(topo: Topology, n_lines: int, n_shared: int, snap: float) -> list[str]:
    """What building the topology found, for the report."""
    notes: list[str] = []
    if n_shared:
        notes.append(msg("geo.centrelines.note_shared", n=n_shared))
    if topo.n_cross:
        notes.append(msg("geo.centrelines.note_crossings", n=topo.n_cross))
    notes.append(
        msg(
            "geo.centrelines.note_topology",
            lines=n_lines,
            edges=topo.u.size,
            nodes=topo.x.size,
            split=topo.n_split,
            dangling=topo.dangling.size,
        )
    )
    if topo.near_gap:
        notes.append(
            msg(
                "geo.centrelines.note_gaps",
                n=topo.near_gap,
                hint=settings.centreline_gap_hint_m,
                snap=snap,
            )
        )
    return notes


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
    gdf, notes = _filter_mode(path, _read_lines(path), mode)
    gdf, crs = _to_utm(path, gdf)
    lines, origin, n_shared = split_at_shared_vertices(gdf.geometry.to_numpy())
    if n_shared:
        gdf = gdf.iloc[origin].reset_index(drop=True)
    topo = build_topology(lines, snap=snap, gap_hint=settings.centreline_gap_hint_m)
    notes += _topology_notes(topo, lines.size, n_shared, snap)
    names = _text_column(gdf, _pick(gdf.columns, NAME_COLUMNS))
    class_col = _pick(gdf.columns, CLASS_COLUMNS)
    codes, distinct = pd.factorize(_text_column(gdf, class_col))
    classes = np.array([road_class(c) for c in distinct], dtype=object)[codes]
    attrs: dict[str, np.ndarray] = {"highway": classes[topo.src], "name": names[topo.src]}
    if mode == "drive":
        topo, attrs = _drive_attrs(gdf, topo, classes, names)
    logger.info("%s: %s", path.name, "; ".join(notes))
    return EdgeArrays(
        x=topo.x,
        y=topo.y,
        node_ids=np.arange(topo.x.size, dtype="int64"),
        u=topo.u,
        v=topo.v,
        geometry=topo.geometry,
        crs=crs,
        source=path.name,
        attrs=attrs,
        bounds=None,
        notes=tuple(notes),
        dangling_ends=int(topo.dangling.size),
    )
