"""The meeting export bundle, built the same way by the app's Export page and the CLI.

:class:`ExportInputs` holds everything the six files depend on (map frames, tables, parameters,
sources, title, language); :func:`build_exports` turns it into file bytes and
:func:`write_exports` into files. ``ui.exports`` fills the inputs from the session (and caches the
bytes); ``cli.py run --report`` fills them from a :class:`study.pipeline.RunResult`
(:func:`inputs_from_run`). Neither path formats anything itself, so the XLSX written by the CLI
equals the one downloaded from the app for the same data and criteria.

No Streamlit here (maps may import folium, not streamlit).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo.errors import ConfigError
from geo.messages import msg
from maps.export_format import in_language
from maps.i18n import t

__all__ = [
    "BUILDERS",
    "FORMATS",
    "REPORT_FORMATS",
    "ExportInputs",
    "build_exports",
    "build_one",
    "build_xlsx",
    "export_footer",
    "export_parameters",
    "export_sources",
    "inputs_from_run",
    "parse_formats",
    "report_formats",
    "siting_label",
    "stem",
    "write_exports",
    "write_run_reports",
]

if TYPE_CHECKING:  # pandas/geopandas load lazily: ``cli.py`` imports this module for --help
    import geopandas as gpd
    import pandas as pd

logger = logging.getLogger(__name__)

WGS84 = "EPSG:4326"

#: Every format in build order, with its file suffix; ``--report all`` means the first five
#: (the GeoPackage is the CLI's own ``results.gpkg``).
FORMATS: tuple[str, ...] = ("html", "png", "xlsx", "gpkg", "pdf", "pptx")
REPORT_FORMATS: tuple[str, ...] = ("html", "png", "xlsx", "pdf", "pptx")


@dataclass(frozen=True, eq=False)
class ExportInputs:
    """What the meeting exports show.

    Attributes
    ----------
    map_layers
        Keyword arguments of :func:`maps.layers.coverage_map` for the chosen category:
        ``facilities, demand, service_areas, gaps, sites, network_edges, categories, water``.
    summary, communities, gaps, sites
        Tables of the workbook and reports (``gaps``: every category's gaps).
    parameters
        Labelled run parameters (:func:`export_parameters`).
    sources
        Data sources in the export's language (:func:`export_sources`).
    title, subtitle, footer, area
        Texts stamped on the map and reports.
    synthetic
        The data is the synthetic demo.
    lang
        ``"zh"`` or ``"en"``.
    basemap
        Basemap of the HTML map ("none" = street network only).
    gpkg_layers
        Layers of the GeoPackage (:func:`maps.export_tables.write_gpkg` arguments).
    evaluation
        The living-circle evaluation (``RunResult.evaluation``: ``tiers``, ``supply``,
        ``compliance``, ``least_served``); the workbook and the reports get their evaluation
        sheets and chapter from it. ``None`` leaves them out.
    network_edits
        Report of the network what-ifs in use (:func:`geo.network_edits.apply_network_edits`):
        listed in the reports and the workbook (:mod:`maps.export_edits`). ``None``: none.
    """

    map_layers: dict[str, Any]
    summary: pd.DataFrame
    communities: pd.DataFrame | None
    gaps: gpd.GeoDataFrame | None
    sites: gpd.GeoDataFrame | None
    parameters: dict[str, Any]
    sources: list[str]
    title: str
    subtitle: str
    footer: str
    area: str
    synthetic: bool
    lang: str = "zh"
    basemap: str = "none"
    gpkg_layers: dict[str, Any] = field(default_factory=dict)
    evaluation: Mapping[str, Any] | None = None
    network_edits: pd.DataFrame | None = None


def siting_label(
    *, category: str, model: str, k: int | None, target: float | None, lang: str
) -> str:
    """The siting run in one line: "老年食堂/助餐点 · MCLP · k=3"."""
    from geo.taxonomy import get_category

    tail = f" · k={k}" if model != "lscp" else f" · {float(target or 0):.0%}"
    return f"{get_category(category).name(lang)} · {model.upper()}{tail}"


def export_parameters(
    *,
    criteria: Mapping[str, Any],
    lang: str,
    basemap: str,
    data_name: str,
    day: dt.date | None = None,
    siting: str | None = None,
) -> dict[str, Any]:
    """Run parameters labelled in ``lang`` (the workbook's and the reports' parameter table).

    Parameters
    ----------
    criteria
        Criterion per category key (``geo.taxonomy.Criterion``).
    lang
        Language of labels and values.
    basemap
        Basemap key; shown by its name ("路网底图（离线）"), never the key.
    data_name
        Name of the data set / study area.
    day
        Export date; today by default.
    siting
        :func:`siting_label` of the siting run shown, if any.
    """
    from geo.taxonomy import get_category

    out: dict[str, Any] = {}
    for key, crit in criteria.items():
        out[get_category(key).name(lang)] = crit.label(lang)
    out[t("maps.param_basemap", lang)] = t(f"maps.basemap_{basemap}", lang)
    out[t("maps.param_data", lang)] = data_name
    out[t("maps.param_date", lang)] = (day or dt.date.today()).isoformat()
    if siting:
        out[t("maps.param_siting", lang)] = siting
    return out


def export_sources(sources: Iterable[str], attribution: str, *, lang: str) -> list[str]:
    """Data sources for people: no internal tokens, one line each, in ``lang``.

    ``demo:<name>`` (the app's cache token of a demo) is not a source a reader can look up: the
    demo's attribution says what the data is, so the token is dropped when there is one and named
    otherwise. Bilingual attributions keep the ``lang`` half only.
    """
    out: list[str] = []
    for s in sources:
        s = str(s)
        if s.startswith("demo:"):
            if attribution:
                continue
            s = t("maps.synthetic_demo", lang)
        if s and s not in out:
            out.append(s)
    if attribution:
        text = in_language(attribution, lang)
        if text not in out:
            out.append(text)
    return out


def export_footer(
    *, area: str, criterion: str, synthetic: bool, sources: Sequence[str], lang: str,
    day: dt.date | None = None,
) -> str:  # fmt: skip
    """Data sources, criterion and date stamped under the map image."""
    parts = [area, criterion, (day or dt.date.today()).isoformat()]
    if synthetic:
        parts.append(t("maps.synthetic_stamp", lang))
    parts += [s for s in sources if s not in parts]
    return " · ".join(p for p in parts if p)


def stem(category: str, lang: str, day: dt.date | None = None) -> str:
    """File name stem, e.g. ``coverage_elderly_canteen_2026-11-24_zh``."""
    return f"coverage_{category}_{(day or dt.date.today()).isoformat()}_{lang}"


# --- builders -----------------------------------------------------------------------------------


def build_html(inp: ExportInputs) -> bytes:
    """The standalone HTML map."""
    from maps.export_html import standalone_map_html

    return standalone_map_html(
        **inp.map_layers, basemap=inp.basemap, lang=inp.lang, title=inp.title,
        subtitle=inp.subtitle,
    )  # fmt: skip


def build_png(inp: ExportInputs) -> bytes:
    """The static map image (legend, scale bar, north arrow, footer)."""
    from maps.export_static import render_map_png

    return render_map_png(
        **inp.map_layers, title=inp.title, subtitle=inp.subtitle, footer=inp.footer,
        lang=inp.lang,
    )  # fmt: skip


def build_xlsx(inp: ExportInputs) -> bytes:
    """The meeting workbook."""
    from maps.export_tables import write_xlsx

    return write_xlsx(
        None, summary=inp.summary, communities=inp.communities, gaps=inp.gaps, sites=inp.sites,
        parameters=inp.parameters, sources=inp.sources, lang=inp.lang,
        evaluation=inp.evaluation, network_edits=inp.network_edits,
    )  # fmt: skip


def build_gpkg(inp: ExportInputs) -> bytes:
    """Every layer for GIS work."""
    from maps.export_tables import gpkg_bytes

    return gpkg_bytes(**inp.gpkg_layers)


def build_report(inp: ExportInputs, fmt: str, png: bytes | None = None) -> bytes:
    """The PDF (``fmt="pdf"``) or PPTX report, embedding ``png`` (drawn when not given)."""
    from maps.export_report import report_pdf, report_pptx

    build = report_pdf if fmt == "pdf" else report_pptx
    return build(
        None, summary=inp.summary, communities=inp.communities, gaps=inp.gaps, sites=inp.sites,
        png=png if png is not None else build_png(inp), parameters=inp.parameters,
        sources=inp.sources, title=inp.title, area=inp.area, synthetic=inp.synthetic,
        lang=inp.lang, evaluation=inp.evaluation, network_edits=inp.network_edits,
    )  # fmt: skip


BUILDERS: dict[str, Callable[[ExportInputs], bytes]] = {
    "html": build_html,
    "png": build_png,
    "xlsx": build_xlsx,
    "gpkg": build_gpkg,
    "pdf": lambda inp: build_report(inp, "pdf"),
    "pptx": lambda inp: build_report(inp, "pptx"),
}


def build_one(inp: ExportInputs, fmt: str, built: Mapping[str, Any]) -> bytes:
    """One format; the reports reuse a PNG already in ``built`` instead of drawing it again."""
    png = built.get("png")
    if fmt in ("pdf", "pptx") and isinstance(png, bytes):
        return build_report(inp, fmt, png)
    return BUILDERS[fmt](inp)


def parse_formats(text: str) -> list[str]:
    """``"html,png"`` or ``"all"`` → formats in build order.

    Raises
    ------
    ConfigError
        An unknown format name.
    """
    wanted = {w.strip().lower() for w in str(text).split(",") if w.strip()}
    if "all" in wanted:
        wanted = (wanted - {"all"}) | set(REPORT_FORMATS)
    unknown = sorted(wanted - set(FORMATS))
    if unknown or not wanted:
        raise ConfigError(
            msg("maps.export_bundle.unknown_formats", unknown=unknown or [text],
                formats=", ".join(FORMATS))
        )  # fmt: skip
    return [f for f in FORMATS if f in wanted]


def report_formats(text: str) -> list[str]:
    """:func:`parse_formats` as an argparse ``type``: a wrong name stops before the run starts."""
    import argparse

    try:
        return parse_formats(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_exports(inp: ExportInputs, formats: Iterable[str]) -> dict[str, bytes]:
    """Build the given formats (PNG first when a report needs it)."""
    out: dict[str, bytes] = {}
    for fmt in [f for f in FORMATS if f in set(formats)]:
        out[fmt] = build_one(inp, fmt, out)
    return out


def write_exports(
    inp: ExportInputs, out_dir: str | Path, *, formats: Iterable[str], category: str
) -> dict[str, Path]:
    """Build ``formats`` and write them as ``<stem>.<fmt>`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    name = stem(category, inp.lang)
    for fmt, data in build_exports(inp, formats).items():
        path = out / f"{name}.{fmt}"
        path.write_bytes(data)
        written[f"report_{fmt}"] = path
    return written


# --- from a headless run ------------------------------------------------------------------------


def inputs_from_run(
    res: Any, *, lang: str = "zh", category: str | None = None, basemap: str = "none"
) -> ExportInputs:
    """The export inputs of a :class:`study.pipeline.RunResult` (what ``--report`` writes).

    Parameters
    ----------
    res
        The run.
    lang
        Language of the exports.
    category
        Category of the map; the siting category, else the first analysed one.
    basemap
        Basemap of the HTML map.
    """
    import geopandas as gpd

    cov = res.coverage
    cats = list(cov.summary["category"].astype(str))
    sit = res.config.siting
    if category is None:
        category = sit["category"] if sit and sit["category"] in cats else cats[0]
    area, water, sources = _run_area(res, lang)
    area = area or res.config.title or t("maps.app_title", lang)
    sources = export_sources(sources, res.attribution, lang=lang)
    crit = cov.criteria[category]
    sites = None
    siting = None
    if res.siting is not None and sit is not None:
        sites = res.siting.sites
        siting = siting_label(category=sit["category"], model=sit["model"], k=sit.get("k"),
                              target=sit.get("target"), lang=lang)  # fmt: skip
    map_sites = _map_sites(sites, category, sit)
    areas = res.service_areas
    edges = res.network.edges_gdf(to_crs=WGS84)[["length", "geometry"]]
    gaps_all = res.gaps
    cat_gaps = None
    if gaps_all is not None:
        cat_gaps = gaps_all[gaps_all["category"].astype(str) == category]
    map_areas = None
    if areas is not None:
        map_areas = areas[
            (areas["category"].astype(str) == category) & (areas["threshold_m"] == crit.threshold_m)
        ]
    map_layers = {
        "facilities": cov.facilities.drop(columns=["snapped", "snap_distance_m"], errors="ignore"),
        "demand": cov.demand[["demand_id", "population", "geometry"]],
        "service_areas": map_areas,
        "gaps": cat_gaps,
        "sites": map_sites,
        "network_edges": edges,
        "categories": [category],
        "water": water,
    }
    title = res.config.title or t("maps.app_title", lang)
    subtitle = crit.label(lang) + (f" · {t('maps.synthetic_demo', lang)}" if res.synthetic else "")
    demand = gpd.GeoDataFrame(cov.demand, geometry="geometry").to_crs(WGS84)
    return ExportInputs(
        map_layers=map_layers,
        summary=cov.summary,
        communities=res.community_table,
        gaps=gaps_all,
        sites=sites,
        parameters=export_parameters(
            criteria=cov.criteria, lang=lang, basemap=basemap, data_name=area, siting=siting
        ),
        sources=sources,
        title=title,
        subtitle=subtitle,
        footer=export_footer(
            area=area,
            criterion=crit.label(lang),
            synthetic=res.synthetic,
            sources=sources,
            lang=lang,
        ),
        area=area,
        synthetic=bool(res.synthetic),
        lang=lang,
        basemap=basemap,
        evaluation=getattr(res, "evaluation", None) or None,
        network_edits=getattr(getattr(res, "study", None), "network_edits", None),
        gpkg_layers={
            "facilities": map_layers["facilities"],
            "demand": demand,
            "service_areas": areas,
            "gaps": gaps_all,
            "sites": sites,
            "network_edges": edges,
            "water": water,
        },
    )


def _run_area(res: Any, lang: str) -> tuple[str, Any, list[str]]:
    """The run's area name, its water layer (demo runs) and its data sources (file names)."""
    area, water, sources = res.label, None, []
    if res.config.demo:
        # The run's study carries the demo's names and river (maps/ sits below the service).
        study = res.study
        area = study.name(lang)
        water = study.water
        sources = [f"demo:{res.config.demo}"]
    else:
        sources = [
            Path(str(f.get("file"))).name if f.get("file") else "OpenStreetMap"
            for f in res.config.facilities
        ]
        if res.config.demand.get("file"):
            sources.append(Path(str(res.config.demand["file"])).name)
    return area, water, sources


def _map_sites(sites: Any, category: str, sit: Mapping[str, Any] | None) -> Any:
    """The proposed sites to draw on the map of ``category`` (WGS-84, named), or None."""
    if sites is None or not len(sites) or sit is None or sit["category"] != category:
        return None
    map_sites = sites.to_crs(WGS84) if sites.crs is not None else sites
    if "category" not in map_sites:
        map_sites = map_sites.assign(category=category)
    if "name" not in map_sites:
        map_sites = map_sites.assign(name=[f"#{i}" for i in range(1, len(map_sites) + 1)])
    return map_sites


def write_run_reports(
    res: Any, out_dir: str | Path, *, formats: str | Sequence[str], lang: str = "zh"
) -> dict[str, Path]:
    """``cli.py run --report FORMATS --lang LANG``: the Export page's files of a headless run.

    Parameters
    ----------
    res
        The run (:class:`study.pipeline.RunResult`).
    out_dir
        Output folder.
    formats
        Comma-separated formats or ``"all"`` (:func:`parse_formats`), or a list of formats.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    dict
        ``report_<fmt>`` to the file written.
    """
    wanted = parse_formats(formats if isinstance(formats, str) else ",".join(formats))
    inputs = inputs_from_run(res, lang=lang)
    return write_exports(
        inputs, out_dir, formats=wanted, category=inputs.map_layers["categories"][0]
    )
