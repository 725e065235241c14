"""缺口 Gaps: the ranked gap list linked to the map (select a gap, the map goes there)."""

import streamlit as st

from ui import maps, state, tables
from ui.widgets import category_name, labeller, seed_choice, show_map, tr

ds = state.dataset()
choice = state.criteria_choice()
st.header(tr("ui.page.gaps"))
if not choice.categories:
    st.info(tr("ui.cov.no_categories"))
    st.stop()

options = list(choice.categories)
category = st.selectbox(
    tr("ui.gaps.category"),
    options,
    format_func=labeller(category_name, options),
    key=seed_choice("gaps_category", st.session_state.get(state.MAP_CATEGORY), options),
)
st.session_state[state.MAP_CATEGORY] = category
with st.spinner(tr("ui.cov.computing")):
    gaps = state.gaps(ds, choice, category)
if gaps.empty:
    st.success(tr("ui.gaps.none"))
    st.stop()

st.subheader(tr("ui.gaps.list"))
gap_rows = tables.gap_table(gaps)
event = st.dataframe(
    gap_rows,
    column_config=tables.number_formats(gap_rows),
    hide_index=True,
    width="stretch",
    key="gaps_table",
    on_select="rerun",
    selection_mode="single-row",
)
rows = [r for r in (event.selection.rows if event is not None else []) if r < len(gaps)]
center, zoom, selected = None, None, None
if rows:
    selected = gaps.iloc[rows[0]]
    center, zoom = maps.focus(selected.geometry)
    st.info(
        tr(
            "ui.gaps.selected",
            rank=int(selected["rank"]),
            pop=float(selected["uncovered_population"]),
        )
    )
with st.spinner(tr("ui.cov.computing")):
    fmap = maps.coverage(ds, choice, category, show_gaps=True)
show_map(fmap, key="gaps_map", center=center, zoom=zoom)
