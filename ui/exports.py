"""Meeting exports for the Export page: build the files once, then offer download buttons.

Files are produced by ``maps.export_*`` from the same frames as the map on screen
(:func:`ui.maps.layers`). Building happens on a button press with a progress display; the bytes
are kept per session (keyed on what they depend on) so reruns do not rebuild them. A format that
fails shows its message and leaves the others available.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

import geopandas as gpd
import streamlit as st

from ui import maps, state
from ui.errors import message_for
from ui.widgets import tr

logger = logging.getLogger(__name__)

FILES = "export_files"

#: Format → (label key, file suffix, MIME type).
FORMATS: dict[str, tuple[str, str, str]] = {
    "html": ("exp.html", "html", "text/html"),
    "png": ("exp.png", "png", "image/png"),
    "xlsx": (
        "exp.xlsx",
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "gpkg": ("exp.gpkg", "gpkg", "application/geopackage+sqlite3"),
    "pdf": ("exp.pdf", "pdf", "application/pdf"),
    "pptx": (
        "exp.pptx",
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
        return cls(ds, choice, category, title.strip() or tr("app.title"), state.lang(), sites)

    @cached_property
    def tables(self) -> dict[str, Any]:
        """Summary, communities, gaps of every category and sites (see :func:`_build_tables`)."""
        return _build_tables(self)

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
        return f"coverage_{self.category}_{date.today().isoformat()}_{self.lang}"

    def footer(self) -> str:
        """Data sources, parameters and date stamped on the outputs."""
        crit = self.choice.criteria()[self.category].label(self.lang)
        parts = [self.ds.name(self.lang), crit, date.today().isoformat()]
        if self.ds.synthetic:
            from maps.i18n import t

            parts.append(t("synthetic_stamp", self.lang))
        if self.ds.attribution:
            parts.append(self.ds.attribution)
        return " · ".join(parts)

    def parameters(self) -> dict[str, Any]:
        """Run parameters for the workbook and the report, labelled in the bundle's language."""
        from geo.taxonomy import get_category
        from maps.i18n import t

        out: dict[str, Any] = {}
        for key, crit in self.choice.criteria().items():
            out[get_category(key).name(self.lang)] = crit.label(self.lang)
        out[t("param_basemap", self.lang)] = maps.basemap()
        out[t("param_data", self.lang)] = self.ds.name(self.lang)
        out[t("param_date", self.lang)] = date.today().isoformat()
        run = st.session_state.get(state.SITING)
        if self.sites is not None and run is not None:
            params = run[0]
            out[t("param_siting", self.lang)] = (
                f"{get_category(params.category).name(self.lang)} · {params.model.upper()}"
                + (f" · k={params.k}" if params.model != "lscp" else f" · {params.target:.0%}")
            )
        return out

    def sources(self) -> list[str]:
        """Data sources with their attribution (e.g. © OpenStreetMap contributors, ODbL)."""
        out = list(self.ds.sources)
        if self.ds.attribution and self.ds.attribution not in out:
            out.append(self.ds.attribution)
        return out


def _build_html(b: Bundle) -> bytes:
    from maps.export_html import standalone_map_html

    return standalone_map_html(
        **maps.layers(b.ds, b.choice, b.category, show_gaps=True, sites=b.sites),
        basemap=maps.basemap(),
        lang=b.lang,
        title=b.title,
        subtitle=maps.subtitle(b.ds, b.choice, b.category),
    )


def _build_png(b: Bundle) -> bytes:
    from maps.export_static import render_map_png

    frames = maps.layers(b.ds, b.choice, b.category, show_gaps=True, sites=b.sites)
    return render_map_png(
        **frames,
        title=b.title,
        subtitle=maps.subtitle(b.ds, b.choice, b.category, lang=b.lang),
        footer=b.footer(),
        lang=b.lang,
    )


def _tables(b: Bundle) -> dict[str, Any]:
    """The workbook's and reports' tables, built once per bundle (four formats use them)."""
    return b.tables


def _build_tables(b: Bundle) -> dict[str, Any]:
    result = state.analysis(b.ds, b.choice)
    communities = None
    try:
        from coverage.completeness import completeness

        _points, communities = completeness(result, categories=list(b.choice.categories))
    except Exception:
        logger.exception("completeness table failed; exporting without it")
    gaps = [state.gaps(b.ds, b.choice, c) for c in b.choice.categories]
    import pandas as pd

    all_gaps = gpd.GeoDataFrame(pd.concat(gaps, ignore_index=True), crs="EPSG:4326")
    return {
        "summary": result.summary,
        "communities": communities,
        "gaps": all_gaps,
        "sites": b.sites,
    }


def _build_xlsx(b: Bundle) -> bytes:
    from maps.export_tables import write_xlsx

    return write_xlsx(
        None, **_tables(b), parameters=b.parameters(), sources=b.sources(), lang=b.lang
    )


def _build_gpkg(b: Bundle) -> bytes:
    from maps.export_tables import gpkg_bytes

    frames = maps.layers(b.ds, b.choice, b.category, show_gaps=True, sites=b.sites)
    frames.pop("categories")
    # The GeoPackage is for GIS work: every kind of service area, as the CLI writes them, the
    # demand points with their per-category results and the gaps of every category.
    frames["service_areas"] = state.service_areas(
        b.ds, b.choice, b.category, kinds=("facility", "dissolved", "nearest")
    )
    frames["gaps"] = _tables(b)["gaps"]
    result = state.analysis(b.ds, b.choice)
    frames["demand"] = gpd.GeoDataFrame(result.demand, geometry="geometry").to_crs("EPSG:4326")
    return gpkg_bytes(**frames, boundary=b.ds.boundary)


def _build_report(b: Bundle, fmt: str, png: bytes | None = None) -> bytes:
    from maps.export_report import report_pdf, report_pptx

    build = report_pdf if fmt == "pdf" else report_pptx
    return build(
        None,
        **_tables(b),
        png=png if png is not None else _build_png(b),
        parameters=b.parameters(),
        sources=b.sources(),
        title=b.title,
        area=b.ds.name(b.lang),
        synthetic=b.ds.synthetic,
        lang=b.lang,
    )


BUILDERS: dict[str, Callable[[Bundle], bytes]] = {
    "html": _build_html,
    "png": _build_png,
    "xlsx": _build_xlsx,
    "gpkg": _build_gpkg,
    "pdf": lambda b: _build_report(b, "pdf"),
    "pptx": lambda b: _build_report(b, "pptx"),
}


def build_all(bundle: Bundle) -> dict[str, bytes | str]:
    """Build every format with a progress display; a value is the file or the error message."""
    out: dict[str, bytes | str] = {}
    with st.status(tr("exp.prepare"), expanded=False) as status:
        bar = st.progress(0.0)
        for i, fmt in enumerate(FORMATS, start=1):
            what = tr(FORMATS[fmt][0])
            status.update(label=tr("exp.preparing", what=what))
            try:
                png = out.get("png")
                if fmt in ("pdf", "pptx") and isinstance(png, bytes):
                    # The reports embed the PNG just made; do not draw it again.
                    out[fmt] = _build_report(bundle, fmt, png)
                else:
                    out[fmt] = BUILDERS[fmt](bundle)
            except Exception as exc:
                if not isinstance(exc, ModuleNotFoundError):
                    logger.exception("export %s failed", fmt)
                out[fmt] = tr("exp.failed", what=what, error=message_for(exc, lang=bundle.lang))
            bar.progress(i / len(FORMATS))
        status.update(label=tr("exp.ready"), state="complete")
    return out


def files(bundle: Bundle) -> dict[str, bytes | str] | None:
    """Files built for exactly this bundle in this session, or None."""
    stored = st.session_state.get(FILES)
    if stored is None or stored[0] != bundle.key:
        return None
    return stored[1]


def export_panel(bundle: Bundle) -> None:
    """The prepare button and, once built, one download button per format."""
    if st.button(tr("exp.prepare"), type="primary", key="exp_prepare"):
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
