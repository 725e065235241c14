"""Supply per 1,000 residents (千人指标), reachable supply, and targets from the standards.

For each category with capacities (beds, seats, 托位, m²) and each community, and for the
district as a whole:

* ``per_1000``: capacity of the facilities located in the community per 1,000 of its residents;
* ``reachable_per_1000``: capacity reachable within the category's tier threshold per 1,000
  residents, from the Gaussian 2SFCA of :mod:`coverage.fca` (``A_i`` is capacity per resident;
  the community value is its population-weighted mean × 1,000). Unlike ``per_1000`` it credits
  facilities across a community boundary and discounts crowded ones;
* ``target_per_1000``: the standard's target (taxonomy ``target`` or a run's ``targets``), per
  100 households converted with ``persons_per_household``; ``meets_target`` compares it with
  ``per_1000`` (``judge_on="reachable_per_1000"`` for the reachable value).

Decisions
---------
* **Which community holds a facility:** the polygon of ``communities`` it lies in; without
  polygons, the facility's own ``community`` column when it has one; otherwise the community of
  the nearest demand point (straight line in the network's projected CRS). Facilities outside
  every polygon belong to ``""`` and count for the district only.
* **Unknown capacities count as 0** and are counted in ``n_capacity_unknown`` (2SFCA would
  otherwise count them as 1). A category none of whose facilities has a capacity is left out
  unless it has a target (then its supply is 0 and ``n_capacity_unknown`` says why).
* **Catchment** ``catchment_m``: the threshold of the category's item tier (its first tier, run
  overrides applied), else its criterion.
* The district row has ``level = "district"`` and ``community = DISTRICT``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from coverage.compliance import item_rules
from coverage.fca import two_step_fca
from geo.errors import ConfigError
from geo.messages import msg, text
from geo.network import WGS84, Network
from geo.taxonomy import PERSONS_PER_HOUSEHOLD, SupplyTarget, get_category

if TYPE_CHECKING:
    from coverage.analysis import CoverageResult

logger = logging.getLogger(__name__)

__all__ = [
    "DISTRICT",
    "SUPPLY_COLUMNS",
    "facility_communities",
    "supply_table",
    "unmet_supply_weights",
]

#: ``community`` of the district-wide rows: a data value of ``supply.csv`` (Chinese, as the
#: community names are), kept in the catalogue with its English label.
DISTRICT = text("coverage.supply.district", "zh")

#: Columns of ``supply.csv`` (the issue's names first).
SUPPLY_COLUMNS = [
    "community",
    "category",
    "capacity",
    "residents",
    "per_1000",
    "reachable_per_1000",
    "target_per_1000",
    "meets_target",
    "level",
    "households",
    "per_100_households",
    "n_facilities",
    "n_capacity_unknown",
    "catchment_m",
    "capacity_unit",
    "target",
    "target_source",
    "target_status",
]


def _targets(keys: list[str], targets: Mapping[str, Any] | None) -> dict[str, SupplyTarget | None]:
    out: dict[str, SupplyTarget | None] = {k: get_category(k).target for k in keys}
    for key, value in (targets or {}).items():
        if key not in out:
            raise ConfigError(msg("coverage.supply.target_not_evaluated", key=repr(key), keys=keys))
        if value is None or isinstance(value, SupplyTarget):
            out[key] = value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = SupplyTarget(value=float(value), source="run override")
        elif isinstance(value, Mapping):
            out[key] = SupplyTarget(
                value=value.get("value", 0),
                unit=str(value.get("unit", "")),
                per=str(value.get("per", "1000 residents")),
                source=str(value.get("source", "run override")),
                status=str(value.get("status", "")),
            )
        else:
            raise ConfigError(msg("coverage.supply.bad_target", key=repr(key), value=repr(value)))
    return out


def facility_communities(
    result: CoverageResult,
    *,
    communities: gpd.GeoDataFrame | None = None,
    by: str = "community",
) -> np.ndarray:
    """The community of every facility row of ``result.facilities`` (see the module notes)."""
    fac = result.facilities
    if communities is not None:
        if by not in communities.columns:
            raise ConfigError(
                msg(
                    "coverage.supply.polygons_no_column",
                    by=repr(by),
                    columns=list(communities.columns),
                )
            )
        polys = communities[[by, communities.geometry.name]].copy()
        polys = polys.set_crs(WGS84) if polys.crs is None else polys.to_crs(WGS84)
        pts = gpd.GeoDataFrame({"_row": np.arange(len(fac))}, geometry=fac.geometry, crs=WGS84)
        joined = gpd.sjoin(pts, polys, how="left", predicate="within")
        joined = joined.drop_duplicates("_row").sort_values("_row")
        return joined[by].fillna("").astype(str).to_numpy(dtype=object)
    if by in fac.columns:
        return fac[by].fillna("").astype(str).to_numpy(dtype=object)
    names = result.demand[by].fillna("").astype(str).to_numpy(dtype=object)
    if len(fac) == 0 or len(names) == 0:
        return np.full(len(fac), "", dtype=object)
    assert result.demand_snap is not None and result.facility_snap is not None
    # The snapped-from coordinates (projected): the point as given, before it moved to a street.
    d = np.column_stack([result.demand_snap.x, result.demand_snap.y])
    f = np.column_stack([result.facility_snap.x, result.facility_snap.y])
    _, idx = cKDTree(d).query(f)
    return names[np.asarray(idx, dtype="int64")]


def _with_known_capacity(result: CoverageResult) -> tuple[CoverageResult, np.ndarray]:
    fac = result.facilities.copy()
    cap = pd.to_numeric(fac["capacity"], errors="coerce").to_numpy(dtype="float64")
    known = np.isfinite(cap) & (cap >= 0)
    fac["capacity"] = np.where(known, cap, 0.0)
    return dataclasses.replace(result, facilities=fac), known


def supply_table(
    network: Network,
    result: CoverageResult,
    *,
    categories: Iterable[str] | None = None,
    communities: gpd.GeoDataFrame | None = None,
    targets: Mapping[str, Any] | None = None,
    tiers: Mapping[str, Iterable[str]] | None = None,
    overrides: Mapping[str, Any] | None = None,
    persons_per_household: float | None = None,
    judge_on: str = "per_1000",
    by: str = "community",
) -> pd.DataFrame:
    """``supply.csv``: capacity per 1,000 residents per community and for the district.

    Parameters
    ----------
    network
        The network the result was computed on (for the 2SFCA catchments).
    result
        A coverage result whose facilities carry ``capacity``.
    categories
        Categories to report; default every analysed category with capacities or a target.
    communities
        Community polygons (a ``by`` column) to place facilities in; see the module notes.
    targets
        Category → target per 1,000 residents (a number), a mapping ``{value, per, unit,
        source}`` or a :class:`~geo.taxonomy.SupplyTarget`; ``None`` removes the taxonomy's.
    tiers, overrides
        Tier membership and threshold overrides (the catchment is the item tier's threshold).
    persons_per_household
        For per-100-household targets and ``households`` when the demand has no ``households``
        column; default :data:`geo.taxonomy.PERSONS_PER_HOUSEHOLD`.
    judge_on
        ``"per_1000"`` or ``"reachable_per_1000"``: the value compared with the target.
    by
        Demand column naming the communities.

    Returns
    -------
    pandas.DataFrame
        :data:`SUPPLY_COLUMNS`; per category the community rows (sorted) then the district row.
    """
    pph = _check_supply_options(judge_on, persons_per_household, result.demand, by=by)
    keys = list(result.categories if categories is None else dict.fromkeys(categories))
    missing = [k for k in keys if k not in result.categories]
    if missing:
        raise ConfigError(
            msg("coverage.supply.not_analysed", missing=missing, analysed=result.categories)
        )
    goal = _targets(keys, targets)
    rules = item_rules(keys, result.criteria, tiers=tiers, overrides=overrides)
    known_result, known = _with_known_capacity(result)
    fac_comm = facility_communities(result, communities=communities, by=by)
    areas = _areas(result.demand, fac_comm, pph=pph, by=by)
    fac_cat = result.facilities["category"].astype(str).to_numpy()
    cap_all = known_result.facilities["capacity"].to_numpy(dtype="float64")
    rows: list[dict[str, Any]] = []
    for key in keys:
        mine = fac_cat == key
        target = goal[key]
        if not known[mine].any() and target is None:
            logger.info("supply: %s has no capacities and no target; left out", key)
            continue
        catchment = rules[key].threshold_m
        if mine.any():
            _, per_point = two_step_fca(network, known_result, category=key, catchment_m=catchment)
            access = per_point["accessibility"].to_numpy(dtype="float64")
        else:
            access = np.zeros(len(result.demand))
        supply = _Supply(key, mine, cap_all, ~known, fac_comm, access, target, catchment)
        rows.extend(_category_rows(supply, areas, pph=pph, judge_on=judge_on))
    out = pd.DataFrame(rows, columns=SUPPLY_COLUMNS)
    out["meets_target"] = out["meets_target"].astype("boolean")
    return out


def _check_supply_options(
    judge_on: str, persons_per_household: float | None, dem: pd.DataFrame, *, by: str
) -> float:
    """Persons per household after checking the options of :func:`supply_table`."""
    if judge_on not in ("per_1000", "reachable_per_1000"):
        raise ConfigError(msg("coverage.supply.bad_judge_on", judge_on=repr(judge_on)))
    pph = float(PERSONS_PER_HOUSEHOLD if persons_per_household is None else persons_per_household)
    if not pph > 0:
        raise ConfigError(msg("coverage.supply.bad_pph", pph=repr(persons_per_household)))
    if by not in dem.columns:
        raise ConfigError(msg("coverage.supply.no_group_column", by=repr(by)))
    return pph


@dataclass(frozen=True)
class _Areas:
    """Residents and households per demand point and per community (``groups``, sorted)."""

    names: np.ndarray
    pop: np.ndarray
    hh: np.ndarray
    groups: list[str]
    residents: pd.Series
    households: pd.Series


def _areas(dem: pd.DataFrame, fac_comm: np.ndarray, *, pph: float, by: str) -> _Areas:
    """Residents and households per point and per community (facility-only ones included)."""
    names = dem[by].fillna("").astype(str).to_numpy(dtype=object)
    pop = pd.to_numeric(dem["population"], errors="coerce").fillna(0.0).to_numpy("float64")
    if "households" in dem.columns:
        hh = pd.to_numeric(dem["households"], errors="coerce").to_numpy("float64")
        hh = np.where(np.isfinite(hh), hh, pop / pph)
    else:
        hh = pop / pph
    groups = sorted(set(names.tolist()) | {str(c) for c in fac_comm if c})
    residents = pd.Series(pop).groupby(names).sum().reindex(groups, fill_value=0.0)
    households = pd.Series(hh).groupby(names).sum().reindex(groups, fill_value=0.0)
    return _Areas(names, pop, hh, groups, residents, households)


@dataclass(frozen=True)
class _Supply:
    """One category's facilities (``mine`` of all), capacities, reach and target."""

    key: str
    mine: np.ndarray
    cap_all: np.ndarray
    unknown: np.ndarray
    fac_comm: np.ndarray
    access: np.ndarray
    target: SupplyTarget | None
    catchment: float


def _category_rows(s: _Supply, areas: _Areas, *, pph: float, judge_on: str) -> list[dict[str, Any]]:
    """The community rows (sorted) then the district row of one category."""
    cat = get_category(s.key)
    mine, groups, pop, target = s.mine, areas.groups, areas.pop, s.target
    reach = pd.Series(pop * s.access).groupby(areas.names).sum().reindex(groups, fill_value=0.0)
    capacity = (
        pd.Series(s.cap_all[mine]).groupby(s.fac_comm[mine]).sum().reindex(groups, fill_value=0.0)
    )
    n_fac = pd.Series(1, index=range(int(mine.sum()))).groupby(s.fac_comm[mine]).sum()
    n_unknown = pd.Series(s.unknown[mine].astype(int)).groupby(s.fac_comm[mine]).sum()
    t_1000 = np.nan if target is None else target.per_1000_residents(pph)
    entries = [
        (g, "community", capacity[g], areas.residents[g], areas.households[g], reach[g])
        for g in groups
    ]
    entries.append(
        (
            DISTRICT,
            "district",
            float(s.cap_all[mine].sum()),
            float(pop.sum()),
            float(areas.hh.sum()),
            float((pop * s.access).sum()),
        )
    )
    rows = []
    for g, level, cap, res, hhs, reach_sum in entries:
        per_1000 = cap / res * 1000.0 if res > 0 else np.nan
        reachable = reach_sum / res * 1000.0 if res > 0 else np.nan
        judged = per_1000 if judge_on == "per_1000" else reachable
        meets: Any = pd.NA
        if target is not None and np.isfinite(judged):
            meets = bool(judged >= t_1000 - 1e-9)
        district = level == "district"
        rows.append(
            {
                "community": g,
                "category": s.key,
                "capacity": float(cap),
                "residents": float(res),
                "per_1000": per_1000,
                "reachable_per_1000": reachable,
                "target_per_1000": t_1000,
                "meets_target": meets,
                "level": level,
                "households": float(hhs),
                "per_100_households": cap / hhs * 100.0 if hhs > 0 else np.nan,
                "n_facilities": int(mine.sum()) if district else int(n_fac.get(g, 0)),
                "n_capacity_unknown": int(n_unknown.sum())
                if district
                else int(n_unknown.get(g, 0)),
                "catchment_m": s.catchment,
                "capacity_unit": cat.capacity_unit,
                "target": "" if target is None else target.label(),
                "target_source": "" if target is None else target.source,
                "target_status": "" if target is None else target.status,
            }
        )
    return rows


def unmet_supply_weights(
    network: Network,
    result: CoverageResult,
    *,
    category: str,
    target_per_1000: float | None = None,
    catchment_m: float | None = None,
) -> pd.Series:
    """Per demand point, the residents whose share of the target supply is not reachable.

    ``w_i = P_i · max(0, 1 − A_i / t)`` with ``A_i`` the 2SFCA capacity per resident reachable
    from point ``i`` and ``t`` the target per resident (``target_per_1000 / 1000``; default the
    taxonomy target, else the study-wide ``Σ S / Σ P``). A point with all the supply it should
    have weighs 0; one with none weighs its population. Use it as siting demand weights.

    Parameters
    ----------
    network
        The network the result was computed on.
    result
        A coverage result.
    category
        Category key.
    target_per_1000
        Target capacity per 1,000 residents.
    catchment_m
        2SFCA catchment; default the category's item-tier threshold (else its criterion).

    Returns
    -------
    pandas.Series
        Named ``unmet_weight``, aligned to ``result.demand``.
    """
    if category not in result.categories:
        raise ConfigError(
            msg(
                "coverage.supply.unmet_not_analysed",
                category=repr(category),
                analysed=result.categories,
            )
        )
    known_result, _ = _with_known_capacity(result)
    d0 = (
        item_rules([category], result.criteria)[category].threshold_m
        if catchment_m is None
        else float(catchment_m)
    )
    pop = pd.to_numeric(result.demand["population"], errors="coerce").fillna(0.0)
    pop_arr = pop.to_numpy(dtype="float64")
    rows = result.facility_rows(category)
    supply = float(known_result.facilities["capacity"].iloc[rows].sum())
    if target_per_1000 is not None:
        t = float(target_per_1000) / 1000.0
    elif get_category(category).target is not None:
        target = get_category(category).target
        assert target is not None
        t = target.per_1000_residents() / 1000.0
    else:
        t = supply / pop_arr.sum() if pop_arr.sum() > 0 else 0.0
    if not t > 0:
        raise ConfigError(
            msg("coverage.supply.no_positive_target", category=repr(category), got=t * 1000)
        )
    if rows.size:
        _, per_point = two_step_fca(network, known_result, category=category, catchment_m=d0)
        access = per_point["accessibility"].to_numpy(dtype="float64")
    else:
        access = np.zeros(len(pop_arr))
    weight = pop_arr * np.clip(1.0 - access / t, 0.0, 1.0)
    return pd.Series(weight, index=result.demand.index, name="unmet_weight")
