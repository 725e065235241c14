"""End-to-end headless runs through cli.py (demo and a real OSM extract with planners' files)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
from _data import osm_extract

import cli
from coverage.analysis import analyse
from geo.datum import from_wgs84
from geo.demand import demand_from_buildings
from geo.facilities import load_facilities
from geo.osm_features import buildings_from_osm, facilities_from_osm
from geo.roads import load_network
from geo.taxonomy import categories

SUMMARY_COLUMNS = ["category", "population", "covered_population", "coverage_rate"]


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    assert cli.main(["-q", "run", "--demo", "--out", str(out)]) == 0
    return out


def test_demo_run_writes_summary(demo_out: Path) -> None:
    summary = pd.read_csv(demo_out / "summary.csv")
    assert list(summary.columns[:1]) == ["category"]
    assert set(SUMMARY_COLUMNS) <= set(summary.columns)
    assert set(summary["category"]) == set(categories())
    assert summary["coverage_rate"].between(0, 1).all()
    rate = summary["covered_population"] / summary["population"]
    assert np.allclose(rate, summary["coverage_rate"])
    # The demo is built with gaps: not everything is covered, not nothing.
    assert (summary["coverage_rate"] < 0.8).sum() >= 4
    assert (summary["coverage_rate"] > 0.2).sum() >= 4


def test_demo_run_writes_geopackage_layers(demo_out: Path) -> None:
    layers = {name for name, _ in pyogrio.list_layers(demo_out / "results.gpkg")}
    assert {"demand", "facilities", "service_areas", "gaps", "sites"} <= layers
    demand = pyogrio.read_dataframe(demo_out / "results.gpkg", layer="demand")
    assert "population" in demand.columns
    for key in categories():
        for suffix in ("distance_m", "minutes", "covered"):
            assert f"{key}_{suffix}" in demand.columns
    covered = demand["health_station_covered"].astype(bool)
    thr = pd.read_csv(demo_out / "summary.csv").set_index("category").loc["health_station"]
    assert (demand.loc[covered, "health_station_distance_m"] <= thr["threshold_m"] + 1e-6).all()
    assert demand.loc[covered, "population"].sum() == pytest.approx(thr["covered_population"])


def test_demo_run_json_records_durations_and_parameters(demo_out: Path) -> None:
    meta = json.loads((demo_out / "run.json").read_text("utf-8"))
    timings = meta["timings_s"]
    # Durations of the steps (not their start offsets).
    assert all(v >= 0 for v in timings.values()) and len(timings) >= 5
    params = meta["parameters"]
    assert params["snap_tolerance_m"] > 0 and params["service_area_buffer_m"] > 0
    assert params["siting"]["model"] == "mclp"
    canteen = params["criteria_detail"]["elderly_canteen"]
    assert canteen["threshold_m"] == pytest.approx(canteen["minutes"] * 60 * canteen["speed_mps"])
    assert meta["created"][-6] in "+-"  # with its time zone


def test_demo_run_writes_sites(demo_out: Path) -> None:
    sites = pd.read_csv(demo_out / "sites.csv")
    assert {"rank", "lon", "lat", "added_population"} <= set(sites.columns)
    assert list(sites["rank"]) == list(range(1, len(sites) + 1))
    assert len(sites) == 3
    assert (sites["added_population"] > 0).all()
    solver = pd.read_csv(demo_out / "siting_summary.csv")
    assert solver.loc[0, "status"] in {"optimal", "time_limit", "greedy"}
    assert solver.loc[0, "objective"] == pytest.approx(sites["added_population"].sum())
    assert solver.loc[0, "mip_gap"] == solver.loc[0, "gap"]


def _write_gbk_facilities(path: Path, osm: Path) -> int:
    fac = facilities_from_osm(osm)
    fac = fac[fac["category"].isin(["health_station", "parking", "fitness"])]
    lon, lat = from_wgs84(fac.geometry.x.to_numpy(), fac.geometry.y.to_numpy(), crs="gcj02")
    names = {"health_station": "社区卫生服务站", "parking": "停车场", "fitness": "全民健身场所"}
    table = pd.DataFrame(
        {
            "名称": fac["name"].fillna("").replace("", "未命名").to_numpy(),
            "类型": fac["category"].map(names).to_numpy(),
            "经度": np.round(lon, 7),
            "纬度": np.round(lat, 7),
        }
    )
    bad = pd.DataFrame([{"名称": "坐标错误", "类型": "停车场", "经度": "abc", "纬度": 32.0}])
    pd.concat([table, bad]).to_csv(path, index=False, encoding="gbk")
    return len(table)


def test_config_run_on_real_extract_with_gbk_gcj02_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    osm = osm_extract("nanjing_xinjiekou")
    n_fac = _write_gbk_facilities(tmp_path / "设施.csv", osm)
    demand, _ = demand_from_buildings(buildings_from_osm(osm), total_population=80_000)
    pd.DataFrame(
        {
            "lon": demand.geometry.x,
            "lat": demand.geometry.y,
            "常住人口": demand["population"],
        }
    ).to_csv(tmp_path / "population.csv", index=False)
    (tmp_path / "run.toml").write_text(
        f"""
[network]
file = "{osm}"
mode = "walk"
[demand]
file = "population.csv"
population = "常住人口"
[[facilities]]
file = "设施.csv"
crs = "gcj02"
[criteria.health_station]
minutes = 10
speed = 1.0
[analysis]
service_areas = false
search_engine = "bucket"
[siting]
category = "parking"
model = "lscp"
target = 0.9
""",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    with caplog.at_level(logging.INFO):
        assert cli.main(["run", str(tmp_path / "run.toml"), "--out", str(out)]) == 0
    summary = pd.read_csv(out / "summary.csv").set_index("category")
    assert set(summary.index) == {"health_station", "parking", "fitness"}
    assert summary.loc["health_station", "threshold_m"] == pytest.approx(600.0)
    assert summary["population"].iloc[0] == pytest.approx(80_000, rel=1e-6)
    rejected = pd.read_csv(out / "rejected_rows.csv")
    assert (rejected["row"] == n_fac + 2).any()
    # The same numbers as calling the engine directly on the same inputs, with the other search
    # engine (scipy: the default on a network this small).
    assert json.loads((out / "run.json").read_text("utf-8"))["search_engine"] == "bucket"
    net = load_network(osm, mode="walk")
    fac, _ = load_facilities(tmp_path / "设施.csv", crs="gcj02")
    res = analyse(net, demand, fac, categories=["parking", "fitness"], engine="scipy")
    direct = res.summary.set_index("category")
    for key in ("parking", "fitness"):
        assert summary.loc[key, "covered_population"] == pytest.approx(
            direct.loc[key, "covered_population"], rel=1e-9
        )
    sites = pd.read_csv(out / "sites.csv")
    curve = pd.read_csv(out / "siting_curve.csv")
    assert len(sites) >= 1
    greedy = curve[curve["method"].isin(["existing", "greedy"])].sort_values("k")
    assert greedy["coverage_rate"].is_monotonic_increasing
    solver = pd.read_csv(out / "siting_summary.csv")
    assert solver.loc[0, "n_sites"] == len(sites)
    # The LSCP reaches its 90 % target of the reachable population with the proposed sites, and
    # one site fewer (the greedy curve is an upper bound on what k - 1 sites can do) would not.
    unreachable = float(
        solver.loc[0, "message"].split("(")[1].split(" residents")[0].replace(",", "")
    )
    reachable = 80_000 - unreachable
    assert sites["cumulative_population"].iloc[-1] >= 0.9 * reachable - 1e-6
    assert any("coverage" in r.getMessage() or "%" in r.getMessage() for r in caplog.records)


def test_bad_config_exits_with_message(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[network]\nmode = 'walk'\n", encoding="utf-8")
    with caplog.at_level(logging.ERROR):
        assert cli.main(["run", str(cfg), "--out", str(tmp_path / "o")]) == 1
    assert "exactly one of file, place or bbox" in caplog.text


def test_config_sheet_and_demand_columns_are_honoured(tmp_path: Path) -> None:
    osm = osm_extract("beijing_haidian_cau")
    fac = facilities_from_osm(osm)
    fac = fac[fac["category"] == "fitness"]
    table = pd.DataFrame(
        {"名称": fac["name"].fillna("健身点"), "经度": fac.geometry.x, "纬度": fac.geometry.y}
    )
    with pd.ExcelWriter(tmp_path / "设施.xlsx", engine="openpyxl") as xw:
        table.iloc[:1].to_excel(xw, sheet_name="旧名单", index=False)  # visible, first, outdated
        table.to_excel(xw, sheet_name="名单", index=False)
    demand, _ = demand_from_buildings(buildings_from_osm(osm), total_population=20_000)
    pd.DataFrame(
        {"px": demand.geometry.x, "py": demand.geometry.y, "人口": demand["population"]}
    ).to_csv(tmp_path / "pop.csv", index=False)
    (tmp_path / "run.toml").write_text(
        f"""
[network]
file = "{osm}"
[demand]
file = "pop.csv"
lon = "px"
lat = "py"
[[facilities]]
file = "设施.xlsx"
sheet = "名单"
category = "fitness"
[analysis]
service_areas = false
""",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert cli.main(["-q", "run", str(tmp_path / "run.toml"), "--out", str(out)]) == 0
    summary = pd.read_csv(out / "summary.csv").set_index("category")
    assert summary.loc["fitness", "n_facilities"] == len(table) > 1
    assert summary.loc["fitness", "population"] == pytest.approx(20_000, rel=1e-6)


def test_config_run_warns_when_the_datum_looks_wrong(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Amap (GCJ-02) columns declared as WGS-84 (the default): the run goes on, but says so on
    # the terminal, as the app's validation box would.
    osm = osm_extract("nanjing_xinjiekou")
    _write_gbk_facilities(tmp_path / "f.csv", osm)
    table = pd.read_csv(tmp_path / "f.csv", encoding="gbk")
    table.rename(columns={"经度": "高德经度", "纬度": "高德纬度"}).to_csv(
        tmp_path / "设施.csv", index=False, encoding="gbk"
    )
    demand, _ = demand_from_buildings(buildings_from_osm(osm), total_population=10_000)
    pd.DataFrame(
        {"lon": demand.geometry.x, "lat": demand.geometry.y, "人口": demand["population"]}
    ).to_csv(tmp_path / "pop.csv", index=False)
    (tmp_path / "run.toml").write_text(
        f'[network]\nfile = "{osm}"\n[demand]\nfile = "pop.csv"\n'
        '[[facilities]]\nfile = "设施.csv"\n[analysis]\nservice_areas = false\n',
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING):
        assert cli.main(["run", str(tmp_path / "run.toml"), "--out", str(tmp_path / "o")]) == 0
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("设施.csv" in m and "gcj02" in m for m in warned), warned
