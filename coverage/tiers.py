"""Living-circle tiers: coverage of every category at every tier it belongs to.

GB 50180-2018 nests the 15-, 10- and 5-minute living circles and the 居住街坊, each with its own
facilities and radii (``[tiers.*]`` in ``data/categories.toml``). A tier is an *additional*
evaluation next to a category's criterion: the per-point network distances ``<key>_distance_m``
of a :class:`~coverage.analysis.CoverageResult` are compared with each tier threshold, so no
extra search is needed.

Decisions
---------
* **Distances beyond the criterion are exact.** :func:`coverage.analysis.analyse` does not cut
  its search at the criterion (see its module notes), so a 1000 m tier of a category whose
  criterion is 300 m reads true distances. :func:`check_distances` guards against results whose
  distances were cut (e.g. assembled elsewhere) by refusing a threshold beyond the largest finite
  distance of a search limit given by the caller.
* **At the threshold counts as covered** (``d <= T + COVER_TOL_M``), as for criteria.
* **Thresholds:** the category's own ``tier_overrides`` where a standard names one, else the
  tier's default; a run's ``overrides`` win over both. Keys of ``overrides`` are a tier key
  (``"min5"``: every category at that tier) or ``"<category>.<tier>"`` (one category); values
  are metres or a mapping with ``metres`` or ``minutes`` (+ ``profile`` / ``speed``).
* **Subgroup rates** are weighted by the subgroup column (``elderly``, ``children``,
  ``infants``) over the points where it is known; NaN when the column is absent or all unknown.
  ``subgroup_coverage_rate`` is the rate on the group the category is judged on by default
  (childcare on children, elderly canteens and care on the elderly, the rest on everyone).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from coverage.distance import COVER_TOL_M
from geo.errors import ConfigError
from geo.messages import msg
from geo.taxonomy import SUBGROUP_COLUMNS, Criterion, get_category, get_tier, source_label
from geo.taxonomy import tiers as taxonomy_tiers

if TYPE_CHECKING:
    from coverage.analysis import CoverageResult

__all__ = [
    "TIER_COLUMNS",
    "TierRule",
    "check_distances",
    "reached",
    "required_search_m",
    "subgroup_values",
    "tier_by_community",
    "tier_rules",
    "tier_table",
    "tier_wide",
]

#: Columns of ``tiers.csv`` (the issue's names first, then labels for reports).
TIER_COLUMNS = [
    "category",
    "tier",
    "threshold_m",
    "minutes",
    "population",
    "covered_population",
    "coverage_rate",
    "elderly_coverage_rate",
    "children_coverage_rate",
    "infants_coverage_rate",
    "subgroup",
    "subgroup_coverage_rate",
    "n_points",
    "covered_points",
    "name_zh",
    "name_en",
    "tier_name_zh",
    "tier_name_en",
    "source",
    "status",
]

_RATE_GROUPS = ("elderly", "children", "infants")


@dataclass(frozen=True)
class TierRule:
    """One category judged at one tier: the threshold and where it comes from."""

    category: str
    tier: str
    threshold_m: float
    minutes: float
    source: str
    status: str


def _override(value: Any, where: str) -> tuple[float, float | None, str]:
    """Metres, minutes (when given as a time) and a source note for a run's override."""
    if isinstance(value, Criterion):
        return value.threshold_m, value.minutes, "run override"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value), None, "run override"
    if isinstance(value, Mapping):
        extra = sorted(set(value) - {"metres", "minutes", "profile", "speed", "source", "status"})
        if extra:
            raise ConfigError(
                msg("coverage.tiers.override_unknown_keys", where=repr(where), extra=extra)
            )
        crit = Criterion(
            minutes=value.get("minutes"),
            metres=value.get("metres"),
            profile=str(value.get("profile", "general")),
            speed_mps=value.get("speed"),
        )
        return crit.threshold_m, crit.minutes, str(value.get("source") or "run override")
    raise ConfigError(msg("coverage.tiers.bad_override", where=repr(where), value=repr(value)))


def tier_rules(
    categories: Iterable[str],
    *,
    tiers: Iterable[str] | Mapping[str, Iterable[str]] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> list[TierRule]:
    """The category × tier pairs to evaluate, with thresholds and source labels.

    Parameters
    ----------
    categories
        Category keys.
    tiers
        ``None``: every tier each category belongs to in the taxonomy. An iterable of tier
        keys: only those (still only where the category belongs). A mapping category → tier
        keys: the district's own membership for the categories it names.
    overrides
        Run overrides of thresholds (see the module notes).

    Returns
    -------
    list of TierRule
        In category order, then the category's tier order.
    """
    keys = list(dict.fromkeys(categories))
    overrides = dict(overrides or {})
    known_tiers = taxonomy_tiers()
    for where in overrides:
        head, _, tail = where.rpartition(".")
        if tail not in known_tiers or (head and head not in keys):
            raise ConfigError(
                msg(
                    "coverage.tiers.unknown_override",
                    where=repr(where),
                    tiers=", ".join(known_tiers),
                    categories=", ".join(keys),
                )
            )
    member: dict[str, tuple[str, ...]] = {}
    for key in keys:
        cat = get_category(key)
        if isinstance(tiers, Mapping):
            member[key] = tuple(tiers.get(key, cat.tiers))
        elif tiers is not None:
            wanted = set(tiers)
            member[key] = tuple(t for t in cat.tiers if t in wanted)
        else:
            member[key] = cat.tiers
    out: list[TierRule] = []
    for key in keys:
        cat = get_category(key)
        for tkey in member[key]:
            tier = get_tier(tkey)
            metres, source, status = cat.tier_threshold(tier)
            own = cat.tier_overrides.get(tkey)
            minutes = float(own.minutes) if own is not None and own.minutes else tier.minutes
            for where in (tkey, f"{key}.{tkey}"):
                if where in overrides:
                    metres, given_min, source = _override(overrides[where], where)
                    minutes = float(given_min) if given_min else tier.minutes
                    status = source_label(source) or "[district]"
            out.append(TierRule(key, tkey, float(metres), float(minutes), source, status))
    return out


def required_search_m(rules: Iterable[TierRule], criteria: Mapping[str, Criterion]) -> float:
    """The search radius a limited search would need so every tier and criterion is exact.

    Parameters
    ----------
    rules
        From :func:`tier_rules`.
    criteria
        Category → criterion of the run.

    Returns
    -------
    float
        The largest threshold in metres.
    """
    values = [r.threshold_m for r in rules] + [c.threshold_m for c in criteria.values()]
    return float(max(values, default=0.0))


def check_distances(
    result: CoverageResult, rules: Iterable[TierRule], *, search_limit_m: float | None = None
) -> None:
    """Refuse tier thresholds that a limited search could not have measured.

    Parameters
    ----------
    result
        A coverage result.
    rules
        The tier rules to evaluate.
    search_limit_m
        The search limit the distances were computed with (``None``: unlimited, as
        :func:`~coverage.analysis.analyse` does).

    Raises
    ------
    ConfigError
        A category was not analysed, or a threshold exceeds ``search_limit_m`` (distances
        beyond it are ``inf`` and would read as uncovered).
    """
    for rule in rules:
        if f"{rule.category}_distance_m" not in result.demand.columns:
            raise ConfigError(
                msg(
                    "coverage.tiers.not_analysed",
                    category=repr(rule.category),
                    analysed=result.categories,
                )
            )
        if search_limit_m is not None and rule.threshold_m > search_limit_m + COVER_TOL_M:
            raise ConfigError(
                msg(
                    "coverage.tiers.search_too_short",
                    category=rule.category,
                    tier=rule.tier,
                    needed=rule.threshold_m,
                    limit=search_limit_m,
                )
            )


def reached(result: CoverageResult, rules: Iterable[TierRule]) -> np.ndarray:
    """Per demand point and rule: within the rule's threshold (bool, points × rules)."""
    rules = list(rules)
    check_distances(result, rules)
    dem = result.demand
    if not rules:
        return np.zeros((len(dem), 0), dtype=bool)
    return np.column_stack(
        [
            dem[f"{r.category}_distance_m"].to_numpy(dtype="float64") <= r.threshold_m + COVER_TOL_M
            for r in rules
        ]
    )


def subgroup_values(demand: pd.DataFrame, group: str) -> np.ndarray:
    """The head counts of a subgroup per demand point (NaN where unknown or no column).

    ``group`` is a key of :data:`geo.taxonomy.SUBGROUP_COLUMNS`; ``"all"`` reads
    ``population`` (NaN read as 0).
    """
    if group not in SUBGROUP_COLUMNS:
        raise ConfigError(
            msg("coverage.tiers.bad_subgroup", groups=list(SUBGROUP_COLUMNS), group=repr(group))
        )
    col = SUBGROUP_COLUMNS[group]
    if col not in demand.columns:
        return np.full(len(demand), np.nan)
    values = pd.to_numeric(demand[col], errors="coerce").to_numpy(dtype="float64")
    return np.nan_to_num(values, nan=0.0) if group == "all" else values


def _group_sums(
    weights: np.ndarray, cov: np.ndarray, codes: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group: known total and covered total of ``weights`` (NaN = unknown) per rule."""
    known = np.isfinite(weights)
    w = np.where(known, weights, 0.0)
    total = np.bincount(codes, weights=w, minlength=n)
    any_known = np.bincount(codes, weights=known.astype("float64"), minlength=n) > 0
    covered = (
        np.column_stack(
            [np.bincount(codes, weights=w * cov[:, j], minlength=n) for j in range(cov.shape[1])]
        )
        if cov.shape[1]
        else np.zeros((n, 0))
    )
    return total, covered, any_known


def _rates(total: np.ndarray, covered: np.ndarray, any_known: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (any_known & (total > 0))[:, None]
        return np.where(ok, covered / total[:, None], np.nan)


def _aggregate(
    dem: pd.DataFrame,
    cov: np.ndarray,
    rules: list[TierRule],
    codes: np.ndarray,
    n_groups: int,
) -> pd.DataFrame:
    """Tier rows per group (``_group`` holds the group code), rules in order within a group."""
    pop = subgroup_values(dem, "all")
    p_total, p_cov, _ = _group_sums(pop, cov, codes, n_groups)
    pts_total = np.bincount(codes, minlength=n_groups)
    pts_cov = (
        np.column_stack(
            [np.bincount(codes, weights=cov[:, j], minlength=n_groups) for j in range(len(rules))]
        )
        if rules
        else np.zeros((n_groups, 0))
    )
    rates = {"all": _rates(p_total, p_cov, np.ones(n_groups, dtype=bool))}
    for g in _RATE_GROUPS:
        rates[g] = _rates(*_group_sums(subgroup_values(dem, g), cov, codes, n_groups))
    tier_info = taxonomy_tiers()
    rows = []
    for gi in range(n_groups):
        for j, rule in enumerate(rules):
            cat = get_category(rule.category)
            rows.append(
                {
                    "_group": gi,
                    "category": rule.category,
                    "tier": rule.tier,
                    "threshold_m": rule.threshold_m,
                    "minutes": rule.minutes,
                    "population": float(p_total[gi]),
                    "covered_population": float(p_cov[gi, j]),
                    "coverage_rate": float(rates["all"][gi, j]),
                    **{f"{g}_coverage_rate": float(rates[g][gi, j]) for g in _RATE_GROUPS},
                    "subgroup": cat.subgroup,
                    "subgroup_coverage_rate": float(rates[cat.subgroup][gi, j]),
                    "n_points": int(pts_total[gi]),
                    "covered_points": int(pts_cov[gi, j]),
                    "name_zh": cat.name_zh,
                    "name_en": cat.name_en,
                    "tier_name_zh": tier_info[rule.tier].name_zh,
                    "tier_name_en": tier_info[rule.tier].name_en,
                    "source": rule.source,
                    "status": rule.status,
                }
            )
    return pd.DataFrame(rows, columns=["_group", *TIER_COLUMNS])


def tier_table(
    result: CoverageResult,
    *,
    tiers: Iterable[str] | Mapping[str, Iterable[str]] | None = None,
    overrides: Mapping[str, Any] | None = None,
    categories: Iterable[str] | None = None,
) -> pd.DataFrame:
    """``tiers.csv``: coverage of every analysed category at every tier it belongs to.

    Parameters
    ----------
    result
        A coverage result.
    tiers, overrides
        As in :func:`tier_rules`.
    categories
        Categories to report; default every analysed category.

    Returns
    -------
    pandas.DataFrame
        :data:`TIER_COLUMNS`, one row per category × tier (categories without a tier have no
        row). Rates are shares 0..1.
    """
    keys = list(result.categories if categories is None else categories)
    rules = tier_rules(keys, tiers=tiers, overrides=overrides)
    cov = reached(result, rules)
    codes = np.zeros(len(result.demand), dtype="int64")
    return _aggregate(result.demand, cov, rules, codes, 1).drop(columns="_group")


def tier_by_community(
    result: CoverageResult,
    *,
    tiers: Iterable[str] | Mapping[str, Iterable[str]] | None = None,
    overrides: Mapping[str, Any] | None = None,
    categories: Iterable[str] | None = None,
    by: str = "community",
) -> pd.DataFrame:
    """The tier table per community (or per compound with ``by="compound"``).

    Returns
    -------
    pandas.DataFrame
        ``by`` then :data:`TIER_COLUMNS`; one row per group × category × tier, groups sorted by
        name (points with no name form the group ``""``).
    """
    dem = result.demand
    if by not in dem.columns:
        columns = [c for c in dem.columns if not c.endswith(("_m", "_id", "_name"))][:12]
        raise ConfigError(msg("coverage.tiers.no_group_column", by=repr(by), columns=columns))
    keys = list(result.categories if categories is None else categories)
    rules = tier_rules(keys, tiers=tiers, overrides=overrides)
    cov = reached(result, rules)
    names = dem[by].fillna("").astype(str).to_numpy()
    groups, codes = np.unique(names, return_inverse=True)
    out = _aggregate(dem, cov, rules, codes.ravel(), len(groups))
    out.insert(0, by, groups[out.pop("_group").to_numpy(dtype="int64")] if len(out) else [])
    return out.reset_index(drop=True)


def tier_wide(table: pd.DataFrame, *, by: str = "community") -> pd.DataFrame:
    """One row per community from :func:`tier_by_community`, for ``communities.csv``.

    Columns ``<category>_<tier>_coverage_rate`` and the same with ``_elderly``, ``_children``
    and ``_infants`` before ``_coverage_rate``, in the order of the long table.

    Returns
    -------
    pandas.DataFrame
        ``by`` then the rate columns; one row per group.
    """
    if table.empty:
        return pd.DataFrame({by: pd.Series([], dtype=object)})
    long = table.assign(_key=table["category"] + "_" + table["tier"])
    order = list(dict.fromkeys(long["_key"]))
    parts = []
    for rate in ("coverage_rate", *(f"{g}_coverage_rate" for g in _RATE_GROUPS)):
        wide = long.pivot(index=by, columns="_key", values=rate)[order]
        wide.columns = [f"{k}_{rate}" for k in order]
        parts.append(wide)
    out = pd.concat(parts, axis=1)
    cols = [
        f"{k}_{rate}"
        for k in order
        for rate in ("coverage_rate", *(f"{g}_coverage_rate" for g in _RATE_GROUPS))
    ]
    return out[cols].reset_index()
