"""The Coverage map's line tool: Leaflet.draw (polyline only), served from ``static/vendor``.

The planner draws a line on the map for a network what-if (a new link or streets to close);
``st_folium`` hands the drawing back as GeoJSON (``last_active_drawing``). Folium's
:class:`folium.plugins.Draw` loads Leaflet.draw from a CDN; :func:`add_line_tool` adds it and
points its files at the vendored copies (:func:`maps.assets.localize_assets`), so the tool works
on an intranet with no internet. The toolbar's tooltips are set in the map's language.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import folium
from branca.element import MacroElement
from folium.plugins import Draw
from folium.template import Template

from geo.messages import text
from maps.assets import localize_assets

logger = logging.getLogger(__name__)

__all__ = ["LINE_COLOR", "add_line_tool", "drawn_line"]

#: Colour of the line while it is drawn and after (the pending edit is orange on our layer).
LINE_COLOR = "#e66101"

#: Leaflet.draw texts we show (the polyline tool and the delete tool), by ``L.drawLocal`` path.
_LOCAL_TEXTS: dict[str, str] = {
    "draw.toolbar.buttons.polyline": "whatif.draw.button",
    "draw.toolbar.actions.title": "whatif.draw.cancel_title",
    "draw.toolbar.actions.text": "whatif.draw.cancel",
    "draw.toolbar.finish.title": "whatif.draw.finish_title",
    "draw.toolbar.finish.text": "whatif.draw.finish",
    "draw.toolbar.undo.title": "whatif.draw.undo_title",
    "draw.toolbar.undo.text": "whatif.draw.undo",
    "draw.handlers.polyline.tooltip.start": "whatif.draw.tip_start",
    "draw.handlers.polyline.tooltip.cont": "whatif.draw.tip_cont",
    "draw.handlers.polyline.tooltip.end": "whatif.draw.tip_end",
    "edit.toolbar.buttons.remove": "whatif.draw.remove",
    "edit.toolbar.buttons.removeDisabled": "whatif.draw.remove_none",
    "edit.handlers.remove.tooltip.text": "whatif.draw.remove_tip",
    "edit.toolbar.actions.save.text": "whatif.draw.save",
    "edit.toolbar.actions.save.title": "whatif.draw.save_title",
    "edit.toolbar.actions.cancel.text": "whatif.draw.cancel",
    "edit.toolbar.actions.cancel.title": "whatif.draw.cancel_title",
    "edit.toolbar.actions.clearAll.text": "whatif.draw.clear_all",
    "edit.toolbar.actions.clearAll.title": "whatif.draw.clear_all_title",
}


class _DrawTexts(MacroElement):
    """Sets ``L.drawLocal`` before the Draw control is built (its tooltips read it then)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            (function (texts) {
                for (const [path, value] of Object.entries(texts)) {
                    const keys = path.split(".");
                    let node = L.drawLocal;
                    for (const k of keys.slice(0, -1)) { node = node[k] = node[k] || {}; }
                    node[keys[keys.length - 1]] = value;
                }
            })({{ this.texts_json }});
        {% endmacro %}
        """
    )

    def __init__(self, texts: dict[str, str]) -> None:
        super().__init__()
        self._name = "DrawTexts"
        self.texts_json = json.dumps(texts, ensure_ascii=False)


def add_line_tool(m: folium.Map, *, lang: str = "zh", prefix: str | None = None) -> Draw:
    """Add the polyline drawing tool to ``m`` and load Leaflet.draw from the vendored files.

    The map is changed in place (folium maps are builders); pass a copy of a shared map.

    Parameters
    ----------
    m
        A built map (its other assets are localised again along with the tool's).
    lang
        Language of the toolbar's tooltips.
    prefix
        URL prefix of ``static/`` (``settings.static_url_prefix`` by default).

    Returns
    -------
    folium.plugins.Draw
        The control added.
    """
    texts = {path: text(code, lang) for path, code in _LOCAL_TEXTS.items()}
    m.add_child(_DrawTexts(texts))
    shape = {"color": LINE_COLOR, "weight": 5, "opacity": 0.9}
    tool = Draw(
        position="topleft",
        show_geometry_on_click=False,
        draw_options={
            "polyline": {"shapeOptions": shape, "showLength": True, "metric": True},
            "polygon": False,
            "rectangle": False,
            "circle": False,
            "marker": False,
            "circlemarker": False,
        },
        # Remove only: a line is changed by drawing it again.
        edit_options={"edit": False, "remove": True},
    )
    m.add_child(tool)
    localize_assets(m, mode="static", prefix=prefix)
    return tool


def drawn_line(feature: Any) -> list[tuple[float, float]] | None:
    """The ``(lon, lat)`` points of a drawn polyline (GeoJSON Feature), or None for other shapes.

    ``st_folium`` returns ``last_active_drawing`` as a GeoJSON Feature; coordinates are rounded
    to 1e-6 degrees (about 0.1 m), which is what the edit keeps.
    """
    if not isinstance(feature, dict):
        return None
    geom = feature.get("geometry")
    if not isinstance(geom, dict) or geom.get("type") != "LineString":
        return None
    try:
        pts = [(round(float(p[0]), 6), round(float(p[1]), 6)) for p in geom.get("coordinates", [])]
    except (TypeError, ValueError, IndexError):
        return None
    return pts if len(pts) >= 2 else None
