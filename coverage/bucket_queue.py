"""Multi-source shortest paths with a bucket queue (Dial's algorithm), compiled with numba.

Why a second search engine
--------------------------
``scipy.sparse.csgraph.dijkstra`` is the reference engine and stays the fallback. Its
Fibonacci heap cannot start from initial distances, so facilities enter it as virtual nodes,
and its speed depends on how often path lengths tie: on a district-sized network the search
from 5,000 facilities runs 1.7–1.8× slower than the same call with the facilities moved onto
nodes (bench/results_engine.md). A bucket queue seeded with each facility's exact distances to
the ends of its street needs no virtual nodes and does a constant amount of work per edge, and
measured 4–5× faster than scipy on the 490,000-node benchmark lattice (the guide's
``architecture.md`` measured 2–3× on real streets).

How it works
------------
Nodes wait in buckets of width ``delta``: bucket ``b`` holds tentative distances in
``[b·delta, (b+1)·delta)``. The buckets are scanned in order; a ring of ``2**k`` buckets is
enough because no pending distance is ever more than the longest edge (plus the spread of the
seeds) ahead of the bucket being scanned. When ``delta`` is at most the shortest positive edge,
no node in a bucket can improve another node of the same bucket, so every node is scanned once.
Shorter edges (or zero-length ones) are still handled exactly: a node improved after it was
scanned is simply scanned again (label correcting within the bucket), so the result is always
the exact shortest distance — the same sums of the same edge lengths that scipy and networkx
compute, equal to theirs up to floating-point rounding of tied paths.

Ties between equally near sources go to the first source that reaches a node; which of two
exactly equidistant facilities is "nearest" may therefore differ from scipy's choice.

The compiled function is cached on disk by numba (``__pycache__``), so only the first run on a
machine compiles (about a second); later processes load it in about 0.3 s.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import numpy as np
from scipy import sparse

from geo.errors import ConfigError, NetworkError
from geo.messages import msg

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_RING",
    "available",
    "bucket_width",
    "compiled_kernel",
    "multi_source",
    "warm_up",
    "weight_bounds",
]


def _import_numba() -> Any:
    """Import numba, or return None when it is not installed or fails to load.

    numba probes for the coverage.py measuring tool with ``import coverage`` and would find this
    package instead; hiding the name for the duration of the import makes it see "not installed".
    """
    saved = sys.modules.get("coverage")
    sys.modules["coverage"] = None  # type: ignore[assignment]
    try:
        import numba
    except Exception as exc:  # an optional accelerator: any failure means "use scipy"
        logger.info("numba is not usable (%s); searches use scipy", exc)
        return None
    finally:
        if saved is None:
            del sys.modules["coverage"]
        else:
            sys.modules["coverage"] = saved
    return numba


_COMPILED: dict[str, Any] = {}


def compiled_kernel(name: str, func: Any) -> Any:
    """``func`` compiled by numba (cached on disk, GIL released), or None without numba.

    Parameters
    ----------
    name
        Key of the compiled function in this process (compiled once per name).
    func
        A plain-Python function written in numba's subset (loops over numpy arrays).

    Returns
    -------
    callable or None
        The compiled function; None when numba is not installed or fails to load, and the
        caller then takes its numpy path.
    """
    if name not in _COMPILED:
        numba = _import_numba()
        _COMPILED[name] = (
            numba.njit(cache=True, nogil=True, boundscheck=False)(func) if numba else None
        )
    return _COMPILED[name]


def _compiled() -> Any:
    """The compiled search, or None without numba (imported on first use: it costs ~0.2 s)."""
    return compiled_kernel("search", _search_py)


def available() -> bool:
    """True when numba is installed and loads, so :func:`multi_source` can run."""
    return _compiled() is not None


def warm_up() -> bool:
    """Compile (first time on a machine) or load the search once; True when numba is usable.

    The setup script calls this so that the compiled code is already in numba's disk cache
    when the first large network is analysed.
    """
    if not available():
        return False
    graph = sparse.csr_matrix((np.ones(2), np.array([1, 0]), np.array([0, 1, 2])), shape=(2, 2))
    dist, _ = multi_source(graph, np.array([0]), np.array([0.0]), np.array([0]))
    return bool(dist[1] == 1.0)


def _search_py(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    seed_nodes: np.ndarray,
    seed_dist: np.ndarray,
    seed_label: np.ndarray,
    inv_delta: float,
    mask: int,
    limit: float,
    cap: int,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """The bucket-queue search (compiled by numba; see the module docstring).

    Entries of the buckets are singly linked lists in two flat arrays (``e_node``, ``e_next``)
    of ``cap`` entries; an improved node gets a new entry and its old one is skipped when popped
    (lazy deletion). Returns ``(dist, label, complete)``; ``complete`` is False when the entries
    ran out (only possible when nodes are scanned again), and the caller retries with more.
    The arrays are never reallocated inside the loop, which keeps it several times faster.
    """
    n = indptr.size - 1
    dist = np.full(n, np.inf)
    label = np.full(n, -1, np.int32)
    done = np.zeros(n, np.bool_)
    e_node = np.empty(cap, np.int32)
    e_next = np.empty(cap, np.int32)
    head = np.full(mask + 1, -1, np.int32)
    n_e = 0
    for i in range(seed_nodes.size):
        v = seed_nodes[i]
        d = seed_dist[i]
        if d < dist[v] and d <= limit:
            dist[v] = d
            label[v] = seed_label[i]
    lo = np.int64(-1)
    for i in range(seed_nodes.size):
        v = seed_nodes[i]
        if done[v] or not dist[v] <= limit:
            continue
        if n_e == cap:
            return dist, label, False
        done[v] = True  # one entry per seeded node; reset below
        b = np.int64(dist[v] * inv_delta)
        if lo < 0 or b < lo:
            lo = b
        slot = b & mask
        e_node[n_e] = v
        e_next[n_e] = head[slot]
        head[slot] = n_e
        n_e += 1
    for i in range(seed_nodes.size):
        done[seed_nodes[i]] = False
    live = n_e
    cur = lo
    while live > 0:
        slot = cur & mask
        while head[slot] != -1:
            ent = head[slot]
            head[slot] = e_next[ent]
            live -= 1
            u = e_node[ent]
            if done[u]:
                continue
            done[u] = True
            du = dist[u]
            lu = label[u]
            for k in range(indptr[u], indptr[u + 1]):
                v = indices[k]
                nd = du + data[k]
                if nd < dist[v]:
                    if nd > limit:
                        continue
                    if n_e == cap:
                        return dist, label, False
                    dist[v] = nd
                    label[v] = lu
                    done[v] = False  # only possible for v in this bucket: scan it again
                    s = np.int64(nd * inv_delta) & mask
                    e_node[n_e] = v
                    e_next[n_e] = head[s]
                    head[s] = n_e
                    n_e += 1
                    live += 1
        cur += 1
    return dist, label, True


#: Largest ring of buckets (a power of two); wider spreads of edge lengths get wider buckets.
MAX_RING = 1 << 20


def bucket_width(min_positive: float, max_weight: float, seed_spread: float) -> tuple[float, int]:
    """Bucket width and ring size (a power of two) for a search.

    Parameters
    ----------
    min_positive
        Shortest positive edge weight of the graph (``inf`` when there is none).
    max_weight
        Longest edge weight.
    seed_spread
        Largest minus smallest initial distance of the seeds.

    Returns
    -------
    delta
        Bucket width: the shortest positive edge when the ring stays within :data:`MAX_RING`,
        else wider (nodes may then be scanned more than once; the result is still exact).
    ring
        Number of buckets, ``> (max_weight + seed_spread) / delta + 1``.
    """
    reach = float(max_weight) + float(seed_spread)
    if not np.isfinite(reach) or reach <= 0:
        return 1.0, 2
    delta = float(min_positive) if np.isfinite(min_positive) and min_positive > 0 else reach
    delta = max(delta, reach / (MAX_RING - 2))
    need = int(np.floor(reach / delta)) + 2
    ring = 1 << max(1, (need - 1).bit_length())
    return delta, ring


def multi_source(
    graph: sparse.csr_matrix,
    seed_nodes: np.ndarray,
    seed_dist: np.ndarray,
    seed_label: np.ndarray,
    *,
    limit: float = np.inf,
    weight_range: tuple[float, float] | None = None,
    entries: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Distance from the nearest seed to every node, and that seed's label.

    Parameters
    ----------
    graph
        CSR of non-negative edge weights; row ``u`` holds the edges leaving ``u``.
    seed_nodes, seed_dist, seed_label
        Start nodes, their initial distances and the label each passes on (e.g. the facility
        index). A node seeded several times keeps its smallest distance.
    limit
        Nodes farther than this stay unreached (``inf``, label ``-1``).
    weight_range
        ``(shortest positive, longest)`` edge weight when already known (cached per network).
    entries
        Initial capacity of the bucket entries (default: one per edge and seed, which is enough
        unless nodes are scanned again; the search then reruns with twice as many).

    Returns
    -------
    dist
        float64 ``(n,)``.
    label
        int64 ``(n,)``; ``-1`` where not reached.

    Raises
    ------
    ConfigError
        When numba is not available (check :func:`available` first).
    NetworkError
        For seed nodes outside the graph, negative weights or a graph too large for the queue.
    """
    search = _compiled()
    if search is None:
        raise ConfigError(msg("engine.bucket_queue.no_numba"))
    n = graph.shape[0]
    nodes = np.asarray(seed_nodes)
    if nodes.size and (nodes.min() < 0 or nodes.max() >= n):
        raise NetworkError(
            msg("engine.bucket_queue.bad_seeds", last=n - 1, lo=nodes.min(), hi=nodes.max())
        )
    seed_nodes = nodes.astype("int32")
    seed_dist = np.asarray(seed_dist, dtype="float64")
    seed_label = np.asarray(seed_label, dtype="int32")
    keep = np.isfinite(seed_dist) & (seed_dist <= limit)
    seed_nodes, seed_dist, seed_label = seed_nodes[keep], seed_dist[keep], seed_label[keep]
    if seed_nodes.size == 0 or n == 0:
        return np.full(n, np.inf), np.full(n, -1, dtype="int64")
    if weight_range is None:
        weight_range = weight_bounds(graph)
    spread = float(seed_dist.max() - seed_dist.min())
    delta, ring = bucket_width(weight_range[0], weight_range[1], spread)
    # Enough entries when every node is scanned once; more only after rescans (rare).
    cap = graph.indices.size + seed_nodes.size + 16 if entries is None else max(int(entries), 1)
    cap = max(cap, min(seed_nodes.size, n) + 1)
    while True:
        if cap >= np.iinfo("int32").max:
            raise NetworkError(msg("engine.bucket_queue.too_large"))
        dist, label, complete = search(
            np.asarray(graph.indptr, dtype="int32"),
            np.asarray(graph.indices, dtype="int32"),
            np.asarray(graph.data, dtype="float64"),
            seed_nodes,
            seed_dist,
            seed_label,
            1.0 / delta,
            ring - 1,
            float(limit),
            cap,
        )
        if complete:
            break
        logger.debug("bucket queue: %d entries were not enough; retrying with twice as many", cap)
        cap = min(2 * cap, int(np.iinfo("int32").max))
    return dist, label.astype("int64")


def weight_bounds(graph: sparse.csr_matrix) -> tuple[float, float]:
    """``(shortest positive, longest)`` edge weight of a CSR (``inf``/0 when there is none)."""
    data = np.asarray(graph.data, dtype="float64")
    if data.size == 0:
        return np.inf, 0.0
    if not data.min() >= 0:
        raise NetworkError(msg("engine.bucket_queue.negative_weights", value=repr(data.min())))
    positive = data[data > 0]
    return (float(positive.min()) if positive.size else np.inf), float(data.max())
