"""Planner-facing tables built from the core's frames (labelled columns, rounded numbers)."""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import pandas as pd

from ui.widgets import tr


def gap_table(gaps: gpd.GeoDataFrame) -> pd.DataFrame:
    """The ranked gap list (one row per gap, in rank order, no geometry)."""
    return pd.DataFrame(
        {
            tr("gaps.rank"): gaps["rank"].astype(int).to_numpy(),
            tr("gaps.uncovered"): gaps["uncovered_population"].round(0).astype("int64").to_numpy(),
            tr("gaps.elderly"): pd.to_numeric(gaps["uncovered_elderly"], errors="coerce")
            .round(0)
            .to_numpy(),
            tr("gaps.points"): gaps["n_points"].astype(int).to_numpy(),
            tr("gaps.nearest"): pd.to_numeric(gaps["nearest_facility_m"], errors="coerce")
            .round(0)
            .to_numpy(),
            tr("gaps.communities"): gaps["communities"].astype(str).to_numpy(),
            tr("gaps.area"): (gaps["area_m2"] / 10_000).round(1).to_numpy(),
        }
    )


def sites_table(sites: gpd.GeoDataFrame) -> pd.DataFrame:
    """Proposed sites: rank, position and the residents each newly covers."""
    pts = sites.geometry
    out = {
        tr("sites.rank"): sites["rank"].astype(int).to_numpy()
        if "rank" in sites
        else range(1, len(sites) + 1),
        tr("sites.lon"): pts.x.round(6).to_numpy(),
        tr("sites.lat"): pts.y.round(6).to_numpy(),
        tr("sites.gain"): pd.to_numeric(sites["added_population"], errors="coerce")
        .round(0)
        .to_numpy(),
    }
    if "added_elderly" in sites:
        out[tr("sites.gain_elderly")] = pd.to_numeric(
            sites["added_elderly"], errors="coerce"
        ).round(0)
    if "minutes_saved" in sites:
        out[tr("sites.minutes_saved")] = pd.to_numeric(
            sites["minutes_saved"], errors="coerce"
        ).round(0)
    if "communities" in sites:
        out[tr("communities")] = sites["communities"].astype(str).to_numpy()
    return pd.DataFrame(out)


def curve_table(result: Any) -> pd.DataFrame:
    """The coverage curve for k = 0..K new sites, one row per k (no greedy/exact zig-zag).

    Built from ``SitingResult.best_curve``: the exact optimum of each k where it was solved, else
    the greedy value; the method column says which.
    """
    best = result.best_curve
    columns = [tr(f"sites.curve.{c}") for c in ("k", "rate", "covered", "method")]
    if best is None or best.empty:
        return pd.DataFrame(columns=columns)
    rate = pd.to_numeric(best["coverage_rate"], errors="coerce") * 100

    def method(m: str) -> str:
        if m in ("existing", "greedy"):
            return tr(f"sites.curve.{m}")
        return tr("sites.curve.limited" if str(m).startswith("time-limit") else "sites.curve.exact")

    return pd.DataFrame(
        {
            columns[0]: best["k"].astype(int).to_numpy(),
            columns[1]: rate.round(2).to_numpy(),
            columns[2]: pd.to_numeric(best["covered_population"], errors="coerce")
            .round(0)
            .to_numpy(),
            columns[3]: [method(m) for m in best["method"]],
        }
    )


def siting_status(result: Any) -> str:
    """One line: solver status, method and optimality gap of a siting run."""
    gap = result.gap
    gap_text = "–" if gap is None or (isinstance(gap, float) and math.isnan(gap)) else f"{gap:.2%}"
    return tr("sites.status", status=result.status, method=result.method, gap=gap_text)
