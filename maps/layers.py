"""Folium layers built from the engine's GeoDataFrames (pure functions, offline assets).

:func:`coverage_map` draws a whole coverage map: facilities per category (round badges with the
category glyph in the taxonomy colour), nested service-area rings, gap polygons coloured by
uncovered residents, the residents as a density surface, proposed sites with "+N 人" labels, a
legend, scale bar, north arrow, title and layer control. The smaller builders are public so the
app can compose its own maps.

This is the one place where data meets Folium (the geopandas ``explore.py`` pattern): every frame
is converted to EPSG:4326, shifted to the basemap's datum, simplified, and reduced to a few
JSON-safe string properties. Every value shown in a popup is HTML-escaped here, so a facility
named ``<script>alert(1)</script>`` stays text.
"""

from __future__ import annotations

import html
import json
import logging
import math
from collections.abc import Iterable, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.colormap import LinearColormap, linear
from branca.element import MacroElement
from folium.plugins import HeatMap
from jinja2 import Template

from geo import settings
from geo.errors import InputDataError
from geo.messages import msg
from geo.taxonomy import Category
from geo.taxonomy import categories as taxonomy
from maps.assets import AssetMode, localize_assets
from maps.basemaps import (
    add_basemap,
    check_basemap,
    network_layer,
    round_coordinates,
    to_basemap_datum,
)
from maps.i18n import t
from maps.legend import (
    LegendSection,
    background_color,
    glyph_html,
    legend_control,
    north_arrow_control,
    number_html,
    scale_control,
    swatch,
    title_control,
    trial_glyph_html,
)

__all__ = [
    "ROUTE_COLORS",
    "SITE_COLOR",
    "WATER_FILL",
    "WATER_STROKE",
    "boundary_layer",
    "change_layers",
    "coverage_map",
    "demand_layer",
    "esc",
    "excluded_buildings_layer",
    "facility_layer",
    "gap_layer",
    "network_edit_layer",
    "off_network_layer",
    "popup_props",
    "route_layer",
    "service_area_layer",
    "site_layer",
    "trial_layer",
    "water_layer",
]

logger = logging.getLogger(__name__)

#: Colour of proposed sites.
SITE_COLOR = "#c51b8a"

#: Colours of residents newly covered / newly losing coverage in a scenario.
CHANGE_COLORS = {"gained": "#1a9850", "lost": "#d73027"}

#: Study-area outline.
BOUNDARY_COLOR = "#444444"

#: Opacity of the residents' density surface, drawn beneath the service areas so it reads as
#: background and does not swamp them.
HEAT_OPACITY = 0.45

#: Padding (pixels) around the study area when the map opens.
FIT_PADDING = 8

#: Map background when no tiles are drawn (Leaflet's default grey reads as "not loaded").
NO_TILES_BACKGROUND = "#f7f7f4"

#: Fill opacity of the innermost service-area ring; outer rings get lighter.
RING_OPACITY = 0.32

#: Rivers and lakes: light blue, so they read as water under the coverage layers.
WATER_FILL = "#a6cee3"
WATER_STROKE = "#6baed6"

#: Demand points above this count are summed onto a ~10 m grid before the heat map.
HEAT_MAX_POINTS = 20_000

#: Colours of the gap ramp (low → high uncovered residents).
GAP_COLORMAP: LinearColormap = linear.YlOrRd_09  # type: ignore[attr-defined]

#: Popup table style (inline, so popups need no stylesheet).
_TH = '<th style="text-align:left;padding-right:6px;white-space:nowrap">'

# Popups of GeoJSON layers are built in the browser from per-feature values and one list of
# labels per layer (sending the markup once per feature tripled the gap layer's size). Every
# label and value is already HTML-escaped in Python; this code only concatenates them.
_POPUP_TEMPLATE = """
    function (feature, layer) {
        var p = feature.properties || {};
        var labels = __LABELS__;
        if (p.v) {
            layer.bindPopup(function () {
                var rows = "";
                for (var i = 0; i < labels.length; i++) {
                    rows += '<tr>__TH__' + labels[i] + "</th><td>" + p.v[i] + "</td></tr>";
                }
                return "<b>" + p.t + "</b><table>" + rows + "</table>";
            }, {maxWidth: 320});
        }
        if (p.tip) { layer.bindTooltip(p.tip); }
        if (p.icon && layer.setIcon) { layer.setIcon(L.divIcon(p.icon)); }
    }
"""


# --- small helpers ------------------------------------------------------------------------------


class Markup(str):
    """Text that is already safe HTML (built here from escaped parts); :func:`esc` keeps it."""

    __slots__ = ()


def esc(value: Any, *, lang: str = "zh") -> str:
    """A value as escaped display text (NaN/None → "未知"/"unknown"; floats without noise)."""
    if isinstance(value, Markup):
        return str(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return html.escape(t("maps.unknown", lang))
    if isinstance(value, float | np.floating):
        if math.isinf(value):
            return html.escape(t("maps.not_reached", lang))
        number = float(value)
        return html.escape(f"{number:,.0f}" if abs(number) >= 100 else f"{number:.3g}")
    return html.escape(str(value))


def popup_html(title: str, rows: Iterable[tuple[str, Any]], *, lang: str = "zh") -> str:
    """A small popup table; the title, labels and values are all escaped here."""
    body = "".join(
        f"<tr>{_TH}{html.escape(k)}</th><td>{esc(v, lang=lang)}</td></tr>" for k, v in rows
    )
    return f"<b>{html.escape(str(title))}</b><table>{body}</table>"


def popup_js(labels: Sequence[str]) -> folium.JsCode:
    """``onEachFeature`` code binding a popup table from ``properties.t`` and ``properties.v``.

    Parameters
    ----------
    labels
        Row labels (plain text; escaped here). Feature values must be escaped already (see
        :func:`popup_props`).

    Returns
    -------
    folium.JsCode
        The JavaScript function; also binds ``properties.tip`` as a tooltip and gives point
        features with ``properties.icon`` (``L.divIcon`` options, safe HTML) their own icon.
    """
    # json.dumps of escaped text has no "<", so it cannot close the surrounding <script>.
    encoded = json.dumps([html.escape(x) for x in labels], ensure_ascii=False)
    return folium.JsCode(_POPUP_TEMPLATE.replace("__LABELS__", encoded).replace("__TH__", _TH))


def popup_props(title: Any, values: Iterable[Any], *, lang: str = "zh") -> dict[str, Any]:
    """Feature properties for :func:`popup_js`: the escaped title ``t`` and values ``v``."""
    return {"t": esc(title, lang=lang), "v": [esc(v, lang=lang) for v in values]}


def _check_frame(gdf: Any, name: str, columns: Sequence[str]) -> None:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputDataError(msg("maps.layers.not_a_frame", name=name, kind=type(gdf).__name__))
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise InputDataError(
            msg(
                "maps.layers.missing_columns", name=name, missing=missing, columns=list(gdf.columns)
            )
        )


def prepare_frame(
    gdf: gpd.GeoDataFrame, basemap: str, *, simplify: bool = True
) -> gpd.GeoDataFrame:
    """Copy for the browser: EPSG:4326, no empty geometries, basemap datum, simplified, rounded.

    Parameters
    ----------
    gdf
        Any GeoDataFrame with a CRS (assumed EPSG:4326 when it has none).
    basemap
        The basemap the layer is drawn on (Amap shifts to GCJ-02).
    simplify
        Simplify lines and polygons by ``settings.map_simplify_m`` metres.

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame; the input is not changed.
    """
    out = gdf if gdf.crs is not None else gdf.set_crs("EPSG:4326")
    out = out[out.geometry.notna() & ~out.geometry.is_empty]
    out = to_basemap_datum(out, basemap)
    geoms = out.geometry.values
    if simplify:
        tol = settings.map_simplify_m / 111_320.0
        is_point = shapely.get_type_id(geoms) == 0
        geoms = np.where(is_point, geoms, shapely.simplify(geoms, tol, preserve_topology=True))
    out = out.copy()
    out.geometry = round_coordinates(np.asarray(geoms))
    return out


def _feature_collection(gdf: gpd.GeoDataFrame, props: list[dict[str, Any]]) -> dict[str, Any]:
    geoms = shapely.to_geojson(gdf.geometry.values)
    features = [
        {"type": "Feature", "properties": p, "geometry": json.loads(g)}
        for p, g in zip(props, geoms, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def _category_list(
    facilities: gpd.GeoDataFrame, categories: Sequence[str] | None
) -> list[Category]:
    tax = taxonomy()
    if categories is None:
        present = set(facilities["category"].astype(str))
        return [cat for key, cat in tax.items() if key in present]
    unknown = [c for c in categories if c not in tax]
    if unknown:
        raise InputDataError(
            msg("maps.layers.unknown_categories", unknown=unknown, known=", ".join(tax))
        )
    return [tax[c] for c in categories]


def _rows_of(frame: gpd.GeoDataFrame, category: Category) -> gpd.GeoDataFrame:
    """Rows of ``frame`` whose ``category`` column is ``category``."""
    return frame[frame["category"].astype(str) == category.key]


def _add_features(
    group: folium.FeatureGroup,
    rows: gpd.GeoDataFrame,
    props: list[dict[str, Any]],
    *,
    name: str,
    labels: Sequence[str] | None = None,
    **options: Any,
) -> None:
    """Add ``rows`` to ``group`` as one GeoJSON layer, with popups when ``labels`` are given.

    ``control=False``: the layer control lists the group, not its inner GeoJSON.
    ``options`` go to :class:`folium.GeoJson` (``marker``, ``tooltip``).
    """
    folium.GeoJson(
        _feature_collection(rows, props),
        name=name,
        on_each_feature=None if labels is None else popup_js(labels),
        control=False,
        **options,
    ).add_to(group)


# --- layer builders -----------------------------------------------------------------------------


def facility_layer(
    facilities: gpd.GeoDataFrame, category: Category, *, lang: str = "zh", basemap: str = "none"
) -> folium.FeatureGroup:
    """One category's facilities as glyph badges with escaped popups.

    Parameters
    ----------
    facilities
        Facilities GeoDataFrame (CONTRACTS.md); rows of other categories are ignored.
    category
        The taxonomy category to draw.
    lang
        Language of labels.
    basemap
        Basemap key (Amap shifts to GCJ-02).

    Returns
    -------
    folium.FeatureGroup
        Named ``设施 · <category>``.
    """
    group = folium.FeatureGroup(name=t("maps.layer_facilities", lang, name=category.name(lang)))
    rows = _rows_of(facilities, category)
    if rows.empty:
        return group
    rows = prepare_frame(rows, basemap, simplify=False)
    crit = category.criterion.label(lang)
    unit = category.capacity_unit
    props = []
    for rec in rows.itertuples(index=False):
        cap = getattr(rec, "capacity", float("nan"))
        cap_text = esc(cap, lang=lang) + (f" {html.escape(unit)}" if unit and pd.notna(cap) else "")
        values = [
            category.name(lang),
            Markup(cap_text),
            crit,
            getattr(rec, "facility_id", ""),
            getattr(rec, "source", ""),
        ]
        props.append(
            popup_props(getattr(rec, "name", ""), values, lang=lang)
            | {"tip": esc(getattr(rec, "name", ""), lang=lang)}
        )
    labels = [
        t(k, lang)
        for k in (
            "maps.category",
            "maps.capacity",
            "maps.threshold",
            "maps.facility_id",
            "maps.source",
        )
    ]
    icon = folium.DivIcon(
        html=glyph_html(category.glyph, category.color),
        icon_size=(22, 22),
        icon_anchor=(11, 11),
        class_name="lcc-facility",
    )
    _add_features(
        group, rows, props, name=category.key, labels=labels, marker=folium.Marker(icon=icon)
    )
    return group


def _pick_service_area_kind(rows: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    # One union per threshold reads best; per-facility areas overlap into mud.
    for kind in ("dissolved", "nearest", "facility"):
        sel = rows[rows["kind"] == kind]
        if not sel.empty:
            return sel
    return rows


def service_area_layer(
    service_areas: gpd.GeoDataFrame, category: Category, *, lang: str = "zh", basemap: str = "none"
) -> folium.FeatureGroup:
    """One category's service areas as nested rings, lighter for larger thresholds.

    Parameters
    ----------
    service_areas
        Service areas GeoDataFrame (CONTRACTS.md); "dissolved" rows are drawn when present.
    category
        The taxonomy category.
    lang
        Language of labels.
    basemap
        Basemap key.

    Returns
    -------
    folium.FeatureGroup
        Named ``服务范围 · <category>``.
    """
    group = folium.FeatureGroup(name=t("maps.layer_service_areas", lang, name=category.name(lang)))
    rows = _rows_of(service_areas, category)
    if rows.empty:
        return group
    rows = _pick_service_area_kind(rows)
    rows = prepare_frame(rows, basemap).sort_values("threshold_m", ascending=False)
    thresholds = sorted(rows["threshold_m"].unique())
    n = len(thresholds)
    props = []
    for rec in rows.itertuples(index=False):
        i = thresholds.index(rec.threshold_m)
        opacity = RING_OPACITY * (1.0 - i / (n + 1))
        label = _threshold_label(rec.threshold_m, getattr(rec, "minutes", None), lang)
        values = [label, f"{float(rec.area_m2) / 1e6:.2f}", getattr(rec, "facility_id", "")]
        props.append(
            popup_props(category.name(lang), values, lang=lang)
            | {
                "style": {
                    "color": category.color,
                    "weight": 1,
                    "fillColor": category.color,
                    "fillOpacity": round(opacity, 3),
                },
            }
        )
    labels = [t(k, lang) for k in ("maps.threshold", "maps.area_km2", "maps.facility_id")]
    _add_features(group, rows, props, name=f"sa_{category.key}", labels=labels)
    return group


def _threshold_label(threshold_m: float, minutes: Any, lang: str) -> str:
    metres = t("maps.metres_short", lang, m=float(threshold_m))
    if minutes is not None and pd.notna(minutes):
        return f"{t('maps.minutes_short', lang, m=round(float(minutes), 1))}（{metres}）"
    return metres


def gap_colormap(gaps: gpd.GeoDataFrame) -> LinearColormap:
    """The colour ramp of gaps, scaled to their uncovered residents."""
    values = gaps["uncovered_population"].astype(float)
    vmax = float(values.max()) if len(values) else 1.0
    return GAP_COLORMAP.scale(0.0, max(vmax, 1.0))


def gap_layer(
    gaps: gpd.GeoDataFrame, *, lang: str = "zh", basemap: str = "none"
) -> folium.FeatureGroup:
    """Gap polygons coloured by uncovered residents, with escaped popups.

    Parameters
    ----------
    gaps
        Gaps GeoDataFrame (CONTRACTS.md ``find_gaps``), possibly of several categories.
    lang
        Language of labels.
    basemap
        Basemap key.

    Returns
    -------
    folium.FeatureGroup
        Named ``覆盖缺口``.
    """
    group = folium.FeatureGroup(name=t("maps.layer_gaps", lang))
    if gaps.empty:
        return group
    cmap = gap_colormap(gaps)
    rows = prepare_frame(gaps, basemap)
    tax = taxonomy()
    props = []
    for rec in rows.itertuples(index=False):
        cat = tax.get(str(rec.category))
        cat_name = cat.name(lang) if cat else str(rec.category)
        color = cmap.rgb_hex_str(float(rec.uncovered_population))
        values = [
            cat_name,
            float(rec.uncovered_population),
            _float(getattr(rec, "uncovered_elderly", None)),
            getattr(rec, "n_points", None),
            _float(getattr(rec, "nearest_facility_m", None)),
            _join(getattr(rec, "communities", "")),
            f"{float(getattr(rec, 'area_m2', 0.0)) / 1e6:.3f}",
        ]
        tooltip = t("maps.site_label", lang, n=float(rec.uncovered_population)).replace("+", "")
        props.append(
            popup_props(
                f"{t('maps.layer_gaps', lang)} #{getattr(rec, 'rank', '')}", values, lang=lang
            )
            | {
                "tip": html.escape(f"{cat_name}: {tooltip}"),
                "style": {"color": "#7f0000", "weight": 1, "fillColor": color, "fillOpacity": 0.6},
            }
        )
    labels = [
        t(k, lang)
        for k in (
            "maps.category",
            "maps.uncovered_population",
            "maps.uncovered_elderly",
            "maps.n_points",
            "maps.nearest_facility_m",
            "maps.communities",
            "maps.area_km2",
        )
    ]
    _add_features(group, rows, props, name="gaps", labels=labels)
    return group


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _join(value: Any) -> str:
    if isinstance(value, list | tuple | set | np.ndarray):
        return "、".join(str(v) for v in value)
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def demand_layer(
    demand: gpd.GeoDataFrame, *, lang: str = "zh", basemap: str = "none", show: bool = True
) -> folium.FeatureGroup:
    """Residents as a density surface (leaflet.heat weighted by population, served offline).

    Parameters
    ----------
    demand
        Demand GeoDataFrame (CONTRACTS.md); points with ``population``.
    lang
        Language of labels.
    basemap
        Basemap key.
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    folium.FeatureGroup
        Named ``居民分布（密度）``.
    """
    group = folium.FeatureGroup(name=t("maps.layer_demand", lang), show=show)
    rows = prepare_frame(demand, basemap, simplify=False)
    pts = shapely.get_coordinates(rows.geometry.representative_point().values)
    w = rows["population"].to_numpy(dtype="float64")
    ok = np.isfinite(w) & (w > 0)
    pts, w = pts[ok], w[ok]
    if len(w) == 0:
        return group
    if len(w) > HEAT_MAX_POINTS:
        # Sum onto a ~10 m grid: the surface looks the same and the page stays light.
        frame = pd.DataFrame({"x": np.round(pts[:, 0], 4), "y": np.round(pts[:, 1], 4), "w": w})
        frame = frame.groupby(["x", "y"], as_index=False)["w"].sum()
        pts, w = frame[["x", "y"]].to_numpy(), frame["w"].to_numpy()
    # leaflet.heat saturates at max=1: scale so the 95th percentile is full intensity.
    scale = float(np.quantile(w, 0.95)) or 1.0
    weights = np.round(np.minimum(w / scale, 1.0), 3)
    data = np.column_stack([np.round(pts[:, 1], 5), np.round(pts[:, 0], 5), weights]).tolist()
    _HeatBeneath(HEAT_OPACITY).add_to(group)
    HeatMap(data, radius=18, blur=15, min_opacity=0.25, control=False).add_to(group)
    return group


#: Colour of residents farther than the snap tolerance from any street.
OFF_NETWORK_COLOR = "#616161"


def off_network_layer(
    points: gpd.GeoDataFrame, *, lang: str = "zh", basemap: str = "none", show: bool = True
) -> folium.FeatureGroup:
    """Residents farther than the snap tolerance from any street, as grey dots with popups.

    They count as not covered (no street leads to them); this layer shows where they are, so a
    planner sees whether the network extract is too small or the demand coordinates are wrong.

    Parameters
    ----------
    points
        Demand rows with ``snapped`` false (``population``, optional ``demand_id``,
        ``community``, ``snap_distance_m``).
    lang
        Language of labels.
    basemap
        Basemap key.
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    folium.FeatureGroup
        Named ``远离路网的居民点`` / "Residents off the network".
    """
    group = folium.FeatureGroup(name=t("maps.layer_off_network", lang), show=show)
    if points.empty:
        return group
    rows = prepare_frame(points, basemap, simplify=False)
    props = []
    for rec in rows.itertuples(index=False):
        dist = _float(getattr(rec, "snap_distance_m", None))
        values = [
            esc(getattr(rec, "population", ""), lang=lang),
            esc(getattr(rec, "community", ""), lang=lang),
            "–" if dist is None else f"{dist:,.0f}",
        ]
        props.append(popup_props(getattr(rec, "demand_id", ""), values, lang=lang))
    labels = [t(k, lang) for k in ("maps.population", "maps.community", "maps.snap_distance_m")]
    _add_features(
        group,
        rows,
        props,
        name="off_network",
        labels=labels,
        marker=folium.CircleMarker(
            radius=4, color=OFF_NETWORK_COLOR, fill=True, fill_opacity=0.8, weight=1
        ),
    )
    return group


class _FitAround(MacroElement):
    """Fit the map to ``bounds`` leaving room for the title (top left) and legend (bottom right).

    A plain ``fitBounds`` centres the district, and the title box and the legend then sat on
    its corners. The fit keeps below the title (its height, at most a sixth of the map) and
    left of the legend (its width, at most a third), so on a wide map the district sits left
    of the legend at nearly full height. Fitted again on the first resize (Streamlit sizes the
    iframe after the script ran).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }}, bounds = {{ this.bounds|tojson }};
            var pad = {{ this.padding|tojson }};
            function box(cls) {
                // Width, and bottom edge measured from the top of the map.
                var el = map.getContainer().querySelector(cls);
                if (!el) { return [0, 0]; }
                var r = el.getBoundingClientRect();
                var top = map.getContainer().getBoundingClientRect().top;
                return [r.width, r.bottom - top];
            }
            function fit() {
                var size = map.getSize();
                // Under the (short) title; left of the (tall) legend.
                var top = Math.min(box('.lcc-title')[1], size.y / 6);
                var right = Math.min(box('.lcc-legend')[0], size.x / 3);
                map.fitBounds(bounds, {
                    paddingTopLeft: [pad, top + pad],
                    paddingBottomRight: [right + pad, pad],
                    animate: false
                });
            }
            fit();
            map.once('resize', fit);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, bounds: list[list[float]], *, padding: int = FIT_PADDING) -> None:
        super().__init__()
        self._name = "FitAround"
        self.bounds = bounds
        self.padding = int(padding)


class _HeatBeneath(MacroElement):
    """Draw leaflet.heat layers in their own pane under the vector layers, translucent.

    leaflet.heat appends its canvas to the overlay pane, above the SVG of the service areas, so
    the density surface covered them. This moves the canvas to a pane just below the overlay
    pane (z-index 350) with reduced opacity; removal works from whichever pane holds it.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            if (!L.HeatLayer || L.HeatLayer.prototype._lccBeneath) { return; }
            var proto = L.HeatLayer.prototype, onAdd = proto.onAdd;
            proto._lccBeneath = true;
            proto.onAdd = function (map) {
                onAdd.call(this, map);
                var pane = map.getPane('lccHeat');
                if (!pane) {
                    pane = map.createPane('lccHeat');
                    pane.style.zIndex = 350;
                    pane.style.pointerEvents = 'none';
                    pane.style.opacity = {{ this.opacity|tojson }};
                }
                pane.appendChild(this._canvas);
            };
            proto.onRemove = function (map) {
                if (this._canvas.parentNode) { this._canvas.parentNode.removeChild(this._canvas); }
                map.off('moveend', this._reset, this);
                if (map.options.zoomAnimation) { map.off('zoomanim', this._animateZoom, this); }
            };
        })();
        {% endmacro %}
        """
    )

    def __init__(self, opacity: float) -> None:
        super().__init__()
        self._name = "HeatBeneath"
        self.opacity = float(opacity)


def site_layer(
    sites: gpd.GeoDataFrame | pd.DataFrame, *, lang: str = "zh", basemap: str = "none"
) -> folium.FeatureGroup:
    """Proposed sites as small markers numbered by rank (as in the sites table), escaped popups.

    Parameters
    ----------
    sites
        Sites frame with ``rank, name, added_population`` and a point geometry or ``lon, lat``.
    lang
        Language of labels.
    basemap
        Basemap key.

    Returns
    -------
    folium.FeatureGroup
        Named ``建议新增选址``.
    """
    group = folium.FeatureGroup(name=t("maps.layer_sites", lang))
    if len(sites) == 0:
        return group
    if not isinstance(sites, gpd.GeoDataFrame) or sites.geometry.isna().all():
        sites = gpd.GeoDataFrame(
            pd.DataFrame(sites), geometry=gpd.points_from_xy(sites["lon"], sites["lat"]),
            crs="EPSG:4326",
        )  # fmt: skip
    rows = prepare_frame(sites, basemap, simplify=False)
    tax = taxonomy()
    props = []
    for rec in rows.itertuples(index=False):
        added = float(getattr(rec, "added_population", 0.0) or 0.0)
        cat = tax.get(str(getattr(rec, "category", "")))
        values = [
            getattr(rec, "name", ""),
            cat.name(lang) if cat else getattr(rec, "category", ""),
            added,
            f"{getattr(rec, 'lon', rec.geometry.x):.6f}",
            f"{getattr(rec, 'lat', rec.geometry.y):.6f}",
        ]
        rank = getattr(rec, "rank", None)
        number = str(int(rank)) if rank is not None and pd.notna(rank) else ""
        # Small numbered markers: "+1,200 人" labels of many sites overlapped into a smear; the
        # number leads to the sites table, the tooltip and popup carry the residents.
        icon = {
            "html": number_html(number, SITE_COLOR),
            "className": "lcc-site",
            "iconSize": [22, 22],
            "iconAnchor": [11, 11],
        }
        title = f"{t('maps.layer_sites', lang)} #{number}"
        tip = f"#{number} · {t('maps.site_label', lang, n=added)}"
        name = str(getattr(rec, "name", "") or "")
        if name and name != f"#{number}":
            tip = f"{tip} · {name}"
        props.append(
            popup_props(title, values, lang=lang) | {"tip": esc(tip, lang=lang), "icon": icon}
        )
    labels = [
        t(k, lang)
        for k in ("maps.name", "maps.category", "maps.added_population", "maps.lon", "maps.lat")
    ]
    # One GeoJSON layer (no folium.Popup, which needs jQuery); each site gets its own label icon.
    marker = folium.Marker(icon=folium.DivIcon(html="", class_name="lcc-site"))
    _add_features(group, rows, props, name="sites", labels=labels, marker=marker)
    return group


def trial_layer(
    facilities: gpd.GeoDataFrame,
    cats: Sequence[Category],
    *,
    lang: str = "zh",
    basemap: str = "none",
) -> folium.FeatureGroup:
    """Trial (what-if) facilities: hollow dashed badges, one layer for every category.

    Parameters
    ----------
    facilities
        Facilities rows added by a what-if (``source == "edit"``).
    cats
        Categories to draw.
    lang
        Language of labels.
    basemap
        Basemap key.

    Returns
    -------
    folium.FeatureGroup
        Named ``试加设施（假设）`` / ``Trial sites (what-if)``.
    """
    group = folium.FeatureGroup(name=t("maps.layers.layer_trial", lang))
    labels = [t(k, lang) for k in ("maps.category", "maps.facility_id")]
    for cat in cats:
        rows = _rows_of(facilities, cat)
        if rows.empty:
            continue
        rows = prepare_frame(rows, basemap, simplify=False)
        props = [
            popup_props(
                f"{t('maps.layers.layer_trial', lang)} · {getattr(rec, 'name', '')}",
                [cat.name(lang), getattr(rec, "facility_id", "")],
                lang=lang,
            )
            | {
                "tip": esc(
                    f"{t('maps.layers.layer_trial', lang)} · {getattr(rec, 'name', '')}", lang=lang
                )
            }
            for rec in rows.itertuples(index=False)
        ]
        icon = folium.DivIcon(
            html=trial_glyph_html(cat.glyph, cat.color),
            icon_size=(22, 22),
            icon_anchor=(11, 11),
            class_name="lcc-trial",
        )
        _add_features(
            group, rows, props, name=f"trial_{cat.key}", labels=labels,
            marker=folium.Marker(icon=icon),
        )  # fmt: skip
    return group


def change_layers(
    changes: gpd.GeoDataFrame, *, lang: str, basemap: str, fmap: folium.Map
) -> list[tuple[str, str]]:
    """Add newly covered / newly losing residents to ``fmap``; return their legend items.

    Polygons go to the overlay pane, above the density surface (which is drawn beneath it).
    """
    items: list[tuple[str, str]] = []
    for change, color in CHANGE_COLORS.items():
        rows = changes[changes["change"].astype(str) == change]
        if rows.empty:
            continue
        rows = prepare_frame(rows, basemap)
        name = t(f"maps.layers.{change}", lang)
        group = folium.FeatureGroup(name=name)
        style = {"color": color, "weight": 1.5, "fillColor": color, "fillOpacity": 0.55}
        pops = pd.to_numeric(rows["population"], errors="coerce").fillna(0.0)
        props = [
            {"style": style, "tip": esc(f"{name}: {p:,.0f}", lang=lang)} for p in pops.tolist()
        ]
        _add_features(group, rows, props, name=f"change_{change}", labels=[])
        group.add_to(fmap)
        total = float(pops.sum())
        label = t("maps.layers.change_total", lang, name=name, n=total)
        items.append((swatch(color, opacity=0.55), label))
    return items


def boundary_layer(
    boundary: gpd.GeoDataFrame, *, lang: str = "zh", basemap: str = "none"
) -> folium.FeatureGroup:
    """The study area as a dashed outline (no fill, no popups: it is a frame)."""
    group = folium.FeatureGroup(name=t("maps.layers.boundary", lang))
    rows = prepare_frame(boundary[["geometry"]], basemap)
    style = {"color": BOUNDARY_COLOR, "weight": 2, "dashArray": "6 4", "fill": False}
    props = [{"style": style} for _ in range(len(rows))]
    _add_features(group, rows, props, name="boundary")
    return group


def water_layer(
    water: gpd.GeoDataFrame, *, lang: str = "zh", basemap: str = "none"
) -> folium.FeatureGroup:
    """Rivers and lakes as a light-blue layer, so a planner sees why walks detour to bridges.

    Parameters
    ----------
    water
        Polygons or lines (any CRS; e.g. ``Demo.extra["river"]``), optional ``name`` column.
    lang
        Language of labels.
    basemap
        Basemap key.

    Returns
    -------
    folium.FeatureGroup
        Named ``河流水系`` / ``Rivers and water``; no popups (the layer is context).
    """
    group = folium.FeatureGroup(name=t("maps.layer_water", lang))
    rows = prepare_frame(water, basemap)
    rows = rows[~rows.geometry.is_empty & rows.geometry.notna()]
    if rows.empty:
        return group
    names = rows["name"].fillna("").astype(str).tolist() if "name" in rows else [""] * len(rows)
    style = {"color": WATER_STROKE, "weight": 1, "fillColor": WATER_FILL, "fillOpacity": 0.75}
    props = [{"name": name, "style": style} for name in names]
    tooltip = folium.GeoJsonTooltip(fields=["name"], labels=False) if any(names) else None
    _add_features(group, rows, props, name="water", tooltip=tooltip)
    return group


def excluded_buildings_layer(
    excluded: gpd.GeoDataFrame, *, lang: str = "zh", basemap: str = "none"
) -> folium.FeatureGroup:
    """Footprints left without residents by the home rules, grey, with the rule as tooltip.

    Parameters
    ----------
    excluded
        ``BuildingsReport.excluded`` from :func:`geo.demand.demand_from_buildings`: polygons
        with ``rule`` and optional ``name``, ``building``.
    lang
        Language of labels.
    basemap
        Basemap key.

    Returns
    -------
    folium.FeatureGroup
        Named ``未计居民的建筑（非住宅）`` / ``Buildings without residents (not homes)``.
    """
    title = t("maps.layers.excluded_buildings", lang)
    group = folium.FeatureGroup(name=title, show=True)
    _check_frame(excluded, "excluded", ["rule"])
    rows = prepare_frame(excluded, basemap)
    if rows.empty:
        return group
    style = {"color": "#616161", "weight": 1, "fillColor": "#9e9e9e", "fillOpacity": 0.55}
    names = rows["name"].fillna("").astype(str) if "name" in rows else pd.Series("", rows.index)
    props = [
        {"tip": f"{name} · {rule}" if name else str(rule), "style": style}
        for name, rule in zip(names, rows["rule"].astype(str), strict=True)
    ]
    tooltip = folium.GeoJsonTooltip(fields=["tip"], labels=False)
    _add_features(group, rows, props, name="excluded_buildings", tooltip=tooltip)
    return group


# --- the whole map ------------------------------------------------------------------------------


def coverage_map(
    *,
    facilities: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame | None = None,
    service_areas: gpd.GeoDataFrame | None = None,
    gaps: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | pd.DataFrame | None = None,
    network_edges: gpd.GeoDataFrame | None = None,
    categories: Sequence[str] | None = None,
    water: gpd.GeoDataFrame | None = None,
    off_network: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    changes: gpd.GeoDataFrame | None = None,
    basemap: str = "none",
    lang: str = "zh",
    asset_mode: AssetMode = "static",
    title: str | None = None,
    subtitle: str = "",
    static_prefix: str | None = None,
    tianditu_key: str | None = None,
    height: str | int = "100%",
) -> folium.Map:
    """Build the coverage map of a district.

    Parameters
    ----------
    facilities
        Facilities GeoDataFrame (CONTRACTS.md).
    demand
        Demand points with ``population``; drawn as a density surface.
    service_areas
        Output of ``coverage.service_areas`` (one or several categories and thresholds).
    gaps
        Output of ``coverage.find_gaps`` (one or several categories).
    sites
        Proposed sites (``rank, name, lon, lat, added_population``...).
    network_edges
        ``Network.edges_gdf(to_crs="EPSG:4326")``; the base layer when ``basemap="none"``.
    categories
        Category keys to draw; all categories present in ``facilities`` by default.
    water
        Rivers and lakes (e.g. ``Demo.extra["river"]``), drawn light blue under everything else.
    off_network
        Demand points farther than the snap tolerance from any street (:func:`off_network_layer`);
        drawn when not empty.
    boundary
        The study area (polygons); drawn as a dashed outline, and the map opens fitted to it.
    changes
        Residents newly covered / losing coverage in a scenario (``change`` "gained" | "lost",
        ``population``, polygons; ``coverage.scenarios.change_areas``), drawn above the density
        surface and the service areas, with a legend entry each.
    basemap
        ``"none"`` (street network, offline; default), ``"osm"``, ``"amap"`` (layers shifted to
        GCJ-02) or ``"tianditu"`` (needs ``settings.tianditu_key``).
    lang
        ``"zh"`` or ``"en"``.
    asset_mode
        ``"static"`` (Leaflet from the app's ``static/``) or ``"inline"`` (standalone file).
    title, subtitle
        Shown in a box at the top left (escaped).
    static_prefix, tianditu_key
        URL prefix of ``static/`` and Tianditu key; from ``settings`` by default.
    height
        CSS height of the map.

    Returns
    -------
    folium.Map
        With a scale bar, north arrow, legend, a collapsed layer control and no CDN URL.
        Facilities with ``source == "edit"`` (trial, what-if additions) are drawn with their own
        hollow dashed symbol and legend entry; proposed sites are numbered by rank.

    Raises
    ------
    InputDataError
        A frame lacks the columns of its CONTRACTS.md schema, or a category key is unknown.
    ConfigError
        Unknown basemap, or Tianditu without a key.
    """
    check_basemap(basemap)
    cats = _checked_categories(facilities, service_areas, gaps, demand, categories)
    edges = None if network_edges is None else prepare_frame(network_edges, basemap, simplify=False)
    m = _base_map(basemap, lang=lang, edges=edges, tianditu_key=tianditu_key, height=height)
    has_gaps = gaps is not None and not gaps.empty
    context = _context_layers(
        m, water, boundary, demand, off_network, lang=lang, basemap=basemap, has_gaps=has_gaps
    )
    analysis = _analysis_layers(m, cats, service_areas, gaps, changes, lang=lang, basemap=basemap)
    head, sites_legend = _facility_layers(m, facilities, cats, sites, lang=lang, basemap=basemap)
    reference = _reference_legend(edges, water, boundary, lang=lang, basemap=basemap)
    legend = head + context + analysis + sites_legend + reference
    # The study area when known (the district, not the street network's ragged hull).
    fit = [boundary] if boundary is not None and not boundary.empty else []
    frames = fit or [
        f for f in (facilities, demand, gaps, service_areas, network_edges) if f is not None
    ]
    return _finish(
        m, legend, _bounds(frames, basemap), lang=lang, basemap=basemap, title=title,
        subtitle=subtitle, asset_mode=asset_mode, static_prefix=static_prefix,
    )  # fmt: skip


def _checked_categories(
    facilities: gpd.GeoDataFrame,
    service_areas: gpd.GeoDataFrame | None,
    gaps: gpd.GeoDataFrame | None,
    demand: gpd.GeoDataFrame | None,
    categories: Sequence[str] | None,
) -> list[Category]:
    """The categories to draw, after checking each frame has its CONTRACTS.md columns."""
    _check_frame(facilities, "facilities", ["category", "name"])
    cats = _category_list(facilities, categories)
    if service_areas is not None:
        _check_frame(service_areas, "service_areas", ["category", "threshold_m", "kind", "area_m2"])
    if gaps is not None:
        _check_frame(gaps, "gaps", ["category", "uncovered_population"])
    if demand is not None:
        _check_frame(demand, "demand", ["population"])
    return cats


def _base_map(
    basemap: str,
    *,
    lang: str,
    edges: gpd.GeoDataFrame | None,
    tianditu_key: str | None,
    height: str | int,
) -> folium.Map:
    """An empty map with its basemap (and the street network as an overlay over tiles)."""
    # Fractional zoom, so the study area fills the frame instead of the next whole zoom down
    # (which left it at a third to a half of the width).
    m = folium.Map(
        location=[0.0, 0.0], zoom_start=14, tiles=None, control_scale=False, height=height,
        zoom_snap=0.25, zoom_delta=0.5,
        # Bottom left, above the scale bar: the title then sits in the top-left corner itself.
        zoom_control="bottomleft",
    )  # fmt: skip
    add_basemap(m, basemap, lang=lang, network_edges=edges, tianditu_key=tianditu_key)
    if basemap != "none" and edges is not None and not edges.empty:
        network_layer(edges, name=t("maps.layer_network", lang), show=False).add_to(m)
    return m


def _context_layers(
    m: folium.Map,
    water: gpd.GeoDataFrame | None,
    boundary: gpd.GeoDataFrame | None,
    demand: gpd.GeoDataFrame | None,
    off_network: gpd.GeoDataFrame | None,
    *,
    lang: str,
    basemap: str,
    has_gaps: bool,
) -> list[LegendSection]:
    """Water, study area, residents and residents off the network; their legend sections."""
    legend: list[LegendSection] = []
    if water is not None and not water.empty:
        water_layer(water, lang=lang, basemap=basemap).add_to(m)
    if boundary is not None and not boundary.empty:
        boundary_layer(boundary, lang=lang, basemap=basemap).add_to(m)
    if demand is not None and not demand.empty:
        # Drawn beneath the service areas and translucent (see _HeatBeneath).
        demand_layer(demand, lang=lang, basemap=basemap, show=not has_gaps).add_to(m)
        ramp = (["#0000ff", "#00ffff", "#00ff00", "#ffff00", "#ff0000"], "", "")
        legend.append(LegendSection(t("maps.legend_demand", lang), ramp=ramp))
    if off_network is not None and not off_network.empty:
        off_network_layer(off_network, lang=lang, basemap=basemap).add_to(m)
        items = [(swatch(OFF_NETWORK_COLOR, shape="glyph"), "")]
        legend.append(LegendSection(t("maps.layer_off_network", lang), items=items))
    return legend


def _service_area_items(
    sa_rows: gpd.GeoDataFrame, cats: Sequence[Category], lang: str
) -> list[tuple[str, str]]:
    """One legend swatch per category and threshold, coloured as the rings are drawn."""
    items: list[tuple[str, str]] = []
    sa_cats = [c for c in cats if (sa_rows["category"] == c.key).any()]
    for cat in sa_cats:
        rows = _pick_service_area_kind(sa_rows[sa_rows["category"] == cat.key])
        thresholds = sorted(rows["threshold_m"].unique())
        for i, thr in enumerate(thresholds):
            # The colour and opacity the ring is drawn with (service_area_layer).
            opacity = RING_OPACITY * (1.0 - i / (len(thresholds) + 1))
            minutes = (
                rows.loc[rows["threshold_m"] == thr, "minutes"].iloc[0]
                if "minutes" in rows
                else None
            )
            label = _threshold_label(thr, minutes, lang)
            if len(sa_cats) > 1:
                label = f"{cat.name(lang)} · {label}"
            items.append((swatch(cat.color, opacity=opacity), label))
    return items


def _analysis_layers(
    m: folium.Map,
    cats: Sequence[Category],
    service_areas: gpd.GeoDataFrame | None,
    gaps: gpd.GeoDataFrame | None,
    changes: gpd.GeoDataFrame | None,
    *,
    lang: str,
    basemap: str,
) -> list[LegendSection]:
    """Service areas, gaps and a scenario's changes; their legend sections."""
    legend: list[LegendSection] = []
    if service_areas is not None and not service_areas.empty:
        sa_rows = service_areas[service_areas["category"].astype(str).isin([c.key for c in cats])]
        for cat in cats:
            if (sa_rows["category"] == cat.key).any():
                service_area_layer(sa_rows, cat, lang=lang, basemap=basemap).add_to(m)
        sa_items = _service_area_items(sa_rows, cats, lang)
        if sa_items:
            legend.append(LegendSection(t("maps.legend_service_areas", lang), items=sa_items))
    if gaps is not None and not gaps.empty:
        gap_layer(gaps, lang=lang, basemap=basemap).add_to(m)
        cmap = gap_colormap(gaps)
        colors = [cmap.rgb_hex_str(v) for v in np.linspace(cmap.vmin, cmap.vmax, 5)]
        ramp = (colors, f"{cmap.vmin:,.0f}", f"{cmap.vmax:,.0f}")
        legend.append(LegendSection(t("maps.legend_gaps", lang), ramp=ramp))
    if changes is not None and not changes.empty:
        items = change_layers(changes, lang=lang, basemap=basemap, fmap=m)
        if items:
            legend.append(LegendSection(t("maps.layers.legend_changes", lang), items=items))
    return legend


def _facility_layers(
    m: folium.Map,
    facilities: gpd.GeoDataFrame,
    cats: Sequence[Category],
    sites: gpd.GeoDataFrame | pd.DataFrame | None,
    *,
    lang: str,
    basemap: str,
) -> tuple[list[LegendSection], list[LegendSection]]:
    """Existing and trial facilities and proposed sites, drawn on top.

    Returns the legend sections that lead the legend (facilities, trial sites) and the one of the
    proposed sites, which follows the analysis layers.
    """
    trial_mask = (
        facilities["source"].astype(str).eq("edit").to_numpy()
        if "source" in facilities
        else np.zeros(len(facilities), dtype=bool)
    )
    existing, trial = facilities[~trial_mask], facilities[trial_mask]
    for cat in cats:
        facility_layer(existing, cat, lang=lang, basemap=basemap).add_to(m)
    head: list[LegendSection] = []
    if cats:
        items = [(swatch(c.color, shape="glyph", text=c.glyph), c.name(lang)) for c in cats]
        head.append(LegendSection(t("maps.legend_facilities", lang), items=items))
    trial_cats = [c for c in cats if not _rows_of(trial, c).empty]
    if trial_cats:
        trial_layer(trial, trial_cats, lang=lang, basemap=basemap).add_to(m)
        items = [(swatch(c.color, shape="trial", text=c.glyph), c.name(lang)) for c in trial_cats]
        head.append(LegendSection(t("maps.layers.layer_trial", lang), items=items))
    tail: list[LegendSection] = []
    if sites is not None and len(sites) > 0:
        site_layer(sites, lang=lang, basemap=basemap).add_to(m)
        items = [
            (swatch(SITE_COLOR, shape="number", text="1"), t("maps.layers.sites_numbered", lang))
        ]
        tail.append(LegendSection(t("maps.legend_sites", lang), items=items))
    return head, tail


def _reference_legend(
    edges: gpd.GeoDataFrame | None,
    water: gpd.GeoDataFrame | None,
    boundary: gpd.GeoDataFrame | None,
    *,
    lang: str,
    basemap: str,
) -> list[LegendSection]:
    """Legend sections of the reference layers (street network, water, study area), last."""
    legend: list[LegendSection] = []
    if basemap == "none" and edges is not None and not edges.empty:
        items = [(swatch("#9e9e9e", shape="line"), "")]
        legend.append(LegendSection(t("maps.legend_network", lang), items=items))
    if water is not None and not water.empty:
        items = [(swatch(WATER_FILL, opacity=0.75), "")]
        legend.append(LegendSection(t("maps.legend_water", lang), items=items))
    if boundary is not None and not boundary.empty:
        items = [(swatch(BOUNDARY_COLOR, shape="dashed"), "")]
        legend.append(LegendSection(t("maps.layers.boundary", lang), items=items))
    return legend


def _finish(
    m: folium.Map,
    legend: list[LegendSection],
    bounds: list[list[float]] | None,
    *,
    lang: str,
    basemap: str,
    title: str | None,
    subtitle: str,
    asset_mode: AssetMode,
    static_prefix: str | None,
) -> folium.Map:
    """Centre the map, add the title, scale, north arrow, legend and layer control."""
    if bounds is not None:
        m.location = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    if basemap == "none":
        background_color(NO_TILES_BACKGROUND).add_to(m)
    if title:
        title_control(title, subtitle=subtitle).add_to(m)
    scale_control().add_to(m)
    north_arrow_control(lang=lang).add_to(m)
    legend_control(legend, lang=lang).add_to(m)
    if bounds is not None:
        # After the title and legend exist, so the fit can keep the district clear of them.
        _FitAround(bounds).add_to(m)
    # Collapsed to an icon: the open list covered the east of the district.
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    return localize_assets(m, mode=asset_mode, prefix=static_prefix)


def _bounds(frames: list[gpd.GeoDataFrame], basemap: str) -> list[list[float]] | None:
    boxes = []
    for f in frames:
        if f.empty:
            continue
        g = f if f.crs is None or f.crs.to_epsg() == 4326 else f.to_crs("EPSG:4326")
        boxes.append(g.total_bounds)
    if not boxes:
        return None
    arr = np.array(boxes, dtype="float64")
    arr = arr[np.isfinite(arr).all(axis=1)]
    if len(arr) == 0:
        return None
    x0, y0 = arr[:, 0].min(), arr[:, 1].min()
    x1, y1 = arr[:, 2].max(), arr[:, 3].max()
    box = gpd.GeoDataFrame(geometry=[shapely.box(x0, y0, x1, y1)], crs="EPSG:4326")
    x0, y0, x1, y1 = to_basemap_datum(box, basemap).total_bounds
    return [[float(y0), float(x0)], [float(y1), float(x1)]]


# --- point query routes and network edits (issue 13) --------------------------------------------

#: Route colours: reached within the criterion / not reached.
ROUTE_COLORS = {True: "#1a9850", False: "#d73027"}
#: Network edits: added links / closed streets; pending points of an edit being drawn.
EDIT_COLORS = {"add": "#2c7bb6", "close": "#000000", "pending": "#ff7f00"}


def route_layer(
    table: gpd.GeoDataFrame,
    *,
    point: tuple[float, float] | None = None,
    lang: str = "zh",
    basemap: str = "none",
) -> folium.FeatureGroup:
    """Walks from a query point to the nearest facility of each category, with a popup each.

    Parameters
    ----------
    table
        ``coverage.point_query.PointQuery.table`` (WGS-84): ``category, name_zh, name_en,
        facility_name, distance_m, minutes, covered`` and the route as ``geometry`` (rows
        without a route are skipped).
    point
        The query point ``(lon, lat)`` (WGS-84), drawn as a ring; ``None`` for none.
    lang
        Language of labels.
    basemap
        Basemap key (Amap shifts to GCJ-02).

    Returns
    -------
    folium.FeatureGroup
        Named ``最近设施路径`` / ``Routes to the nearest facilities``.
    """
    _check_frame(table, "routes", ["category", "facility_name", "distance_m", "covered"])
    group = folium.FeatureGroup(name=t("maps.routes.layer_routes", lang))
    rows = table[table.geometry.notna()]
    if len(rows):
        rows = prepare_frame(rows, basemap, simplify=False)
        name_col = "name_en" if lang == "en" else "name_zh"
        props = []
        for rec in rows.itertuples(index=False):
            covered = bool(rec.covered)
            cat = str(getattr(rec, name_col, rec.category))
            dist = float(rec.distance_m)
            values = [
                cat,
                rec.facility_name,
                f"{dist:,.0f}",
                f"{float(rec.minutes):.1f}",
                t("maps.routes.yes" if covered else "maps.routes.no", lang),
            ]
            style = {
                "color": ROUTE_COLORS[covered],
                "weight": 4,
                "opacity": 0.85,
                "dashArray": None if covered else "8 6",
            }
            tip = f"{cat} · {rec.facility_name} · {dist:,.0f} m"
            props.append(
                popup_props(f"{t('maps.routes.nearest', lang)} · {cat}", values, lang=lang)
                | {"style": style, "tip": esc(tip, lang=lang)}
            )
        labels = [
            t(k, lang)
            for k in ("maps.routes.category", "maps.routes.nearest", "maps.routes.distance",
                      "maps.routes.minutes", "maps.routes.covered")
        ]  # fmt: skip
        _add_features(group, rows, props, name="routes", labels=labels)
    if point is not None:
        pt = gpd.GeoDataFrame(geometry=gpd.points_from_xy([point[0]], [point[1]]), crs="EPSG:4326")
        pt = prepare_frame(pt, basemap, simplify=False)
        folium.CircleMarker(
            location=[float(pt.geometry.iloc[0].y), float(pt.geometry.iloc[0].x)],
            radius=7,
            color="#222222",
            weight=3,
            fill=True,
            fill_color="#ffffff",
            fill_opacity=1.0,
            tooltip=t("maps.routes.layer_query", lang),
        ).add_to(group)
    return group


def network_edit_layer(
    edits: gpd.GeoDataFrame, *, lang: str = "zh", basemap: str = "none"
) -> folium.FeatureGroup:
    """Network what-ifs as lines: added links blue, closed streets black dashed, pending orange.

    Parameters
    ----------
    edits
        WGS-84 lines with ``action`` (``add``, ``close`` or ``pending``), ``name`` and
        ``length_m`` (NaN when not applied yet).
    lang
        Language of labels.
    basemap
        Basemap key.

    Returns
    -------
    folium.FeatureGroup
        Named ``路网假设`` / ``Network what-ifs``.
    """
    _check_frame(edits, "network edits", ["action", "name", "length_m"])
    group = folium.FeatureGroup(name=t("maps.routes.layer_net_edits", lang))
    if len(edits) == 0:
        return group
    rows = prepare_frame(edits, basemap, simplify=False)
    props = []
    for rec in rows.itertuples(index=False):
        action = str(rec.action) if str(rec.action) in EDIT_COLORS else "pending"
        length = float(rec.length_m) if pd.notna(rec.length_m) else None
        style = {
            "color": EDIT_COLORS[action],
            "weight": 6 if action == "close" else 4,
            "opacity": 0.9,
            "dashArray": "2 6" if action != "add" else None,
        }
        action_text = t(f"maps.routes.{action}", lang)
        label = f"{action_text} · {rec.name}" if rec.name else action_text
        tip = label if length is None else f"{label} · {length:,.0f} m"
        props.append({"style": style, "tip": esc(tip, lang=lang)})
    _add_features(group, rows, props, name="network_edits", labels=[])
    return group
