"""Map furniture as Leaflet controls: legend, title and north arrow (HTML, zh/en, offline).

Each is a :class:`MapControl` — a ``L.Control`` whose content is HTML built here with every
user-supplied text escaped. Controls live inside the map (not in the page around it), so they
show in Streamlit's map iframe and in the standalone HTML export alike, with no icon fonts.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

from branca.element import MacroElement
from jinja2 import Template

from maps.i18n import t

__all__ = [
    "LegendSection",
    "background_color",
    "glyph_html",
    "legend_control",
    "north_arrow_control",
    "number_html",
    "scale_control",
    "swatch",
    "title_control",
    "trial_glyph_html",
]

#: Style of the legend, title and north-arrow boxes.
CONTROL_CSS = (
    "background:rgba(255,255,255,0.92);padding:6px 8px;border-radius:4px;"
    "box-shadow:0 1px 4px rgba(0,0,0,0.3);font:12px/1.4 'Noto Sans CJK SC','Microsoft YaHei',"
    "'PingFang SC',sans-serif;color:#222;"
)


class MapControl(MacroElement):
    """A Leaflet control showing fixed HTML at a corner of the map.

    Parameters
    ----------
    content
        Trusted HTML (build it with escaped values).
    position
        ``"topleft"``, ``"topright"``, ``"bottomleft"`` or ``"bottomright"``.
    kind
        A short word for the CSS class (``lcc-legend``, ``lcc-title``...), for tests and styling.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
        {{ this.get_name() }}.onAdd = function (map) {
            var div = L.DomUtil.create('div', {{ ('lcc-control lcc-' ~ this.kind)|tojson }});
            div.innerHTML = {{ this.content|tojson }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, content: str, *, position: str = "bottomright", kind: str = "box") -> None:
        super().__init__()
        self._name = "MapControl"
        self.content = content
        self.position = position
        self.kind = kind


class _Background(MacroElement):
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.getContainer().style.background = {{ this.color|tojson }};
        {% endmacro %}
        """
    )

    def __init__(self, color: str) -> None:
        super().__init__()
        self._name = "Background"
        self.color = color


class _MetricScale(MacroElement):
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false, maxWidth: 150}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "MetricScale"


def scale_control() -> MacroElement:
    """A metric-only scale bar (folium's ``control_scale`` adds miles and feet too)."""
    return _MetricScale()


def background_color(color: str) -> MacroElement:
    """An element that sets the map's background colour (seen where no tiles are drawn)."""
    return _Background(color)


@dataclass
class LegendSection:
    """One titled block of a legend: swatches with labels, or a colour ramp."""

    title: str
    items: list[tuple[str, str]] = field(default_factory=list)  # (swatch html, label)
    ramp: tuple[Sequence[str], str, str] | None = None  # (colours, low label, high label)


def swatch(color: str, *, shape: str = "box", text: str = "", opacity: float = 1.0) -> str:
    """HTML of a small legend swatch.

    Parameters
    ----------
    color
        CSS colour (e.g. ``"#e6550d"``).
    shape
        ``"box"`` (filled area), ``"line"`` (a stroke), ``"dashed"`` (a dashed outline),
        ``"glyph"`` (a round badge with ``text``), ``"trial"`` (a hollow dashed badge),
        ``"number"`` (a numbered marker) or ``"badge"`` (a rounded label with ``text``).
    text
        The glyph or label inside the swatch (escaped here).
    opacity
        Fill opacity of a box.
    """
    c = html.escape(color, quote=True)
    if shape == "line":
        return (
            '<span style="display:inline-block;width:18px;height:0;'
            f'border-top:2px solid {c};vertical-align:middle"></span>'
        )
    if shape == "dashed":
        return (
            '<span style="display:inline-block;width:18px;height:0;'
            f'border-top:2px dashed {c};vertical-align:middle"></span>'
        )
    if shape == "glyph":
        return glyph_html(text, color, size=16)
    if shape == "trial":
        return trial_glyph_html(text, color, size=18)
    if shape == "number":
        return number_html(text, color, size=18)
    if shape == "badge":
        return badge_html(text, color)
    return (
        f'<span style="display:inline-block;width:16px;height:12px;background:{c};'
        f'opacity:{opacity:.2f};border:1px solid {c};vertical-align:middle"></span>'
    )


def glyph_html(glyph: str, color: str, *, size: int = 22) -> str:
    """A round badge with a Chinese glyph (the category marker; no icon font needed)."""
    c = html.escape(color, quote=True)
    return (
        f'<div style="width:{size}px;height:{size}px;border-radius:50%;background:{c};'
        f"color:#fff;border:1.5px solid #fff;box-shadow:0 0 2px rgba(0,0,0,0.6);"
        f"font:bold {int(size * 0.6)}px/{size - 3}px "
        "'Noto Sans CJK SC','Microsoft YaHei',sans-serif;"
        f'text-align:center;display:inline-block">{html.escape(glyph)}</div>'
    )


def badge_html(text: str, color: str) -> str:
    """A rounded label (used for proposed sites: "+1,200 人")."""
    c = html.escape(color, quote=True)
    return (
        f'<div style="display:inline-block;white-space:nowrap;background:#fff;color:{c};'
        f"border:2px solid {c};border-radius:10px;padding:0 5px;font:bold 12px/16px "
        f"'Noto Sans CJK SC','Microsoft YaHei',sans-serif;box-shadow:0 0 3px rgba(0,0,0,0.4)\">"
        f"★ {html.escape(text)}</div>"
    )


def number_html(text: str, color: str, *, size: int = 22) -> str:
    """A small round marker with a number (proposed sites, numbered as in the sites table)."""
    c = html.escape(color, quote=True)
    return (
        f'<div style="width:{size}px;height:{size}px;border-radius:50%;background:{c};'
        f"color:#fff;border:2px solid #fff;box-sizing:border-box;"
        f"box-shadow:0 0 3px rgba(0,0,0,0.7);font:bold {int(size * 0.55)}px/{size - 4}px "
        "'Noto Sans CJK SC','Microsoft YaHei',sans-serif;"
        f'text-align:center;display:inline-block">{html.escape(text)}</div>'
    )


def trial_glyph_html(glyph: str, color: str, *, size: int = 22) -> str:
    """A trial (what-if) facility: the category glyph on white in a dashed ring.

    Existing facilities are filled badges (:func:`glyph_html`); a trial site is hollow and
    dashed, so the two never read as the same thing.
    """
    c = html.escape(color, quote=True)
    return (
        f'<div style="width:{size}px;height:{size}px;border-radius:50%;background:#fff;'
        f"color:{c};border:2.5px dashed {c};box-sizing:border-box;"
        f"box-shadow:0 0 3px rgba(0,0,0,0.6);font:bold {int(size * 0.55)}px/{size - 5}px "
        "'Noto Sans CJK SC','Microsoft YaHei',sans-serif;"
        f'text-align:center;display:inline-block">{html.escape(glyph)}</div>'
    )


def legend_html(sections: Sequence[LegendSection], *, lang: str = "zh") -> str:
    """HTML of a legend box from sections (titles and labels are escaped here)."""
    parts = [f'<div style="{CONTROL_CSS}max-width:260px">']
    parts.append(f"<b>{html.escape(t('maps.legend_title', lang))}</b>")
    for sec in sections:
        parts.append(f'<div style="margin-top:4px;font-weight:bold">{html.escape(sec.title)}</div>')
        for sw, label in sec.items:
            parts.append(f'<div style="margin:1px 0">{sw} {html.escape(label)}</div>')
        if sec.ramp is not None:
            colors, low, high = sec.ramp
            stops = ",".join(html.escape(c, quote=True) for c in colors)
            parts.append(
                '<div style="width:160px;height:10px;'
                f'background:linear-gradient(to right,{stops})"></div>'
                f'<div style="width:160px;display:flex;justify-content:space-between">'
                f"<span>{html.escape(low)}</span><span>{html.escape(high)}</span></div>"
            )
    parts.append("</div>")
    return "".join(parts)


def legend_control(sections: Sequence[LegendSection], *, lang: str = "zh") -> MapControl:
    """The legend as a control at the bottom right."""
    return MapControl(legend_html(sections, lang=lang), position="bottomright", kind="legend")


def title_control(title: str, *, subtitle: str = "") -> MapControl:
    """The map title (and e.g. the synthetic-data stamp) at the top left, escaped."""
    sub = (
        f'<div style="font-size:11px;color:#555">{html.escape(subtitle)}</div>' if subtitle else ""
    )
    content = f'<div style="{CONTROL_CSS}font-size:14px"><b>{html.escape(title)}</b>{sub}</div>'
    return MapControl(content, position="topleft", kind="title")


def north_arrow_control(*, lang: str = "zh") -> MapControl:
    """A north arrow (inline SVG) at the top right, under the layer control."""
    label = html.escape(t("maps.north", lang))
    svg = (
        '<svg width="26" height="34" viewBox="0 0 26 34" aria-label="north">'
        '<polygon points="13,2 22,30 13,24" fill="#222"/>'
        '<polygon points="13,2 4,30 13,24" fill="#fff" stroke="#222" stroke-width="1"/>'
        "</svg>"
    )
    content = (
        f'<div style="{CONTROL_CSS}text-align:center;padding:3px 5px">'
        f'<div style="font-weight:bold">{label}</div>{svg}</div>'
    )
    return MapControl(content, position="topright", kind="north")
