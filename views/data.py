"""数据 Data: the study area and network, facilities (upload, mapping, CRS) and demand."""

import streamlit as st

from ui import netui, state, uploads
from ui.errors import guard
from ui.widgets import dataset_summary, tr

st.header(tr("ui.page.data"))
uploads.show_flash()
ds = state.dataset()
st.success(tr("ui.data.loaded", label=ds.name(state.lang())))
st.caption(dataset_summary(ds))
if ds.synthetic:
    st.warning(tr("ui.app.synthetic_badge"))

# Each section has its own error box, so a bad facility file does not hide the demand section.
with guard(lang=state.lang(), context="network section"):
    uploads.network_section()
st.divider()
with guard(lang=state.lang(), context="facility section"):
    uploads.facility_section()
st.divider()
with guard(lang=state.lang(), context="demand section"):
    uploads.demand_section()
st.divider()
netui.project_panel()
