"""Network distances between snapped points: nearest facility for everyone, and OD matrices.

Distance semantics
------------------
The distance between a facility ``f`` and a demand point ``p`` is::

    d(f, p) = offset_f + network path between their projected positions on the edges + offset_p

where ``offset`` is the straight walk from the point to its street (see :mod:`coverage.snap`). A
path between two positions leaves an edge through one of its end nodes, so for points on
different edges the path runs through an end of each edge; when both points lie on the same
edge the direct stretch ``|along_f − along_p|`` is also a candidate (the *same-edge case*).

Facilities enter one multi-source search as **virtual nodes**: the search graph is the network CSR
with one extra row per facility, linked to the two ends of the facility's edge with the initial
distances ``offset + along`` (to ``u``) and ``offset + (length − along)`` (to ``v``). The extra rows
are appended to the CSR arrays (an O(nnz) copy, no matrix algebra: 3–8 ms on a 490,000-node
lattice, 2–4 % of the search), and one call of ``scipy.sparse.csgraph.dijkstra(...,
min_only=True)`` gives every node its distance to the nearest facility and that facility's index.
This is exact: no facility is moved to a node. (On a lattice of equal lengths the same call
with facilities moved onto nodes runs ~1.7× faster only because every path length then ties
exactly; see bench/results_engine.md.)

On large networks the same search runs on the bucket queue of :mod:`coverage.bucket_queue`
instead (``settings.search_engine``): the ends of each facility's edge are seeded with the same
initial distances, no virtual node is needed, and the result is the same.

Directed networks (drive)
-------------------------
Distances are for the trip a resident makes *to* a facility (demand → facility). The search runs
on the transposed graph from the facilities. A point on a one-way edge ``u→v`` can only be
reached from ``u`` and can only leave towards ``v``; a two-way street (a pair of edges ``u→v`` and
``v→u``, see :func:`coverage.snap.twin_edges`) is open both ways.

Thresholds
----------
A distance exactly at a threshold counts as within it: ``d <= T + COVER_TOL_M`` (a nanometre,
so that floating-point noise on a lattice never flips a result).

Unsnapped points (``edge == -1``) are never reached: distance ``inf``, source ``-1``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from coverage import bucket_queue
from coverage.snap import Snap, geometry_lengths, twin_edges
from geo import settings
from geo.errors import ConfigError, NetworkError
from geo.messages import msg
from geo.network import Network, derived

logger = logging.getLogger(__name__)

__all__ = [
    "COVER_TOL_M",
    "ENGINES",
    "OD_ZERO_M",
    "augmented_graph",
    "incidence",
    "lengths_bound_chords",
    "local_searches",
    "nearest_from",
    "node_tree",
    "od_matrix",
    "point_distance",
    "resolve_engine",
    "search_graph",
    "source_links",
]

#: Tolerance (metres) added to every threshold comparison: ``d <= T + COVER_TOL_M``.
COVER_TOL_M = 1e-9

#: Stored in :func:`od_matrix` in place of a zero distance so that the entry survives sparse
#: operations that drop explicit zeros (a facility standing on the demand point).
OD_ZERO_M = 1e-12


#: Names accepted by ``settings.search_engine`` and the ``engine`` option.
ENGINES = ("auto", "bucket", "scipy")


def incidence(network: Network) -> sparse.csr_matrix:
    """Node → incident edges, as a CSR of shape ``(n_nodes, n_edges)`` (cached)."""

    def build() -> sparse.csr_matrix:
        e = np.arange(network.n_edges)
        return sparse.csr_matrix(
            (
                np.ones(2 * e.size, dtype="int8"),
                (np.concatenate([network.u, network.v]), np.concatenate([e, e])),
            ),
            shape=(network.n_nodes, network.n_edges),
        )

    return derived(network, "incidence", build)


def node_tree(network: Network) -> cKDTree:
    """KD-tree of the node coordinates (cached)."""
    return derived(network, "node_tree", lambda: cKDTree(np.column_stack([network.x, network.y])))


def lengths_bound_chords(network: Network) -> bool:
    """True when no edge is shorter than its drawn line, so network ≥ straight-line distance.

    Then everything reached within ``L`` of a point lies within ``L`` of it in a straight line,
    which lets searches with a limit run on a small local subgraph.
    """
    return bool(np.all(network.length >= geometry_lengths(network) * (1 - 1e-9) - 1e-6))


def local_searches(network: Network, sources: Snap, limit: float) -> Iterator[Any]:
    """One exact limited search per snapped source on its local subgraph.

    Requires :func:`lengths_bound_chords`. Yields ``(source index, nodes, distances)`` with the
    sorted node indices within ``limit`` of the source in a straight line and their network
    distances (``inf`` beyond ``limit``).
    """
    g = search_graph(network)
    ok = np.flatnonzero(sources.ok)
    balls = node_tree(network).query_ball_point(
        np.column_stack([sources.x[ok], sources.y[ok]]), r=limit + 1e-6
    )
    # Node → position in the current ball (-1 outside), reset after each source. Cutting the
    # subgraph with numpy is ~5x faster than ``g[idx][:, idx]`` for balls of a few hundred nodes.
    local = np.full(network.n_nodes, -1, dtype="int64")
    for f, ball in zip(ok.tolist(), balls, strict=True):
        idx = np.sort(np.asarray(ball, dtype="int64"))
        if idx.size == 0:
            yield f, idx, np.empty(0)
            continue
        _, node_idx, wts = source_links(network, sources.subset(np.array([f])))
        pos = np.minimum(np.searchsorted(idx, node_idx), idx.size - 1)
        keep = idx[pos] == node_idx
        m = idx.size
        local[idx] = np.arange(m)
        start = g.indptr[idx]
        count = g.indptr[idx + 1] - start
        flat = np.repeat(start - (np.cumsum(count) - count), count) + np.arange(count.sum())
        cols = local[g.indices[flat]]
        inside = cols >= 0
        local[idx] = -1
        row_counts = np.bincount(np.repeat(np.arange(m), count)[inside], minlength=m)
        indptr = np.concatenate([[0], np.cumsum(row_counts), [row_counts.sum() + keep.sum()]])
        aug = sparse.csr_matrix(
            (
                np.concatenate([g.data[flat[inside]], wts[keep]]),
                np.concatenate([cols[inside], pos[keep]]).astype("int32"),
                indptr.astype("int32"),
            ),
            shape=(m + 1, m + 1),
        )
        yield f, idx, csgraph.dijkstra(aug, directed=True, indices=m, limit=limit)[:m]


def search_graph(network: Network) -> sparse.csr_matrix:
    """The CSR the searches run on: the network's own, transposed for directed networks.

    Cached per network; int32 indices, float64 weights, sorted indices, so that scipy does not
    convert it on every call.
    """

    def build() -> sparse.csr_matrix:
        g = network.csr.T.tocsr() if network.directed else network.csr
        g = sparse.csr_matrix(
            (
                np.asarray(g.data, dtype="float64"),
                np.asarray(g.indices, dtype="int32"),
                np.asarray(g.indptr, dtype="int32"),
            ),
            shape=g.shape,
        )
        g.sort_indices()
        return g

    return derived(network, "search_graph", build)


def source_links(network: Network, snaps: Snap) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Links of virtual source nodes: ``(row 0..k-1, node, weight)`` for snapped points only."""
    e = snaps.edge
    a = snaps.along_m
    off = snaps.offset_m
    k = e.size
    rows = np.arange(k, dtype="int64")
    length = network.length[e]
    w_u = off + a
    w_v = off + (length - a)
    if network.directed:
        # Reverse search: the facility is reached from u along the edge; from v only when the
        # street is two-way.
        two_way = twin_edges(network)[e] >= 0
        r = np.concatenate([rows, rows[two_way]])
        nodes = np.concatenate([network.u[e], network.v[e][two_way]])
        w = np.concatenate([w_u, w_v[two_way]])
    else:
        r = np.concatenate([rows, rows])
        nodes = np.concatenate([network.u[e], network.v[e]])
        w = np.concatenate([w_u, w_v])
    return r, nodes, w


def augmented_graph(network: Network, sources: Snap) -> tuple[sparse.csr_matrix, np.ndarray]:
    """The search graph plus one virtual node per snapped source.

    Parameters
    ----------
    network
        The network.
    sources
        Snapped sources; unsnapped ones get no virtual node.

    Returns
    -------
    graph
        CSR of shape ``(n + k, n + k)``; virtual node ``n + i`` is the ``i``-th snapped source.
    source_index
        For each virtual node, the index of its point in ``sources``.
    """
    base = search_graph(network)
    n = base.shape[0]
    ok = np.flatnonzero(sources.ok)
    sub = sources.subset(ok)
    r, nodes, w = source_links(network, sub)
    k = ok.size
    order = np.lexsort((nodes, r))
    r, nodes, w = r[order], nodes[order], w[order]
    counts = np.bincount(r, minlength=k)
    indptr = np.concatenate([base.indptr, base.indptr[-1] + np.cumsum(counts, dtype="int64")])
    if indptr[-1] >= np.iinfo("int32").max:
        raise NetworkError(msg("engine.distance.too_large"))
    graph = sparse.csr_matrix(
        (
            np.concatenate([base.data, w.astype("float64")]),
            np.concatenate([base.indices, nodes.astype("int32")]),
            indptr.astype("int32"),
        ),
        shape=(n + k, n + k),
    )
    return graph, ok


def resolve_engine(network: Network, engine: str | None = None) -> str:
    """The search engine to use on ``network``: ``"bucket"`` or ``"scipy"``.

    Parameters
    ----------
    network
        The network searched (its size decides for ``"auto"``).
    engine
        ``"auto"``, ``"bucket"`` or ``"scipy"``; default ``settings.search_engine``.

    Raises
    ------
    ConfigError
        For an unknown name, or ``"bucket"`` when numba is not installed.
    """
    name = settings.search_engine if engine is None else engine
    if name not in ENGINES:
        raise ConfigError(
            msg("engine.distance.unknown_engine", name=repr(name), engines=", ".join(ENGINES))
        )
    if name == "auto":
        big = network.n_nodes >= settings.bucket_queue_min_nodes
        return "bucket" if big and bucket_queue.available() else "scipy"
    if name == "bucket" and not bucket_queue.available():
        raise ConfigError(msg("engine.distance.no_numba"))
    return name


def nearest_from(
    network: Network,
    sources: Snap,
    *,
    limit_m: float = np.inf,
    engine: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Distance from every node to its nearest source, and which source that is.

    One multi-source search: ``scipy.sparse.csgraph.dijkstra`` over the network augmented with
    one virtual node per source, or the bucket queue of :mod:`coverage.bucket_queue` seeded
    with the same initial distances (see the module docstring). Both are exact.

    Parameters
    ----------
    network
        The network.
    sources
        Snapped sources (facilities); unsnapped ones are ignored.
    limit_m
        Stop the search at this distance; farther nodes get ``inf`` and ``-1``.
    engine
        ``"auto"``, ``"bucket"`` or ``"scipy"``; default ``settings.search_engine``.

    Returns
    -------
    node_dist
        float64 ``(n_nodes,)`` metres (``inf`` when not reached).
    node_source
        int64 ``(n_nodes,)`` index into ``sources`` of the nearest one, ``-1`` when not reached.
        Between two exactly equidistant sources the engines may pick different ones.
    """
    n = network.n_nodes
    if not sources.ok.any():
        return np.full(n, np.inf), np.full(n, -1, dtype="int64")
    limit = float(limit_m) + COVER_TOL_M if np.isfinite(limit_m) else np.inf
    if resolve_engine(network, engine) == "bucket":
        ok = np.flatnonzero(sources.ok)
        rows, nodes, weights = source_links(network, sources.subset(ok))
        graph = search_graph(network)
        weight_range = derived(network, "weight_bounds", lambda: bucket_queue.weight_bounds(graph))
        node_dist, label = bucket_queue.multi_source(
            graph, nodes, weights, rows, limit=limit, weight_range=weight_range
        )
        node_source = np.where(label >= 0, ok[np.clip(label, 0, ok.size - 1)], -1)
        return node_dist, node_source.astype("int64")
    graph, src_index = augmented_graph(network, sources)
    k = src_index.size
    dist, _, origin = csgraph.dijkstra(
        graph,
        directed=True,
        indices=np.arange(n, n + k),
        limit=limit,
        min_only=True,
        return_predecessors=True,
    )
    node_dist = np.asarray(dist[:n], dtype="float64")
    origin = np.asarray(origin[:n], dtype="int64")
    node_source = np.where(origin >= n, src_index[np.clip(origin - n, 0, k - 1)], -1)
    return node_dist, node_source.astype("int64")


def _same_edge_pairs(
    network: Network, sources: Snap, targets: Snap
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (target, source) pairs on the same edge and their direct distance along it."""
    s_ok = np.flatnonzero(sources.ok)
    t_ok = np.flatnonzero(targets.ok)
    empty = (np.empty(0, dtype="int64"), np.empty(0, dtype="int64"), np.empty(0))
    if s_ok.size == 0 or t_ok.size == 0:
        return empty
    s_order = s_ok[np.argsort(sources.edge[s_ok], kind="stable")]
    s_edges = sources.edge[s_order]
    t_edges = targets.edge[t_ok]
    lo = np.searchsorted(s_edges, t_edges, side="left")
    hi = np.searchsorted(s_edges, t_edges, side="right")
    cnt = hi - lo
    has = cnt > 0
    if not has.any():
        return empty
    t_rep = np.repeat(t_ok[has], cnt[has])
    starts = np.repeat(lo[has], cnt[has])
    within = np.arange(t_rep.size) - np.repeat(np.cumsum(cnt[has]) - cnt[has], cnt[has])
    s_rep = s_order[starts + within]
    delta = sources.along_m[s_rep] - targets.along_m[t_rep]
    d = targets.offset_m[t_rep] + sources.offset_m[s_rep] + np.abs(delta)
    if network.directed:
        # The resident walks from the target towards v; backwards only on a two-way street.
        two_way = twin_edges(network)[targets.edge[t_rep]] >= 0
        d = np.where(two_way | (delta >= 0), d, np.inf)
    return t_rep, s_rep, d


def _via_ends(network: Network, targets: Snap, d_u: np.ndarray, d_v: np.ndarray) -> np.ndarray:
    """Target distance through the edge's end nodes, given distances at ``u`` and ``v``.

    ``d_u``/``d_v`` have the targets on the last axis.
    """
    e = targets.edge
    a = targets.along_m
    length = network.length[e]
    via_v = d_v + (length - a)
    via_u = d_u + a
    if network.directed:
        two_way = twin_edges(network)[e] >= 0
        via_u = np.where(two_way, via_u, np.inf)
    return targets.offset_m + np.minimum(via_u, via_v)


def point_distance(
    network: Network,
    node_dist: np.ndarray,
    node_source: np.ndarray,
    targets: Snap,
    *,
    sources: Snap,
) -> tuple[np.ndarray, np.ndarray]:
    """Distance from each target point to its nearest source.

    Parameters
    ----------
    network
        The network.
    node_dist, node_source
        The result of :func:`nearest_from` for ``sources``.
    targets
        Snapped target points (demand).
    sources
        The sources given to :func:`nearest_from` (for the same-edge case).

    Returns
    -------
    dist
        float64 ``(m,)`` metres; ``inf`` when unreachable or unsnapped.
    source_index
        int64 ``(m,)`` index into ``sources``; ``-1`` when unreachable or unsnapped.
    """
    m = len(targets)
    dist = np.full(m, np.inf)
    src = np.full(m, -1, dtype="int64")
    ok = np.flatnonzero(targets.ok)
    if ok.size == 0:
        return dist, src
    t = targets.subset(ok)
    u = network.u[t.edge]
    v = network.v[t.edge]
    d_u = node_dist[u] + t.along_m
    d_v = node_dist[v] + (network.length[t.edge] - t.along_m)
    if network.directed:
        d_u = np.where(twin_edges(network)[t.edge] >= 0, d_u, np.inf)
    use_u = d_u <= d_v
    dist[ok] = t.offset_m + np.minimum(d_u, d_v)
    src[ok] = np.where(use_u, node_source[u], node_source[v])
    t_rep, s_rep, d = _same_edge_pairs(network, sources, targets)
    if t_rep.size:
        order = np.lexsort((d, t_rep))
        first = np.ones(order.size, dtype=bool)
        first[1:] = t_rep[order][1:] != t_rep[order][:-1]
        best = order[first]
        tt, ss, dd = t_rep[best], s_rep[best], d[best]
        better = dd < dist[tt]
        dist[tt[better]] = dd[better]
        src[tt[better]] = ss[better]
    src[~np.isfinite(dist)] = -1
    return dist, src


def _od_local(
    network: Network,
    sources: Snap,
    targets: Snap,
    t_ok: np.ndarray,
    limit: float,
    rows: list[np.ndarray],
    cols: list[np.ndarray],
    vals: list[np.ndarray],
    progress: Any,
) -> None:
    """OD entries through the ends of the targets' edges, one local search per source."""
    inc = incidence(network)
    t_order = t_ok[np.argsort(targets.edge[t_ok], kind="stable")]
    t_edges = targets.edge[t_order]
    work = np.full(network.n_nodes, np.inf)
    n_src = int(sources.ok.sum())
    for done, (f, idx, dist) in enumerate(local_searches(network, sources, limit), start=1):
        reached = idx[dist <= limit]
        if reached.size:
            work[idx] = dist
            edges = np.unique(inc[reached].indices)
            lo = np.searchsorted(t_edges, edges, side="left")
            cnt = np.searchsorted(t_edges, edges, side="right") - lo
            total = int(cnt.sum())
            if total:
                within = np.arange(total) - np.repeat(np.cumsum(cnt) - cnt, cnt)
                sel = t_order[np.repeat(lo, cnt) + within]
                t = targets.subset(sel)
                d = _via_ends(network, t, work[network.u[t.edge]], work[network.v[t.edge]])
                keep = d <= limit
                rows.append(np.full(int(keep.sum()), f, dtype="int64"))
                cols.append(sel[keep])
                vals.append(d[keep])
            work[idx] = np.inf
        if progress is not None and done % 200 == 0:
            progress("od_matrix", done / max(n_src, 1))


def od_matrix(
    network: Network,
    sources: Snap,
    targets: Snap,
    *,
    limit_m: float,
    batch_size: int | None = None,
    progress: Any = None,
    local: bool | None = None,
) -> sparse.csr_matrix:
    """Network distances between every source and target within ``limit_m``.

    Exact (offsets and the same-edge case included). Computed by batches of sources: each batch
    is one ``csgraph.dijkstra`` call with ``limit`` over the graph augmented with the batch's
    virtual nodes.

    Parameters
    ----------
    network
        The network.
    sources, targets
        Snapped points (e.g. candidate sites or facilities, and demand).
    limit_m
        Largest distance kept (``d <= limit_m + COVER_TOL_M``).
    batch_size
        Sources per search; default keeps the dense work arrays near 160 MB.
    progress
        Optional ``callable(step: str, fraction: float)``.
    local
        Search each source on its local subgraph (:func:`local_searches`; exact when
        :func:`lengths_bound_chords`, several times faster on big networks) instead of batched
        whole-graph searches. Default: local whenever it is exact.

    Returns
    -------
    scipy.sparse.csr_matrix
        ``(n_sources, n_targets)`` float64. A stored entry means "within the limit"; its value is
        the distance in metres, with a zero distance stored as :data:`OD_ZERO_M` so that it is
        not lost by sparse operations that drop explicit zeros. Unsnapped points have no entries.
    """
    if not np.isfinite(limit_m) or limit_m < 0:
        raise ConfigError(msg("engine.distance.bad_limit", value=repr(limit_m)))
    n_s, n_t = len(sources), len(targets)
    n = network.n_nodes
    s_ok = np.flatnonzero(sources.ok)
    t_ok = np.flatnonzero(targets.ok)
    limit = float(limit_m) + COVER_TOL_M
    if s_ok.size == 0 or t_ok.size == 0:
        return sparse.csr_matrix((n_s, n_t))
    if batch_size is None:
        batch_size = int(np.clip(2e7 // max(n + 3 * t_ok.size, 1), 1, 512))
    t = targets.subset(t_ok)
    tu = network.u[t.edge]
    tv = network.v[t.edge]
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    use_local = lengths_bound_chords(network) if local is None else bool(local)
    if use_local and not lengths_bound_chords(network):
        raise ConfigError(msg("engine.distance.local_needs_chords"))
    if use_local:
        _od_local(network, sources, targets, t_ok, limit, rows, cols, vals, progress)
        s_ok = s_ok[:0]  # the batched loop below has nothing left to do
    for start in range(0, s_ok.size, batch_size):
        batch = s_ok[start : start + batch_size]
        sub = sources.subset(batch)
        graph, _ = augmented_graph(network, sub)
        k = batch.size
        dist = csgraph.dijkstra(graph, directed=True, indices=np.arange(n, n + k), limit=limit)
        d = _via_ends(network, t, dist[:, tu], dist[:, tv])
        r, c = np.nonzero(d <= limit)
        rows.append(batch[r])
        cols.append(t_ok[c])
        vals.append(d[r, c])
        if progress is not None:
            progress("od_matrix", min(1.0, (start + k) / s_ok.size))
    # Same-edge pairs: the direct stretch may beat the way round through the ends.
    t_rep, s_rep, d_same = _same_edge_pairs(network, sources, targets)
    keep = d_same <= limit
    rows.append(s_rep[keep])
    cols.append(t_rep[keep])
    vals.append(d_same[keep])
    r_all = np.concatenate(rows)
    c_all = np.concatenate(cols)
    v_all = np.concatenate(vals)
    # Duplicates (same-edge pairs) must keep the minimum, not the sum scipy would build.
    order = np.lexsort((v_all, c_all, r_all))
    r_all, c_all, v_all = r_all[order], c_all[order], v_all[order]
    first = np.ones(r_all.size, dtype=bool)
    first[1:] = (r_all[1:] != r_all[:-1]) | (c_all[1:] != c_all[:-1])
    v_all = np.maximum(v_all[first], OD_ZERO_M)
    return sparse.csr_matrix((v_all, (r_all[first], c_all[first])), shape=(n_s, n_t))
