"""Issue 13, network what-ifs in the app: the offline line tool, drawn lines as network edits,
network edits in scenarios (Compare page) and in the reports.

``st_folium`` does not run under AppTest (no browser): the drawing tests replace it with a
function that returns what the component returns after a line is drawn (``last_active_drawing``,
``all_drawings``) and records the map it was given.
"""

from __future__ import annotations

import ast
import io
import re
import time
from pathlib import Path
from typing import Any

import folium
import numpy as np
import openpyxl
import pandas as pd
import pptx
import pypdf
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from coverage.analysis import analyse
from coverage.scenarios import (
    Edit,
    Scenario,
    ScenarioResult,
    apply_edits,
    compare,
    load_scenarios,
    save_scenarios,
)
from geo.messages import catalogue, fields
from geo.network_edits import NetworkEdit, apply_network_edits
from maps.assets import VENDOR_DIR, VENDORED, asset_links, localize_assets
from maps.draw import add_line_tool, drawn_line
from maps.export_edits import edits_sheet, edits_table
from maps.export_report import report_pdf, report_pptx
from maps.export_tables import write_xlsx
from study.demo import load_demo
from study.options import CriteriaChoice

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")

#: Two street nodes facing each other across the demo's river, between its first two bridges.
SOUTH_BANK = (117.24736295541139, 31.84474699686)
NORTH_BANK = (117.2475029397999, 31.846372127374806)
#: Criteria under which the new bridge changes coverage (job service centres across the river).
CHOICE = CriteriaChoice(categories=("elderly_canteen", "job_service"), kind="metres", metres=1000.0)


@pytest.fixture(autouse=True)
def _no_warmup(monkeypatch: pytest.MonkeyPatch) -> None:
    from ui import warmup

    monkeypatch.setattr(warmup, "ENABLED", False)


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _bridge_lines() -> list[list[tuple[float, float]]]:
    demo = load_demo("synthetic")
    edges = demo.network.edges_gdf(to_crs="EPSG:4326")
    bridge = np.asarray(demo.network.edge_attrs["bridge"]).astype(bool)
    return [list(g.coords) for g in edges.geometry[bridge]]


def _feature(coords: list[tuple[float, float]], kind: str = "LineString") -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {},
        "geometry": {"type": kind, "coordinates": [list(p) for p in coords]},
    }


# --------------------------------------------------------------------------------------------
# The line tool (maps/draw.py) and its vendored files
# --------------------------------------------------------------------------------------------


def test_line_tool_loads_leaflet_draw_from_the_vendored_files_only() -> None:
    m = localize_assets(folium.Map(location=[31.85, 117.25], zoom_start=14))
    add_line_tool(m, lang="zh", prefix="/app/static")
    links = asset_links(m)
    urls = [u for _, _, u in links]
    assert "/app/static/vendor/leaflet.draw/leaflet.draw.js" in urls
    assert "/app/static/vendor/leaflet.draw/leaflet.draw.css" in urls
    assert not [u for u in urls if u.startswith(("http:", "https:", "//"))]
    for name in ("leaflet_draw_js", "leaflet_draw_css"):
        assert (VENDOR_DIR.parent / VENDORED[name]).is_file()
    # The sprites the CSS points at are shipped too (the toolbar's icons).
    css = (VENDOR_DIR / "leaflet.draw" / "leaflet.draw.css").read_text(encoding="utf-8")
    for rel in set(re.findall(r"url\('?([^')]+)'?\)", css)):
        assert (VENDOR_DIR / "leaflet.draw" / rel).is_file(), rel
    html = m.get_root().render()
    # Polyline only, tooltips in Chinese, no alert on click.
    assert '"polygon": false' in html and '"marker": false' in html
    assert '"polyline": {' in html
    assert "画线（新增连接或封闭道路）" in html
    assert "alert(coords)" not in html


def test_line_tool_inlines_for_a_standalone_page() -> None:
    m = folium.Map(location=[31.85, 117.25], zoom_start=14)
    add_line_tool(m, lang="en")
    localize_assets(m, mode="inline")
    html = m.get_root().render()
    assert "L.Control.Draw" in html and "Draw a line (new link or streets to close)" in html
    assert not re.search(r"<script[^>]+src=\"https?:", html)
    assert "data:image/png;base64," in html  # the toolbar sprite travels with the page


def test_drawn_line_reads_polylines_and_ignores_other_shapes() -> None:
    line = [(117.25, 31.85), (117.2512345678, 31.8512345678)]
    assert drawn_line(_feature(line)) == [(117.25, 31.85), (117.251235, 31.851235)]
    assert drawn_line(_feature([(117.25, 31.85)], "Point")) is None
    assert drawn_line(_feature(line[:1])) is None
    assert drawn_line(None) is None
    assert drawn_line({"geometry": {"type": "LineString", "coordinates": [["a", 1]]}}) is None


def test_whatif_codes_used_in_the_code_have_both_languages() -> None:
    """Every ``whatif.*`` code written in the source has a text in both languages."""
    zh, en = catalogue("zh"), catalogue("en")
    found: set[str] = set()
    for folder in ("maps", "ui", "views"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    # A code has two segments after the domain; an f-string's head
                    # ("whatif.export.") has one and is checked through its callers below.
                    found |= set(re.findall(r"(?<![\w.])whatif(?:\.[a-z_]+){2,}", node.value))
    assert "whatif.draw.button" in found and "whatif.export.title" in found
    missing = [c for c in found if c not in zh or c not in en]
    assert missing == []
    for code in [c for c in zh if c.startswith("whatif.")]:
        assert fields(zh[code]) == fields(en[code]), code
    # netui's t("key") reads whatif.netui.<key>: every key it is called with exists.
    src = (ROOT / "ui" / "netui.py").read_text(encoding="utf-8")
    keys = set(re.findall(r"\bt\(\s*\"([a-z_.]+)\"", src))
    assert keys and [k for k in keys if f"whatif.netui.{k}" not in zh] == []


# --------------------------------------------------------------------------------------------
# Drawing a line in the app
# --------------------------------------------------------------------------------------------


def _drawing_script() -> None:
    import streamlit as st

    from ui import netui

    runs = st.session_state.get("runs", 0) + 1
    st.session_state["runs"] = runs
    line = [[117.25, 31.85], [117.26, 31.85]]
    feature = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": line}}
    # The component keeps returning the drawing on later runs; from the fourth run the
    # planner has drawn a second line (all_drawings keeps both).
    other = [[117.24, 31.84], [117.245, 31.84]]
    second = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": other}}
    last = second if runs >= 4 else feature
    netui.take_drawing({"last_active_drawing": last, "all_drawings": [feature, last]})


def test_take_drawing_fills_the_form_once_per_line() -> None:
    at = AppTest.from_function(_drawing_script, default_timeout=60)
    at.run()
    assert not at.exception
    assert at.session_state["cov_net_coords"] == "117.250000,31.850000\n117.260000,31.850000"
    assert at.session_state["cov_net_drawn"] == 2
    assert at.session_state["runs"] == 2  # the new line reran the script once
    at.session_state["cov_net_coords"] = "typed over"
    at.run()  # the same drawing again: the planner's text stays
    assert at.session_state["runs"] == 3
    assert at.session_state["cov_net_coords"] == "typed over"
    at.run()
    assert at.session_state["cov_net_coords"].startswith("117.240000,31.840000")
    assert at.session_state["runs"] == 5


class _FakeFolium:
    """Stands in for ``st_folium``: returns a drawing and keeps the maps it was given."""

    def __init__(self) -> None:
        self.drawing: dict[str, Any] | None = None
        self.maps: list[folium.Map] = []

    def __call__(self, fig: folium.Map, **kwargs: Any) -> dict[str, Any]:
        self.maps.append(fig)
        wanted = kwargs.get("returned_objects") or []
        out = {"last_clicked": None, "last_object_clicked": None, "last_active_drawing": None,
               "all_drawings": None}  # fmt: skip
        if self.drawing is not None:
            out["last_active_drawing"] = self.drawing
            out["all_drawings"] = [self.drawing]
        return {k: v for k, v in out.items() if k in wanted}


@pytest.fixture
def fake_folium(monkeypatch: pytest.MonkeyPatch) -> _FakeFolium:
    import streamlit_folium

    fake = _FakeFolium()
    monkeypatch.setattr(streamlit_folium, "st_folium", fake)
    return fake


def _coverage_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    _ok(at)
    at.switch_page("views/coverage.py").run()
    _ok(at)
    return at


def _get(at: AppTest, key: str) -> Any:
    try:
        return at.session_state[key]
    except KeyError:
        return None


def _rate(at: AppTest) -> float:
    return float(at.metric[0].value.rstrip("%"))


def test_a_line_drawn_on_the_map_closes_a_bridge_and_coverage_follows(
    fake_folium: _FakeFolium,
) -> None:
    at = _coverage_page()
    # The Coverage map carries the line tool, loaded from the app's static files.
    urls = [u for _, _, u in asset_links(fake_folium.maps[-1])]
    assert "/app/static/vendor/leaflet.draw/leaflet.draw.js" in urls
    at.selectbox(key="cov_map_category").set_value("health_station").run()
    before = _rate(at)
    # The planner draws along the easternmost bridge (health stations on both banks use it).
    line = _bridge_lines()[3]
    fake_folium.drawing = _feature(line)
    at.run()
    _ok(at)
    text = at.session_state["cov_net_coords"]
    assert text.splitlines()[0] == f"{line[0][0]:.6f},{line[0][1]:.6f}"
    assert len(text.splitlines()) == len(line)
    assert any("6 个点" in i.value for i in at.info)  # the form says where the line went
    assert at.number_input(key="cov_net_join").value == 30.0
    assert at.number_input(key="cov_net_tol").value == 5.0
    at.radio(key="cov_net_action").set_value("close").run()
    at.number_input(key="cov_net_tol").set_value(8.0)
    at.text_input(key="cov_net_name").set_value("一号桥")
    start = time.perf_counter()
    at.button(key="cov_net_apply").click().run()
    seconds = time.perf_counter() - start
    _ok(at)
    (edit,) = at.session_state["network_edits"][2]
    assert (edit.action, edit.name, edit.tolerance_m) == ("close", "一号桥", 8.0)
    assert edit.coords == tuple((round(x, 6), round(y, 6)) for x, y in line)
    # Coverage, KPIs and gaps follow the edited streets.
    ds, choice = at.session_state["dataset"], at.session_state["criteria"]
    net, _ = apply_network_edits(load_demo("synthetic").network, [edit])
    direct = analyse(net, ds.demand, ds.facilities, categories=list(choice.categories),
                     criteria=choice.criteria())  # fmt: skip
    rate = float(direct.summary.set_index("category").loc["health_station", "coverage_rate"])
    assert _rate(at) == pytest.approx(rate * 100, abs=0.05)
    assert _rate(at) < before
    assert "cov_net_coords" not in at.session_state or not at.session_state["cov_net_coords"]
    # The same drawing, still returned by the component, is not taken again.
    at.run()
    _ok(at)
    assert not at.session_state["cov_net_coords"]
    print(f"apply a drawn closure on the demo (AppTest rerun): {seconds:.2f} s")
    assert seconds < 6.0  # goal 2 s in a browser; AppTest adds its own overhead


def test_a_drawn_link_uses_the_join_distance(fake_folium: _FakeFolium) -> None:
    at = _coverage_page()
    # A bridge drawn short, its ends 40 m out in the river (about 39 m from the bank streets):
    # refused at the default join distance of 30 m, joined at 60 m.
    off = 40 / 111_000
    line = [(SOUTH_BANK[0], SOUTH_BANK[1] + off), (NORTH_BANK[0], NORTH_BANK[1] - off)]
    fake_folium.drawing = _feature(line)
    at.run()
    at.radio(key="cov_net_action").set_value("add").run()
    at.button(key="cov_net_apply").click().run()
    assert not at.exception
    assert at.error and "30" in at.error[0].value
    assert not _get(at, "network_edits")
    at.number_input(key="cov_net_join").set_value(60.0)
    at.button(key="cov_net_apply").click().run()
    _ok(at)
    (edit,) = at.session_state["network_edits"][2]
    assert (edit.action, edit.join_m) == ("add", 60.0)
    # Saved as a scenario, the edit leaves the session's streets and goes to the Compare page.
    at.text_input(key="cov_net_scenario").set_value("新桥")
    at.button(key="cov_net_to_scenario").click().run()
    _ok(at)
    assert not _get(at, "network_edits")
    assert at.session_state["scenarios"]["新桥"].network_edits == (edit,)
    assert any("新桥" in s.value for s in at.success)


# --------------------------------------------------------------------------------------------
# Compare: a bridge against two new canteens
# --------------------------------------------------------------------------------------------


def _plans() -> tuple[Scenario, Scenario]:
    demo = load_demo("synthetic")
    bridge = Scenario(
        name="新桥",
        network_edits=(NetworkEdit(action="add", coords=(SOUTH_BANK, NORTH_BANK), name="滨河桥"),),
    )
    pts = demo.demand.geometry.iloc[[3, 120]]
    canteens = Scenario(
        name="两处食堂",
        edits=tuple(
            Edit.add(category="elderly_canteen", lon=p.x, lat=p.y, name=f"新食堂{i}")
            for i, p in enumerate(pts, start=1)
        ),
    )
    return bridge, canteens


def _expected(bridge: Scenario, canteens: Scenario) -> pd.DataFrame:
    demo = load_demo("synthetic")
    cats, crit = list(CHOICE.categories), CHOICE.criteria()
    base = analyse(demo.network, demo.demand, demo.facilities, categories=cats, criteria=crit)
    net, _ = apply_network_edits(demo.network, list(bridge.network_edits))
    on_bridge = analyse(net, demo.demand, demo.facilities, categories=cats, criteria=crit)
    applied = [
        ScenarioResult(name=bridge.name, baseline=base, edits=(), result=on_bridge),
        apply_edits(base, demo.network, canteens.edits, name=canteens.name),
    ]
    return compare(base, applied, categories=cats)


def test_compare_sets_a_bridge_beside_two_new_canteens() -> None:
    bridge, canteens = _plans()
    expected = _expected(bridge, canteens)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.session_state["criteria"] = CHOICE
    at.session_state["scenarios"] = {bridge.name: bridge, canteens.name: canteens}
    at.switch_page("views/compare.py").run()
    _ok(at)
    table = next(d.value for d in at.dataframe if "新增覆盖人口" in d.value.columns)
    # The bridge gains job-service residents, the canteens elderly-canteen residents.
    assert {"新桥", "两处食堂"} <= set(table["方案"])
    for row in table.itertuples(index=False):
        scen, cat = row[0], row[1]
        want = expected[
            (expected["scenario"] == scen)
            & (expected["category"].map(_category_name) == cat)
        ].iloc[0]  # fmt: skip
        got = dict(zip(table.columns, row, strict=True))
        assert got["新增覆盖人口"] == pytest.approx(round(want["newly_covered_population"]))
        assert got["失去覆盖人口"] == pytest.approx(round(want["newly_lost_population"]))
        assert got["方案覆盖率 %"] == pytest.approx(round(want["coverage_after"] * 100, 1))
    gained = expected.set_index(["scenario", "category"])["newly_covered_population"]
    assert gained[("新桥", "job_service")] > 0 and gained[("两处食堂", "elderly_canteen")] > 0
    # The bridge scenario's map and its edits' table.
    at.selectbox(key="cmp_one").set_value("新桥").run()
    _ok(at)
    edits = next(d.value for d in at.dataframe if "长度（米）" in d.value.columns)
    assert edits["名称"].tolist() == ["滨河桥"]
    assert edits["长度（米）"].iloc[0] == pytest.approx(181, abs=1)
    # "Use these streets": the session network gets the bridge, so siting runs on it.
    at.button(key="cmp_net_use").click().run()
    _ok(at)
    assert at.session_state["network_edits"][2] == bridge.network_edits
    assert at.session_state["dataset"].network.n_edges > load_demo("synthetic").network.n_edges


def _category_name(key: str) -> str:
    from geo.taxonomy import categories

    return categories()[key].name("zh")


def test_scenarios_with_network_edits_save_and_load(tmp_path: Path) -> None:
    bridge, canteens = _plans()
    path = save_scenarios([bridge, canteens], tmp_path / "s.json")
    loaded = load_scenarios(path)
    assert loaded == [bridge, canteens]
    # A scenario without network edits is written as before (no new key).
    assert "network_edits" not in canteens.to_dict()


# --------------------------------------------------------------------------------------------
# Reports
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def edit_report() -> pd.DataFrame:
    demo = load_demo("synthetic")
    edits = [
        NetworkEdit(action="add", coords=(SOUTH_BANK, NORTH_BANK), name="滨河桥"),
        NetworkEdit(action="close", coords=tuple(_bridge_lines()[1]), name="二号桥"),
    ]
    return apply_network_edits(demo.network, edits)[1]


@pytest.fixture(scope="module")
def report_args() -> dict[str, Any]:
    demo = load_demo("synthetic")
    result = analyse(demo.network, demo.demand, demo.facilities, categories=["reading"])
    buf = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(buf, format="PNG")
    return {"png": buf.getvalue(), "summary": result.summary}


def test_edits_table_lists_kind_name_and_length(edit_report: pd.DataFrame) -> None:
    zh = edits_table(edit_report, lang="zh")
    assert zh is not None
    assert zh.columns.tolist() == ["序号", "类型", "名称", "长度（米）"]
    assert zh["类型"].tolist() == ["新增连接", "封闭道路"]
    assert zh["长度（米）"].tolist() == edit_report["length_m"].round(0).tolist()
    en = edits_table(edit_report, lang="en")
    assert en is not None and en["Kind"].tolist() == ["New link", "Closed streets"]
    assert edits_table(None, lang="zh") is None and edits_sheet(None, lang="zh") == {}
    other = edit_report.assign(applied=[True, False])
    assert "说明" in edits_table(other, lang="zh").columns  # type: ignore[union-attr]


def test_reports_and_workbook_list_the_network_edits(
    edit_report: pd.DataFrame, report_args: dict[str, Any]
) -> None:
    lengths = [f"{v:,.0f}" for v in edit_report["length_m"]]
    pdf = report_pdf(None, **report_args, network_edits=edit_report)
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    for word in ("路网假设", "滨河桥", "二号桥", "新增连接", "封闭道路", *lengths):
        assert word in text, word
    plain = report_pdf(None, **report_args)
    assert "滨河桥" not in "\n".join(
        p.extract_text() for p in pypdf.PdfReader(io.BytesIO(plain)).pages
    )
    slides = report_pptx(None, **report_args, network_edits=edit_report)
    deck = pptx.Presentation(io.BytesIO(slides))
    tables = [s.table for slide in deck.slides for s in slide.shapes if s.has_table]
    cells = [[c.text for c in row.cells] for tbl in tables for row in tbl.rows]
    assert ["1", "新增连接", "滨河桥", lengths[0]] in cells
    assert ["2", "封闭道路", "二号桥", lengths[1]] in cells
    book = openpyxl.load_workbook(
        io.BytesIO(write_xlsx(None, summary=report_args["summary"], network_edits=edit_report))
    )
    assert "路网假设" in book.sheetnames
    rows = list(book["路网假设"].values)
    assert rows[0] == ("序号", "类型", "名称", "长度（米）")
    assert rows[1][1:3] == ("新增连接", "滨河桥")
    assert rows[1][3] == pytest.approx(round(edit_report["length_m"].iloc[0]))
    assert (
        "路网假设"
        not in openpyxl.load_workbook(
            io.BytesIO(write_xlsx(None, summary=report_args["summary"]))
        ).sheetnames
    )


def test_export_inputs_carry_the_edits_to_every_report(
    edit_report: pd.DataFrame, report_args: dict[str, Any]
) -> None:
    from maps.export_bundle import ExportInputs, build_one

    inp = ExportInputs(
        map_layers={}, summary=report_args["summary"], communities=None, gaps=None, sites=None,
        parameters={}, sources=[], title="t", subtitle="", footer="", area="", synthetic=True,
        lang="en", network_edits=edit_report,
    )  # fmt: skip
    built = {"png": report_args["png"]}
    pdf = build_one(inp, "pdf", built)
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Network what-ifs" in text and "New link" in text
    deck = pptx.Presentation(io.BytesIO(build_one(inp, "pptx", built)))
    assert any(
        "Network what-ifs" in s.text_frame.text
        for slide in deck.slides for s in slide.shapes if s.has_text_frame
    )  # fmt: skip
    book = openpyxl.load_workbook(io.BytesIO(build_one(inp, "xlsx", built)))
    assert "Network what-ifs" in book.sheetnames


def test_a_cli_run_with_network_edits_lists_them_in_its_report(tmp_path: Path) -> None:
    import cli

    (a, b) = SOUTH_BANK, NORTH_BANK
    config = (
        'demo = "synthetic"\n[analysis]\nservice_areas = false\ncategories = ["job_service"]\n'
        f'[[network_edits]]\naction = "add"\nname = "滨河桥"\ncoords = [[{a[0]}, {a[1]}], '
        f"[{b[0]}, {b[1]}]]\n"
    )
    (tmp_path / "run.toml").write_text(config, "utf-8")
    out = tmp_path / "out"
    assert cli.main(["-q", "run", str(tmp_path / "run.toml"), "--out", str(out),
                     "--report", "xlsx"]) == 0  # fmt: skip
    (book_path,) = out.glob("*.xlsx")
    book = openpyxl.load_workbook(book_path)
    rows = list(book["路网假设"].values)
    assert rows[1][1:3] == ("新增连接", "滨河桥")
    assert rows[1][3] == pytest.approx(181, abs=1)


def _export_script() -> None:
    import streamlit as st

    from geo.network_edits import NetworkEdit
    from ui import exports, state

    state.init()
    edit = NetworkEdit(
        action="add",
        coords=((117.24736295541139, 31.84474699686), (117.2475029397999, 31.846372127374806)),
        name="滨河桥",
    )
    state.set_network_edits((edit,))
    ds, choice = state.dataset(), state.criteria_choice()
    bundle = exports.Bundle.of(ds, choice, category=choice.categories[0], title="t")
    table = bundle.inputs.network_edits
    st.session_state["exported"] = (
        None if table is None else table[["action", "name"]].values.tolist()
    )


def test_the_export_page_hands_the_session_edits_to_the_reports() -> None:
    at = AppTest.from_function(_export_script, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["exported"] == [["add", "滨河桥"]]


def test_a_scenario_whose_edits_do_not_fit_is_named_and_left_out() -> None:
    _, canteens = _plans()
    elsewhere = Scenario(
        name="别处的桥",
        network_edits=(NetworkEdit(action="add", coords=((116.39, 39.90), (116.40, 39.91))),),
    )
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.session_state["criteria"] = CHOICE
    at.session_state["scenarios"] = {elsewhere.name: elsewhere, canteens.name: canteens}
    at.switch_page("views/compare.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1 and "别处的桥" in at.error[0].value
    assert "Traceback" not in at.error[0].value
    table = next(d.value for d in at.dataframe if "新增覆盖人口" in d.value.columns)
    assert set(table["方案"]) == {"两处食堂"}
