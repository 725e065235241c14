"""GeoParquet and Parquet tables as facility and demand inputs."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

from geo.demand import demand_from_table
from geo.errors import InputDataError
from geo.facilities import load_facilities


def _points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"名称": ["甲", "乙"], "人口": [1500, 2500]},
        geometry=gpd.points_from_xy([118.78, 118.79], [32.04, 32.05]),
        crs=4326,
    )


def test_geoparquet_and_plain_parquet_load(tmp_path):
    _points().to_crs(32650).to_parquet(tmp_path / "pop.parquet")
    demand, _ = demand_from_table(tmp_path / "pop.parquet")
    assert demand["population"].sum() == pytest.approx(4000)
    # The GeoParquet's own CRS (UTM 50N) is honoured: points come back in WGS-84.
    assert demand.geometry.x.round(6).tolist() == [118.78, 118.79]
    plain = pd.DataFrame({"名称": ["甲"], "经度": [118.78], "纬度": [32.04]})
    plain.to_parquet(tmp_path / "fac.parquet")
    gdf, _ = load_facilities(tmp_path / "fac.parquet", category="health_station")
    assert len(gdf) == 1 and gdf["name"].iloc[0] == "甲"
    # Bytes (an upload) with the right name work too.
    data = (tmp_path / "pop.parquet").read_bytes()
    demand2, _ = demand_from_table(data, name="upload.parquet")
    assert demand2["population"].sum() == pytest.approx(4000)


def test_a_torn_parquet_file_is_a_named_error(tmp_path):
    _points().to_parquet(tmp_path / "pop.parquet")
    torn = tmp_path / "torn.parquet"
    torn.write_bytes((tmp_path / "pop.parquet").read_bytes()[:200])
    with pytest.raises(InputDataError, match=r"torn\.parquet: cannot read as \(Geo\)Parquet"):
        demand_from_table(torn)
