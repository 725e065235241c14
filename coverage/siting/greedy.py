"""Greedy siting on plain arrays: warm starts, fallbacks and the order of the explanation.

Every function works on a candidate × demand sparse matrix (rows = candidates, columns = demand
points) and returns a :class:`GreedyPath`: the candidates in the order they were picked and the
gain each one added at its turn. Greedy maximal covering is within ``1 - 1/e`` of the optimum
(Nemhauser, Wolsey & Fisher 1978); here it seeds HiGHS, replaces it when the time limit leaves
nothing better, and orders the chosen sites for the "+N residents" explanation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

__all__ = [
    "GAIN_EPS",
    "GreedyPath",
    "greedy_capacitated",
    "greedy_cover",
    "greedy_pmedian",
    "interchange_pmedian",
    "lagrangian_pmedian",
]

#: Gains at or below this are "adds no one" (weights are residents; float sums are not exact).
GAIN_EPS = 1e-9


@dataclass(frozen=True)
class GreedyPath:
    """Candidates in the order a greedy rule picked them.

    Attributes
    ----------
    order
        Candidate row indices, first pick first.
    gains
        Objective gain of each pick at its turn (residents covered, or weighted minutes saved).
    objective
        Objective value after all picks (covered weight, or total weighted cost for p-median).
    """

    order: np.ndarray
    gains: np.ndarray
    objective: float


def _as_csr(matrix: sparse.spmatrix | sparse.sparray) -> sparse.csr_matrix:
    return sparse.csr_matrix(matrix)


def _allowed(n: int, among: np.ndarray | None) -> np.ndarray:
    """Mask of the candidate rows a greedy rule may pick (all, or only ``among``)."""
    if among is None:
        return np.ones(n, dtype=bool)
    allowed = np.zeros(n, dtype=bool)
    allowed[np.asarray(among, dtype="int64")] = True
    return allowed


def _residual(weight: np.ndarray, covered: np.ndarray | None) -> np.ndarray:
    """A fresh copy of the weights with points already covered set to 0."""
    residual = np.asarray(weight, dtype="float64").copy()
    if covered is not None:
        residual[np.asarray(covered, dtype=bool)] = 0.0
    return residual


def _best(gain: np.ndarray, allowed: np.ndarray) -> int | None:
    """The allowed row with the largest gain, or ``None`` when no row adds anything."""
    if gain.size == 0:
        return None
    g = np.where(allowed, gain, -1.0)
    best = int(np.argmax(g))
    return best if g[best] > GAIN_EPS else None


def greedy_cover(
    cover: sparse.spmatrix | sparse.sparray,
    weight: np.ndarray,
    *,
    k: int | None = None,
    target_weight: float | None = None,
    covered: np.ndarray | None = None,
    among: np.ndarray | None = None,
) -> GreedyPath:
    """Greedy maximal covering (and greedy set covering when ``target_weight`` is given).

    Parameters
    ----------
    cover
        Candidate × demand matrix; a non-zero entry means the candidate covers the point.
    weight
        Weight (residents, elderly residents) of each demand point.
    k
        Stop after this many picks.
    target_weight
        Stop as soon as the newly covered weight reaches this.
    covered
        Demand points already covered (by existing facilities); they add nothing.
    among
        Restrict picks to these candidate rows (default: all).

    Returns
    -------
    GreedyPath
        Picks with positive gain only: the path stops early when no candidate adds anyone.
        ``objective`` is the newly covered weight (existing coverage excluded).
    """
    a = _as_csr(cover)
    a.data = np.ones_like(a.data, dtype="float64")
    residual = _residual(weight, covered)
    done = 0.0
    allowed = _allowed(a.shape[0], among)
    limit = a.shape[0] if k is None else int(k)
    order: list[int] = []
    gains: list[float] = []
    while len(order) < limit:
        if target_weight is not None and done >= target_weight - GAIN_EPS:
            break
        g = a @ residual
        best = _best(g, allowed)
        if best is None:
            break
        cols = a.indices[a.indptr[best] : a.indptr[best + 1]]
        residual[cols] = 0.0
        allowed[best] = False
        order.append(best)
        gains.append(float(g[best]))
        done += float(g[best])
    return GreedyPath(np.asarray(order, dtype="int64"), np.asarray(gains), done)


def greedy_pmedian(
    cost: sparse.spmatrix | sparse.sparray,
    weight: np.ndarray,
    base_cost: np.ndarray,
    *,
    k: int,
    among: np.ndarray | None = None,
) -> GreedyPath:
    """Greedy p-median with fixed existing facilities.

    Parameters
    ----------
    cost
        Candidate × demand matrix of travel costs; only stored entries are reachable pairs
        (store a zero cost explicitly).
    weight
        Weight of each demand point.
    base_cost
        Each point's cost from existing facilities (already capped; finite).
    k
        Number of picks.
    among
        Restrict picks to these candidate rows.

    Returns
    -------
    GreedyPath
        ``gains`` are weighted cost savings; ``objective`` is the total weighted cost after.
    """
    c = _as_csr(cost)
    w = np.asarray(weight, dtype="float64")
    current = np.asarray(base_cost, dtype="float64").copy()
    rows = np.repeat(np.arange(c.shape[0]), np.diff(c.indptr))
    allowed = _allowed(c.shape[0], among)
    order: list[int] = []
    gains: list[float] = []
    while len(order) < int(k):
        saving = np.maximum(current[c.indices] - c.data, 0.0) * w[c.indices]
        g = np.bincount(rows, weights=saving, minlength=c.shape[0])
        best = _best(g, allowed)
        if best is None:
            break
        cols = c.indices[c.indptr[best] : c.indptr[best + 1]]
        current[cols] = np.minimum(current[cols], c.data[c.indptr[best] : c.indptr[best + 1]])
        allowed[best] = False
        order.append(best)
        gains.append(float(g[best]))
    return GreedyPath(np.asarray(order, dtype="int64"), np.asarray(gains), float(w @ current))


def greedy_capacitated(
    cover: sparse.spmatrix | sparse.sparray,
    weight: np.ndarray,
    capacity: np.ndarray,
    *,
    k: int,
    covered: np.ndarray | None = None,
    among: np.ndarray | None = None,
) -> tuple[GreedyPath, sparse.csr_matrix]:
    """Greedy capacitated covering: each pick serves up to its capacity of residual demand.

    A pick's gain is ``min(capacity, residual weight it covers)``; it then serves the points it
    covers in order of their column index until its capacity is used (a point may be split).

    Returns
    -------
    tuple
        The path and the candidate × demand matrix of served weight.
    """
    a = _as_csr(cover)
    a.data = np.ones_like(a.data, dtype="float64")
    cap = np.asarray(capacity, dtype="float64")
    cap = np.where(np.isnan(cap), np.inf, cap)
    residual = _residual(weight, covered)
    allowed = _allowed(a.shape[0], among)
    served_rows: list[np.ndarray] = []
    served_cols: list[np.ndarray] = []
    served_vals: list[np.ndarray] = []
    order: list[int] = []
    gains: list[float] = []
    total = 0.0
    while len(order) < int(k):
        g = np.minimum(a @ residual, cap)
        best = _best(g, allowed)
        if best is None:
            break
        cols = a.indices[a.indptr[best] : a.indptr[best + 1]]
        take = residual[cols]
        # Fill the capacity point by point: the running total decides how much of each is served.
        before = np.concatenate([[0.0], np.cumsum(take)[:-1]])
        serve = np.clip(cap[best] - before, 0.0, take)
        residual[cols] = take - serve
        keep = serve > 0
        served_rows.append(np.full(int(keep.sum()), best))
        served_cols.append(cols[keep])
        served_vals.append(serve[keep])
        allowed[best] = False
        order.append(best)
        gains.append(float(serve.sum()))
        total += float(serve.sum())
    if served_rows:
        served = sparse.csr_matrix(
            (
                np.concatenate(served_vals),
                (np.concatenate(served_rows), np.concatenate(served_cols)),
            ),
            shape=a.shape,
        )
    else:
        served = sparse.csr_matrix(a.shape)
    return GreedyPath(np.asarray(order, dtype="int64"), np.asarray(gains), total), served


def _assignment(
    c: sparse.csr_matrix, open_rows: np.ndarray, base: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best and second-best cost of each point over the open rows and its base cost.

    Returns ``(d1, d2, a1)``: the best cost, the cost without the best open site (the next open
    site or the base) and the position in ``open_rows`` of the best site (-1: the base wins).
    """
    m = base.size
    d1 = base.copy()
    d2 = np.full(m, np.inf)
    a1 = np.full(m, -1, dtype="int64")
    if open_rows.size == 0:
        return d1, d2, a1
    sub = c[open_rows].tocoo()
    order = np.lexsort((sub.data, sub.col))
    col, val, row = sub.col[order], sub.data[order], sub.row[order]
    first = np.ones(col.size, dtype=bool)
    first[1:] = col[1:] != col[:-1]
    second = np.zeros(col.size, dtype=bool)
    second[1:] = first[:-1] & ~first[1:]
    best_d = np.full(m, np.inf)
    best_r = np.full(m, -1, dtype="int64")
    best_d[col[first]] = val[first]
    best_r[col[first]] = row[first]
    next_d = np.full(m, np.inf)
    next_d[col[second]] = val[second]
    site_wins = best_d < base
    d1 = np.where(site_wins, best_d, base)
    a1 = np.where(site_wins, best_r, -1)
    d2 = np.where(site_wins, np.minimum(next_d, base), np.inf)
    return d1, d2, a1


def interchange_pmedian(
    cost: sparse.spmatrix | sparse.sparray,
    weight: np.ndarray,
    base_cost: np.ndarray,
    start: np.ndarray,
    *,
    max_iter: int = 200,
    time_limit_s: float = 10.0,
) -> np.ndarray:
    """Improve a p-median solution by best-improvement swaps (Teitz & Bart's interchange).

    Each round evaluates every swap "close open site s, open candidate c" at once from each
    point's best and second-best cost (Whitaker's fast interchange, vectorised over the sparse
    cost matrix) and makes the best one, until no swap lowers the weighted cost.

    Parameters
    ----------
    cost, weight, base_cost
        As in :func:`greedy_pmedian`.
    start
        Candidate rows open at the start (e.g. the greedy picks).
    max_iter
        Largest number of swaps.
    time_limit_s
        Stop after this many seconds (the best solution so far is returned).

    Returns
    -------
    numpy.ndarray
        The open candidate rows after the swaps (same count as ``start``).
    """
    import time

    c = _as_csr(cost)
    w = np.asarray(weight, dtype="float64")
    base = np.asarray(base_cost, dtype="float64")
    open_rows = np.asarray(start, dtype="int64").copy()
    k = open_rows.size
    if k == 0 or k >= c.shape[0]:
        return open_rows
    coo = c.tocoo()
    r_all, j_all, d_all = coo.row, coo.col, coo.data
    t0 = time.perf_counter()
    for _ in range(max_iter):
        if time.perf_counter() - t0 > time_limit_s:
            break
        d1, d2, a1 = _assignment(c, open_rows, base)
        total = float(w @ d1)
        assigned = a1 >= 0
        loss = np.bincount(
            a1[assigned], weights=w[assigned] * (d2[assigned] - d1[assigned]), minlength=k
        )
        gain = np.bincount(
            r_all, weights=w[j_all] * np.maximum(d1[j_all] - d_all, 0.0), minlength=c.shape[0]
        )
        s_of = a1[j_all]
        hit = s_of >= 0
        corr_val = w[j_all[hit]] * (
            np.maximum(d2[j_all[hit]] - d_all[hit], 0.0)
            - np.maximum(d1[j_all[hit]] - d_all[hit], 0.0)
        )
        corr = np.bincount(
            r_all[hit] * k + s_of[hit], weights=corr_val, minlength=c.shape[0] * k
        ).reshape(c.shape[0], k)
        delta = loss[None, :] - gain[:, None] - corr
        delta[open_rows, :] = np.inf
        best = int(np.argmin(delta))
        cand, pos = divmod(best, k)
        if not delta[cand, pos] < -1e-9 * max(total, 1.0):
            break
        open_rows[pos] = cand
    return open_rows


def lagrangian_pmedian(
    cost: sparse.spmatrix | sparse.sparray,
    weight: np.ndarray,
    base_cost: np.ndarray,
    *,
    k: int,
    max_iter: int = 300,
    time_limit_s: float = 10.0,
) -> tuple[float, np.ndarray, float]:
    """Lagrangian bound and heuristic for p-median with fixed existing facilities.

    In savings form (``s_ij = w_j (c0_j - c_ij) > 0``), relaxing "each point is served once"
    with multipliers ``λ_j ≥ 0`` leaves ``Σ λ_j + (sum of the k largest ρ_i)``, where
    ``ρ_i = Σ_j max(0, s_ij - λ_j)``: an upper bound on the savings for every ``λ``. Subgradient
    steps (Held, Wolfe & Crowder 1974) lower it; every step's ``k`` sites are also a feasible
    solution, and the best one is kept. The bound turns a heuristic answer into one with a
    known gap when the MILP is too large to solve in time.

    Returns
    -------
    tuple
        ``(upper bound on savings, best site rows found, their savings)``.
    """
    import time

    c = _as_csr(cost).tocoo()
    w = np.asarray(weight, dtype="float64")
    base = np.asarray(base_cost, dtype="float64")
    s = w[c.col] * (base[c.col] - c.data)
    keep = s > 0
    r, j, s = c.row[keep], c.col[keep], s[keep]
    n, m = c.shape
    if s.size == 0 or k <= 0:
        return 0.0, np.zeros(0, dtype="int64"), 0.0
    lam = np.zeros(m)
    np.maximum.at(lam, j, s)
    best_ub, best_lb = float(lam.sum()), 0.0
    best_set = np.zeros(0, dtype="int64")
    mu, stall = 2.0, 0
    t0 = time.perf_counter()
    for _ in range(max_iter):
        red = np.maximum(s - lam[j], 0.0)
        rho = np.bincount(r, weights=red, minlength=n)
        top = np.argsort(-rho)[: min(k, n)]
        top = top[rho[top] > 0]
        ub = float(lam.sum() + rho[top].sum())
        is_open = np.zeros(n, dtype=bool)
        is_open[top] = True
        # The sites of this step as a real solution: each point takes its best open saving.
        got = np.zeros(m)
        np.maximum.at(got, j[is_open[r]], s[is_open[r]])
        lb = float(got.sum())
        if lb > best_lb:
            best_lb, best_set = lb, np.sort(top)
        if ub < best_ub - 1e-9 * max(abs(best_ub), 1.0):
            best_ub, stall = ub, 0
        else:
            stall += 1
            if stall >= 15:
                mu, stall = mu / 2, 0
        if best_ub - best_lb <= 1e-6 * max(best_ub, 1.0) or mu < 1e-4:
            break
        if time.perf_counter() - t0 > time_limit_s:
            break
        served = np.bincount(j[is_open[r] & (s > lam[j])], minlength=m)
        grad = 1.0 - served
        norm = float(grad @ grad)
        if norm == 0:
            break
        lam = np.maximum(lam - mu * (ub - best_lb) / norm * grad, 0.0)
    return best_ub, best_set, best_lb
