"""选址 Sites: run a siting model, see "+N residents" per site, click the map to try a site."""

import logging

import streamlit as st

from geo.errors import ConfigError
from ui import maps, scenarios, state, tables, uploads
from ui.widgets import category_name, labeller, seed, seed_choice, show_map, tr

logger = logging.getLogger(__name__)
MODELS = ["mclp", "lscp", "pmedian", "capacitated"]
WEIGHTS = ["population", "unmet_supply"]
RUN_WEIGHT = "sites_run_weight"  # the demand weight of the run shown

ds = state.dataset()
choice = state.criteria_choice()
st.header(tr("ui.page.sites"))
if not choice.categories:
    st.info(tr("ui.cov.no_categories"))
    st.stop()

cats = options = list(choice.categories)
# Streamlit drops a page's widget values when the planner leaves it; coming back, the widgets
# are reseeded from the run still shown, so they never describe another model than the result.
shown = state.siting_run(ds, choice)
last = shown[0] if shown is not None else None
c1, c2, c3, c4 = st.columns([2, 3, 2, 2])
category = c1.selectbox(
    tr("ui.sites.category"),
    cats,
    format_func=labeller(category_name, options),
    key=seed_choice(
        "sites_category",
        last.category if last is not None else st.session_state.get(state.MAP_CATEGORY),
        cats,
    ),
)
model = c2.selectbox(
    tr("ui.sites.model"),
    MODELS,
    format_func=labeller(lambda m: tr(f"ui.sites.model.{m}"), MODELS),
    key=seed("sites_model", last.model if last is not None else "mclp"),
)
if model == "lscp":
    target = (
        c3.slider(
            tr("ui.sites.target"),
            50,
            100,
            step=1,
            format="%d%%",
            key=seed("sites_target_pct", round(last.target * 100) if last is not None else 95),
        )
        / 100.0
    )
    k = 3
else:
    k = int(
        c3.number_input(
            tr("ui.sites.k"),
            1,
            50,
            step=1,
            key=seed("sites_k", last.k if last is not None and last.model != "lscp" else 3),
        )
    )
    target = 0.95
capacity = 0.0
if model == "capacitated":
    capacity = float(
        c4.number_input(
            tr("ui.sites.capacity"),
            0.0,
            step=100.0,
            format="%.0f",
            key=seed("sites_cap", last.capacity if last is not None and last.capacity else 2000.0),
        )
    )
source = st.radio(
    tr("ui.sites.candidates"),
    ["generate", "upload", "both"],
    horizontal=True,
    format_func=labeller(lambda s: tr(f"ui.sites.cand.{s}"), ["generate", "upload", "both"]),
    key=seed("sites_cand", last.candidates if last is not None else "generate"),
)
# Demand weight: residents not yet covered, or residents weighted by the supply they lack.
# Kept beside (not inside) the run tuple, whose shape the Export page reads.
last_weight = st.session_state.get(RUN_WEIGHT, "population") if shown is not None else "population"
weight = st.radio(
    tr("ui.sites.weight"),
    WEIGHTS,
    horizontal=True,
    format_func=labeller(lambda w: tr(f"ui.sites.weight.{w}"), WEIGHTS),
    key=seed("sites_weight", last_weight),
    help=tr("ui.sites.weight.help"),
)
if weight == "unmet_supply":
    try:
        state.unmet_weights(ds, choice, category)
    except ConfigError:
        # No supply target and no capacities for this category: nothing to weight by.
        st.warning(tr("ui.sites.weight.no_target", name=category_name(category)))
        weight = "population"
uploaded = None
if source != "generate":
    uploaded = uploads.candidate_upload(category=category)

params = state.SitingParams(
    category=category, model=model, k=k, target=float(target), capacity=capacity, candidates=source
)
if st.button(tr("ui.sites.run"), type="primary", key="sites_run"):
    with st.status(tr("ui.sites.running"), expanded=False) as status:
        result = state.siting_weighted(ds, choice, params, uploaded, weight=str(weight))
        status.update(label=tr("ui.sites.result"), state="complete")
    st.session_state[state.SITING] = (params, result, ds.key, choice)
    st.session_state[RUN_WEIGHT] = str(weight)
    # Candidates missing from the result were too far from the streets (said in the message).
    st.session_state[state.SITING_CANDIDATES] = len(
        state.siting_candidates(ds, choice, params, uploaded)
    )
    if result.message:  # the core's English wording, for the log and support requests
        logger.info("siting %s/%s: %s", result.model, category, result.message)

run = state.siting_run(ds, choice)
# A run belongs to the data, the effective criteria and the category it was made for.
run_params, result = run if run is not None and run[0].category == category else (None, None)
sites = result.sites if result is not None else None
if result is not None:
    assert run_params is not None
    st.caption(tables.siting_status(result))
    n_candidates = st.session_state.get(state.SITING_CANDIDATES)
    st.info(tables.siting_message(result, n_candidates=n_candidates, target=run_params.target))

st.caption(tr("ui.sites.click_hint"))
scenarios.removal_picker(ds, category)
fmap = maps.coverage(ds, choice, category, sites=sites, edits=scenarios.trial_edits(category))
clicked = show_map(fmap, key="sites_map", returned_objects=["last_clicked"])
scenarios.take_click(clicked.get("last_clicked"), category=category)
scenarios.trial_panel(ds, choice, category)

if result is not None and run_params is not None:
    st.subheader(tr("ui.sites.result"))
    left, right = st.columns([3, 2])
    tables.show(tables.sites_table(sites), key="sites_table", where=left)
    curve = tables.curve_table(result)
    if len(curve):
        k_col, rate_col = curve.columns[0], curve.columns[1]
        right.caption(tr("ui.sites.curve"))
        right.line_chart(curve, x=k_col, y=rate_col, height=240)
        with right.expander(tr("ui.sites.curve.method")):
            st.caption(tr("ui.sites.curve.note"))
            st.dataframe(curve, hide_index=True, width="stretch", key="sites_curve")
    # Keyed on the run, so a new run proposes its own name instead of keeping the last one.
    # Named after the run shown (not the widgets, which may already describe the next run).
    default_name = tr(
        "ui.sites.scenario_from_run", model=run_params.model.upper(), k=len(result.sites)
    )
    name = st.text_input(
        tr("ui.sites.scenario_name"),
        key=seed(f"sites_scn_{run_params.model}_{len(result.sites)}", default_name),
    )
    if st.button(tr("ui.sites.save_proposed"), key="sites_save"):
        used = scenarios.save(name, scenarios.site_edits(sites, category=category))
        st.success(tr("ui.sites.saved", name=used))
