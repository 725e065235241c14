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
    def names(text: str) -> list[str]:
        keys = [k for k in text.split(",") if k]
        return [get_category(k).name(lang) for k in keys]

    b, q = names(basic), names(quality)
    if lang == "zh":
        parts = []
        if b:
            parts.append("基础保障：" + "、".join(b))
        if q:
            parts.append("品质提升：" + "、".join(q))
        return "；".join(parts)
    parts = []
    if b:
        parts.append("basic: " + ", ".join(b))
    if q:
        parts.append("quality: " + ", ".join(q))
    return "; ".join(parts)


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
    """Basic and quality items reached per community (or compound), 达标 and the shares.

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
    if not 0 < min_share <= 1:
        msg = f"compliance: min_share must be in (0, 1], got {min_share!r}"
        raise ConfigError(msg)
    dem = result.demand
    if by not in dem.columns:
        msg = (
            f"compliance: the demand has no {by!r} column; group by 'community' or load "
            "compounds (a 'compound' column)"
        )
        raise ConfigError(msg)
    keys = list(result.categories if categories is None else dict.fromkeys(categories))
    unknown = sorted(set(items or {}) - set(keys))
    bad = {k: v for k, v in (items or {}).items() if v not in ITEMS}
    if unknown or bad:
        msg = (
            f"compliance: items must map evaluated categories ({keys}) to one of {ITEMS}; "
            f"got unknown {unknown} and bad values {bad}"
        )
        raise ConfigError(msg)
    kind = {k: (items or {}).get(k, get_category(k).item) for k in keys}
    rules = item_rules(keys, result.criteria, tiers=tiers, overrides=overrides)
    cov = reached(result, [rules[k] for k in keys])
    basic = [k for k in keys if kind[k] == "basic"]
    quality = [k for k in keys if kind[k] == "quality"]
    if not basic:
        logger.warning("compliance: no basic item among %s; every group complies vacuously", keys)
    col = {k: j for j, k in enumerate(keys)}
    b_idx = [col[k] for k in basic]
    q_idx = [col[k] for k in quality]

    pop = subgroup_values(dem, "all")
    names = dem[by].fillna("").astype(str).to_numpy()
    point_ok = cov[:, b_idx].all(axis=1)
    per_point = pd.DataFrame(
        {
            "demand_id": dem["demand_id"].astype(str).to_numpy(),
            by: names,
            "population": pop,
            "compliant": point_ok,
            "basic_missing": _join(basic, ~cov[:, b_idx]),
            "quality_missing": _join(quality, ~cov[:, q_idx]),
        },
        index=dem.index,
    )
    for k in keys:
        per_point[f"{k}_reached"] = cov[:, col[k]]

    groups, codes = np.unique(names, return_inverse=True)
    codes = codes.ravel()
    n = len(groups)
    g_pop = np.bincount(codes, weights=pop, minlength=n)
    g_pts = np.bincount(codes, minlength=n)
    elderly = subgroup_values(dem, "elderly")
    g_eld = np.bincount(codes, weights=np.nan_to_num(elderly), minlength=n)
    g_eld_known = np.bincount(codes, weights=np.isfinite(elderly), minlength=n) > 0
    share = np.zeros((n, len(keys)))
    for j in range(len(keys)):
        by_pop = np.bincount(codes, weights=pop * cov[:, j], minlength=n)
        by_pts = np.bincount(codes, weights=cov[:, j].astype("float64"), minlength=n)
        with np.errstate(divide="ignore", invalid="ignore"):
            share[:, j] = np.where(g_pop > 0, by_pop / g_pop, by_pts / g_pts)
    g_reach = share >= min_share - 1e-12
    g_ok = g_reach[:, b_idx].all(axis=1)
    comp_pop = np.bincount(codes, weights=pop * point_ok, minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_group = pd.DataFrame(
            {
                by: groups,
                "n_points": g_pts,
                "population": g_pop,
                "elderly": np.where(g_eld_known, g_eld, np.nan),
                "n_basic": len(basic),
                "n_basic_reached": g_reach[:, b_idx].sum(axis=1),
                "basic_reached": _join(basic, g_reach[:, b_idx]),
                "basic_missing": _join(basic, ~g_reach[:, b_idx]),
                "n_quality": len(quality),
                "n_quality_reached": g_reach[:, q_idx].sum(axis=1),
                "quality_reached": _join(quality, g_reach[:, q_idx]),
                "quality_missing": _join(quality, ~g_reach[:, q_idx]),
                "basic_score": share[:, b_idx].mean(axis=1) if basic else np.nan,
                "quality_score": share[:, q_idx].mean(axis=1) if quality else np.nan,
                "compliant": g_ok,
                "compliant_population": comp_pop,
                "compliant_share": np.where(g_pop > 0, comp_pop / g_pop, np.nan),
            }
        )
    for k in keys:
        per_group[f"{k}_coverage_rate"] = share[:, col[k]]
        per_group[f"{k}_reached"] = g_reach[:, col[k]]

    named = per_group[per_group[by] != ""]
    total = float(pop.sum())
    summary = pd.DataFrame(
        [
            {
                "by": by,
                "n_groups": len(named),
                "n_compliant": int(named["compliant"].sum()),
                "group_share": float(named["compliant"].mean()) if len(named) else np.nan,
                "population": total,
                "compliant_population": float(pop[point_ok].sum()),
                "resident_share": float(pop[point_ok].sum() / total) if total > 0 else np.nan,
                "n_basic": len(basic),
                "n_quality": len(quality),
                "basic_items": ",".join(basic),
                "quality_items": ",".join(quality),
                "min_share": float(min_share),
            }
        ]
    )
    ranked = per_group.assign(
        n_basic_missing=len(basic) - per_group["n_basic_reached"],
        n_quality_missing=len(quality) - per_group["n_quality_reached"],
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
    least["lacks_zh"] = [
        _lacks(b, q, "zh")
        for b, q in zip(least["basic_missing"], least["quality_missing"], strict=True)
    ]
    least["lacks_en"] = [
        _lacks(b, q, "en")
        for b, q in zip(least["basic_missing"], least["quality_missing"], strict=True)
    ]
    return Compliance(
        per_point=per_point,
        per_group=per_group,
        summary=summary,
        least_served=least,
        rules=rules,
        items=kind,
    )
