"""Population from GeoTIFF grids (issue 12 §5): small rasters written with rasterio here."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from _lattice import CRS, X0, Y0
from rasterio.transform import from_origin

from geo.errors import InputDataError
from geo.raster import demand_from_raster

NODATA = -9999.0


def write_tif(path, values, *, crs, origin, cell, nodata=NODATA):
    values = np.asarray(values, dtype="float32")
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=values.shape[0],
        width=values.shape[1],
        count=1,
        dtype="float32",
        crs=crs,
        transform=from_origin(origin[0], origin[1], cell, cell),
        nodata=nodata,
    ) as dst:
        dst.write(values, 1)
    return path


GRID = [
    [10.0, 20.0, NODATA, 5.0],
    [0.0, -3.0, 7.5, np.nan],
    [100.0, 0.0, 1.0, 2.0],
]


def test_projected_grid_cells_become_points(tmp_path) -> None:
    # 100 m cells, top-left corner at (X0, Y0 + 300) in UTM 50N.
    path = write_tif(tmp_path / "pop.tif", GRID, crs=CRS, origin=(X0, Y0 + 300), cell=100)
    dem, report = demand_from_raster(path)
    # Positive cells: 10 + 20 + 5 + 7.5 + 100 + 1 + 2 = 145.5 people in 7 points.
    assert len(dem) == 7 and dem["population"].sum() == pytest.approx(145.5, rel=1e-3)
    assert set(dem["kind"]) == {"grid"} and dem.crs.to_epsg() == 4326
    assert dem["demand_id"].is_unique and dem["elderly"].isna().all()
    # Cell (row 0, col 0) holds 10 people; its centre is (X0 + 50, Y0 + 250).
    p = dem.loc[dem["demand_id"] == "R0_0"].to_crs(CRS).geometry.iloc[0]
    assert (p.x, p.y) == pytest.approx((X0 + 50, Y0 + 250), abs=1e-6)
    assert dem.loc[dem["demand_id"] == "R2_0", "population"].iloc[0] == 100
    # The nodata value and the NaN cell are nodata; the -3 cell is rejected and set to 0.
    assert report.n_read == 12 and report.n_ok == 7
    assert any("2 nodata cells" in w for w in report.warnings)
    assert any("1 cells with negative" in w for w in report.warnings)
    assert report.rejected["row"].tolist() == [1 * 4 + 1 + 1]
    assert "row 1, column 1" in report.rejected["reason"].iloc[0]
    assert report.crs_in == "EPSG:32650"


def test_geographic_grid_and_study_area(tmp_path) -> None:
    # 0.001° cells from (118.780, 32.043) in WGS-84.
    path = write_tif(
        tmp_path / "wp.tif", GRID, crs="EPSG:4326", origin=(118.780, 32.043), cell=0.001
    )
    dem, report = demand_from_raster(path, elderly_share=0.2)
    assert report.crs_in == "EPSG:4326"
    assert dem["population"].sum() == pytest.approx(145.5, rel=1e-3)
    p = dem.loc[dem["demand_id"] == "R2_3"].geometry.iloc[0]
    assert (p.x, p.y) == pytest.approx((118.7835, 32.0405), abs=1e-9)
    assert dem["elderly"].sum() == pytest.approx(0.2 * 145.5)
    # The study area holds the two left columns: 10 + 20 + 100 = 130 people.
    area = shapely.box(118.780, 32.040, 118.782, 32.043)
    inner, rep = demand_from_raster(path, study_area=area)
    assert inner["population"].sum() == pytest.approx(130.0)
    assert any("outside the study area" in w for w in rep.warnings)


def test_dasymetric_spread_over_buildings(tmp_path) -> None:
    # 2 × 2 cells of 100 m: [[100, 50], [30, 0]], top-left at (X0, Y0 + 200).
    path = write_tif(
        tmp_path / "d.tif", [[100, 50], [30, 0]], crs=CRS, origin=(X0, Y0 + 200), cell=100
    )
    blds = gpd.GeoDataFrame(
        {"levels": [3, np.nan, 1, 4]},
        geometry=[
            shapely.box(X0 + 10, Y0 + 110, X0 + 20, Y0 + 120),  # cell (0,0), 100 m² × 3 = 300
            shapely.box(X0 + 40, Y0 + 150, X0 + 60, Y0 + 160),  # cell (0,0), 200 m² × 1 = 200
            shapely.box(X0 + 10, Y0 + 10, X0 + 20, Y0 + 20),  # cell (1,0), alone
            shapely.box(X0 + 150, Y0 + 50, X0 + 160, Y0 + 60),  # cell (1,1): nobody lives there
        ],
        crs=CRS,
    ).to_crs(4326)  # footprints in another CRS than the raster
    dem, report = demand_from_raster(path, buildings=blds)
    pops = dict(zip(dem["demand_id"], dem["population"], strict=True))
    # Cell (0,0): 100 people split 300 : 200 → 60 and 40; cell (1,0): 30 to its one building;
    # cell (0,1): 50 people and no building → a point at its centre.
    assert pops["RB0"] == pytest.approx(60, rel=1e-3)
    assert pops["RB1"] == pytest.approx(40, rel=1e-3)
    assert pops["RB2"] == pytest.approx(30)
    assert pops["R0_1"] == 50 and "RB3" not in pops
    assert dem["population"].sum() == pytest.approx(180, rel=1e-3)
    assert sorted(dem["kind"]) == ["building", "building", "building", "grid"]
    assert any("1 cells with people (50) have no building" in w for w in report.warnings)
    assert any("1 buildings lie in cells without people" in w for w in report.warnings)


def test_total_preserved_on_a_random_grid(tmp_path) -> None:
    rng = np.random.default_rng(7)
    values = rng.gamma(2.0, 40.0, size=(30, 40))
    values[rng.random(values.shape) < 0.1] = NODATA
    values[rng.random(values.shape) < 0.05] = 0.0
    path = write_tif(
        tmp_path / "r.tif", values, crs="EPSG:4326", origin=(118.70, 32.10), cell=0.0008
    )
    expected = float(np.where(values > 0, values.astype("float32"), 0).sum())
    x = rng.uniform(118.70, 118.70 + 40 * 0.0008, 800)
    y = rng.uniform(32.10 - 30 * 0.0008, 32.10, 800)
    blds = gpd.GeoDataFrame(
        {"levels": rng.integers(1, 30, 800)},
        geometry=gpd.GeoSeries(gpd.points_from_xy(x, y), crs=4326).to_crs(CRS).buffer(6),
        crs=CRS,
    )
    grid, _ = demand_from_raster(path)
    spread, _ = demand_from_raster(path, buildings=blds)
    assert grid["population"].sum() == pytest.approx(expected, rel=1e-3)
    assert spread["population"].sum() == pytest.approx(expected, rel=1e-3)
    assert (spread["kind"] == "building").sum() > 300


def test_bad_inputs_are_named(tmp_path) -> None:
    bad = tmp_path / "x.tif"
    bad.write_bytes(b"not a tiff")
    with pytest.raises(InputDataError, match="cannot read"):
        demand_from_raster(bad)
    path = write_tif(tmp_path / "p.tif", GRID, crs=CRS, origin=(X0, Y0), cell=100)
    with pytest.raises(InputDataError, match="band 2 asked"):
        demand_from_raster(path, band=2)
    with rasterio.open(
        tmp_path / "nocrs.tif",
        "w",
        driver="GTiff",
        height=1,
        width=1,
        count=1,
        dtype="float32",
        transform=from_origin(0, 1, 1, 1),
    ) as dst:
        dst.write(np.ones((1, 1), dtype="float32"), 1)
    with pytest.raises(InputDataError, match="no coordinate reference system"):
        demand_from_raster(tmp_path / "nocrs.tif")
