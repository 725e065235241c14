"""Issue 13 in the app: point queries, network what-ifs and project files under AppTest.

``st_folium`` does not run here (no browser); a map click is the ``cov_query_point`` session key
that :func:`ui.netui.take_click` writes, and the route layer is checked in the rendered HTML.
"""

from __future__ import annotations

import html as html_lib
import json
import sqlite3
from pathlib import Path
from typing import Any

import folium
import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from coverage.analysis import analyse
from coverage.point_query import query_point
from geo.network_edits import NetworkEdit
from study.demo import load_demo

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


@pytest.fixture(autouse=True)
def _no_warmup(monkeypatch: pytest.MonkeyPatch) -> None:
    from ui import warmup

    monkeypatch.setattr(warmup, "ENABLED", False)


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _page(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    _ok(at)
    at.switch_page(f"views/{page}.py").run()
    _ok(at)
    return at


def _table(at: AppTest, column: str) -> pd.DataFrame:
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with column {column!r}")


def _bridge_lines() -> list[list[tuple[float, float]]]:
    demo = load_demo("synthetic")
    edges = demo.network.edges_gdf(to_crs="EPSG:4326")
    bridge = np.asarray(demo.network.edge_attrs["bridge"]).astype(bool)
    return [list(g.coords) for g in edges.geometry[bridge]]


def test_query_point_table_matches_the_coverage_of_a_resident_standing_there() -> None:
    at = _page("coverage")
    demo = load_demo("synthetic")
    ds, choice = at.session_state["dataset"], at.session_state["criteria"]
    point = demo.demand.geometry.iloc[7]
    at.session_state["cov_query_point"] = (point.x, point.y)
    at.run()
    _ok(at)
    table = _table(at, "最近设施")
    result = analyse(
        ds.network, ds.demand, ds.facilities, categories=list(choice.categories),
        criteria=choice.criteria(),
    )  # fmt: skip
    assert len(table) == len(choice.categories)
    for i, key in enumerate(choice.categories):
        expected = float(result.demand[f"{key}_distance_m"].iloc[7])
        assert table["路网距离（米）"].iloc[i] == pytest.approx(round(expected), abs=0.5)
        covered = bool(result.demand[f"{key}_covered"].iloc[7])
        assert table["是否覆盖"].iloc[i] == ("是" if covered else "否")
        assert table["最近设施"].iloc[i] == result.demand[f"{key}_facility_name"].iloc[7]
    # The clicked point can start a network edit line.
    at.button(key="cov_query_to_line").click().run()
    _ok(at)
    assert at.session_state["cov_net_coords"] == f"{point.x:.6f},{point.y:.6f}"


def _click_script() -> None:
    import streamlit as st

    from ui import netui

    runs = st.session_state.get("runs", 0) + 1
    st.session_state["runs"] = runs
    # A click on the bare map, then (from the fourth run) one on a service area.
    polygon = {"lat": 31.84, "lng": 117.26} if runs >= 4 else None
    netui.take_click(
        {"last_clicked": {"lat": 31.85, "lng": 117.25}, "last_object_clicked": polygon}
    )


def test_take_click_sets_the_query_point_once() -> None:
    at = AppTest.from_function(_click_script, default_timeout=60)
    at.run()
    assert not at.exception
    assert at.session_state["cov_query_point"] == (117.25, 31.85)
    # The new click reran the script once; the same click again does not rerun.
    assert at.session_state["runs"] == 2
    at.run()
    assert at.session_state["runs"] == 3
    assert at.session_state["cov_query_point"] == (117.25, 31.85)
    at.run()  # the click on a layer is new: it becomes the query point
    assert at.session_state["cov_query_point"] == (117.26, 31.84)
    assert at.session_state["runs"] == 5


def test_clearing_the_query_point_removes_its_table() -> None:
    at = _page("coverage")
    from ui import netui

    assert netui.QUERY_POINT not in at.session_state
    at.session_state[netui.QUERY_POINT] = (117.25, 31.85)
    at.run()
    _ok(at)
    assert _table(at, "最近设施").shape[0] > 0
    at.button(key="cov_query_clear").click().run()
    _ok(at)
    assert netui.QUERY_POINT not in at.session_state
    assert not any("最近设施" in d.value.columns for d in at.dataframe)


def _rate(at: AppTest) -> float:
    return float(at.metric[0].value.rstrip("%"))


def test_closing_the_demo_bridges_lowers_coverage_and_can_be_undone() -> None:
    at = _page("coverage")
    # Health stations stand on both banks; the first category (canteens) does not depend on them.
    at.selectbox(key="cov_map_category").set_value("health_station").run()
    before = _rate(at)
    kpi_before = at.dataframe[0].value.copy()
    for i, line in enumerate(_bridge_lines(), start=1):
        at.radio(key="cov_net_action").set_value("close")
        at.text_input(key="cov_net_name").set_value(f"桥{i}")
        at.text_area(key="cov_net_coords").set_value("\n".join(f"{x},{y}" for x, y in line))
        at.button(key="cov_net_apply").click().run()
        _ok(at)
    edits = at.session_state["network_edits"][2]
    assert [e.name for e in edits] == ["桥1", "桥2", "桥3", "桥4"]
    assert all(e.action == "close" for e in edits)
    listed = _table(at, "长度（米）")
    assert (listed["长度（米）"] > 150).all()  # each bridge is ~180 m
    after = _rate(at)
    assert after < before
    # Removing every edit gives back the network as loaded and the same numbers.
    at.button(key="cov_net_clear").click().run()
    _ok(at)
    assert _rate(at) == before
    pd.testing.assert_frame_equal(at.dataframe[0].value, kpi_before)


def test_a_bad_line_shows_a_message_not_a_traceback() -> None:
    at = _page("coverage")
    before = at.session_state["dataset"].key
    at.text_area(key="cov_net_coords").set_value("117.25,31.85\nabc").run()
    at.button(key="cov_net_apply").click().run()
    assert not at.exception
    assert any("第 2 行" in e.value and "abc" in e.value for e in at.error)
    assert at.session_state["dataset"].key == before
    assert "network_edits" not in at.session_state or not at.session_state["network_edits"]


def _get(at: AppTest, key: str) -> Any:
    try:
        return at.session_state[key]
    except KeyError:
        return None


def _project_bytes(at: AppTest) -> bytes:
    """The bytes the Save button would hand over, built from the session as the page does."""
    from ui import state

    ds = at.session_state["dataset"]
    rec = _get(at, "network_edits")
    base, edits = (rec[0], tuple(rec[2])) if rec else (ds.network, ())
    meta = state.project_meta(
        ds,
        choice=at.session_state["criteria"],
        scenarios=list(at.session_state["scenarios"].values()),
        edits=edits,
        language=_get(at, "lang") or "zh",
    )
    return state.project_file(ds, network=base, meta=meta)


def test_project_save_and_open_restores_the_study_and_its_kpis() -> None:
    from coverage.scenarios import Edit, Scenario

    at = _page("coverage")
    at.radio(key="cov_kind").set_value("metres").run()
    at.number_input(key="cov_metres").set_value(800.0).run()
    _ok(at)
    line = _bridge_lines()[0]
    at.radio(key="cov_net_action").set_value("close")
    at.text_area(key="cov_net_coords").set_value("\n".join(f"{x},{y}" for x, y in line))
    at.button(key="cov_net_apply").click().run()
    _ok(at)
    fac = load_demo("synthetic").facilities
    plan = Scenario(
        name="方案A",
        edits=(Edit.add(category="market", lon=float(fac.geometry.x.mean()),
                        lat=float(fac.geometry.y.mean()), name="新菜场"),),
    )  # fmt: skip
    at.session_state["scenarios"] = {"方案A": plan}
    at.run()
    _ok(at)
    rate, kpis = _rate(at), at.dataframe[0].value.copy()
    choice = at.session_state["criteria"]
    payload = _project_bytes(at)
    at.switch_page("views/data.py").run()
    _ok(at)
    assert at.get("download_button"), "the Data page offers 保存项目"

    other = _page("data")
    other.file_uploader(key="project_file").set_value(
        ("study.lcc.gpkg", payload, "application/geopackage+sqlite3")
    ).run()
    _ok(other)
    assert any("study.lcc.gpkg" in s.value for s in other.success)
    assert other.session_state["criteria"] == choice
    assert set(other.session_state["scenarios"]) == {"方案A"}
    assert other.session_state["scenarios"]["方案A"].to_dict() == plan.to_dict()
    edits = other.session_state["network_edits"][2]
    assert len(edits) == 1 and edits[0].action == "close"
    other.switch_page("views/coverage.py").run()
    _ok(other)
    assert other.radio(key="cov_kind").value == "metres"
    assert _rate(other) == rate
    pd.testing.assert_frame_equal(other.dataframe[0].value, kpis)


def test_a_project_file_of_another_version_shows_the_project_error(tmp_path: Path) -> None:
    from study.project import save_project

    demo = load_demo("synthetic")
    path = save_project(
        tmp_path / "future.lcc.gpkg", network=demo.network, facilities=demo.facilities,
        demand=demo.demand,
    )  # fmt: skip
    with sqlite3.connect(path) as con:
        con.execute("UPDATE lcc_project SET value = '\"2.0\"' WHERE key = 'version'")
    at = _page("data")
    before = at.session_state["dataset"].key
    at.file_uploader(key="project_file").set_value(
        ("future.lcc.gpkg", path.read_bytes(), "application/geopackage+sqlite3")
    ).run()
    assert not at.exception
    assert len(at.error) == 1
    text = at.error[0].value
    # The app speaks the planner's language (the message is a catalogue code).
    assert "future.lcc.gpkg" in text and "项目文件版本为 2.0" in text
    assert "Traceback" not in text and str(tmp_path) not in text
    assert at.session_state["dataset"].key == before


def test_route_layer_html_draws_each_route_with_its_popup() -> None:
    from maps.layers import ROUTE_COLORS, network_edit_layer, route_layer
    from ui.netui import edit_lines

    demo = load_demo("synthetic")
    result = analyse(demo.network, demo.demand, demo.facilities)
    p = demo.demand.geometry.iloc[7]
    ans = query_point(demo.network, result, lon=p.x, lat=p.y)
    fmap = folium.Map(location=[p.y, p.x], zoom_start=15)
    route_layer(ans.table, point=(p.x, p.y), lang="en").add_to(fmap)
    lines = edit_lines(
        (NetworkEdit(action="close", coords=tuple(_bridge_lines()[0]), name="Bridge <1>"),),
        None,
        "117.25,31.85\n117.26,31.85",
    )
    network_edit_layer(lines, lang="en").add_to(fmap)
    html = fmap.get_root().render()
    routes = ans.table[ans.table.geometry.notna()]
    assert len(routes) >= 2
    # One feature per route, coloured by covered / not covered, with the facility in the popup.
    assert html.count('"LineString"') == len(routes) + 2
    for rec in routes.itertuples():
        assert ROUTE_COLORS[bool(rec.covered)] in html
        assert json.dumps(html_lib.escape(str(rec.facility_name)))[1:-1] in html
        x, y = rec.geometry.coords[-1]  # the route ends at the facility
        assert f"[{round(x, 6)}, {round(y, 6)}]" in html
    assert "Nearest facility" in html and "Network distance (m)" in html
    # Names are HTML-escaped (and JSON-encoded by folium): no markup gets into the map.
    assert json.dumps("Bridge &lt;1&gt;")[1:-1].replace("&", "\\u0026") in html
    assert "Bridge <1>" not in html
    uncovered = routes[~routes["covered"].astype(bool)]
    if len(uncovered):
        assert '"dashArray": "8 6"' in html  # routes beyond the criterion are dashed
    assert "Being drawn" in html


def test_opening_a_project_takes_its_language_and_network_edits() -> None:
    from coverage.scenarios import Scenario
    from ui import state

    demo = load_demo("synthetic")
    ds = state.Dataset(
        label=demo.label_zh, label_en=demo.label_en, network=demo.network,
        facilities=demo.facilities, demand=demo.demand, boundary=demo.boundary,
        communities=demo.communities, synthetic=True,
    )  # fmt: skip
    edit = NetworkEdit(action="close", coords=tuple(_bridge_lines()[1]), name="bridge 2")
    choice = state.CriteriaChoice(categories=("health_station", "market"), kind="minutes",
                                  minutes=10.0)  # fmt: skip
    meta = state.project_meta(
        ds, choice=choice, scenarios=[Scenario(name="empty")], edits=(edit,), language="en"
    )
    payload = state.project_file(ds, network=demo.network, meta=meta)
    at = _page("data")
    at.file_uploader(key="project_file").set_value(
        ("en.lcc.gpkg", payload, "application/geopackage+sqlite3")
    ).run()
    _ok(at)
    assert at.session_state["lang"] == "en"
    assert at.session_state["criteria"] == choice
    base, _, edits, _ = at.session_state["network_edits"]
    assert edits == (edit,)
    assert base.n_edges == demo.network.n_edges
    # The session network is the saved one with the edit applied again: one bridge fewer.
    net = at.session_state["dataset"].network
    assert np.asarray(net.edge_attrs["bridge"]).astype(bool).sum() == 3
    at.switch_page("views/coverage.py").run()
    _ok(at)
    assert _table(at, "Length (m)")["Name"].tolist() == ["bridge 2"]
