"""导出 Export: downloads for meetings (HTML map, PNG, XLSX, GeoPackage, PDF/PPTX)."""

import streamlit as st

from ui import exports, state
from ui.widgets import category_name, labeller, seed, seed_choice, tr

ds = state.dataset()
choice = state.criteria_choice()
st.header(tr("ui.page.export"))
if not choice.categories:
    st.info(tr("ui.cov.no_categories"))
    st.stop()

options = list(choice.categories)
c1, c2 = st.columns([3, 2])
# One title field per language, so switching the language gives a title in that language
# (a title the planner typed stays with the language it was typed in).
title = c1.text_input(
    tr("ui.exp.title"),
    key=seed(f"exp_title_{state.lang()}", f"{ds.name(state.lang())} · {tr('ui.app.title')}"),
)
category = c2.selectbox(
    tr("ui.cov.map_category"),
    options,
    format_func=labeller(category_name, options),
    key=seed_choice("exp_category", st.session_state.get(state.MAP_CATEGORY), options),
)
exports.export_panel(exports.Bundle.of(ds, choice, category=category, title=title))
