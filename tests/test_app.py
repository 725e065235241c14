"""The Streamlit app under AppTest: every page on the demo, and the planner's flows.

``st_folium`` renders as an unknown element here (no browser); tests/test_browser.py checks the
map itself. Paths are built from this file so pytest can run from any folder.
"""

from __future__ import annotations

import bz2
import io
import json
import tempfile
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
from _data import osm_extract
from streamlit.testing.v1 import AppTest

from geo import settings
from geo.datum import wgs84_to_gcj02
from study.demo import load_demo

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGES = ["data", "coverage", "gaps", "sites", "compare", "export"]
TITLES_ZH = {"data": "数据", "coverage": "覆盖", "gaps": "缺口", "sites": "选址",
             "compare": "方案比较", "export": "导出"}  # fmt: skip


@pytest.fixture(autouse=True)
def _no_warmup(monkeypatch: pytest.MonkeyPatch) -> None:
    # The background warm-up would compute while tests count computations; one test turns it on.
    from ui import warmup

    monkeypatch.setattr(warmup, "ENABLED", False)


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    _ok(at)
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"views/{page}.py").run()
    _ok(at)
    return at


def _table(at: AppTest, column: str) -> pd.DataFrame:
    """The first table on the page that has ``column`` (st.dataframe keys are not exposed)."""
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with column {column!r}")


def _rate(at: AppTest) -> float:
    # The first metric on the Coverage page is the population coverage rate ("37.2%").
    return float(at.metric[0].value.rstrip("%"))


def _demo_facilities() -> pd.DataFrame:
    from study.demo import load_demo

    return load_demo("synthetic").facilities


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_the_demo(page: str) -> None:
    at = _app()
    _goto(at, page)
    assert at.header[0].value == TITLES_ZH[page]
    # The synthetic demo is labelled as such in the sidebar.
    assert any("合成示范区" in w.value for w in at.sidebar.warning)


def test_coverage_kpis_change_with_the_threshold() -> None:
    at = _goto(_app(), "coverage")
    default_rate = _rate(at)
    kpi = _table(at, "人口覆盖率")
    assert len(kpi) == len(at.session_state["criteria"].categories)
    at.radio(key="cov_kind").set_value("minutes").run()
    at.select_slider(key="cov_minutes").set_value(5).run()
    _ok(at)
    five = _rate(at)
    at.select_slider(key="cov_minutes").set_value(15).run()
    fifteen = _rate(at)
    assert five < fifteen, (five, fifteen)
    assert five != default_rate
    # Network distance in metres works too and moves the KPI table.
    at.radio(key="cov_kind").set_value("metres").run()
    at.number_input(key="cov_metres").set_value(300.0).run()
    _ok(at)
    assert _rate(at) < fifteen
    assert not _table(at, "人口覆盖率").equals(kpi)


def test_switching_pages_keeps_the_criteria() -> None:
    at = _goto(_app(), "coverage")
    at.radio(key="cov_kind").set_value("minutes").run()
    at.select_slider(key="cov_minutes").set_value(10).run()
    rate = _rate(at)
    _goto(at, "gaps")
    _goto(at, "coverage")
    assert at.radio(key="cov_kind").value == "minutes"
    assert at.select_slider(key="cov_minutes").value == 10
    assert _rate(at) == rate


def test_sessions_are_isolated() -> None:
    a = _goto(_app(), "coverage")
    b = _goto(_app(), "coverage")
    base = _rate(b)
    a.radio(key="cov_kind").set_value("minutes").run()
    a.select_slider(key="cov_minutes").set_value(5).run()
    b.run()
    assert _rate(b) == base
    assert _rate(a) != base


def test_gbk_csv_with_gcj02_coordinates_is_converted_and_validated() -> None:
    fac = _demo_facilities().head(6)
    lon, lat = fac.geometry.x.to_numpy(), fac.geometry.y.to_numpy()
    glon, glat = wgs84_to_gcj02(lon, lat)
    rows = [
        f"新站{i},老年食堂,{x:.7f},{y:.7f}" for i, (x, y) in enumerate(zip(glon, glat, strict=True))
    ]
    rows.append("坏行,老年食堂,abc,31.8")  # rejected: longitude is not a number
    data = ("名称,类别,经度,纬度\n" + "\n".join(rows) + "\n").encode("gbk")

    at = _app()
    at.file_uploader(key="fac_file").set_value(("设施.csv", data, "text/csv")).run()
    _ok(at)
    preview = _table(at, "名称")
    assert "名称" in preview.columns and len(preview) == 7
    # Column mapping prefilled from detection.
    lon_box = next(s for s in at.selectbox if s.key and s.key.startswith("fac_lon_"))
    lat_box = next(s for s in at.selectbox if s.key and s.key.startswith("fac_lat_"))
    assert (lon_box.value, lat_box.value) == ("经度", "纬度")
    crs = next(r for r in at.radio if r.key and r.key.startswith("fac_crs_"))
    crs.set_value("gcj02").run()
    # The default replaces the facilities of the file's categories and keeps the others.
    assert at.radio(key="fac_how").value == "replace_categories"
    demo = at.session_state["dataset"].facilities
    at.button(key="fac_apply").click().run()
    _ok(at)
    mixed = at.session_state["dataset"].facilities
    others = demo[demo["category"] != "elderly_canteen"]
    assert len(mixed) == len(others) + 6
    assert (mixed["category"] == "elderly_canteen").sum() == 6
    # "Replace all" keeps only the file's facilities.
    at.radio(key="fac_how").set_value("replace").run()
    at.button(key="fac_apply").click().run()
    _ok(at)
    ds = at.session_state["dataset"]
    got = ds.facilities
    assert len(got) == 6
    assert set(got["category"]) == {"elderly_canteen"}
    # The page was redrawn: its summary counts the new facilities, and the outcome is told.
    assert any("设施 6 ·" in c.value for c in at.caption), [c.value for c in at.caption]
    assert any("已使用 6 个设施" in m.value for m in at.success)
    # Back on WGS-84: within a metre of where the facilities really are.
    err = np.hypot(
        (got.geometry.x.to_numpy() - lon) * 94_000, (got.geometry.y.to_numpy() - lat) * 111_000
    )
    assert err.max() < 1.0, err
    rejected = _table(at, "原因")
    assert list(rejected["行号"]) == [8]
    assert rejected["原因"].iloc[0] == "经度不是数字"
    # The new facilities are what the Coverage page analyses.
    _goto(at, "coverage")
    assert at.session_state["criteria"].categories == ("elderly_canteen",)
    assert _table(at, "设施数").iloc[0, 2] == 6


def test_broken_upload_shows_a_plain_message() -> None:
    at = _app()
    at.file_uploader(key="fac_file").set_value(("设施.csv", b"   \n", "text/csv")).run()
    assert not at.exception
    assert at.error, "an empty file must be reported"
    assert "Traceback" not in at.error[0].value
    assert "设施.csv" in at.error[0].value
    # Only the facility section stops: the demand section below is still there.
    assert at.radio(key="dem_kind") is not None


def test_candidate_upload_takes_the_datum_from_amap_headers() -> None:
    from study.demo import load_demo

    pts = load_demo("synthetic").demand.sample(5, random_state=2)
    glon, glat = wgs84_to_gcj02(pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy())
    csv = "名称,高德经度,高德纬度\n" + "\n".join(
        f"候选{i},{x:.7f},{y:.7f}" for i, (x, y) in enumerate(zip(glon, glat, strict=True))
    )
    at = _goto(_app(), "sites")
    at.radio(key="sites_cand").set_value("upload").run()
    at.file_uploader(key="cand_file").set_value(("候选.csv", csv.encode("utf-8"), "text/csv"))
    at.run()
    _ok(at)
    crs = next(r for r in at.radio if r.key and r.key.startswith("cand_crs_"))
    assert crs.value == "gcj02"


def test_siting_run_shows_sites_and_saves_a_scenario() -> None:
    at = _goto(_app(), "sites")
    at.number_input(key="sites_k").set_value(2).run()
    at.button(key="sites_run").click().run()
    _ok(at)
    sites = _table(at, "新增覆盖人口")
    assert len(sites) == 2
    assert (sites.iloc[:, 3] > 0).all()  # residents newly covered per site
    params, result, *_ = at.session_state["siting"]
    assert params.k == 2 and result.status
    # The curve shows one value per number of sites (the best known), not greedy and exact rows.
    curve = _table(at, "新增点数")
    assert curve["新增点数"].is_unique and curve["新增点数"].iloc[0] == 0
    assert len(curve) == result.best_curve["k"].nunique()
    assert set(curve["求解方式"]) <= {
        "现状",
        "贪心（逐个加点）",
        "精确最优",
        "精确求解（达到时限）",
    }
    at.button(key="sites_save").click().run()
    _ok(at)
    _goto(at, "compare")
    table = _table(at, "方案")
    # The proposed sites change one category: that row, not the nine unchanged ones.
    assert len(table) == 1
    assert (table.iloc[:, -4] > 0).all()  # newly covered residents


def test_scenarios_round_trip_through_a_file(tmp_path: Path) -> None:
    from coverage.scenarios import Edit, Scenario, save_scenarios

    fac = _demo_facilities()
    edits = (Edit.add(category="elderly_canteen", lon=float(fac.geometry.x.mean()),
                      lat=float(fac.geometry.y.mean()), name="新食堂"),)  # fmt: skip
    plan = Scenario(name="方案A", edits=edits)
    at = _goto(_app(), "compare")
    assert at.info  # nothing to compare yet
    at.session_state["scenarios"] = {"方案A": plan}
    at.run()
    _ok(at)
    table = _table(at, "方案")
    assert set(table["方案"]) == {"方案A"}
    assert at.get("download_button"), "the scenarios can be downloaded"
    # The file the download button holds, loaded into another session, gives the same table.
    payload = save_scenarios([plan], tmp_path / "scenarios.json").read_bytes()
    other = _goto(_app(), "compare")
    other.file_uploader(key="cmp_upload").set_value(("scenarios.json", payload, "application/json"))
    other.run()
    _ok(other)
    assert "方案A" in other.session_state["scenarios"]
    pd.testing.assert_frame_equal(_table(other, "方案"), table)


def test_what_if_trial_site_shows_its_effect() -> None:
    at = _goto(_app(), "sites")
    gaps = at.session_state["dataset"]
    cat = at.selectbox(key="sites_category").value
    # A map click puts (lon, lat, category) in the session; simulate one inside the largest gap.
    from coverage.gaps import find_gaps
    from ui.state import CriteriaChoice

    choice: CriteriaChoice = at.session_state["criteria"]
    from coverage.analysis import analyse

    res = analyse(gaps.network, gaps.demand, gaps.facilities, categories=[cat],
                  criteria={cat: choice.criteria()[cat]})  # fmt: skip
    gap = find_gaps(res, category=cat).iloc[0].geometry.representative_point()
    at.session_state["trial_sites"] = [(gap.x, gap.y, cat)]
    at.run()
    _ok(at)
    table = _table(at, "方案")
    assert table.iloc[0, 6] > 0  # newly covered residents
    assert table.iloc[0, 5] > 0  # coverage change in points


def test_export_produces_every_file() -> None:
    at = _goto(_app(), "export")
    at.button(key="exp_prepare").click().run()
    _ok(at)
    assert len(at.get("download_button")) == 6
    _key, files = at.session_state["export_files"]
    magic = {"png": b"\x89PNG", "xlsx": b"PK", "pptx": b"PK", "pdf": b"%PDF",
             "gpkg": b"SQLite format 3", "html": b"<!DOCTYPE html>"}  # fmt: skip
    for fmt, head in magic.items():
        assert isinstance(files[fmt], bytes), files[fmt]
        assert files[fmt][: len(head)].lower() == head.lower(), fmt
    html = files["html"].decode("utf-8")
    assert "cdn." not in html and "unpkg.com" not in html
    sheets = pd.read_excel(io.BytesIO(files["xlsx"]), sheet_name=None)
    assert len(sheets) >= 4
    gpkg = Path(tempfile.mkdtemp()) / "export.gpkg"
    gpkg.write_bytes(files["gpkg"])
    areas = pyogrio.read_dataframe(gpkg, layer="service_areas")
    # Every kind of service area goes to the GeoPackage, one per facility for the per-facility kind.
    assert set(areas["kind"]) == {"facility", "dissolved", "nearest"}
    demo_fac = load_demo().facilities
    n_fac = int((demo_fac["category"] == areas["category"].iloc[0]).sum())
    assert (areas["kind"] == "facility").sum() == n_fac
    # GIS users get who is covered, per category, and the gaps of every category.
    demand = pyogrio.read_dataframe(gpkg, layer="demand")
    cats = at.session_state["criteria"].categories
    for key in cats:
        assert {f"{key}_covered", f"{key}_distance_m", f"{key}_minutes"} <= set(demand.columns)
    gaps = pyogrio.read_dataframe(gpkg, layer="gaps")
    assert len(gaps) == len(sheets["缺口"]) and len(set(gaps["category"])) > 1
    # Parameters and sources in the interface language, with the data's attribution.
    params = sheets["参数"]
    assert "导出日期" in set(params.iloc[:, 0]) and "数据来源" in set(params.iloc[:, 0])
    assert not {"basemap", "data"} & set(params.iloc[:, 0])


def test_english_switch() -> None:
    at = _app()
    at.sidebar.radio(key="lang").set_value("en").run()
    _ok(at)
    assert at.header[0].value == "Data"
    _goto(at, "coverage")
    assert at.header[0].value == "Coverage"
    assert "coverage" in at.metric[0].label.lower()
    assert "Elderly canteen / meal-aid point" in set(_table(at, "Category")["Category"])
    for page in ("gaps", "sites", "compare", "export"):
        _goto(at, page)
        assert at.header[0].value == {"gaps": "Gaps", "sites": "Sites", "compare": "Compare",
                                      "export": "Export"}[page]  # fmt: skip


def test_siting_outcome_in_both_languages() -> None:
    at = _goto(_app(), "sites")
    at.number_input(key="sites_k").set_value(2).run()
    at.button(key="sites_run").click().run()
    _ok(at)
    _params, result, *_ = at.session_state["siting"]
    added = float(result.sites["added_population"].sum())
    assert at.info[0].value == f"建议新增 2 处设施，新增覆盖 {added:,.0f} 人。"
    assert at.caption[0].value.startswith("求解状态：最优；方法：HiGHS 整数规划")
    assert "optimal" not in at.caption[0].value and "HiGHS MILP" not in at.caption[0].value
    at.sidebar.radio(key="lang").set_value("en").run()
    _ok(at)
    assert at.info[0].value == f"2 sites proposed, newly covering {added:,.0f} residents."
    assert "Status:" in at.caption[0].value


def test_streamlit_config_matches_settings() -> None:
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert cfg["server"]["maxUploadSize"] == settings.max_upload_mb
    assert cfg["server"]["enableStaticServing"] is True
    assert cfg["server"]["headless"] is True
    assert cfg["browser"]["gatherUsageStats"] is False
    assert (ROOT / "static" / "vendor" / "leaflet" / "leaflet.js").exists()


def test_helsinki_demo_loads_and_is_analysed() -> None:
    at = _app()
    at.radio(key="data_source").set_value("helsinki").run()
    at.button(key="data_load_demo").click().run()
    _ok(at)
    ds = at.session_state["dataset"]
    assert not ds.synthetic
    assert not any("合成示范区" in w.value for w in at.sidebar.warning)
    _goto(at, "coverage")
    assert 0 < _rate(at) <= 100


def test_uploaded_osm_extract_gives_network_and_facilities() -> None:
    # Uploaded as the plain .osm a planner exports (the repo keeps it bzip2-compressed).
    osm_xml = bz2.decompress(osm_extract("nanjing_xinjiekou").read_bytes())
    at = _app()
    at.radio(key="data_source").set_value("upload").run()
    at.file_uploader(key="data_net_file").set_value(("nanjing_xinjiekou.osm", osm_xml, "text/xml"))
    at.run()
    at.button(key="data_load_file").click().run()
    _ok(at)
    ds = at.session_state["dataset"]
    assert ds.label == "nanjing_xinjiekou.osm"
    assert ds.network.n_nodes > 100 and len(ds.facilities) > 0 and len(ds.demand) > 0
    _goto(at, "coverage")
    assert 0 <= _rate(at) <= 100


def test_place_name_offline_gives_a_plain_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Nothing listens on port 9: the download fails at once, as on an intranet.
    monkeypatch.setattr(settings, "overpass_url", "http://127.0.0.1:9/api")
    monkeypatch.setattr(settings, "nominatim_url", "http://127.0.0.1:9/")
    monkeypatch.setattr(settings, "cache_folder", tmp_path)
    at = _app()
    at.radio(key="data_source").set_value("place").run()
    at.text_input(key="data_place").set_value("某某街道 nowhere").run()
    at.button(key="data_load_place").click().run()
    assert not at.exception
    assert at.error and "Traceback" not in at.error[0].value
    assert at.session_state["dataset"].synthetic  # the demo stays loaded


def test_selecting_a_gap_points_the_map_at_it() -> None:
    at = _goto(_app(), "gaps")
    table = _table(at, "未覆盖人口")
    assert len(table) > 1
    assert table["未覆盖人口"].is_monotonic_decreasing
    # Row selection state, as the browser would send it (AppTest cannot click table rows).
    at.session_state["gaps_table"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    _ok(at)
    assert at.info and at.info[0].value.startswith("已定位到缺口 2")


def test_focus_frames_a_geometry() -> None:
    import shapely

    from ui.maps import focus

    small = shapely.box(117.25, 31.84, 117.252, 31.842)
    big = shapely.box(117.2, 31.8, 117.3, 31.9)
    (lat, lon), zoom = focus(small)
    assert (lat, lon) == pytest.approx((31.841, 117.251))
    assert focus(big)[1] < zoom <= 17


def test_demand_from_a_grid_and_from_a_community_table() -> None:
    at = _app()
    at.radio(key="dem_kind").set_value("grid").run()
    at.number_input(key="dem_total").set_value(80_000).run()
    at.button(key="dem_apply").click().run()
    _ok(at)
    demand = at.session_state["dataset"].demand
    assert set(demand["kind"]) == {"grid"}
    assert demand["population"].sum() == pytest.approx(80_000)
    at.radio(key="dem_kind").set_value("table").run()
    csv = (
        "小区名称,人口,老年人口,经度,纬度\n甲小区,1200,300,117.25,31.84\n"
        "乙小区,800,100,117.26,31.85\n丙小区,500,50,117.24,31.83\n"
    ).encode("gbk")
    at.file_uploader(key="dem_file_table").set_value(("小区.csv", csv, "text/csv")).run()
    at.button(key="dem_apply").click().run()
    _ok(at)
    demand = at.session_state["dataset"].demand
    assert len(demand) == 3 and demand["population"].sum() == pytest.approx(2500)
    _goto(at, "coverage")
    assert float(at.metric[2].value.replace(",", "")) <= 2500  # uncovered residents


def test_gcj02_points_read_as_wgs84_get_a_datum_suggestion() -> None:
    fac = _demo_facilities().head(12)
    glon, glat = wgs84_to_gcj02(fac.geometry.x.to_numpy(), fac.geometry.y.to_numpy())
    rows = [
        f"站{i},老年食堂,{x:.7f},{y:.7f}" for i, (x, y) in enumerate(zip(glon, glat, strict=True))
    ]
    data = ("名称,类别,经度,纬度\n" + "\n".join(rows) + "\n").encode("gbk")
    at = _app()
    at.file_uploader(key="fac_file").set_value(("设施.csv", data, "text/csv")).run()
    # Before applying, the form pre-selects the datum that fits the streets, and says why.
    crs = next(r for r in at.radio if r.key and r.key.startswith("fac_crs_"))
    assert crs.value == "gcj02"
    assert any("GCJ-02" in c.value and "未声明" in c.value for c in at.caption)
    crs.set_value("wgs84").run()  # the planner overrides it: the suggestion still comes
    at.button(key="fac_apply").click().run()
    _ok(at)
    assert any("GCJ-02" in i.value for i in at.info), [i.value for i in at.info]
    # Only the Chinese line of the suggestion in the Chinese interface.
    assert not any("These points" in i.value for i in at.info)


def test_unreadable_network_upload_names_the_users_file() -> None:
    at = _app()
    at.radio(key="data_source").set_value("upload").run()
    at.file_uploader(key="data_net_file").set_value(
        ("道路.zip", b"PK\x03\x04junk", "application/zip")
    )
    at.run()
    at.button(key="data_load_file").click().run()
    assert not at.exception
    assert at.error and at.error[0].value.startswith("路网文件无法读取。")  # the kind, in Chinese
    assert "详细信息：道路.zip" in at.error[0].value
    assert "/tmp" not in at.error[0].value
    assert at.session_state["dataset"].synthetic  # the demo stays loaded


def test_siting_on_uploaded_candidates_for_each_model() -> None:
    from study.demo import load_demo

    pts = load_demo("synthetic").demand.sample(8, random_state=1)
    csv = "名称,经度,纬度\n" + "\n".join(
        f"候选{i},{g.x:.6f},{g.y:.6f}" for i, g in enumerate(pts.geometry)
    )
    at = _goto(_app(), "sites")
    at.radio(key="sites_cand").set_value("upload").run()
    at.file_uploader(key="cand_file").set_value(("候选.csv", csv.encode("utf-8"), "text/csv"))
    at.run()
    at.number_input(key="sites_k").set_value(2).run()
    for model in ("mclp", "pmedian", "capacitated", "lscp"):
        at.selectbox(key="sites_model").set_value(model).run()
        at.button(key="sites_run").click().run()
        _ok(at)
        params, result, *_ = at.session_state["siting"]
        assert params.model == model and params.candidates == "upload"
        assert len(result.candidates) == 8
        assert set(result.sites["name"]) <= {f"候选{i}" for i in range(8)}
        if model != "lscp":
            assert len(result.sites) == 2, (model, result.message)
        # The outcome is told in Chinese from the result's numbers, not the core's English.
        told = at.info[0].value
        assert str(len(result.sites)) in told, told
        assert not any(c.isascii() and c.isalpha() for c in told), told
        assert "处" in told or "无需" in told, told


def test_switching_pages_does_not_recompute(monkeypatch: pytest.MonkeyPatch) -> None:
    import coverage.analysis
    import coverage.service_areas

    calls = {"analyse": 0, "service_areas": 0}

    def counting(module: object, name: str) -> None:
        real = getattr(module, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            calls[name] += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)

    counting(coverage.analysis, "analyse")
    counting(coverage.service_areas, "service_areas")
    at = _goto(_app(), "coverage")
    # A threshold no other test uses, so the shared caches have not seen it.
    at.radio(key="cov_kind").set_value("metres").run()
    before = dict(calls)
    at.number_input(key="cov_metres").set_value(1234.0).run()
    _ok(at)
    assert {k: calls[k] - before[k] for k in calls} == {"analyse": 1, "service_areas": 1}
    after = dict(calls)
    for page in ("gaps", "export", "coverage", "data", "coverage"):
        _goto(at, page)
    at.run()  # what a pan or zoom would cost if it reran the script: nothing new
    assert calls == after


def test_compare_keeps_the_picked_scenarios_across_pages() -> None:
    from coverage.scenarios import Edit, Scenario

    fac = _demo_facilities()
    x, y = float(fac.geometry.x.mean()), float(fac.geometry.y.mean())
    plans = {
        n: Scenario(name=n, edits=(Edit.add(category="elderly_canteen", lon=x + d, lat=y),))
        for n, d in (("甲", 0.0), ("乙", 0.003))
    }
    at = _goto(_app(), "compare")
    at.session_state["scenarios"] = plans
    at.run()
    assert at.multiselect(key="cmp_pick").value == ["甲", "乙"]
    at.multiselect(key="cmp_pick").set_value(["乙"]).run()
    _goto(at, "coverage")
    _goto(at, "compare")
    assert at.multiselect(key="cmp_pick").value == ["乙"]
    assert set(_table(at, "方案")["方案"]) == {"乙"}
    # Only the category the scenario changes is listed.
    assert _table(at, "方案")["类别"].tolist() == ["老年食堂/助餐点"]
    # Nothing picked: a hint, not an error.
    at.multiselect(key="cmp_pick").set_value([]).run()
    _ok(at)
    assert any("至少选择一个方案" in i.value for i in at.info)


def test_what_if_closing_facilities_shows_residents_losing_coverage() -> None:
    at = _goto(_app(), "sites")
    cat = at.selectbox(key="sites_category").value
    facilities = at.session_state["dataset"].facilities
    closing = list(facilities.loc[facilities["category"] == cat, "facility_id"][:3])
    at.multiselect(key=f"trial_remove_{cat}").set_value(closing).run()
    _ok(at)
    row = _table(at, "方案").iloc[0]
    before, after = (int(v) for v in row["设施数"].split(" → "))
    assert after == before - 3
    assert row["变化（百分点）"] < 0
    assert row["失去覆盖人口"] > 0


def test_demo_map_shows_the_river_and_legend_colours_match_the_areas() -> None:
    from coverage.analysis import analyse
    from coverage.service_areas import service_areas
    from geo.taxonomy import get_category
    from maps.layers import WATER_FILL, coverage_map
    from study.demo import load_demo

    demo = load_demo("synthetic")
    cat = "elderly_canteen"
    result = analyse(demo.network, demo.demand, demo.facilities, categories=[cat])
    threshold = result.criteria[cat].threshold_m
    areas = service_areas(
        demo.network, result, category=cat, thresholds_m=[threshold], kinds=("dissolved",)
    )
    html = coverage_map(
        facilities=demo.facilities, demand=demo.demand, service_areas=areas,
        categories=[cat], water=demo.extra["river"],
    ).get_root().render()  # fmt: skip
    legend = html[html.index("lcc-legend") :]
    color = get_category(cat).color
    assert f'"fillColor": "{WATER_FILL}"' in html  # the river is drawn
    assert json.dumps("河流水系")[1:-1] in legend  # the legend HTML is a JSON string
    # The service-area swatch has the colour the area is drawn in (not a neutral grey).
    assert f'"fillColor": "{color}"' in html
    assert f"background:{color}" in legend
    assert "#555555" not in legend


def test_first_visit_warms_the_coverage_page_in_the_background(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    import coverage.analysis
    import coverage.service_areas
    from ui import state, warmup

    monkeypatch.setattr(warmup, "ENABLED", True)
    monkeypatch.setattr(warmup, "_started", threading.Event())
    monkeypatch.setattr(warmup, "_done", threading.Event())
    state._analysis.clear()
    state._memo.clear()
    at = _app()  # the Data page: needs no analysis, so the warm-up thread does it
    assert warmup.wait(60), "the warm-up did not finish"

    def computed(*args: object, **kwargs: object) -> None:
        raise AssertionError("the Coverage page recomputed what the warm-up had cached")

    monkeypatch.setattr(coverage.analysis, "analyse", computed)
    monkeypatch.setattr(coverage.service_areas, "service_areas", computed)
    _goto(at, "coverage")
    assert at.metric[0].value.endswith("%")
    assert not warmup.start(at.session_state["dataset"], at.session_state["criteria"],
                            category="elderly_canteen", lang="zh")  # once per process  # fmt: skip


def test_tables_group_thousands_in_whole_number_columns() -> None:
    import pandas as pd

    from ui.tables import number_formats

    frame = pd.DataFrame(
        {"覆盖人口": [54_420, 102_841], "覆盖率（%）": [37.2, 52.3], "设施数": [12, 9]}
    )
    config = number_formats(frame)
    assert set(config) == {"覆盖人口"}  # rates keep decimals; small counts need no grouping
    assert config["覆盖人口"]["type_config"]["format"] == "localized"


def test_lscp_target_is_set_in_percent() -> None:
    at = _goto(_app(), "sites")
    at.selectbox(key="sites_model").set_value("lscp").run()
    at.slider(key="sites_target_pct").set_value(90).run()
    at.button(key="sites_run").click().run()
    _ok(at)
    params, result, *_ = at.session_state["siting"]
    assert params.model == "lscp" and params.target == pytest.approx(0.90)
    assert len(result.sites) >= 1


def test_export_title_follows_the_language() -> None:
    at = _goto(_app(), "export")
    zh = next(t for t in at.text_input if t.key == "exp_title_zh")
    assert "十五分钟" in zh.value or "生活圈" in zh.value
    at.sidebar.radio(key="lang").set_value("en").run()
    _ok(at)
    en = next(t for t in at.text_input if t.key == "exp_title_en")
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in en.value), en.value


def test_unsnapped_points_are_labelled_for_planners() -> None:
    import pandas as pd

    from ui.tables import unsnapped_table

    raw = pd.DataFrame(
        {"kind": ["facility", "demand"], "id": ["F4", "D9"], "distance_m": [381.595211, 1.7e3]}
    )
    fac = pd.DataFrame({"facility_id": ["F4"], "name": ["远郊助餐点"]})
    table = unsnapped_table(raw, fac)
    assert list(table.columns) == ["类型", "编号", "名称", "到最近道路（米）"]
    assert table["类型"].tolist() == ["设施", "需求点"]
    assert table["名称"].tolist() == ["远郊助餐点", ""]
    assert table["到最近道路（米）"].tolist() == [382.0, 1700.0]


def test_loading_an_empty_place_name_says_what_to_do() -> None:
    at = _app()
    at.radio(key="data_source").set_value("place").run()
    at.button(key="data_load_place").click().run()
    _ok(at)
    assert any("请先输入地名" in i.value for i in at.info)


def test_sites_widgets_follow_the_shown_result_after_leaving_the_page() -> None:
    at = _goto(_app(), "sites")
    at.selectbox(key="sites_model").set_value("lscp").run()
    at.slider(key="sites_target_pct").set_value(90).run()
    at.button(key="sites_run").click().run()
    _ok(at)
    n = len(at.session_state["siting"][1].sites)
    _goto(at, "coverage")
    _goto(at, "sites")
    # The result is still shown, and the widgets describe it (not the MCLP k=3 defaults).
    assert len(_table(at, "新增覆盖人口")) == n
    assert at.selectbox(key="sites_model").value == "lscp"
    assert at.slider(key="sites_target_pct").value == 90
    names = [t.value for t in at.text_input if t.value]
    assert f"LSCP 新增 {n} 处" in names, names
    # Changing the model (before running it) does not rename the result being saved.
    at.selectbox(key="sites_model").set_value("mclp").run()
    assert f"LSCP 新增 {n} 处" in [t.value for t in at.text_input if t.value]


def test_siting_result_survives_a_criterion_changed_and_changed_back() -> None:
    at = _goto(_app(), "sites")
    at.number_input(key="sites_k").set_value(2).run()
    at.button(key="sites_run").click().run()
    _ok(at)
    _goto(at, "coverage")
    at.radio(key="cov_kind").set_value("metres").run()
    at.number_input(key="cov_metres").set_value(1200.0).run()
    _goto(at, "sites")
    # Different criteria: the old result no longer applies.
    assert not any("新增覆盖人口" in df.value.columns for df in at.dataframe)
    _goto(at, "coverage")
    at.radio(key="cov_kind").set_value("default").run()
    # The typed distance is still in the (disabled) widget, but the criteria are the defaults.
    assert at.session_state["criteria"].metres == 1200.0
    _goto(at, "sites")
    assert len(_table(at, "新增覆盖人口")) == 2
    assert at.number_input(key="sites_k").value == 2


def test_category_picker_counts_the_selected_categories() -> None:
    from geo.taxonomy import categories

    at = _goto(_app(), "coverage")
    total = len(categories())
    n = len(at.session_state["criteria"].categories)
    assert f"已选 {n} / {total} 类" in [c.value for c in at.caption]
    at.multiselect(key="cov_categories").set_value(list(categories())[:2]).run()
    assert f"已选 2 / {total} 类" in [c.value for c in at.caption]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_cycling_speed_is_labelled_as_a_ride(lang: str) -> None:
    at = _app()
    if lang == "en":
        at.sidebar.radio(key="lang").set_value("en").run()
    _goto(at, "coverage")
    at.radio(key="cov_kind").set_value("minutes").run()
    at.select_slider(key="cov_minutes").set_value(10).run()
    at.selectbox(key="cov_profile").set_value("cycling").run()
    _ok(at)
    kpi = at.dataframe[0].value
    crit = set(kpi.iloc[:, 1])
    want = "骑行10分钟（4 m/s）" if lang == "zh" else "10 min ride (4 m/s)"
    assert crit == {want}, crit
    assert not any("步行" in c or "walk" in c for c in crit)


def _upload_points(names: list[str] | None = None) -> bytes:
    fac = _demo_facilities().head(4)
    head = "名称,经度,纬度" if names else "经度,纬度"
    rows = [
        (f"{names[i]}," if names else "") + f"{p.x:.7f},{p.y:.7f}"
        for i, p in enumerate(fac.geometry)
    ]
    rows.append(("老年食堂丁," if names else "") + "abc,31.8")  # a rejected row
    return (head + "\n" + "\n".join(rows) + "\n").encode("utf-8")


def _category_box(at: AppTest) -> object:
    return next(s for s in at.selectbox if s.key and s.key.startswith("fac_cat_"))


def test_upload_without_a_category_column_defaults_to_a_real_category() -> None:
    from geo.taxonomy import categories

    at = _app()
    at.file_uploader(key="fac_file").set_value(("设施清单.csv", _upload_points(), "text/csv"))
    at.run()
    _ok(at)
    box = _category_box(at)
    # No category column and no names: "by category column" is neither the default nor offered.
    assert box.value == next(iter(categories()))
    assert "" not in box.options and "按类别列识别" not in box.options
    # The file name names a category: that one is the default.
    at = _app()
    at.file_uploader(key="fac_file").set_value(("养老院.csv", _upload_points(), "text/csv"))
    at.run()
    assert _category_box(at).value == "elderly_care"
    at.button(key="fac_apply").click().run()
    _ok(at)
    assert (at.session_state["dataset"].facilities["category"] == "elderly_care").sum() == 4


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_upload_messages_are_in_the_interface_language_without_api_hints(lang: str) -> None:
    import re

    at = _app()
    if lang == "en":
        at.sidebar.radio(key="lang").set_value("en").run()
    # Names but no category column: the default infers from the names, and says so.
    data = _upload_points(["老年食堂甲", "社区卫生服务站乙", "火星基地", "老年食堂丙"])
    at.file_uploader(key="fac_file").set_value(("点位.csv", data, "text/csv")).run()
    _ok(at)
    box = _category_box(at)
    assert box.value == "" and box.format_func("") in ("按名称推断类别", "Inferred from the names")
    at.button(key="fac_apply").click().run()
    _ok(at)
    reasons = list(_table(at, "原因" if lang == "zh" else "Reason").iloc[:, -1])
    messages = [w.value for w in at.warning] + reasons
    assert len(reasons) == 2 and messages, messages
    for text in messages:
        assert "=" not in text and "pass " not in text.lower(), text
        if lang == "zh":
            assert not re.search(r"[A-Za-z]{4,}", text), text  # no English sentence
        else:
            own = text.replace("火星基地", "").replace("名称", "")  # the planner's own data
            assert not re.search(r"[\u4e00-\u9fff]", own), text
    if lang == "zh":
        assert "经度不是数字" in reasons
        assert any("推断类别" in w.value for w in at.warning)
    else:
        assert "longitude is not a number" in reasons


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_upload_errors_are_in_the_interface_language(lang: str) -> None:
    at = _app()
    if lang == "en":
        at.sidebar.radio(key="lang").set_value("en").run()
    at.file_uploader(key="fac_file").set_value(("设施.csv", b"   \n", "text/csv")).run()
    assert not at.exception
    text = at.error[0].value
    assert "设施.csv" in text
    assert ("文件是空的" in text) if lang == "zh" else ("the file is empty" in text)
