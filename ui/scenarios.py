"""What-if edits and scenarios for the pages: facilities added to the session's baseline.

A scenario is the baseline dataset plus added facilities. Its coverage comes from the same cached
analysis as the baseline (keyed on the facilities' content), so returning to a scenario costs
nothing and two sessions with the same plan share one computation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ui import state

WGS84 = "EPSG:4326"


def added_facilities(
    points: Sequence[tuple[float, float]],
    *,
    category: str,
    prefix: str,
    names: Sequence[str] | None = None,
    capacity: float = float("nan"),
) -> gpd.GeoDataFrame:
    """Facilities (contract schema, WGS-84) at ``points`` given as (lon, lat)."""
    n = len(points)
    lon = np.array([p[0] for p in points], dtype="float64")
    lat = np.array([p[1] for p in points], dtype="float64")
    return gpd.GeoDataFrame(
        {
            "facility_id": [f"{prefix}-{i}" for i in range(1, n + 1)],
            "name": list(names)
            if names is not None
            else [f"{prefix}-{i}" for i in range(1, n + 1)],
            "category": [category] * n,
            "capacity": np.full(n, capacity, dtype="float64"),
            "source": ["edit"] * n,
        },
        geometry=shapely.points(lon, lat),
        crs=WGS84,
    )


def with_added(ds: state.Dataset, added: gpd.GeoDataFrame) -> state.Dataset:
    """The dataset with ``added`` appended to its facilities (a new object; ``ds`` unchanged)."""
    if added.empty:
        return ds
    cols = list(ds.facilities.columns)
    extra = added.reindex(columns=cols)
    merged = gpd.GeoDataFrame(
        pd.concat([ds.facilities, extra], ignore_index=True), geometry="geometry", crs=WGS84
    )
    base = dict(ds.parts).get("facilities", "")
    return ds.with_part("facilities", f"{base}+{state.frame_token(added)}", facilities=merged)


def compare_summaries(
    base: Any, plans: dict[str, Any], *, categories: Sequence[str], lang: str
) -> pd.DataFrame:
    """Coverage per category: baseline and each plan side by side, with deltas.

    Parameters
    ----------
    base
        Baseline ``CoverageResult``.
    plans
        Scenario name → ``CoverageResult`` computed with the same criteria.
    categories
        Category keys to report.
    lang
        "zh" or "en" for the category names.
    """
    s0 = base.summary.set_index("category")
    name_col = "name_zh" if lang == "zh" else "name_en"
    rows = []
    for key in categories:
        if key not in s0.index:
            continue
        row: dict[str, Any] = {
            "category": key,
            "name": s0.at[key, name_col],
            "baseline_rate": float(s0.at[key, "coverage_rate"]),
            "baseline_covered": float(s0.at[key, "covered_population"]),
        }
        for name, res in plans.items():
            s1 = res.summary.set_index("category")
            gained, lost = _gained_lost(base.demand, res.demand, key)
            row[f"{name}: rate"] = float(s1.at[key, "coverage_rate"])
            row[f"{name}: Δ rate"] = float(
                s1.at[key, "coverage_rate"] - s0.at[key, "coverage_rate"]
            )
            row[f"{name}: newly covered"] = gained
            row[f"{name}: lost"] = lost
        rows.append(row)
    return pd.DataFrame(rows)


def _gained_lost(d0: pd.DataFrame, d1: pd.DataFrame, key: str) -> tuple[float, float]:
    c0 = d0[f"{key}_covered"].to_numpy(bool)
    c1 = d1[f"{key}_covered"].to_numpy(bool)
    pop = pd.to_numeric(d0["population"], errors="coerce").fillna(0).to_numpy()
    return float(pop[~c0 & c1].sum()), float(pop[c0 & ~c1].sum())


def changed_points(base: Any, plan: Any, *, category: str) -> gpd.GeoDataFrame:
    """Demand points whose coverage changed: ``change`` is "gained" or "lost"."""
    c0 = base.demand[f"{category}_covered"].to_numpy(bool)
    c1 = plan.demand[f"{category}_covered"].to_numpy(bool)
    mask = c0 != c1
    out = base.demand.loc[mask, ["demand_id", "population", "geometry"]].copy()
    out["change"] = np.where(c1[mask], "gained", "lost")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84)


# --------------------------------------------------------------------------------------------
# Session helpers used by the Sites and Compare pages
# --------------------------------------------------------------------------------------------


def trial_points(category: str | None = None) -> list[tuple[float, float, str]]:
    """Trial facilities clicked on the map in this session: (lon, lat, category)."""
    import streamlit as st

    pts = list(st.session_state.get(state.TRIAL_SITES, []))
    return [p for p in pts if category is None or p[2] == category]


def take_click(clicked: dict[str, float] | None, *, category: str) -> None:
    """Add a map click as a trial facility (once per click) and rerun to draw it."""
    import streamlit as st

    if not clicked or "lat" not in clicked or "lng" not in clicked:
        return
    point = (round(float(clicked["lng"]), 6), round(float(clicked["lat"]), 6), category)
    if st.session_state.get("_last_click") == point:
        return
    st.session_state["_last_click"] = point
    st.session_state[state.TRIAL_SITES] = [*trial_points(), point]
    st.rerun()


def trial_facilities(category: str) -> gpd.GeoDataFrame:
    """The trial points of ``category`` as facilities."""
    pts = trial_points(category)
    return added_facilities([(p[0], p[1]) for p in pts], category=category, prefix="trial")


def from_sites(sites: gpd.GeoDataFrame, *, category: str) -> gpd.GeoDataFrame:
    """Proposed sites of a siting run as facilities to add."""
    pts = [(float(g.x), float(g.y)) for g in sites.geometry.to_crs(WGS84)]
    return added_facilities(pts, category=category, prefix="site")


def save(name: str, added: gpd.GeoDataFrame) -> None:
    """Store a scenario (facilities added to the baseline) under ``name`` in this session."""
    import streamlit as st

    name = name.strip() or f"scenario {len(saved()) + 1}"
    st.session_state[state.SCENARIOS] = {**saved(), name: added}


def saved() -> dict[str, gpd.GeoDataFrame]:
    """Scenarios of this session, by name."""
    import streamlit as st

    return dict(st.session_state.get(state.SCENARIOS, {}))


def delete(name: str) -> None:
    """Remove a scenario from this session."""
    import streamlit as st

    st.session_state[state.SCENARIOS] = {k: v for k, v in saved().items() if k != name}


def trial_panel(ds: state.Dataset, choice: state.CriteriaChoice, category: str) -> None:
    """Show the effect of the trial facilities of ``category`` against the baseline."""
    import streamlit as st

    from ui.widgets import seed, tr

    added = trial_facilities(category)
    if added.empty:
        return
    st.subheader(tr("sites.whatif"))
    with st.spinner(tr("cov.computing")):
        base = state.analysis(ds, choice)
        plan = state.analysis(with_added(ds, added), choice)
    table = compare_summaries(base, {"+": plan}, categories=[category], lang=state.lang())
    row = table.iloc[0]
    c1, c2, c3 = st.columns(3)
    c1.metric(tr("cov.rate"), f"{row['+: rate']:.1%}", f"{row['+: Δ rate']:+.1%}")
    c2.metric(tr("sites.gain"), f"{row['+: newly covered']:,.0f}")
    c3.metric(tr("cov.facilities"), f"+{len(added)}")
    name = st.text_input(tr("sites.scenario_name"), key=seed("trial_name", "what-if"))
    b1, b2 = st.columns(2)
    if b1.button(tr("sites.whatif.save"), key="trial_save"):
        save(name, added)
        st.success(tr("sites.saved", name=name))
    if b2.button(tr("sites.whatif.clear"), key="trial_clear"):
        st.session_state[state.TRIAL_SITES] = [p for p in trial_points() if p[2] != category]
        st.rerun()


def compare_table(base: Any, plans: dict[str, Any], *, categories: Sequence[str]) -> pd.DataFrame:
    """:func:`compare_summaries` with labelled columns and rates in %, for the Compare page."""
    from ui.widgets import tr

    raw = compare_summaries(base, plans, categories=categories, lang=state.lang())
    out = pd.DataFrame({tr("cov.category"): raw["name"]})
    out[f"{tr('cmp.baseline')} · {tr('cov.rate')} %"] = (raw["baseline_rate"] * 100).round(1)
    for name in plans:
        out[f"{name} · {tr('cov.rate')} %"] = (raw[f"{name}: rate"] * 100).round(1)
        out[f"{name} · Δ %"] = (raw[f"{name}: Δ rate"] * 100).round(1)
        out[f"{name} · {tr('cmp.gained')}"] = raw[f"{name}: newly covered"].round(0)
        out[f"{name} · {tr('cmp.lost')}"] = raw[f"{name}: lost"].round(0)
    return out
