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


def test_demo_run_writes_dissolved_and_nearest_areas_only(demo_out: Path) -> None:
    areas = pyogrio.read_dataframe(demo_out / "results.gpkg", layer="service_areas")
    assert set(areas["kind"]) == {"dissolved", "nearest"}
    assert not any((demo_out / f"{name}.parquet").exists() for name in ("demand", "gaps"))


def test_parquet_format_writes_the_same_layers_and_facility_areas_on_request(
    demo_out: Path, tmp_path: Path
) -> None:
    import geopandas as gpd

    (tmp_path / "run.toml").write_text(
        'demo = "synthetic"\n[analysis]\nfacility_areas = true\n', encoding="utf-8"
    )
    out = tmp_path / "out"
    assert (
        cli.main(
            ["-q", "run", str(tmp_path / "run.toml"), "--out", str(out), "--format", "parquet"]
        )
        == 0
    )
    assert not (out / "results.gpkg").exists()
    for name in ("demand", "facilities", "gaps"):
        got = gpd.read_parquet(out / f"{name}.parquet")
        ref = pyogrio.read_dataframe(demo_out / "results.gpkg", layer=name)
        assert got.crs.to_epsg() == 4326
        # GeoPackage readers put the geometry last; the other columns keep their order.
        assert [c for c in got.columns if c != "geometry"] == [
            c for c in ref.columns if c != "geometry"
        ]
        if "population" in ref.columns:
            assert got["population"].sum() == pytest.approx(ref["population"].sum())
        assert len(got) == len(ref)
    areas = gpd.read_parquet(out / "service_areas.parquet")
    assert set(areas["kind"]) == {"facility", "dissolved", "nearest"}
    ref = pyogrio.read_dataframe(demo_out / "results.gpkg", layer="service_areas")
    same = areas[areas["kind"] != "facility"].reset_index(drop=True)
    assert same["area_m2"].to_numpy() == pytest.approx(ref["area_m2"].to_numpy())


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


def test_bad_config_exits_with_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[network]\nmode = 'walk'\n", encoding="utf-8")
    assert cli.main(["run", str(cfg), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "exactly one of file, place or bbox" in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "Traceback" in (tmp_path / "o" / "error.log").read_text("utf-8")


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


# --- outputs are whole or absent -----------------------------------------------------------------


def test_demo_run_json_says_complete(demo_out: Path) -> None:
    assert json.loads((demo_out / "run.json").read_text("utf-8"))["complete"] is True
    # Nothing of the temporary folders is left beside the outputs.
    leftovers = [p for p in demo_out.parent.iterdir() if p.name.startswith(f".{demo_out.name}.")]
    assert leftovers == []


def test_rerun_replaces_previous_outputs_as_a_whole(demo_out: Path, tmp_path: Path) -> None:
    import shutil

    out = tmp_path / "out"
    shutil.copytree(demo_out, out)
    (out / "error.log").write_text("from an earlier failure\n", encoding="utf-8")
    assert (out / "sites.csv").is_file()
    assert cli.main(["-q", "run", "--demo", "--no-siting", "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert "sites.csv" not in names and "siting_summary.csv" not in names
    assert "error.log" not in names
    assert {"summary.csv", "results.gpkg", "run.json"} <= names
    layers = {name for name, _ in pyogrio.list_layers(out / "results.gpkg")}
    assert "sites" not in layers
    assert json.loads((out / "run.json").read_text("utf-8"))["parameters"]["siting"] is None
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_failed_write_leaves_previous_outputs_untouched(
    demo_out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import shutil

    import study.pipeline

    def full_disk(*_: object, **__: object) -> None:
        raise OSError(28, "No space left on device", "results.gpkg")

    monkeypatch.setattr(study.pipeline, "gpkg_safe", full_disk)
    fresh = tmp_path / "fresh"
    assert cli.main(["-q", "run", "--demo", "--no-siting", "--out", str(fresh)]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and len(err.splitlines()) == 1
    # summary.csv was written before the failure, but only inside the temporary folder.
    assert {p.name for p in fresh.iterdir()} == {"error.log"}
    previous = tmp_path / "previous"
    shutil.copytree(demo_out, previous)
    before = (previous / "run.json").read_text("utf-8")
    assert cli.main(["-q", "run", "--demo", "--no-siting", "--out", str(previous)]) == 1
    assert (previous / "run.json").read_text("utf-8") == before
    assert (previous / "sites.csv").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh", "previous"]


def test_killed_run_never_looks_complete(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, str(Path(cli.__file__)), "-q", "run", "--demo", "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Kill it while it writes: as soon as the temporary folder holds summary.csv.
        partial: list[Path] = []
        while proc.poll() is None and not partial:
            partial = [p for p in tmp_path.glob(".out.partial-*") if (p / "summary.csv").exists()]
            time.sleep(0.002)  # poll politely; the writing takes far longer than this
        assert partial, "the run finished before it could be killed while writing"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not out.exists()
    assert not (partial[0] / "run.json").exists()
    # The next run into the same folder cleans the leftover up and completes.
    assert cli.main(["-q", "run", "--demo", "--no-siting", "--out", str(out)]) == 0
    assert json.loads((out / "run.json").read_text("utf-8"))["complete"] is True
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_out_that_is_not_ours_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import study.pipeline

    def no_run(*_: object, **__: object) -> None:
        raise AssertionError("the run started")

    monkeypatch.setattr(study.pipeline, "run", no_run)
    mine = tmp_path / "my documents"
    mine.mkdir()
    (mine / "budget.xlsx").write_bytes(b"precious")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", "--demo", "--out", str(mine)]) == cli.EXIT_USAGE
    assert "does not look like an output folder" in capsys.readouterr().err
    assert [p.name for p in mine.iterdir()] == ["budget.xlsx"]
    assert (tmp_path / "error.log").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli.main(["run", "--demo", "--out", str(empty)]) == cli.EXIT_INTERNAL  # got to run()


# --- exports cannot attack their reader ----------------------------------------------------------

DDE = "=cmd|' /C calc'!A0"


def test_dde_payloads_are_neutralised_in_csv_and_xlsx(tmp_path: Path) -> None:
    import io

    import openpyxl

    from maps.export_tables import write_xlsx
    from study.pipeline import load_config, run

    osm = osm_extract("beijing_haidian_cau")
    fac = facilities_from_osm(osm)
    fac = fac[fac["category"] == "fitness"]
    names = [DDE, "@SUM(1+1)*cmd|' /C calc'!A0", *["健身点"] * (len(fac) - 2)]
    table = pd.DataFrame({"名称": names, "经度": fac.geometry.x, "纬度": fac.geometry.y})
    bad = pd.DataFrame([{"名称": "坏行", "经度": DDE, "纬度": 40.0}])
    pd.concat([table, bad]).to_csv(tmp_path / "设施.csv", index=False)
    demand, _ = demand_from_buildings(buildings_from_osm(osm), total_population=20_000)
    spread = demand.iloc[:: max(len(demand) // 8, 1)]
    pd.DataFrame({"名称": DDE, "经度": spread.geometry.x, "纬度": spread.geometry.y}).to_csv(
        tmp_path / "candidates.csv", index=False
    )
    communities = np.where(np.arange(len(demand)) % 2 == 0, DDE, "-社区")
    pd.DataFrame(
        {
            "lon": demand.geometry.x,
            "lat": demand.geometry.y,
            "人口": demand["population"],
            "社区": communities,
            "score": -np.arange(len(demand), dtype=float),
        }
    ).to_csv(tmp_path / "pop.csv", index=False)
    (tmp_path / "run.toml").write_text(
        f'[network]\nfile = "{osm}"\n[demand]\nfile = "pop.csv"\ncommunity = "社区"\n'
        '[[facilities]]\nfile = "设施.csv"\ncategory = "fitness"\n'
        "[analysis]\nservice_areas = false\n"
        '[siting]\ncategory = "fitness"\nk = 1\ncandidates = "candidates.csv"\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert cli.main(["-q", "run", str(tmp_path / "run.toml"), "--out", str(out)]) == 0
    comm = pd.read_csv(out / "communities.csv", encoding="utf-8-sig")
    texts = set(comm.iloc[:, 0].astype(str))
    assert "'" + DDE in texts and "'-社区" in texts
    assert not any(t.startswith(("=", "+", "-", "@")) for t in texts)
    sites_csv = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    assert len(sites_csv) == 1 and sites_csv.loc[0, "name"] == "'" + DDE
    rejected = pd.read_csv(out / "rejected_rows.csv", encoding="utf-8-sig")
    assert ("'" + DDE) in set(rejected["value"].astype(str))
    for name in ("communities.csv", "gaps.csv", "sites.csv", "rejected_rows.csv", "summary.csv"):
        raw = (out / name).read_text("utf-8-sig")
        for line in raw.splitlines():
            for cell in line.split(","):
                assert not cell.strip('"').startswith("="), (name, line)
    # Numbers stay numbers, negative ones included.
    summary = pd.read_csv(out / "summary.csv")
    assert pd.api.types.is_float_dtype(summary["coverage_rate"])
    # The app's XLSX export (ui/exports.py builds it with write_xlsx from the same tables).
    res = run(load_config(tmp_path / "run.toml"))
    assert DDE in set(res.community_table["community"])
    sites = res.siting.sites
    assert list(sites["name"]) == [DDE]
    data = write_xlsx(
        None,
        summary=res.coverage.summary.assign(minutes=-res.coverage.summary["minutes"]),
        communities=res.community_table,
        gaps=res.gaps,
        sites=sites,
        parameters={"标题": DDE},
    )
    wb = openpyxl.load_workbook(io.BytesIO(data))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    payload = [c for c in cells if isinstance(c.value, str) and c.value.startswith(("=", "-"))]
    sheets = {c.parent.title for c in payload if c.value == DDE}
    assert sheets == {"社区", "建议选址", "参数"}
    assert all(c.data_type == "s" and c.quotePrefix for c in payload)
    negative = [c for c in cells if isinstance(c.value, float | int) and c.value < 0]
    assert negative and all(c.data_type == "n" for c in negative)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (DDE, "'" + DDE),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-12.5", "-12.5"),  # text that is only a number cannot run anything
        ("+86", "+86"),
        ("1e-3", "1e-3"),
        ("社区=1", "社区=1"),
        (-3.5, -3.5),
        (None, None),
    ],
)
def test_neutralise(value: object, expected: object) -> None:
    from geo.safe_cells import neutralise

    assert neutralise(value) == expected


def test_neutralise_frame_keeps_numbers_and_the_input() -> None:
    from geo.safe_cells import neutralise_frame

    frame = pd.DataFrame(
        {"name": [DDE, "ok"], "value": [-1.0, 2.0], "n": [-3, 4], "=head": ["a", "b"]}
    )
    out = neutralise_frame(frame)
    assert list(out["name"]) == ["'" + DDE, "ok"]
    assert out["value"].tolist() == [-1.0, 2.0] and out["n"].dtype == frame["n"].dtype
    assert list(out.columns) == ["name", "value", "n", "'=head"]
    assert frame.loc[0, "name"] == DDE  # a copy
