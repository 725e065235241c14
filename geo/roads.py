"""One entry point for road networks: files, centrelines and online OpenStreetMap.

:func:`load_network_file`, :func:`load_network_place` and :func:`load_network_bbox` say what they
take; :func:`load_network` accepts an OSM XML / PBF file, an osmnx GraphML file, road centrelines
(SHP, zipped SHP, GPKG, GeoJSON), a place name, a WGS-84 polygon or a (west, south, east, north)
box, and returns an analysis-ready :class:`geo.network.Network` in the local UTM zone.

Every source goes through the same steps: read edges for the travel mode (:mod:`geo.osm_parse`,
:mod:`geo.centrelines`, :mod:`geo.online`), clip to the study area or the data's declared bounds
(edges crossing the boundary are cut there, not dropped, so streets reach the edge of the area),
give self-loops and parallel edges of a different shape an inner node (``build_network`` keeps one
edge per node pair, which would otherwise lose a crescent or a ring path and everything along
it; equal lengths never make two edges duplicates, only coinciding shapes do), then
:func:`geo.network.build_network` keeps the largest connected component and reports the rest.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, TypeAlias

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from geo import settings
from geo.errors import CoverageToolError, EmptyNetworkError, NetworkError, NetworkFormatError
from geo.messages import msg
from geo.network import (
    WGS84,
    Network,
    build_network,
    distinct_parallels,
    project_xy,
    split_edges,
)
from geo.osm_parse import (
    EdgeArrays,
    check_mode,
    default_speed_kph,
    maxspeed_kph,
    read_osm_edges,
    way_filter,
)

logger = logging.getLogger(__name__)

#: File name endings read as OpenStreetMap data.
OSM_SUFFIXES: tuple[str, ...] = (
    ".osm",
    ".osm.xml",
    ".xml",
    ".osm.pbf",
    ".pbf",
    ".osm.gz",
    ".osm.bz2",
    ".xml.gz",
    ".xml.bz2",
)
#: File name endings read as road centrelines.
CENTRELINE_SUFFIXES: tuple[str, ...] = (".shp", ".zip", ".gpkg", ".geojson", ".json")
#: File name endings read as osmnx GraphML.
GRAPHML_SUFFIXES: tuple[str, ...] = (".graphml",)

StudyArea: TypeAlias = BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries


def load_network(
    source: str | Path | BaseGeometry | tuple[float, float, float, float],
    *,
    mode: str = "walk",
    study_area: StudyArea | str | Path | None = None,
    clip: bool = True,
    keep_largest: bool | None = None,
) -> Network:
    """Load an analysis-ready road network for a travel mode (any kind of source).

    Callers that know what they were given use :func:`load_network_file`,
    :func:`load_network_place` or :func:`load_network_bbox`. Here a string with a folder
    separator or a file-name ending is always a file, so a mistyped path is never sent to the
    geocoder as a place name.

    Parameters
    ----------
    source
        A file path (``.osm``/``.osm.xml``, ``.osm.pbf``, ``.graphml``, or centrelines as
        ``.shp``/``.zip``/``.gpkg``/``.geojson``); a place name (downloaded with osmnx); a
        shapely polygon in WGS-84; or a ``(west, south, east, north)`` box in degrees.
    mode
        ``"walk"`` (undirected, all pedestrian ways), ``"bike"`` (undirected, cycle-usable ways)
        or ``"drive"`` (directed by ``oneway``; ``speed_kph`` and ``travel_time_s`` in
        ``edge_attrs``; the CSR weight stays the length in metres).
    study_area
        WGS-84 polygon (or GeoDataFrame/GeoSeries in any CRS) to clip to. Without it a file is
        clipped to the bounds it declares (OSM ``<bounds>``, PBF header box), if any.
    clip
        Set ``False`` to keep everything read.
    keep_largest
        Keep only the largest connected component (default ``settings.keep_largest_component``).

    Returns
    -------
    Network
        In the local UTM zone; ``edge_attrs`` hold ``highway`` and ``name`` where known.

    Raises
    ------
    NetworkFormatError
        Unknown, missing or unreadable file.
    EmptyNetworkError
        No edges usable by the mode (in the file, or inside the study area).
    OfflineError
        An online source with no connection and nothing cached.
    """
    options: dict[str, Any] = {
        "mode": mode,
        "study_area": study_area,
        "clip": clip,
        "keep_largest": keep_largest,
    }
    if isinstance(source, BaseGeometry):
        check_mode(mode)
        area = study_area_wgs84(study_area)
        edges = _online_edges(source, mode=mode)
        clip_to = area if area is not None else source
        return _finish(
            edges,
            mode=mode,
            area=area,
            clip_to=clip_to,
            from_file=False,
            clip=clip,
            keep_largest=keep_largest,
        )
    if isinstance(source, tuple | list) and len(source) == 4:
        west, south, east, north = (float(c) for c in source)
        return load_network_bbox((west, south, east, north), **options)
    if isinstance(source, str | Path) and _looks_like_file(source):
        return load_network_file(source, **options)
    if isinstance(source, str):
        return load_network_place(source, **options)
    raise NetworkFormatError(
        msg("geo.roads.unknown_source", kind=type(source).__name__, source=repr(source))
    )


def load_network_file(
    path: str | Path,
    *,
    mode: str = "walk",
    study_area: StudyArea | None = None,
    clip: bool = True,
    keep_largest: bool | None = None,
) -> Network:
    """Load a network from a file, never from the internet.

    Parameters
    ----------
    path
        ``.osm``/``.osm.xml`` (also ``.gz``/``.bz2``), ``.osm.pbf``, ``.graphml``, or
        centrelines as ``.shp``/``.zip``/``.gpkg``/``.geojson``.
    mode, study_area, clip, keep_largest
        As in :func:`load_network`.

    Returns
    -------
    Network

    Raises
    ------
    NetworkFormatError
        The file is missing (the message names the path), a folder, unknown or unreadable.
    """
    check_mode(mode)
    area = study_area_wgs84(study_area)
    edges = _cached_file_edges(Path(path), mode=mode)
    clip_to = area if area is not None else _bounds_box(edges.bounds)
    return _finish(
        edges,
        mode=mode,
        area=area,
        clip_to=clip_to,
        from_file=True,
        clip=clip,
        keep_largest=keep_largest,
    )


def load_network_place(
    name: str,
    *,
    mode: str = "walk",
    study_area: StudyArea | None = None,
    clip: bool = True,
    keep_largest: bool | None = None,
) -> Network:
    """Download (or read from the disk cache) the network of a place name.

    Parameters
    ----------
    name
        A place name as OpenStreetMap's geocoder knows it (a sub-district with its city).
    mode, study_area, clip, keep_largest
        As in :func:`load_network`.

    Returns
    -------
    Network

    Raises
    ------
    NetworkFormatError
        ``name`` is not a string.
    NetworkError
        An empty place name (from :mod:`geo.online`).
    OfflineError
        No connection and nothing cached.
    """
    if not isinstance(name, str):
        raise NetworkFormatError(msg("geo.roads.not_a_place_name", got=repr(name)))
    check_mode(mode)
    area = study_area_wgs84(study_area)
    edges = _online_edges(name, mode=mode)
    return _finish(
        edges,
        mode=mode,
        area=area,
        clip_to=area,
        from_file=False,
        clip=clip,
        keep_largest=keep_largest,
    )


def load_network_bbox(
    box: tuple[float, float, float, float],
    *,
    mode: str = "walk",
    study_area: StudyArea | None = None,
    clip: bool = True,
    keep_largest: bool | None = None,
) -> Network:
    """Download (or read from the disk cache) the network inside a WGS-84 box.

    Parameters
    ----------
    box
        ``(west, south, east, north)`` in degrees.
    mode, study_area, clip, keep_largest
        As in :func:`load_network`.

    Returns
    -------
    Network

    Raises
    ------
    NetworkFormatError
        ``box`` is not four numbers.
    OfflineError
        No connection and nothing cached.
    """
    try:
        west, south, east, north = (float(c) for c in box)
    except (TypeError, ValueError) as exc:
        raise NetworkFormatError(msg("geo.roads.bad_box", got=repr(box))) from exc
    check_mode(mode)
    area = study_area_wgs84(study_area)
    bbox = (west, south, east, north)
    edges = _online_edges(bbox, mode=mode)
    return _finish(
        edges,
        mode=mode,
        area=area,
        clip_to=area if area is not None else shapely.box(*bbox),
        from_file=False,
        clip=clip,
        keep_largest=keep_largest,
    )


def _finish(
    edges: EdgeArrays,
    *,
    mode: str,
    area: BaseGeometry | None,
    clip_to: BaseGeometry | None,
    from_file: bool,
    clip: bool,
    keep_largest: bool | None,
) -> Network:
    """Clip, split loops and parallels, and build the network (every source ends here)."""
    notes = list(edges.notes)
    if clip and clip_to is not None:
        what = msg("geo.roads.study_area" if area is not None else "geo.roads.data_bounds")
        before = edges.u.size
        try:
            edges = clip_edges(edges, clip_to)
        except shapely.errors.GEOSException as exc:
            raise NetworkError(
                msg(
                    "geo.roads.clip_failed",
                    source=edges.source,
                    what=what,
                    bounds=clip_to.bounds,
                    error=str(exc),
                )
            ) from exc
        notes.append(msg("geo.roads.note_clipped", what=what, before=before, after=edges.u.size))
        if edges.u.size == 0:
            raise EmptyNetworkError(
                msg("geo.roads.nothing_inside", source=edges.source, mode=mode, what=what)
            )
    elif clip and from_file:
        notes.append(msg("geo.roads.note_not_clipped"))
    bad = np.flatnonzero(~np.isfinite(shapely.length(edges.geometry)))
    if bad.size:
        raise NetworkFormatError(
            msg(
                "geo.roads.unprojectable",
                source=edges.source,
                n=bad.size,
                first=str(edges.geometry[bad[0]])[:80],
            )
        )
    edges = split_loops_and_parallels(edges, directed=mode == "drive")
    return build_network(
        x=edges.x,
        y=edges.y,
        u=edges.u,
        v=edges.v,
        crs=edges.crs,
        mode=mode,
        length=shapely.length(edges.geometry),
        geometry=edges.geometry,
        node_ids=edges.node_ids,
        edge_attrs=edges.attrs,
        source=edges.source,
        keep_largest=keep_largest,
        dangling_ends=edges.dangling_ends,
        notes=tuple(notes),
    )


_FILE_EDGES: OrderedDict[tuple[Any, ...], EdgeArrays] = OrderedDict()
_FILE_EDGES_LOCK = threading.Lock()


def _cached_file_edges(path: Path, *, mode: str) -> EdgeArrays:
    """:func:`_file_edges`, remembered per process for the last few files.

    Keyed by path, size and modification time: a batch worker clips one province file for many
    districts and reads it once. EdgeArrays are never changed in place (clipping returns new
    ones).
    """
    try:
        stat = path.stat()
        # Settings the readers use are part of the key: a changed setting reads again.
        key: tuple[Any, ...] = (
            str(path.resolve()),
            stat.st_size,
            stat.st_mtime_ns,
            mode,
            settings.centreline_snap_m,
            settings.centreline_gap_hint_m,
            settings.drive_speed_default_kph,
            tuple(sorted(settings.drive_speed_kph.items())),
        )
    except OSError:
        return _read_file_edges(path, mode=mode)
    with _FILE_EDGES_LOCK:
        hit = _FILE_EDGES.get(key)
        if hit is not None:
            _FILE_EDGES.move_to_end(key)
            return hit
    edges = _read_file_edges(path, mode=mode)
    with _FILE_EDGES_LOCK:
        _FILE_EDGES[key] = edges
        while len(_FILE_EDGES) > max(0, settings.network_file_cache_entries):
            _FILE_EDGES.popitem(last=False)
    return edges


def _looks_like_file(source: str | Path) -> bool:
    """Whether :func:`load_network` reads ``source`` as a file (else as a place name).

    Anything with a folder separator or a file-name ending counts as a file, so a mistyped
    path fails with "file not found" instead of becoming an online place query.
    """
    if isinstance(source, Path):
        return True
    name = source.strip().lower()
    known = (*OSM_SUFFIXES, *CENTRELINE_SUFFIXES, *GRAPHML_SUFFIXES)
    if name.endswith(known) or "/" in name or "\\" in name or Path(source).exists():
        return True
    # "name.ext" is a file; "Washington, D.C" (a comma) stays a place name.
    return "," not in name and re.search(r"\.[a-z0-9]{1,8}$", name) is not None


def _read_file_edges(path: Path, *, mode: str) -> EdgeArrays:
    """:func:`_file_edges` with a last-resort conversion of library errors.

    The readers catch the common failures of each format with specific messages; anything a
    library still raises on a damaged file becomes a NetworkFormatError naming the file.
    """
    try:
        return _file_edges(path, mode=mode)
    except (CoverageToolError, MemoryError):
        raise
    except Exception as exc:
        logger.warning(
            "%s: unexpected %s while reading", path.name, type(exc).__name__, exc_info=exc
        )
        raise NetworkFormatError(
            msg("geo.roads.unreadable", file=path.name, error=f"{type(exc).__name__}: {exc}")
        ) from exc


def _file_edges(path: Path, *, mode: str) -> EdgeArrays:
    name = path.name.lower()
    if path.is_dir():
        raise NetworkFormatError(msg("geo.roads.is_folder", path=str(path)))
    if not path.is_file():
        raise NetworkFormatError(msg("geo.roads.not_found", path=str(path)))
    if name.endswith(GRAPHML_SUFFIXES):
        return read_graphml_edges(path, mode=mode)
    if name.endswith(CENTRELINE_SUFFIXES):
        from geo.centrelines import read_centrelines

        return read_centrelines(path, mode=mode)
    if name.endswith(OSM_SUFFIXES):
        from geo.osm_parse import _read_head

        head, _ = _read_head(path, 2048)
        if b"<graphml" in head:  # GraphML saved as .xml
            return read_graphml_edges(path, mode=mode)
        return read_osm_edges(path, mode=mode)
    raise NetworkFormatError(
        msg("geo.roads.unknown_type", file=path.name, suffix=repr(path.suffix))
    )


def _online_edges(query: Any, *, mode: str) -> EdgeArrays:
    from geo.online import graph_from_online

    graph, label = graph_from_online(query, mode=mode)
    return graph_to_edges(graph, mode=mode, source=label)


def read_study_area(path: str | Path) -> BaseGeometry:
    """Read a study-area boundary file (GeoJSON, SHP, zipped SHP, GPKG) as one WGS-84 polygon.

    Raises
    ------
    GeometryError
        The file is missing or unreadable, holds no polygon, or has no CRS and coordinates that
        are not degrees; the message names the file and the fix.
    """
    import warnings

    from geo.errors import GeometryError

    path = Path(path)
    if not path.is_file():
        raise GeometryError(msg("geo.roads.area_not_found", path=str(path)))
    target = str(path)
    if path.suffix.lower() == ".zip":
        from geo.tables import zip_member

        target, _ = zip_member(path, path.name, [])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gdf = gpd.read_file(target, engine="pyogrio")
    except Exception as exc:  # GDAL raises DataSourceError, OSError, ... for unreadable files
        raise GeometryError(
            msg("geo.roads.area_unreadable", file=path.name, error=f"{type(exc).__name__}: {exc}")
        ) from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.isna().all():
        raise GeometryError(msg("geo.roads.area_no_geometry", file=path.name))
    polys = gdf[gdf.geometry.notna() & gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polys.empty:
        kinds = ", ".join(sorted(set(gdf.geometry.geom_type.dropna())))
        raise GeometryError(
            msg(
                "geo.roads.area_no_polygon",
                file=path.name,
                found=kinds or msg("geo.roads.nothing"),
            )
        )
    try:
        geom = study_area_wgs84(polys)
    except NetworkError as exc:
        raise GeometryError(
            msg("geo.roads.area_in_file", file=path.name, reason=exc.args[0])
        ) from exc
    assert geom is not None
    return shapely.make_valid(geom)


def study_area_wgs84(area: StudyArea | str | Path | None) -> BaseGeometry | None:
    """Return a study area as one WGS-84 geometry (``None`` stays ``None``).

    Accepts a shapely geometry in WGS-84, a GeoDataFrame/GeoSeries in any CRS, or a boundary
    file (see :func:`read_study_area`).
    """
    if area is None:
        return None
    if isinstance(area, str | Path):
        return read_study_area(area)
    if isinstance(area, gpd.GeoDataFrame | gpd.GeoSeries):
        frame = area if area.crs is not None else area.set_crs(WGS84)
        geom = shapely.union_all(frame.to_crs(WGS84).geometry.to_numpy())
    else:
        geom = area
    if not isinstance(geom, BaseGeometry) or geom.is_empty or geom.area <= 0:
        raise NetworkError(msg("geo.roads.area_not_polygon", kind=type(area).__name__))
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise NetworkError(msg("geo.roads.area_not_degrees", bounds=geom.bounds))
    return geom


def _bounds_box(bounds: tuple[float, float, float, float] | None) -> BaseGeometry | None:
    return None if bounds is None else shapely.box(*bounds)


def clip_edges(edges: EdgeArrays, area_wgs84: BaseGeometry) -> EdgeArrays:
    """Keep the parts of edges inside a WGS-84 polygon, cutting edges at its boundary.

    Cut ends become new nodes (negative ``node_ids``); pieces keep their edge's direction and
    attributes.
    """
    tr = pyproj.Transformer.from_crs(WGS84, edges.crs, always_xy=True)
    # Densify first so the projected boundary follows the true curve of long straight sides.
    poly = shapely.transform(
        shapely.segmentize(area_wgs84, 0.0005),
        lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])),
    )
    shapely.prepare(poly)
    geoms = edges.geometry
    inside = shapely.covered_by(geoms, poly)
    crossing = ~inside & shapely.intersects(geoms, poly)
    keep = np.flatnonzero(inside)
    nodes = _NewNodes(edges)
    us: list[int] = []
    vs: list[int] = []
    pieces: list[BaseGeometry] = []
    src: list[int] = []
    for e in np.flatnonzero(crossing).tolist():
        line = geoms[e]
        start, end = shapely.get_point(line, 0), shapely.get_point(line, -1)
        for piece in shapely.get_parts(shapely.line_merge(shapely.intersection(line, poly))):
            if shapely.get_type_id(piece) != 1 or piece.length <= 0:
                continue
            a = shapely.get_point(piece, 0)
            b = shapely.get_point(piece, -1)
            if line.project(a) > line.project(b):
                piece = piece.reverse()  # keep the edge's travel direction
                a, b = b, a
            ends = [
                int(node) if pt.distance(ref) < 1e-6 else nodes.add(pt.x, pt.y)
                for pt, node, ref in ((a, edges.u[e], start), (b, edges.v[e], end))
            ]
            us.append(ends[0])
            vs.append(ends[1])
            pieces.append(piece)
            src.append(e)
    return _replace_edges(edges, nodes, keep, us, vs, pieces, src)


def split_loops_and_parallels(
    edges: EdgeArrays, *, directed: bool, hausdorff_m: float | None = None
) -> EdgeArrays:
    """Give self-loops and distinct parallel edges inner nodes so none is lost.

    ``build_network`` keeps only the shortest of parallel edges (its sparse matrix holds one
    value per node pair). That is right for one street drawn twice but would erase a ring path
    or the other half of a P-shaped road between the same junctions, and every facility and
    resident along it would then snap elsewhere. Parallels are duplicates only when their shapes
    coincide (Hausdorff distance at most ``hausdorff_m``, default
    ``settings.parallel_duplicate_hausdorff_m``), however close their lengths are; see
    :func:`geo.network.distinct_parallels`.
    """
    if edges.u.size == 0:
        return edges
    cut = distinct_parallels(
        edges.u, edges.v, edges.geometry, directed=directed, hausdorff_m=hausdorff_m
    )
    if not cut.any():
        return edges
    x, y, ids, u, v, geometry, src = split_edges(
        edges.x, edges.y, edges.node_ids, edges.u, edges.v, edges.geometry, cut
    )
    attrs = {k: arr[src] for k, arr in edges.attrs.items()}
    if "travel_time_s" in attrs and "speed_kph" in attrs:
        attrs["travel_time_s"] = shapely.length(geometry) / (attrs["speed_kph"] / 3.6)
    return EdgeArrays(
        x=x,
        y=y,
        node_ids=ids,
        u=u,
        v=v,
        geometry=geometry,
        crs=edges.crs,
        source=edges.source,
        attrs=attrs,
        bounds=edges.bounds,
        notes=edges.notes,
        dangling_ends=edges.dangling_ends,
    )


class _NewNodes:
    """Nodes added by clipping or splitting, one per location.

    Both directions of a two-way street then share them. Ids are negative, or ``"new<i>"`` when
    the source's ids are strings.
    """

    def __init__(self, edges: EdgeArrays) -> None:
        self.x = list(edges.x)
        self.y = list(edges.y)
        self.ids = list(edges.node_ids)
        self.numeric = edges.node_ids.dtype.kind in "iu" or edges.node_ids.size == 0
        self.next_id = min([0, *[int(i) for i in edges.node_ids if self.numeric]]) - 1
        self.seen: dict[tuple[int, int], int] = {}

    def add(self, x: float, y: float) -> int:
        key = (round(x * 1000), round(y * 1000))  # millimetres
        if key not in self.seen:
            self.x.append(x)
            self.y.append(y)
            self.ids.append(self.next_id if self.numeric else f"new{-self.next_id}")
            self.next_id -= 1
            self.seen[key] = len(self.x) - 1
        return self.seen[key]


def _replace_edges(
    edges: EdgeArrays,
    nodes: _NewNodes,
    rest: np.ndarray,
    us: list[int],
    vs: list[int],
    geoms: list[BaseGeometry],
    src: list[int],
) -> EdgeArrays:
    """Edges ``rest`` kept as they are plus new pieces (attributes copied from ``src``)."""
    src_arr = np.concatenate([rest, np.asarray(src, dtype="int64")])
    geometry = np.concatenate([edges.geometry[rest], np.asarray(geoms, dtype=object)])
    attrs = {k: arr[src_arr] for k, arr in edges.attrs.items()}
    if "travel_time_s" in attrs and "speed_kph" in attrs:
        attrs["travel_time_s"] = shapely.length(geometry) / (attrs["speed_kph"] / 3.6)
    ids = np.asarray(nodes.ids, dtype="int64" if nodes.numeric else object)
    return EdgeArrays(
        x=np.asarray(nodes.x, dtype="float64"),
        y=np.asarray(nodes.y, dtype="float64"),
        node_ids=ids,
        u=np.concatenate([edges.u[rest], np.asarray(us, dtype="int64")]),
        v=np.concatenate([edges.v[rest], np.asarray(vs, dtype="int64")]),
        geometry=geometry,
        crs=edges.crs,
        source=edges.source,
        attrs=attrs,
        bounds=edges.bounds,
        notes=edges.notes,
        dangling_ends=edges.dangling_ends,
    )


def _first(value: Any) -> Any:
    if isinstance(value, list | tuple | set):
        return next(iter(value), None)
    return value


def _graph_edge_ok(data: dict[str, Any], accept: Any, *, tagged: bool = False) -> bool:
    """Mode filter for a graph edge; simplified edges may carry lists of tag values.

    In a graph whose streets carry ``highway`` tags (``tagged``), an edge without one is not a
    street: osmnx graphs built from raw OSM files also hold building and land-use outlines.
    """
    if "highway" not in data:
        return not tagged
    tags = {k: str(_first(v)) for k, v in data.items() if isinstance(v, str | list)}
    hws = data["highway"] if isinstance(data["highway"], list) else [data["highway"]]
    return any(accept({**tags, "highway": str(hw)}) for hw in hws)


def _graph_nodes_utm(graph: Any, source: str) -> tuple[list[Any], np.ndarray, np.ndarray, str, Any]:
    """Node list, UTM coordinates, the UTM CRS and the graph's own CRS."""
    nodes = list(graph.nodes)
    if not nodes:
        raise EmptyNetworkError(msg("geo.roads.graph_no_nodes", source=source))
    try:
        gx = np.array([graph.nodes[n]["x"] for n in nodes], dtype="float64")
        gy = np.array([graph.nodes[n]["y"] for n in nodes], dtype="float64")
    except KeyError as exc:
        raise NetworkFormatError(
            msg("geo.roads.graph_no_xy", source=source, missing=str(exc))
        ) from exc
    try:
        graph_crs = pyproj.CRS.from_user_input(graph.graph.get("crs", WGS84))
    except (pyproj.exceptions.CRSError, TypeError, ValueError) as exc:
        raise NetworkFormatError(
            msg("geo.roads.graph_bad_crs", source=source, crs=repr(graph.graph.get("crs")))
        ) from exc
    if not graph_crs.is_geographic:
        to_wgs = pyproj.Transformer.from_crs(graph_crs, WGS84, always_xy=True)
        lon, lat = to_wgs.transform(gx, gy)
    else:
        lon, lat = gx, gy
    lon, lat = np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise NetworkFormatError(
            msg(
                "geo.roads.graph_node_off_earth",
                source=source,
                node=str(nodes[first]),
                more=msg("geo.roads.and_more", n=int(bad.sum()) - 1) if bad.sum() > 1 else "",
                x=repr(float(gx[first])),
                y=repr(float(gy[first])),
                crs=graph_crs.name,
            )
        )
    x, y, crs = project_xy(np.asarray(lon), np.asarray(lat))
    return nodes, x, y, crs, graph_crs


def _edge_geometry(source: str, a: Any, b: Any, geom: Any) -> Any:
    """An edge's stored geometry as a shapely line (``None`` when it has none)."""
    if isinstance(geom, str):
        try:
            geom = shapely.from_wkt(geom)
        except shapely.errors.GEOSException as exc:
            raise NetworkFormatError(
                msg("geo.roads.edge_unreadable", source=source, a=repr(a), b=repr(b), error=exc)
            ) from exc
    if geom is not None and (
        shapely.get_type_id(geom) != 1
        or geom.is_empty
        or not np.isfinite(shapely.get_coordinates(geom)).all()
    ):
        raise NetworkFormatError(
            msg("geo.roads.edge_not_line", source=source, a=repr(a), b=repr(b), geom=str(geom)[:60])
        )
    return geom


def _graph_edge_rows(
    graph: Any, *, mode: str, source: str, index: dict[Any, int]
) -> tuple[list[int], list[int], list[Any], dict[str, list[Any]], int]:
    """Edges the mode accepts: end indices, geometries, attribute columns, untagged count."""
    accept = way_filter(mode)
    us: list[int] = []
    vs: list[int] = []
    geoms: list[Any] = []
    cols: dict[str, list[Any]] = {"highway": [], "name": [], "oneway": [], "speed_kph": []}
    tagged = any("highway" in data for _, _, data in graph.edges(data=True))
    untagged = 0
    for a, b, data in graph.edges(data=True):
        if not _graph_edge_ok(data, accept, tagged=tagged):
            untagged += tagged and "highway" not in data
            continue
        us.append(index[a])
        vs.append(index[b])
        geoms.append(_edge_geometry(source, a, b, data.get("geometry")))
        cols["highway"].append(str(_first(data.get("highway", "")) or ""))
        cols["name"].append(str(_first(data.get("name", "")) or ""))
        ow = data.get("oneway", False)
        cols["oneway"].append(ow is True or str(ow) == "True")
        speed = data.get("speed_kph")
        speed = float(speed) if speed not in (None, "") else maxspeed_kph(data.get("maxspeed"))
        cols["speed_kph"].append(speed or default_speed_kph(data.get("highway")))
    if not us:
        raise EmptyNetworkError(msg("geo.roads.graph_no_edges", source=source, mode=mode))
    return us, vs, geoms, cols, untagged


def _edge_geometries(
    geoms: list[Any],
    *,
    u: np.ndarray,
    v: np.ndarray,
    xy: tuple[np.ndarray, np.ndarray],
    transform: pyproj.Transformer,
    where: tuple[str, list[Any]],
) -> np.ndarray:
    """Stored geometries projected to UTM; straight segments for edges without one."""
    source, nodes = where
    x, y = xy
    geometry = np.empty(u.size, dtype=object)
    has = np.array([g is not None for g in geoms], dtype=bool)
    if has.any():
        projected = shapely.transform(
            np.asarray([g for g in geoms if g is not None], dtype=object),
            lambda c: np.column_stack(transform.transform(c[:, 0], c[:, 1])),
        )
        geometry[has] = projected
        far = np.flatnonzero(has)[~np.isfinite(shapely.length(projected))]
        if far.size:
            e = int(far[0])
            raise NetworkFormatError(
                msg(
                    "geo.roads.edge_off_earth",
                    source=source,
                    a=str(nodes[u[e]]),
                    b=str(nodes[v[e]]),
                    geom=str(geoms[e])[:80],
                )
            )
    straight = np.flatnonzero(~has)
    if straight.size:
        coords = np.stack(
            [
                np.column_stack([x[u[straight]], y[u[straight]]]),
                np.column_stack([x[v[straight]], y[v[straight]]]),
            ],
            axis=1,
        )
        geometry[straight] = shapely.linestrings(coords)
    return geometry


def graph_to_edges(graph: Any, *, mode: str, source: str) -> EdgeArrays:
    """Convert an osmnx MultiDiGraph (WGS-84 or projected) to :class:`EdgeArrays` in UTM.

    Edges failing the mode's tag filter (where the graph keeps ``highway``) are left out; edge
    ``geometry`` is kept where present, else a straight segment.
    """
    check_mode(mode)
    nodes, x, y, crs, graph_crs = _graph_nodes_utm(graph, source)
    index = {n: i for i, n in enumerate(nodes)}
    us, vs, geoms, cols, untagged = _graph_edge_rows(graph, mode=mode, source=source, index=index)
    u = np.asarray(us, dtype="int64")
    v = np.asarray(vs, dtype="int64")
    geometry = _edge_geometries(
        geoms,
        u=u,
        v=v,
        xy=(x, y),
        transform=pyproj.Transformer.from_crs(graph_crs, crs, always_xy=True),
        where=(source, nodes),
    )
    attrs: dict[str, np.ndarray] = {
        "highway": np.asarray(cols["highway"], dtype=object),
        "name": np.asarray(cols["name"], dtype=object),
    }
    if mode == "drive":
        speed_arr = np.asarray(cols["speed_kph"], dtype="float64")
        attrs["oneway"] = np.asarray(cols["oneway"], dtype=bool)
        attrs["speed_kph"] = speed_arr
        attrs["travel_time_s"] = shapely.length(geometry) / (speed_arr / 3.6)
    ids = np.asarray(nodes)
    if ids.dtype.kind not in "iu":
        ids = np.asarray([str(n) for n in nodes], dtype=object)
    notes: tuple[str, ...] = (msg("geo.roads.note_graph_edges", n=u.size, mode=mode),)
    if untagged:
        notes += (msg("geo.roads.note_untagged", n=untagged),)
    return EdgeArrays(
        x=x,
        y=y,
        node_ids=ids,
        u=u,
        v=v,
        geometry=geometry,
        crs=crs,
        source=source,
        attrs=attrs,
        notes=notes,
    )


def read_graphml_edges(path: str | Path, *, mode: str = "walk") -> EdgeArrays:
    """Read an osmnx GraphML file as :class:`EdgeArrays` (see :func:`graph_to_edges`)."""
    import osmnx as ox

    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(2048)
    if not head.strip():
        raise NetworkFormatError(msg("geo.roads.graphml_empty", file=path.name))
    if b"<graphml" not in head:
        preview = head[:60].decode("utf-8", errors="replace").strip()
        raise NetworkFormatError(
            msg("geo.roads.not_graphml", file=path.name, preview=repr(preview))
        )
    try:
        graph = ox.load_graphml(path)
    except Exception as exc:  # networkx/lxml raise many kinds for a broken file
        raise NetworkFormatError(
            msg(
                "geo.roads.graphml_unreadable", file=path.name, error=f"{type(exc).__name__}: {exc}"
            )
        ) from exc
    return graph_to_edges(graph, mode=mode, source=path.name)


def network_to_graph(network: Network) -> Any:
    """An osmnx-style MultiDiGraph in WGS-84 (for GraphML export and osmnx tools).

    Undirected networks get both directions of every edge, as osmnx stores walking graphs.
    """
    import networkx as nx

    tr = pyproj.Transformer.from_crs(network.crs, WGS84, always_xy=True)
    lon, lat = tr.transform(network.x, network.y)
    graph = nx.MultiDiGraph(crs=WGS84)
    for i in range(network.n_nodes):
        graph.add_node(i, x=float(lon[i]), y=float(lat[i]), osmid=str(network.node_ids[i]))
    geoms = shapely.transform(
        network.geometry, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))
    )
    attr_names = [k for k in ("highway", "name", "speed_kph") if k in network.edge_attrs]
    for e in range(network.n_edges):
        data: dict[str, Any] = {
            "length": float(network.length[e]),
            "geometry": geoms[e],
            "oneway": bool(network.directed),
        }
        for k in attr_names:
            value = network.edge_attrs[k][e]
            data[k] = value.item() if hasattr(value, "item") else value
        a, b = int(network.u[e]), int(network.v[e])
        graph.add_edge(a, b, **data)
        if not network.directed:
            graph.add_edge(b, a, **{**data, "geometry": geoms[e].reverse(), "reversed": True})
    return graph


def save_graphml(network: Network, path: str | Path) -> Path:
    """Save a network as osmnx GraphML (WGS-84) so :func:`load_network` can read it back."""
    import osmnx as ox

    path = Path(path)
    ox.save_graphml(network_to_graph(network), path)
    return path


__all__ = [
    "CENTRELINE_SUFFIXES",
    "GRAPHML_SUFFIXES",
    "OSM_SUFFIXES",
    "StudyArea",
    "clip_edges",
    "graph_to_edges",
    "load_network",
    "load_network_bbox",
    "load_network_file",
    "load_network_place",
    "network_to_graph",
    "read_graphml_edges",
    "read_study_area",
    "save_graphml",
    "split_loops_and_parallels",
    "study_area_wgs84",
]
