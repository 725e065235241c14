"""Meeting exports for the Export page: build the files once, then offer download buttons.

Files are built by :mod:`maps.export_bundle` (the same functions ``cli.py run --report`` uses) from
the same frames as the map on screen (:func:`ui.maps.layers`); this module only gathers the
session's inputs and keeps the bytes. Building happens on a button press with a progress
display; the bytes are kept per session (keyed on what they depend on) so reruns do not rebuild
them. A format that fails shows its message and leaves the others available.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st

from maps import export_bundle
from maps.export_bundle import ExportInputs
from ui import maps, state
from ui.errors import message_for
from ui.widgets import tr

logger = logging.getLogger(__name__)

FILES = "export_files"

#: Format → (label key, file suffix, MIME type).
FORMATS: dict[str, tuple[str, str, str]] = {
    "html": ("ui.exp.html", "html", "text/html"),
    "png": ("ui.exp.png", "png", "image/png"),
    "xlsx": (
        "ui.exp.xlsx",
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "gpkg": ("ui.exp.gpkg", "gpkg", "application/geopackage+sqlite3"),
    "pdf": ("ui.exp.pdf", "pdf", "application/pdf"),
    "pptx": (
        "ui.exp.pptx",
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
}


@dataclass(frozen=True, eq=False)
class Bundle:
    """Everything an export depends on."""

    ds: state.Dataset
    choice: state.CriteriaChoice
    category: str
    title: str
    lang: str
    sites: gpd.GeoDataFrame | None

    @classmethod
    def of(
        cls, ds: state.Dataset, choice: state.CriteriaChoice, *, category: str, title: str
    ) -> Bundle:
        """The bundle of the session's current data, criteria and last siting run."""
        run = st.session_state.get(state.SITING)
        sites = None
        if run is not None and run[0].category == category and run[2:] == (ds.key, choice):
            sites = run[1].sites
        return cls(ds, choice, category, title.strip() or tr("ui.app.title"), state.lang(), sites)

    @cached_property
    def inputs(self) -> ExportInputs:
        """The export inputs (:class:`maps.export_bundle.ExportInputs`), built once per bundle."""
        return _inputs(self)

    @property
    def key(self) -> tuple[Any, ...]:
        """What the files depend on (used to keep built files across reruns)."""
        return (
            self.ds.key,
            self.choice,
            self.category,
            self.title,
            self.lang,
            maps.basemap(),
            maps.sites_key(self.sites),
        )

    @property
    def stem(self) -> str:
        """File name stem, e.g. ``coverage_elderly_canteen_2026-11-24_zh``."""
        return export_bundle.stem(self.category, self.lang)


def _siting(b: Bundle) -> str | None:
    run = st.session_state.get(state.SITING)
    if b.sites is None or run is None:
        return None
    params = run[0]
    return export_bundle.siting_label(
        category=params.category, model=params.model, k=params.k, target=params.target,
        lang=b.lang,
    )  # fmt: skip


def _inputs(b: Bundle) -> ExportInputs:
    """The session's frames as export inputs; the files themselves are built in maps/."""
    ds, choice, lang = b.ds, b.choice, b.lang
    result = state.analysis(ds, choice)
    communities = None
    try:
        from study.service import completeness

        _points, communities = completeness(result, choice)
    except Exception:
        logger.exception("completeness table failed; exporting without it")
    all_gaps = gpd.GeoDataFrame(
        pd.concat([state.gaps(ds, choice, c) for c in choice.categories], ignore_index=True),
        crs="EPSG:4326",
    )
    frames = maps.layers(ds, choice, b.category, show_gaps=True, sites=b.sites)
    area = ds.name(lang)
    sources = export_bundle.export_sources(ds.sources, ds.attribution, lang=lang)
    crit = choice.criteria()[b.category].label(lang)
    gpkg = {k: v for k, v in frames.items() if k != "categories"}
    # The GeoPackage is for GIS work: every kind of service area, as the CLI writes them, the
    # demand points with their per-category results and the gaps of every category.
    gpkg["service_areas"] = state.service_areas(
        ds, choice, b.category, kinds=("facility", "dissolved", "nearest")
    )
    gpkg["gaps"] = all_gaps
    gpkg["demand"] = gpd.GeoDataFrame(result.demand, geometry="geometry").to_crs("EPSG:4326")
    gpkg["boundary"] = ds.boundary
    return ExportInputs(
        map_layers=frames,
        summary=result.summary,
        communities=communities,
        gaps=all_gaps,
        sites=b.sites,
        parameters=export_bundle.export_parameters(
            criteria=choice.criteria(),
            lang=lang,
            basemap=maps.basemap(),
            data_name=area,
            siting=_siting(b),
        ),
        sources=sources,
        title=b.title,
        subtitle=maps.subtitle(ds, choice, b.category, lang=lang),
        footer=export_bundle.export_footer(
            area=area, criterion=crit, synthetic=ds.synthetic, sources=sources, lang=lang
        ),
        area=area,
        synthetic=ds.synthetic,
        lang=lang,
        basemap=maps.basemap(),
        gpkg_layers=gpkg,
        evaluation=state.evaluation(ds, choice),
        network_edits=state.network_edit_report(),
    )


def build_all(bundle: Bundle) -> dict[str, bytes | str]:
    """Build every format with a progress display; a value is the file or the error message."""
    out: dict[str, bytes | str] = {}
    with st.status(tr("ui.exp.prepare"), expanded=False) as status:
        bar = st.progress(0.0)
        for i, fmt in enumerate(FORMATS, start=1):
            what = tr(FORMATS[fmt][0])
            status.update(label=tr("ui.exp.preparing", what=what))
            try:
                # The reports embed the PNG just made; it is not drawn again.
                out[fmt] = export_bundle.build_one(bundle.inputs, fmt, out)
            except Exception as exc:
                if not isinstance(exc, ModuleNotFoundError):
                    logger.exception("export %s failed", fmt)
                out[fmt] = tr("ui.exp.failed", what=what, error=message_for(exc, lang=bundle.lang))
            bar.progress(i / len(FORMATS))
        status.update(label=tr("ui.exp.ready"), state="complete")
    return out


def files(bundle: Bundle) -> dict[str, bytes | str] | None:
    """Files built for exactly this bundle in this session, or None."""
    stored = st.session_state.get(FILES)
    if stored is None or stored[0] != bundle.key:
        return None
    return stored[1]


def export_panel(bundle: Bundle) -> None:
    """The prepare button and, once built, one download button per format."""
    if st.button(tr("ui.exp.prepare"), type="primary", key="exp_prepare"):
        st.session_state[FILES] = (bundle.key, build_all(bundle))
    built = files(bundle)
    if built is None:
        return
    cols = st.columns(3)
    for i, (fmt, value) in enumerate(built.items()):
        label_key, suffix, mime = FORMATS[fmt]
        with cols[i % 3]:
            if isinstance(value, bytes):
                st.download_button(
                    f"{tr(label_key)} ({len(value) / 1024:,.0f} KB)",
                    data=value,
                    file_name=f"{bundle.stem}.{suffix}",
                    mime=mime,
                    key=f"exp_dl_{fmt}",
                    on_click="ignore",
                    width="stretch",
                )
            else:
                st.warning(value)
