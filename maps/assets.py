"""Serve Leaflet and its plugins from the app, never from a CDN.

Folium takes every JavaScript and CSS file from a CDN (``Map.default_js``/``default_css`` and each
plugin's own lists). Government intranets have no internet, so :func:`localize_assets` rewrites
those lists on a built map, either

- ``mode="static"``: to the app's own static files (Streamlit serves ``./static`` at
  ``/app/static/`` when ``server.enableStaticServing = true``), or
- ``mode="inline"``: the files' text goes into the page itself (CSS images and fonts as
  ``data:`` URIs), for the standalone HTML export that must open from a USB stick.

``static/vendor/`` is produced from the npm registry by ``scripts/vendor_assets.sh``.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, Literal

import folium
from branca.element import Element, Figure, MacroElement
from folium.elements import JSCSSMixin

from geo import settings
from geo.errors import CoverageToolError

logger = logging.getLogger(__name__)

__all__ = [
    "ICON_ASSETS",
    "NOT_VENDORED",
    "VENDORED",
    "VENDOR_DIR",
    "AssetError",
    "AssetMode",
    "asset_links",
    "inline_css_text",
    "inline_js_text",
    "localize_assets",
    "walk_elements",
]

AssetMode = Literal["static", "inline"]

#: Folder of the vendored files (served as ``<prefix>/vendor/...``).
VENDOR_DIR: Path = settings.project_root / "static" / "vendor"

#: Folium's asset names → our vendored file (relative to ``static/``).
VENDORED: dict[str, str] = {
    "leaflet": "vendor/leaflet/leaflet.js",
    "leaflet_css": "vendor/leaflet/leaflet.css",
    "jquery": "vendor/jquery/jquery.min.js",
    "bootstrap": "vendor/bootstrap/bootstrap.bundle.min.js",
    "bootstrap_css": "vendor/bootstrap/bootstrap.min.css",
    "awesome_markers": "vendor/leaflet.awesome-markers/leaflet.awesome-markers.js",
    "awesome_markers_css": "vendor/leaflet.awesome-markers/leaflet.awesome-markers.css",
    "awesome_markers_font_css": "vendor/fontawesome/css/all.min.css",
    "leaflet-heat.js": "vendor/leaflet.heat/leaflet-heat.js",
    "leaflet_draw_js": "vendor/leaflet.draw/leaflet.draw.js",
    "leaflet_draw_css": "vendor/leaflet.draw/leaflet.draw.css",
}

#: Folium defaults we do not ship: Bootstrap 3 glyphicons (use ``folium.Icon(prefix="fa")``) and
#: the rotation CSS of awesome markers (only for ``Icon(angle=...)``). They are dropped.
NOT_VENDORED: frozenset[str] = frozenset({"glyphicons_css", "awesome_rotate_css"})

#: Assets only ``folium.Icon`` markers need; dropped from maps without such markers.
ICON_ASSETS: frozenset[str] = frozenset(
    {"bootstrap", "bootstrap_css", "awesome_markers", "awesome_markers_css",
     "awesome_markers_font_css"}
)  # fmt: skip

_ORIGINAL_JS = "_lcc_original_js"
_ORIGINAL_CSS = "_lcc_original_css"
_CSS_URL = re.compile(r"url\((['\"]?)(?!data:|https?:|#)([^'\")?#]+)([?#][^'\")]*)?\1\)")


class AssetError(CoverageToolError, RuntimeError):
    """A map needs a JavaScript/CSS file that is not vendored in ``static/vendor``."""


def walk_elements(element: Any) -> Iterator[Any]:
    """Yield ``element`` and every descendant (folium/branca children, depth first)."""
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from walk_elements(child)


def asset_links(m: folium.Map) -> list[tuple[str, str, str]]:
    """Every JS/CSS link a map will load, as ``(kind, name, url)`` with kind ``"js"``/``"css"``."""
    out: list[tuple[str, str, str]] = []
    for el in walk_elements(m):
        if isinstance(el, JSCSSMixin):
            out += [("js", n, u) for n, u in el.default_js]
            out += [("css", n, u) for n, u in el.default_css]
    return out


def _vendored_path(name: str, url: str) -> Path:
    rel = VENDORED.get(name)
    if rel is None:
        msg = (
            f"map asset {name!r} ({url}) is not vendored, so the map would need the internet; "
            "add the npm package to scripts/vendor_assets.sh, rerun it and map the name in "
            "maps/assets.py VENDORED"
        )
        raise AssetError(msg)
    path = VENDOR_DIR.parent / rel
    if not path.is_file():
        msg = (
            f"vendored asset {rel!r} is missing from {VENDOR_DIR.parent}; "
            "run scripts/vendor_assets.sh"
        )
        raise AssetError(msg)
    return path


def _uses_icons(m: folium.Map) -> bool:
    return any(isinstance(el, folium.Icon) for el in walk_elements(m))


def _uses_jquery(m: folium.Map) -> bool:
    # folium builds Popup content with $(...), loads non-embedded GeoJson with $.ajax and keeps
    # layers in front on $(document).ready. Our layers use none of these.
    for el in walk_elements(m):
        if isinstance(el, folium.Popup | folium.Icon) or (
            isinstance(el, folium.GeoJson) and not el.embed
        ):
            return True
    return bool(getattr(m, "objects_to_stay_in_front", None))


def localize_assets(
    m: folium.Map,
    *,
    mode: AssetMode = "static",
    prefix: str | None = None,
    minimal: bool = True,
) -> folium.Map:
    """Point every JS/CSS asset of a map at vendored files (or inline them).

    The map is changed in place (folium maps are builders) and returned for chaining. Calling it
    again with another mode is allowed: the original lists are remembered on each element.

    Parameters
    ----------
    m
        A built map, with all its layers and plugins added.
    mode
        ``"static"``: URLs under ``prefix``; ``"inline"``: file contents in the page.
    prefix
        URL prefix at which ``static/`` is served; ``settings.static_url_prefix`` by default.
    minimal
        Drop Bootstrap, awesome-markers and Font Awesome when no ``folium.Icon`` is used (our
        maps draw DivIcons with the category glyph), and jQuery when nothing needs it
        (``folium.Popup``, non-embedded GeoJson, ``keep_in_front``), so they load Leaflet only.

    Returns
    -------
    folium.Map
        The same map.

    Raises
    ------
    AssetError
        A plugin needs a file that is not vendored (the message names it and the fix).
    """
    if mode not in ("static", "inline"):
        msg = f"asset mode: expected 'static' or 'inline', got {mode!r}"
        raise AssetError(msg)
    prefix = (settings.static_url_prefix if prefix is None else prefix).rstrip("/")
    drop = set(NOT_VENDORED)
    if minimal and not _uses_icons(m):
        drop |= ICON_ASSETS
    if minimal and not _uses_jquery(m):
        drop.add("jquery")
    inline_js: list[tuple[str, Path]] = []
    inline_css: list[tuple[str, Path]] = []
    for el in walk_elements(m):
        if not isinstance(el, JSCSSMixin):
            continue
        if not hasattr(el, _ORIGINAL_JS):
            setattr(el, _ORIGINAL_JS, list(el.default_js))
            setattr(el, _ORIGINAL_CSS, list(el.default_css))
        js = [(n, u) for n, u in getattr(el, _ORIGINAL_JS) if n not in drop]
        css = [(n, u) for n, u in getattr(el, _ORIGINAL_CSS) if n not in drop]
        if mode == "static":
            # Instance attributes shadow the class lists; folium and st_folium read them.
            for n, u in js + css:
                _vendored_path(n, u)  # raises when a file is not shipped
            el.default_js = [(n, f"{prefix}/{VENDORED[n]}") for n, _ in js]
            el.default_css = [(n, f"{prefix}/{VENDORED[n]}") for n, _ in css]
        else:
            inline_js += [(n, _vendored_path(n, u)) for n, u in js]
            inline_css += [(n, _vendored_path(n, u)) for n, u in css]
            el.default_js = []
            el.default_css = []
    for key in [k for k, c in m._children.items() if isinstance(c, _InlineAssets)]:
        del m._children[key]
    if mode == "inline":
        m.add_child(_InlineAssets(_dedupe(inline_js), _dedupe(inline_css)))
    return m


def _dedupe(items: list[tuple[str, Path]]) -> list[tuple[str, Path]]:
    return list(dict(items).items())


class _InlineAssets(MacroElement):
    """Puts the text of vendored JS/CSS into the page header, in load order."""

    def __init__(self, js: list[tuple[str, Path]], css: list[tuple[str, Path]]) -> None:
        super().__init__()
        self._name = "InlineAssets"
        self.js = js
        self.css = css

    def render(self, **kwargs: Any) -> Any:
        """Add one ``<style>``/``<script>`` per asset to the figure header."""
        figure = self.get_root()
        if not isinstance(figure, Figure):
            msg = "inline assets: the map must be inside a Figure before rendering"
            raise AssetError(msg)
        for name, path in self.css:
            figure.header.add_child(Element(f"<style>{inline_css_text(path)}</style>"), name=name)
        for name, path in self.js:
            figure.header.add_child(Element(f"<script>{inline_js_text(path)}</script>"), name=name)
        return super().render(**kwargs)


@cache
def inline_js_text(path: Path) -> str:
    """A vendored script's text, safe inside ``<script>`` (no literal ``</script``)."""
    return path.read_text(encoding="utf-8").replace("</script", "<\\/script")


@cache
def inline_css_text(path: Path) -> str:
    """A vendored stylesheet's text with relative ``url(...)`` files embedded as ``data:`` URIs."""
    text = path.read_text(encoding="utf-8")

    def embed(match: re.Match[str]) -> str:
        target = (path.parent / match.group(2)).resolve()
        if not target.is_file():
            # e.g. Font Awesome's .ttf fallbacks: we ship woff2 only; browsers take the woff2.
            return "url(data:,)"
        mime = mimetypes.guess_type(target.name)[0] or _FONT_TYPES.get(target.suffix, "")
        data = base64.b64encode(target.read_bytes()).decode("ascii")
        return f"url(data:{mime};base64,{data})"

    return _CSS_URL.sub(embed, text).replace("</style", "<\\/style")


_FONT_TYPES = {".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf"}
