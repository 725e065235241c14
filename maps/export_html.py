"""Standalone HTML map: one file that opens offline (Leaflet and plugins inlined).

Meetings often run from a laptop with no internet or from a USB stick; the exported file carries
every script and stylesheet itself. Only tile URL templates remain when a tile basemap is chosen
(the map still draws all our layers when the tiles do not load); with ``basemap="none"`` the file
needs no server at all.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Any

import folium

from maps.assets import localize_assets
from maps.layers import coverage_map

__all__ = [
    "map_to_html",
    "standalone_map_html",
    "write_map_html",
]

logger = logging.getLogger(__name__)


def map_to_html(m: folium.Map) -> bytes:
    """Render a map as a standalone UTF-8 HTML document with every asset inlined.

    Parameters
    ----------
    m
        A built map (static or inline assets). Its asset lists are switched to inline mode in
        place (:func:`maps.assets.localize_assets`).

    Returns
    -------
    bytes
        The HTML document.
    """
    localize_assets(m, mode="inline")
    page = m.get_root().render()
    data = page.encode("utf-8")
    logger.info("standalone map HTML: %d bytes", len(data))
    return data


def standalone_map_html(**coverage_map_kwargs: Any) -> bytes:
    """Build a coverage map (:func:`maps.layers.coverage_map` arguments) as standalone HTML.

    The document gets the map's title as its ``<title>`` (the browser tab and bookmarks).
    """
    coverage_map_kwargs["asset_mode"] = "inline"
    data = map_to_html(coverage_map(**coverage_map_kwargs))
    title = str(coverage_map_kwargs.get("title") or "").strip()
    if title and b"<title>" not in data:
        tag = f"<title>{html.escape(title)}</title>".encode()
        data = data.replace(b"<head>", b"<head>\n    " + tag, 1)
    return data


def write_map_html(m: folium.Map, path: str | Path) -> Path:
    """Write :func:`map_to_html` of ``m`` to ``path`` and return the path."""
    path = Path(path)
    path.write_bytes(map_to_html(m))
    return path
