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
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from coverage.analysis import CoverageResult, analyse
from coverage.distance import lengths_bound_chords, nearest_from, point_distance
from coverage.siting.candidates import as_candidates, empty_candidates, generate_candidates
from coverage.siting.greedy import greedy_cover
from coverage.siting.matrix import SitingMatrices, build_matrices
from coverage.siting.models import MODELS, ModelSolution, mclp, solve
from coverage.snap import Snap, snap_points
from geo import settings
from geo.errors import ColumnNotFoundError, ConfigError, InputDataError
from geo.messages import Message, msg, text
from geo.network import WGS84, Network

logger = logging.getLogger(__name__)

__all__ = [
    "CURVE_COLUMNS",
    "SITE_COLUMNS",
    "WEIGHT_COLUMNS",
    "ProgressFn",
    "SiteSearch",
    "SitingResult",
    "coverage_curve",
    "explain_sites",
    "suggest_sites",
]

#: Relative and absolute slack on the limited searches of the explanation: they only widen the
#: search, so float rounding between metres and minutes can never cut a walk the site shortens.
_SLACK = 1e-9
_MARGIN_M = 0.01

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
            raise ColumnNotFoundError(msg("coverage.siting.no_elderly_counts"))
        return eld, pop, eld
    if weight in WEIGHT_COLUMNS:
        # A demand weight computed elsewhere (e.g. coverage.supply.unmet_supply_weights).
        if weight not in demand.columns:
            raise ColumnNotFoundError(
                msg(
                    "coverage.siting.weight_column_missing",
                    weight=repr(weight),
                    columns=list(demand.columns)[:12],
                )
            )
        raw = pd.to_numeric(demand[weight], errors="coerce").to_numpy("float64")
        if (raw[np.isfinite(raw)] < 0).any():
            raise InputDataError(msg("coverage.siting.negative_weights", weight=repr(weight)))
        return np.where(np.isfinite(raw), raw, 0.0), pop, eld
    raise ConfigError(
        msg("coverage.siting.unknown_weight", columns=list(WEIGHT_COLUMNS), weight=repr(weight))
    )


def _top_communities(names: np.ndarray, pop: np.ndarray, *, n: int = 3) -> str:
    # Index first: comparing every name with "" per site is slow on 100k-point districts.
    named = np.flatnonzero(pop > 0)
    named = named[names[named] != ""]
    if named.size == 0:
        return ""
    s = pd.Series(pop[named]).groupby(names[named]).sum().sort_values(ascending=False)
    s = s[s > 0]
    # A data column of Chinese community names: joined with the Chinese list mark.
    return text("coverage.siting.community_separator", "zh").join(s.index[:n].astype(str))


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
        Exact walking minutes from each selected candidate to every demand point (at least to
        every point it brings closer; see :func:`_site_minutes`). With it, ``minutes_saved``
        counts every resident the site brings closer; without it, only those within the
        matrices' reach.

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
    state = _Walks(
        cover=mats.cover,
        cost=mats.cost_minutes,
        covered=mats.covered.copy(),
        minutes=_current_minutes(mats),
        served=solution.served.tocsr() if solution.served is not None else None,
        w_model=_weights(demand, weight)[0],
    )
    rows = []
    cum = float(pop[state.covered].sum())
    for rank, i in enumerate(solution.selected.tolist(), start=1):
        given = site_minutes.get(i) if site_minutes is not None else None
        add_pop, add_eld, saved, comm_w = _site_gain(i, state, pop, eld, given)
        cum += add_pop
        comm = _top_communities(names, comm_w)
        rows.append(
            (rank, int(i), add_pop, add_eld, saved, comm, cum, cum / total if total else np.nan)
        )
    return _sites_frame(rows, candidates)


@dataclass
class _Walks:
    """What the explanation carries from one site to the next (updated in place)."""

    cover: sparse.csr_matrix
    cost: sparse.csr_matrix
    covered: np.ndarray
    minutes: np.ndarray
    served: sparse.csr_matrix | None
    w_model: np.ndarray


def _current_minutes(mats: SitingMatrices) -> np.ndarray:
    """Each point's walk before any new site, in minutes.

    Real walking minutes to the nearest existing facility (``base_minutes`` caps them at the
    model's reach, which would under-count the time a site saves for far-away residents);
    residents with no reachable facility count from the reach, as in the p-median model.
    """
    existing = np.asarray(mats.existing_m, dtype="float64")
    return mats.minutes(np.where(np.isfinite(existing), existing, mats.reach_m))


def _site_gain(
    i: int,
    state: _Walks,
    pop: np.ndarray,
    eld: np.ndarray,
    given: np.ndarray | None,
) -> tuple[float, float, float, np.ndarray]:
    """Residents and elderly newly covered, minutes saved and community weights of site ``i``.

    Updates ``state`` (points covered, current walks) as the site is added.
    """
    n = len(pop)
    new = np.zeros(n, dtype=bool)
    served = state.served
    if served is not None:
        # Capacitated: the site serves a share of each point (served is in model weight).
        s_cols = served.indices[served.indptr[i] : served.indptr[i + 1]]
        s_val = served.data[served.indptr[i] : served.indptr[i + 1]]
        share = np.zeros(n)
        denom = np.where(state.w_model[s_cols] > 0, state.w_model[s_cols], 1.0)
        share[s_cols] = np.clip(s_val / denom, 0.0, 1.0)
        new[s_cols] = True
        add_pop = float((share * pop).sum())
        add_eld = float((share * eld).sum())
        comm_w = share * pop
    else:
        cover = state.cover
        cols = cover.indices[cover.indptr[i] : cover.indptr[i + 1]]
        new_cols = cols[~state.covered[cols]]
        add_pop = float(pop[new_cols].sum())
        add_eld = float(eld[new_cols].sum())
        new[new_cols] = True
        comm_w = np.where(new, pop, 0.0)
    if given is not None:
        c_val = np.asarray(given, dtype="float64")
        c_cols = np.flatnonzero(np.isfinite(c_val))
        c_val = c_val[c_cols]
    else:
        cost = state.cost
        c_cols = cost.indices[cost.indptr[i] : cost.indptr[i + 1]]
        c_val = cost.data[cost.indptr[i] : cost.indptr[i + 1]]
    minutes = state.minutes
    better = c_val < minutes[c_cols]
    saved = float((pop[c_cols[better]] * (minutes[c_cols[better]] - c_val[better])).sum())
    minutes[c_cols[better]] = c_val[better]
    if not new.any():
        comm_w = np.zeros(n)
        comm_w[c_cols[better]] = pop[c_cols[better]]
    state.covered[new] = True
    return add_pop, add_eld, saved, comm_w


def _sites_frame(rows: list[tuple[Any, ...]], candidates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The sites table from the explanation rows (rank, row, gains, communities, totals)."""
    idx = np.array([r[1] for r in rows])
    cand = candidates.iloc[idx]
    geom = cand.geometry.values
    return gpd.GeoDataFrame(
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


@dataclass(frozen=True, kw_only=True)
class SiteSearch:
    """What to ask of the siting model (hashable; :func:`suggest_sites` takes one).

    Attributes
    ----------
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
    weight
        ``population`` or ``elderly`` (elderly residents; needs the ``elderly`` column), or
        ``unmet_supply``: the demand's ``unmet_supply`` column (residents weighted by the
        supply they lack, :func:`coverage.supply.unmet_supply_weights`).
    time_limit_s, mip_gap
        HiGHS limits (default ``settings.solver_time_limit_s`` / ``settings.solver_mip_gap``).
    spacing_m
        Spacing of generated candidates (default ``settings.candidate_spacing_m``).
    curve_k
        Largest k of the coverage curve (default ``max(selected, settings.siting_curve_max_k)``).
    """

    model: str = "mclp"
    k: int | None = None
    target: float | None = None
    weight: str = "population"
    time_limit_s: float | None = None
    mip_gap: float | None = None
    spacing_m: float | None = None
    curve_k: int | None = None


def suggest_sites(
    network: Network,
    demand: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    category: str,
    search: SiteSearch | None = None,
    candidates: str | gpd.GeoDataFrame = "generate",
    criterion: Any = None,
    baseline: CoverageResult | None = None,
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
    search
        What to ask of the model (:class:`SiteSearch`: model, k or target, weight, solver
        limits, candidate spacing, curve length); default ``SiteSearch()`` (MCLP).
    candidates
        ``"generate"`` (street nodes in and around the gaps), or a GeoDataFrame of candidate
        sites (any facility-like frame; see :func:`coverage.siting.candidates.as_candidates`).
    criterion
        Override of the category's criterion (a Criterion or a dict of overrides).
    baseline
        A coverage result of ``demand`` and ``facilities`` that includes ``category``, to reuse
        (skips one analysis); ``criterion`` is then taken from it.
    progress
        Optional ``callable(step, fraction)``.

    Returns
    -------
    SitingResult
    """
    search = search if search is not None else SiteSearch()
    model, k, weight = search.model, search.k, search.weight
    timings: dict[str, float] = {}
    report = _reporter(progress)
    _check_model(model, k)
    with _step(timings, report, "baseline", 0.0):
        baseline, dem = _baseline_demand(
            network,
            demand,
            facilities,
            baseline,
            category=category,
            criterion=criterion,
            weight=weight,
        )
        w, _, _ = _weights(dem, weight)
    notes: list[Message] = []
    with _step(timings, report, "candidates", 0.1):
        spacing = search.spacing_m
        cand, c_snap = _snapped_candidates(
            network, baseline, candidates, category=category, spacing_m=spacing, notes=notes
        )
    if len(cand) == 0:
        return _no_candidates(model, category, weight, notes, timings)
    run = _Run(network, baseline, dem, category, cand, c_snap, report, timings)
    mats = _matrices(run, progress=progress is not None)
    limits = (search.time_limit_s, search.mip_gap)
    sol = _solve(run, mats, model, w, notes, k=k, target=search.target, limits=limits)
    with _step(timings, report, "explain", 0.85):
        explained = _explained(run, mats, sol, weight=weight, k=k, curve_k=search.curve_k)
    report("done", 1.0)
    return _result(run, sol, explained, model=model, weight=weight, notes=notes)


def _result(
    run: _Run,
    sol: ModelSolution,
    explained: tuple[gpd.GeoDataFrame, pd.DataFrame, gpd.GeoDataFrame | None],
    *,
    model: str,
    weight: str,
    notes: list[Message],
) -> SitingResult:
    """The :class:`SitingResult` of a solved and explained run."""
    sites, curve, unreachable = explained
    return SitingResult(
        sites=sites,
        curve=curve,
        status=sol.label,
        gap=float(sol.gap),
        objective=float(sol.objective),
        method=sol.method,
        message=msg("coverage.siting.sentences", sentences=[sol.message, *notes]),
        model=model,
        category=run.category,
        weight=weight,
        candidates=run.candidates,
        unreachable=unreachable,
        solution=sol,
        timings=run.timings,
    )


@dataclass(frozen=True)
class _Run:
    """The inputs every step of :func:`suggest_sites` after the candidates shares."""

    network: Network
    baseline: CoverageResult
    demand: gpd.GeoDataFrame
    category: str
    candidates: gpd.GeoDataFrame
    c_snap: Snap
    report: ProgressFn
    timings: dict[str, float]

    @cached_property
    def d_snap(self) -> Snap:
        """The demand snap of the baseline (snapped again, once, when it carries none)."""
        if self.baseline.demand_snap is not None:
            return self.baseline.demand_snap
        tolerance = self.baseline.tolerance_m or None
        return snap_points(self.network, self.demand, tolerance_m=tolerance)

    @property
    def existing_m(self) -> np.ndarray:
        """Each demand point's distance to the nearest existing facility of the category."""
        return self.demand[f"{self.category}_distance_m"].to_numpy(dtype="float64")


@contextmanager
def _step(timings: dict[str, float], report: ProgressFn, name: str, frac: float) -> Iterator[None]:
    """Report step ``name`` at ``frac`` of the work and time it into ``timings``."""
    t0 = time.perf_counter()
    report(name, frac)
    yield
    timings[name] = time.perf_counter() - t0


def _reporter(progress: ProgressFn | None) -> ProgressFn:
    """``progress`` as a callable that may be called when there is none."""

    def report(step: str, frac: float) -> None:
        if progress is not None:
            progress(step, frac)

    return report


def _check_model(model: str, k: int | None) -> None:
    """Refuse an unknown model, or a model that needs ``k`` without it."""
    if model not in MODELS:
        raise ConfigError(
            msg("coverage.siting.unknown_model", model=repr(model), models=", ".join(MODELS))
        )
    if model in ("mclp", "pmedian", "capacitated") and k is None:
        raise ConfigError(msg("coverage.siting.needs_k", model=repr(model)))


def _baseline_demand(
    network: Network,
    demand: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    baseline: CoverageResult | None,
    *,
    category: str,
    criterion: Any,
    weight: str,
) -> tuple[CoverageResult, gpd.GeoDataFrame]:
    """The baseline coverage of ``category`` (analysed when not given) and its demand table."""
    if baseline is None:
        crits = {category: criterion} if criterion is not None else None
        baseline = analyse(network, demand, facilities, categories=[category], criteria=crits)
    elif category not in baseline.criteria:
        raise ColumnNotFoundError(
            msg(
                "coverage.siting.baseline_lacks_category",
                category=repr(category),
                analysed=list(baseline.criteria),
            )
        )
    dem = baseline.demand
    if weight in WEIGHT_COLUMNS and weight not in dem.columns and weight in demand.columns:
        # The baseline was analysed without the weight column: carry it over by demand id.
        by_id = pd.Series(demand[weight].to_numpy(), index=demand["demand_id"].astype(str))
        dem = dem.copy()
        dem[weight] = dem["demand_id"].astype(str).map(by_id).to_numpy()
    return baseline, dem


def _no_candidates(
    model: str, category: str, weight: str, notes: list[Message], timings: dict[str, float]
) -> SitingResult:
    """The answer when no candidate site is left to consider."""
    return SitingResult(
        sites=_empty_sites(),
        curve=pd.DataFrame(columns=CURVE_COLUMNS),
        status="no candidates",
        gap=float("nan"),
        objective=float("nan"),
        method="",
        message=msg(
            "coverage.siting.sentences",
            sentences=[*notes, msg("coverage.siting.no_candidates")],
        ),
        model=model,
        category=category,
        weight=weight,
        candidates=empty_candidates(),
        timings=timings,
    )


def _matrices(run: _Run, *, progress: bool) -> SitingMatrices:
    """The candidate × demand matrices of the run (timed, progress 0.2 to 0.6)."""
    crit = run.baseline.criteria[run.category]
    report = run.report
    with _step(run.timings, report, "matrix", 0.2):
        return build_matrices(
            run.network,
            run.c_snap,
            run.d_snap,
            run.existing_m,
            criterion=crit,
            reach_m=crit.threshold_m * settings.siting_pmedian_reach_factor,
            progress=(lambda s, f: report(s, 0.2 + 0.4 * f)) if progress else None,
        )


def _solve(
    run: _Run,
    mats: SitingMatrices,
    model: str,
    w: np.ndarray,
    notes: list[Message],
    *,
    k: int | None,
    target: float | None,
    limits: tuple[float | None, float | None],
) -> ModelSolution:
    """Solve ``model`` on the matrices (timed); a capacity note goes to ``notes``."""
    cap = run.candidates["capacity"].to_numpy(dtype="float64")
    if model == "capacitated" and not np.isfinite(cap).any():
        notes.append(msg("coverage.siting.no_capacities"))
    with _step(run.timings, run.report, "solve", 0.6):
        return solve(
            model,
            cover=mats.cover,
            cost=mats.cost_minutes,
            weight=w,
            k=k,
            target=target,
            covered=mats.covered,
            base_cost=mats.base_minutes,
            capacity=cap,
            time_limit_s=limits[0],
            mip_gap=limits[1],
        )


def _explained(
    run: _Run,
    mats: SitingMatrices,
    sol: ModelSolution,
    *,
    weight: str,
    k: int | None,
    curve_k: int | None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, gpd.GeoDataFrame | None]:
    """The explained sites, the coverage curve and the residents nothing reaches."""
    dem = run.demand
    dem_w = pd.DataFrame(dem.drop(columns=dem.geometry.name))
    exact = _site_minutes(run.network, sol, mats, run.c_snap, run.d_snap)
    sites = explain_sites(sol, mats, run.candidates, dem_w, weight=weight, site_minutes=exact)
    # Which category the sites are for travels with them into tables and exports.
    sites.insert(1, "category", run.category)
    k_curve = max(int(sol.selected.size), int(curve_k or settings.siting_curve_max_k), int(k or 0))
    curve = coverage_curve(mats, dem_w, weight=weight, k_max=k_curve, time_limit_s=None)
    unreachable = None
    if sol.unreachable.size:
        keep_cols = [c for c in ("demand_id", "population", "elderly", "community") if c in dem]
        unreachable = gpd.GeoDataFrame(
            dem.iloc[sol.unreachable][[*keep_cols, dem.geometry.name]].reset_index(drop=True),
            crs=WGS84,
        )
    return sites, curve, unreachable


def _snapped_candidates(
    network: Network,
    baseline: CoverageResult,
    candidates: str | gpd.GeoDataFrame,
    *,
    category: str,
    spacing_m: float | None,
    notes: list[Message],
) -> tuple[gpd.GeoDataFrame, Snap]:
    """The candidate sites that lie on the street network, with their snaps (notes appended)."""
    if isinstance(candidates, str):
        if candidates != "generate":
            raise InputDataError(msg("coverage.siting.bad_candidates", given=repr(candidates)))
        cand = generate_candidates(network, baseline, category=category, spacing_m=spacing_m)
    else:
        cand = as_candidates(candidates) if "node" not in candidates.columns else candidates
    cand = cand.reset_index(drop=True)
    c_snap = snap_points(network, cand, tolerance_m=baseline.tolerance_m or None)
    if len(cand) and not c_snap.ok.all():
        n_far = int((~c_snap.ok).sum())
        notes.append(
            msg("coverage.siting.candidates_off_street", n=n_far, metres=baseline.tolerance_m)
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
) -> dict[int, np.ndarray]:
    """Walking minutes from every proposed site to every demand point it brings closer.

    The explanation counts the time a site saves for every resident it brings closer than
    their current walk, not only those within the model's reach, so these are network searches
    rather than the matrix. Each search is limited, with the same answer as an unlimited one:
    sites are taken in explanation order and a point's current walk (:func:`_current_minutes`,
    then each site's) only shrinks, so site ``i`` can improve point ``p`` only when
    ``d(i, p) < current(p)``. The search stops at the largest ``current(p)`` among the points
    whose lower bound of ``d(i, p)`` passes that test (:func:`_improvable`), and only those
    points are measured; every other point is ``inf`` (it cannot come closer, so the
    explanation would not count it). The search engine returns the exact distance of every
    point within its limit, so the explanation is the one unlimited searches give.
    """
    current = _current_minutes(mats)
    improvable = _improvable(network, mats, c_snap, d_snap)
    exact: dict[int, np.ndarray] = {}
    for i in sol.selected.tolist():
        may = improvable(i, current)
        if not may.any():
            # Nobody can come closer: no walk to count, as the search would find.
            exact[int(i)] = np.full(len(d_snap), np.inf)
            continue
        limit_m = float(current[may].max()) * mats.speed_mps * 60.0 * (1 + _SLACK) + _MARGIN_M
        one = c_snap.subset(np.array([i]))
        node_d, node_s = nearest_from(network, one, limit_m=limit_m)
        # Only the points that may come closer: the others would not count anyway.
        idx = np.flatnonzero(may)
        dist_m, _ = point_distance(network, node_d, node_s, d_snap.subset(idx), sources=one)
        site = np.full(len(d_snap), np.inf)
        site[idx] = mats.minutes(dist_m)
        exact[int(i)] = site
        # The explanation's own update: a walk shrinks where the site is closer.
        better = site < current
        current[better] = site[better]
    return exact


def _improvable(
    network: Network, mats: SitingMatrices, c_snap: Snap, d_snap: Snap
) -> Callable[[int, np.ndarray], np.ndarray]:
    """The points candidate ``i`` may bring closer than their ``current`` walk (minutes).

    A point qualifies when a lower bound of its network distance from the candidate is below
    its current walk (with a rounding slack, so the test errs on the side of searching). The
    bound: within the matrix's reach the matrix holds the distance itself; beyond it the
    distance exceeds the reach, and the straight line when no street is shorter than its drawn
    line (:func:`coverage.distance.lengths_bound_chords`). Only points walking farther than the
    reach need the straight line, so the test gets cheaper as sites are added.
    """
    dist = mats.distance.tocsr()
    straight = lengths_bound_chords(network)
    snapped = np.asarray(d_snap.ok, dtype=bool)
    reach_min = float(mats.minutes(np.array([mats.reach_m]))[0])

    def may(i: int, current: np.ndarray) -> np.ndarray:
        """Mask of the points site ``i`` may bring closer than ``current``."""
        ceiling = current * (1 + _SLACK)
        out = np.zeros(len(d_snap), dtype=bool)
        far = np.flatnonzero(snapped & (reach_min < ceiling))
        if straight and far.size:
            line = np.hypot(d_snap.x[far] - c_snap.x[i], d_snap.y[far] - c_snap.y[i])
            far = far[mats.minutes(line) < ceiling[far]]
        out[far] = True
        cols = dist.indices[dist.indptr[i] : dist.indptr[i + 1]]
        floor = np.maximum(
            dist.data[dist.indptr[i] : dist.indptr[i + 1]] * (1 - _SLACK) - _MARGIN_M, 0.0
        )
        out[cols] = snapped[cols] & (mats.minutes(floor) < ceiling[cols])
        return out

    return may
