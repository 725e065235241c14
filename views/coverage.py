"""覆盖 Coverage: categories and criteria, the KPI table and the coverage map."""

import streamlit as st

from geo import settings
from geo.taxonomy import categories
from maps.export_tables import rate_background, tier_matrix
from ui import maps, netui, state, tables
from ui.widgets import (
    category_name,
    kpi_metrics,
    kpi_table,
    labeller,
    profile_label,
    seed,
    seed_choice,
    tr,
)

ds = state.dataset()
old = state.criteria_choice()
st.header(tr("ui.page.coverage"))

c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
cats = c1.multiselect(
    tr("ui.cov.categories"),
    list(categories()),
    format_func=labeller(category_name, categories()),
    key=seed("cov_categories", list(old.categories)),
    placeholder=tr("ui.widget.choose"),
)
# Chips overflow the box when many categories are picked; the count stays readable.
c1.caption(tr("ui.cov.selected", n=len(cats), total=len(categories())))
kind = c2.radio(
    tr("ui.cov.criterion"),
    ["default", "minutes", "metres"],
    format_func=labeller(lambda k: tr(f"ui.cov.crit.{k}"), ["default", "minutes", "metres"]),
    key=seed("cov_kind", old.kind),
)
minutes: float = old.minutes
metres: float = old.metres
if kind == "minutes":
    minutes = c3.select_slider(
        tr("ui.cov.minutes"),
        list(settings.living_circle_minutes),
        key=seed("cov_minutes", int(old.minutes)),
    )
else:
    metres = c3.number_input(
        tr("ui.cov.metres"),
        min_value=100.0,
        max_value=20_000.0,
        step=100.0,
        format="%.0f",
        key=seed("cov_metres", old.metres),
        disabled=kind != "metres",
    )
profile = c4.selectbox(
    tr("ui.cov.profile"),
    ["", *settings.speed_profiles],
    format_func=labeller(profile_label, ["", *settings.speed_profiles]),
    key=seed("cov_profile", old.profile),
    # A distance criterion does not depend on speed (it only converts minutes for display).
    disabled=kind == "metres",
    help=tr("ui.cov.profile.help"),
)
if not cats:
    st.info(tr("ui.cov.no_categories"))
    st.stop()

choice = state.CriteriaChoice(
    categories=tuple(k for k in categories() if k in cats),
    kind=str(kind),
    minutes=float(minutes),
    metres=float(metres),
    profile=str(profile),
)
state.set_criteria_choice(choice)
with st.spinner(tr("ui.cov.computing")):
    result = state.analysis(ds, choice)

category = st.selectbox(
    tr("ui.cov.map_category"),
    list(choice.categories),
    format_func=labeller(category_name, choice.categories),
    key=seed_choice(
        "cov_map_category", st.session_state.get(state.MAP_CATEGORY), list(choice.categories)
    ),
)
st.session_state[state.MAP_CATEGORY] = category
if len(result.summary):
    first = result.summary.iloc[0]
    if float(first["off_network_share"]) > settings.off_network_warn_share:
        st.warning(
            tr(
                "ui.cov.off_network_warning",
                share=float(first["off_network_share"]),
                pop=float(first["off_network_population"]),
                tol=float(result.tolerance_m),
            )
        )
kpi_metrics(result.summary, category)
with st.spinner(tr("ui.cov.computing")):
    fmap = maps.coverage(ds, choice, category)
    tier_rows = state.tiers(ds, choice)
map_col, tier_col = st.columns([3, 1])
# --- Issue 13: "what can I reach from here?" and network what-ifs (own block) ---
query = netui.current_answer(ds, choice)
with map_col:
    clicked = maps.show_with_layers(
        fmap, netui.map_layers(query), key="cov_map", line_tool=True,
        returned_objects=[*netui.CLICK_KEYS, *netui.DRAWING_KEYS],
    )  # fmt: skip
netui.take_drawing(clicked)
netui.take_click(clicked)
# The tier matrix beside the map, compact: rates only (the Evaluation page has the thresholds and
# the standards' labels).
rates, _cells = tier_matrix(tier_rows, lang=state.lang())
if not rates.empty:
    tier_col.caption(tr("ui.eval.matrix"))
    # A static table: the KPI table stays the page's (first) interactive one.
    tier_col.table(rates.style.format(lambda v: "" if v != v else f"{v:.0%}").map(rate_background))
netui.query_panel(query)
with st.expander(netui.t("net.title"), expanded=netui.panel_open()):
    netui.edits_panel()
# --- end issue 13 block ---

st.subheader(tr("ui.cov.kpi"))
tables.show(kpi_table(result.summary), key="cov_kpi")
st.caption(tr("ui.cov.buffer_note"))
if len(result.unsnapped):
    with st.expander(tr("ui.cov.unsnapped", n=len(result.unsnapped))):
        st.dataframe(tables.unsnapped_table(result.unsnapped, ds.facilities), hide_index=True)
