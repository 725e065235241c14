"""cli.py batch: districts on a real Dask cluster (and the default LocalCluster); a district's
result equals ``cli.py run`` of that district with its halo."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _dask import dask_cluster
from _data import osm_extract

import cli

WEST, SOUTH, EAST, NORTH = 118.760, 32.031, 118.798, 32.057


def _write_case(folder: Path) -> Path:
    rng = np.random.default_rng(3)
    n = 400
    pd.DataFrame(
        {
            "lon": rng.uniform(WEST, EAST, n),
            "lat": rng.uniform(SOUTH, NORTH, n),
            "常住人口": rng.integers(20, 300, n),
            "社区": [f"社区{i % 5}" for i in range(n)],
        }
    ).to_csv(folder / "pop.csv", index=False)
    pd.DataFrame(
        {
            "名称": [f"卫生站{i}" for i in range(8)],
            "经度": rng.uniform(WEST, EAST, 8),
            "纬度": rng.uniform(SOUTH, NORTH, 8),
        }
    ).to_csv(folder / "health.csv", index=False)
    xs = np.linspace(WEST, EAST, 4)
    gpd.GeoDataFrame(
        {"name": ["西区", "中区", "东区"], "code": ["320101", "320102", "320103"]},
        geometry=[shapely.box(xs[i], SOUTH, xs[i + 1], NORTH) for i in range(3)],
        crs=4326,
    ).to_file(folder / "districts.gpkg", driver="GPKG")
    cfg = folder / "batch.toml"
    cfg.write_text(
        f'''title = "批量测试"
[network]
file = "{osm_extract("nanjing_xinjiekou").as_posix()}"
[demand]
file = "pop.csv"
[[facilities]]
file = "health.csv"
category = "health_station"
[analysis]
service_areas = false
[batch]
districts = "districts.gpkg"
name_column = "name"
code_column = "code"
halo_m = 400
''',
        "utf-8",
    )
    return cfg


def _check_batch(out: Path) -> pd.DataFrame:
    ledger = json.loads((out / "batch.json").read_text("utf-8"))
    assert {v["status"] for v in ledger["districts"].values()} == {"done"}
    assert ledger["complete"] is True
    table = pd.read_csv(out / "districts_summary.csv")
    assert sorted(table["district"]) == ["东区", "中区", "西区"]
    assert set(table["district_code"].astype(str)) == {"320101", "320102", "320103"}
    layer = gpd.read_file(out / "districts.gpkg")
    assert "health_station_coverage_rate" in layer.columns and len(layer) == 3
    for name in ("province_map.html", "province_map.png"):
        assert (out / name).stat().st_size > 1000
    for key in ("西区", "中区", "东区"):
        assert json.loads((out / key / "run.json").read_text("utf-8"))["complete"] is True
    return table


def test_batch_on_a_started_cluster_equals_single_runs(tmp_path):
    cfg = _write_case(tmp_path)
    out = tmp_path / "out"
    with dask_cluster(2) as cluster:
        code = cli.main(
            ["-q", "batch", str(cfg), "--out", str(out), "--scheduler", cluster.address]
        )
    assert code == 0
    table = _check_batch(out)
    # Residents are reported once each: the districts' populations add up to the whole table's.
    total = pd.read_csv(tmp_path / "pop.csv")["常住人口"].sum()
    assert table["population"].sum() == pytest.approx(total)
    # The middle district equals cli.py run of that district with its halo.
    areas = out / ".areas"
    single = tmp_path / "single.toml"
    text = cfg.read_text("utf-8").split("[batch]")[0]
    text = text.replace(
        "[demand]\n", f'[demand]\nwithin = "{(areas / "中区_district.geojson").as_posix()}"\n'
    )
    text = text.replace(
        "[network]\n", f'[network]\nstudy_area = "{(areas / "中区_halo.geojson").as_posix()}"\n'
    )
    single.write_text(text, "utf-8")
    assert cli.main(["-q", "run", str(single), "--out", str(tmp_path / "one")]) == 0
    a = pd.read_csv(out / "中区" / "summary.csv")
    b = pd.read_csv(tmp_path / "one" / "summary.csv")
    pd.testing.assert_frame_equal(a, b)
    # A rerun skips what is done.
    code = cli.main(["-q", "batch", str(cfg), "--out", str(out), "--workers", "1"])
    assert code == 0


def test_batch_on_the_default_local_cluster(tmp_path):
    cfg = _write_case(tmp_path)
    out = tmp_path / "out"
    assert cli.main(["-q", "batch", str(cfg), "--out", str(out), "--workers", "2"]) == 0
    _check_batch(out)


def test_batch_needs_a_batch_table(tmp_path, capsys):
    cfg = _write_case(tmp_path)
    cfg.write_text(cfg.read_text("utf-8").split("[batch]")[0], "utf-8")
    assert cli.main(["-q", "batch", str(cfg), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "[batch]" in err[0]
