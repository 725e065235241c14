"""数据 Data: the study area and network, facilities (upload, mapping, CRS) and demand."""

import streamlit as st

from ui import state, uploads
from ui.widgets import dataset_summary, tr

st.header(tr("page.data"))
ds = state.dataset()
st.success(tr("data.loaded", label=ds.name(state.lang())))
st.caption(dataset_summary(ds))
if ds.synthetic:
    st.warning(tr("app.synthetic_badge"))

uploads.network_section()
st.divider()
uploads.facility_section()
st.divider()
uploads.demand_section()
