"""Maps for the pages: ``maps.layers.coverage_map`` fed from the session's data, cached.

A map is rebuilt only when something drawn on it changes (dataset, criteria, category, language,
basemap, gaps, sites); panning and zooming never reach Python because ``st_folium`` is called with
no (or only the needed) returned objects.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import shapely
import streamlit as st

from ui import state

WGS84 = "EPSG:4326"
BASEMAP = "basemap"
BASEMAPS = ("none", "osm", "amap", "tianditu")


def basemap() -> str:
    """The session's basemap key ("none" = street network only, works offline)."""
    value = st.session_state.get(BASEMAP, "none")
    return value if value in BASEMAPS else "none"


def edges_wgs84(ds: state.Dataset) -> gpd.GeoDataFrame:
    """The street network as WGS-84 lines (cached per network)."""
    net_key = dict(ds.parts).get("network", ds.key)

    def build() -> gpd.GeoDataFrame:
        return ds.network.edges_gdf(to_crs=WGS84)[["length", "geometry"]]

    return state.cached("edges", (net_key,), build)


def layers(
    ds: state.Dataset,
    choice: state.CriteriaChoice,
    category: str,
    *,
    show_gaps: bool = False,
    sites: gpd.GeoDataFrame | None = None,
    edits: tuple[Any, ...] = (),
) -> dict[str, Any]:
    """The frames of one category's map, as keyword arguments of ``maps.layers.coverage_map``.

    ``edits`` (what-if additions, a scenario) are applied first, so the facilities and the
    service area drawn are the scenario's. The same dictionary feeds the exports
    (``standalone_map_html``, ``render_map_png``), so the downloaded map is the one on screen.
    """
    facilities = ds.facilities
    if edits:
        facilities = state.scenario_result(ds, choice, edits, name="what-if").result.facilities
    return {
        "facilities": facilities,
        "demand": ds.demand,
        "service_areas": state.service_areas(ds, choice, category, edits),
        "gaps": state.gaps(ds, choice, category) if show_gaps else None,
        "sites": _sites_frame(sites, category),
        "network_edges": edges_wgs84(ds),
        "categories": [category],
        "water": ds.water,
    }


def coverage(
    ds: state.Dataset,
    choice: state.CriteriaChoice,
    category: str,
    *,
    show_gaps: bool = False,
    sites: gpd.GeoDataFrame | None = None,
    edits: tuple[Any, ...] = (),
) -> Any:
    """The coverage map of one category (facilities, service area, demand, optional gaps/sites).

    The map is cached; never change the returned object in place.
    """
    return coverage_for(
        ds, choice, category, lang=state.lang(), base=basemap(), show_gaps=show_gaps,
        sites=sites, edits=edits,
    )  # fmt: skip


def coverage_for(
    ds: state.Dataset,
    choice: state.CriteriaChoice,
    category: str,
    *,
    lang: str,
    base: str,
    show_gaps: bool = False,
    sites: gpd.GeoDataFrame | None = None,
    edits: tuple[Any, ...] = (),
) -> Any:
    """:func:`coverage` with the language and basemap given.

    Reads no session state, so the warm-up thread can call it; cached under the same key as
    :func:`coverage`, so a warmed map is the one the page shows.
    """
    key = (
        ds.key, choice, category, lang, base, show_gaps, sites_key(sites),
        state.edits_token(edits) if edits else "",
    )  # fmt: skip

    def build() -> Any:
        from maps.layers import coverage_map

        return coverage_map(
            **layers(ds, choice, category, show_gaps=show_gaps, sites=sites, edits=edits),
            off_network=off_network(ds, choice),
            boundary=ds.boundary,
            basemap=base,
            lang=lang,
            title=ds.name(lang),
            subtitle=subtitle(ds, choice, category, lang=lang),
        )

    return state.cached("coverage_map", key, build)


def off_network(ds: state.Dataset, choice: state.CriteriaChoice) -> gpd.GeoDataFrame:
    """Demand points farther than the snap tolerance from any street (drawn as their own layer)."""
    demand = state.analysis(ds, choice).demand
    return demand[~demand["snapped"].to_numpy(dtype=bool)]


def sites_key(sites: gpd.GeoDataFrame | None) -> str:
    """Content token of a sites frame ("" for none)."""
    if sites is None or len(sites) == 0:
        return ""
    return state.frame_token(sites)


def subtitle(
    ds: state.Dataset, choice: state.CriteriaChoice, category: str, *, lang: str | None = None
) -> str:
    """Criterion of the category, plus the synthetic-data stamp when it applies."""
    from maps.i18n import t

    lang = lang or state.lang()
    crit = choice.criteria()[category].label(lang)
    if ds.synthetic:
        return f"{crit} · {t('maps.synthetic_demo', lang)}"
    return crit


def _sites_frame(sites: gpd.GeoDataFrame | None, category: str) -> gpd.GeoDataFrame | None:
    if sites is None or len(sites) == 0:
        return None
    out = sites.copy()
    if out.crs is not None and out.crs.to_epsg() != 4326:
        out = out.to_crs(WGS84)
    if "category" not in out:
        out["category"] = category
    if "name" not in out:
        out["name"] = [f"#{i}" for i in range(1, len(out) + 1)]
    return out


def focus(geometry: shapely.Geometry) -> tuple[tuple[float, float], int]:
    """Centre (lat, lon) and a zoom level that frames ``geometry`` (WGS-84)."""
    minx, miny, maxx, maxy = geometry.bounds
    span = max(maxx - minx, maxy - miny, 1e-4)
    # Web-mercator zoom that shows ~1.5x the span in a ~600 px map.
    zoom = 17
    while zoom > 10 and span * 1.5 > 360 / 2**zoom * 2.3:
        zoom -= 1
    return ((miny + maxy) / 2, (minx + maxx) / 2), zoom


def comparison(
    ds: state.Dataset, choice: state.CriteriaChoice, category: str, *, scenario: Any
) -> Any:
    """Map of one scenario: its facilities and service area, newly covered and lost areas."""
    edits = tuple(scenario.edits)
    lang = state.lang()
    key = (ds.key, choice, category, lang, basemap(), scenario.name, state.edits_token(edits))

    def build() -> Any:
        from coverage.scenarios import change_areas
        from maps.layers import coverage_map

        applied = state.scenario_result(ds, choice, edits, name=scenario.name)
        areas = change_areas(state.analysis(ds, choice), [applied], categories=[category])
        # Newly covered / losing residents go in the map's own legend, above the density layer.
        return coverage_map(
            **layers(ds, choice, category, edits=edits),
            boundary=ds.boundary,
            changes=areas,
            basemap=basemap(),
            lang=lang,
            title=f"{ds.name(lang)} · {scenario.name}",
            subtitle=subtitle(ds, choice, category, lang=lang),
        )

    return state.cached("comparison_map", key, build)


def tr_text(key: str, lang: str) -> str:
    """A page label in ``lang`` (for code that builds maps outside a widget context)."""
    from maps.i18n import t

    return t(key, lang)


def show_with_layers(
    fmap: Any,
    groups: list[Any],
    *,
    key: str,
    returned_objects: list[str],
    line_tool: bool = False,
) -> dict[str, Any]:
    """Show a cached map with per-session layers (query routes, network edits) on top.

    The layers go through ``st_folium``'s ``feature_group_to_add``: the base map stays the same
    component, so a click redraws only them (a changed map under the same key was left blank).
    ``line_tool`` adds the offline line-drawing tool (:func:`maps.draw.add_line_tool`).
    """
    import copy

    from streamlit_folium import st_folium

    from ui.widgets import MAP_HEIGHT

    # st_folium rewrites the map while rendering it; the cached map is shared.
    shown = copy.deepcopy(fmap)
    if line_tool:
        from maps.draw import add_line_tool

        add_line_tool(shown, lang=state.lang())
    out = st_folium(
        shown,
        key=key,
        height=MAP_HEIGHT,
        use_container_width=True,
        returned_objects=returned_objects,
        feature_group_to_add=groups or None,
    )
    return out or {}


def route_group(answer: Any, *, lang: str | None = None) -> Any:
    """The routes of a point query (``coverage.point_query.PointQuery``) as a map layer."""
    from maps.layers import route_layer

    return route_layer(
        answer.table, point=(answer.lon, answer.lat), lang=lang or state.lang(), basemap=basemap()
    )


def edit_group(lines: gpd.GeoDataFrame, *, lang: str | None = None) -> Any:
    """Network edits (applied and pending) as a map layer."""
    from maps.layers import network_edit_layer

    return network_edit_layer(lines, lang=lang or state.lang(), basemap=basemap())
