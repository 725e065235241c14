"""Read OpenStreetMap files (OSM XML and PBF) with pyosmium: street edges and tagged features.

One code path reads ``.osm`` / ``.osm.xml`` and ``.osm.pbf`` (libosmium detects nothing from the
content, so the format is sniffed here and passed explicitly: a PBF renamed ``.osm`` still loads).

Streets: only ``highway=*`` ways that the travel mode may use are kept, judged with the same tag
filters osmnx sends to Overpass (:data:`OSMNX_FILTERS`), so a local file and an online download of
the same area give the same network. Ways are split into edges at intersections and way ends, and
each edge keeps the full geometry through its intermediate nodes. Node references missing from
the file (ways crossing the edge of a clipped extract) are dropped and the way is cut there.

Features: tagged nodes become points, closed ways and multipolygon relations become polygons
(assembled by libosmium), open ways become lines; ``osm_id`` is ``"node/123"``, ``"way/45"`` or
``"relation/6"``.
"""

from __future__ import annotations

import bz2
import gzip
import logging
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import osmium
import shapely
from osmium.filter import EntityFilter, KeyFilter

from geo import settings
from geo.errors import EmptyNetworkError, NetworkFormatError
from geo.messages import msg
from geo.network import WGS84, project_xy

logger = logging.getLogger(__name__)

__all__ = [
    "FEATURE_EXTRA_TAGS",
    "MODES",
    "ONEWAY_VALUES",
    "OSMIUM_ERRORS",
    "OSMNX_FILTERS",
    "REVERSED_VALUES",
    "EdgeArrays",
    "TagClause",
    "check_mode",
    "check_osm_xml",
    "default_speed_kph",
    "display_name",
    "maxspeed_kph",
    "osm_bounds",
    "parse_overpass_filter",
    "read_osm_edges",
    "read_osm_features",
    "sniff_osm_format",
    "way_filter",
]

#: Travel modes every network loader accepts.
MODES: tuple[str, ...] = ("walk", "bike", "drive")

_ACCESS = '["access"!~"private"]'

#: osmnx 2.1.1 ``_overpass._get_network_filter`` with its default access clause, copied so a local
#: file is filtered exactly like an Overpass download (tests compare them with the installed osmnx).
OSMNX_FILTERS: dict[str, str] = {
    "drive": (
        f'["highway"]["area"!~"yes"]{_ACCESS}'
        '["highway"!~"abandoned|bridleway|bus_guideway|construction|corridor|'
        "cycleway|elevator|escalator|footway|no|path|pedestrian|planned|platform|"
        'proposed|raceway|razed|rest_area|service|services|steps|track"]'
        '["motor_vehicle"!~"no"]["motorcar"!~"no"]'
        '["service"!~"alley|driveway|emergency_access|parking|parking_aisle|private"]'
    ),
    "walk": (
        f'["highway"]["area"!~"yes"]{_ACCESS}'
        '["highway"!~"abandoned|bus_guideway|construction|cycleway|motor|no|planned|'
        'platform|proposed|raceway|razed|rest_area|services"]'
        '["foot"!~"no"]["service"!~"private"]'
        '["sidewalk"!~"separate"]["sidewalk:both"!~"separate"]'
        '["sidewalk:left"!~"separate"]["sidewalk:right"!~"separate"]'
    ),
    "bike": (
        f'["highway"]["area"!~"yes"]{_ACCESS}'
        '["highway"!~"abandoned|bus_guideway|construction|corridor|elevator|'
        "escalator|footway|motor|no|planned|platform|proposed|raceway|razed|"
        'rest_area|services|steps"]'
        '["bicycle"!~"no"]["service"!~"private"]'
    ),
}

#: ``oneway`` values meaning one-way, and those meaning against the node order (as osmnx).
ONEWAY_VALUES = frozenset({"yes", "true", "1", "-1", "reverse", "T", "F"})
REVERSED_VALUES = frozenset({"-1", "reverse", "T"})

_CLAUSE = re.compile(r'\["([^"]+)"(?:(!?~)"([^"]*)")?\]')


@dataclass(frozen=True)
class TagClause:
    """One Overpass tag clause: ``["k"]``, ``["k"~"re"]`` or ``["k"!~"re"]``."""

    key: str
    op: str  # "has", "match" or "nomatch"
    pattern: re.Pattern[str] | None = None

    def test(self, tags: Mapping[str, str]) -> bool:
        """Whether ``tags`` pass this clause (Overpass semantics: unanchored regex search)."""
        value = tags.get(self.key)
        if self.op == "has":
            return value is not None
        assert self.pattern is not None
        if self.op == "match":
            return value is not None and self.pattern.search(value) is not None
        return value is None or self.pattern.search(value) is None


def parse_overpass_filter(text: str) -> tuple[TagClause, ...]:
    """Parse an Overpass way filter such as osmnx builds into clauses (all must pass)."""
    clauses = []
    for key, op, pattern in _CLAUSE.findall(text):
        if not op:
            clauses.append(TagClause(key, "has"))
        else:
            kind = "nomatch" if op == "!~" else "match"
            clauses.append(TagClause(key, kind, re.compile(pattern)))
    return tuple(clauses)


def check_mode(mode: str) -> str:
    """Validate a travel mode name."""
    if mode not in MODES:
        raise ValueError(msg("geo.osm_parse.unknown_mode", mode=repr(mode), modes=", ".join(MODES)))
    return mode


def way_filter(mode: str) -> Callable[[Mapping[str, str]], bool]:
    """A predicate telling whether a way's tags suit ``mode`` (osmnx's Overpass filter)."""
    clauses = parse_overpass_filter(OSMNX_FILTERS[check_mode(mode)])

    def accept(tags: Mapping[str, str]) -> bool:
        return all(c.test(tags) for c in clauses)

    return accept


def maxspeed_kph(value: object) -> float | None:
    """Parse an OSM ``maxspeed`` value ("50", "30 mph", "50;60") to km/h, or ``None``."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        speeds = [s for s in (maxspeed_kph(v) for v in value) if s is not None]
        return float(np.mean(speeds)) if speeds else None
    text = str(value).strip().lower()
    speeds = []
    for part in re.split(r"[;|,]", text):
        m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$", part)
        if m:
            speed = float(m.group(1)) * (1.609344 if m.group(2) == "mph" else 1.0)
            if speed > 0:
                speeds.append(speed)
    return float(np.mean(speeds)) if speeds else None


def default_speed_kph(highway: object) -> float:
    """Driving speed (km/h) for a highway type from ``settings.drive_speed_kph``."""
    if isinstance(highway, list | tuple):
        highway = highway[0] if highway else None
    return float(settings.drive_speed_kph.get(str(highway), settings.drive_speed_default_kph))


@dataclass(frozen=True)
class EdgeArrays:
    """Edges as every loader produces them before clipping and :func:`build_network`.

    Node coordinates and edge geometries are in ``crs`` (projected, metres); ``attrs`` holds
    per-edge arrays; ``bounds`` is the data's WGS-84 (west, south, east, north) box when the source
    declares one.
    """

    x: np.ndarray
    y: np.ndarray
    node_ids: np.ndarray
    u: np.ndarray
    v: np.ndarray
    geometry: np.ndarray
    crs: str
    source: str
    attrs: dict[str, np.ndarray] = field(default_factory=dict)
    bounds: tuple[float, float, float, float] | None = None
    notes: tuple[str, ...] = ()
    dangling_ends: int = 0


def _compression(head: bytes) -> str | None:
    """``"gz"`` or ``"bz2"`` when the bytes start with that format's magic number, else None."""
    if head.startswith(b"\x1f\x8b"):
        return "gz"
    if head.startswith(b"BZh"):
        return "bz2"
    return None


def _read_head(path: Path, n: int = 4096) -> tuple[bytes, str | None]:
    """The first ``n`` bytes of the (decompressed) file and its compression."""
    with open(path, "rb") as fh:
        head = fh.read(n)
    packed = _compression(head)
    if packed is None:
        return head, None
    opener = gzip.open if packed == "gz" else bz2.open
    try:
        with opener(path, "rb") as fh:
            return fh.read(n), packed
    except (OSError, EOFError, ValueError) as exc:
        raise NetworkFormatError(
            msg("geo.osm_parse.bad_compression", file=path.name, packed=packed, error=str(exc))
        ) from exc


def sniff_osm_format(path: str | Path) -> str:
    """Return ``"pbf"`` or ``"xml"`` from a file's first bytes, or raise NetworkFormatError.

    Gzip- and bzip2-compressed OSM XML (``.osm.gz``, ``.osm.bz2``, as Geofabrik and Overpass
    serve them) count as ``"xml"``: libosmium decompresses them itself.

    Parameters
    ----------
    path
        An OSM file.

    Returns
    -------
    str
        ``"pbf"`` or ``"xml"`` (the libosmium format names are ``pbf`` and ``osm``).
    """
    path = Path(path)
    if not path.is_file():
        raise NetworkFormatError(msg("geo.roads.not_found", path=str(path)))
    head, _ = _read_head(path)
    if not head.strip():
        raise NetworkFormatError(msg("geo.osm_parse.empty_file", file=path.name))
    if b"OSMHeader" in head[:64]:
        return "pbf"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith((b"<?xml", b"<osm")) and b"<osm" in head:
        return "xml"
    preview = head[:60].decode("utf-8", errors="replace").strip().replace("\n", " ")
    raise NetworkFormatError(msg("geo.osm_parse.not_osm", file=path.name, preview=repr(preview)))


_ELEMENT = re.compile(rb"<(node|way|relation|bounds)\b([^>]*)")
_ATTR = re.compile(rb'\b(id|lat|lon|minlat|minlon|maxlat|maxlon)\s*=\s*["\']([^"\']*)["\']')
_INT64_MAX = 2**63 - 1
_SCAN_CHUNK = 1 << 24


def _fix_export(path: Path) -> str:
    return msg("geo.osm_parse.fix_export", file=path.name)


def _parse_id(path: Path, kind: str, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or abs(value) > _INT64_MAX:
        what = msg("geo.osm_parse.not_integer" if value is None else "geo.osm_parse.beyond_64bit")
        raise NetworkFormatError(
            msg(
                "geo.osm_parse.bad_id",
                file=path.name,
                kind=kind,
                text=repr(text),
                what=what,
                fix=_fix_export(path),
            )
        )
    return value


def _parse_coord(path: Path, where: str, name: str, text: str) -> float:
    limit = 90.0 if "lat" in name else 180.0
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not np.isfinite(value) or abs(value) > limit:
        raise NetworkFormatError(
            msg(
                "geo.osm_parse.bad_coord",
                file=path.name,
                where=where,
                name=name,
                text=repr(text),
                limit=limit,
                fix=_fix_export(path),
            )
        )
    return value


def _check_bounds(path: Path, attrs: dict[str, str]) -> None:
    vals: dict[str, float] = {}
    for name in ("minlat", "minlon", "maxlat", "maxlon"):
        if name not in attrs:
            raise NetworkFormatError(
                msg(
                    "geo.osm_parse.bounds_missing", file=path.name, name=name, fix=_fix_export(path)
                )
            )
        vals[name] = _parse_coord(path, msg("geo.osm_parse.bounds_element"), name, attrs[name])
    for lo, hi in (("minlat", "maxlat"), ("minlon", "maxlon")):
        if vals[lo] >= vals[hi]:
            raise NetworkFormatError(
                msg(
                    "geo.osm_parse.bounds_empty",
                    file=path.name,
                    lo=lo,
                    lo_value=vals[lo],
                    hi=hi,
                    hi_value=vals[hi],
                    fix=_fix_export(path),
                )
            )


def check_osm_xml(path: str | Path) -> dict[int, tuple[float, float]]:
    """Check an OSM XML file for what libosmium accepts silently or reports without a name.

    Repeated node or way ids (libosmium keeps the last location of a node, so a file with
    repeated node ids draws streets to the wrong places), ids beyond 64 bits, coordinates that
    are not numbers or out of range, and a malformed ``<bounds>`` element each raise a
    :class:`NetworkFormatError` naming the element. The file is scanned in chunks (compressed
    files are decompressed on the fly), so memory stays small.

    Parameters
    ----------
    path
        An OSM XML file (plain, ``.gz`` or ``.bz2``).

    Returns
    -------
    dict
        ``{id: (lon, lat)}`` of nodes with negative ids (new nodes saved by JOSM before upload),
        which libosmium's location index does not hold.

    Raises
    ------
    NetworkFormatError
        Naming the first offending element.
    """
    path = Path(path)
    _, packed = _read_head(path, 8)
    opener: Callable[..., Any] = (
        open if packed is None else (gzip.open if packed == "gz" else bz2.open)
    )
    ids: dict[str, list[np.ndarray]] = {"node": [], "way": []}
    negative: dict[int, tuple[float, float]] = {}
    rest = b""
    try:
        with opener(path, "rb") as fh:
            while True:
                chunk = fh.read(_SCAN_CHUNK)
                data = rest + chunk
                cut = data.rfind(b">") + 1 if chunk else len(data)
                rest, data = data[cut:], data[:cut]
                _scan_chunk(path, data, ids, negative)
                if not chunk:
                    break
    except (OSError, EOFError, ValueError, zlib.error) as exc:
        if isinstance(exc, NetworkFormatError):
            raise
        raise NetworkFormatError(
            msg("geo.osm_parse.truncated", file=path.name, error=str(exc), fix=_fix_export(path))
        ) from exc
    for kind, parts in ids.items():
        if not parts:
            continue
        all_ids = np.sort(np.concatenate(parts))
        dup = np.unique(all_ids[1:][all_ids[1:] == all_ids[:-1]])
        if dup.size:
            shown = ", ".join(str(i) for i in dup[:5].tolist())
            more = msg("geo.osm_parse.and_more", n=dup.size - 5) if dup.size > 5 else ""
            which = (
                msg("geo.osm_parse.one_repeated", kind=kind, shown=shown)
                if dup.size == 1
                else msg("geo.osm_parse.many_repeated", kind=kind, shown=shown, more=more)
            )
            raise NetworkFormatError(
                msg(
                    "geo.osm_parse.repeated_ids",
                    file=path.name,
                    which=which,
                    kind=kind,
                    fix=_fix_export(path),
                )
            )
    return negative


def _scan_chunk(
    path: Path,
    data: bytes,
    ids: dict[str, list[np.ndarray]],
    negative: dict[int, tuple[float, float]],
) -> None:
    found: dict[str, list[int]] = {"node": [], "way": []}
    for m in _ELEMENT.finditer(data):
        kind = m.group(1).decode()
        attrs = {
            k.decode(): v.decode("utf-8", errors="replace") for k, v in _ATTR.findall(m.group(2))
        }
        if kind == "bounds":
            _check_bounds(path, attrs)
            continue
        if "id" not in attrs:
            continue
        ident = _parse_id(path, kind, attrs["id"])
        if kind == "node":
            if "lat" in attrs or "lon" in attrs:  # a deleted node in a change file has neither
                lat, lon = (
                    _parse_coord(
                        path, msg("geo.osm_parse.node_where", id=ident), name, attrs.get(name, "")
                    )
                    for name in ("lat", "lon")
                )
                if ident < 0:
                    negative[ident] = (lon, lat)
            found["node"].append(ident)
        elif kind == "way":
            found["way"].append(ident)
    for kind, vals in found.items():
        if vals:
            ids[kind].append(np.asarray(vals, dtype="int64"))


def _osmium_error(path: Path, exc: BaseException) -> NetworkFormatError:
    """A product error for whatever libosmium raised on a file (no element is named by it)."""
    text = str(exc) or type(exc).__name__
    return NetworkFormatError(
        msg("geo.osm_parse.unreadable", file=path.name, error=text, fix=_fix_export(path))
    )


#: What libosmium raises on a broken file: RuntimeError (parse errors), InvalidLocationError
#: (a coordinate such as "abc"), ValueError ("illegal id"), and struct/size errors on PBF.
OSMIUM_ERRORS: tuple[type[BaseException], ...] = (
    RuntimeError,
    ValueError,
    OverflowError,
    osmium.InvalidLocationError,
)


def _osm_file(path: Path) -> osmium.io.File:
    fmt = sniff_osm_format(path)
    if fmt == "pbf":
        return osmium.io.File(str(path), "pbf")
    _, packed = _read_head(path, 8)
    return osmium.io.File(str(path), f"osm.{packed}" if packed else "osm")


def osm_bounds(path: str | Path) -> tuple[float, float, float, float] | None:
    """The (west, south, east, north) box an OSM file declares (``<bounds>``), or ``None``."""
    path = Path(path)
    try:
        box = osmium.FileProcessor(_osm_file(path)).header.box()
    except NetworkFormatError:
        raise
    except OSMIUM_ERRORS as exc:
        raise _osmium_error(path, exc) from exc
    if not box.valid():
        return None
    return (
        float(box.bottom_left.lon),
        float(box.bottom_left.lat),
        float(box.top_right.lon),
        float(box.top_right.lat),
    )


@dataclass
class _Ways:
    """Runs of consecutive located nodes of accepted ways (one row per run)."""

    way_id: list[int] = field(default_factory=list)
    tags: list[dict[str, str]] = field(default_factory=list)
    refs: list[np.ndarray] = field(default_factory=list)
    lon: list[np.ndarray] = field(default_factory=list)
    lat: list[np.ndarray] = field(default_factory=list)


def _read_ways(
    path: Path,
    accept: Callable[[Mapping[str, str]], bool],
    negative: Mapping[int, tuple[float, float]] | None = None,
) -> tuple[_Ways, Counter[str], Counter[str], int]:
    """Read highway ways; return accepted runs, highway counts seen/kept and missing refs."""
    fp = (
        osmium.FileProcessor(_osm_file(path))
        .with_locations()
        .with_filter(EntityFilter(osmium.osm.WAY))
        .with_filter(KeyFilter("highway"))
    )
    out = _Ways()
    seen: Counter[str] = Counter()
    kept: Counter[str] = Counter()
    missing = 0
    try:
        for way in fp:
            if not isinstance(way, osmium.osm.Way):
                continue
            tags = dict(way.tags)
            seen[tags["highway"]] += 1
            if not accept(tags):
                continue
            kept[tags["highway"]] += 1
            n = len(way.nodes)
            refs = np.empty(n, dtype="int64")
            lon = np.empty(n)
            lat = np.empty(n)
            ok = np.zeros(n, dtype=bool)
            for i, nd in enumerate(way.nodes):
                refs[i] = nd.ref
                loc = nd.location
                if loc.valid():
                    ok[i] = True
                    lon[i] = loc.lon
                    lat[i] = loc.lat
                elif negative and nd.ref in negative:
                    # libosmium's location index holds no negative ids (JOSM's unsaved nodes).
                    ok[i] = True
                    lon[i], lat[i] = negative[nd.ref]
            missing += int(n - ok.sum())
            # Cut the way where nodes are missing so no straight line jumps across the gap.
            bounds = np.flatnonzero(np.diff(np.concatenate([[0], ok.astype("int8"), [0]])))
            for start, stop in zip(bounds[::2], bounds[1::2], strict=True):
                if stop - start >= 2:
                    out.way_id.append(int(way.id))
                    out.tags.append(tags)
                    out.refs.append(refs[start:stop])
                    out.lon.append(lon[start:stop])
                    out.lat.append(lat[start:stop])
    except NetworkFormatError:
        raise
    except OSMIUM_ERRORS as exc:
        raise _osmium_error(path, exc) from exc
    return out, seen, kept, missing


def display_name(tags: Mapping[str, str]) -> str:
    """Display name: Chinese first, then the default name, then English."""
    for key in ("name:zh", "name", "name:en"):
        value = tags.get(key)
        if value:
            return str(value)
    return ""


@dataclass(frozen=True)
class _WayGraph:
    """Way runs cut at graph nodes: way ends and OSM nodes used more than once."""

    a: np.ndarray  # first coordinate index of each edge
    b: np.ndarray  # last coordinate index of each edge
    run: np.ndarray  # way of each edge
    inverse: np.ndarray  # distinct OSM node of each coordinate
    node_index: np.ndarray  # graph node of each distinct OSM node (-1: none)
    node_ids: np.ndarray  # OSM id of each graph node
    node_occ: np.ndarray  # a coordinate index of each graph node


def _way_graph(ways: _Ways) -> _WayGraph:
    """Cut the ways at intersections, closed rings and their ends (vectorised)."""
    lengths = np.array([r.size for r in ways.refs], dtype="int64")
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    ends = starts + lengths - 1
    refs = np.concatenate(ways.refs)
    run_of = np.repeat(np.arange(lengths.size), lengths)
    uniq, first_occ, inverse, counts = np.unique(
        refs, return_index=True, return_inverse=True, return_counts=True
    )
    split = counts[inverse] > 1
    split[starts] = True
    split[ends] = True
    pos = np.flatnonzero(split)
    same_run = run_of[pos[:-1]] == run_of[pos[1:]]
    a = pos[:-1][same_run]
    is_node = np.zeros(uniq.size, dtype=bool)
    is_node[inverse[pos]] = True
    node_index = np.full(uniq.size, -1, dtype="int64")
    node_index[is_node] = np.arange(int(is_node.sum()))
    return _WayGraph(
        a=a,
        b=pos[1:][same_run],
        run=run_of[a],
        inverse=inverse,
        node_index=node_index,
        node_ids=uniq[is_node],
        node_occ=first_occ[is_node],
    )


def _directed_edges(
    wg: _WayGraph, tags: list[dict[str, str]], *, mode: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Edges in their travel direction, plus the way back of two-way drive edges.

    Returns the first and last coordinate index of each edge, its way and whether its way is
    one-way.
    """
    a, b, run = wg.a, wg.b, wg.run
    forward = np.ones(a.size, dtype=bool)
    both = np.ones(a.size, dtype=bool)
    oneway_run = np.zeros(len(tags), dtype=bool)
    if mode == "drive":
        ow = np.array(
            [t.get("oneway") in ONEWAY_VALUES or t.get("junction") == "roundabout" for t in tags],
            dtype=bool,
        )
        rev = np.array([t.get("oneway") in REVERSED_VALUES for t in tags], dtype=bool)
        oneway_run = ow
        forward = ~(ow[run] & rev[run])
        both = ~ow[run]
    e_from = np.where(forward, a, b)
    e_to = np.where(forward, b, a)
    if mode == "drive":
        e_from, e_to = np.concatenate([e_from, e_to[both]]), np.concatenate([e_to, e_from[both]])
        run = np.concatenate([run, run[both]])
    return e_from, e_to, run, oneway_run


def _run_lines(e_from: np.ndarray, e_to: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """LineStrings through the coordinates ``e_from`` .. ``e_to`` (either direction)."""
    n_pts = np.abs(e_to - e_from) + 1
    edge_of = np.repeat(np.arange(e_from.size), n_pts)
    step = np.arange(edge_of.size) - np.repeat(np.cumsum(n_pts) - n_pts, n_pts)
    direction = np.sign(e_to - e_from)
    coord_idx = e_from[edge_of] + step * direction[edge_of]
    return shapely.linestrings(np.column_stack([x[coord_idx], y[coord_idx]]), indices=edge_of)


def read_osm_edges(path: str | Path, *, mode: str = "walk") -> EdgeArrays:
    """Read the street edges usable by ``mode`` from an OSM XML or PBF file.

    Parameters
    ----------
    path
        ``.osm`` / ``.osm.xml`` / ``.osm.pbf`` file.
    mode
        ``"walk"``, ``"bike"`` or ``"drive"``. Drive edges follow ``oneway`` (and roundabouts);
        walking and cycling edges are undirected.

    Returns
    -------
    EdgeArrays
        Projected to the local UTM zone, with edge attributes ``highway``, ``name``,
        ``osm_way_id`` and, for drive, ``oneway``, ``speed_kph``, ``travel_time_s``.
    """
    path = Path(path)
    check_mode(mode)
    negative = check_osm_xml(path) if sniff_osm_format(path) == "xml" else {}
    ways, seen, kept, missing = _read_ways(path, way_filter(mode), negative)
    if not ways.refs:
        found = ", ".join(f"{k} ×{n}" for k, n in seen.most_common(8))
        raise EmptyNetworkError(
            msg(
                "geo.osm_parse.no_ways",
                file=path.name,
                mode=mode,
                found=found or msg("geo.osm_parse.no_highways"),
            )
        )
    wg = _way_graph(ways)
    x_all, y_all, crs = project_xy(np.concatenate(ways.lon), np.concatenate(ways.lat))
    tags = ways.tags
    e_from, e_to, run, oneway_run = _directed_edges(wg, tags, mode=mode)
    geometry = _run_lines(e_from, e_to, x_all, y_all)
    attrs: dict[str, np.ndarray] = {
        "highway": np.array([t.get("highway", "") for t in tags], dtype=object)[run],
        "name": np.array([display_name(t) for t in tags], dtype=object)[run],
        "osm_way_id": np.array(ways.way_id, dtype="int64")[run],
    }
    if mode == "drive":
        speeds = np.array(
            [maxspeed_kph(t.get("maxspeed")) or default_speed_kph(t.get("highway")) for t in tags]
        )
        attrs["oneway"] = oneway_run[run]
        attrs["speed_kph"] = speeds[run]
        attrs["travel_time_s"] = shapely.length(geometry) / (speeds[run] / 3.6)
    notes = [
        msg(
            "geo.osm_parse.note_ways",
            seen=sum(seen.values()),
            kept=sum(kept.values()),
            mode=mode,
        )
    ]
    if missing:
        notes.append(msg("geo.osm_parse.note_missing", n=missing))
    logger.info("%s: %s", path.name, "; ".join(notes))
    return EdgeArrays(
        x=x_all[wg.node_occ],
        y=y_all[wg.node_occ],
        node_ids=wg.node_ids,
        u=wg.node_index[wg.inverse[e_from]],
        v=wg.node_index[wg.inverse[e_to]],
        geometry=geometry,
        crs=crs,
        source=path.name,
        attrs=attrs,
        bounds=osm_bounds(path),
        notes=tuple(notes),
    )


#: Tags kept on features besides the filter keys (names, capacity, building height).
FEATURE_EXTRA_TAGS: tuple[str, ...] = (
    "name",
    "name:zh",
    "name:en",
    "capacity",
    "beds",
    "building:levels",
    "height",
)


def read_osm_features(
    path: str | Path, *, keys: Iterable[str], extra_tags: Iterable[str] = FEATURE_EXTRA_TAGS
) -> gpd.GeoDataFrame:
    """Read every node, way and multipolygon relation carrying one of ``keys``.

    Parameters
    ----------
    path
        ``.osm`` / ``.osm.pbf`` file.
    keys
        Tag keys of interest (e.g. ``amenity``, ``leisure``, ``building``).
    extra_tags
        Further tags to keep as columns when present.

    Returns
    -------
    geopandas.GeoDataFrame
        WGS-84; columns ``osm_id`` ("node/1", "way/2", "relation/3"), ``element``, one string
        column per key and extra tag (``None`` when absent) and ``geometry`` (points for nodes,
        polygons for closed ways and multipolygons, lines for open ways).
    """
    path = Path(path)
    keys = tuple(dict.fromkeys(keys))
    columns = tuple(dict.fromkeys((*keys, *extra_tags)))
    if sniff_osm_format(path) == "xml":
        check_osm_xml(path)
    fp = (
        osmium.FileProcessor(_osm_file(path))
        .with_areas(KeyFilter(*keys))
        .with_filter(KeyFilter(*keys))
    )
    factory = osmium.geom.WKBFactory()
    rows: dict[str, tuple[str, dict[str, str], bytes | str]] = {}
    lines: dict[str, tuple[str, dict[str, str], bytes | str]] = {}
    try:
        for obj in fp:
            tags = {k: obj.tags[k] for k in columns if k in obj.tags}
            try:
                if isinstance(obj, osmium.osm.Node):
                    rows[f"node/{obj.id}"] = ("node", tags, factory.create_point(obj))
                elif isinstance(obj, osmium.osm.Way):
                    # Closed ways come back as areas too; keep the line only as a fallback.
                    lines[f"way/{obj.id}"] = ("way", tags, factory.create_linestring(obj))
                elif isinstance(obj, osmium.osm.Area):
                    element = "way" if obj.from_way() else "relation"
                    wkb = factory.create_multipolygon(obj)
                    rows[f"{element}/{obj.orig_id()}"] = (element, tags, wkb)
            except (osmium.InvalidLocationError, RuntimeError):
                continue
    except NetworkFormatError:
        raise
    except OSMIUM_ERRORS as exc:
        raise _osmium_error(path, exc) from exc
    for osm_id, row in lines.items():
        rows.setdefault(osm_id, row)
    ids = list(rows)
    geoms = shapely.from_wkb([rows[i][2] for i in ids]) if ids else np.array([], dtype=object)
    # Single polygons read better (and dissolve faster) than one-part multipolygons.
    single = shapely.get_num_geometries(geoms) == 1
    poly = shapely.get_type_id(geoms) == 6
    geoms = np.where(single & poly, shapely.get_geometry(geoms, 0), geoms)
    data: dict[str, list[Any]] = {
        "osm_id": ids,
        "element": [rows[i][0] for i in ids],
    }
    for col in columns:
        data[col] = [rows[i][1].get(col) for i in ids]
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=WGS84)
