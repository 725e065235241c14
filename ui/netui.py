"""Issue 13 in the app: point queries on the Coverage map, network what-ifs and project files.

* "What can I reach from here?": a click on the Coverage map runs
  :func:`coverage.point_query.query_point` on the cached coverage result (milliseconds) and shows
  the nearest facility of every category in a table, with the routes drawn on the map.
* Network what-ifs: the planner types a line's points (or adds the clicked point), chooses
  "add link" or "close streets" and applies; the session's network becomes
  :func:`geo.network_edits.apply_network_edits` of the base network, so every page updates.
* Project files: "保存项目 / Save project" and "打开项目 / Open project" on the Data page.

The page strings live here (not in :mod:`ui.labels`) so this slice merges without touching the
shared label table.
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

from ui import state

logger = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
QUERY_POINT = "cov_query_point"  # (lon, lat) of the last map click; "cov_" keys reset with data
LAST_CLICK = "_cov_last_click"
COORDS = "cov_net_coords"  # text of the line being drawn
PROJECT_LOADED = "_project_loaded"

_TEXT: dict[str, tuple[str, str]] = {
    "query.title": ("从这里能到达什么？", "What can I reach from here?"),
    "query.hint": (
        "在上方地图上点击任意位置，查看各类设施中最近一处的名称、路网距离、步行时间及是否覆盖。",
        "Click anywhere on the map above to see, for every category, the nearest facility, its "
        "network distance, minutes and whether it is covered.",
    ),
    "query.point": ("查询点：{lon:.6f}, {lat:.6f}", "Query point: {lon:.6f}, {lat:.6f}"),
    "query.off_network": (
        "该点距最近道路 {d:,.0f} 米，超出吸附容差，按“未覆盖”计。",
        "The point is {d:,.0f} m from the nearest street, beyond the snap tolerance: counted as "
        "not covered.",
    ),
    "query.clear": ("清除查询点", "Clear the query point"),
    "query.to_line": ("把该点加入路网假设线", "Add this point to the network edit line"),
    "col.category": ("类别", "Category"),
    "col.nearest": ("最近设施", "Nearest facility"),
    "col.distance": ("路网距离（米）", "Network distance (m)"),
    "col.minutes": ("时间（分钟）", "Minutes"),
    "col.criterion": ("标准", "Criterion"),
    "col.covered": ("是否覆盖", "Covered"),
    "col.action": ("操作", "Action"),
    "col.name": ("名称", "Name"),
    "col.length": ("长度（米）", "Length (m)"),
    "none": ("无可达设施", "none reachable"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "net.title": (
        "路网假设（新增连接 / 封闭道路）",
        "Network what-ifs (add a link / close streets)",
    ),
    "net.hint": (
        "逐行输入线的坐标“经度,纬度”（WGS-84），或在地图上点击后点“把该点加入路网假设线”。"
        "新增连接的两端须在道路附近；封闭道路时沿要封闭的街道画线。",
        "Type the line's points as 'lon,lat', one a line (WGS-84), or click the map and press "
        "'Add this point to the network edit line'. An added link's ends must be near streets; "
        "to close streets draw the line along them.",
    ),
    "net.action": ("操作", "Action"),
    "net.add": ("新增连接", "Add link"),
    "net.close": ("封闭道路", "Close streets"),
    "net.name": ("名称（可选）", "Name (optional)"),
    "net.coords": ("线的坐标（每行：经度,纬度）", "Line points (lon,lat per line)"),
    "net.apply": ("应用到路网", "Apply to the network"),
    "net.applied": ("已应用：{name}", "Applied: {name}"),
    "net.list": ("当前路网假设", "Network edits in use"),
    "net.remove": ("移除第 {i} 项", "Remove #{i}"),
    "net.clear": ("全部移除", "Remove all"),
    "net.none": (
        "尚无路网假设：覆盖按原始路网计算。",
        "No network edits: coverage uses the streets as loaded.",
    ),
    "net.bad_line": (
        "第 {i} 行“{text}”不是“经度,纬度”两个数字。示例：118.7969,32.0603",
        "Line {i} '{text}' is not two numbers 'lon,lat'. Example: 118.7969,32.0603",
    ),
    "project.title": ("项目文件", "Project file"),
    "project.hint": (
        "把数据、覆盖标准、方案和路网假设保存为一个 *.lcc.gpkg 文件（GIS 软件也能打开），"
        "下次原样打开。",
        "Save the data, criteria, scenarios and network edits as one *.lcc.gpkg file (GIS "
        "software opens it too) and open it later exactly as it was.",
    ),
    "project.save": ("保存项目 / Save project", "Save project / 保存项目"),
    "project.open": ("打开项目 / Open project", "Open project / 打开项目"),
    "project.opened": ("已打开项目：{name}", "Project opened: {name}"),
}


def t(key: str, **fmt: Any) -> str:
    """Page text of this slice for for ``key`` in the session language."""
    pair = _TEXT.get(key)
    if pair is None:
        return key
    text = pair[1] if state.lang() == "en" else pair[0]
    return text.format(**fmt) if fmt else text


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
    if new is None:
        return
    st.session_state[QUERY_POINT] = new
    st.rerun()


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


def edits_panel() -> None:
    """The form that adds a network edit, and the list of edits in use (each removable)."""
    from geo.network_edits import NetworkEdit
    from ui.errors import guard
    from ui.widgets import labeller

    st.subheader(t("net.title"))
    st.caption(t("net.hint"))
    edits = state.network_edits()
    c1, c2 = st.columns([1, 2])
    action = c1.radio(
        t("net.action"),
        ["add", "close"],
        # Labels worked out now: AppTest formats outside the run, where the language is unknown.
        format_func=labeller(lambda k: t(f"net.{k}"), ["add", "close"]),
        key="cov_net_action",
    )
    name = c1.text_input(t("net.name"), key="cov_net_name")
    st.session_state.setdefault(COORDS, "")
    text = c2.text_area(t("net.coords"), key=COORDS, height=120, placeholder="118.7969,32.0603")
    if st.button(t("net.apply"), key="cov_net_apply", type="primary"):
        with guard(lang=state.lang(), context="network edit") as outcome:
            edit = NetworkEdit(
                action=str(action), coords=tuple(parse_coords(text)), name=name.strip()
            )
            state.set_network_edits((*edits, edit))
        if outcome.ok:
            st.session_state.pop(COORDS, None)
            st.session_state.pop("cov_net_name", None)
            st.rerun()
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
