"""Service areas from the reached stretches of the street edges.

For a set of facilities and a threshold ``T`` the reached part of an edge is every position
``x`` (metres from ``u``) whose network distance to a facility is at most ``T``: the stretch
``[0, T − D(u)]`` from the ``u`` end, ``[len − (T − D(v)), len]`` from the ``v`` end, and, on an
edge that holds a facility, the stretch around it. The area for ``T`` is drawn from the
stretches reached within ``T − w`` (``w`` = ``settings.service_area_buffer_m``, at most ``T/2``)
buffered by ``w`` each side: it then holds every position whose walk to its street plus the way
along it is within ``T``, ends at ``T`` along every street and overshoots it by at most
(√2 − 1)·w diagonally past a stretch's end (buffering the ``T`` stretches would overshoot by the
whole ``w``, shading residents just beyond the threshold). Buffers have round ends and joins with
``settings.service_area_quad_segs`` segments per quarter circle: 4 instead of shapely's 8 changes
areas by < 0.2 % on a street grid and cuts the buffer, union and reprojection work), unioned with
``shapely.union_all``, and holes smaller than ``settings.service_area_min_hole_m2`` are filled.

* Rings for several thresholds **nest by construction** (a smaller threshold reaches a subset of
  every stretch) and the areas hold **no unreachable islands** (every piece is a reached street).
* Three kinds: ``"facility"`` — everything one facility reaches (areas of neighbours overlap);
  ``"dissolved"`` — everything any facility of the category reaches; ``"nearest"`` — the
  dissolved area split to the nearest facility (the stretch of an edge between two facilities is
  cut where their distances are equal; the search's source labels give the owner).
* **Speed.** Each piece is buffered once, never a merged MultiLineString (architecture.md,
  "Polygons are the expensive part"); the buffers of whole edges are computed once per network
  and buffer width and reused by every facility, threshold and kind; per-facility reach comes
  from batched multi-row ``csgraph.dijkstra`` calls with a limit; pieces are extracted with numpy
  (only edges holding a facility go through a small exact 1-D envelope in Python). The unions
  (one per facility and threshold, GEOS work that releases the GIL) run on up to
  :data:`_THREADS` threads. Each kind is built only when asked for: the per-facility areas cost
  one search and one polygon per facility, the nearest areas one polygon per facility on pieces
  cut from the category's single search (the dissolved area is their union).

For directed networks the area holds the street positions from which the facility is reached
within ``T`` (the resident's trip, :mod:`coverage.distance`).
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csgraph

from coverage.distance import (
    COVER_TOL_M,
    augmented_graph,
    incidence,
    lengths_bound_chords,
    local_searches,
    nearest_from,
)
from coverage.snap import Snap, geometry_lengths, snap_points, twin_edges
from geo import settings
from geo.errors import ConfigError
from geo.messages import msg
from geo.network import WGS84, Network, derived
from geo.taxonomy import get_category

logger = logging.getLogger(__name__)

__all__ = ["KINDS", "SERVICE_AREA_COLUMNS", "reached_pieces", "service_areas"]

SERVICE_AREA_COLUMNS = [
    "category",
    "facility_id",
    "kind",
    "threshold_m",
    "minutes",
    "area_m2",
    "geometry",
]

KINDS = ("facility", "dissolved", "nearest")

_EPS = 1e-9
# Up to this many pieces outside the small faces are buffered in one call with the faces.
_FEW = 200
# Per-facility areas whose pieces are held at once before their unions run on threads.
_BATCH = 64
# Most threads the unions run on (capped by the machine's cores).
_THREADS = 4


def _buffer(geom: Any, distance: float) -> Any:
    """``shapely.buffer`` with ``settings.service_area_quad_segs`` segments per quarter circle."""
    return shapely.buffer(geom, distance, quad_segs=int(settings.service_area_quad_segs))


def _edge_buffers(network: Network, buffer_m: float, edges: np.ndarray) -> np.ndarray:
    """Buffers of whole edges, computed once per network and width and then reused."""
    key = ("edge_buffers", float(buffer_m), int(settings.service_area_quad_segs))
    cache, lock = derived(
        network, key, lambda: (np.full(network.n_edges, None, dtype=object), threading.Lock())
    )
    # Filled lazily, a few edges at a time: the lock keeps two sessions from writing at once.
    with lock:
        need = edges[pd.isna(cache[edges])]
        if need.size:
            need = np.unique(need)
            cache[need] = _buffer(network.geometry[need], buffer_m)
        return cache[edges]


def _substrings(network: Network, edges: np.ndarray, s: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Vectorised ``line_substring``: the stretch ``[s, t]`` (network metres) of each edge."""
    if edges.size == 0:
        return np.empty(0, dtype=object)
    geom_len = geometry_lengths(network)
    geoms = network.geometry[edges]
    length = network.length[edges]
    scale = np.divide(geom_len[edges], length, out=np.ones(edges.size), where=length > 0)
    gs, gt = s * scale, t * scale
    start = shapely.get_coordinates(shapely.line_interpolate_point(geoms, gs))
    end = shapely.get_coordinates(shapely.line_interpolate_point(geoms, gt))
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    # Distance along each line of each vertex.
    step = np.hypot(np.diff(coords[:, 0]), np.diff(coords[:, 1]))
    step = np.concatenate([[0.0], step])
    first = np.ones(owner.size, dtype=bool)
    first[1:] = owner[1:] != owner[:-1]
    step[first] = 0.0
    cum = np.cumsum(step)
    cum -= np.repeat(cum[first], np.diff(np.append(np.flatnonzero(first), owner.size)))
    inner = (cum > gs[owner] + 1e-9) & (cum < gt[owner] - 1e-9)
    n = edges.size
    piece = np.concatenate([np.arange(n), owner[inner], np.arange(n)])
    pos = np.concatenate([gs, cum[inner], gt])
    xy = np.concatenate([start, coords[inner], end])
    order = np.lexsort((pos, piece))
    return shapely.linestrings(xy[order], indices=piece[order])


def _envelope_pieces(
    network: Network,
    edge: int,
    d_u: float,
    d_v: float,
    lab_u: int,
    lab_v: int,
    fac: list[tuple[float, float, int]],
    T: float,
    split: bool,
) -> list[tuple[int, float, float, int]]:
    """Exact reached stretches of an edge that holds facilities (1-D lower envelope)."""
    length = float(network.length[edge])
    two_way = (not network.directed) or twin_edges(network)[edge] >= 0
    # Each function: (slope, intercept, lo, hi, label), value = intercept + slope * x.
    funcs: list[tuple[float, float, float, float, int]] = []
    if np.isfinite(d_u) and two_way:
        funcs.append((1.0, d_u, 0.0, length, lab_u))
    if np.isfinite(d_v):
        funcs.append((-1.0, d_v + length, 0.0, length, lab_v))
    for off, a, lab in fac:
        funcs.append((-1.0, off + a, 0.0, a, lab))
        if two_way:
            funcs.append((1.0, off - a, a, length, lab))
    if not funcs:
        return []
    cuts = {0.0, length}
    for sl, ic, lo, hi, _ in funcs:
        cuts.update((lo, hi))
        x = (T - ic) / sl
        if lo < x < hi:
            cuts.add(x)
    for i, (s1, c1, *_r1) in enumerate(funcs):
        for s2, c2, *_r2 in funcs[i + 1 :]:
            if s1 != s2:
                x = (c2 - c1) / (s1 - s2)
                if 0.0 < x < length:
                    cuts.add(x)
    xs = sorted(cuts)
    out: list[tuple[int, float, float, int]] = []
    for a0, b0 in itertools.pairwise(xs):
        if b0 - a0 <= _EPS:
            continue
        mid = 0.5 * (a0 + b0)
        best, lab = np.inf, -1
        for sl, ic, lo, hi, lb in funcs:
            if lo - _EPS <= mid <= hi + _EPS:
                val = ic + sl * mid
                if val < best:
                    best, lab = val, lb
        if best > T + COVER_TOL_M:
            continue
        if not split:
            lab = -1
        if out and out[-1][3] == lab and abs(out[-1][2] - a0) <= _EPS:
            out[-1] = (edge, out[-1][1], b0, lab)
        else:
            out.append((edge, a0, b0, lab))
    return out


def _host_pieces(
    network: Network,
    node_dist: np.ndarray,
    node_label: np.ndarray | None,
    sources: Snap,
    source_label: np.ndarray,
    host_edges: np.ndarray,
    T: float,
    split: bool,
) -> list[tuple[int, float, float, int]]:
    """Reached stretches of the edges that hold sources (exact 1-D envelope, one edge a time)."""
    src_idx = np.flatnonzero(sources.ok)
    by_edge: dict[int, list[tuple[float, float, int]]] = {}
    for i in src_idx[np.isin(sources.edge[src_idx], host_edges)]:
        by_edge.setdefault(int(sources.edge[i]), []).append(
            (float(sources.offset_m[i]), float(sources.along_m[i]), int(source_label[i]))
        )
    extra: list[tuple[int, float, float, int]] = []
    for he in host_edges.tolist():
        a, b = int(network.u[he]), int(network.v[he])
        extra += _envelope_pieces(
            network,
            he,
            float(node_dist[a]),
            float(node_dist[b]),
            int(node_label[a]) if node_label is not None else -1,
            int(node_label[b]) if node_label is not None else -1,
            by_edge.get(he, []),
            T,
            split,
        )
    return extra


def reached_pieces(
    network: Network,
    node_dist: np.ndarray,
    node_label: np.ndarray | None,
    sources: Snap,
    source_label: np.ndarray,
    threshold_m: float,
    *,
    edges: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The reached stretches of the network's edges within a threshold.

    Parameters
    ----------
    network
        The network.
    node_dist
        Distance from each node to the nearest source (from a search over ``sources``).
    node_label
        Owner of each node (split to the nearest), or ``None`` to keep stretches whole.
    sources
        The snapped sources of the search.
    source_label
        Owner label of each source (same space as ``node_label``).
    threshold_m
        The threshold ``T``.
    edges
        Restrict to these edges (e.g. those around one facility); default every edge.

    Returns
    -------
    edge, start, end, label
        One row per piece (metres from ``u``); ``label`` is ``-1`` when not split.
    """
    T = float(threshold_m)
    split = node_label is not None
    e = np.arange(network.n_edges) if edges is None else np.asarray(edges, dtype="int64")
    twin = twin_edges(network)
    if network.directed:
        e = e[(twin[e] < 0) | (twin[e] > e)]
    ok = sources.ok
    fac_edges = np.unique(sources.edge[ok])
    hosts = np.isin(e, fac_edges)
    host_edges = e[hosts]
    e = e[~hosts]
    u, v = network.u[e], network.v[e]
    length = network.length[e]
    du, dv = node_dist[u], node_dist[v]
    two_way = np.ones(e.size, dtype=bool) if not network.directed else twin[e] >= 0
    r_u = np.where(two_way, T + COVER_TOL_M - du, -np.inf)
    r_v = T + COVER_TOL_M - dv
    if node_label is not None:
        lu, lv = node_label[u], node_label[v]
    else:
        lu = lv = np.full(e.size, -1)
    has_u = r_u > _EPS
    has_v = r_v > _EPS
    u_end = np.minimum(r_u, length)
    v_start = np.maximum(length - r_v, 0.0)
    meet = has_u & has_v & (u_end >= v_start)
    same = lu == lv
    # Whole edges (one owner): cached buffers later.
    whole = meet & same
    # Two owners meeting on the edge: cut where their distances are equal.
    cut = meet & ~same
    # Only cut edges have both ends reached; elsewhere inf - inf (a part cut off by a network
    # edit) would warn.
    xstar = np.zeros(e.size)
    xstar[cut] = np.clip(0.5 * (length[cut] + dv[cut] - du[cut]), 0.0, length[cut])
    only_u = has_u & ~meet
    only_v = has_v & ~meet
    # Pieces: whole edges, the u and v sides of cut edges, edges reached from one end only.
    ps = np.concatenate(
        [
            np.zeros(int(whole.sum()) + int(cut.sum())),
            np.maximum(v_start[cut], xstar[cut]),
            np.zeros(int(only_u.sum())),
            v_start[only_v],
        ]
    )
    u_cut = np.minimum(u_end[cut], xstar[cut])
    pt = np.concatenate([length[whole], u_cut, length[cut], u_end[only_u], length[only_v]])
    pe = np.concatenate([e[whole], e[cut], e[cut], e[only_u], e[only_v]])
    pl = np.concatenate([lu[whole], lu[cut], lv[cut], lu[only_u], lv[only_v]])
    if host_edges.size:
        extra = _host_pieces(
            network, node_dist, node_label, sources, source_label, host_edges, T, split
        )
        if extra:
            arr = np.array(extra, dtype="float64")
            pe = np.concatenate([pe, arr[:, 0].astype("int64")])
            ps = np.concatenate([ps, arr[:, 1]])
            pt = np.concatenate([pt, arr[:, 2]])
            pl = np.concatenate([pl, arr[:, 3].astype("int64")])
    keep = pt - ps > _EPS
    if not split:
        pl = np.full(pe.size, -1, dtype="int64")
    return pe[keep], ps[keep], pt[keep], pl[keep].astype("int64")


class _Pieces:
    """Reached pieces of edges: lines now, buffers only when asked (cached for whole edges)."""

    def __init__(
        self, network: Network, pe: np.ndarray, ps: np.ndarray, pt: np.ndarray, buffer_m: float
    ) -> None:
        self.network, self.pe, self.buffer_m = network, pe, buffer_m
        self.full = (ps <= _EPS) & (pt >= network.length[pe] - _EPS)
        self.lines = np.empty(pe.size, dtype=object)
        if self.full.any():
            self.lines[self.full] = network.geometry[pe[self.full]]
        part = ~self.full
        if part.any():
            self.lines[part] = _substrings(network, pe[part], ps[part], pt[part])

    def __len__(self) -> int:
        return int(self.pe.size)

    def subset(self, index: np.ndarray) -> _Pieces:
        """Some of the pieces."""
        out = object.__new__(_Pieces)
        out.network, out.buffer_m = self.network, self.buffer_m
        out.pe, out.full, out.lines = self.pe[index], self.full[index], self.lines[index]
        return out

    def buffers(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Buffers of the pieces (all, or those in ``mask``)."""
        idx = np.arange(len(self)) if mask is None else np.flatnonzero(mask)
        out = np.empty(idx.size, dtype=object)
        full = self.full[idx]
        if full.any():
            out[full] = _edge_buffers(self.network, self.buffer_m, self.pe[idx[full]])
        if (~full).any():
            out[~full] = _buffer(self.lines[idx[~full]], self.buffer_m)
        return out


def _per_facility_reach(network: Network, snap: Snap, tmax: float) -> Any:
    """Yield ``(facility, node distances, reached nodes)`` for each snapped facility.

    When edge lengths are never shorter than their lines, a node reached within ``tmax`` lies
    within ``tmax`` of the facility in a straight line, so each search runs on the small
    subgraph of those nodes (exact, and it avoids scipy's dense ``facilities × n`` output).
    Otherwise batched searches on the whole graph are used.
    """
    n = network.n_nodes
    ok = np.flatnonzero(snap.ok)
    if lengths_bound_chords(network):
        work = np.full(n, np.inf)
        for f, idx, dist in local_searches(network, snap, tmax):
            work[idx] = dist
            yield f, work, idx[dist < tmax]
            work[idx] = np.inf
        return
    batch = int(np.clip(2e7 // max(n, 1), 1, 256))
    for b0 in range(0, ok.size, batch):
        chunk = ok[b0 : b0 + batch]
        graph, _ = augmented_graph(network, snap.subset(chunk))
        dist = csgraph.dijkstra(
            graph, directed=True, indices=np.arange(n, n + chunk.size), limit=tmax
        )
        for j, f in enumerate(chunk.tolist()):
            d = dist[j, :n]
            yield f, d, np.flatnonzero(d < tmax)


def _fill_holes(geom: Any, min_hole_m2: float) -> Any:
    """Drop interior rings smaller than ``min_hole_m2``."""
    if geom is None or geom.is_empty or min_hole_m2 <= 0:
        return geom
    parts = shapely.get_parts(geom)
    fixed = []
    changed = False
    for p in parts:
        rings = [r for r in p.interiors if shapely.Polygon(r).area >= min_hole_m2]
        changed |= len(rings) != len(p.interiors)
        fixed.append(shapely.Polygon(p.exterior, rings))
    if len(fixed) == 1:
        return fixed[0]
    out = shapely.MultiPolygon(fixed)
    # A filled hole may now hold another part; only then is a union needed.
    return shapely.union_all(fixed) if changed and not out.is_valid else out


def _union(pieces: _Pieces, buffer_m: float, min_hole_m2: float) -> Any:
    """Union of the piece buffers with holes below ``min_hole_m2`` filled.

    Shortcut (exact): a face of the reached street lines (``shapely.polygonize``) whose area, or
    whose area shrunk by the buffer width, is below ``min_hole_m2`` can only leave holes that
    are filled anyway, so the union of such faces ``F`` belongs to the result. Every piece that
    ``F`` covers has its buffer inside ``F.buffer(w)``, and ``F.buffer(w)`` lies inside the
    result because ``F``'s boundary is made of reached lines. So the result is
    ``F.buffer(w) ∪ buffers of the pieces outside F`` with small holes filled: one buffer of a
    polygon replaces the union of every interior piece (measured: 3–9× faster than the plain
    union on a street grid, 1.2–2× on Helsinki's streets). Piece buffers are only made for the
    plain union. Falls back to it when there are no small faces or GEOS objects.
    """
    if len(pieces) == 0:
        return shapely.Polygon()
    lines = pieces.lines
    if min_hole_m2 > 0 and len(pieces) > 16:
        try:
            faces = shapely.get_parts(shapely.polygonize(lines))
            faces = faces[shapely.is_valid(faces)]
            area = shapely.area(faces)
            small = faces[area < min_hole_m2]
            big = faces[area >= min_hole_m2]
            if big.size:
                shrunk = shapely.area(_buffer(big, -buffer_m)) < min_hole_m2
                small = np.concatenate([small, big[shrunk]])
            if small.size:
                inner = shapely.coverage_union_all(small)
                if not shapely.is_valid(inner):
                    inner = shapely.union_all(small)
                shapely.prepare(inner)
                outside = ~shapely.covers(inner, lines)
                if outside.sum() <= _FEW:
                    # A few loose pieces: one buffer of the faces and the lines together.
                    parts = [inner, *lines[outside]]
                    merged = _buffer(shapely.GeometryCollection(parts), buffer_m)
                else:
                    # Many: chain them (degree-2 joins only) and union their buffers.
                    chains = shapely.get_parts(
                        shapely.line_merge(shapely.multilinestrings(lines[outside]))
                    )
                    merged = shapely.union_all(
                        np.concatenate([[_buffer(inner, buffer_m)], _buffer(chains, buffer_m)])
                    )
                if shapely.is_valid(merged):
                    return _fill_holes(merged, min_hole_m2)
        except shapely.errors.GEOSException:
            logger.debug("service_areas: face shortcut failed, plain union used")
    return _fill_holes(shapely.union_all(pieces.buffers()), min_hole_m2)


def _inputs(
    network: Network, result_or_facilities: Any, category: str, tolerance_m: float | None
) -> tuple[gpd.GeoDataFrame, Snap, np.ndarray | None, np.ndarray | None, float]:
    """Facilities of the category, their snaps, node distances/labels (if known) and speed."""
    from coverage.analysis import CoverageResult

    if isinstance(result_or_facilities, CoverageResult):
        res = result_or_facilities
        if category not in res.categories:
            raise ConfigError(
                msg(
                    "engine.service_areas.not_analysed",
                    category=repr(category),
                    analysed=str(list(res.categories)),
                )
            )
        rows = res.facility_rows(category)
        assert res.facility_snap is not None
        fac = res.facilities.iloc[rows].reset_index(drop=True)
        snap = res.facility_snap.subset(rows)
        # Node labels in result space are facility rows; map them to positions in `fac`.
        pos = np.full(len(res.facilities) + 1, -1, dtype="int64")
        pos[rows] = np.arange(rows.size)
        ns = res.node_source[category]
        labels = np.where(ns >= 0, pos[np.maximum(ns, 0)], -1)
        return fac, snap, res.node_distance[category], labels, res.criteria[category].speed
    fac = result_or_facilities
    if not isinstance(fac, gpd.GeoDataFrame):
        raise ConfigError(msg("engine.service_areas.bad_input", kind=type(fac).__name__))
    if "category" in fac.columns:
        fac = fac[fac["category"].astype(str) == category]
    fac = fac.reset_index(drop=True)
    if "facility_id" not in fac.columns:
        fac = fac.assign(facility_id=[f"f{i}" for i in range(len(fac))])
    snap = snap_points(network, fac, tolerance_m=tolerance_m)
    return fac, snap, None, None, get_category(category).criterion.speed


def _band(t: float, w: float) -> tuple[float, float]:
    """Reach of the street stretches and the band width drawn for threshold ``t``.

    The stretches reached within ``t - w``, widened by ``w`` with round ends, hold every
    position whose walk to the street plus the way along it is at most ``t`` (the disc at a
    stretch's end covers the last ``w`` metres of street and the walk beside them), end exactly
    at ``t`` along each street, and overshoot it by at most (√2 − 1)·w off the street's end.
    Stretches reached within ``t`` widened by ``w`` would overshoot by the whole ``w``: residents
    just beyond the threshold would be shaded as covered. Small thresholds use a narrower band
    (``w ≤ t / 2``).
    """
    band = min(w, 0.5 * t)
    return t - band, band


def _workers() -> int:
    """Threads for the polygon work: GEOS releases the GIL inside shapely's array functions."""
    return max(1, min(_THREADS, os.cpu_count() or 1))


def _unions(jobs: list[tuple[_Pieces, float]], hole: float) -> list[Any]:
    """:func:`_union` of each ``(pieces, band)``, in order, on :func:`_workers` threads."""
    if len(jobs) < 2 or _workers() == 1:
        return [_union(p, b, hole) for p, b in jobs]
    with ThreadPoolExecutor(max_workers=_workers()) as pool:
        return list(pool.map(lambda job: _union(job[0], job[1], hole), jobs))


def _facility_areas(
    network: Network, snap: Snap, ts: list[float], w: float, hole: float, progress: Any
) -> list[tuple[int, float, Any]]:
    """``(facility, threshold, area)`` of everything each snapped facility reaches.

    Pieces are cut one facility at a time (the search's work array is reused) and their unions
    run on threads a batch at a time, so memory stays that of one batch.
    """
    tmax = ts[-1] + COVER_TOL_M
    inc = incidence(network)
    total = int(snap.ok.sum())
    out: list[tuple[int, float, Any]] = []
    keys: list[tuple[int, float]] = []
    jobs: list[tuple[_Pieces, float]] = []

    def flush() -> None:
        out.extend((f, t, g) for (f, t), g in zip(keys, _unions(jobs, hole), strict=True))
        keys.clear()
        jobs.clear()

    for done, (f, d, near_nodes) in enumerate(_per_facility_reach(network, snap, tmax), 1):
        edges = np.unique(np.concatenate([inc[near_nodes].indices, [int(snap.edge[f])]]))
        one = snap.subset(np.array([f]))
        for t in ts:
            reach_m, band = _band(t, w)
            pe, ps, pt, _ = reached_pieces(
                network, d, None, one, np.array([f]), reach_m, edges=edges
            )
            keys.append((f, t))
            jobs.append((_Pieces(network, pe, ps, pt, band), band))
        if len(jobs) >= _BATCH:
            flush()
        if progress is not None and done % 50 == 0:
            progress("service areas (per facility)", done / total)
    flush()
    return out


def _nearest_areas(
    network: Network,
    snap: Snap,
    node_dist: np.ndarray,
    node_lab: np.ndarray,
    t: float,
    w: float,
    hole: float,
) -> dict[int, Any]:
    """Facility position → the part of the dissolved area nearest to it, for threshold ``t``."""
    reach_m, band = _band(t, w)
    labels = np.arange(snap.ok.size, dtype="int64")
    pe, ps, pt, pl = reached_pieces(network, node_dist, node_lab, snap, labels, reach_m)
    pieces = _Pieces(network, pe, ps, pt, band)
    order = np.argsort(pl, kind="stable")
    groups = [g for g in np.split(order, np.flatnonzero(np.diff(pl[order])) + 1) if g.size]
    groups = [g for g in groups if pl[g[0]] >= 0]
    geoms = _unions([(pieces.subset(g), band) for g in groups], hole)
    return {int(pl[g[0]]): geom for g, geom in zip(groups, geoms, strict=True)}


def _check_options(kinds: Iterable[str], thresholds_m: Sequence[float] | float) -> tuple[Any, ...]:
    """The kinds and the sorted distinct thresholds, or :class:`ConfigError`."""
    kinds = tuple(kinds)
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise ConfigError(
            msg("engine.service_areas.unknown_kinds", kinds=str(bad), allowed=str(KINDS))
        )
    ts = sorted({float(t) for t in np.atleast_1d(np.asarray(thresholds_m, dtype="float64"))})
    if not ts or min(ts) <= 0 or not np.all(np.isfinite(ts)):
        raise ConfigError(msg("engine.service_areas.bad_thresholds", value=repr(thresholds_m)))
    return kinds, ts


def service_areas(
    network: Network,
    result_or_facilities: Any,
    *,
    category: str,
    thresholds_m: Sequence[float] | float,
    kinds: Iterable[str] = KINDS,
    buffer_m: float | None = None,
    min_hole_m2: float | None = None,
    tolerance_m: float | None = None,
    progress: Any = None,
) -> gpd.GeoDataFrame:
    """Service-area polygons of one category's facilities.

    Parameters
    ----------
    network
        The network.
    result_or_facilities
        A :class:`~coverage.analysis.CoverageResult` (reuses its search) or a facilities
        GeoDataFrame (rows of other categories are ignored).
    category
        Category key.
    thresholds_m
        One or several network distances (metres); rings nest.
    kinds
        Any of ``"facility"``, ``"dissolved"``, ``"nearest"``. Each is built only when asked
        for: ``"facility"`` (one search and one polygon per facility) is the expensive one.
    buffer_m
        Width each side of a reached street; default ``settings.service_area_buffer_m``.
    min_hole_m2
        Holes smaller than this are filled; default ``settings.service_area_min_hole_m2``.
    tolerance_m
        Snap tolerance when facilities are given as a GeoDataFrame.
    progress
        Optional ``callable(step, fraction)``.

    Returns
    -------
    geopandas.GeoDataFrame
        WGS-84, columns :data:`SERVICE_AREA_COLUMNS`; ``facility_id`` is ``""`` for dissolved
        areas. Facilities that could not be snapped get no polygon.
    """
    kinds, ts = _check_options(kinds, thresholds_m)
    w = float(settings.service_area_buffer_m if buffer_m is None else buffer_m)
    hole = float(settings.service_area_min_hole_m2 if min_hole_m2 is None else min_hole_m2)
    fac, snap, node_dist, node_lab, speed = _inputs(
        network, result_or_facilities, category, tolerance_m
    )
    fid = fac["facility_id"].astype(str).to_numpy()
    rows: list[tuple[str, str, float, Any]] = []
    per_threshold: dict[float, list[Any]] = {}
    if "facility" in kinds and snap.ok.any():
        for f, t, geom in _facility_areas(network, snap, ts, w, hole, progress):
            rows.append((fid[f], "facility", t, geom))
            per_threshold.setdefault(t, []).append(geom)
    if "dissolved" in kinds and "nearest" not in kinds and per_threshold:
        # Everything any facility reaches is the union of what each reaches; small holes of
        # one facility's area never touch a large hole of the union, so filling commutes.
        for t in ts:
            parts = np.array(per_threshold.get(t, []), dtype=object)
            rows.append(("", "dissolved", t, _fill_holes(shapely.union_all(parts), hole)))
    elif ("dissolved" in kinds or "nearest" in kinds) and snap.ok.any():
        if node_dist is None:
            node_dist, node_lab = nearest_from(network, snap)
        assert node_lab is not None
        for t in ts:
            nearest = _nearest_areas(network, snap, node_dist, node_lab, t, w, hole)
            if "nearest" in kinds:
                rows += [(fid[lab], "nearest", t, nearest[lab]) for lab in sorted(nearest)]
            if "dissolved" in kinds:
                parts = np.array(list(nearest.values()), dtype=object)
                rows.append(("", "dissolved", t, _fill_holes(shapely.union_all(parts), hole)))
            if progress is not None:
                progress("service areas (dissolved)", 0.2)
    skipped = int((~snap.ok).sum())
    if skipped:
        logger.info("service_areas: %d facilities of %s not snapped, no polygon", skipped, category)
    return _frame(rows, category=category, speed=speed, crs=network.crs)


def _frame(
    rows: list[tuple[str, str, float, Any]], *, category: str, speed: float, crs: Any
) -> gpd.GeoDataFrame:
    """The areas as a WGS-84 frame with :data:`SERVICE_AREA_COLUMNS`."""
    if not rows:
        return gpd.GeoDataFrame(
            {c: [] for c in SERVICE_AREA_COLUMNS if c != "geometry"}, geometry=[], crs=WGS84
        )
    fids, kinds, ts, geoms = (list(col) for col in zip(*rows, strict=True))
    geom_arr = np.array(geoms, dtype=object)
    t_arr = np.asarray(ts, dtype="float64")
    out = gpd.GeoDataFrame(
        {
            "category": category,
            "facility_id": fids,
            "kind": kinds,
            "threshold_m": t_arr,
            "minutes": t_arr / speed / 60.0,
            "area_m2": shapely.area(geom_arr).astype("float64"),
        },
        geometry=geom_arr,
        crs=crs,
    )
    return out.to_crs(WGS84)[SERVICE_AREA_COLUMNS]
