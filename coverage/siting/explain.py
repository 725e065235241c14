"""Site suggestions with explanations: the one high-level entry point, :func:`suggest_sites`.

It builds the matrices (:mod:`coverage.siting.matrix`) from a coverage run, solves the chosen
model on arrays (:mod:`coverage.siting.models`) and explains the answer for a planner:

* every proposed site, in greedy order within the chosen set, with its marginal gain — residents
  and elderly residents newly covered, population-weighted walking minutes saved — and the
  communities it serves (top 3 by residents);
* the cumulative coverage curve for k = 1..K: the greedy curve, and the exact maximal-covering
  optimum per k where the problem is small enough, so a planner sees when one more site stops
  paying off and how many sites a target needs.

Minutes saved are counted against each point's time to its nearest existing facility, with walks
longer than the matrix reach (``settings.siting_pmedian_reach_factor`` × threshold) counted at the
reach.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage.analysis import CoverageResult, analyse
from coverage.distance import nearest_from, point_distance
from coverage.siting.candidates import as_candidates, empty_candidates, generate_candidates
from coverage.siting.greedy import greedy_cover
from coverage.siting.matrix import SitingMatrices, build_matrices
from coverage.siting.models import MODELS, ModelSolution, mclp, solve
from coverage.snap import Snap, snap_points
from geo import settings
from geo.errors import ColumnNotFoundError, ConfigError, InputDataError
from geo.network import WGS84, Network

logger = logging.getLogger(__name__)

SITE_COLUMNS = [
    "rank",
    "candidate_id",
    "name",
    "lon",
    "lat",
    "added_population",
    "added_elderly",
    "minutes_saved",
    "communities",
    "cumulative_population",
    "coverage_rate",
    "capacity",
    "source",
]
CURVE_COLUMNS = [
    "k",
    "covered_population",
    "coverage_rate",
    "covered_elderly",
    "elderly_coverage_rate",
    "method",
]

ProgressFn = Callable[[str, float], None]

#: Weights read from a demand column of the same name (added by the caller; NaN counts as 0).
WEIGHT_COLUMNS: tuple[str, ...] = ("unmet_supply",)


@dataclass(frozen=True)
class SitingResult:
    """Proposed sites, the coverage curve and what the solver achieved.

    Attributes
    ----------
    sites
        GeoDataFrame (WGS-84), one row per proposed site in explanation order: ``rank,
        candidate_id, name, lon, lat, added_population, added_elderly, minutes_saved,
        communities`` (top 3, joined with "、"), ``cumulative_population, coverage_rate`` (after
        this site), ``capacity, source, geometry``.
    curve
        DataFrame ``k, covered_population, coverage_rate, covered_elderly,
        elderly_coverage_rate, method`` (``existing`` for k = 0, ``greedy``, and the exact
        status per k where computed).
    status
        What the user is looking at: ``optimal``, ``time-limit (gap x %)``, ``greedy fallback``,
        ``trivial`` (every useful candidate fits in k) or ``no candidates``.
    gap
        Relative optimality gap (0 when optimal, NaN when unknown).
    objective
        The model's objective for the proposed sites (see :class:`ModelSolution`).
    method
        How the answer was found (``HiGHS MILP``, ``greedy``, ``greedy + interchange``,
        ``Lagrangian bound``, ``all useful candidates``; see :class:`ModelSolution`).
    message
        Sentences for the planner (k not reached, unreachable residents, dropped candidates).
    model, category, weight
        What was solved.
    candidates
        The candidates considered (with ``snapped``).
    unreachable
        Demand points (WGS-84) with residents that neither existing facilities nor any candidate
        reach within the threshold.
    solution
        The array-level answer.
    timings
        Seconds per step (``baseline``, ``candidates``, ``matrix``, ``solve``, ``explain``).
    """

    sites: gpd.GeoDataFrame
    curve: pd.DataFrame
    status: str
    gap: float
    objective: float
    method: str
    message: str
    model: str = ""
    category: str = ""
    weight: str = "population"
    candidates: gpd.GeoDataFrame | None = None
    unreachable: gpd.GeoDataFrame | None = None
    solution: ModelSolution | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def best_curve(self) -> pd.DataFrame:
        """One row per k: the exact optimum where it was computed, else the greedy value."""
        if self.curve.empty:
            return self.curve.copy()
        exact = ~self.curve["method"].isin(["greedy", "existing"])
        ranked = self.curve.assign(_exact=exact).sort_values(["k", "_exact"], kind="stable")
        return ranked.groupby("k", as_index=False).last().drop(columns="_exact")


def _empty_sites() -> gpd.GeoDataFrame:
    data: dict[str, Any] = {c: [] for c in SITE_COLUMNS}
    frame = gpd.GeoDataFrame(data, geometry=[], crs=WGS84)
    return frame.astype({"rank": "int64", "lon": "float64", "lat": "float64"})


def _weights(demand: pd.DataFrame, weight: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pop = pd.to_numeric(demand["population"], errors="coerce").fillna(0.0).to_numpy("float64")
    eld_raw = (
        pd.to_numeric(demand["elderly"], errors="coerce").to_numpy("float64")
        if "elderly" in demand.columns
        else np.full(len(demand), np.nan)
    )
    eld = np.where(np.isfinite(eld_raw), eld_raw, 0.0)
    if weight == "population":
        return pop, pop, eld
    if weight == "elderly":
        if not np.isfinite(eld_raw).any():
            msg = (
                "suggest_sites: weight='elderly' but the demand has no elderly counts (the "
                "'elderly' column is missing or empty); load an elderly column or use "
                "weight='population'"
            )
            raise ColumnNotFoundError(msg)
        return eld, pop, eld
    if weight in WEIGHT_COLUMNS:
        # A demand weight computed elsewhere (e.g. coverage.supply.unmet_supply_weights).
        if weight not in demand.columns:
            msg = (
                f"suggest_sites: weight={weight!r} needs a {weight!r} column on the demand "
                f"(it has {list(demand.columns)[:12]}); add it, e.g. demand[{weight!r}] = "
                "coverage.supply.unmet_supply_weights(...), or use weight='population'"
            )
            raise ColumnNotFoundError(msg)
        raw = pd.to_numeric(demand[weight], errors="coerce").to_numpy("float64")
        if (raw[np.isfinite(raw)] < 0).any():
            msg = f"suggest_sites: the {weight!r} demand weights must be ≥ 0; some are negative"
            raise InputDataError(msg)
        return np.where(np.isfinite(raw), raw, 0.0), pop, eld
    msg = (
        "suggest_sites: weight must be 'population', 'elderly' or one of "
        f"{list(WEIGHT_COLUMNS)}, got {weight!r}"
    )
    raise ConfigError(msg)


def _top_communities(names: np.ndarray, pop: np.ndarray, *, n: int = 3) -> str:
    named = (pop > 0) & (names != "")
    if not named.any():
        return ""
    s = pd.Series(pop[named]).groupby(names[named]).sum().sort_values(ascending=False)
    s = s[s > 0]
    return "、".join(s.index[:n].astype(str))


def explain_sites(
    solution: ModelSolution,
    mats: SitingMatrices,
    candidates: gpd.GeoDataFrame,
    demand: pd.DataFrame,
    *,
    weight: str = "population",
    site_minutes: Mapping[int, np.ndarray] | None = None,
) -> gpd.GeoDataFrame:
    """The proposed sites with their marginal gains, in the solution's explanation order.

    Parameters
    ----------
    solution
        An array-level answer whose rows index ``candidates``.
    mats
        The matrices it was solved on.
    candidates
        Candidate sites (WGS-84).
    demand
        Demand table with ``population``, ``elderly``, ``community``.
    weight
        The weight the solution used (``population`` or ``elderly``); capacitated solutions
        serve weight, turned back into residents here.
    site_minutes
        Exact walking minutes from each selected candidate to every demand point (unlimited
        searches). With it, ``minutes_saved`` counts every resident the site brings closer;
        without it, only those within the matrices' reach.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`SITE_COLUMNS` plus ``geometry``.
    """
    if solution.selected.size == 0:
        return _empty_sites()
    _, pop, eld = _weights(demand, "population")
    names = (
        demand["community"].fillna("").astype(str).to_numpy()
        if "community" in demand.columns
        else np.full(len(demand), "")
    )
    total = float(pop.sum())
    cover = mats.cover
    cost = mats.cost_minutes
    covered = mats.covered.copy()
    # Real walking minutes to the nearest existing facility (base_minutes caps them at the
    # model's reach, which would under-count the time a site saves for far-away residents);
    # residents with no reachable facility count from the reach, as in the p-median model.
    existing = np.asarray(mats.existing_m, dtype="float64")
    minutes = mats.minutes(np.where(np.isfinite(existing), existing, mats.reach_m))
    served = solution.served.tocsr() if solution.served is not None else None
    w_model = _weights(demand, weight)[0]
    rows = []
    cum = float(pop[covered].sum())
    for rank, i in enumerate(solution.selected.tolist(), start=1):
        new = np.zeros(len(demand), dtype=bool)
        if served is not None:
            # Capacitated: the site serves a share of each point (served is in model weight).
            s_cols = served.indices[served.indptr[i] : served.indptr[i + 1]]
            s_val = served.data[served.indptr[i] : served.indptr[i + 1]]
            share = np.zeros(len(demand))
            denom = np.where(w_model[s_cols] > 0, w_model[s_cols], 1.0)
            share[s_cols] = np.clip(s_val / denom, 0.0, 1.0)
            new[s_cols] = True
            add_pop = float((share * pop).sum())
            add_eld = float((share * eld).sum())
            comm_w = share * pop
        else:
            cols = cover.indices[cover.indptr[i] : cover.indptr[i + 1]]
            new_cols = cols[~covered[cols]]
            add_pop = float(pop[new_cols].sum())
            add_eld = float(eld[new_cols].sum())
            new[new_cols] = True
            comm_w = np.where(new, pop, 0.0)
        if site_minutes is not None and i in site_minutes:
            c_val = np.asarray(site_minutes[i], dtype="float64")
            c_cols = np.flatnonzero(np.isfinite(c_val))
            c_val = c_val[c_cols]
        else:
            c_cols = cost.indices[cost.indptr[i] : cost.indptr[i + 1]]
            c_val = cost.data[cost.indptr[i] : cost.indptr[i + 1]]
        better = c_val < minutes[c_cols]
        saved = float((pop[c_cols[better]] * (minutes[c_cols[better]] - c_val[better])).sum())
        minutes[c_cols[better]] = c_val[better]
        if not new.any():
            comm_w = np.zeros(len(demand))
            comm_w[c_cols[better]] = pop[c_cols[better]]
        covered[new] = True
        cum += add_pop
        comm = _top_communities(names, comm_w)
        rows.append(
            (rank, int(i), add_pop, add_eld, saved, comm, cum, cum / total if total else np.nan)
        )
    idx = np.array([r[1] for r in rows])
    cand = candidates.iloc[idx]
    geom = cand.geometry.values
    out = gpd.GeoDataFrame(
        {
            "rank": [r[0] for r in rows],
            "candidate_id": cand["candidate_id"].astype(str).to_numpy(),
            "name": cand["name"].astype(str).to_numpy(),
            "lon": shapely.get_x(geom),
            "lat": shapely.get_y(geom),
            "added_population": [r[2] for r in rows],
            "added_elderly": [r[3] for r in rows],
            "minutes_saved": [r[4] for r in rows],
            "communities": [r[5] for r in rows],
            "cumulative_population": [r[6] for r in rows],
            "coverage_rate": [r[7] for r in rows],
            "capacity": cand["capacity"].to_numpy(dtype="float64"),
            "source": cand["source"].astype(str).to_numpy(),
        },
        geometry=list(geom),
        crs=WGS84,
    )
    return out


def coverage_curve(
    mats: SitingMatrices,
    demand: pd.DataFrame,
    *,
    weight: str = "population",
    k_max: int,
    exact: bool | None = None,
    time_limit_s: float | None = None,
) -> pd.DataFrame:
    """Covered residents for k = 0..K new sites: greedy, and exact MCLP optima when affordable.

    Parameters
    ----------
    mats
        The siting matrices.
    demand
        Demand table (``population``, ``elderly``).
    weight
        What the sites maximise: ``population`` or ``elderly``.
    k_max
        Largest k (the greedy curve stops earlier when no site adds anyone).
    exact
        Solve MCLP for every k; default when the reduced problem has at most
        ``settings.siting_exact_curve_max_pairs`` pairs.
    time_limit_s
        Limit per exact solve (default ``min(5, settings.solver_time_limit_s)``); all exact
        solves together stop after ``settings.siting_curve_time_s``. Exact rows whose solve
        found nothing better than greedy are left out (the greedy row stands for them).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CURVE_COLUMNS`.
    """
    w, pop, eld = _weights(demand, weight)
    total, total_e = float(pop.sum()), float(eld.sum())
    cover = mats.cover
    covered = mats.covered
    path = greedy_cover(cover, w, k=k_max, covered=covered)

    def row(k: int, sel: np.ndarray, method: str) -> dict[str, Any]:
        hit = covered.copy()
        if sel.size:
            hit |= np.asarray(cover[sel].sum(axis=0)).ravel() > 0
        cp, ce = float(pop[hit].sum()), float(eld[hit].sum())
        return {
            "k": k,
            "covered_population": cp,
            "coverage_rate": cp / total if total else np.nan,
            "covered_elderly": ce,
            "elderly_coverage_rate": ce / total_e if total_e else np.nan,
            "method": method,
        }

    rows = [row(0, np.zeros(0, dtype="int64"), "existing")]
    for k in range(1, path.order.size + 1):
        rows.append(row(k, path.order[:k], "greedy"))
    if exact is None:
        useful = (~covered) & (w > 0)
        exact = int(cover[:, np.flatnonzero(useful)].nnz) <= settings.siting_exact_curve_max_pairs
    if exact and path.order.size:
        # A total time budget: the curve is an aid, not worth minutes of solver time.
        budget = settings.siting_curve_time_s
        per_k = min(5.0, settings.solver_time_limit_s) if time_limit_s is None else time_limit_s
        t_start = time.perf_counter()
        for k in range(1, path.order.size + 1):
            left = budget - (time.perf_counter() - t_start)
            if left <= 0.05:
                break
            sol = mclp(cover, w, k=k, covered=covered, time_limit_s=min(per_k, left))
            if sol.status in ("optimal", "trivial", "time-limit"):
                rows.append(row(k, sol.selected, sol.label))
    out = pd.DataFrame(rows, columns=CURVE_COLUMNS)
    # One block per k: existing/greedy first, then the exact optimum of that k.
    rank = (out["method"] != "greedy") & (out["method"] != "existing")
    out = out.assign(_exact=rank).sort_values(["k", "_exact"], kind="stable")
    return out.drop(columns="_exact").reset_index(drop=True)


def suggest_sites(
    network: Network,
    demand: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    category: str,
    model: str = "mclp",
    k: int | None = None,
    target: float | None = None,
    candidates: str | gpd.GeoDataFrame = "generate",
    criterion: Any = None,
    weight: str = "population",
    time_limit_s: float | None = None,
    mip_gap: float | None = None,
    spacing_m: float | None = None,
    baseline: CoverageResult | None = None,
    curve_k: int | None = None,
    progress: ProgressFn | None = None,
) -> SitingResult:
    """Propose new sites for one category and explain them.

    Parameters
    ----------
    network
        The street network.
    demand, facilities
        Demand points and existing facilities (CONTRACTS.md); existing facilities of
        ``category`` are kept fixed in every model.
    category
        Taxonomy key.
    model
        ``mclp`` (add k sites covering the most uncovered weight), ``lscp`` (fewest sites
        reaching ``target`` of the reachable weight), ``pmedian`` (k sites minimising
        population-weighted walking time) or ``capacitated`` (k sites, each serving at most its
        ``capacity`` — counted in the model's weight, i.e. elderly residents when
        ``weight="elderly"``; candidates without a capacity are unlimited; existing facilities
        keep serving the points they cover).
    k
        Number of new sites (mclp, pmedian, capacitated).
    target
        LSCP share of the reachable weight, 0 < target ≤ 1 (default 1).
    candidates
        ``"generate"`` (street nodes in and around the gaps), or a GeoDataFrame of candidate
        sites (any facility-like frame; see :func:`coverage.siting.candidates.as_candidates`).
    criterion
        Override of the category's criterion (a Criterion or a dict of overrides).
    weight
        ``population`` or ``elderly`` (elderly residents; needs the ``elderly`` column), or
        ``unmet_supply``: the demand's ``unmet_supply`` column (residents weighted by the
        supply they lack, :func:`coverage.supply.unmet_supply_weights`).
    time_limit_s, mip_gap
        HiGHS limits (default ``settings.solver_time_limit_s`` / ``settings.solver_mip_gap``).
    spacing_m
        Spacing of generated candidates (default ``settings.candidate_spacing_m``).
    baseline
        A coverage result of ``demand`` and ``facilities`` that includes ``category``, to reuse
        (skips one analysis); ``criterion`` is then taken from it.
    curve_k
        Largest k of the coverage curve (default ``max(selected, settings.siting_curve_max_k)``).
    progress
        Optional ``callable(step, fraction)``.

    Returns
    -------
    SitingResult
    """
    timings: dict[str, float] = {}

    def report(step: str, frac: float) -> None:
        if progress is not None:
            progress(step, frac)

    if model not in MODELS:
        msg = f"suggest_sites: unknown model {model!r}; use one of {', '.join(MODELS)}"
        raise ConfigError(msg)
    if model in ("mclp", "pmedian", "capacitated") and k is None:
        msg = f"suggest_sites: model {model!r} needs k, the number of new sites (e.g. k=3)"
        raise ConfigError(msg)
    t0 = time.perf_counter()
    report("baseline", 0.0)
    if baseline is None:
        crits = {category: criterion} if criterion is not None else None
        baseline = analyse(network, demand, facilities, categories=[category], criteria=crits)
    elif category not in baseline.criteria:
        msg = (
            f"suggest_sites: baseline has no category {category!r} (it has "
            f"{list(baseline.criteria)}); analyse that category first"
        )
        raise ColumnNotFoundError(msg)
    dem = baseline.demand
    if weight in WEIGHT_COLUMNS and weight not in dem.columns and weight in demand.columns:
        # The baseline was analysed without the weight column: carry it over by demand id.
        by_id = pd.Series(demand[weight].to_numpy(), index=demand["demand_id"].astype(str))
        dem = dem.copy()
        dem[weight] = dem["demand_id"].astype(str).map(by_id).to_numpy()
    crit = baseline.criteria[category]
    w, _, _ = _weights(dem, weight)
    timings["baseline"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    report("candidates", 0.1)
    notes: list[str] = []
    cand, c_snap = _snapped_candidates(
        network, baseline, candidates, category=category, spacing_m=spacing_m, notes=notes
    )
    timings["candidates"] = time.perf_counter() - t0
    if len(cand) == 0:
        return SitingResult(
            sites=_empty_sites(),
            curve=pd.DataFrame(columns=CURVE_COLUMNS),
            status="no candidates",
            gap=float("nan"),
            objective=float("nan"),
            method="",
            message="; ".join(
                [*notes, "no candidate site could add anyone (nobody uncovered or no candidates)"]
            ),
            model=model,
            category=category,
            weight=weight,
            candidates=cand if len(cand) else empty_candidates(),
            timings=timings,
        )

    t0 = time.perf_counter()
    report("matrix", 0.2)
    d_snap = baseline.demand_snap
    if d_snap is None:
        d_snap = snap_points(network, dem, tolerance_m=baseline.tolerance_m or None)
    mats = build_matrices(
        network,
        c_snap,
        d_snap,
        dem[f"{category}_distance_m"].to_numpy(dtype="float64"),
        criterion=crit,
        reach_m=crit.threshold_m * settings.siting_pmedian_reach_factor,
        progress=(lambda s, f: report(s, 0.2 + 0.4 * f)) if progress else None,
    )
    timings["matrix"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    report("solve", 0.6)
    cap = cand["capacity"].to_numpy(dtype="float64")
    if model == "capacitated" and not np.isfinite(cap).any():
        notes.append("no candidate has a capacity; capacitated covering equals maximal covering")
    sol = solve(
        model,
        cover=mats.cover,
        cost=mats.cost_minutes,
        weight=w,
        k=k,
        target=target,
        covered=mats.covered,
        base_cost=mats.base_minutes,
        capacity=cap,
        time_limit_s=time_limit_s,
        mip_gap=mip_gap,
    )
    timings["solve"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    report("explain", 0.85)
    dem_w = pd.DataFrame(dem.drop(columns=dem.geometry.name))
    base_m = dem[f"{category}_distance_m"].to_numpy(dtype="float64")
    exact = _site_minutes(network, sol, mats, c_snap, d_snap, base_m)
    sites = explain_sites(sol, mats, cand, dem_w, weight=weight, site_minutes=exact)
    # Which category the sites are for travels with them into tables and exports.
    sites.insert(1, "category", category)
    k_curve = max(int(sol.selected.size), int(curve_k or settings.siting_curve_max_k), int(k or 0))
    curve = coverage_curve(mats, dem_w, weight=weight, k_max=k_curve, time_limit_s=None)
    unreachable = None
    if sol.unreachable.size:
        keep_cols = [c for c in ("demand_id", "population", "elderly", "community") if c in dem]
        unreachable = gpd.GeoDataFrame(
            dem.iloc[sol.unreachable][[*keep_cols, dem.geometry.name]].reset_index(drop=True),
            crs=WGS84,
        )
    timings["explain"] = time.perf_counter() - t0
    message = "; ".join([sol.message, *notes])
    report("done", 1.0)
    return SitingResult(
        sites=sites,
        curve=curve,
        status=sol.label,
        gap=float(sol.gap),
        objective=float(sol.objective),
        method=sol.method,
        message=message,
        model=model,
        category=category,
        weight=weight,
        candidates=cand,
        unreachable=unreachable,
        solution=sol,
        timings=timings,
    )


def _snapped_candidates(
    network: Network,
    baseline: CoverageResult,
    candidates: str | gpd.GeoDataFrame,
    *,
    category: str,
    spacing_m: float | None,
    notes: list[str],
) -> tuple[gpd.GeoDataFrame, Snap]:
    """The candidate sites that lie on the street network, with their snaps (notes appended)."""
    if isinstance(candidates, str):
        if candidates != "generate":
            msg = (
                f"suggest_sites: candidates must be 'generate' or a GeoDataFrame, got "
                f"{candidates!r}; load files with candidates_from_file"
            )
            raise InputDataError(msg)
        cand = generate_candidates(network, baseline, category=category, spacing_m=spacing_m)
    else:
        cand = as_candidates(candidates) if "node" not in candidates.columns else candidates
    cand = cand.reset_index(drop=True)
    c_snap = snap_points(network, cand, tolerance_m=baseline.tolerance_m or None)
    if len(cand) and not c_snap.ok.all():
        n_far = int((~c_snap.ok).sum())
        notes.append(
            f"{n_far} candidates are farther than {baseline.tolerance_m:.0f} m from any street "
            "and were not considered"
        )
        cand = cand[c_snap.ok].reset_index(drop=True)
        c_snap = c_snap.subset(np.flatnonzero(c_snap.ok))
    return cand.assign(snapped=True), c_snap


def _site_minutes(
    network: Network,
    sol: ModelSolution,
    mats: SitingMatrices,
    c_snap: Snap,
    d_snap: Snap,
    base_m: np.ndarray,
) -> dict[int, np.ndarray]:
    """Exact walking minutes from every proposed site to every demand point it can improve.

    One search per site, unlimited in principle (the time saved counts every resident a site
    brings closer, not only those within the model's reach) but stopped at the farthest
    resident's current distance: a site cannot bring anyone closer who is farther from it than
    that (distances only shrink as sites are added), so the result equals the unlimited search.
    Where someone has no reachable facility yet, it cannot stop early.
    """
    base = base_m[d_snap.ok]
    limit = float(base.max()) if base.size and np.isfinite(base).all() else np.inf
    exact: dict[int, np.ndarray] = {}
    for i in sol.selected.tolist():
        one = c_snap.subset(np.array([i]))
        node_d, node_s = nearest_from(network, one, limit_m=limit)
        dist_m, _ = point_distance(network, node_d, node_s, d_snap, sources=one)
        exact[int(i)] = mats.minutes(dist_m)
    return exact
