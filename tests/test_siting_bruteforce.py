"""Siting models against brute-force enumeration of every subset on small random instances."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, sparse

from coverage.siting import greedy, models

SEEDS = range(6)


def _instance(seed: int, *, n: int = 9, m: int = 45):
    """Random points on a 2 km square; candidates cover points within 500 m (straight line)."""
    rng = np.random.default_rng(seed)
    cand = rng.uniform(0, 2000, size=(n, 2))
    dem = rng.uniform(0, 2000, size=(m, 2))
    dist = np.hypot(*(cand[:, None, :] - dem[None, :, :]).transpose(2, 0, 1))
    weight = rng.integers(0, 300, size=m).astype(float)
    # Existing facility near one corner covers some points.
    existing = np.hypot(dem[:, 0] - 200, dem[:, 1] - 200)
    return dist, weight, existing


def _cover(dist: np.ndarray, r: float = 500.0) -> sparse.csr_matrix:
    return sparse.csr_matrix((dist <= r).astype(float))


def _subsets(n: int, k: int):
    """Every subset of ``range(n)`` with at most ``k`` members (the empty one first)."""
    for r in range(k + 1):
        yield from itertools.combinations(range(n), r)


def _covered_weight(cover: np.ndarray, weight: np.ndarray, covered: np.ndarray, subset) -> float:
    if not subset:
        return 0.0
    hit = cover[list(subset)].any(axis=0) & ~covered
    return float(weight[hit].sum())


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [1, 2, 3])
def test_mclp_matches_bruteforce_and_greedy_bound(seed: int, k: int) -> None:
    dist, weight, existing = _instance(seed)
    cov = existing <= 500
    c = _cover(dist)
    dense = c.toarray() > 0
    best = max(_covered_weight(dense, weight, cov, s) for s in _subsets(dist.shape[0], k))
    sol = models.mclp(c, weight, k=k, covered=cov)
    assert sol.status in ("optimal", "trivial")
    assert sol.objective == pytest.approx(best)
    assert _covered_weight(dense, weight, cov, sol.selected.tolist()) == pytest.approx(best)
    assert sol.selected.size <= k
    # Every proposed site adds someone, in the explained order.
    assert np.all(sol.gains > 0)
    g = greedy.greedy_cover(c, weight, k=k, covered=cov)
    assert g.objective <= best + 1e-9
    assert g.objective >= (1 - 1 / math.e) * best - 1e-9


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("target", [0.8, 0.9, 0.95, 1.0])
def test_lscp_matches_bruteforce(seed: int, target: float) -> None:
    dist, weight, existing = _instance(seed)
    cov = existing <= 500
    c = _cover(dist)
    dense = c.toarray() > 0
    coverable = dense.any(axis=0)
    reachable = weight[cov | coverable].sum()
    needed = target * reachable - weight[cov].sum()
    sol = models.lscp(c, weight, target=target, covered=cov)
    best = None
    for r in range(dist.shape[0] + 1):
        if any(
            _covered_weight(dense, weight, cov, s) >= needed - 1e-6
            for s in itertools.combinations(range(dist.shape[0]), r)
        ):
            best = r
            break
    assert best is not None
    assert sol.objective == best
    assert sol.selected.size == best
    assert _covered_weight(dense, weight, cov, sol.selected.tolist()) >= needed - 1e-6
    unreachable = np.flatnonzero(~cov & ~coverable & (weight > 0))
    np.testing.assert_array_equal(np.sort(sol.unreachable), unreachable)


def test_lscp_full_target_covers_every_reachable_point() -> None:
    dist, weight, existing = _instance(3, n=10, m=60)
    cov = existing <= 500
    c = _cover(dist)
    sol = models.lscp(c, weight, target=1.0, covered=cov)
    dense = c.toarray() > 0
    hit = dense[sol.selected].any(axis=0) | cov
    reachable = (dense.any(axis=0) | cov) & (weight > 0)
    assert np.all(hit[reachable])
    assert sol.unreachable.size == int((~dense.any(axis=0) & ~cov & (weight > 0)).sum())
    if sol.unreachable.size:
        assert "out of reach" in sol.message


def _pmedian_cost(dist_min: np.ndarray, base: np.ndarray, weight: np.ndarray, subset) -> float:
    best = base.copy()
    for i in subset:
        best = np.minimum(best, dist_min[i])
    return float(weight @ best)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("mip_gap", [None, 0.0])  # 0: the MILP runs unless the bound is exact
def test_pmedian_matches_bruteforce(seed: int, k: int, mip_gap: float | None) -> None:
    dist, weight, existing = _instance(seed)
    minutes = dist / 1.0 / 60.0
    reach = 900.0 / 60.0
    base = np.minimum(existing / 60.0, reach)
    within = minutes <= reach
    cost = sparse.csr_matrix((minutes[within], np.nonzero(within)), shape=minutes.shape)
    capped = np.where(within, minutes, np.inf)
    best = min(_pmedian_cost(capped, base, weight, s) for s in _subsets(dist.shape[0], k))
    sol = models.pmedian(cost, weight, k=k, base_cost=base, mip_gap=mip_gap)
    assert sol.status in ("optimal", "trivial")
    assert sol.method in ("HiGHS MILP", "Lagrangian bound", "all useful candidates")
    assert sol.objective == pytest.approx(best)
    assert _pmedian_cost(capped, base, weight, sol.selected.tolist()) == pytest.approx(best)
    g = greedy.greedy_pmedian(cost, weight, base, k=k)
    assert g.objective >= best - 1e-6
    assert np.all(sol.gains > 0)


def _capacitated_value(dense: np.ndarray, weight: np.ndarray, cap: np.ndarray, subset) -> float:
    """Max weight served by ``subset`` under capacities: an LP (transportation problem)."""
    subset = list(subset)
    if not subset:
        return 0.0
    pairs = [(a, j) for a, i in enumerate(subset) for j in np.flatnonzero(dense[i])]
    if not pairs:
        return 0.0
    n_var = len(pairs)
    c = -np.array([weight[j] for _, j in pairs])
    rows, rhs = [], []
    for j in {j for _, j in pairs}:
        rows.append([1.0 if pj == j else 0.0 for _, pj in pairs])
        rhs.append(1.0)
    for a, i in enumerate(subset):
        if np.isfinite(cap[i]):
            rows.append([weight[pj] if pa == a else 0.0 for pa, pj in pairs])
            rhs.append(cap[i])
    res = optimize.linprog(c, A_ub=np.array(rows), b_ub=np.array(rhs), bounds=[(0, 1)] * n_var)
    assert res.status == 0
    return float(-res.fun)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [1, 2, 3])
def test_capacitated_matches_bruteforce(seed: int, k: int) -> None:
    dist, weight, existing = _instance(seed, n=8, m=40)
    cov = existing <= 500
    c = _cover(dist)
    dense = (c.toarray() > 0) & ~cov[None, :]
    rng = np.random.default_rng(100 + seed)
    cap = rng.choice([300.0, 600.0, 1200.0, np.nan], size=dist.shape[0])
    best = max(_capacitated_value(dense, weight, cap, s) for s in _subsets(dist.shape[0], k))
    sol = models.capacitated(c, weight, k=k, capacity=cap, covered=cov)
    assert sol.status in ("optimal", "trivial")
    assert sol.objective == pytest.approx(best, rel=1e-6, abs=1e-6)
    served = sol.served.toarray()
    # The assignment respects capacities, coverage, residents and the chosen sites.
    assert np.all(served[~dense] <= 1e-9)
    assert np.all(served.sum(axis=0) <= weight + 1e-6)
    fin = np.isfinite(cap)
    assert np.all(served.sum(axis=1)[fin] <= cap[fin] + 1e-6)
    not_sel = np.setdiff1d(np.arange(dist.shape[0]), sol.selected)
    assert np.all(served[not_sel] == 0)
    assert np.all(sol.gains > 0)
    assert greedy.greedy_capacitated(c, weight, cap, k=k, covered=cov)[0].objective <= best + 1e-6


@pytest.mark.parametrize("seed", SEEDS)
def test_interchange_never_worse_than_greedy_nor_better_than_optimum(seed: int) -> None:
    dist, weight, existing = _instance(seed, n=10, m=60)
    minutes = dist / 60.0
    reach = 15.0
    base = np.minimum(existing / 60.0, reach)
    within = minutes <= reach
    cost = sparse.csr_matrix((minutes[within], np.nonzero(within)), shape=minutes.shape)
    capped = np.where(within, minutes, np.inf)
    k = 3
    g = greedy.greedy_pmedian(cost, weight, base, k=k)
    swapped = greedy.interchange_pmedian(cost, weight, base, g.order)
    assert swapped.size == g.order.size
    best = min(_pmedian_cost(capped, base, weight, s) for s in itertools.combinations(range(10), k))
    value = _pmedian_cost(capped, base, weight, swapped.tolist())
    assert best - 1e-9 <= value <= _pmedian_cost(capped, base, weight, g.order.tolist()) + 1e-9


def _medium(seed: int = 0, n: int = 120, m: int = 3000):
    rng = np.random.default_rng(seed)
    cand = rng.uniform(0, 6000, size=(n, 2))
    dem = rng.uniform(0, 6000, size=(m, 2))
    dist = np.hypot(*(cand[:, None, :] - dem[None, :, :]).transpose(2, 0, 1))
    return dist, rng.integers(1, 300, size=m).astype(float)


@pytest.mark.parametrize("limit", [1e-3, 0.3])
def test_time_limit_gives_incumbent_or_greedy_and_says_so(limit: float) -> None:
    dist, weight = _medium()
    c = _cover(dist, r=900.0)
    g = greedy.greedy_cover(c, weight, k=8)
    sol = models.mclp(c, weight, k=8, time_limit_s=limit)
    assert sol.status in ("time-limit", "greedy-fallback", "optimal")
    assert sol.objective >= g.objective - 1e-9
    if sol.status == "greedy-fallback":
        assert sol.label.startswith("greedy fallback")
        assert sol.objective == pytest.approx(g.objective)
    if sol.status == "time-limit":
        assert "gap" in sol.label


def test_models_too_large_for_the_milp_fall_back_to_the_heuristic(monkeypatch) -> None:
    from geo import settings as geo_settings

    dist, weight = _medium(1, n=40, m=400)
    minutes = dist / 60.0
    within = minutes <= 20.0
    cost = sparse.csr_matrix((minutes[within], np.nonzero(within)), shape=minutes.shape)
    base = np.full(dist.shape[1], 20.0)
    monkeypatch.setattr(geo_settings, "siting_milp_max_pairs", 10)
    # mip_gap=0: the Lagrangian bound must match exactly to skip the MILP, which it rarely does.
    sol = models.pmedian(cost, weight, k=4, base_cost=base, mip_gap=0.0)
    assert sol.status == "greedy-fallback"
    assert "exceeds" in sol.message
    assert sol.method in ("greedy", "greedy + interchange", "Lagrangian heuristic")
    assert np.isfinite(sol.gap)
    assert sol.objective <= sol.greedy_objective + 1e-9
    assert sol.selected.size == 4
    cap = models.capacitated(
        _cover(dist, 900.0), weight, k=3, capacity=np.full(dist.shape[0], 500.0)
    )
    assert cap.status == "greedy-fallback"
    assert np.all(np.asarray(cap.served.sum(axis=1)).ravel() <= 500.0 + 1e-6)


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(st.lists(st.booleans(), min_size=12, max_size=12), min_size=6, max_size=6),
    weights=st.lists(st.integers(0, 50), min_size=12, max_size=12),
    k=st.integers(1, 3),
)
def test_mclp_property_random_matrices(data, weights, k) -> None:
    dense = np.array(data, dtype=bool)
    w = np.array(weights, dtype=float)
    cov = np.zeros(12, dtype=bool)
    best = max(_covered_weight(dense, w, cov, s) for s in _subsets(6, k))
    sol = models.mclp(sparse.csr_matrix(dense.astype(float)), w, k=k)
    g = greedy.greedy_cover(sparse.csr_matrix(dense.astype(float)), w, k=k)
    assert sol.objective == pytest.approx(best)
    assert (1 - 1 / math.e) * best - 1e-9 <= g.objective <= best + 1e-9
    assert np.all(sol.gains > 0)


def test_every_model_handles_a_problem_where_no_site_helps() -> None:
    empty = sparse.csr_matrix((4, 5))
    w = np.ones(5)
    for sol in (
        models.mclp(empty, w, k=2),
        models.capacitated(empty, w, k=2, capacity=np.full(4, 3.0)),
        models.pmedian(empty, w, k=2, base_cost=np.ones(5)),
    ):
        assert sol.selected.size == 0
        assert sol.status == "trivial"
        assert "only 0 of the 2" in sol.message
    sol = models.lscp(empty, w, target=1.0)
    assert sol.selected.size == 0
    assert sol.unreachable.tolist() == [0, 1, 2, 3, 4]
