"""Province map of a batch run: districts shaded by coverage rate (offline HTML and PNG).

One layer per category (the mean over categories shown first), a legend with the rate classes,
district names on the PNG. Built from ``districts.gpkg`` columns ``<category>_coverage_rate``.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np

from maps.export_html import map_to_html
from maps.i18n import t

logger = logging.getLogger(__name__)

__all__ = ["province_map"]

#: Rate classes (share of residents covered) and their colours, red (poor) to green (good).
CLASSES = (
    (0.0, "#d73027"),
    (0.5, "#fc8d59"),
    (0.7, "#fee08b"),
    (0.85, "#91cf60"),
    (0.95, "#1a9850"),
)
NO_DATA = "#bdbdbd"


def _colour(rate: float) -> str:
    if rate is None or not np.isfinite(rate):
        return NO_DATA
    colour = CLASSES[0][1]
    for lower, c in CLASSES:
        if rate >= lower:
            colour = c
    return colour


def _rate_columns(layer: gpd.GeoDataFrame) -> list[str]:
    return [c for c in layer.columns if c.endswith("_coverage_rate")]


def province_map(layer: gpd.GeoDataFrame, out: Path, *, lang: str = "zh") -> dict[str, Path]:
    """Write ``province_map.html`` and ``province_map.png`` into ``out``.

    Parameters
    ----------
    layer
        Districts (WGS-84 polygons) with ``district``, ``status`` and rate columns.
    out
        The batch output folder.
    lang
        Label language.

    Returns
    -------
    dict
        ``{"html": path, "png": path}``.
    """
    layer = layer.to_crs(4326).copy()
    rates = _rate_columns(layer)
    layer["mean_coverage_rate"] = layer[rates].mean(axis=1) if rates else np.nan
    columns = ["mean_coverage_rate", *rates]
    title = t("maps.province.title", lang)
    west, south, east, north = layer.total_bounds
    m = folium.Map(tiles=None, control_scale=True)
    m.fit_bounds([[south, west], [north, east]])
    for i, col in enumerate(columns):
        label = col.removesuffix("_coverage_rate")
        if label == "mean":
            label = t("maps.province.mean", lang)
        group = folium.FeatureGroup(name=label, show=i == 0)
        for row in layer.itertuples():
            rate = getattr(row, col)
            text = f"{row.district}: " + (
                f"{100 * rate:.1f} %" if rate is not None and np.isfinite(rate) else str(row.status)
            )
            style = {"fillColor": _colour(rate), "color": "#333333", "weight": 1}
            folium.GeoJson(
                row.geometry.__geo_interface__,
                style_function=lambda _f, st=style: {**st, "fillOpacity": 0.75},
                tooltip=html.escape(text),
            ).add_to(group)
        group.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    legend = "".join(
        f'<div><span style="background:{c};width:14px;height:14px;display:inline-block"></span>'
        f" ≥ {100 * lo:.0f} %</div>"
        for lo, c in CLASSES
    )
    m.get_root().html.add_child(  # type: ignore[attr-defined]
        folium.Element(
            '<div style="position:fixed;bottom:20px;left:20px;z-index:9999;background:white;'
            f'padding:6px;font:12px sans-serif"><b>{html.escape(title)}</b>{legend}</div>'
        )
    )
    html_path = out / "province_map.html"
    html_path.write_bytes(map_to_html(m))
    png_path = out / "province_map.png"
    _png(layer, png_path, title=title, lang=lang)
    logger.info("province map: %s, %s", html_path, png_path)
    return {"html": html_path, "png": png_path}


def _png(layer: gpd.GeoDataFrame, path: Path, *, title: str, lang: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.patches import Patch

    from maps.export_static import find_cjk_font

    family = find_cjk_font()
    fonts = [family, "DejaVu Sans"] if family else ["DejaVu Sans"]
    if family is None and lang == "zh":
        title = "Coverage by district"
    fig, ax = plt.subplots(figsize=(10, 8), dpi=120)
    try:
        colours = [_colour(r) for r in layer["mean_coverage_rate"]]
        layer.plot(ax=ax, color=colours, edgecolor="#333333", linewidth=0.6)
        for row in layer.itertuples():
            p = row.geometry.representative_point()
            rate = row.mean_coverage_rate
            text = str(row.district) if family else str(row.district_code or row.district)
            if rate is not None and np.isfinite(rate):
                text += f"\n{100 * rate:.0f} %"
            ax.annotate(text, (p.x, p.y), ha="center", va="center", fontsize=8,
                        fontfamily=fonts)  # fmt: skip
        ax.set_axis_off()
        ax.set_title(title, fontsize=14, fontfamily=fonts)
        handles = [Patch(color=c, label=f"≥ {100 * lo:.0f} %") for lo, c in CLASSES]
        handles.append(
            Patch(color=NO_DATA, label=t("maps.province.no_result", lang if family else "en"))
        )
        ax.legend(handles=handles, loc="lower right", prop={"family": fonts, "size": 8})
        fig.savefig(path, bbox_inches="tight")
    finally:
        plt.close(fig)
