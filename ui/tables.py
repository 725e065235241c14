"""Planner-facing tables built from the core's frames (labelled columns, rounded numbers)."""

from __future__ import annotations

import math
import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from maps.i18n import has
from ui import state
from ui.widgets import tr


def number_formats(frame: pd.DataFrame) -> dict[str, Any]:
    """``column_config`` that shows whole-number columns with thousands separators (54,420).

    Streamlit's tables print numbers without grouping by default, unlike ``st.metric``; counts of
    residents are easier to read grouped. Columns with fractions (rates, minutes) keep their
    own format.
    """
    config: dict[str, Any] = {}
    for col in frame.columns:
        values = frame[col]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        finite = values[np.isfinite(values.astype("float64"))]
        if len(finite) and (finite.astype("float64") % 1 == 0).all() and finite.abs().max() >= 1000:
            config[str(col)] = st.column_config.NumberColumn(format="localized")
    return config


def show(frame: pd.DataFrame, *, key: str, where: Any = st) -> Any:
    """Show a planner table: full width, no index, resident counts grouped by thousands."""
    return where.dataframe(
        frame, hide_index=True, width="stretch", key=key, column_config=number_formats(frame)
    )


def unsnapped_table(unsnapped: pd.DataFrame, facilities: pd.DataFrame) -> pd.DataFrame:
    """Points left out because no street is within the snap tolerance, labelled for planners."""
    names = dict(
        zip(facilities["facility_id"].astype(str), facilities["name"].astype(str), strict=False)
    )
    kinds = unsnapped["kind"].astype(str)
    ids = unsnapped["id"].astype(str)
    return pd.DataFrame(
        {
            tr("ui.cov.unsnapped.kind"): [tr(f"ui.cov.unsnapped.kind.{k}") for k in kinds],
            tr("ui.cov.unsnapped.id"): ids.to_numpy(),
            tr("ui.cov.unsnapped.name"): [
                names.get(i, "") if k == "facility" else "" for k, i in zip(kinds, ids, strict=True)
            ],
            tr("ui.cov.unsnapped.distance"): pd.to_numeric(unsnapped["distance_m"], errors="coerce")
            .round(0)
            .to_numpy(),
        }
    )


def gap_table(gaps: gpd.GeoDataFrame) -> pd.DataFrame:
    """The ranked gap list (one row per gap, in rank order, no geometry)."""
    return pd.DataFrame(
        {
            tr("ui.gaps.rank"): gaps["rank"].astype(int).to_numpy(),
            tr("ui.gaps.uncovered"): gaps["uncovered_population"]
            .round(0)
            .astype("int64")
            .to_numpy(),
            tr("ui.gaps.elderly"): pd.to_numeric(gaps["uncovered_elderly"], errors="coerce")
            .round(0)
            .to_numpy(),
            tr("ui.gaps.points"): gaps["n_points"].astype(int).to_numpy(),
            tr("ui.gaps.nearest"): pd.to_numeric(gaps["nearest_facility_m"], errors="coerce")
            .round(0)
            .to_numpy(),
            tr("ui.gaps.communities"): gaps["communities"].astype(str).to_numpy(),
            tr("ui.gaps.area"): (gaps["area_m2"] / 10_000).round(1).to_numpy(),
        }
    )


def sites_table(sites: gpd.GeoDataFrame) -> pd.DataFrame:
    """Proposed sites: rank, position and the residents each newly covers."""
    pts = sites.geometry
    out = {
        tr("ui.sites.rank"): sites["rank"].astype(int).to_numpy()
        if "rank" in sites
        else range(1, len(sites) + 1),
        tr("ui.sites.lon"): pts.x.round(6).to_numpy(),
        tr("ui.sites.lat"): pts.y.round(6).to_numpy(),
        tr("ui.sites.gain"): pd.to_numeric(sites["added_population"], errors="coerce")
        .round(0)
        .to_numpy(),
    }
    if "added_elderly" in sites:
        out[tr("ui.sites.gain_elderly")] = pd.to_numeric(
            sites["added_elderly"], errors="coerce"
        ).round(0)
    if "minutes_saved" in sites:
        out[tr("ui.sites.minutes_saved")] = pd.to_numeric(
            sites["minutes_saved"], errors="coerce"
        ).round(0)
    if "communities" in sites:
        out[tr("maps.communities")] = sites["communities"].astype(str).to_numpy()
    return pd.DataFrame(out)


def curve_table(result: Any) -> pd.DataFrame:
    """The coverage curve for k = 0..K new sites, one row per k (no greedy/exact zig-zag).

    Built from ``SitingResult.best_curve``: the exact optimum of each k where it was solved, else
    the greedy value; the method column says which.
    """
    best = result.best_curve
    columns = [tr(f"ui.sites.curve.{c}") for c in ("k", "rate", "covered", "method")]
    if best is None or best.empty:
        return pd.DataFrame(columns=columns)
    rate = pd.to_numeric(best["coverage_rate"], errors="coerce") * 100

    def method(m: str) -> str:
        if m in ("existing", "greedy"):
            return tr(f"ui.sites.curve.{m}")
        return tr(
            "ui.sites.curve.limited" if str(m).startswith("time-limit") else "ui.sites.curve.exact"
        )

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
    """One line: solver status, method and optimality gap of a siting run, translated."""
    gap = result.gap
    gap_text = "–" if gap is None or (isinstance(gap, float) and math.isnan(gap)) else f"{gap:.2%}"
    sol = result.solution
    status = _solver_word("st", sol.status if sol is not None else result.status)
    method = _solver_word("method", result.method) if result.method else "–"
    return tr("ui.sites.status", status=status, method=method, gap=gap_text)


def _solver_word(kind: str, value: str) -> str:
    """The text of a solver status or method (``"time-limit"`` → ``ui.sites.st.time_limit``)."""
    code = f"ui.sites.{kind}.{re.sub(r'[^0-9a-z]+', '_', str(value).lower()).strip('_')}"
    return tr(code) if has(code) else str(value)


def siting_message(result: Any, *, n_candidates: int | None = None, target: float = 0.95) -> str:
    """What a siting run found, in the interface language, built from the result's numbers.

    ``SitingResult.message`` is English (for logs and the CLI); the page shows this instead.

    Parameters
    ----------
    result
        A ``SitingResult``.
    n_candidates
        How many candidates were handed to the model; the ones missing from
        ``result.candidates`` were too far from the streets (not reported when ``None``).
    target
        The coverage target of a set-covering (``lscp``) run, as a share.
    """
    from geo import settings

    sites = result.sites
    n = len(sites)
    sol = result.solution
    parts: list[str] = []
    if result.status == "no candidates" or sol is None:
        parts.append(tr("ui.sites.msg.none"))
    elif result.model == "lscp":
        if n == 0:
            parts.append(tr("ui.sites.msg.lscp_none"))
        else:
            rate = float(pd.to_numeric(sites["coverage_rate"], errors="coerce").iloc[-1])
            parts.append(tr("ui.sites.msg.lscp", n=n, target=float(target), rate=rate))
    else:
        requested = int(sol.requested) if sol.requested is not None else n
        if n < requested:
            what = {"pmedian": "shorten", "capacitated": "serve"}.get(result.model, "add")
            parts.append(
                tr("ui.sites.msg.short", n=n, k=requested, what=tr(f"ui.sites.msg.what.{what}"))
            )
        elif result.model == "pmedian":
            minutes = float(pd.to_numeric(sites["minutes_saved"], errors="coerce").sum())
            parts.append(tr("ui.sites.msg.pmedian", n=n, minutes=minutes))
        else:
            pop = float(pd.to_numeric(sites["added_population"], errors="coerce").sum())
            parts.append(tr("ui.sites.msg.proposed", n=n, pop=pop))
    unreachable = result.unreachable
    if unreachable is not None and len(unreachable):
        pop = float(pd.to_numeric(unreachable.get("population", 0), errors="coerce").sum())
        parts.append(tr("ui.sites.msg.unreachable", n=len(unreachable), pop=pop))
    considered = len(result.candidates) if result.candidates is not None else 0
    if n_candidates is not None and sol is not None and n_candidates > considered:
        parts.append(
            tr("ui.sites.msg.dropped", n=n_candidates - considered, m=settings.snap_tolerance_m)
        )
    cands = result.candidates
    if result.model == "capacitated" and cands is not None and len(cands):
        known = "capacity" in cands and pd.to_numeric(cands["capacity"], errors="coerce").notna()
        if not bool(np.any(known)):
            parts.append(tr("ui.sites.msg.no_capacity"))
    # Chinese sentences run on; English ones need a space.
    return (" " if state.lang() == "en" else "").join(parts)
