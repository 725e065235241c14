"""The per-category coverage summary table (CONTRACTS.md, "Coverage results").

Rates are population-weighted shares between 0 and 1 (NaN when the population is zero). The
median and 85th-percentile times are population-weighted quantiles over the *reachable* demand
points (an unreachable point has no time); NaN when no point is reachable.

``buffer_coverage_rate`` is the share of residents that a straight-line buffer of the same
threshold around any facility of the category would claim: the comparison planners ask for,
because it shows how much buffers overstate coverage where rivers, rails and walls force detours.

``covered_communities`` counts communities (non-empty ``community`` names) whose every demand
point is covered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from coverage.distance import COVER_TOL_M
from coverage.snap import Snap
from geo.messages import msg
from geo.taxonomy import Criterion, get_category

__all__ = [
    "POPULATION_COLUMNS",
    "SUMMARY_COLUMNS",
    "category_status",
    "summarise",
    "tidy_population",
    "weighted_quantile",
    "weighted_quantiles",
]

SUMMARY_COLUMNS = [
    "category",
    "name_zh",
    "name_en",
    "criterion",
    "criterion_en",
    "threshold_m",
    "minutes",
    "speed_mps",
    "n_facilities",
    "population",
    "covered_population",
    "uncovered_population",
    "coverage_rate",
    "elderly_population",
    "covered_elderly",
    "elderly_coverage_rate",
    "n_points",
    "covered_points",
    "median_minutes",
    "p85_minutes",
    "buffer_coverage_rate",
    "n_facilities_snapped",
    "n_communities",
    "covered_communities",
    "off_network_population",
    "off_network_share",
    "coverage_rate_reachable",
    "status",
    "children_coverage_rate",
    "infants_coverage_rate",
]

#: Decimal places population sums are rounded to, so totals read 150000.0 and not
#: 149999.99999999997 (float noise from summing fractional residents).
POPULATION_DECIMALS = 2

#: Summary columns that hold numbers of residents (rounded by :func:`tidy_population`).
POPULATION_COLUMNS = (
    "population",
    "covered_population",
    "uncovered_population",
    "elderly_population",
    "covered_elderly",
    "off_network_population",
)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` weighted by ``weights`` (inverted CDF).

    Falls back to equal weights when the weights sum to zero; NaN for no values.
    """
    return weighted_quantiles(values, weights, [q])[0]


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: list[float]) -> list[float]:
    """Several weighted quantiles with one sort (see :func:`weighted_quantile`)."""
    values = np.asarray(values, dtype="float64")
    weights = np.asarray(weights, dtype="float64")
    if values.size == 0:
        return [float("nan")] * len(qs)
    if not weights.sum() > 0:
        weights = np.ones_like(values)
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    pos = np.searchsorted(cum, np.asarray(qs, dtype="float64") * cum[-1], side="left")
    return [float(values[order][min(int(p), values.size - 1)]) for p in pos]


def tidy_population(value: float) -> float:
    """A sum of residents without float noise (:data:`POPULATION_DECIMALS` places)."""
    return float(round(float(value), POPULATION_DECIMALS)) if np.isfinite(value) else float(value)


def category_status(
    key: str,
    facilities: gpd.GeoDataFrame,
    f_snap: Snap,
    reachable: np.ndarray,
    d_snapped: np.ndarray,
) -> str:
    """``"ok"`` or ``"invalid: <reason and fix>"`` (a catalogue message) for one category.

    A category is invalid when it has facilities but none of them can serve anyone: all are
    farther than the snap tolerance from the streets, or all sit on a part of the network that
    no resident reaches (a component dropped or disconnected). Its "0 %" would be a statement
    about the input, not about coverage. A category with no facility at all stays "ok": 0 % is
    then the true answer.

    Parameters
    ----------
    key
        Category key.
    facilities
        The prepared facilities (``category``, optional ``source``).
    f_snap
        Facility snap (``ok``, ``offset_m``).
    reachable
        Per demand point: a facility of this category is reachable on the network.
    d_snapped
        Per demand point: the point lies within the snap tolerance of a street.

    Returns
    -------
    str
    """
    mine = facilities["category"].astype(str).to_numpy() == key
    n = int(mine.sum())
    if n == 0:
        return "ok"
    files: str = ""
    if "source" in facilities.columns:
        names = sorted({str(v) for v in facilities.loc[mine, "source"] if str(v)})
        files = msg("coverage.summary.files", names=", ".join(names)) if names else ""
    if not (mine & f_snap.ok).any():
        nearest = float(np.min(f_snap.offset_m[mine]))
        return msg("coverage.summary.off_street", n=n, key=key, files=files, nearest=nearest)
    if d_snapped.any() and not reachable[d_snapped].any():
        return msg("coverage.summary.unreachable", n=n, key=key, files=files)
    return "ok"


def _share(part: float, total: float) -> float:
    return float(part / total) if total > 0 else float("nan")


def summarise(
    demand: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    criteria: Mapping[str, Criterion],
    *,
    d_snap: Snap,
    f_snap: Snap,
) -> pd.DataFrame:
    """One summary row per category.

    Parameters
    ----------
    demand
        Demand with the per-category result columns of :func:`coverage.analysis.analyse`.
    facilities
        The facilities table (with ``category``).
    criteria
        Category key → criterion, in output order.
    d_snap, f_snap
        Snaps of demand and facilities (projected coordinates for the buffer comparison).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SUMMARY_COLUMNS`.
    """
    pop = demand["population"].to_numpy(dtype="float64")
    total = tidy_population(pop.sum())
    off = ~np.asarray(d_snap.ok, dtype=bool)
    off_pop = tidy_population(pop[off].sum())
    district = _District(
        demand=demand,
        facilities=facilities,
        d_snap=d_snap,
        f_snap=f_snap,
        pop=pop,
        eld=pd.to_numeric(demand["elderly"], errors="coerce").to_numpy(dtype="float64"),
        community=demand["community"].fillna("").astype(str).to_numpy(),
        fac_cat=facilities["category"].astype(str).to_numpy(),
        dxy=np.column_stack([d_snap.x, d_snap.y]),
        total=total,
        off_pop=off_pop,
        # Subgroups (0-14, 0-3) when the demand table has them; NaN when unknown.
        groups={
            g: pd.to_numeric(demand[g], errors="coerce").to_numpy(dtype="float64")
            if g in demand.columns
            else np.full(len(demand), np.nan)
            for g in ("children", "infants")
        },
    )
    rows = [_category_row(district, key, crit) for key, crit in criteria.items()]
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


@dataclass(frozen=True)
class _District:
    """What every category's summary row reads: the demand, facilities and their totals."""

    demand: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    d_snap: Snap
    f_snap: Snap
    pop: np.ndarray
    eld: np.ndarray
    community: np.ndarray
    fac_cat: np.ndarray
    dxy: np.ndarray
    total: float
    off_pop: float
    groups: dict[str, np.ndarray]


def _in_buffer(d: _District, mine: np.ndarray, threshold_m: float) -> np.ndarray:
    """Demand points within a straight-line buffer of the threshold around the facilities."""
    if mine.any() and len(d.dxy):
        f_snap = d.f_snap
        tree = cKDTree(np.column_stack([f_snap.x[mine], f_snap.y[mine]]))
        straight, _ = tree.query(d.dxy, distance_upper_bound=threshold_m + COVER_TOL_M, workers=-1)
        return np.isfinite(straight)
    return np.zeros(len(d.demand), dtype=bool)


def _communities(d: _District, covered: np.ndarray) -> tuple[int, int]:
    """Named communities, and those whose every demand point is covered."""
    named = d.community != ""
    if not named.any():
        return 0, 0
    comm = pd.DataFrame({"c": d.community[named], "cov": covered[named]})
    per = comm.groupby("c")["cov"].all()
    return int(per.size), int(per.sum())


def _category_row(d: _District, key: str, crit: Criterion) -> dict[str, Any]:
    """The summary row of one category."""
    cat = get_category(key)
    pop, eld, total = d.pop, d.eld, d.total
    eld_known = np.isfinite(eld)
    covered = d.demand[f"{key}_covered"].to_numpy(dtype=bool)
    minutes = d.demand[f"{key}_minutes"].to_numpy(dtype="float64")
    reach = np.isfinite(minutes)
    mine = d.fac_cat == key
    in_buffer = _in_buffer(d, mine, crit.threshold_m)
    cov_pop = tidy_population(pop[covered].sum())
    eld_total = tidy_population(eld[eld_known].sum()) if eld_known.any() else float("nan")
    eld_cov = tidy_population(eld[eld_known & covered].sum()) if eld_known.any() else float("nan")
    n_comm, cov_comm = _communities(d, covered)
    median, p85 = weighted_quantiles(minutes[reach], pop[reach], [0.5, 0.85])
    d_ok = np.asarray(d.d_snap.ok, dtype=bool)
    return {
        "category": key,
        "name_zh": cat.name_zh,
        "name_en": cat.name_en,
        "criterion": crit.label("zh"),
        "criterion_en": crit.label("en"),
        "threshold_m": crit.threshold_m,
        "minutes": crit.threshold_minutes,
        "speed_mps": crit.speed,
        "n_facilities": int(mine.sum()),
        "population": total,
        "covered_population": cov_pop,
        "uncovered_population": tidy_population(total - cov_pop),
        "coverage_rate": _share(cov_pop, total),
        "elderly_population": eld_total,
        "covered_elderly": eld_cov,
        "elderly_coverage_rate": _share(eld_cov, eld_total)
        if np.isfinite(eld_total)
        else float("nan"),
        "n_points": len(d.demand),
        "covered_points": int(covered.sum()),
        "median_minutes": median,
        "p85_minutes": p85,
        "buffer_coverage_rate": _share(float(pop[in_buffer].sum()), total),
        "n_facilities_snapped": int((mine & d.f_snap.ok).sum()),
        "n_communities": n_comm,
        "covered_communities": cov_comm,
        "off_network_population": d.off_pop,
        "off_network_share": _share(d.off_pop, total),
        "coverage_rate_reachable": _share(cov_pop, tidy_population(total - d.off_pop)),
        "status": category_status(key, d.facilities, d.f_snap, reach, d_ok),
        **{f"{g}_coverage_rate": _subgroup_rate(values, covered) for g, values in d.groups.items()},
    }


def _subgroup_rate(values: np.ndarray, covered: np.ndarray) -> float:
    """Covered share of a subgroup (children, infants); NaN when the column is unknown."""
    known = np.isfinite(values)
    total = float(values[known].sum())
    if not known.any() or total <= 0:
        return float("nan")
    return float(values[known & covered].sum()) / total
