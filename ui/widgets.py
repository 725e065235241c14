"""Small building blocks the pages share: labels, the language switch, tables and the map."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd
import streamlit as st

from maps.i18n import criterion_column, t
from ui import state

logger = logging.getLogger(__name__)

MAP_HEIGHT = 640


def tr(key: str, **fmt: Any) -> str:
    """Interface text for ``key`` in the session language.

    ``key`` is a catalogue code (``"ui.data.rows"``, ``"maps.layer_gaps"``; pre-catalogue keys are
    mapped by :func:`maps.i18n.code_of`). Unknown keys come back as the key itself, so a missing
    label is visible but harmless.
    """
    return t(key, state.lang(), **fmt)


def category_name(key: str) -> str:
    """Name of a taxonomy category in the session language."""
    from geo.taxonomy import categories

    cat = categories().get(key)
    if cat is None:
        return key
    return cat.name(state.lang())


def language_switch() -> str:
    """Sidebar radio switching the interface language; returns "zh" or "en".

    The radio writes straight into the session's language key, and it is drawn before any label
    of the run, so the whole page follows the choice without a second rerun.
    """
    choice = st.sidebar.radio(
        # One label in both languages: a label change would make it a new widget.
        "语言 / Language",
        ["zh", "en"],
        index=1 if state.lang() == "en" else 0,
        format_func=lambda v: "中文" if v == "zh" else "English",
        horizontal=True,
        key=state.LANG,
    )
    return str(choice)


def dataset_badge(ds: state.Dataset) -> None:
    """Sidebar summary of the session's data, with the synthetic warning when it applies."""
    st.sidebar.markdown(f"**{tr('ui.app.dataset')}**: {ds.name(state.lang())}")
    if ds.synthetic:
        st.sidebar.warning(tr("ui.app.synthetic_badge"))
    if ds.attribution:
        st.sidebar.caption(tr("ui.data.attribution", text=ds.attribution))


def dataset_summary(ds: state.Dataset) -> str:
    """One line with the size of the dataset."""
    pop = float(pd.to_numeric(ds.demand.get("population"), errors="coerce").sum())
    return tr(
        "ui.data.summary",
        nodes=ds.network.n_nodes,
        edges=ds.network.n_edges,
        facilities=len(ds.facilities),
        demand=len(ds.demand),
        pop=pop,
    )


def kpi_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The KPI table shown to planners from ``CoverageResult.summary`` (rates in %)."""
    lang = state.lang()
    name_col = "name_zh" if lang == "zh" else "name_en"
    out = pd.DataFrame(
        {
            tr("ui.cov.category"): summary[name_col].astype(str),
            tr("ui.cov.criterion_col"): summary[criterion_column(summary, lang)].astype(str),
            tr("ui.cov.facilities"): summary["n_facilities"].astype(int),
            tr("ui.cov.rate"): (summary["coverage_rate"] * 100).round(1),
            tr("ui.cov.rate_reachable"): (summary["coverage_rate_reachable"] * 100).round(1),
            tr("ui.cov.covered"): summary["covered_population"].round(0).astype("int64"),
            tr("ui.cov.uncovered"): summary["uncovered_population"].round(0).astype("int64"),
            tr("ui.cov.elderly_rate"): (summary["elderly_coverage_rate"] * 100).round(1),
            tr("ui.cov.median"): summary["median_minutes"].round(1),
            tr("ui.cov.p85"): summary["p85_minutes"].round(1),
            tr("ui.cov.buffer"): (summary["buffer_coverage_rate"] * 100).round(1),
            tr("ui.cov.off_network"): summary["off_network_population"].round(0).astype("int64"),
            tr("ui.cov.status"): summary["status"].astype(str),
        }
    )
    return out


def show_map(
    fmap: Any,
    *,
    key: str,
    returned_objects: list[str] | None = None,
    center: tuple[float, float] | None = None,
    zoom: int | None = None,
    height: int = MAP_HEIGHT,
) -> dict[str, Any]:
    """Show a folium map without rerunning the script on pans and zooms.

    Only the objects in ``returned_objects`` (none by default) trigger a rerun; ``center`` and
    ``zoom`` move the existing map instead of rebuilding it.
    """
    import copy

    from streamlit_folium import st_folium

    out = st_folium(
        # st_folium rewrites the map's structure while rendering it; the maps are cached and
        # shared, so it gets a copy (about 20 ms on the demo).
        copy.deepcopy(fmap),
        key=key,
        height=height,
        use_container_width=True,
        returned_objects=returned_objects or [],
        center=center,
        zoom=zoom,
    )
    return out or {}


def seed(key: str, value: Any) -> str:
    """Give widget ``key`` its value from the session's settings when Streamlit has dropped it.

    Streamlit forgets a widget's value when its page is not shown; the pages keep the real
    settings in :mod:`ui.state` and reseed the widgets from them, so switching pages keeps
    choices without passing ``value=`` and ``key=`` together.
    """
    if key not in st.session_state:
        st.session_state[key] = value
    return key


def seed_choice(key: str, value: Any, options: list[Any]) -> str:
    """Like :func:`seed` for a selectbox or radio, limited to ``options``.

    Falls back to the first option when the stored value is not among ``options`` (the
    categories changed, for instance).
    """
    if st.session_state.get(key) not in options:
        st.session_state[key] = value if value in options else options[0]
    return key


def kpi_metrics(summary: pd.DataFrame, category: str) -> None:
    """Headline numbers of one category (both rates, covered, uncovered, median, P85).

    An invalid category (``status`` not "ok") gets an error banner above its numbers.
    """
    rows = summary[summary["category"] == category]
    if rows.empty:
        return
    row = rows.iloc[0]
    if str(row.get("status", "ok")) != "ok":
        name = row["name_zh"] if state.lang() == "zh" else row["name_en"]
        st.error(tr("ui.cov.invalid", name=name, status=row["status"]))
    cols = st.columns(6)
    cols[0].metric(tr("ui.cov.rate"), f"{row['coverage_rate']:.1%}")
    cols[1].metric(tr("ui.cov.covered"), f"{row['covered_population']:,.0f}")
    cols[2].metric(tr("ui.cov.uncovered"), f"{row['uncovered_population']:,.0f}")
    cols[3].metric(tr("ui.cov.median"), f"{row['median_minutes']:.1f}")
    cols[4].metric(tr("ui.cov.p85"), f"{row['p85_minutes']:.1f}")
    # Beside the plain rate's row, not inside it: existing readers find the first five in place.
    cols[5].metric(tr("ui.cov.rate_reachable"), f"{row['coverage_rate_reachable']:.1%}")


def labeller(fn: Callable[[Any], str], options: Iterable[Any]) -> Callable[[Any], str]:
    """A ``format_func`` with the labels worked out now, in this run's language.

    Streamlit may call ``format_func`` outside the script run (AppTest does), where the session
    language cannot be read; precomputed labels also keep the widget stable within a run.
    """
    table = {o: fn(o) for o in options}
    return lambda o: table.get(o, str(o))


def profile_label(profile: str) -> str:
    """Label of a speed profile ("" = each category's own)."""
    from geo import settings

    if not profile:
        return tr("ui.cov.crit.default")
    names = (
        settings.speed_profile_names_zh if state.lang() == "zh" else settings.speed_profile_names_en
    )
    return f"{names.get(profile, profile)} {settings.speed_profiles[profile]:g} m/s"


def refresh_widgets_on_language_change() -> None:
    """Resend every widget value after a language switch.

    The browser keeps a choice widget's value as its displayed label, so after a switch it
    would no longer match any option. Assigning each stored value again (before the widgets of
    this run are drawn) makes Streamlit send it with the new labels. Buttons, uploads and table
    selections cannot be assigned and are skipped.
    """
    lang = state.lang()
    previous = st.session_state.get("_lang_prev")
    st.session_state["_lang_prev"] = lang
    if previous is None or previous == lang:
        return
    for key in list(st.session_state.keys()):
        if not isinstance(key, str) or key.startswith("_") or key in (state.LANG,):
            continue
        if key.startswith(WIDGET_PREFIXES):
            value = st.session_state[key]
            if isinstance(value, bool | dict) or not isinstance(value, str | int | float | list):
                continue
            st.session_state[key] = value


#: Prefixes of the keys of language-dependent widgets (see :func:`seed`).
WIDGET_PREFIXES = (
    "cov_", "gaps_", "sites_", "cmp_", "exp_", "data_", "fac_", "dem_", "trial_", "basemap",
)  # fmt: skip
