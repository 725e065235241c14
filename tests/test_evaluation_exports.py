"""The evaluation chapter of the exports, and siting weighted by unmet supply.

The exports are built from one CLI run and compared with that run's tiers.csv / supply.csv; the
siting weight is checked on a small lattice where the weights decide the site.
"""

from __future__ import annotations

import io
import re
import subprocess

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from _lattice import lattice_demand, lonlat_points
from pptx import Presentation

import cli
from coverage.analysis import analyse
from coverage.siting import SiteSearch, suggest_sites
from coverage.supply import DISTRICT
from geo.errors import ColumnNotFoundError
from geo.network import lattice_network
from maps.i18n import t


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One demo run with the Chinese workbook and reports, and its tiers/supply csv."""
    tmp = tmp_path_factory.mktemp("evx")
    cfg = tmp / "demo.toml"
    cfg.write_text('demo = "synthetic"\n[analysis]\nservice_areas = false\n', "utf-8")
    out = tmp / "o"
    assert cli.main(["-q", "run", str(cfg), "--out", str(out), "--report", "xlsx,pdf,pptx"]) == 0
    files = {p.suffix: p for p in out.iterdir() if p.name.startswith("coverage_")}
    return {
        "tiers": pd.read_csv(out / "tiers.csv"),
        "supply": pd.read_csv(out / "supply.csv"),
        "least": pd.read_csv(out / "least_served.csv"),
        "xlsx": files[".xlsx"],
        "pdf": files[".pdf"],
        "pptx": files[".pptx"],
    }


def test_workbook_sheets_equal_the_csv_files(run: dict) -> None:
    sheets = pd.read_excel(run["xlsx"], sheet_name=None)
    assert {"分级覆盖", "达标", "千人指标"} <= set(sheets)
    # The evaluation comes before the parameters, the last sheet.
    assert list(sheets)[-1] == "参数"
    tiers, sheet = run["tiers"], sheets["分级覆盖"]
    assert len(sheet) == len(tiers)
    assert sheet[t("maps.coverage_rate", "zh")].tolist() == pytest.approx(
        tiers["coverage_rate"].tolist()
    )
    assert sheet[t("maps.threshold_m", "zh")].tolist() == pytest.approx(
        tiers["threshold_m"].tolist()
    )
    assert sheet[t("maps.standard_status", "zh")].tolist() == tiers["status"].tolist()
    supply, sheet = run["supply"], sheets["千人指标"]
    assert len(sheet) == len(supply)
    assert sheet[t("maps.per_1000", "zh")].tolist() == pytest.approx(supply["per_1000"].tolist())
    judged = sheet[t("maps.meets_target", "zh")]
    for want, got in zip(supply["meets_target"], judged, strict=True):
        expect = "无目标或无容量数据" if pd.isna(want) else ("达到" if want else "未达到")
        assert got == expect
    ranked = sheets["达标"]
    assert ranked[t("maps.community", "zh")].tolist() == run["least"]["community"].tolist()
    assert ranked[t("maps.lacks", "zh")].iloc[0] == run["least"]["lacks_zh"].iloc[0]


def _pdf_text(path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_pdf_has_the_evaluation_chapter_with_the_run_numbers(run: dict) -> None:
    text = _pdf_text(run["pdf"])
    assert "生活圈评估" in text
    chapter = text[text.index("生活圈评估\n") :] if "生活圈评估\n" in text else text
    for title in ("分级覆盖率", "重点人群覆盖率", "社区达标情况", "千人指标与目标"):
        assert title in chapter, title
    tiers = run["tiers"]
    fit5 = tiers[(tiers["category"] == "fitness") & (tiers["tier"] == "min5")].iloc[0]
    assert f"{fit5['coverage_rate']:.1%} · {fit5['threshold_m']:.0f} 米 {fit5['status']}" in chapter
    district = run["supply"][run["supply"]["community"] == DISTRICT]
    child = district[district["category"] == "childcare"].iloc[0]
    assert f"{child['per_1000']:.1f}" in chapter
    # No English in the Chinese chapter: Latin words only in standard codes, labels and units.
    body = chapter.split("参数与数据来源")[0]
    body = body.replace("synthetic demo data", "")  # the bilingual demo stamp, on every page
    words = set(re.findall(r"[A-Za-z]{2,}", body)) - {"GB", "TD"}
    assert not words, words


def test_pptx_has_evaluation_slides(run: dict) -> None:
    prs = Presentation(io.BytesIO(run["pptx"].read_bytes()))
    titles = [
        s.shapes[0].text_frame.text for s in prs.slides if s.shapes and s.shapes[0].has_text_frame
    ]
    ev = [x for x in titles if x.startswith("生活圈评估")]
    assert any("分级覆盖率" in x for x in ev) and any("千人指标" in x for x in ev)
    cells = [
        c.text
        for s in prs.slides
        for sh in s.shapes
        if sh.has_table
        for row in sh.table.rows
        for c in row.cells
    ]
    tiers = run["tiers"]
    first = tiers.iloc[0]
    assert (
        f"{first['coverage_rate']:.1%} · {first['threshold_m']:.0f} 米 {first['status']}" in cells
    )


# --- siting weighted by unmet supply -------------------------------------------------------------

CAT = "elderly_canteen"


@pytest.fixture(scope="module")
def small():
    net = lattice_network(21, 21, spacing=100.0)
    demand = lattice_demand(
        net, n=60, extent_m=2000, seed=7, max_population=500, elderly_share=0.2, n_communities=5
    )
    xy = np.array([[net.x.min() + 300, net.y.min() + 300]])
    fac = gpd.GeoDataFrame(
        {"facility_id": ["f0"], "name": ["现有"], "category": [CAT], "capacity": [np.nan],
         "source": ["test"]},
        geometry=lonlat_points(net, xy[:, 0], xy[:, 1]).values,
        crs=4326,
    )  # fmt: skip
    base = analyse(net, demand, fac, categories=[CAT], criteria={CAT: {"metres": 400.0}})
    return net, demand, fac, base


def _sites(small, demand, weight):
    net, _, fac, base = small
    search = SiteSearch(model="mclp", k=1, weight=weight, spacing_m=200.0)
    return suggest_sites(net, demand, fac, category=CAT, search=search, baseline=base)


def test_unmet_supply_equal_to_population_gives_the_population_answer(small) -> None:
    demand = small[1].copy()
    demand["unmet_supply"] = demand["population"]
    a, b = _sites(small, small[1], "population"), _sites(small, demand, "unmet_supply")
    assert a.sites["candidate_id"].tolist() == b.sites["candidate_id"].tolist()
    assert b.objective == pytest.approx(a.objective)


def test_unmet_supply_weights_move_the_site_to_the_weighted_points(small) -> None:
    base = small[3]
    uncovered = ~base.demand[f"{CAT}_covered"].to_numpy()
    a = _sites(small, small[1], "population")
    chosen = str(a.sites["candidate_id"].iloc[0])
    # Only the uncovered point farthest from the population answer's site carries weight: the
    # site must move to it, and the objective is that weight.
    demand = small[1].copy()
    far = np.zeros(len(demand))
    site = a.sites.iloc[[0]].to_crs(small[0].crs).geometry.iloc[0]
    pts = gpd.GeoSeries(demand.geometry, crs=4326).to_crs(small[0].crs)
    dist = np.where(uncovered, pts.distance(site).to_numpy(), -1.0)
    far[int(np.argmax(dist))] = 1000.0
    demand["unmet_supply"] = far
    b = _sites(small, demand, "unmet_supply")
    assert str(b.sites["candidate_id"].iloc[0]) != chosen
    assert b.objective == pytest.approx(1000.0)


def test_unmet_supply_needs_its_column(small) -> None:
    with pytest.raises(ColumnNotFoundError, match="unmet_supply"):
        _sites(small, small[1], "unmet_supply")
