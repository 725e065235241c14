"""What can I reach from here? Nearest facility of every category from one point, with its route.

The distance is exactly what :func:`coverage.analysis.analyse` gives a demand point standing there
(the same snapping and the same per-node nearest-facility search, read off the result), so a
point query in a meeting never disagrees with the maps. The route is traced by one single-source
search from the facility found, cut at that distance.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.sparse import csgraph
from shapely.geometry import LineString
from shapely.ops import substring

from coverage.analysis import CoverageResult
from coverage.distance import COVER_TOL_M, augmented_graph, point_distance
from coverage.snap import Snap, snap_points, twin_edges
from geo.datum import to_wgs84
from geo.errors import CoordinateError
from geo.messages import msg
from geo.network import WGS84, Network, derived
from geo.taxonomy import get_category

logger = logging.getLogger(__name__)

__all__ = ["PointQuery", "query_point"]

COLUMNS = [
    "category",
    "name_zh",
    "name_en",
    "criterion",
    "threshold_m",
    "facility_id",
    "facility_name",
    "distance_m",
    "minutes",
    "covered",
    "geometry",
]


@dataclass(frozen=True)
class PointQuery:
    """The answer to "what can I reach from here?".

    Attributes
    ----------
    lon, lat
        The point (WGS-84).
    snapped
        Whether the point is within the snap tolerance of a street.
    snap_distance_m
        Straight distance from the point to the nearest street.
    table
        One row per analysed category (WGS-84 GeoDataFrame): ``category, name_zh, name_en,
        criterion, threshold_m, facility_id, facility_name, distance_m`` (``inf`` when none is
        reachable), ``minutes, covered`` and the route as ``geometry`` (``None`` when
        unreachable).
    """

    lon: float
    lat: float
    snapped: bool
    snap_distance_m: float
    table: gpd.GeoDataFrame


def query_point(
    network: Network,
    result: CoverageResult,
    *,
    lon: float,
    lat: float,
    crs: str = "wgs84",
    lang: str = "zh",
) -> PointQuery:
    """Nearest facility of each analysed category from one point, with the route.

    Parameters
    ----------
    network
        The network ``result`` was computed on.
    result
        A coverage result (its per-node searches are reused).
    lon, lat
        The point, in degrees.
    crs
        Datum of ``lon``/``lat``: ``wgs84`` (default), ``gcj02`` or ``bd09``.
    lang
        Language of the criterion label.

    Returns
    -------
    PointQuery

    Raises
    ------
    CoordinateError
        When ``lon``/``lat`` are not finite degrees.
    """
    if not (np.isfinite(lon) and np.isfinite(lat) and abs(lon) <= 180 and abs(lat) <= 90):
        raise CoordinateError(msg("coverage.point_query.bad_lonlat", lon=repr(lon), lat=repr(lat)))
    wlon, wlat = to_wgs84([lon], [lat], crs=crs)
    point = gpd.GeoSeries(gpd.points_from_xy(wlon, wlat), crs=WGS84)
    snap = snap_points(network, point, tolerance_m=result.tolerance_m)
    rows = []
    for key in result.categories:
        rows.append(_one_category(network, result, snap, key, lang))
    table = gpd.GeoDataFrame(pd.DataFrame(rows, columns=COLUMNS), geometry="geometry", crs=WGS84)
    return PointQuery(
        lon=float(wlon[0]),
        lat=float(wlat[0]),
        snapped=bool(snap.ok[0]),
        snap_distance_m=float(snap.offset_m[0]),
        table=table,
    )


def _one_category(
    network: Network, result: CoverageResult, snap: Snap, key: str, lang: str
) -> dict[str, Any]:
    crit = result.criteria[key]
    cat = get_category(key)
    fac = result.facilities
    rows = np.flatnonzero(fac["category"].astype(str).to_numpy() == key)
    if result.facility_snap is None:
        raise CoordinateError(msg("coverage.point_query.no_snaps"))
    sub = result.facility_snap.subset(rows)
    nd = result.node_distance[key]
    ns_rows = result.node_source[key]
    # node_source holds rows of ``facilities``; point_distance wants indexes into ``sub``.
    pos = np.full(len(fac), -1, dtype="int64")
    pos[rows] = np.arange(rows.size)
    ns = np.where(ns_rows >= 0, pos[np.maximum(ns_rows, 0)], -1)
    dist, src = point_distance(network, nd, ns, snap, sources=sub)
    d, s = float(dist[0]), int(src[0])
    row: dict[str, Any] = {
        "category": key,
        "name_zh": cat.name_zh,
        "name_en": cat.name_en,
        "criterion": crit.label(lang),
        "threshold_m": crit.threshold_m,
        "facility_id": None,
        "facility_name": None,
        "distance_m": d,
        "minutes": d / crit.speed / 60.0,
        "covered": bool(d <= crit.threshold_m + COVER_TOL_M),
        "geometry": None,
    }
    if s < 0:
        return row
    frow = int(rows[s])
    row["facility_id"] = fac["facility_id"].iloc[frow]
    row["facility_name"] = fac["name"].iloc[frow]
    route = _route(network, snap, sub.subset([s]), d)
    if route is not None:
        tr = pyproj.Transformer.from_crs(network.crs, WGS84, always_xy=True)
        row["geometry"] = shapely.transform(route, lambda xy: np.column_stack(tr.transform(*xy.T)))
    return row


def _route(network: Network, point: Snap, facility: Snap, distance: float) -> LineString | None:
    """The walk from the point to the facility, as a line in the network's CRS."""
    e_p, a_p = int(point.edge[0]), float(point.along_m[0])
    e_f, a_f = int(facility.edge[0]), float(facility.along_m[0])
    g_p, g_f = network.geometry[e_p], network.geometry[e_f]
    start = [(float(point.x[0]), float(point.y[0]))]
    end = [(float(facility.x[0]), float(facility.y[0]))]
    direct = _same_edge(network, point, facility)
    if direct is not None and abs(direct - distance) <= 1e-6:
        piece = _along(g_p, a_p, a_f, network, e_p)
        return _join([start, piece, end])
    graph, _ = augmented_graph(network, facility)
    n = network.n_nodes
    dist, pred = csgraph.dijkstra(
        graph, directed=True, indices=n, limit=distance + 1e-6, return_predecessors=True
    )
    cands = _point_exits(network, point)
    best = None
    for node, to_node in cands:
        total = float(dist[node]) + to_node + float(point.offset_m[0])
        if abs(total - distance) <= 1e-6 * max(1.0, distance) and np.isfinite(dist[node]):
            best = node
            break
    if best is None:
        logger.warning("point query: no route at %.1f m (rounding); route not drawn", distance)
        return None
    chain = [best]
    while pred[chain[-1]] >= 0 and pred[chain[-1]] != n:
        chain.append(int(pred[chain[-1]]))
    # The search graph runs against the direction of travel, so the chain is in travel order.
    parts = [start, _along(g_p, a_p, _node_pos(network, e_p, best), network, e_p)]
    for a, b in itertools.pairwise(chain):
        parts.append(_edge_line(network, a, b))
    last = chain[-1]
    parts.append(_along(g_f, _node_pos(network, e_f, last), a_f, network, e_f))
    parts.append(end)
    return _join(parts)


def _point_exits(network: Network, point: Snap) -> list[tuple[int, float]]:
    """End nodes a point may leave its edge by, with the distance along the edge to each."""
    e, a = int(point.edge[0]), float(point.along_m[0])
    out = [(int(network.v[e]), float(network.length[e]) - a)]
    if not network.directed or twin_edges(network)[e] >= 0:
        out.insert(0, (int(network.u[e]), a))
    return out


def _same_edge(network: Network, point: Snap, facility: Snap) -> float | None:
    if int(point.edge[0]) != int(facility.edge[0]):
        return None
    e = int(point.edge[0])
    ap, af = float(point.along_m[0]), float(facility.along_m[0])
    if network.directed and twin_edges(network)[e] < 0 and af < ap:
        return None
    return float(point.offset_m[0]) + abs(af - ap) + float(facility.offset_m[0])


def _node_pos(network: Network, e: int, node: int) -> float:
    return 0.0 if int(network.u[e]) == node else float(network.length[e])


def _along(geom: LineString, a: float, b: float, network: Network, e: int) -> list[Any]:
    """Coordinates along ``geom`` from ``a`` to ``b`` (network metres), in that order."""
    scale = float(geom.length) / max(float(network.length[e]), 1e-12)
    lo, hi = sorted((a * scale, b * scale))
    piece = substring(geom, lo, hi)
    coords = list(piece.coords) if piece.geom_type == "LineString" else [piece.coords[0]]
    return coords if a <= b else coords[::-1]


def _edge_index(network: Network) -> tuple[np.ndarray, np.ndarray]:
    """Sorted node-pair keys and the shortest edge of each (travel direction for directed)."""

    def build() -> tuple[np.ndarray, np.ndarray]:
        n = np.int64(network.n_nodes)
        u, v = network.u.astype("int64"), network.v.astype("int64")
        if not network.directed:
            u, v = np.minimum(u, v), np.maximum(u, v)
        keys = u * n + v
        order = np.lexsort((network.length, keys))
        keys = keys[order]
        first = np.ones(keys.size, dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        return keys[first], order[first]

    return derived(network, "edge_index", build)


def _edge_line(network: Network, a: int, b: int) -> list[Any]:
    keys, edges = _edge_index(network)
    n = network.n_nodes
    lo, hi = (a, b) if network.directed else (min(a, b), max(a, b))
    i = int(np.searchsorted(keys, lo * n + hi))
    e = int(edges[i])
    coords = list(network.geometry[e].coords)
    return coords if int(network.u[e]) == a else coords[::-1]


def _join(parts: list[list[Any]]) -> LineString:
    coords: list[Any] = []
    for part in parts:
        for c in part:
            if not coords or tuple(c) != tuple(coords[-1]):
                coords.append(tuple(c))
    if len(coords) == 1:
        coords.append(coords[0])
    return LineString(coords)
