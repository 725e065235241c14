"""The app shell: page config, language switch, navigation, sidebar; run by app.py.

The pages live in ``views/`` and are registered with ``st.navigation``/``st.Page``. The folder is
deliberately not called ``pages/``: Streamlit treats a ``pages/`` folder next to the entry script
as a legacy multipage app and ran its files alone (without this shell) until the first
``st.navigation`` call.
"""

from __future__ import annotations

import logging

import streamlit as st

from geo import settings
from ui import state, warmup
from ui.errors import guard
from ui.widgets import (
    dataset_badge,
    labeller,
    language_switch,
    refresh_widgets_on_language_change,
    tr,
)

logger = logging.getLogger(__name__)

PAGES = [
    ("data", "ui.page.data", ":material/database:"),
    ("coverage", "ui.page.coverage", ":material/map:"),
    ("gaps", "ui.page.gaps", ":material/report:"),
    ("sites", "ui.page.sites", ":material/add_location_alt:"),
    ("evaluation", "ui.page.evaluation", ":material/fact_check:"),
    ("compare", "ui.page.compare", ":material/compare:"),
    ("export", "ui.page.export", ":material/download:"),
]


def main() -> None:
    """Render the shell and run the selected page inside error handling."""
    st.set_page_config(page_title="十五分钟生活圈 · 15-min coverage", page_icon="🗺️", layout="wide")
    state.init()
    language_switch()
    refresh_widgets_on_language_change()
    navigation = st.navigation(pages())
    with guard(lang=state.lang(), context="dataset") as loaded, st.spinner(tr("ui.data.loading")):
        dataset_badge(state.dataset())
    basemap_choice()
    if loaded.ok:
        choice = state.criteria_choice()
        first = st.session_state.get(state.MAP_CATEGORY) or next(iter(choice.categories), "")
        warmup.start(state.dataset(), choice, category=first, lang=state.lang())
    if loaded.ok:
        with guard(lang=state.lang(), context=f"page {navigation.url_path}"):
            navigation.run()


def pages() -> list[st.Page]:
    """The app's pages over ``views/``; the first (data) is the default, served at ``/``.

    The default page's public address is the root, so ``/data`` (an address the app used to
    have) is kept as a hidden page that forwards to the root instead of "Page not found".
    """
    folder = settings.project_root / "views"
    listed = [
        st.Page(
            folder / f"{name}.py",
            title=tr(key),
            icon=icon,
            # The default page is served at "/"; its internal path must differ from the alias's.
            url_path="home" if name == "data" else name,
            default=name == "data",
        )
        for name, key, icon in PAGES
    ]
    home = listed[0]

    def to_home() -> None:
        st.switch_page(home)

    alias = st.Page(to_home, title=tr("ui.page.data"), url_path="data", visibility="hidden")
    return [*listed, alias]


def basemap_choice() -> None:
    """Sidebar choice of basemap (street network offline by default)."""
    from ui.maps import BASEMAP, BASEMAPS

    options = [b for b in BASEMAPS if b != "tianditu" or settings.tianditu_key]
    names = {
        "none": "maps.basemap_none",
        "osm": "maps.basemap_osm",
        "amap": "maps.basemap_amap",
        "tianditu": "maps.basemap_tianditu",
    }
    st.sidebar.selectbox(
        tr("ui.map.basemap"),
        options,
        format_func=labeller(lambda b: tr(names[b]), options),
        key=BASEMAP,
    )
