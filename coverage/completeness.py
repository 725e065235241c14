"""Facility completeness (设施完备度) per demand point and per community.

For demand point ``i`` and the selected categories ``k`` with weights ``w_k`` (1 by default)::

    S_i = Σ w_k · [d_ik ≤ T_k] / Σ w_k

(standards.md, "Indicators", item 2). A point has the *complete set* when every selected category
is within its threshold. Per community, the score is population-weighted (equal weights when the
community has no residents) and ``complete_share`` is the share of its residents with the
complete set. Demand points with no community name form the group ``""``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geo.errors import ConfigError
from geo.messages import msg

if TYPE_CHECKING:
    from coverage.analysis import CoverageResult

__all__ = ["completeness"]


def completeness(
    result: CoverageResult,
    *,
    categories: Iterable[str] | None = None,
    weights: Mapping[str, float] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Completeness per demand point and per community.

    Parameters
    ----------
    result
        A coverage result.
    categories
        Categories in the set; default every analysed category.
    weights
        Category key → weight ``w_k`` (≥ 0); default 1 for each.

    Returns
    -------
    per_point
        Aligned to ``result.demand``: ``demand_id, community, population, elderly, n_categories,
        n_within, score, complete, missing`` (comma-separated keys not within their threshold)
        and ``<key>_covered`` for each category.
    per_community
        ``community, n_points, population, elderly, score, complete_population,
        complete_share`` and ``<key>_coverage_rate`` per category; sorted by score, lowest first.
    """
    keys = list(result.categories if categories is None else dict.fromkeys(categories))
    w = _check_weights(result, keys, weights)
    dem = result.demand
    cov = (
        np.column_stack([dem[f"{k}_covered"].to_numpy(dtype=bool) for k in keys])
        if keys
        else np.zeros((len(dem), 0), dtype=bool)
    )
    score = cov @ w / w.sum() if keys else np.full(len(dem), np.nan)
    complete = cov.all(axis=1) if keys else np.zeros(len(dem), dtype=bool)
    per_point = pd.DataFrame(
        {
            "demand_id": dem["demand_id"].astype(str).to_numpy(),
            "community": dem["community"].fillna("").astype(str).to_numpy(),
            "population": dem["population"].to_numpy(dtype="float64"),
            "elderly": pd.to_numeric(dem["elderly"], errors="coerce").to_numpy(dtype="float64"),
            "n_categories": len(keys),
            "n_within": cov.sum(axis=1),
            "score": score,
            "complete": complete,
            "missing": _missing(keys, cov),
        },
        index=dem.index,
    )
    for j, k in enumerate(keys):
        per_point[f"{k}_covered"] = cov[:, j]
    return per_point, _per_community(per_point, keys)


def _check_weights(
    result: CoverageResult, keys: list[str], weights: Mapping[str, float] | None
) -> np.ndarray:
    """The weight of each key, after checking that every key was analysed."""
    missing_keys = [k for k in keys if f"{k}_covered" not in result.demand.columns]
    if missing_keys:
        raise ConfigError(
            msg(
                "coverage.completeness.not_analysed",
                missing=missing_keys,
                analysed=result.categories,
            )
        )
    w = np.array([float((weights or {}).get(k, 1.0)) for k in keys])
    if (w < 0).any() or (keys and not w.sum() > 0):
        given = dict(zip(keys, w.tolist(), strict=True))
        raise ConfigError(msg("coverage.completeness.bad_weights", given=given))
    return w


def _missing(keys: list[str], cov: np.ndarray) -> np.ndarray:
    """Comma-joined keys not within their threshold, per point."""
    if not keys:
        return np.full(cov.shape[0], "", dtype=object)
    # Built once per distinct pattern (at most 2**k), not per row.
    bits = (~cov).astype("int64") @ (1 << np.arange(len(keys), dtype="int64"))
    codes, inverse = np.unique(bits, return_inverse=True)
    labels = np.array(
        [",".join(k for j, k in enumerate(keys) if c >> j & 1) for c in codes.tolist()],
        dtype=object,
    )
    return labels[inverse.ravel()]


def _per_community(per_point: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Population-weighted scores and shares per community, lowest score first."""
    pop = per_point["population"].to_numpy()
    complete = per_point["complete"].to_numpy()
    frame = per_point.assign(
        _w=np.where(pop > 0, pop, 0.0),
        _ws=np.where(pop > 0, pop, 0.0) * per_point["score"],
        _cp=np.where(complete, pop, 0.0),
        _one=1.0,
        _s=per_point["score"],
    )
    for k in keys:
        frame[f"_cov_{k}"] = np.where(per_point[f"{k}_covered"], pop, 0.0)
    g = frame.groupby("community", sort=True)
    agg = g.agg(
        n_points=("_one", "size"),
        population=("population", "sum"),
        elderly=("elderly", lambda s: s.sum(min_count=1)),
        _w=("_w", "sum"),
        _ws=("_ws", "sum"),
        _cp=("_cp", "sum"),
        _s=("_s", "mean"),
        **{f"_cov_{k}": (f"_cov_{k}", "sum") for k in keys},
    )
    per_comm = pd.DataFrame(
        {
            "community": agg.index.to_numpy(),
            "n_points": agg["n_points"].to_numpy(),
            "population": agg["population"].to_numpy(),
            "elderly": agg["elderly"].to_numpy(),
        }
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        wsum = agg["_w"].to_numpy()
        per_comm["score"] = np.where(wsum > 0, agg["_ws"].to_numpy() / wsum, agg["_s"].to_numpy())
        p = agg["population"].to_numpy()
        per_comm["complete_population"] = agg["_cp"].to_numpy()
        per_comm["complete_share"] = np.where(p > 0, agg["_cp"].to_numpy() / p, np.nan)
        for k in keys:
            per_comm[f"{k}_coverage_rate"] = np.where(
                p > 0, agg[f"_cov_{k}"].to_numpy() / p, np.nan
            )
    per_comm = per_comm.sort_values(["score", "population"], ascending=[True, False])
    return per_comm.reset_index(drop=True)
