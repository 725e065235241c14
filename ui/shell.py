"""The app shell: page config, language switch, navigation, sidebar; shared by app.py and pages.

Streamlit still runs a ``pages/`` folder next to the entry script the legacy (v1) way until the
first ``st.navigation`` call of the server process (and on every AppTest run): a request for
``/coverage`` then executes ``pages/coverage.py`` alone, without the shell. Each page therefore
starts with ``if shell.standalone(): st.stop()``; when the page was run directly, that call runs the
shell instead, which registers the navigation and runs the same page inside it.
"""

from __future__ import annotations

import contextvars
import logging

import streamlit as st

from geo import settings
from ui import state
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
    ("data", "page.data", ":material/database:"),
    ("coverage", "page.coverage", ":material/map:"),
    ("gaps", "page.gaps", ":material/report:"),
    ("sites", "page.sites", ":material/add_location_alt:"),
    ("compare", "page.compare", ":material/compare:"),
    ("export", "page.export", ":material/download:"),
]

# Per script thread (each browser session runs in its own), so sessions never see each other's.
_IN_SHELL: contextvars.ContextVar[bool] = contextvars.ContextVar("lcc_in_shell", default=False)


def main() -> None:
    """Render the shell and run the selected page inside error handling."""
    token = _IN_SHELL.set(True)
    try:
        _main()
    finally:
        _IN_SHELL.reset(token)


def _main() -> None:
    st.set_page_config(page_title="十五分钟生活圈 · 15-min coverage", page_icon="🗺️", layout="wide")
    state.init()
    language_switch()
    refresh_widgets_on_language_change()
    folder = settings.project_root / "pages"
    navigation = st.navigation(
        [
            st.Page(
                folder / f"{name}.py",
                title=tr(key),
                icon=icon,
                url_path=name,
                default=name == "data",
            )
            for name, key, icon in PAGES
        ]
    )
    with guard(lang=state.lang(), context="dataset") as loaded, st.spinner(tr("data.loading")):
        dataset_badge(state.dataset())
    basemap_choice()
    if loaded.ok:
        with guard(lang=state.lang(), context=f"page {navigation.url_path}"):
            navigation.run()


def basemap_choice() -> None:
    """Sidebar choice of basemap (street network offline by default)."""
    from ui.maps import BASEMAP, BASEMAPS

    options = [b for b in BASEMAPS if b != "tianditu" or settings.tianditu_key]
    names = {
        "none": "basemap_none",
        "osm": "basemap_osm",
        "amap": "basemap_amap",
        "tianditu": "basemap_tianditu",
    }
    st.sidebar.selectbox(
        tr("map.basemap"),
        options,
        format_func=labeller(lambda b: tr(names[b]), options),
        key=BASEMAP,
    )


def standalone() -> bool:
    """Run the shell when a page was executed on its own; True means the page should stop."""
    if _IN_SHELL.get():
        return False
    main()
    return True
