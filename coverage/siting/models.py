"""Siting models on plain arrays, solved exactly with HiGHS.

Every model takes a candidate × demand sparse matrix (rows = candidates, columns = demand
points) and per-point weights, as spopt's ``from_cost_matrix`` entry points do; the
GeoDataFrame layer (:mod:`coverage.siting.explain`) builds those arrays from the network and
delegates here. Existing facilities are never variables: they are folded in as ``covered``
(points they already cover) or ``base_cost`` (each point's time to its nearest existing one),
so they are kept in every solution by construction.

Each model

* shrinks the problem to the demand points a candidate can still improve and the candidates
  that improve at least one of them, and (covering models) merges points covered by exactly
  the same candidates into one column;
* runs a greedy heuristic (:mod:`coverage.siting.greedy`) and hands it to HiGHS as the warm
  start (p-median: greedy, then swaps, then a Lagrangian bound whose own solutions often prove
  optimality without the MILP);
* solves the MILP with a time limit and a relative gap (:mod:`coverage.siting.highs` wraps
  HiGHS: building, warm start, time limit, interrupt, silent output), and reports which answer
  the user is looking at: ``"optimal"``, ``"time-limit"`` (the best incumbent, with its gap) or
  ``"greedy-fallback"`` (HiGHS found nothing better than greedy before the limit);
* drops proposed sites that add no one, and says when fewer than ``k`` sites were worth adding;
* reports the gap of the answer shown against the better of HiGHS's dual bound and a simple
  bound (the k best single sites; every candidate open; the Lagrangian bound), so even a
  fallback says how far from optimal it can be.

Formulations (``x_i`` binary: open candidate ``i``):

* maximal covering (Church & ReVelle 1974): ``max Σ w_j y_j`` s.t. ``y_j ≤ Σ_i a_ij x_i``,
  ``Σ x_i ≤ k``, ``0 ≤ y_j ≤ 1``;
* set covering to a target share: ``min Σ x_i`` s.t. ``Σ_i a_ij x_i ≥ 1`` for every point (100 %)
  or ``Σ w_j y_j ≥ needed`` with ``y`` as above (partial covering);
* p-median with fixed facilities, in savings form: ``max Σ s_ij z_ij`` with
  ``s_ij = w_j (c0_j - c_ij) > 0``, ``Σ_i z_ij ≤ 1``, ``z_ij ≤ x_i``, ``Σ x_i ≤ k`` — a point's cost
  is the minimum over open sites and its existing cost ``c0_j``;
* capacitated covering: ``max Σ w_j f_ij`` s.t. ``Σ_i f_ij ≤ 1``, ``f_ij ≤ x_i``,
  ``Σ_j w_j f_ij ≤ cap_i x_i``, ``Σ x_i ≤ k`` (a point's residents may be split between sites).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from coverage.siting.greedy import (
    GAIN_EPS,
    GreedyPath,
    greedy_capacitated,
    greedy_cover,
    greedy_pmedian,
    interchange_pmedian,
    lagrangian_pmedian,
)
from coverage.siting.highs import MilpOutcome, solve_milp
from geo import settings
from geo.errors import SolverError
from geo.messages import Message, msg

__all__ = ["MODELS", "ModelSolution", "capacitated", "lscp", "mclp", "pmedian", "solve"]

MODELS = ("mclp", "lscp", "pmedian", "capacitated")

#: p-median MILPs with at least this many pairs solve their LPs with the interior-point method:
#: measured on lattice instances (300 candidates), 68k pairs took 38 s with dual simplex and 17 s
#: with IPM, 136k pairs did not finish the root LP in 60 s with simplex and solved in 55 s.
_IPM_FROM_PAIRS = 20_000


@dataclass(frozen=True)
class ModelSolution:
    """The answer of one siting model on arrays.

    Attributes
    ----------
    model
        ``"mclp"``, ``"lscp"``, ``"pmedian"`` or ``"capacitated"``.
    selected
        Proposed candidate rows, in greedy explanation order (largest marginal gain first);
        sites that add no one are never included.
    gains
        Marginal gain of each selected site in that order (weight newly covered, or weighted
        cost saved for p-median).
    objective
        Newly covered weight (mclp, capacitated), number of sites (lscp) or total weighted cost
        (pmedian) of ``selected``.
    status
        ``"optimal"``, ``"time-limit"``, ``"greedy-fallback"`` or ``"trivial"`` (no solver was
        needed, e.g. fewer useful candidates than ``k``).
    gap
        Relative optimality gap of the answer shown (0 when optimal, NaN when unknown).
    bound
        HiGHS's dual bound on the objective (NaN when not solved).
    greedy_objective
        The greedy solution's objective, for comparison.
    solve_s
        Seconds spent in HiGHS.
    message
        Sentences for the planner (a catalogue message: English as text, Chinese with
        ``message.text("zh")``).
    requested
        ``k`` asked for (mclp, pmedian, capacitated) or ``None``.
    covered_weight
        Weight newly covered by ``selected`` (coverage models; NaN for pmedian).
    unreachable
        Demand columns with positive weight that neither existing facilities nor any candidate
        cover (coverage models).
    served
        Capacitated only: candidate × demand matrix of weight served (``None`` otherwise).
    n_vars, n_rows
        Size of the MILP after reduction.
    method
        How the shown answer was found: ``HiGHS MILP``, ``greedy``, ``greedy + interchange``,
        ``Lagrangian`` (p-median: a subgradient bound proved it within the gap) or ``all useful
        candidates``.
    """

    model: str
    selected: np.ndarray
    gains: np.ndarray
    objective: float
    status: str
    gap: float
    bound: float
    greedy_objective: float
    solve_s: float
    message: str
    requested: int | None = None
    covered_weight: float = float("nan")
    unreachable: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype="int64"))
    served: sparse.csr_matrix | None = None
    n_vars: int = 0
    n_rows: int = 0
    method: str = ""

    @property
    def label(self) -> str:
        """What the user is looking at: ``optimal``, ``time-limit (gap 1.2 %)``, ..."""
        if self.status == "time-limit":
            return f"time-limit (gap {self.gap * 100:.2f} %)"
        if self.status == "greedy-fallback":
            name = "greedy fallback"
            if self.method and self.method != "greedy":
                name = f"heuristic fallback ({self.method})"
            if np.isfinite(self.gap):
                return f"{name} (gap ≤ {self.gap * 100:.2f} %)"
            return name
        return self.status


def _validate(
    matrix: sparse.spmatrix | sparse.sparray, weight: np.ndarray, *, name: str
) -> tuple[sparse.csr_matrix, np.ndarray]:
    a = sparse.csr_matrix(matrix)
    w = np.asarray(weight, dtype="float64")
    if w.ndim != 1 or w.shape[0] != a.shape[1]:
        raise SolverError(
            msg("coverage.siting.weight_shape", model=name, shape=w.shape, n=a.shape[1])
        )
    w = np.where(np.isfinite(w) & (w > 0), w, 0.0)
    return a, w


def _check_k(k: int | None, *, name: str) -> int:
    if k is None or int(k) != k or int(k) < 1:
        raise SolverError(msg("coverage.siting.bad_k", model=name, k=repr(k)))
    return int(k)


def _covered_mask(covered: np.ndarray | None, m: int) -> np.ndarray:
    if covered is None:
        return np.zeros(m, dtype=bool)
    c = np.asarray(covered, dtype=bool)
    if c.shape != (m,):
        raise SolverError(msg("coverage.siting.covered_shape", shape=c.shape, n=m))
    return c


def _reduce_cover(
    a: sparse.csr_matrix, w: np.ndarray, covered: np.ndarray
) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray, np.ndarray]:
    """Keep demand a candidate can newly cover and candidates covering some of it."""
    a = a.copy()
    a.data = np.ones_like(a.data, dtype="float64")
    a.eliminate_zeros()
    coverable = np.asarray(a.sum(axis=0)).ravel() > 0
    cols = np.flatnonzero(coverable & ~covered & (w > 0))
    sub = a[:, cols].tocsr()
    rows = np.flatnonzero(np.diff(sub.indptr) > 0)
    unreachable = np.flatnonzero(~coverable & ~covered & (w > 0))
    return sub[rows].tocsr(), rows, cols, unreachable


def _group_columns(
    sub: sparse.csr_matrix, w: np.ndarray
) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """Merge demand columns covered by exactly the same candidates (weights add up).

    Points in the same "coverage region" are interchangeable in every covering model, so one
    column per region gives the same optima with far fewer variables (typically 3–10× fewer).

    Returns
    -------
    tuple
        ``(aggregated matrix, group weights, group of each original column)``.
    """
    csc = sub.tocsc()
    csc.sort_indices()
    ind, ptr = csc.indices, csc.indptr
    keys: dict[bytes, int] = {}
    group = np.empty(csc.shape[1], dtype="int64")
    for j in range(csc.shape[1]):
        group[j] = keys.setdefault(ind[ptr[j] : ptr[j + 1]].tobytes(), len(keys))
    n_g = len(keys)
    first = np.full(n_g, -1, dtype="int64")
    first[group[::-1]] = np.arange(csc.shape[1])[::-1]
    weights = np.bincount(group, weights=w, minlength=n_g)
    return csc[:, first].tocsr(), weights, group


def _tighter(solver_bound: float, simple_bound: float, *, maximize: bool) -> float:
    """The better of HiGHS's dual bound and a simple combinatorial bound."""
    vals = [b for b in (solver_bound, simple_bound) if np.isfinite(b)]
    if not vals:
        return float("nan")
    return float(min(vals) if maximize else max(vals))


def _top_sum(values: np.ndarray, k: int) -> float:
    """Sum of the ``k`` largest values (an upper bound on what ``k`` sites can add)."""
    if values.size == 0:
        return 0.0
    k = min(int(k), values.size)
    return float(np.sort(values)[::-1][:k].sum())


def _remaining(time_limit_s: float | None, t0: float) -> float:
    """The solver's share of the time limit after the preparation already spent."""
    limit = settings.solver_time_limit_s if time_limit_s is None else float(time_limit_s)
    return max(min(1.0, limit), limit - (time.perf_counter() - t0))


def _gap(bound: float, value: float, *, maximize: bool) -> float:
    """Relative gap of ``value`` to the solver's dual ``bound`` (NaN when unknown)."""
    if not (np.isfinite(bound) and np.isfinite(value)) or abs(value) < GAIN_EPS:
        return float("nan")
    diff = bound - value if maximize else value - bound
    return max(0.0, float(diff) / abs(float(value)))


def _opened(rows: np.ndarray, n: int) -> np.ndarray:
    """0/1 warm start for the site variables: 1 for ``rows`` (the greedy picks)."""
    x = np.zeros(n)
    x[rows] = 1.0
    return x


def _budget_row(n_sites: int, n_rest: int) -> sparse.csr_matrix:
    """The row ``Σ x_i`` over the site columns (which come first), for ``Σ x_i ≤ k``."""
    return sparse.hstack([np.ones((1, n_sites)), sparse.csr_matrix((1, n_rest))]).tocsr()


def _pair_rows(
    pairs: sparse.coo_matrix, n_sites: int, n_points: int
) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """Rows of a site–pair formulation (p-median, capacitated covering).

    Columns are the sites ``x_i`` then one variable ``v_p`` per stored entry ``p = (i, j)`` of
    ``pairs``. Returns the rows ``Σ_i v_ij`` (one per point, ``≤ 1``: a point is served at
    most once) and ``v_ij - x_i`` (one per pair, ``≤ 0``: only open sites serve).
    """
    n_p = pairs.nnz
    p_idx = np.arange(n_p)
    per_point = sparse.csr_matrix((np.ones(n_p), (pairs.col, p_idx)), shape=(n_points, n_p))
    assign = sparse.hstack([sparse.csr_matrix((n_points, n_sites)), per_point]).tocsr()
    link = sparse.hstack(
        [
            sparse.csr_matrix((-np.ones(n_p), (p_idx, pairs.row)), shape=(n_p, n_sites)),
            sparse.identity(n_p, format="csr"),
        ]
    ).tocsr()
    return assign, link


def _pick(path: GreedyPath, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return rows[path.order], path.gains


def _finish(
    *,
    model: str,
    chosen_path: GreedyPath,
    rows: np.ndarray,
    outcome: MilpOutcome | None,
    used_greedy: bool,
    greedy_obj: float,
    objective: float,
    requested: int | None,
    message: str,
    gap: float | None = None,
    proven: bool = False,
    heuristic: str = "greedy",
    **extra: object,
) -> ModelSolution:
    """Assemble the answer; ``gap`` is that of the shown solution when not proven optimal.

    ``proven``: no MILP was run because a bound already proved the answer within the gap.
    ``heuristic``: the name of the heuristic behind a fallback answer.
    """
    selected, gains = _pick(chosen_path, rows)
    if proven:
        status, bound, solve_s = "optimal", np.nan, 0.0
        method = "Lagrangian bound"
    elif outcome is None:
        # No solver run: either every useful candidate fits (trivially optimal) or the model
        # was too large to build.
        status, bound, solve_s = ("greedy-fallback" if used_greedy else "trivial"), np.nan, 0.0
        method = heuristic if used_greedy else "all useful candidates"
        if not used_greedy:
            gap = 0.0
        elif gap is None:
            gap = float("nan")
    else:
        bound, solve_s = outcome.bound, outcome.runtime
        status = "greedy-fallback" if used_greedy else outcome.status
        method = heuristic if used_greedy else "HiGHS MILP"
        if status == "optimal":
            gap = outcome.gap
        elif gap is None:
            gap = float("nan")
    return ModelSolution(
        model=model,
        selected=selected,
        gains=gains,
        objective=objective,
        status=status,
        gap=float("nan") if gap is None else float(gap),
        bound=bound,
        greedy_objective=greedy_obj,
        solve_s=solve_s,
        message=message,
        requested=requested,
        method=method,
        **extra,  # type: ignore[arg-type]
    )


def _budget(time_limit_s: float | None) -> float:
    """Seconds granted to a heuristic improvement step: a fifth of the solver's limit."""
    limit = settings.solver_time_limit_s if time_limit_s is None else time_limit_s
    return max(0.5, 0.2 * float(limit))


def _too_big_note(n_pairs: int, *, heuristic: str) -> Message:
    """Why no optimality bound is shown: the exact model is too large to build.

    ``heuristic``: ``"interchange"`` (p-median) or ``"greedy"`` (capacitated).
    """
    most = settings.siting_milp_max_pairs
    if heuristic == "interchange":
        return msg("coverage.siting.too_big_interchange", n=n_pairs, max_pairs=most)
    return msg("coverage.siting.too_big_greedy", n=n_pairs, max_pairs=most)


def _k_message(n_sel: int, k: int, what: str, *notes: Message) -> Message:
    """How many sites are proposed (and why fewer than ``k``), then ``notes``.

    ``what``: ``"add"``, ``"walk"`` or ``"serve"``: what the sites beyond ``n_sel`` would not do.
    """
    if n_sel < k and what == "add":
        first = msg("coverage.siting.fewer_sites_add", n=n_sel, k=k)
    elif n_sel < k and what == "walk":
        first = msg("coverage.siting.fewer_sites_walk", n=n_sel, k=k)
    elif n_sel < k:
        first = msg("coverage.siting.fewer_sites_serve", n=n_sel, k=k)
    else:
        first = msg("coverage.siting.sites_proposed", n=n_sel)
    return msg("coverage.siting.sentences", sentences=[first, *notes])


def _use_milp(
    outcome: MilpOutcome, milp_value: float, greedy_value: float, *, maximize: bool
) -> bool:
    """Whether the MILP answer should be shown instead of greedy."""
    if outcome.x is None:
        return False
    if outcome.status == "optimal":
        return True
    better = milp_value > greedy_value + GAIN_EPS if maximize else milp_value < greedy_value - 1e-9
    return bool(better)


def mclp(
    cover: sparse.spmatrix | sparse.sparray,
    weight: np.ndarray,
    *,
    k: int,
    covered: np.ndarray | None = None,
    time_limit_s: float | None = None,
    mip_gap: float | None = None,
) -> ModelSolution:
    """Maximal covering: add ``k`` sites covering the most not-yet-covered weight.

    Parameters
    ----------
    cover
        Candidate × demand matrix; non-zero where the candidate covers the point.
    weight
        Residents (or elderly residents) per demand point; NaN and negatives count as 0.
    k
        Number of new sites.
    covered
        Points already covered by existing facilities (kept; they add nothing).
    time_limit_s, mip_gap
        HiGHS limits; default ``settings.solver_time_limit_s`` and ``settings.solver_mip_gap``.

    Returns
    -------
    ModelSolution
        ``objective`` = weight newly covered by the proposed sites.
    """
    t0 = time.perf_counter()
    a, w = _validate(cover, weight, name="mclp")
    k = _check_k(k, name="mclp")
    cov = _covered_mask(covered, a.shape[1])
    sub, rows, cols, unreachable = _reduce_cover(a, w, cov)
    agg, wg, _ = _group_columns(sub, w[cols])
    g = greedy_cover(agg, wg, k=k)
    outcome = None
    chosen = g
    used_greedy = False
    n_i, n_g = agg.shape
    n_rows = n_vars = 0
    if n_i > k:
        # Rows y_g - Σ_i a_ig x_i ≤ 0, then Σ x_i ≤ k. Columns: x (binary) then y.
        cons = sparse.vstack(
            [
                sparse.hstack([-agg.T, sparse.identity(n_g)]),
                _budget_row(n_i, n_g),
            ]
        )
        x0 = _opened(g.order, n_i)
        y0 = np.minimum(agg.T @ x0, 1.0)
        outcome = solve_milp(
            cost=np.concatenate([np.zeros(n_i), wg]),
            lower=np.zeros(n_i + n_g),
            upper=np.ones(n_i + n_g),
            integrality=np.concatenate([np.ones(n_i), np.zeros(n_g)]),
            matrix=cons,
            row_lower=np.full(n_g + 1, -np.inf),
            row_upper=np.concatenate([np.zeros(n_g), [float(k)]]),
            maximize=True,
            time_limit_s=_remaining(time_limit_s, t0),
            mip_gap=mip_gap,
            start=np.concatenate([x0, y0]),
        )
        n_vars, n_rows = n_i + n_g, n_g + 1
        used_greedy = True
        if outcome.x is not None:
            sel = np.flatnonzero(outcome.x[:n_i] > 0.5)
            milp_path = greedy_cover(agg, wg, among=sel)
            if _use_milp(outcome, milp_path.objective, g.objective, maximize=True):
                chosen, used_greedy = milp_path, False
    return _finish(
        model="mclp",
        chosen_path=chosen,
        rows=rows,
        outcome=outcome,
        used_greedy=used_greedy,
        greedy_obj=g.objective,
        objective=chosen.objective,
        requested=k,
        message=_k_message(chosen.order.size, k, "add"),
        gap=_gap(
            _tighter(
                outcome.bound if outcome else np.nan,
                min(float(wg.sum()), _top_sum(agg @ wg, k)),
                maximize=True,
            ),
            chosen.objective,
            maximize=True,
        ),
        covered_weight=chosen.objective,
        unreachable=unreachable,
        n_vars=n_vars,
        n_rows=n_rows,
    )


def lscp(
    cover: sparse.spmatrix | sparse.sparray,
    weight: np.ndarray,
    *,
    target: float = 1.0,
    covered: np.ndarray | None = None,
    time_limit_s: float | None = None,
    mip_gap: float | None = None,
) -> ModelSolution:
    """Set covering: the fewest new sites reaching ``target`` of the reachable weight.

    The reachable weight is that of points covered by an existing facility or by at least one
    candidate. With ``target = 1`` every reachable point must be covered; the points nobody can
    reach are listed in ``unreachable``.

    Parameters
    ----------
    cover, weight, covered, time_limit_s, mip_gap
        As in :func:`mclp`.
    target
        Share (0 < target ≤ 1) of the reachable weight to cover, existing coverage included.

    Returns
    -------
    ModelSolution
        ``objective`` = number of sites; ``covered_weight`` = weight they newly cover.
    """
    t0 = time.perf_counter()
    a, w = _validate(cover, weight, name="lscp")
    if not (0 < float(target) <= 1):
        raise SolverError(msg("coverage.siting.bad_target", target=repr(target)))
    cov = _covered_mask(covered, a.shape[1])
    sub, rows, cols, unreachable = _reduce_cover(a, w, cov)
    wj = w[cols]
    reachable = float(w[cov].sum() + wj.sum())
    full = float(target) >= 1.0 - 1e-12
    # A hair of slack so that float sums of the same residents compare as equal.
    needed = float(wj.sum()) if full else float(target) * reachable - float(w[cov].sum())
    needed -= 1e-9 * max(reachable, 1.0)
    agg, wg, _ = _group_columns(sub, wj)
    g = greedy_cover(agg, wg, target_weight=needed)
    if needed <= 0:
        return _finish(
            model="lscp",
            chosen_path=GreedyPath(np.zeros(0, dtype="int64"), np.zeros(0), 0.0),
            rows=rows,
            outcome=None,
            used_greedy=False,
            greedy_obj=0.0,
            objective=0.0,
            requested=None,
            message=msg(
                "coverage.siting.sentences", sentences=[msg("coverage.siting.target_reached")]
            ),
            covered_weight=0.0,
            unreachable=unreachable,
        )
    outcome, cons, chosen, used_greedy = _lscp_milp(
        agg,
        wg,
        g,
        needed=needed,
        full=full,
        time_limit_s=_remaining(time_limit_s, t0),
        mip_gap=mip_gap,
    )
    share = (float(w[cov].sum()) + chosen.objective) / reachable if reachable > 0 else 1.0
    sentences = [msg("coverage.siting.lscp_reach", n=chosen.order.size, share=share)]
    if unreachable.size:
        sentences.append(
            msg("coverage.siting.unreachable", n=unreachable.size, pop=w[unreachable].sum())
        )
    return _finish(
        model="lscp",
        chosen_path=chosen,
        rows=rows,
        outcome=outcome,
        used_greedy=used_greedy,
        greedy_obj=float(g.order.size),
        objective=float(chosen.order.size),
        requested=None,
        message=msg("coverage.siting.sentences", sentences=sentences),
        gap=_gap(
            _tighter(outcome.bound, _min_sites(agg @ wg, needed), maximize=False),
            float(chosen.order.size),
            maximize=False,
        ),
        covered_weight=chosen.objective,
        unreachable=unreachable,
        n_vars=int(cons.shape[1]),
        n_rows=int(cons.shape[0]),
    )


def _lscp_milp(
    agg: sparse.csr_matrix,
    wg: np.ndarray,
    g: GreedyPath,
    *,
    needed: float,
    full: bool,
    time_limit_s: float | None,
    mip_gap: float | None,
) -> tuple[MilpOutcome, sparse.csr_matrix, GreedyPath, bool]:
    """Solve the set-covering MILP warm-started from greedy ``g``.

    Returns the outcome, the constraint matrix (for its size), the answer shown and whether it
    is greedy's. ``full``: every point must be covered, else ``needed`` weight.
    """
    n_i, n_j = agg.shape
    x0 = _opened(g.order, n_i)
    if full:
        cons = agg.T.tocsr()
        start = x0
        args = {
            "cost": np.ones(n_i),
            "lower": np.zeros(n_i),
            "upper": np.ones(n_i),
            "integrality": np.ones(n_i),
            "row_lower": np.ones(n_j),
            "row_upper": np.full(n_j, np.inf),
        }
    else:
        cons = sparse.vstack(
            [
                sparse.hstack([-agg.T, sparse.identity(n_j)]),
                sparse.hstack([sparse.csr_matrix((1, n_i)), wg[None, :]]),
            ]
        )
        start = np.concatenate([x0, np.minimum(agg.T @ x0, 1.0)])
        args = {
            "cost": np.concatenate([np.ones(n_i), np.zeros(n_j)]),
            "lower": np.zeros(n_i + n_j),
            "upper": np.ones(n_i + n_j),
            "integrality": np.concatenate([np.ones(n_i), np.zeros(n_j)]),
            "row_lower": np.concatenate([np.full(n_j, -np.inf), [needed]]),
            "row_upper": np.concatenate([np.zeros(n_j), [np.inf]]),
        }
    outcome = solve_milp(
        matrix=cons,
        maximize=False,
        time_limit_s=time_limit_s,
        mip_gap=mip_gap,
        start=start,
        cost=args["cost"],
        lower=args["lower"],
        upper=args["upper"],
        integrality=args["integrality"],
        row_lower=args["row_lower"],
        row_upper=args["row_upper"],
    )
    chosen = g
    used_greedy = True
    if outcome.x is not None:
        sel = np.flatnonzero(outcome.x[:n_i] > 0.5)
        # Greedy order inside the chosen set also drops any site the target does not need.
        milp_path = greedy_cover(agg, wg, among=sel, target_weight=needed)
        if milp_path.objective >= needed and _use_milp(
            outcome, float(milp_path.order.size), float(g.order.size), maximize=False
        ):
            chosen, used_greedy = milp_path, False
    return outcome, cons, chosen, used_greedy


def pmedian(
    cost: sparse.spmatrix | sparse.sparray,
    weight: np.ndarray,
    *,
    k: int,
    base_cost: np.ndarray,
    time_limit_s: float | None = None,
    mip_gap: float | None = None,
) -> ModelSolution:
    """p-median with existing facilities fixed: minimise the weighted travel cost.

    Parameters
    ----------
    cost
        Candidate × demand travel costs (minutes); only stored entries are reachable pairs,
        so store a zero cost explicitly (``matrix.cost_matrix`` does).
    weight
        Residents per demand point.
    k
        Number of new sites.
    base_cost
        Each point's cost from the existing facilities, capped at the matrix's reach (finite).
    time_limit_s, mip_gap
        As in :func:`mclp`.

    Returns
    -------
    ModelSolution
        ``objective`` = total weighted cost (Σ weight × minutes) with the proposed sites;
        ``gains`` = weighted minutes saved by each site in greedy order.
    """
    t0 = time.perf_counter()
    c, w = _validate(cost, weight, name="pmedian")
    k = _check_k(k, name="pmedian")
    base = np.asarray(base_cost, dtype="float64")
    if base.shape != (c.shape[1],) or not np.all(np.isfinite(base)):
        raise SolverError(msg("coverage.siting.base_cost", n=c.shape[1], shape=base.shape))
    sub, rows, cols = _reduce_cost(c, w, base)
    wj, bj = w[cols], base[cols]
    total0 = float(w @ base)
    rest = total0 - float(wj @ bj)
    g0 = greedy_pmedian(sub, wj, bj, k=k)
    g, heuristic, lag_ub = _pmedian_heuristics(sub, wj, bj, g0, k=k, time_limit_s=time_limit_s)
    lag_lb = float(wj @ bj) - lag_ub  # lower bound on the reduced problem's cost
    gap_tol = settings.solver_mip_gap if mip_gap is None else mip_gap
    proven = bool(np.isfinite(lag_lb)) and (g.objective - lag_lb) <= gap_tol * max(
        g.objective + rest, GAIN_EPS
    )
    outcome = None
    chosen = g
    used_greedy = False
    n_i = sub.shape[0]
    n_vars = n_rows = 0
    too_big = sub.nnz > settings.siting_milp_max_pairs
    if too_big and not proven:
        used_greedy = True
    if n_i > k and not too_big and not proven:
        outcome, milp_path, n_vars, n_rows = _pmedian_milp(
            sub, wj, bj, g, k=k, time_limit_s=_remaining(time_limit_s, t0), mip_gap=mip_gap
        )
        used_greedy = True
        if milp_path is not None and _use_milp(
            outcome, milp_path.objective, g.objective, maximize=False
        ):
            chosen, used_greedy = milp_path, False
    return _finish(
        model="pmedian",
        chosen_path=chosen,
        rows=rows,
        outcome=outcome,
        used_greedy=used_greedy,
        greedy_obj=g0.objective + rest,
        objective=chosen.objective + rest,
        requested=k,
        message=_k_message(
            chosen.order.size,
            k,
            "walk",
            *([_too_big_note(sub.nnz, heuristic="interchange")] if too_big and not proven else []),
        ),
        proven=proven,
        heuristic=heuristic,
        # Gap in cost terms: the bound is on savings, the planner sees total minutes. The simple
        # bound opens every candidate at once.
        gap=_gap(
            _tighter(
                (total0 - outcome.bound) if outcome else np.nan,
                rest + max(float(wj @ np.minimum(bj, _column_min(sub, bj))), lag_lb),
                maximize=False,
            ),
            chosen.objective + rest,
            maximize=False,
        ),
        n_vars=n_vars,
        n_rows=n_rows,
    )


def _reduce_cost(
    cost: sparse.csr_matrix, w: np.ndarray, base: np.ndarray
) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """The pairs that improve on a point's existing cost: the sub-matrix, its rows and columns."""
    c = cost.tocoo()
    useful = (c.data < base[c.col]) & (w[c.col] > 0)
    r, j, d = c.row[useful], c.col[useful], c.data[useful]
    cols = np.unique(j)
    rows = np.unique(r)
    ri = np.searchsorted(rows, r)
    ji = np.searchsorted(cols, j)
    # Keep explicit zeros (a candidate standing on the point): csr_matrix does not drop them.
    return sparse.csr_matrix((d, (ri, ji)), shape=(rows.size, cols.size)), rows, cols


def _pmedian_heuristics(
    sub: sparse.csr_matrix,
    wj: np.ndarray,
    bj: np.ndarray,
    g0: GreedyPath,
    *,
    k: int,
    time_limit_s: float | None,
) -> tuple[GreedyPath, str, float]:
    """Improve greedy ``g0`` by swaps and a Lagrangian heuristic.

    Returns the best path, the name of the heuristic behind it and the Lagrangian upper bound
    on the savings (NaN when not computed).
    """
    g = g0
    heuristic = "greedy"
    lag_ub = np.nan
    if g.order.size == k and k < sub.shape[0]:
        # Swaps improve greedy (a better warm start, and a better fallback).
        swapped = interchange_pmedian(sub, wj, bj, g.order, time_limit_s=_budget(time_limit_s))
        g_swap = greedy_pmedian(sub, wj, bj, k=k, among=swapped)
        if g_swap.objective < g.objective - 1e-9:
            g, heuristic = g_swap, "greedy + interchange"
        # A Lagrangian bound (and its own solutions) often closes the gap outright; it gets
        # most of the time when the MILP will not be built.
        big = sub.nnz > settings.siting_milp_max_pairs
        lag_ub, lag_set, _ = lagrangian_pmedian(
            sub,
            wj,
            bj,
            k=k,
            time_limit_s=_budget(time_limit_s) * (3.0 if big else 1.0),
            max_iter=1000 if big else 300,
        )
        g_lag = greedy_pmedian(sub, wj, bj, k=k, among=lag_set)
        if g_lag.objective < g.objective - 1e-9:
            g, heuristic = g_lag, "Lagrangian heuristic"
    return g, heuristic, float(lag_ub)


def _pmedian_milp(
    sub: sparse.csr_matrix,
    wj: np.ndarray,
    bj: np.ndarray,
    g: GreedyPath,
    *,
    k: int,
    time_limit_s: float | None,
    mip_gap: float | None,
) -> tuple[MilpOutcome, GreedyPath | None, int, int]:
    """Solve the p-median MILP (savings form) warm-started from ``g``.

    Returns the outcome, the MILP's sites in greedy order (``None`` without a solution) and
    the model's numbers of variables and rows.
    """
    n_i, n_j = sub.shape
    coo = sub.tocoo()
    n_z = coo.nnz
    saving = wj[coo.col] * (bj[coo.col] - coo.data)
    # Columns: x (n_i) then z (one per reachable pair). Rows: Σ_i z_ij ≤ 1 per point,
    # z_ij - x_i ≤ 0 per pair, Σ x ≤ k.
    assign, link = _pair_rows(coo, n_i, n_j)
    cons = sparse.vstack([assign, link, _budget_row(n_i, n_z)])
    x0 = _opened(g.order, n_i)
    z0 = _best_assignment(coo, saving, x0, n_j)
    outcome = solve_milp(
        cost=np.concatenate([np.zeros(n_i), saving]),
        lower=np.zeros(n_i + n_z),
        upper=np.ones(n_i + n_z),
        integrality=np.concatenate([np.ones(n_i), np.zeros(n_z)]),
        matrix=cons,
        row_lower=np.full(n_j + n_z + 1, -np.inf),
        row_upper=np.concatenate([np.ones(n_j), np.zeros(n_z), [float(k)]]),
        maximize=True,
        time_limit_s=time_limit_s,
        mip_gap=mip_gap,
        start=np.concatenate([x0, z0]),
        options={"mip_lp_solver": "ipm"} if n_z >= _IPM_FROM_PAIRS else None,
    )
    if outcome.x is None:
        return outcome, None, n_i + n_z, n_j + n_z + 1
    sel = np.flatnonzero(outcome.x[:n_i] > 0.5)
    path = greedy_pmedian(sub, wj, bj, k=sel.size, among=sel)
    return outcome, path, n_i + n_z, n_j + n_z + 1


def _column_min(m: sparse.csr_matrix, default: np.ndarray) -> np.ndarray:
    """Smallest stored value per column (``default`` where a column has none)."""
    out = np.asarray(default, dtype="float64").copy()
    coo = m.tocoo()
    np.minimum.at(out, coo.col, coo.data)
    return out


def _min_sites(gains: np.ndarray, needed: float) -> float:
    """Fewest sites whose coverage weights could add up to ``needed`` (a lower bound)."""
    csum = np.cumsum(np.sort(gains)[::-1])
    hit = np.flatnonzero(csum >= needed)
    return float(hit[0] + 1) if hit.size else float(gains.size)


def _best_assignment(
    coo: sparse.coo_matrix, saving: np.ndarray, x: np.ndarray, n_j: int
) -> np.ndarray:
    """Assignment ``z`` for open sites ``x``: each point to its largest saving."""
    z = np.zeros(coo.nnz)
    open_pair = x[coo.row] > 0.5
    if not open_pair.any():
        return z
    idx = np.flatnonzero(open_pair)
    order = idx[np.lexsort((-saving[idx], coo.col[idx]))]
    first = np.ones(order.size, dtype=bool)
    first[1:] = coo.col[order][1:] != coo.col[order][:-1]
    z[order[first]] = 1.0
    return z


def capacitated(
    cover: sparse.spmatrix | sparse.sparray,
    weight: np.ndarray,
    *,
    k: int,
    capacity: np.ndarray,
    covered: np.ndarray | None = None,
    time_limit_s: float | None = None,
    mip_gap: float | None = None,
) -> ModelSolution:
    """Capacitated maximal covering: each new site serves at most its capacity.

    Parameters
    ----------
    cover, weight, covered, time_limit_s, mip_gap
        As in :func:`mclp`.
    k
        Number of new sites.
    capacity
        Residents each candidate can serve (NaN: unlimited).

    Returns
    -------
    ModelSolution
        ``objective`` = weight served by the new sites; ``served`` = candidate × demand matrix
        of served weight; sites are ordered by the weight they serve.
    """
    t0 = time.perf_counter()
    a, w = _validate(cover, weight, name="capacitated")
    k = _check_k(k, name="capacitated")
    cap_all = _check_capacity(capacity, a.shape[0])
    cov = _covered_mask(covered, a.shape[1])
    sub, rows, cols, unreachable = _reduce_cover(a, w, cov)
    cap = cap_all[rows]
    keep = ~(np.isfinite(cap) & (cap <= 0))
    sub, rows, cap = sub[np.flatnonzero(keep)].tocsr(), rows[keep], cap[keep]
    wj = w[cols]
    # Work on one column per coverage region; split the served weight back afterwards.
    sub, wj, group = _group_columns(sub, wj)
    g, g_served = greedy_capacitated(sub, wj, cap, k=k)
    n_i = sub.shape[0]
    outcome = None
    served = g_served
    order, gains, total = g.order, g.gains, g.objective
    n_vars = n_rows = 0
    too_big = sub.nnz > settings.siting_milp_max_pairs
    used_greedy = too_big
    if n_i > 0 and not too_big:
        limit = _remaining(time_limit_s, t0)
        outcome, milp_served, n_vars, n_rows = _capacitated_milp(
            sub, wj, cap, g, g_served, k=k, time_limit_s=limit, mip_gap=mip_gap
        )
        used_greedy = True
        if milp_served is not None:
            per_site = np.asarray(milp_served.sum(axis=1)).ravel()
            if _use_milp(outcome, float(per_site.sum()), g.objective, maximize=True):
                used_greedy = False
                served = milp_served
                order = np.flatnonzero(per_site > GAIN_EPS)
                order = order[np.argsort(-per_site[order], kind="stable")]
                gains, total = per_site[order], float(per_site.sum())
    if used_greedy:
        order = g.order[g.gains > GAIN_EPS]
        gains = g.gains[g.gains > GAIN_EPS]
    served_full = _spread_served(served, w, wj, group, rows, cols, shape=a.shape)
    return _finish(
        model="capacitated",
        chosen_path=GreedyPath(order, gains, total),
        rows=rows,
        outcome=outcome,
        used_greedy=used_greedy,
        greedy_obj=g.objective,
        objective=total,
        requested=k,
        message=_k_message(
            order.size,
            k,
            "serve",
            *([_too_big_note(sub.nnz, heuristic="greedy")] if too_big else []),
        ),
        gap=_gap(
            _tighter(
                outcome.bound if outcome else np.nan,
                min(float(wj.sum()), _top_sum(np.minimum(sub @ wj, cap), k)),
                maximize=True,
            ),
            total,
            maximize=True,
        ),
        covered_weight=total,
        unreachable=unreachable,
        served=served_full,
        n_vars=n_vars,
        n_rows=n_rows,
    )


def _check_capacity(capacity: np.ndarray, n: int) -> np.ndarray:
    """Capacities as float64, one per candidate, none negative (NaN: unlimited)."""
    cap = np.asarray(capacity, dtype="float64")
    if cap.shape != (n,):
        raise SolverError(msg("coverage.siting.capacity_shape", shape=cap.shape, n=n))
    if np.any(cap[np.isfinite(cap)] < 0):
        raise SolverError(msg("coverage.siting.negative_capacity"))
    return cap


def _spread_served(
    served: sparse.spmatrix,
    w: np.ndarray,
    wj: np.ndarray,
    group: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    *,
    shape: tuple[int, int],
) -> sparse.csr_matrix:
    """Served weight per region back to single points, in the caller's numbering.

    Each point of a region gets its share of the region's weight; ``rows``/``cols`` map the
    reduced problem's candidates and points back.
    """
    n_pts = group.size
    spread = sparse.csr_matrix(
        (w[cols] / np.maximum(wj[group], GAIN_EPS), (group, np.arange(n_pts))),
        shape=(wj.size, n_pts),
    )
    full = sparse.coo_matrix(sparse.csr_matrix(served) @ spread)
    return sparse.csr_matrix((full.data, (rows[full.row], cols[full.col])), shape=shape)


def _capacitated_milp(
    sub: sparse.csr_matrix,
    wj: np.ndarray,
    cap: np.ndarray,
    g: GreedyPath,
    g_served: sparse.spmatrix,
    *,
    k: int,
    time_limit_s: float | None,
    mip_gap: float | None,
) -> tuple[MilpOutcome, sparse.csr_matrix | None, int, int]:
    """Solve the capacitated covering MILP warm-started from greedy ``g`` (serving ``g_served``).

    Returns the outcome, the weight each site serves per column (``None`` without a solution)
    and the model's numbers of variables and rows.
    """
    n_i, n_j = sub.shape
    coo = sub.tocoo()
    n_f = coo.nnz
    f_idx = np.arange(n_f)
    finite = np.flatnonzero(np.isfinite(cap))
    assign, link = _pair_rows(coo, n_i, n_j)
    # Capacity rows only for finite capacities: Σ_j w_j f_ij - cap_i x_i ≤ 0.
    fin_pos = np.full(n_i, -1)
    fin_pos[finite] = np.arange(finite.size)
    in_fin = fin_pos[coo.row] >= 0
    cap_f = sparse.csr_matrix(
        (wj[coo.col[in_fin]], (fin_pos[coo.row[in_fin]], f_idx[in_fin])),
        shape=(finite.size, n_f),
    )
    cap_x = sparse.csr_matrix((-cap[finite], (np.arange(finite.size), finite)), (finite.size, n_i))
    cons = sparse.vstack([assign, link, sparse.hstack([cap_x, cap_f]), _budget_row(n_i, n_f)])
    x0 = _opened(g.order, n_i)
    gs = g_served.tocsr()
    f0 = np.asarray(gs[coo.row, coo.col]).ravel() / wj[coo.col]
    outcome = solve_milp(
        cost=np.concatenate([np.zeros(n_i), wj[coo.col]]),
        lower=np.zeros(n_i + n_f),
        upper=np.ones(n_i + n_f),
        integrality=np.concatenate([np.ones(n_i), np.zeros(n_f)]),
        matrix=cons,
        row_lower=np.full(cons.shape[0], -np.inf),
        row_upper=np.concatenate([np.ones(n_j), np.zeros(n_f + finite.size), [float(k)]]),
        maximize=True,
        time_limit_s=time_limit_s,
        mip_gap=mip_gap,
        start=np.concatenate([x0, np.minimum(f0, 1.0)]),
    )
    size = (n_i + n_f, int(cons.shape[0]))
    if outcome.x is None:
        return outcome, None, *size
    f = outcome.x[n_i:]
    milp_served = sparse.csr_matrix((f * wj[coo.col], (coo.row, coo.col)), shape=sub.shape)
    milp_served.data[milp_served.data < GAIN_EPS] = 0.0
    milp_served.eliminate_zeros()
    return outcome, milp_served, *size


def solve(
    model: str,
    *,
    cover: sparse.spmatrix | sparse.sparray | None = None,
    cost: sparse.spmatrix | sparse.sparray | None = None,
    weight: np.ndarray,
    k: int | None = None,
    target: float | None = None,
    covered: np.ndarray | None = None,
    base_cost: np.ndarray | None = None,
    capacity: np.ndarray | None = None,
    time_limit_s: float | None = None,
    mip_gap: float | None = None,
) -> ModelSolution:
    """Dispatch to one model by name (``mclp``, ``lscp``, ``pmedian``, ``capacitated``)."""
    limits = {"time_limit_s": time_limit_s, "mip_gap": mip_gap}
    if model not in MODELS:
        raise SolverError(
            msg("coverage.siting.solve_unknown_model", model=repr(model), models=", ".join(MODELS))
        )
    if model == "pmedian":
        if cost is None or base_cost is None or k is None:
            raise SolverError(msg("coverage.siting.pmedian_inputs"))
        return pmedian(cost, weight, k=k, base_cost=base_cost, **limits)
    if cover is None:
        raise SolverError(msg("coverage.siting.needs_cover", model=model))
    if model == "lscp":
        return lscp(
            cover, weight, target=1.0 if target is None else target, covered=covered, **limits
        )
    if k is None:
        raise SolverError(msg("coverage.siting.solve_needs_k", model=model))
    if model == "capacitated":
        cap = np.full(cover.shape[0], np.nan) if capacity is None else capacity
        return capacitated(cover, weight, k=k, capacity=cap, covered=covered, **limits)
    return mclp(cover, weight, k=k, covered=covered, **limits)
