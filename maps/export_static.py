"""A PNG of the coverage map for slides and print, drawn with matplotlib (no browser needed).

The street network is the base (no tiles, so it works offline and has no licence questions),
with service areas, gaps, facilities and proposed sites on top, a title, legend, scale bar in
metres (the map is drawn in the local UTM projection, so the bar is true) and a north arrow.
Chinese labels use an installed CJK font; with none, the labels switch to English and a warning
is logged, so the image never shows tofu boxes.
"""

from __future__ import annotations

import io
import itertools
import logging
import math
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib import colormaps, font_manager, patheffects
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.colors import Normalize, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch, Rectangle
from matplotlib.path import Path as MplPath

from geo.taxonomy import Category
from maps.export_format import fmt_count
from maps.i18n import t
from maps.layers import (
    SITE_COLOR,
    WATER_FILL,
    WATER_STROKE,
    _category_list,
    _check_frame,
    _pick_service_area_kind,
)

__all__ = [
    "CJK_FONT_FAMILIES",
    "find_cjk_font",
    "footer_lines",
    "gap_classes",
    "render_map_png",
]

logger = logging.getLogger(__name__)

#: A white outline around map labels, so they stay readable on dark gap fills.
HALO = [patheffects.withStroke(linewidth=2.5, foreground="white")]

#: CJK font families tried in order (Linux, Windows, macOS names).
CJK_FONT_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
    "Noto Sans CJK JP",
    "Noto Serif CJK SC",
)


@cache
def find_cjk_font() -> str | None:
    """The first installed CJK font family of :data:`CJK_FONT_FAMILIES`, or ``None``."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FONT_FAMILIES:
        if family in installed:
            return family
    return None


def _polygon_path(geom: shapely.Geometry) -> MplPath | None:
    # One compound path per (multi)polygon; exterior counter-clockwise and holes clockwise so
    # matplotlib's non-zero fill leaves the holes empty.
    parts = []
    for poly in shapely.get_parts(geom):
        if not isinstance(poly, shapely.Polygon) or poly.is_empty:
            continue
        poly = shapely.geometry.polygon.orient(poly, 1.0)
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords)[:, :2]
            codes = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
            codes[0], codes[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
            parts.append(MplPath(xy, codes))
    return MplPath.make_compound_path(*parts) if parts else None


def _add_polygons(ax: Axes, geoms: Sequence[shapely.Geometry], **style: object) -> None:
    patches = [PathPatch(p) for g in geoms if (p := _polygon_path(g)) is not None]
    if patches:
        ax.add_collection(PatchCollection(patches, match_original=False, **style))


def _nice_length(width_m: float) -> float:
    target = width_m * 0.2
    base = 10 ** math.floor(math.log10(target))
    return max(m * base for m in (1, 2, 5) if m * base <= target)


def render_map_png(
    *,
    facilities: gpd.GeoDataFrame,
    service_areas: gpd.GeoDataFrame | None = None,
    gaps: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | pd.DataFrame | None = None,
    network_edges: gpd.GeoDataFrame | None = None,
    demand: gpd.GeoDataFrame | None = None,
    water: gpd.GeoDataFrame | None = None,
    categories: Sequence[str] | None = None,
    title: str | None = None,
    subtitle: str = "",
    footer: str = "",
    lang: str = "zh",
    size_in: tuple[float, float] = (10.0, 8.0),
    dpi: int = 150,
    path: str | Path | None = None,
) -> bytes:
    """Draw the coverage map as a PNG.

    Parameters
    ----------
    facilities, service_areas, gaps, sites, network_edges, demand
        The frames of CONTRACTS.md (any CRS; drawn in the local UTM zone). Only ``facilities``
        is required.
    water
        Rivers and lakes (lines or polygons) drawn light blue under everything, so a reader sees
        why walks detour to the bridges.
    categories
        Category keys to draw; all present in ``facilities`` by default.
    title
        Title at the top; "覆盖分析图"/"Coverage map" by default.
    subtitle
        A smaller line under the title (criterion, "合成示范数据"...).
    footer
        Small text at the bottom (data sources, parameters, date).
    lang
        ``"zh"`` or ``"en"``; falls back to English when no CJK font is installed.
    size_in, dpi
        Figure size in inches and resolution: the PNG is ``size_in * dpi`` pixels.
    path
        Also write the PNG there when given.

    Returns
    -------
    bytes
        The PNG file.
    """
    _check_frame(facilities, "facilities", ["category", "name"])
    family = find_cjk_font()
    if lang == "zh" and family is None:
        logger.warning(
            "no CJK font found (tried %s); the PNG uses English labels", CJK_FONT_FAMILIES
        )
        lang = "en"
    fonts = [family] if family else []
    fonts.append("DejaVu Sans")

    def ok(text: str) -> str:
        # Without a CJK font, user-supplied Chinese text would render as boxes: drop it.
        return text if family or text.isascii() else ""

    cats = _category_list(facilities, categories)
    proj = _projector(facilities, network_edges)
    fig = Figure(figsize=size_in, dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.06, 0.96, 0.86))
    ax.set_axis_off()
    ax.set_aspect("equal")
    text_kw: dict[str, Any] = {"fontfamily": fonts}
    handles: list[object] = [
        *_draw_water(ax, proj(water), lang),
        *_draw_network(ax, proj(network_edges), lang),
        *_draw_demand(ax, proj(demand), lang),
        *_draw_service_areas(ax, proj(service_areas), cats, lang),
        *_draw_gaps(ax, proj(gaps), lang, text_kw),
        *_draw_facilities(ax, proj(facilities), cats, lang, text_kw, glyphs=family is not None),
        *_draw_sites(ax, proj(_sites_frame(sites)), lang, text_kw),
    ]
    _frame_and_legend(ax, handles, lang, fonts, text_kw)
    _titles(fig, ax, ok(title or "") or t("maps.report_map", lang), ok(subtitle),
            ok(footer) if footer else None, text_kw)  # fmt: skip
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    data = buf.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data


def _projector(
    facilities: gpd.GeoDataFrame, network_edges: gpd.GeoDataFrame | None
) -> Callable[[gpd.GeoDataFrame | None], gpd.GeoDataFrame | None]:
    """A function putting any frame in the local UTM zone (None for missing or empty frames)."""
    crs = facilities.to_crs("EPSG:4326").estimate_utm_crs() if not facilities.empty else None
    if crs is None and network_edges is not None:
        crs = network_edges.to_crs("EPSG:4326").estimate_utm_crs()

    def proj(gdf: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
        if gdf is None or len(gdf) == 0:
            return None
        g = gdf if gdf.crs is not None else gdf.set_crs("EPSG:4326")
        return g.to_crs(crs) if crs is not None else g

    return proj


def _draw_water(ax: Axes, wat: gpd.GeoDataFrame | None, lang: str) -> list[object]:
    """Rivers (lines) and lakes (polygons) under everything; their legend handle."""
    if wat is None:
        return []
    polys = wat[wat.geom_type.isin(["Polygon", "MultiPolygon"])].geometry.values
    lines_w = wat[~wat.geom_type.isin(["Polygon", "MultiPolygon"])].geometry.values
    _add_polygons(ax, polys, facecolor=WATER_FILL, edgecolor=WATER_STROKE, alpha=0.8,
                  linewidth=0.6, zorder=0.5)  # fmt: skip
    parts = [np.asarray(g.coords)[:, :2] for g in shapely.get_parts(lines_w)]
    if parts:
        ax.add_collection(LineCollection(parts, colors=WATER_STROKE, linewidths=3, zorder=0.5))
    return [Patch(facecolor=WATER_FILL, edgecolor=WATER_STROKE, label=t("maps.legend_water", lang))]


def _draw_network(ax: Axes, edges: gpd.GeoDataFrame | None, lang: str) -> list[object]:
    """The streets in light grey; their legend handle."""
    if edges is None:
        return []
    lines = [np.asarray(g.coords)[:, :2] for g in shapely.get_parts(edges.geometry.values)]
    ax.add_collection(LineCollection(lines, colors="#b0b0b0", linewidths=0.6, zorder=1))
    return [Line2D([], [], color="#b0b0b0", lw=1, label=t("maps.legend_network", lang))]


def _draw_demand(ax: Axes, dem: gpd.GeoDataFrame | None, lang: str) -> list[object]:
    """Residents as grey dots sized by population; their legend handle."""
    if dem is None:
        return []
    xy = shapely.get_coordinates(dem.geometry.representative_point().values)
    pop = dem["population"].to_numpy(dtype="float64")
    size = 2 + 18 * np.sqrt(np.clip(pop, 0, None) / max(float(np.nanmax(pop)), 1.0))
    ax.scatter(xy[:, 0], xy[:, 1], s=size, c="#636363", alpha=0.35, lw=0, zorder=2)
    return [
        Line2D([], [], ls="", marker="o", color="#636363", alpha=0.5,
               label=t("maps.legend_demand_points", lang))
    ]  # fmt: skip


def _draw_service_areas(
    ax: Axes, sa: gpd.GeoDataFrame | None, cats: Sequence[Category], lang: str
) -> list[object]:
    """Service-area rings, the widest first; one legend swatch per category and threshold."""
    if sa is None:
        return []
    sa = sa[sa["category"].astype(str).isin([c.key for c in cats])]
    thresholds = sorted(sa["threshold_m"].unique())
    for cat in cats:
        rows = _pick_service_area_kind(sa[sa["category"] == cat.key])
        for thr in reversed(thresholds):
            geoms = rows.loc[rows["threshold_m"] == thr].geometry.values
            i = thresholds.index(thr)
            alpha = 0.30 * (1.0 - i / (len(thresholds) + 1))
            _add_polygons(ax, geoms, facecolor=cat.color, edgecolor=cat.color,
                          alpha=alpha, linewidth=0.6, zorder=3)  # fmt: skip
    handles: list[object] = []
    for cat in cats:
        # The swatch is the colour drawn: the category's, at the ring's opacity.
        for i, thr in enumerate(thresholds):
            rows_t = sa.loc[(sa["threshold_m"] == thr) & (sa["category"] == cat.key)]
            if rows_t.empty:
                continue
            minutes = rows_t["minutes"].iloc[0]
            label = t("maps.metres_short", lang, m=float(thr))
            if pd.notna(minutes):
                label = f"{t('maps.minutes_short', lang, m=round(float(minutes), 1))} ({label})"
            prefix = t("maps.threshold", lang) if len(cats) == 1 else cat.name(lang)
            alpha = 0.30 * (1.0 - i / (len(thresholds) + 1))
            handles.append(
                Patch(facecolor=to_rgba(cat.color, alpha), edgecolor=cat.color,
                      linewidth=0.6, label=f"{prefix} {label}")
            )  # fmt: skip
    return handles


def _draw_gaps(
    ax: Axes, gp: gpd.GeoDataFrame | None, lang: str, text_kw: dict[str, Any]
) -> list[object]:
    """Gaps coloured by uncovered residents, the ten largest labelled; the ramp's classes."""
    if gp is None:
        return []
    values = gp["uncovered_population"].to_numpy(dtype="float64")
    cmap = colormaps["YlOrRd"]
    norm = Normalize(0.0, max(float(values.max()), 1.0))
    for geom, v in zip(gp.geometry.values, values, strict=True):
        _add_polygons(ax, [geom], facecolor=cmap(norm(v)), edgecolor="#7f0000",
                      alpha=0.75, linewidth=0.8, zorder=4)  # fmt: skip
    for rec in gp.sort_values("uncovered_population", ascending=False).head(10).itertuples():
        c = rec.geometry.representative_point()
        ax.text(c.x, c.y, f"{rec.uncovered_population:,.0f}", ha="center", va="center",
                fontsize=7, color="#4d0000", zorder=7, path_effects=HALO,
                **text_kw)  # fmt: skip
    # The ramp's classes, each swatch in the colour a gap of that size is drawn with.
    handles: list[object] = [
        Patch(facecolor="none", edgecolor="none", label=t("maps.legend_gaps", lang))
    ]
    for lo, hi in gap_classes(float(values.max())):
        handles.append(
            Patch(facecolor=to_rgba(cmap(norm((lo + hi) / 2)), 0.75), edgecolor="#7f0000",
                  linewidth=0.6, label=f"{fmt_count(lo)}–{fmt_count(hi)}")
        )  # fmt: skip
    return handles


def _draw_facilities(
    ax: Axes,
    fac: gpd.GeoDataFrame | None,
    cats: Sequence[Category],
    lang: str,
    text_kw: dict[str, Any],
    *,
    glyphs: bool,
) -> list[object]:
    """Facilities as category-coloured dots (with the category glyph when a CJK font exists)."""
    if fac is None:
        return []
    handles: list[object] = []
    for cat in cats:
        rows = fac[fac["category"].astype(str) == cat.key]
        if rows.empty:
            continue
        ax.scatter(rows.geometry.x, rows.geometry.y, s=110, c=cat.color, edgecolors="white",
                   linewidths=1.0, zorder=5)  # fmt: skip
        if glyphs:
            for x, y in zip(rows.geometry.x, rows.geometry.y, strict=True):
                ax.text(x, y, cat.glyph, ha="center", va="center", fontsize=7, color="white",
                        zorder=6, fontweight="bold", **text_kw)  # fmt: skip
        handles.append(
            Line2D([], [], ls="", marker="o", ms=9, mfc=cat.color, mec="white",
                   label=cat.name(lang))
        )  # fmt: skip
    return handles


def _draw_sites(
    ax: Axes, st: gpd.GeoDataFrame | None, lang: str, text_kw: dict[str, Any]
) -> list[object]:
    """Proposed sites as stars labelled with the residents they add."""
    if st is None:
        return []
    ax.scatter(st.geometry.x, st.geometry.y, s=220, marker="*", c=SITE_COLOR,
               edgecolors="white", linewidths=0.8, zorder=8)  # fmt: skip
    for rec in st.itertuples():
        label = t("maps.site_label", lang, n=float(getattr(rec, "added_population", 0.0) or 0.0))
        ax.annotate(label, (rec.geometry.x, rec.geometry.y), xytext=(6, 6),
                    textcoords="offset points", fontsize=8, color=SITE_COLOR, zorder=9,
                    fontweight="bold", path_effects=HALO, **text_kw)  # fmt: skip
    return [
        Line2D([], [], ls="", marker="*", ms=12, color=SITE_COLOR,
               label=t("maps.legend_sites", lang))
    ]  # fmt: skip


def _frame_and_legend(
    ax: Axes, handles: list[object], lang: str, fonts: list[str], text_kw: dict[str, Any]
) -> None:
    """Pad the view around what is drawn; add the scale bar, north arrow and legend."""
    ax.autoscale_view()
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    pad = 0.03 * max(x1 - x0, y1 - y0, 1.0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    _scale_bar(ax, lang, text_kw)
    _north_arrow(ax, lang, text_kw)
    if handles:
        ax.legend(handles=handles, loc="lower right", fontsize=8, framealpha=0.9,
                  title=t("maps.legend_title", lang), prop={"family": fonts, "size": 8},
                  title_fontproperties={"family": fonts, "size": 9, "weight": "bold"})  # fmt: skip


def _titles(
    fig: Figure, ax: Axes, title: str, subtitle: str, footer: str | None, text_kw: dict[str, Any]
) -> None:
    """Title, subtitle and the wrapped footer (the map moves up to make room for it)."""
    fig.text(0.5, 0.962, title, ha="center", va="center", fontsize=15, fontweight="bold",
             **text_kw)  # fmt: skip
    if subtitle:
        fig.text(0.5, 0.928, subtitle, ha="center", va="center", fontsize=10,
                 color="#444444", **text_kw)  # fmt: skip
    if footer is not None:
        # Wrapped at its " · " separators to the figure width and never cut: the map is moved
        # up when the footer needs more than the bottom margin.
        foot_lines = footer_lines(footer, width=int(fig.get_figwidth() * 26))
        line_h = 7 * 1.3 / 72 / fig.get_figheight()
        bottom = max(0.06, 0.015 + line_h * len(foot_lines))
        ax.set_position((0.02, bottom, 0.96, 0.92 - bottom))
        fig.text(0.01, 0.01, "\n".join(foot_lines), ha="left", va="bottom", fontsize=7,
                 color="#444444", linespacing=1.3, **text_kw)  # fmt: skip


def gap_classes(vmax: float, n: int = 4) -> list[tuple[float, float]]:
    """Classes of the gap ramp in round numbers: 21,827 → 0–5,000 … 15,000–21,827."""
    if vmax <= 0:
        return [(0.0, 0.0)]
    raw = vmax / n
    base = 10 ** math.floor(math.log10(raw))
    step = next(m * base for m in (1, 2, 2.5, 5, 10) if m * base >= raw)
    edges = [0.0]
    while edges[-1] + step < vmax:
        edges.append(edges[-1] + step)
    edges.append(vmax)
    return list(itertools.pairwise(edges))


def footer_lines(text: str, *, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` display columns, broken at " · " separators.

    A part longer than a line is wrapped on its own (at spaces; Chinese between characters),
    so no part is ever dropped or cut short.
    """
    import textwrap

    from maps.export_tables import display_width

    lines: list[str] = []
    for part in [p for p in text.split(" · ") if p]:
        if lines and display_width(lines[-1] + " · " + part) <= width:
            lines[-1] += " · " + part
            continue
        if display_width(part) <= width:
            lines.append(part)
            continue
        cjk = display_width(part) > len(part) * 1.3
        lines += textwrap.wrap(part, width=width // 2 if cjk else width) or [part]
    return lines


def _sites_frame(sites: gpd.GeoDataFrame | pd.DataFrame | None) -> gpd.GeoDataFrame | None:
    if sites is None or len(sites) == 0:
        return None
    if isinstance(sites, gpd.GeoDataFrame) and not sites.geometry.isna().all():
        return sites
    return gpd.GeoDataFrame(
        pd.DataFrame(sites), geometry=gpd.points_from_xy(sites["lon"], sites["lat"]),
        crs="EPSG:4326",
    )  # fmt: skip


def _scale_bar(ax: Axes, lang: str, text_kw: dict[str, Any]) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice_length(x1 - x0)
    h = (y1 - y0) * 0.008
    bx, by = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.04
    for i in range(2):
        ax.add_patch(
            Rectangle((bx + i * length / 2, by), length / 2, h, edgecolor="black",
                      facecolor="black" if i == 0 else "white", linewidth=0.8, zorder=10)
        )  # fmt: skip
    label = t("maps.metres_short", lang, m=length)
    if length >= 1000:
        label = t("maps.static.km", lang, km=length / 1000)
    ax.text(bx + length, by + 2.2 * h, label, ha="center", va="bottom", fontsize=8,
            zorder=10, **text_kw)  # fmt: skip
    ax.text(bx, by + 2.2 * h, "0", ha="center", va="bottom", fontsize=8, zorder=10)


def _north_arrow(ax: Axes, lang: str, text_kw: dict[str, Any]) -> None:
    ax.annotate(
        t("maps.north", lang), xy=(0.95, 0.97), xytext=(0.95, 0.86), xycoords="axes fraction",
        ha="center", va="center", fontsize=12, fontweight="bold", zorder=10,
        arrowprops={"facecolor": "black", "width": 4, "headwidth": 12, "headlength": 10},
        **text_kw,
    )  # fmt: skip
