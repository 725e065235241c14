"""方案比较 Compare: scenarios side by side, delta tables, newly covered and lost residents."""

import streamlit as st

from ui import netui, scenarios, state, tables
from ui.widgets import category_name, labeller, seed_choice, show_map, tr

ds = state.dataset()
choice = state.criteria_choice()
st.header(tr("ui.page.compare"))
scenarios.file_panel()
plans = scenarios.saved()
if not plans or not choice.categories:
    st.info(tr("ui.cmp.none"))
    st.stop()

# Keep the picked scenarios that still exist and add the ones saved or loaded since last time.
known = st.session_state.get("_cmp_known", set())
previous = st.session_state.get("cmp_pick", st.session_state.get("_cmp_picked", []))
picked = [n for n in previous if n in plans]
st.session_state["cmp_pick"] = picked + [n for n in plans if n not in known and n not in picked]
st.session_state["_cmp_known"] = set(plans)
names = st.multiselect(
    tr("ui.cmp.pick"), list(plans), key="cmp_pick", placeholder=tr("ui.widget.choose")
)
st.session_state["_cmp_picked"] = list(names)  # survives leaving the page
if not names:
    st.info(tr("ui.cmp.pick_one"))
    st.stop()
with st.spinner(tr("ui.cov.computing")):
    base = state.analysis(ds, choice)
    # Scenarios with network edits are computed on their edited streets; one that cannot be
    # computed here (edits for another district's streets) is named in a message and left out.
    results = scenarios.applied_results(ds, choice, [plans[n] for n in names])
names = [n for n in names if n in results]
if not names:
    st.stop()
applied = [results[n] for n in names]
st.subheader(tr("ui.cmp.table"))
tables.show(scenarios.compare_table(base, applied, categories=choice.categories), key="cmp_table")

st.subheader(tr("ui.cmp.areas"))
c1, c2 = st.columns(2)
name = c1.selectbox(tr("ui.cmp.scenario"), names, key=seed_choice("cmp_one", names[0], names))
options = list(choice.categories)
category = c2.selectbox(
    tr("ui.cov.map_category"),
    options,
    format_func=labeller(category_name, options),
    key=seed_choice("cmp_category", st.session_state.get(state.MAP_CATEGORY), options),
)
with st.spinner(tr("ui.cov.computing")):
    fmap = scenarios.comparison_map(ds, choice, category, scenario=plans[name])
show_map(fmap, key="cmp_map")
netui.scenario_edits_panel(ds, plans[name])
if st.button(tr("ui.cmp.delete"), key="cmp_delete"):
    scenarios.delete(name)
    st.rerun()
