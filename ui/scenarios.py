"""What-if edits and scenarios for the pages, on top of :mod:`coverage.scenarios`.

A session scenario is a :class:`coverage.scenarios.Scenario` (a name and edits on the baseline).
Applying it recomputes only what the edits change and is cached on the dataset, the criteria and
the edits, so returning to a scenario costs nothing. Trial sites clicked on the Sites page are
``Edit.add`` edits kept in the session until saved as a scenario.

A scenario may also carry network edits (a bridge drawn on the Coverage map, closed streets):
:func:`scenario_result` then computes it on the edited streets, against the same baseline, so
the Compare page sets "a new bridge" beside "two new canteens".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st

from ui import state

__all__ = [
    "applied_results",
    "compare_table",
    "comparison_map",
    "delete",
    "edited_study",
    "file_panel",
    "load_file",
    "network_edit_report",
    "removal_picker",
    "save",
    "saved",
    "scenario_result",
    "scenarios_file",
    "site_edits",
    "take_click",
    "trial_edits",
    "trial_panel",
    "trial_points",
    "trial_removed",
]

WGS84 = "EPSG:4326"
TRIAL_REMOVED = "trial_removed"


# --------------------------------------------------------------------------------------------
# Edits
# --------------------------------------------------------------------------------------------


def trial_points(category: str | None = None) -> list[tuple[float, float, str]]:
    """Trial facilities clicked on the map in this session: (lon, lat, category)."""
    pts = list(st.session_state.get(state.TRIAL_SITES, []))
    return [p for p in pts if category is None or p[2] == category]


def take_click(clicked: dict[str, float] | None, *, category: str) -> None:
    """Add a map click as a trial facility (once per click) and rerun to draw it."""
    if not clicked or "lat" not in clicked or "lng" not in clicked:
        return
    point = (round(float(clicked["lng"]), 6), round(float(clicked["lat"]), 6), category)
    if st.session_state.get("_last_click") == point:
        return
    st.session_state["_last_click"] = point
    st.session_state[state.TRIAL_SITES] = [*trial_points(), point]
    st.rerun()


def trial_edits(category: str) -> tuple[Any, ...]:
    """The trial edits of ``category``: clicked points (``Edit.add``) and closures."""
    from coverage.scenarios import Edit
    from ui.widgets import tr

    adds = tuple(
        Edit.add(
            category=c,
            lon=lon,
            lat=lat,
            name=tr("ui.sites.trial_name", i=i),
            facility_id=f"trial-{i}",
        )
        for i, (lon, lat, c) in enumerate(trial_points(category), start=1)
    )
    removes = tuple(Edit.remove(fid) for fid in trial_removed(category))
    return adds + removes


def trial_removed(category: str) -> list[str]:
    """Facility ids of ``category`` the planner is trying without (closures)."""
    return list(st.session_state.get(TRIAL_REMOVED, {}).get(category, []))


def removal_picker(ds: state.Dataset, category: str) -> None:
    """Multiselect of existing facilities of ``category`` to try closing."""
    from ui.widgets import labeller, seed, tr

    rows = ds.facilities[ds.facilities["category"] == category]
    ids = [str(v) for v in rows["facility_id"]]
    names = dict(zip(ids, rows["name"].astype(str), strict=True))
    key = f"trial_remove_{category}"
    picked = st.multiselect(
        tr("ui.sites.whatif.remove"),
        ids,
        format_func=labeller(lambda i: f"{names.get(i, i)} ({i})", ids),
        key=seed(key, [i for i in trial_removed(category) if i in names]),
        placeholder=tr("ui.widget.choose"),
    )
    st.session_state[TRIAL_REMOVED] = {
        **st.session_state.get(TRIAL_REMOVED, {}),
        category: list(picked),
    }


def site_edits(sites: gpd.GeoDataFrame, *, category: str) -> tuple[Any, ...]:
    """Proposed sites of a siting run as ``Edit.add`` edits."""
    from coverage.scenarios import Edit
    from ui.widgets import tr

    pts = sites.to_crs(WGS84) if sites.crs is not None else sites
    return tuple(
        Edit.add(
            category=category,
            lon=float(g.x),
            lat=float(g.y),
            name=tr("ui.sites.proposed_name", i=i),
            facility_id=f"site-{i}",
        )
        for i, g in enumerate(pts.geometry, start=1)
    )


# --------------------------------------------------------------------------------------------
# Scenarios kept in the session
# --------------------------------------------------------------------------------------------


def save(name: str, edits: Sequence[Any], *, network_edits: Sequence[Any] = ()) -> str:
    """Store a scenario under ``name`` (replacing one of that name); returns the name used."""
    from coverage.scenarios import Scenario
    from ui.widgets import tr

    name = name.strip() or tr("ui.sites.scenario_default", n=len(saved()) + 1)
    plan = Scenario(name=name, edits=tuple(edits), network_edits=tuple(network_edits))
    st.session_state[state.SCENARIOS] = {**saved(), name: plan}
    return name


def saved() -> dict[str, Any]:
    """Scenarios of this session, by name."""
    return dict(st.session_state.get(state.SCENARIOS, {}))


def delete(name: str) -> None:
    """Remove a scenario from this session."""
    st.session_state[state.SCENARIOS] = {k: v for k, v in saved().items() if k != name}


# --------------------------------------------------------------------------------------------
# Scenarios with network edits
# --------------------------------------------------------------------------------------------


def _edited_network(ds: state.Dataset, network_edits: tuple[Any, ...]) -> tuple[Any, pd.DataFrame]:
    """(network, report) of :func:`geo.network_edits.apply_network_edits` (cached, shared)."""
    net_token = dict(ds.parts).get("network", ds.key)

    def build() -> tuple[Any, pd.DataFrame]:
        from geo.network_edits import apply_network_edits

        return apply_network_edits(ds.network, list(network_edits))

    return state.cached(
        "scenario_network", (net_token, state.network_edits_token(network_edits)), build
    )


def edited_study(ds: state.Dataset, network_edits: tuple[Any, ...]) -> state.Dataset:
    """``ds`` with ``network_edits`` applied to its network (cached per network and edits).

    Raises
    ------
    geo.network_edits.NetworkEditError
        When an edit cannot be applied to this network.
    """
    if not network_edits:
        return ds
    net_token = dict(ds.parts).get("network", ds.key)
    token = state.network_edits_token(network_edits)
    network = _edited_network(ds, network_edits)[0]
    return ds.with_part("network", f"{net_token}+scn={token}", network=network)


def network_edit_report(ds: state.Dataset, network_edits: tuple[Any, ...]) -> pd.DataFrame:
    """One row per network edit of a scenario: action, name, ``length_m``… (see the core)."""
    return _edited_network(ds, network_edits)[1]


def scenario_result(ds: state.Dataset, choice: state.CriteriaChoice, scenario: Any) -> Any:
    """``ScenarioResult`` of a session scenario against the baseline ``analysis(ds, choice)``.

    Facility edits alone are applied incrementally (:func:`ui.state.scenario_result`). With
    network edits, the streets are edited first and every category is computed on them, then the
    facility edits are applied there; the result's baseline is still the session's coverage, so
    residents gained and lost are counted against what the planner sees today.
    """
    from coverage.scenarios import ScenarioResult

    edits = tuple(scenario.edits)
    net_edits = tuple(getattr(scenario, "network_edits", ()))
    if not net_edits:
        return state.scenario_result(ds, choice, edits, name=scenario.name)
    edited = edited_study(ds, net_edits)
    if edits:
        applied = state.scenario_result(edited, choice, edits, name=scenario.name)
        result, seconds = applied.result, applied.seconds
    else:
        result, seconds = state.analysis(edited, choice), 0.0
    return ScenarioResult(
        name=scenario.name,
        baseline=state.analysis(ds, choice),
        edits=edits,
        result=result,
        changed=dict.fromkeys(choice.categories, "recomputed"),
        seconds=seconds,
    )


def applied_results(
    ds: state.Dataset, choice: state.CriteriaChoice, plans: Sequence[Any]
) -> dict[str, Any]:
    """:func:`scenario_result` of each plan, by name; a plan that fails is named in a message.

    A scenario's network edits may not fit the session's streets (a scenario file of another
    district, a link whose ends are not near a street here): that plan is left out, the others
    are still compared.
    """
    from geo.messages import text
    from ui.errors import message_for

    out: dict[str, Any] = {}
    for plan in plans:
        try:
            out[plan.name] = scenario_result(ds, choice, plan)
        except state.CoverageToolError as exc:
            lang = state.lang()
            reason = message_for(exc, lang=lang)
            st.error(text("whatif.scenarios.failed", lang, name=plan.name, reason=reason))
    return out


def comparison_map(
    ds: state.Dataset, choice: state.CriteriaChoice, category: str, *, scenario: Any
) -> Any:
    """Map of one scenario (:func:`ui.maps.comparison`), on its edited streets when it has some.

    The streets, facilities and service area are the scenario's; newly covered and lost areas are
    against the session's baseline; the network edits are drawn on top.
    """
    from ui import maps

    net_edits = tuple(getattr(scenario, "network_edits", ()))
    if not net_edits:
        return maps.comparison(ds, choice, category, scenario=scenario)
    edits = tuple(scenario.edits)
    lang, base = state.lang(), maps.basemap()
    key = (
        ds.key, choice, category, lang, base, scenario.name, state.edits_token(edits),
        state.network_edits_token(net_edits),
    )  # fmt: skip

    def build() -> Any:
        from coverage.scenarios import change_areas
        from maps.layers import coverage_map, network_edit_layer
        from ui.netui import edit_lines

        edited = edited_study(ds, net_edits)
        applied = scenario_result(ds, choice, scenario)
        areas = change_areas(state.analysis(ds, choice), [applied], categories=[category])
        fmap = coverage_map(
            **maps.layers(edited, choice, category, edits=edits),
            boundary=ds.boundary,
            changes=areas,
            basemap=base,
            lang=lang,
            title=f"{ds.name(lang)} · {scenario.name}",
            subtitle=maps.subtitle(ds, choice, category, lang=lang),
        )
        report = network_edit_report(ds, net_edits)
        network_edit_layer(edit_lines(net_edits, report, ""), lang=lang, basemap=base).add_to(fmap)
        return fmap

    return state.cached("comparison_map", key, build)


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def compare_table(base: Any, applied: Sequence[Any], *, categories: Sequence[str]) -> pd.DataFrame:
    """``coverage.scenarios.compare`` with labelled columns and rates in %, for the pages."""
    from coverage.scenarios import compare
    from ui.widgets import category_name, tr

    raw = compare(base, list(applied), categories=list(categories))
    # Only the categories a scenario changes (all of them when none changes anything).
    changed = (
        (raw["n_facilities_before"] != raw["n_facilities_after"])
        | (raw["coverage_change"].abs() > 0)
        | (raw["newly_covered_population"] > 0)
        | (raw["newly_lost_population"] > 0)
    )
    if changed.any():
        raw = raw[changed].reset_index(drop=True)
    return pd.DataFrame(
        {
            tr("ui.cmp.scenario"): raw["scenario"].astype(str),
            tr("ui.cov.category"): [category_name(c) for c in raw["category"]],
            tr("ui.cmp.facilities"): [
                f"{int(a)} → {int(b)}"
                for a, b in zip(raw["n_facilities_before"], raw["n_facilities_after"], strict=True)
            ],
            tr("ui.cmp.before"): (raw["coverage_before"] * 100).round(1),
            tr("ui.cmp.after"): (raw["coverage_after"] * 100).round(1),
            tr("ui.cmp.delta"): (raw["coverage_change"] * 100).round(1),
            tr("ui.cmp.gained"): raw["newly_covered_population"].round(0),
            tr("ui.cmp.lost"): raw["newly_lost_population"].round(0),
            tr("ui.cmp.median_before"): raw["median_minutes_before"].round(1),
            tr("ui.cmp.median_after"): raw["median_minutes_after"].round(1),
        }
    )


def trial_panel(ds: state.Dataset, choice: state.CriteriaChoice, category: str) -> None:
    """Show the effect of the trial facilities of ``category`` against the baseline."""
    from ui.widgets import seed, tr

    edits = trial_edits(category)
    if not edits:
        return
    st.subheader(tr("ui.sites.whatif"))
    with st.spinner(tr("ui.cov.computing")):
        applied = state.scenario_result(ds, choice, edits, name="what-if")
        base = state.analysis(ds, choice)
    st.dataframe(
        compare_table(base, [applied], categories=[category]),
        hide_index=True,
        width="stretch",
        key="trial_table",
    )
    name = st.text_input(
        tr("ui.sites.scenario_name"), key=seed("trial_name", tr("ui.sites.whatif_default"))
    )
    b1, b2 = st.columns(2)
    if b1.button(tr("ui.sites.whatif.save"), key="trial_save"):
        used = save(name, edits)
        st.success(tr("ui.sites.saved", name=used))
    if b2.button(tr("ui.sites.whatif.clear"), key="trial_clear"):
        st.session_state[state.TRIAL_SITES] = [p for p in trial_points() if p[2] != category]
        removed = dict(st.session_state.get(TRIAL_REMOVED, {}))
        removed.pop(category, None)
        st.session_state[TRIAL_REMOVED] = removed
        st.session_state.pop(f"trial_remove_{category}", None)
        st.rerun()


def scenarios_file() -> bytes:
    """The session's scenarios as the JSON file of ``coverage.scenarios.save_scenarios``."""
    import tempfile
    from pathlib import Path

    from coverage.scenarios import save_scenarios

    with tempfile.TemporaryDirectory(prefix="lcc-scenarios-") as tmp:
        path = save_scenarios(list(saved().values()), Path(tmp) / "scenarios.json")
        return path.read_bytes()


def load_file(data: bytes) -> list[str]:
    """Add the scenarios of an uploaded JSON file to the session; returns their names."""
    import tempfile
    from pathlib import Path

    from coverage.scenarios import load_scenarios

    with tempfile.TemporaryDirectory(prefix="lcc-scenarios-") as tmp:
        path = Path(tmp) / "scenarios.json"
        path.write_bytes(data)
        loaded = load_scenarios(path)
    st.session_state[state.SCENARIOS] = {**saved(), **{s.name: s for s in loaded}}
    return [s.name for s in loaded]


def file_panel() -> None:
    """Download this session's scenarios as a file, or load scenarios from one."""
    from ui.widgets import tr

    c1, c2 = st.columns(2)
    if saved():
        c1.download_button(
            tr("ui.cmp.download"),
            data=scenarios_file(),
            file_name="scenarios.json",
            mime="application/json",
            key="cmp_download",
            on_click="ignore",
        )
    upload = c2.file_uploader(tr("ui.cmp.upload"), type=["json"], key="cmp_upload")
    if upload is not None:
        token = state.digest(upload.getvalue())
        if st.session_state.get("_cmp_loaded") != token:
            names = load_file(upload.getvalue())
            st.session_state["_cmp_loaded"] = token
            st.success(tr("ui.cmp.loaded", names="、".join(names)))
