"""Meeting exports open and hold what they claim: HTML, PNG, XLSX, GPKG, PDF, PPTX."""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pptx
import pyogrio
import pypdf
import pytest
import shapely
from PIL import Image

import maps.export_report as export_report
import maps.export_static as export_static
from geo import settings
from geo.errors import InputDataError
from geo.network import lattice_network
from maps.export_html import standalone_map_html, write_map_html
from maps.export_report import kpi_table, report_pdf, report_pptx
from maps.export_static import render_map_png
from maps.export_tables import community_table, gpkg_bytes, write_gpkg, write_xlsx
from maps.layers import coverage_map

CATS = ["elderly_canteen", "health_station"]


@pytest.fixture(scope="module")
def layers() -> dict:
    """Hand-made frames in the CONTRACTS.md schemas (a 6×6 lattice near Shanghai)."""
    net = lattice_network(6, 6, spacing=120.0, origin=(350_000.0, 3_450_000.0), crs="EPSG:32651")
    edges = net.edges_gdf(to_crs="EPSG:4326")
    x0, y0, x1, y1 = edges.total_bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    facilities = gpd.GeoDataFrame(
        {
            "facility_id": ["f1", "f2"],
            "name": ["长者食堂", "<b>卫生站</b>"],
            "category": CATS,
            "capacity": [50.0, np.nan],
            "source": ["test", "test"],
        },
        geometry=gpd.points_from_xy([x0 + 0.001, cx], [y0 + 0.001, cy]),
        crs="EPSG:4326",
    )
    rng = np.random.default_rng(7)
    n = 40
    demand = gpd.GeoDataFrame(
        {
            "demand_id": [f"d{i}" for i in range(n)],
            "population": rng.integers(20, 200, n).astype(float),
            "elderly": rng.integers(0, 40, n).astype(float),
            "community": ["南苑", "北苑", "", "东苑"] * (n // 4),
            "kind": ["building"] * n,
            "elderly_canteen_covered": np.arange(n) % 3 == 0,
            "elderly_canteen_distance_m": np.where(np.arange(n) % 5 == 0, np.inf, 400.0),
            "health_station_covered": np.arange(n) % 2 == 0,
        },
        geometry=gpd.points_from_xy(rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)),
        crs="EPSG:4326",
    )
    sa_rows = []
    for cat, pt in zip(CATS, facilities.geometry, strict=True):
        for thr, minutes, r in ((300.0, 5.0, 0.002), (600.0, 10.0, 0.004)):
            sa_rows.append((cat, "", "dissolved", thr, minutes, pt.buffer(r, 16)))
    sa = gpd.GeoDataFrame(
        pd.DataFrame(
            sa_rows,
            columns=["category", "facility_id", "kind", "threshold_m", "minutes", "geometry"],
        ),
        geometry="geometry",
        crs="EPSG:4326",
    )
    sa["area_m2"] = sa.to_crs("EPSG:32651").area
    gaps = gpd.GeoDataFrame(
        {
            "gap_id": ["g1", "g2", "g3"],
            "rank": [1, 2, 1],
            "category": ["elderly_canteen", "elderly_canteen", "health_station"],
            "uncovered_population": [900.0, 400.0, 250.0],
            "uncovered_elderly": [150.0, 60.0, 30.0],
            "n_points": [9, 4, 3],
            "nearest_facility_m": [1100.0, 950.0, 1300.0],
            "communities": [["南苑", "北苑"], ["东苑"], ["北苑"]],
            "area_m2": [40_000.0, 15_000.0, 9_000.0],
        },
        geometry=[
            shapely.box(cx, cy, cx + 0.002, cy + 0.002),
            shapely.box(x1 - 0.002, y0, x1, y0 + 0.002),
            shapely.box(x0, y1 - 0.002, x0 + 0.002, y1),
        ],
        crs="EPSG:4326",
    )
    sites = pd.DataFrame(
        {
            "rank": [1, 2],
            "name": ["候选点 1", "候选点 2"],
            "category": ["elderly_canteen", "elderly_canteen"],
            "lon": [cx + 0.001, x1 - 0.001],
            "lat": [cy + 0.001, y0 + 0.001],
            "added_population": [900.0, 400.0],
            "coverage_rate": [0.55, 0.64],
        }
    )
    return {
        "facilities": facilities,
        "demand": demand,
        "service_areas": sa,
        "gaps": gaps,
        "sites": sites,
        "network_edges": edges,
    }


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "category": CATS,
            "name_zh": ["老年食堂/助餐点", "社区卫生服务站/中心"],
            "name_en": ["Elderly canteen / meal-aid point", "Community health station / centre"],
            "criterion": ["步行15分钟（老年人 0.9 m/s）", "路网距离 1000 米"],
            "criterion_en": ["15 min walk (elderly, 0.9 m/s)", "1000 m network distance"],
            "threshold_m": [810.0, 1000.0],
            "n_facilities": [1, 1],
            "population": [4400.0, 4400.0],
            "covered_population": [1500.0, 2300.0],
            "coverage_rate": [0.341, 0.523],
            "elderly_coverage_rate": [0.30, 0.55],
            "median_minutes": [12.5, 9.0],
            "p85_minutes": [19.0, 16.0],
            "buffer_coverage_rate": [0.61, 0.80],
        }
    )


COMMUNITIES = pd.DataFrame(
    {
        "community": ["南苑", "北苑"],
        "n_points": [10, 12],
        "population": [1200.0, 1500.0],
        "score": [0.5, 1.0],
        "complete_population": [240.0, 1350.0],
        "complete_share": [0.2, 0.9],
        "elderly_canteen_coverage_rate": [0.3, 0.8],
        "health_station_coverage_rate": [0.7, 1.0],
    }
)
PARAMS = {"速度（老年人）": "0.9 m/s", "吸附容差": "300 m", "阈值": [5, 10, 15]}
SOURCES = ["合成示范数据（seed 20181201）", "路网：lattice"]


def report_inputs(layers: dict, summary: pd.DataFrame, png: bytes) -> dict:
    """The content arguments ``report_pdf`` and ``report_pptx`` share in these tests."""
    return {
        "png": png,
        "summary": summary,
        "communities": COMMUNITIES,
        "gaps": layers["gaps"],
        "sites": layers["sites"],
        "parameters": PARAMS,
        "sources": SOURCES,
    }


@pytest.fixture(scope="module")
def png(layers) -> bytes:
    return render_map_png(
        **layers, title="示范街道覆盖分析", subtitle="合成示范数据", footer="数据来源：合成示范数据"
    )


# --- HTML ---------------------------------------------------------------------------------------


def test_standalone_html_has_no_external_resources(layers, tmp_path):
    data = standalone_map_html(**layers, title="示范街道")
    assert "<title>示范街道</title>" in data.decode("utf-8")
    page = data.decode("utf-8")
    assert "<script src=" not in page
    assert not re.search(r"<link\b[^>]*href=", page)
    assert not re.search(r"url\(\s*['\"]?https?://", page)
    for host in ("cdn.jsdelivr.net", "cdnjs.cloudflare.com", "unpkg.com", "code.jquery.com"):
        assert host not in page
    assert "L.heatLayer" in page and "Leaflet 1.9.4" in page
    # A map built for the app (static assets) is switched to inline when written.
    m = coverage_map(**layers, basemap="osm")
    path = write_map_html(m, tmp_path / "map.html")
    page = path.read_text(encoding="utf-8")
    assert "/app/static/" not in page
    assert "<script src=" not in page
    assert "tile.openstreetmap.org/{z}/{x}/{y}.png" in page  # only the tile template remains


# --- PNG ----------------------------------------------------------------------------------------


def test_png_has_the_requested_size(png):
    im = Image.open(io.BytesIO(png))
    assert im.format == "PNG"
    assert im.size == (1500, 1200)
    # Not a blank canvas: the layers put plenty of non-white pixels on it.
    arr = np.asarray(im.convert("L"))
    assert (arr < 200).mean() > 0.02


def test_png_without_cjk_font_uses_english(layers, monkeypatch, caplog):
    monkeypatch.setattr(export_static, "find_cjk_font", lambda: None)
    with caplog.at_level(logging.WARNING, logger="maps.export_static"):
        # Warnings are errors in tests: a missing glyph (tofu) would fail this call.
        data = render_map_png(**layers, title="示范街道", size_in=(6, 5), dpi=80)
    assert "no CJK font" in caplog.text
    assert Image.open(io.BytesIO(data)).size == (480, 400)


def test_png_writes_to_path(layers, tmp_path):
    out = tmp_path / "map.png"
    data = render_map_png(facilities=layers["facilities"], size_in=(4, 3), dpi=50, path=out)
    assert out.read_bytes() == data
    assert Image.open(out).size == (200, 150)


# --- XLSX and GPKG ------------------------------------------------------------------------------


def test_xlsx_sheets_rows_and_headers(layers, summary, tmp_path):
    communities = community_table(layers["demand"])
    path = tmp_path / "coverage.xlsx"
    data = write_xlsx(
        path,
        summary=summary,
        communities=communities,
        gaps=layers["gaps"],
        sites=layers["sites"],
        parameters=PARAMS,
        sources=SOURCES,
    )
    assert path.read_bytes() == data
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["汇总", "社区", "缺口", "建议选址", "参数"]
    rows = {ws.title: ws.max_row - 1 for ws in wb}
    assert rows == {"汇总": 2, "社区": 4, "缺口": 3, "建议选址": 2, "参数": 5}
    header = [c.value for c in wb["汇总"][1]]
    # A Chinese workbook shows names, not keys, and no English columns.
    assert header[:2] == ["类别", "覆盖标准"]
    assert not {"类别代码", "类别（英文）", "覆盖标准（英文）"} & set(header)
    assert "人口覆盖率" in header
    rate = wb["汇总"].cell(2, header.index("人口覆盖率") + 1)
    assert rate.value == pytest.approx(0.341) and rate.number_format == "0.0%"
    gap_header = [c.value for c in wb["缺口"][1]]
    assert {"未覆盖人口", "涉及社区", "经度", "纬度"} <= set(gap_header)
    assert wb["缺口"].cell(2, gap_header.index("涉及社区") + 1).value == "南苑、北苑"
    assert wb["缺口"].cell(2, gap_header.index("类别") + 1).value == "老年食堂/助餐点"
    params = {r[0]: r[1] for r in wb["参数"].iter_rows(min_row=2, values_only=True)}
    assert params["阈值"] == "5、10、15"
    assert [v for k, v in wb["参数"].iter_rows(min_row=2, values_only=True) if k == "数据来源"] == (
        SOURCES
    )
    assert write_xlsx(summary=summary, communities=COMMUNITIES)[:2] == b"PK"
    community_header = [c.value for c in wb["社区"][1]]
    assert community_header[:2] == ["社区", "人口"]
    assert "助餐 · 人口覆盖率" in community_header
    site_header = [c.value for c in wb["建议选址"][1]]
    assert "新增至此处后的人口覆盖率" in site_header and "人口覆盖率" not in site_header
    # Display formats: counts grouped, other numbers to one decimal; columns fit their text.
    pop = wb["汇总"].cell(2, header.index("人口") + 1)
    assert pop.number_format == "#,##0"
    median = wb["汇总"].cell(2, header.index("最近设施步行时间中位数（分钟）") + 1)
    assert median.number_format == "#,##0.0"
    name_col = wb["缺口"].column_dimensions[chr(ord("A") + gap_header.index("类别"))]
    assert name_col.width >= 2 * len("老年食堂/助餐点")


def test_community_table_sums_covered_population(layers):
    table = community_table(layers["demand"]).set_index("community")
    d = layers["demand"]
    assert table["population"].sum() == pytest.approx(d["population"].sum())
    south = d[d["community"] == "南苑"]
    expected = south.loc[south["elderly_canteen_covered"], "population"].sum()
    assert table.loc["南苑", "elderly_canteen_covered_population"] == pytest.approx(expected)
    assert "未知" in table.index  # the "" community is labelled, not dropped
    assert table["health_station_coverage_rate"].between(0, 1).all()


def test_gpkg_holds_every_layer(layers, tmp_path):
    path = write_gpkg(tmp_path / "coverage.gpkg", **layers)
    listed = {name: geom for name, geom in pyogrio.list_layers(path)}
    assert set(listed) == {"facilities", "demand", "service_areas", "gaps", "sites", "network"}
    assert listed["network"] == "LineString"
    assert listed["sites"] == "Point"
    for name, key in (("facilities", "facilities"), ("gaps", "gaps"), ("network", "network_edges")):
        back = pyogrio.read_dataframe(path, layer=name)
        assert len(back) == len(layers[key]), name
        assert back.crs.to_epsg() == 4326
    demand = pyogrio.read_dataframe(path, layer="demand")
    # Unreached (inf) is stored as NULL; covered flags survive.
    assert demand["elderly_canteen_distance_m"].isna().sum() == 8
    assert (
        demand["elderly_canteen_covered"].sum() == layers["demand"]["elderly_canteen_covered"].sum()
    )
    gaps = pyogrio.read_dataframe(path, layer="gaps")
    assert gaps.loc[0, "communities"] == "南苑、北苑"
    # Writing again replaces the file instead of appending duplicate layers.
    write_gpkg(path, facilities=layers["facilities"])
    assert [n for n, _ in pyogrio.list_layers(path)] == ["facilities"]
    assert gpkg_bytes(facilities=layers["facilities"])[:16] == b"SQLite format 3\x00"
    with pytest.raises(InputDataError, match="at least facilities"):
        write_gpkg(tmp_path / "empty.gpkg", facilities=layers["facilities"].iloc[:0])


def test_gpkg_takes_the_maps_water_layer(layers, tmp_path):
    # The app's map layers include the rivers; the export passes them on as they are.
    river = gpd.GeoDataFrame(
        {"name": ["秦淮河"]},
        geometry=[shapely.LineString([(118.78, 32.03), (118.79, 32.04)])],
        crs=4326,
    )
    path = write_gpkg(tmp_path / "water.gpkg", facilities=layers["facilities"], water=river)
    assert [n for n, _ in pyogrio.list_layers(path)] == ["facilities", "water"]
    back = pyogrio.read_dataframe(path, layer="water")
    assert back["name"].tolist() == ["秦淮河"] and back.crs.to_epsg() == 4326


# --- PDF and PPTX -------------------------------------------------------------------------------


def test_english_pdf_has_english_criteria_and_sources(layers, summary, png):
    data = report_pdf(None, **report_inputs(layers, summary, png), lang="en")
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    assert "15 min walk (elderly, 0.9 m/s)" in text
    assert "Data sources" in text and "数据来源" not in text


def test_kpi_table_formats_rates_and_names(summary):
    kpi = kpi_table(summary)
    assert list(kpi["类别"]) == ["老年食堂/助餐点", "社区卫生服务站/中心"]
    assert list(kpi["人口覆盖率"]) == ["34.1%", "52.3%"]
    assert kpi_table(summary, lang="en").loc[0, "Category"] == "Elderly canteen / meal-aid point"


@pytest.mark.parametrize("synthetic", [True, False])
def test_pdf_pages_and_text(layers, summary, png, synthetic, tmp_path):
    path = tmp_path / "report.pdf"
    data = report_pdf(
        path,
        **report_inputs(layers, summary, png),
        area="示范街道 <东区>",
        synthetic=synthetic,
        date=dt.date(2026, 5, 1),
    )
    assert path.read_bytes() == data
    reader = pypdf.PdfReader(path)
    assert len(reader.pages) == 3  # map; KPIs, legend, gaps, sites; parameters and sources
    text = "\n".join(p.extract_text() for p in reader.pages)
    for expected in (
        "十五分钟生活圈设施覆盖评估报告",
        "日期：2026-05-01",
        "示范街道 <东区>",
        "覆盖分析图",
        "分类覆盖指标",
        "34.1%",
        "主要覆盖缺口",
        "社区设施完备度",
        "设施齐全人口占比",
        "20.0%",
        "建议新增选址",
        "参数与数据来源",
        "0.9 m/s",
        "合成示范数据（seed 20181201）",
    ):
        assert expected in text, expected
    assert ("合成示范数据 / synthetic demo data" in text) is synthetic
    # The legend prints the criterion used (1000 m), with the standard's default beside it.
    assert "路网距离 1000 米（标准默认：步行15分钟" in text.replace("\n", "")
    # Gaps keep their own ids (as in the workbook); community columns say they are rates.
    assert "缺口编号" in text and "助餐覆盖率" in text.replace("\n", "")
    # Numbers stay on one line in the KPI table.
    assert "\n4,400\n" in text and "\n52.3%\n" in text
    # The map image is embedded on the first page.
    assert len(reader.pages[0].images) == 1
    assert "参数与数据来源" in reader.pages[2].extract_text()
    # The Chinese font travels with the file (setup_env installs a TrueType CJK font).
    assert embedded_font_files(reader) >= 1


def embedded_font_files(reader: pypdf.PdfReader) -> int:
    """Number of fonts used on the pages whose program is embedded (FontFile/2/3)."""
    found = 0
    for page in reader.pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            descs = [font.get("/FontDescriptor")]
            descs += [
                d.get_object().get("/FontDescriptor") for d in font.get("/DescendantFonts", [])
            ]
            for desc in descs:
                if desc is not None and any(
                    k in desc.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3")
                ):
                    found += 1
    return found


@pytest.fixture
def fresh_pdf_font(monkeypatch):
    """Let a test choose the PDF font candidates; the cached choice is reset before and after."""
    export_report.pdf_font.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    export_report.pdf_font.cache_clear()


NOTO_CJK = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
MICROHEI = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


def test_pdf_font_skips_postscript_and_latin_fonts_then_embeds(fresh_pdf_font, tmp_path):
    import matplotlib

    dejavu = str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")
    # Noto CJK has PostScript outlines (not embeddable); DejaVu has no Chinese glyphs.
    fresh_pdf_font.setattr(settings, "pdf_font_file", dejavu)
    fresh_pdf_font.setattr(export_report, "PDF_FONT_FILES", (NOTO_CJK, "/nowhere/x.ttf", MICROHEI))
    name, path = export_report.pdf_font()
    assert name == export_report.PDF_EMBEDDED_FONT and path == Path(MICROHEI)


def test_pdf_without_an_embeddable_font_falls_back_to_cid(
    fresh_pdf_font, layers, summary, png, tmp_path
):
    fresh_pdf_font.setattr(settings, "pdf_font_file", "")
    fresh_pdf_font.setattr(export_report, "PDF_FONT_FILES", (NOTO_CJK,))
    assert export_report.pdf_font() == (export_report.PDF_CJK_FONT, None)
    data = report_pdf(None, **report_inputs(layers, summary, png), date=dt.date(2026, 5, 1))
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert "分类覆盖指标" in "\n".join(p.extract_text() for p in reader.pages)
    assert embedded_font_files(reader) == 0


@pytest.mark.parametrize("synthetic", [True, False])
def test_pptx_slides(layers, summary, png, synthetic, tmp_path):
    path = tmp_path / "report.pptx"
    report_pptx(
        path,
        **report_inputs(layers, summary, png),
        synthetic=synthetic,
    )
    deck = pptx.Presentation(path)
    slides = list(deck.slides)
    assert len(slides) == 6  # title, map, KPIs, gaps, sites, parameters
    texts = [
        "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame) for slide in slides
    ]
    assert "十五分钟生活圈设施覆盖评估报告" in texts[0]
    assert any(s.shape_type == 13 for s in slides[1].shapes)  # the map picture
    kpi = next(s for s in slides[2].shapes if s.has_table).table
    assert kpi.cell(0, 0).text == "类别"
    assert kpi.cell(1, 0).text == "老年食堂/助餐点"
    assert len(kpi.rows) == 3
    stamped = ["合成示范数据 / synthetic demo data" in t for t in texts]
    assert all(stamped) if synthetic else not any(stamped)
    # Without gaps or sites the deck is title, map, KPIs, parameters.
    data = report_pptx(png=png, summary=summary)
    assert len(pptx.Presentation(io.BytesIO(data)).slides) == 4


# --- the standalone map in a real browser (no network) -----------------------------------------

BROWSER_STATE_JS = """
const key = Object.keys(window).find(k => k.startsWith('map_') && window[k] instanceof L.Map);
const map = window[key];
let popupText = null, popupHtml = null;
map.eachLayer(l => {
  const p = l.feature && l.feature.properties;
  if (p && p.t && p.t.indexOf('script') >= 0 && l.getPopup && l.getPopup()) {
    l.openPopup();
    const el = document.querySelector('.leaflet-popup-content');
    popupText = el ? el.textContent : null;
    popupHtml = el ? el.innerHTML : null;
  }
});
return {
  leaflet: typeof L !== 'undefined' ? L.version : null,
  heat: typeof L.heatLayer,
  facilities: document.querySelectorAll('.lcc-facility').length,
  paths: document.querySelectorAll('path.leaflet-interactive').length,
  legend: !!document.querySelector('.lcc-legend'),
  sites: document.querySelectorAll('.lcc-site').length,
  layers: document.querySelectorAll('.leaflet-control-layers-selector').length,
  north: !!document.querySelector('.lcc-north'),
  scale: !!document.querySelector('.leaflet-control-scale'),
  scripts_in_popup: popupHtml === null ? -1 : (popupHtml.match(/<script/g) || []).length,
  popupText: popupText,
  alerted: window.__alerted || 0,
};
"""


@pytest.mark.browser
def test_standalone_html_renders_offline_in_chromium(layers, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, chromedriver = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
    assert chromium.exists() and chromedriver.exists(), "install chromium and chromium-driver"
    fac = layers["facilities"].copy()
    fac.loc[0, "name"] = "<script>alert(1)</script><img src=x onerror=alert(3)>"
    page = standalone_map_html(**{**layers, "facilities": fac}, title="示范街道")
    # Count alert() calls instead of letting a dialog block the page.
    page = page.replace(
        b"<head>", b"<head><script>window.alert=()=>{window.__alerted=1};</script>", 1
    )
    html_path = tmp_path / "map.html"
    html_path.write_bytes(page)
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(chromium)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1200,900",
        # No network at all: the file must carry everything it needs.
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(str(chromedriver)), options=opts)
    try:
        drv.get(html_path.as_uri())
        state = drv.execute_script(BROWSER_STATE_JS)
        errors = [e["message"] for e in drv.get_log("browser") if e["level"] == "SEVERE"]
        artifacts = Path(__file__).resolve().parents[1] / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        drv.save_screenshot(str(artifacts / "export_map.png"))
    finally:
        drv.quit()
    assert errors == []  # e.g. "$ is not defined" when a folium element needs jQuery
    assert state["leaflet"] == "1.9.4"
    assert state["heat"] == "function"
    assert state["facilities"] == len(fac)
    assert state["paths"] >= len(layers["gaps"]) + len(layers["service_areas"])
    assert state["legend"] and state["north"] and state["scale"]
    assert state["sites"] == len(layers["sites"])
    # base + demand + 2 service areas + gaps + 2 facility groups + sites
    assert state["layers"] == 8
    assert state["popupText"] is not None
    assert "<script>alert(1)</script><img src=x onerror=alert(3)>" in state["popupText"]
    assert state["scripts_in_popup"] == 0
    assert state["alerted"] == 0


def test_png_draws_water_light_blue(layers):
    x0, y0, x1, y1 = layers["network_edges"].total_bounds
    river = gpd.GeoDataFrame(
        {"name": ["清溪河"]},
        geometry=[shapely.box(x0, (y0 + y1) / 2 - 0.001, x1, (y0 + y1) / 2 + 0.001)],
        crs="EPSG:4326",
    )
    facilities = layers["facilities"]

    def blue_share(data: bytes) -> float:
        rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)
        r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
        return float(((b > 200) & (r < 190) & (g > 180) & (b - r > 40)).mean())

    without = render_map_png(facilities=facilities, size_in=(5, 4), dpi=60)
    with_water = render_map_png(facilities=facilities, water=river, size_in=(5, 4), dpi=60)
    assert blue_share(with_water) > blue_share(without) + 0.01


def test_png_legend_shows_what_is_drawn(layers, monkeypatch):
    """Service-area swatches in the drawn category colour and opacity, the gap ramp as classes."""
    from matplotlib.axes import Axes
    from matplotlib.colors import to_rgba

    from geo.taxonomy import get_category

    seen: dict[str, object] = {}
    real = Axes.legend

    def spy(self, *args, **kwargs):
        seen["handles"] = kwargs["handles"]
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Axes, "legend", spy)
    render_map_png(**layers, categories=["elderly_canteen"], title="t")
    handles = seen["handles"]
    labels = [h.get_label() for h in handles]
    areas = [h for h in handles if h.get_label().startswith("标准")]
    assert len(areas) == 2  # the 5- and 10-minute rings
    colour = to_rgba(get_category("elderly_canteen").color)
    for h in areas:
        face = h.get_facecolor()
        assert face[:3] == pytest.approx(colour[:3]) and 0 < face[3] <= 0.3
    start = labels.index("缺口：未覆盖居民（人）")
    classes = [lab for lab in labels[start + 1 :] if re.fullmatch(r"[\d,]+–[\d,]+", lab)]
    assert len(classes) >= 2 and classes[0].startswith("0–") and classes[-1].endswith("900")
    faces = [h.get_facecolor() for h in handles if h.get_label() in classes]
    assert len({tuple(np.round(f, 3)) for f in faces}) == len(classes)  # a ramp, not one colour


def test_exports_render_message_cells_in_the_report_language(layers, summary, png):
    # A loader's rejected-row reason (a Message) is English as text; each report shows its language.
    from geo.messages import msg

    reason = msg("geo.errors.out_of_memory")
    zh_reason, en_reason = reason.text("zh"), reason.text("en")
    assert zh_reason != en_reason
    sites = layers["sites"].copy()
    # object dtype: pandas 3 would turn a column of str subclasses into plain strings.
    sites["name"] = pd.Series([reason] * len(sites), index=sites.index, dtype=object)
    wb = openpyxl.load_workbook(io.BytesIO(write_xlsx(summary=summary, sites=sites)))
    values = [c.value for row in wb["建议选址"].iter_rows(min_row=2) for c in row]
    assert zh_reason in values and en_reason not in values
    wb_en = openpyxl.load_workbook(io.BytesIO(write_xlsx(summary=summary, sites=sites, lang="en")))
    values_en = [c.value for row in wb_en["Proposed sites"].iter_rows(min_row=2) for c in row]
    assert en_reason in values_en
    inputs = report_inputs(layers, summary, png) | {"sites": sites}
    pdf = report_pdf(None, **inputs)
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    # reportlab may break the sentence across lines: compare without whitespace.
    assert zh_reason.replace(" ", "")[:12] in re.sub(r"\s+", "", text)
    deck = pptx.Presentation(io.BytesIO(report_pptx(None, **inputs)))
    cells = [
        cell.text
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_table
        for row in shape.table.rows
        for cell in row.cells
    ]
    assert zh_reason in cells and en_reason not in cells
