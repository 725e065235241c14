"""The bucket-queue search engine: analytic lattices, scipy as oracle, rescans, engine choice."""

from __future__ import annotations

import sys
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.sparse import csgraph

from coverage import bucket_queue
from coverage.distance import nearest_from, resolve_engine, search_graph
from coverage.snap import snap_points
from geo import settings as lcc_settings
from geo.errors import ConfigError, NetworkError
from geo.network import lattice_network


def test_lattice_distances_are_manhattan() -> None:
    net = lattice_network(9, 7, spacing=100.0)
    g = search_graph(net)
    # Seed node 0 at distance 0 and the far corner at 30 m; every node is the Manhattan distance
    # from the nearer of the two.
    far = net.n_nodes - 1
    dist, label = bucket_queue.multi_source(
        g, np.array([0, far]), np.array([0.0, 30.0]), np.array([0, 1])
    )
    i = (net.x - net.x[0]) / 100.0
    j = (net.y - net.y[0]) / 100.0
    d0 = 100.0 * (i + j)
    d1 = 30.0 + 100.0 * ((i.max() - i) + (j.max() - j))
    np.testing.assert_allclose(dist, np.minimum(d0, d1), rtol=0, atol=1e-9)
    assert np.all(label[d0 < d1] == 0)
    assert np.all(label[d1 < d0] == 1)


def test_limit_leaves_far_nodes_unreached() -> None:
    net = lattice_network(10, 1, spacing=100.0)
    g = search_graph(net)
    dist, label = bucket_queue.multi_source(
        g, np.array([0]), np.array([0.0]), np.array([7]), limit=350.0
    )
    assert np.isfinite(dist[:4]).all() and np.isinf(dist[4:]).all()
    assert (label[:4] == 7).all() and (label[4:] == -1).all()


def test_seeds_beyond_the_limit_and_repeated_seeds() -> None:
    net = lattice_network(4, 1, spacing=10.0)
    g = search_graph(net)
    # Node 0 seeded twice: the smaller distance and its label win; a seed beyond the limit is
    # ignored entirely.
    dist, label = bucket_queue.multi_source(
        g, np.array([0, 0, 3]), np.array([5.0, 2.0, 999.0]), np.array([1, 2, 3]), limit=100.0
    )
    np.testing.assert_allclose(dist, [2.0, 12.0, 22.0, 32.0])
    assert label.tolist() == [2, 2, 2, 2]


def test_no_seeds_and_bad_input() -> None:
    g = search_graph(lattice_network(3, 3))
    dist, label = bucket_queue.multi_source(g, np.array([], int), np.array([]), np.array([], int))
    assert np.isinf(dist).all() and (label == -1).all()
    with pytest.raises(NetworkError, match=r"seed nodes must be in 0\.\.8"):
        bucket_queue.multi_source(g, np.array([9]), np.array([0.0]), np.array([0]))
    neg = sparse.csr_matrix(np.array([[0.0, -1.0], [1.0, 0.0]]))
    with pytest.raises(NetworkError, match="non-negative"):
        bucket_queue.multi_source(neg, np.array([0]), np.array([0.0]), np.array([0]))


def test_short_and_zero_edges_rescan_and_retry_exactly() -> None:
    # A chain where edge lengths span 12 orders of magnitude: the buckets must be wider than the
    # shortest edge, nodes are scanned again, and a tiny entry budget forces the retry path.
    w = np.array([1e-9, 0.0, 5e3, 1e-6, 0.0, 2.5, 1e-9, 7e2])
    n = w.size + 1
    rows = np.concatenate([np.arange(n - 1), np.arange(1, n)])
    cols = np.concatenate([np.arange(1, n), np.arange(n - 1)])
    vals = np.concatenate([w, w])
    g = _explicit(rows, cols, vals, n)
    seeds = np.array([0, n - 1])
    d0 = np.array([0.0, 3.0])
    dist, label = bucket_queue.multi_source(g, seeds, d0, np.array([0, 1]), entries=1)
    left = np.concatenate([[0.0], np.cumsum(w)])
    right = 3.0 + (left[-1] - left)
    np.testing.assert_allclose(dist, np.minimum(left, right), rtol=1e-12, atol=1e-9)
    assert label[0] == 0 and label[-1] == 1


def _explicit(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, n: int) -> sparse.csr_matrix:
    """CSR with explicitly stored zero-length edges (scipy would drop them when summing)."""
    order = np.lexsort((cols, rows))
    r, c, v = rows[order], cols[order], vals[order]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(r, minlength=n))])
    return sparse.csr_matrix((v, c, indptr), shape=(n, n))


def test_bucket_width_bounds_the_ring() -> None:
    delta, ring = bucket_queue.bucket_width(100.0, 100.0, 0.0)
    assert delta == 100.0 and ring == 4
    delta, ring = bucket_queue.bucket_width(1e-12, 2000.0, 300.0)
    assert ring <= bucket_queue.MAX_RING and delta >= 2300.0 / bucket_queue.MAX_RING
    assert ring * delta > 2300.0 + delta
    assert bucket_queue.bucket_width(np.inf, 0.0, 0.0) == (1.0, 2)


# The kernel compiled with bounds checks: an index error in the search raises instead of silently
# corrupting memory (the product compiles it without them, for speed).
CHECKED = bucket_queue._import_numba().njit(boundscheck=True)(bucket_queue._search_py)

weights = st.one_of(
    st.floats(0.0, 1e3, allow_nan=False),
    st.sampled_from([0.0, 1e-9, 1e-3, 100.0]),
)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 25),
    data=st.data(),
    directed=st.booleans(),
)
def test_random_graphs_match_scipy(n: int, data: st.DataObject, directed: bool) -> None:
    m = data.draw(st.integers(1, 3 * n))
    rows = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)))
    cols = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)))
    vals = np.array(data.draw(st.lists(weights, min_size=m, max_size=m)))
    if not directed:
        rows, cols, vals = (
            np.concatenate([rows, cols]),
            np.concatenate([cols, rows]),
            np.tile(vals, 2),
        )
    # Parallel edges keep their minimum, as a network's CSR does.
    order = np.lexsort((vals, cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    first = np.ones(rows.size, dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    g = _explicit(rows[first], cols[first], vals[first], n)
    k = data.draw(st.integers(1, 4))
    seeds = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k)))
    d0 = np.array(data.draw(st.lists(st.floats(0, 500), min_size=k, max_size=k)))
    limit = data.draw(st.one_of(st.just(np.inf), st.floats(0, 2000)))
    entries = data.draw(st.one_of(st.none(), st.integers(1, 8)))
    with mock.patch.dict(bucket_queue._COMPILED, {"search": CHECKED}):
        dist, label = bucket_queue.multi_source(
            g, seeds, d0, np.arange(k), limit=limit, entries=entries
        )
    fast, _ = bucket_queue.multi_source(g, seeds, d0, np.arange(k), limit=limit, entries=entries)
    np.testing.assert_array_equal(fast, dist)
    ref = _reference(g, seeds, d0, limit)
    np.testing.assert_array_equal(np.isfinite(dist), np.isfinite(ref))
    fin = np.isfinite(ref)
    np.testing.assert_allclose(dist[fin], ref[fin], rtol=1e-12, atol=1e-9)
    # Each node's label names a seed that is really at that distance.
    for v in np.flatnonzero(fin):
        s = label[v]
        own = _reference(g, seeds[s : s + 1], d0[s : s + 1], np.inf)[v]
        assert own == pytest.approx(dist[v], rel=1e-12, abs=1e-9)
    assert np.all(label[~fin] == -1)


def _reference(g: sparse.csr_matrix, seeds: np.ndarray, d0: np.ndarray, limit: float) -> np.ndarray:
    """scipy from each seed (explicit zeros kept), minimum over seeds, cut at the limit."""
    d = csgraph.dijkstra(g, directed=True, indices=seeds)
    best = (d + d0[:, None]).min(axis=0)
    return np.where(best <= limit, best, np.inf)


@pytest.mark.parametrize("n", [60, 140])
def test_nearest_from_engines_agree_on_a_lattice(n: int) -> None:
    net = lattice_network(n, n, spacing=100.0)
    rng = np.random.default_rng(n)
    x0, y0, x1, y1 = net.bounds
    snap = snap_points(net, (rng.uniform(x0, x1, 200), rng.uniform(y0, y1, 200)))
    for limit in (np.inf, 900.0):
        d_b, s_b = nearest_from(net, snap, engine="bucket", limit_m=limit)
        d_s, _ = nearest_from(net, snap, engine="scipy", limit_m=limit)
        np.testing.assert_array_equal(np.isfinite(d_b), np.isfinite(d_s))
        fin = np.isfinite(d_s)
        np.testing.assert_allclose(d_b[fin], d_s[fin], rtol=0, atol=1e-9)
        assert (s_b[~fin] == -1).all() and (s_b[fin] >= 0).all()


def test_engine_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    small = lattice_network(3, 3)
    assert resolve_engine(small, "auto") == "scipy"
    monkeypatch.setattr(lcc_settings, "bucket_queue_min_nodes", 9)
    assert resolve_engine(small, "auto") == "bucket"
    assert resolve_engine(small, "scipy") == "scipy"
    monkeypatch.setattr(lcc_settings, "search_engine", "bucket")
    assert resolve_engine(small) == "bucket"
    with pytest.raises(ConfigError, match=r"'dial'.*auto, bucket, scipy"):
        resolve_engine(small, "dial")
    monkeypatch.setattr(bucket_queue, "available", lambda: False)
    assert resolve_engine(small, "auto") == "scipy"
    with pytest.raises(ConfigError, match="needs numba"):
        resolve_engine(small, "bucket")


def test_warm_up_runs_the_compiled_search() -> None:
    assert bucket_queue.warm_up() is True


def test_numba_import_keeps_our_coverage_package() -> None:
    # numba probes for coverage.py under the name "coverage"; the guard must leave ours in place
    # and make numba see "not installed" rather than our package.
    assert bucket_queue.available()
    import coverage

    assert sys.modules["coverage"] is coverage
    assert hasattr(coverage, "bucket_queue")  # ours, not coverage.py
    from numba.misc import coverage_support

    assert coverage_support.coverage_available is False
