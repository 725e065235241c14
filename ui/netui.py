"""Issue 13 in the app: point queries on the Coverage map, network what-ifs and project files.

* "What can I reach from here?": a click on the Coverage map runs
  :func:`coverage.point_query.query_point` on the cached coverage result (milliseconds) and shows
  the nearest facility of every category in a table, with the routes drawn on the map.
* Network what-ifs: the planner draws a line on the Coverage map (the offline Leaflet.draw tool
  of :mod:`maps.draw`; ``st_folium`` returns it) or types its points, chooses "add link" or
  "close streets" (with their join / tolerance distances) and applies; the session's network
  becomes :func:`geo.network_edits.apply_network_edits` of the base network, so every page
  updates. The edits in use can be saved as a scenario (:mod:`ui.scenarios`) for the Compare
  page, and a scenario's edits brought back into the session.
* Project files: "保存项目 / Save project" and "打开项目 / Open project" on the Data page.

The page texts are catalogue entries ``whatif.netui.*`` (``data/locale/*/whatif.po``), so this
slice merges without touching the shared label table.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st
from shapely.geometry import LineString

from geo.messages import text
from ui import state

logger = logging.getLogger(__name__)

__all__ = [
    "CLICK_KEYS",
    "COORDS",
    "DRAWING_KEYS",
    "QUERY_POINT",
    "answer",
    "answer_table",
    "current_answer",
    "edit_lines",
    "edits_panel",
    "edits_table",
    "map_layers",
    "panel_open",
    "parse_coords",
    "project_panel",
    "query_panel",
    "query_point_now",
    "remove_edit",
    "scenario_edits_panel",
    "t",
    "take_click",
    "take_drawing",
]

WGS84 = "EPSG:4326"
QUERY_POINT = "cov_query_point"  # (lon, lat) of the last map click; "cov_" keys reset with data
LAST_CLICK = "_cov_last_click"
COORDS = "cov_net_coords"  # text of the line being drawn
PROJECT_LOADED = "_project_loaded"
JOIN = "cov_net_join"  # join_m of an added link (metres)
TOLERANCE = "cov_net_tol"  # tolerance_m of closed streets (metres)
LAST_DRAWING = "_cov_last_drawing"  # the last line taken from the map's drawings
DRAWN = "cov_net_drawn"  # points of the line taken from the map, until it is applied
FLASH = "_cov_net_flash"
EDIT_ERROR = "_cov_net_error"


def t(key: str, **fmt: Any) -> str:
    """Page text ``whatif.netui.<key>`` of the catalogue in the session language."""
    return text(f"whatif.netui.{key}", state.lang(), **fmt)


# --------------------------------------------------------------------------------------------
# What can I reach from here?
# --------------------------------------------------------------------------------------------


#: What ``st_folium`` reports clicks as: a click on the bare map, or on a layer (a service
#: area, a marker), which Leaflet does not pass on to the map.
CLICK_KEYS = ("last_clicked", "last_object_clicked")


def take_click(returned: dict[str, Any]) -> None:
    """Make a new map click the query point and rerun to draw its routes (once per click).

    ``returned`` is what ``st_folium`` returned for :data:`CLICK_KEYS`; each keeps its last
    value across reruns, so the one that changed since the last run is the new click.
    """
    seen = dict(st.session_state.get(LAST_CLICK) or {})
    new = None
    for key in CLICK_KEYS:
        value = returned.get(key)
        point = None
        if isinstance(value, dict) and "lat" in value and "lng" in value:
            point = (round(float(value["lng"]), 6), round(float(value["lat"]), 6))
        if point is not None and seen.get(key) != point:
            new = point
        seen[key] = point
    st.session_state[LAST_CLICK] = seen
    if new is None or _on_drawing(new, st.session_state.get(LAST_DRAWING)):
        return
    st.session_state[QUERY_POINT] = new
    st.rerun()


def _on_drawing(point: tuple[float, float], line: list[tuple[float, float]] | None) -> bool:
    """Whether a map click is a vertex of the drawn line.

    The click that finishes a line (on its last point) also reaches the map once Leaflet.draw
    has let go of the mouse; it is part of the drawing, not a question about that point.
    """
    return bool(line) and any(
        abs(point[0] - x) < 1e-5 and abs(point[1] - y) < 1e-5 for x, y in line or ()
    )


def query_point_now() -> tuple[float, float] | None:
    """The session's query point (lon, lat), if any."""
    value = st.session_state.get(QUERY_POINT)
    return (float(value[0]), float(value[1])) if value else None


def answer(ds: state.Dataset, choice: state.CriteriaChoice, point: tuple[float, float]) -> Any:
    """``PointQuery`` at ``point`` on the session's cached coverage result (cached per point)."""
    lang = state.lang()

    def build() -> Any:
        from coverage.point_query import query_point

        result = state.analysis(ds, choice)
        return query_point(ds.network, result, lon=point[0], lat=point[1], lang=lang)

    return state.cached("point_query", (ds.key, choice, point, lang), build)


def answer_table(table: gpd.GeoDataFrame, *, lang: str) -> pd.DataFrame:
    """The point query as the page shows it: one row per category, in the interface language."""
    name = "name_en" if lang == "en" else "name_zh"
    dist = table["distance_m"].astype("float64")
    finite = np.isfinite(dist)
    yes, no = ("yes", "no") if lang == "en" else ("是", "否")
    return pd.DataFrame(
        {
            t("col.category"): table[name].astype(str),
            t("col.nearest"): table["facility_name"].where(
                table["facility_name"].notna(), t("none")
            ),
            t("col.distance"): dist.where(finite).round(0),
            t("col.minutes"): table["minutes"].astype("float64").where(finite).round(1),
            t("col.criterion"): table["criterion"].astype(str),
            t("col.covered"): [yes if c else no for c in table["covered"].astype(bool)],
        }
    )


def current_answer(ds: state.Dataset, choice: state.CriteriaChoice) -> Any | None:
    """The point query of the session's query point, or None when no point was clicked."""
    point = query_point_now()
    return None if point is None else answer(ds, choice, point)


def query_panel(ans: Any | None) -> None:
    """The table under the Coverage map: the nearest facility of every category from the point."""
    st.subheader(t("query.title"))
    if ans is None:
        st.caption(t("query.hint"))
        return
    st.caption(t("query.point", lon=ans.lon, lat=ans.lat))
    if not ans.snapped:
        st.warning(t("query.off_network", d=ans.snap_distance_m))
    st.dataframe(answer_table(ans.table, lang=state.lang()), hide_index=True, key="cov_query_table")
    c1, c2 = st.columns(2)
    c1.button(
        t("query.to_line"),
        key="cov_query_to_line",
        on_click=_point_to_line,
        args=((ans.lon, ans.lat),),
    )
    if c2.button(t("query.clear"), key="cov_query_clear"):
        st.session_state.pop(QUERY_POINT, None)
        st.rerun()


def _point_to_line(point: tuple[float, float]) -> None:
    text = str(st.session_state.get(COORDS, "") or "").rstrip()
    st.session_state[COORDS] = f"{text}\n{point[0]:.6f},{point[1]:.6f}".lstrip()


# --------------------------------------------------------------------------------------------
# Network what-ifs
# --------------------------------------------------------------------------------------------


def parse_coords(text: str) -> list[tuple[float, float]]:
    """Points of a line typed as ``lon,lat`` per line (also ``;``-separated, Chinese commas).

    Raises
    ------
    geo.network_edits.NetworkEditError
        Naming the line that is not two numbers.
    """
    from geo.network_edits import NetworkEditError

    out = []
    chunks = [c.strip() for c in re.split(r"[\n;；]+", text or "")]
    for i, chunk in enumerate((c for c in chunks if c), start=1):
        parts = [p for p in re.split(r"[,，\s]+", chunk) if p]
        try:
            lon, lat = (float(p) for p in parts)
        except ValueError:
            raise NetworkEditError(t("net.bad_line", i=i, text=chunk)) from None
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise NetworkEditError(t("net.bad_line", i=i, text=chunk))
        out.append((lon, lat))
    return out


def edit_lines(
    edits: tuple[Any, ...], report: pd.DataFrame | None, pending: str
) -> gpd.GeoDataFrame:
    """Applied edits and the line being drawn, as WGS-84 lines for the network-edit layer."""
    rows: list[dict[str, Any]] = []
    for i, edit in enumerate(edits):
        length = (
            float(report["length_m"].iloc[i]) if report is not None and i < len(report) else np.nan
        )
        if edit.crs != "wgs84":
            from geo.datum import to_wgs84

            pts = np.asarray(edit.coords)
            lon, lat = to_wgs84(pts[:, 0], pts[:, 1], crs=edit.crs)
            coords = list(zip(lon, lat, strict=True))
        else:
            coords = list(edit.coords)
        rows.append(
            {
                "action": edit.action,
                "name": edit.name,
                "length_m": length,
                "geometry": LineString(coords),
            }
        )
    try:
        drawn = parse_coords(pending)
    except ValueError:
        drawn = []
    if len(drawn) >= 2:
        rows.append(
            {"action": "pending", "name": "", "length_m": np.nan, "geometry": LineString(drawn)}
        )
    return gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["action", "name", "length_m", "geometry"]),
        geometry="geometry",
        crs=WGS84,
    )


def map_layers(answer_: Any | None) -> list[Any]:
    """The per-session layers of the Coverage map: network edits and the query's routes."""
    from ui import maps

    groups = []
    edits = state.network_edits()
    pending = str(st.session_state.get(COORDS, "") or "")
    if edits or pending.strip():
        lines = edit_lines(edits, state.network_edit_report(), pending)
        if len(lines):
            groups.append(maps.edit_group(lines))
    if answer_ is not None:
        groups.append(maps.route_group(answer_))
    return groups


def edits_table(edits: tuple[Any, ...], report: pd.DataFrame | None) -> pd.DataFrame:
    """The network edits in use: number, action, name and length (metres)."""
    lengths = (
        report["length_m"].astype("float64").round(0).tolist()
        if report is not None
        else [np.nan] * len(edits)
    )
    return pd.DataFrame(
        {
            "#": list(range(1, len(edits) + 1)),
            t("col.action"): [t(f"net.{e.action}") for e in edits],
            t("col.name"): [e.name for e in edits],
            t("col.length"): lengths,
        }
    )


def panel_open() -> bool:
    """Whether the what-if panel opens by itself: edits in use or a line waiting for an action."""
    return bool(state.network_edits()) or bool(str(st.session_state.get(COORDS, "") or "").strip())


def edits_panel() -> None:
    """The form that adds a network edit, the edits in use (each removable), save as scenario."""
    st.subheader(t("net.title"))
    st.caption(t("net.hint"))
    flash = st.session_state.pop(FLASH, None)
    if flash:
        st.success(flash)
    if st.session_state.get(DRAWN):
        st.info(t("draw.taken", n=int(st.session_state[DRAWN])))
    _edit_form()
    edits = state.network_edits()
    if not edits:
        st.caption(t("net.none"))
        return
    st.markdown(f"**{t('net.list')}**")
    st.dataframe(
        edits_table(edits, state.network_edit_report()), hide_index=True, key="cov_net_table"
    )
    cols = st.columns(min(len(edits), 4) + 1)
    for i in range(len(edits)):
        if cols[i % 4].button(t("net.remove", i=i + 1), key=f"cov_net_remove_{i}"):
            remove_edit(i)
            st.rerun()
    if cols[-1].button(t("net.clear"), key="cov_net_clear"):
        state.set_network_edits(())
        st.rerun()
    _save_as_scenario(edits)


def _edit_form() -> None:
    """Action, name, join / tolerance distances and the line's points; "apply" adds the edit."""
    from geo import settings
    from ui.widgets import labeller, seed

    c1, c2 = st.columns([1, 2])
    action = c1.radio(
        t("net.action"),
        ["add", "close"],
        # Labels worked out now: AppTest formats outside the run, where the language is unknown.
        format_func=labeller(lambda k: t(f"net.{k}"), ["add", "close"]),
        key="cov_net_action",
        horizontal=True,
    )
    c1.text_input(t("net.name"), key="cov_net_name")
    d1, d2 = c1.columns(2)
    d1.number_input(
        t("net.join"), min_value=1.0, max_value=1000.0, step=5.0, format="%.0f",
        key=seed(JOIN, float(settings.edit_join_m)), disabled=action != "add",
        help=t("net.join_help"),
    )  # fmt: skip
    d2.number_input(
        t("net.tolerance"), min_value=0.5, max_value=100.0, step=1.0, format="%.1f",
        key=seed(TOLERANCE, float(settings.edit_close_tolerance_m)), disabled=action != "close",
        help=t("net.tolerance_help"),
    )  # fmt: skip
    st.session_state.setdefault(COORDS, "")
    c2.text_area(t("net.coords"), key=COORDS, height=150, placeholder="118.7969,32.0603")
    # A callback: the edit is applied before the page runs, so one run draws the new streets.
    st.button(t("net.apply"), key="cov_net_apply", type="primary", on_click=_apply_form)
    error = st.session_state.pop(EDIT_ERROR, None)
    if error:
        st.error(error)


def _apply_form() -> None:
    """Add the form's edit to the session's network edits (the "apply" button's callback)."""
    from geo.network_edits import NetworkEdit
    from ui.errors import message_for

    ss = st.session_state
    try:
        edit = NetworkEdit(
            action=str(ss.get("cov_net_action", "add")),
            coords=tuple(parse_coords(str(ss.get(COORDS, "") or ""))),
            name=str(ss.get("cov_net_name", "") or "").strip(),
            join_m=float(ss[JOIN]),
            tolerance_m=float(ss[TOLERANCE]),
        )
        state.set_network_edits((*state.network_edits(), edit))
    except Exception as exc:  # shown as a message, never a traceback
        if not isinstance(exc, state.CoverageToolError):
            logger.exception("network edit")
        ss[EDIT_ERROR] = message_for(exc, lang=state.lang())
        return
    for key in (COORDS, "cov_net_name", DRAWN):
        ss.pop(key, None)


def _save_as_scenario(edits: tuple[Any, ...]) -> None:
    """Move the edits in use into a scenario (for the Compare page) and restore the streets."""
    from ui import scenarios
    from ui.widgets import seed

    st.caption(t("net.scenario_hint"))
    c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
    default = edits[0].name or t("net.scenario_default")
    name = c1.text_input(t("net.scenario_name"), key=seed("cov_net_scenario", default))
    if c2.button(t("net.to_scenario"), key="cov_net_to_scenario"):
        used = scenarios.save(str(name), (), network_edits=edits)
        state.set_network_edits(())
        st.session_state.pop("cov_net_scenario", None)
        st.session_state[FLASH] = t("net.saved", name=used)
        st.rerun()


def scenario_edits_panel(ds: state.Dataset, scenario: Any) -> None:
    """The Compare page's list of a scenario's network edits, and "use these streets"."""
    from ui import scenarios
    from ui.errors import guard

    net = tuple(getattr(scenario, "network_edits", ()))
    if not net:
        return
    st.subheader(t("scn.title"))
    with guard(lang=state.lang(), context="scenario network edits") as outcome:
        report = scenarios.network_edit_report(ds, net)
    st.dataframe(
        edits_table(net, report if outcome.ok else None), hide_index=True, key="cmp_net_table"
    )
    if st.button(t("scn.use"), key="cmp_net_use", help=t("scn.use_help")):
        with guard(lang=state.lang(), context="use scenario network edits") as used:
            state.set_network_edits((*state.network_edits(), *net))
        if used.ok:
            st.success(t("scn.used", name=scenario.name))


# --------------------------------------------------------------------------------------------
# Drawing on the Coverage map
# --------------------------------------------------------------------------------------------

#: What ``st_folium`` reports drawings as (Leaflet.draw, see :mod:`maps.draw`).
DRAWING_KEYS = ("last_active_drawing", "all_drawings")


def take_drawing(returned: dict[str, Any]) -> None:
    """Make a line newly drawn on the map the line of the network-edit form (once per line).

    ``returned`` is what ``st_folium`` returned for :data:`DRAWING_KEYS`; both keep their last
    value across reruns, so a line already taken is not taken again. The planner then chooses
    "add a link" or "close streets" and applies it.
    """
    from maps.draw import drawn_line

    line = drawn_line(returned.get("last_active_drawing"))
    if line is None:
        found = (drawn_line(f) for f in reversed(list(returned.get("all_drawings") or [])))
        line = next((x for x in found if x is not None), None)
    if line is None or st.session_state.get(LAST_DRAWING) == line:
        return
    st.session_state[LAST_DRAWING] = line
    if (point := query_point_now()) is not None and _on_drawing(point, line):
        # The finishing click came in before the line did.
        st.session_state.pop(QUERY_POINT, None)
    st.session_state[COORDS] = "\n".join(f"{x:.6f},{y:.6f}" for x, y in line)
    st.session_state[DRAWN] = len(line)
    st.rerun()


def remove_edit(index: int) -> None:
    """Drop the network edit at ``index`` (0-based) and apply the others again."""
    edits = state.network_edits()
    state.set_network_edits(tuple(e for i, e in enumerate(edits) if i != index))


# --------------------------------------------------------------------------------------------
# Project files
# --------------------------------------------------------------------------------------------


def project_panel() -> None:
    """The Data page's "保存项目 / Save project" and "打开项目 / Open project"."""
    st.subheader(t("project.title"))
    st.caption(t("project.hint"))
    flash = st.session_state.pop("_project_flash", None)
    if flash:
        st.success(flash)
    c1, c2 = st.columns(2)
    ds = state.dataset()
    stem = re.sub(r"[^\w\-]+", "_", ds.name(state.lang())).strip("_") or "project"
    c1.download_button(
        t("project.save"),
        data=state.project_download(),
        file_name=f"{stem}.lcc.gpkg",
        mime="application/geopackage+sqlite3",
        key="project_save",
        on_click="ignore",
    )
    c2.file_uploader(t("project.open"), type=["gpkg"], key="project_file", on_change=_open_uploaded)
    error = st.session_state.pop("_project_error", None)
    if error:
        st.error(error)


def _open_uploaded() -> None:
    """Open the uploaded project file into the session.

    A callback: it runs before the widgets are drawn, so the language switch and the page
    widgets can take the project's values.
    """
    from ui.errors import message_for

    upload = st.session_state.get("project_file")
    if upload is None:
        return
    data = upload.getvalue()
    try:
        state.open_project_bytes(data, filename=upload.name)
    except Exception as exc:  # shown as a message, never a traceback
        if not isinstance(exc, state.CoverageToolError):
            logger.exception("opening project %s", upload.name)
        st.session_state["_project_error"] = message_for(exc, lang=state.lang())
        return
    st.session_state[PROJECT_LOADED] = state.digest(data)
    st.session_state["_project_flash"] = t("project.opened", name=upload.name)
