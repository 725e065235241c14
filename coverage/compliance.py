"""Basic and quality items per community: which are reached, 达标, and the least served.

TD/T 1062-2021 splits living-circle items into 基础保障类 (basic) and 品质提升类 (quality); the
taxonomy marks each category (``item``, with its source label). Each item is judged at its tier
(the first of the category's ``tiers``; a category without a tier at its criterion), with the
thresholds of :func:`coverage.tiers.tier_rules` (so a run's tier overrides apply here too).

Decisions
---------
* **A demand point complies** when every basic item is within its threshold; the share of
  residents that comply is the population of complying points over all residents.
* **A group (community or compound) reaches an item** when at least ``min_share`` of its
  residents are within the item's threshold (default 1.0: all of them, as a standard reads;
  lower it for building-level demand where one remote building should not fail a community).
  A group with no residents counts its points instead.
* **达标 (compliant)**: the group reaches every basic item. With no basic item analysed every
  group complies vacuously; ``summary`` says ``n_basic = 0`` and a warning is logged.
* The share of communities counts named groups only (points without a community name form the
  group ``""``, reported but not counted), as city check-ups count communities.
* **Least served**: non-compliant groups first, ranked by basic items lacking (most first), then
  the mean share of residents reaching the basic items (lowest first), then quality items
  lacking, then population (largest first).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from coverage.tiers import TierRule, reached, subgroup_values, tier_rules
from geo.errors import ConfigError
from geo.messages import localise, msg, text
from geo.taxonomy import ITEMS, get_category

if TYPE_CHECKING:
    from coverage.analysis import CoverageResult

logger = logging.getLogger(__name__)

__all__ = ["Compliance", "compliance", "item_rules"]


@dataclass(frozen=True, eq=False)
class Compliance:
    """The compliance evaluation of one run.

    Attributes
    ----------
    per_point
        Aligned to ``result.demand``: ``demand_id, <by>, population, compliant, basic_missing,
        quality_missing`` and ``<key>_reached`` per item.
    per_group
        One row per community (or compound): ``<by>, n_points, population, elderly, n_basic,
        n_basic_reached, basic_reached, basic_missing, n_quality, n_quality_reached,
        quality_reached, quality_missing, basic_score, quality_score, compliant,
        compliant_population, compliant_share`` and ``<key>_coverage_rate``, ``<key>_reached``
        per item. ``*_reached`` / ``*_missing`` list keys comma-separated.
    summary
        One row: ``by, n_groups, n_compliant, group_share, population, compliant_population,
        resident_share, n_basic, n_quality, basic_items, quality_items, min_share``.
    least_served
        Groups ranked least served first (see the module notes): ``rank, <by>, population,
        compliant, n_basic_missing, basic_missing, n_quality_missing, quality_missing,
        basic_score, lacks_zh, lacks_en``.
    rules
        Item → the :class:`~coverage.tiers.TierRule` it was judged at.
    items
        Item → ``"basic"`` | ``"quality"``.
    """

    per_point: pd.DataFrame
    per_group: pd.DataFrame
    summary: pd.DataFrame
    least_served: pd.DataFrame
    rules: dict[str, TierRule] = field(default_factory=dict)
    items: dict[str, str] = field(default_factory=dict)


def item_rules(
    categories: Iterable[str],
    criteria: Mapping[str, Any],
    *,
    tiers: Mapping[str, Iterable[str]] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, TierRule]:
    """The rule each item is judged at: its first tier, or its criterion without a tier.

    Parameters
    ----------
    categories
        Category keys.
    criteria
        Category → :class:`~geo.taxonomy.Criterion` of the run (for categories without a tier).
    tiers
        Category → tier keys (the district's membership); the first is the item's tier.
    overrides
        Tier threshold overrides (:func:`coverage.tiers.tier_rules`).
    """
    out: dict[str, TierRule] = {}
    for key in dict.fromkeys(categories):
        cat = get_category(key)
        member = list((tiers or {}).get(key, cat.tiers))
        if member:
            rule = tier_rules(
                [key],
                tiers={key: member[:1]},
                overrides={
                    k: v
                    for k, v in (overrides or {}).items()
                    if k == member[0] or k == f"{key}.{member[0]}"
                },
            )[0]
        else:
            crit = criteria[key]
            rule = TierRule(
                key, "criterion", crit.threshold_m, crit.threshold_minutes, cat.standard, cat.status
            )
        out[key] = rule
    return out


def _join(keys: list[str], mask: np.ndarray) -> np.ndarray:
    """Comma-joined keys where ``mask`` is true, per row (built once per distinct pattern)."""
    n = mask.shape[0]
    if not keys:
        return np.full(n, "", dtype=object)
    bits = mask.astype("int64") @ (1 << np.arange(len(keys), dtype="int64"))
    codes, inverse = np.unique(bits, return_inverse=True)
    labels = np.array(
        [",".join(k for j, k in enumerate(keys) if c >> j & 1) for c in codes.tolist()],
        dtype=object,
    )
    return labels[inverse.ravel()]


def _lacks(basic: str, quality: str, lang: str) -> str:
    """What a group lacks, in ``lang``: the basic then the quality items, by name."""
    sep = text("coverage.compliance.item_separator", lang)

    def names(keys: str) -> str:
        return sep.join(get_category(k).name(lang) for k in keys.split(",") if k)

    parts = []
    if basic:
        parts.append(msg("coverage.compliance.lacks_basic", items=names(basic)))
    if quality:
        parts.append(msg("coverage.compliance.lacks_quality", items=names(quality)))
    return localise(parts, lang) if parts else ""


def compliance(
    result: CoverageResult,
    *,
    categories: Iterable[str] | None = None,
    items: Mapping[str, str] | None = None,
    tiers: Mapping[str, Iterable[str]] | None = None,
    overrides: Mapping[str, Any] | None = None,
    by: str = "community",
    min_share: float = 1.0,
) -> Compliance:
    """Basic and quality items reached per community (or compound), compliance and the shares.

    Parameters
    ----------
    result
        A coverage result.
    categories
        Items to evaluate; default every analysed category.
    items
        Category → ``"basic"`` | ``"quality"``, overriding the taxonomy for this run.
    tiers, overrides
        The district's tier membership and threshold overrides (see :func:`item_rules`).
    by
        Demand column to group by: ``"community"`` or ``"compound"`` (when compounds are given).
    min_share
        Share of a group's residents within the threshold for the group to reach an item.

    Returns
    -------
    Compliance
    """
    keys = _check_request(result, categories, items, by=by, min_share=min_share)
    kind = {k: (items or {}).get(k, get_category(k).item) for k in keys}
    rules = item_rules(keys, result.criteria, tiers=tiers, overrides=overrides)
    cov = reached(result, [rules[k] for k in keys])
    basic = [k for k in keys if kind[k] == "basic"]
    quality = [k for k in keys if kind[k] == "quality"]
    if not basic:
        logger.warning("compliance: no basic item among %s; every group complies vacuously", keys)
    items_of = _Items(keys, basic, quality)
    per_point = _per_point(result.demand, cov, items_of, by=by)
    per_group = _per_group(result.demand, cov, per_point, items_of, by=by, min_share=min_share)
    return Compliance(
        per_point=per_point,
        per_group=per_group,
        summary=_summary(per_point, per_group, items_of, by=by, min_share=min_share),
        least_served=_least_served(per_group, items_of, by=by),
        rules=rules,
        items=kind,
    )


@dataclass(frozen=True)
class _Items:
    """The evaluated items: all keys (columns of the coverage matrix), basic and quality."""

    keys: list[str]
    basic: list[str]
    quality: list[str]

    @property
    def b_idx(self) -> list[int]:
        """Columns of the basic items."""
        return [self.keys.index(k) for k in self.basic]

    @property
    def q_idx(self) -> list[int]:
        """Columns of the quality items."""
        return [self.keys.index(k) for k in self.quality]


def _check_request(
    result: CoverageResult,
    categories: Iterable[str] | None,
    items: Mapping[str, str] | None,
    *,
    by: str,
    min_share: float,
) -> list[str]:
    """The items to evaluate, after checking the options."""
    if not 0 < min_share <= 1:
        raise ConfigError(msg("coverage.compliance.bad_min_share", min_share=repr(min_share)))
    if by not in result.demand.columns:
        raise ConfigError(msg("coverage.compliance.no_group_column", by=repr(by)))
    keys = list(result.categories if categories is None else dict.fromkeys(categories))
    unknown = sorted(set(items or {}) - set(keys))
    bad = {k: v for k, v in (items or {}).items() if v not in ITEMS}
    if unknown or bad:
        raise ConfigError(
            msg("coverage.compliance.bad_items", keys=keys, items=ITEMS, unknown=unknown, bad=bad)
        )
    return keys


def _per_point(dem: pd.DataFrame, cov: np.ndarray, it: _Items, *, by: str) -> pd.DataFrame:
    """Per demand point: compliant, the items missing and each item reached."""
    b_idx, q_idx = it.b_idx, it.q_idx
    per_point = pd.DataFrame(
        {
            "demand_id": dem["demand_id"].astype(str).to_numpy(),
            by: dem[by].fillna("").astype(str).to_numpy(),
            "population": subgroup_values(dem, "all"),
            "compliant": cov[:, b_idx].all(axis=1),
            "basic_missing": _join(it.basic, ~cov[:, b_idx]),
            "quality_missing": _join(it.quality, ~cov[:, q_idx]),
        },
        index=dem.index,
    )
    for j, k in enumerate(it.keys):
        per_point[f"{k}_reached"] = cov[:, j]
    return per_point


def _per_group(
    dem: pd.DataFrame,
    cov: np.ndarray,
    per_point: pd.DataFrame,
    it: _Items,
    *,
    by: str,
    min_share: float,
) -> pd.DataFrame:
    """Per community (or compound): shares reaching each item, items reached and missing."""
    b_idx, q_idx = it.b_idx, it.q_idx
    pop = per_point["population"].to_numpy()
    point_ok = per_point["compliant"].to_numpy()
    groups, codes = np.unique(per_point[by].to_numpy(), return_inverse=True)
    codes = codes.ravel()
    n = len(groups)
    g_pop = np.bincount(codes, weights=pop, minlength=n)
    g_pts = np.bincount(codes, minlength=n)
    elderly = subgroup_values(dem, "elderly")
    g_eld = np.bincount(codes, weights=np.nan_to_num(elderly), minlength=n)
    g_eld_known = np.bincount(codes, weights=np.isfinite(elderly), minlength=n) > 0
    share = np.zeros((n, len(it.keys)))
    for j in range(len(it.keys)):
        by_pop = np.bincount(codes, weights=pop * cov[:, j], minlength=n)
        by_pts = np.bincount(codes, weights=cov[:, j].astype("float64"), minlength=n)
        with np.errstate(divide="ignore", invalid="ignore"):
            share[:, j] = np.where(g_pop > 0, by_pop / g_pop, by_pts / g_pts)
    g_reach = share >= min_share - 1e-12
    comp_pop = np.bincount(codes, weights=pop * point_ok, minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_group = pd.DataFrame(
            {
                by: groups,
                "n_points": g_pts,
                "population": g_pop,
                "elderly": np.where(g_eld_known, g_eld, np.nan),
                "n_basic": len(it.basic),
                "n_basic_reached": g_reach[:, b_idx].sum(axis=1),
                "basic_reached": _join(it.basic, g_reach[:, b_idx]),
                "basic_missing": _join(it.basic, ~g_reach[:, b_idx]),
                "n_quality": len(it.quality),
                "n_quality_reached": g_reach[:, q_idx].sum(axis=1),
                "quality_reached": _join(it.quality, g_reach[:, q_idx]),
                "quality_missing": _join(it.quality, ~g_reach[:, q_idx]),
                "basic_score": share[:, b_idx].mean(axis=1) if it.basic else np.nan,
                "quality_score": share[:, q_idx].mean(axis=1) if it.quality else np.nan,
                "compliant": g_reach[:, b_idx].all(axis=1),
                "compliant_population": comp_pop,
                "compliant_share": np.where(g_pop > 0, comp_pop / g_pop, np.nan),
            }
        )
    for j, k in enumerate(it.keys):
        per_group[f"{k}_coverage_rate"] = share[:, j]
        per_group[f"{k}_reached"] = g_reach[:, j]
    return per_group


def _summary(
    per_point: pd.DataFrame,
    per_group: pd.DataFrame,
    it: _Items,
    *,
    by: str,
    min_share: float,
) -> pd.DataFrame:
    """The one-row summary: groups and residents that comply, and the items evaluated."""
    pop = per_point["population"].to_numpy()
    point_ok = per_point["compliant"].to_numpy()
    named = per_group[per_group[by] != ""]
    total = float(pop.sum())
    return pd.DataFrame(
        [
            {
                "by": by,
                "n_groups": len(named),
                "n_compliant": int(named["compliant"].sum()),
                "group_share": float(named["compliant"].mean()) if len(named) else np.nan,
                "population": total,
                "compliant_population": float(pop[point_ok].sum()),
                "resident_share": float(pop[point_ok].sum() / total) if total > 0 else np.nan,
                "n_basic": len(it.basic),
                "n_quality": len(it.quality),
                "basic_items": ",".join(it.basic),
                "quality_items": ",".join(it.quality),
                "min_share": float(min_share),
            }
        ]
    )


def _least_served(per_group: pd.DataFrame, it: _Items, *, by: str) -> pd.DataFrame:
    """Groups ranked least served first (see the module notes), with what each lacks."""
    ranked = per_group.assign(
        n_basic_missing=len(it.basic) - per_group["n_basic_reached"],
        n_quality_missing=len(it.quality) - per_group["n_quality_reached"],
        _score=per_group["basic_score"].fillna(1.0),
    ).sort_values(
        ["compliant", "n_basic_missing", "_score", "n_quality_missing", "population", by],
        ascending=[True, False, True, False, False, True],
        kind="mergesort",
    )
    least = ranked[
        [
            by,
            "population",
            "compliant",
            "n_basic_missing",
            "basic_missing",
            "n_quality_missing",
            "quality_missing",
            "basic_score",
        ]
    ].reset_index(drop=True)
    least.insert(0, "rank", np.arange(1, len(least) + 1))
    pairs = list(zip(least["basic_missing"], least["quality_missing"], strict=True))
    least["lacks_zh"] = [_lacks(b, q, "zh") for b, q in pairs]
    least["lacks_en"] = [_lacks(b, q, "en") for b, q in pairs]
    return least
