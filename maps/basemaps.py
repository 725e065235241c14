"""Basemaps: OpenStreetMap, Amap (高德), Tianditu (天地图) tiles, or the street network itself.

Amap tiles are drawn in GCJ-02 (the offset datum Chinese law requires), so our WGS-84 layers are
shifted to GCJ-02 before they are drawn on them (:func:`to_basemap_datum`); OSM and Tianditu
(CGCS2000, within centimetres of WGS-84) need no shift. ``"none"`` draws no tiles at all: the
street network becomes a light base layer, the right choice on an intranet with no tile server.
"""

from __future__ import annotations

import logging
from typing import Literal
from urllib.parse import quote

import folium
import geopandas as gpd
import numpy as np
import shapely

from geo import settings
from geo.datum import from_wgs84
from geo.errors import ConfigError
from geo.messages import msg
from maps.i18n import t

__all__ = [
    "BASEMAPS",
    "Basemap",
    "add_basemap",
    "check_basemap",
    "network_layer",
    "round_coordinates",
    "to_basemap_datum",
]

logger = logging.getLogger(__name__)

Basemap = Literal["osm", "amap", "tianditu", "none"]

#: Basemap keys in the order the app offers them.
BASEMAPS: tuple[str, ...] = ("none", "osm", "amap", "tianditu")

#: The datum each basemap's tiles are drawn in.
BASEMAP_DATUM: dict[str, str] = {
    "osm": "wgs84",
    "amap": "gcj02",
    "tianditu": "wgs84",
    "none": "wgs84",
}

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTR = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
AMAP_TILES = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
AMAP_ATTR = "&copy; 高德地图 AutoNavi"
TIANDITU_TILES = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)
TIANDITU_ATTR = "&copy; 天地图 Tianditu"

#: Style of the street network when drawn as the base layer.
NETWORK_STYLE: dict[str, object] = {"color": "#9e9e9e", "weight": 1.2, "opacity": 0.8}


def check_basemap(basemap: str) -> str:
    """Return ``basemap`` if known, else raise a :class:`ConfigError` naming the choices."""
    if basemap not in BASEMAP_DATUM:
        raise ConfigError(
            msg("maps.basemaps.unknown", basemap=basemap, choices=", ".join(BASEMAPS))
        )
    return basemap


def to_basemap_datum(gdf: gpd.GeoDataFrame, basemap: str) -> gpd.GeoDataFrame:
    """Return a copy of a WGS-84 GeoDataFrame in the datum of ``basemap``'s tiles.

    Parameters
    ----------
    gdf
        Any geometry type, in EPSG:4326 (other CRSs are converted first).
    basemap
        A key of :data:`BASEMAP_DATUM`.

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame; coordinates shifted to GCJ-02 for Amap, unchanged otherwise. The CRS stays
        labelled EPSG:4326 because Leaflet reads the numbers as plain degrees.
    """
    datum = BASEMAP_DATUM[check_basemap(basemap)]
    out = gdf.to_crs("EPSG:4326") if gdf.crs is not None else gdf.copy()
    if datum == "wgs84" or out.empty:
        return out.copy() if out is gdf else out

    def shift(xy: np.ndarray) -> np.ndarray:
        lon, lat = from_wgs84(xy[:, 0], xy[:, 1], crs=datum)
        return np.column_stack([lon, lat])

    out = out.copy()
    out.geometry = shapely.transform(out.geometry.values, shift)
    return out


def add_basemap(
    m: folium.Map,
    basemap: str,
    *,
    lang: str = "zh",
    network_edges: gpd.GeoDataFrame | None = None,
    tianditu_key: str | None = None,
) -> folium.Map:
    """Add the tile layer(s) of ``basemap`` (or the street network as the base) to a map.

    Parameters
    ----------
    m
        A map created with ``tiles=None``.
    basemap
        ``"osm"``, ``"amap"``, ``"tianditu"`` or ``"none"``.
    lang
        Language of the layer names.
    network_edges
        Street edges (lines, already in the basemap's datum); drawn as the base layer for
        ``"none"``. Ignored for tile basemaps (:mod:`maps.layers` adds them as an overlay).
    tianditu_key
        Tianditu key; ``settings.tianditu_key`` by default.

    Returns
    -------
    folium.Map
        The same map, for chaining.

    Raises
    ------
    ConfigError
        Unknown basemap, or Tianditu without a key.
    """
    check_basemap(basemap)
    if basemap == "osm":
        folium.TileLayer(
            OSM_TILES, attr=OSM_ATTR, name=t("maps.basemap_osm", lang), max_zoom=19
        ).add_to(m)
    elif basemap == "amap":
        folium.TileLayer(
            AMAP_TILES, attr=AMAP_ATTR, name=t("maps.basemap_amap", lang), subdomains="1234",
            max_zoom=18,
        ).add_to(m)  # fmt: skip
    elif basemap == "tianditu":
        key = settings.tianditu_key if tianditu_key is None else tianditu_key
        if not key:
            raise ConfigError(msg("maps.basemaps.tianditu_key"))
        for layer, name in (
            ("vec", "maps.basemap_tianditu"),
            ("cva", "maps.basemap_tianditu_labels"),
        ):
            folium.TileLayer(
                TIANDITU_TILES.format(layer=layer, key=quote(key, safe="")),
                attr=TIANDITU_ATTR,
                name=t(name, lang),
                subdomains="01234567",
                max_zoom=18,
                overlay=layer == "cva",
                control=layer == "vec",
            ).add_to(m)
    elif network_edges is not None and not network_edges.empty:
        network_layer(network_edges, name=t("maps.basemap_none", lang), overlay=False).add_to(m)
    return m


def network_layer(
    edges: gpd.GeoDataFrame, *, name: str, overlay: bool = True, show: bool = True
) -> folium.FeatureGroup:
    """The street network as one light MultiLineString layer (no attributes, small payload).

    Parameters
    ----------
    edges
        Street edges in EPSG:4326 (already shifted for the basemap).
    name
        Layer name in the layer control.
    overlay
        ``False`` makes it a base layer (a radio choice) — used when there are no tiles.
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    folium.FeatureGroup
        The group holding one GeoJson of the whole network.
    """
    group = folium.FeatureGroup(name=name, overlay=overlay, show=show, control=True)
    lines = [
        g for g in shapely.get_parts(edges.geometry.values) if g is not None and not g.is_empty
    ]
    if not lines:
        return group
    lines_all = shapely.multilinestrings(lines)
    # A city-wide network can hold millions of vertices: simplify harder until the browser
    # payload fits (the base layer is context, a few metres of detail do not matter).
    tol_m = settings.map_simplify_m
    merged = shapely.simplify(lines_all, tol_m / 111_320.0)
    while shapely.get_num_coordinates(merged) > settings.map_max_network_vertices and tol_m < 100:
        tol_m *= 3
        merged = shapely.simplify(lines_all, tol_m / 111_320.0)
    if tol_m > settings.map_simplify_m:
        logger.info("street network simplified at %.0f m for the map", tol_m)
    merged = round_coordinates(merged)
    feature = {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(merged)}
    style = dict(NETWORK_STYLE)
    folium.GeoJson(
        {"type": "FeatureCollection", "features": [feature]},
        style_function=lambda _f: style,
        interactive=False,
        name=name,
        control=False,
    ).add_to(group)
    return group


def round_coordinates(geom: shapely.Geometry, decimals: int | None = None) -> shapely.Geometry:
    """Round coordinates for the browser (``settings.map_coordinate_decimals``, ≈0.1 m at 6)."""
    nd = settings.map_coordinate_decimals if decimals is None else decimals
    return shapely.transform(geom, lambda xy: np.round(xy, nd))
