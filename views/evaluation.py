"""评估 Evaluation: the living circle judged against the standards.

The tier matrix (categories × 5/10/15-minute tiers, each cell the coverage rate at the tier's
threshold with the standard's label), the elderly and children rates, basic/quality compliance by
community (table and map), the least-served communities with what each lacks, and supply per
1,000 residents against the targets. The tables are the exports' (``maps.export_tables``), so the
page reads like the workbook and the report.
"""

import pandas as pd
import streamlit as st

from maps.export_format import fmt_value, is_rate
from maps.export_tables import (
    compliance_ranked,
    rate_background,
    subgroup_rates,
    supply_judged,
    tier_matrix,
)
from maps.i18n import heading, t
from ui import state, tables
from ui.widgets import show_map, tr

ds = state.dataset()
choice = state.criteria_choice()
lang = state.lang()
st.header(tr("ui.page.evaluation"))
if not choice.categories:
    st.info(tr("ui.cov.no_categories"))
    st.stop()

with st.spinner(tr("ui.cov.computing")):
    ev = state.evaluation(ds, choice)


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """Column headers in the session language (the exports' wording), rates as "37.2%"."""
    out = frame.copy()
    for col in out.columns:
        if is_rate(str(col)):
            out[col] = [fmt_value(str(col), v) for v in out[col]]
    return out.rename(columns={c: heading(c, lang) for c in out.columns})


# 1. Tier matrix ---------------------------------------------------------------------------------
st.subheader(tr("ui.eval.matrix"))
rates, cells = tier_matrix(ev["tiers"], lang=lang)
if cells.empty:
    st.info(tr("ui.eval.no_tiers"))
else:
    styled = cells.style.apply(lambda _frame: rates.map(rate_background), axis=None)
    st.dataframe(styled, width="stretch", key="eval_matrix")
    st.caption(t("maps.eval_labels_note", lang))

# 2. Subgroups -----------------------------------------------------------------------------------
st.subheader(tr("ui.eval.subgroups"))
sub = subgroup_rates(ev["tiers"], lang=lang)
if len(sub):
    tables.show(labelled(sub), key="eval_subgroups")
    st.caption(tr("ui.eval.subgroups.note"))

# 3. Compliance by community ---------------------------------------------------------------------
st.subheader(tr("ui.eval.compliance"))
summary = ev["compliance_summary"]
if len(summary) and int(summary.iloc[0]["n_groups"]) > 0:
    row = summary.iloc[0]
    c1, c2, c3 = st.columns(3)
    c1.metric(tr("ui.eval.n_compliant"), f"{int(row['n_compliant'])} / {int(row['n_groups'])}")
    c2.metric(tr("ui.eval.resident_share"), f"{float(row['resident_share']):.1%}")
    c3.metric(tr("ui.eval.items"), f"{int(row['n_basic'])} + {int(row['n_quality'])}")
ranked = compliance_ranked(ev["least_served"], ev["compliance"], lang=lang)
if ranked.empty:
    st.info(tr("ui.eval.no_communities"))
else:
    if ds.communities is not None and len(ds.communities):
        import folium

        yes = t("maps.eval_compliant_yes", lang)
        polys = ds.communities[["community", "geometry"]].merge(ranked, on="community", how="inner")

        def build() -> folium.Map:
            """The communities coloured 达标 / 不达标, fitted to the district."""
            bounds = polys.total_bounds
            fmap = folium.Map(tiles=None, control_scale=True)
            fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
            folium.GeoJson(
                polys.to_crs("EPSG:4326").to_json(default=str),
                name=tr("ui.eval.compliance"),
                style_function=lambda f: {
                    "fillColor": "#1a9850" if f["properties"]["compliant"] == yes else "#d73027",
                    "color": "#444444",
                    "weight": 1,
                    "fillOpacity": 0.55,
                },
                tooltip=folium.GeoJsonTooltip(
                    fields=["community", "compliant", "lacks"],
                    aliases=[
                        t("maps.community", lang),
                        t("maps.compliant", lang),
                        t("maps.lacks", lang),
                    ],
                ),
            ).add_to(fmap)
            return fmap

        fmap = state.cached("eval_map", (ds.key, choice, lang), build)
        st.caption(tr("ui.eval.map_legend"))
        show_map(fmap, key="eval_map", height=420)
    st.subheader(tr("ui.eval.least_served"))
    tables.show(labelled(ranked), key="eval_ranked")

# 4. Supply per 1,000 ----------------------------------------------------------------------------
st.subheader(tr("ui.eval.supply"))
district = supply_judged(ev["supply"], lang=lang, district_only=True)
if district.empty:
    st.info(tr("ui.eval.no_supply"))
else:
    tables.show(labelled(district), key="eval_supply")
    with st.expander(tr("ui.eval.supply.by_community")):
        everyone = supply_judged(ev["supply"], lang=lang)
        st.dataframe(labelled(everyone), hide_index=True, width="stretch", key="eval_supply_all")
