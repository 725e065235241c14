"""Supply and demand: Gaussian two-step floating catchment area (2SFCA).

After Luo & Wang (2003) with Dai's (2010) Gaussian decay (standards.md, "Indicators", item 4)::

    G(d) = (exp(-½ (d/d0)²) − exp(-½)) / (1 − exp(-½))      for d ≤ d0, else 0
    R_j  = S_j / Σ_i G(d_ij) · P_i                             (supply per resident, step 1)
    A_i  = Σ_j G(d_ij) · R_j                                   (accessibility, step 2)

``d_ij`` is the network distance of :mod:`coverage.distance` (offsets included), computed once as
a sparse OD matrix within ``d0`` (default: the category's threshold). ``S_j`` is the facility's
``capacity``; facilities without one count as 1, so ``R_j`` is then "facilities per resident".
A facility with no resident in its catchment has ``R_j = NaN`` (nobody to serve; it adds nothing
to any ``A_i``). ``accessibility_index`` is ``A_i`` divided by the study-wide ratio
``Σ S_j / Σ P_i``: 1 means the average supply, below 1 under-served. "Covered" is not
"sufficient": show both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from coverage.distance import od_matrix
from geo.errors import ConfigError
from geo.messages import msg
from geo.network import Network

if TYPE_CHECKING:
    from coverage.analysis import CoverageResult

__all__ = ["gaussian_weight", "two_step_fca"]


def gaussian_weight(d: np.ndarray, d0: float) -> np.ndarray:
    """Dai's Gaussian decay ``G(d)``: 1 at ``d = 0``, 0 at and beyond ``d0``."""
    d = np.asarray(d, dtype="float64")
    e = np.exp(-0.5)
    g = (np.exp(-0.5 * (d / d0) ** 2) - e) / (1.0 - e)
    return np.where(d <= d0, np.clip(g, 0.0, 1.0), 0.0)


def two_step_fca(
    network: Network,
    result: CoverageResult,
    *,
    category: str,
    catchment_m: float | None = None,
    weight: str = "population",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gaussian 2SFCA of one category.

    Parameters
    ----------
    network
        The network the result was computed on.
    result
        A coverage result (gives snapped demand and facilities).
    category
        Category key.
    catchment_m
        Catchment ``d0`` in metres; default the category's threshold.
    weight
        Demand column used as ``P_i``: ``"population"`` or ``"elderly"`` (NaN counts as 0).

    Returns
    -------
    per_facility
        ``facility_id, name, capacity, supply, weighted_demand, ratio, load`` per facility of the
        category (``ratio`` = ``R_j``; ``load`` = ``1 / R_j``, residents per unit of supply).
    per_point
        Aligned to ``result.demand``: ``demand_id, accessibility, accessibility_index,
        n_facilities``.
    """
    if category not in result.categories:
        raise ConfigError(
            msg("coverage.fca.not_analysed", category=repr(category), analysed=result.categories)
        )
    if weight not in ("population", "elderly"):
        raise ConfigError(msg("coverage.fca.bad_weight", weight=repr(weight)))
    d0 = float(result.criteria[category].threshold_m if catchment_m is None else catchment_m)
    if not d0 > 0:
        raise ConfigError(msg("coverage.fca.bad_catchment", catchment=repr(catchment_m)))
    dem = result.demand
    assert result.demand_snap is not None and result.facility_snap is not None
    rows = result.facility_rows(category)
    fac = result.facilities.iloc[rows]
    P = pd.to_numeric(dem[weight], errors="coerce").fillna(0.0).to_numpy(dtype="float64")
    cap = pd.to_numeric(fac["capacity"], errors="coerce").to_numpy(dtype="float64")
    S = np.where(np.isfinite(cap) & (cap >= 0), cap, 1.0)
    od = od_matrix(network, result.facility_snap.subset(rows), result.demand_snap, limit_m=d0)
    G = od.copy()
    G.data = gaussian_weight(od.data, d0)
    demand_j = np.asarray(G @ P).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        R = np.where(demand_j > 0, S / demand_j, np.nan)
        load = np.where(demand_j > 0, demand_j / np.where(S > 0, S, np.nan), np.nan)
    A = np.asarray(G.T @ np.nan_to_num(R, nan=0.0)).ravel()
    n_fac = np.diff(G.tocsc().indptr)
    region = S.sum() / P.sum() if P.sum() > 0 else np.nan
    per_facility = pd.DataFrame(
        {
            "facility_id": fac["facility_id"].to_numpy(),
            "name": fac["name"].to_numpy(),
            "capacity": cap,
            "supply": S,
            "weighted_demand": demand_j,
            "ratio": R,
            "load": load,
        }
    )
    per_point = pd.DataFrame(
        {
            "demand_id": dem["demand_id"].astype(str).to_numpy(),
            "accessibility": A,
            "accessibility_index": A / region if region and np.isfinite(region) else np.nan,
            "n_facilities": n_fac,
        },
        index=dem.index,
    )
    return per_facility, per_point
