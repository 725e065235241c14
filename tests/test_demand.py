"""Demand points from buildings, community tables and a residential grid."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _data import osm_extract

from geo import settings
from geo.demand import demand_from_buildings, demand_from_table, demand_grid
from geo.errors import ColumnNotFoundError, GeometryError, InputDataError

DEMAND_COLUMNS = ["demand_id", "population", "elderly", "community", "kind", "geometry"]


def _box_m(x0: float, y0: float, w: float, h: float):
    return shapely.box(x0, y0, x0 + w, y0 + h)


def _buildings() -> gpd.GeoDataFrame:
    # Footprints in UTM 50N (Nanjing), handed over in WGS-84 as an OSM extract would be.
    x0, y0 = 665_000.0, 3_545_000.0
    gdf = gpd.GeoDataFrame(
        {
            "osm_id": ["way/1", "way/2", "way/3", "way/4", "way/5", "way/6"],
            "building": ["residential", "apartments", "yes", "school", "residential", None],
            "levels": [6.0, 18.0, np.nan, 4.0, "abc", 3.0],
            "name": ["", "A栋", "", "小学", "", ""],
        },
        geometry=[
            _box_m(x0, y0, 20, 50),  # 1000 m2 x 6
            _box_m(x0 + 100, y0, 20, 50),  # 1000 m2 x 18
            _box_m(x0 + 200, y0, 10, 50),  # 500 m2 x default
            _box_m(x0 + 300, y0, 40, 50),  # school: left out
            _box_m(x0 + 400, y0, 20, 50),  # unreadable levels -> default
            shapely.Point(x0 + 500, y0),  # not a footprint
        ],
        crs="EPSG:32650",
    )
    return gdf.to_crs("EPSG:4326")


def test_buildings_population_sums_to_total_and_follows_floor_area():
    b = _buildings()
    before = b.copy()
    gdf, report = demand_from_buildings(b, total_population=10_000)
    pd.testing.assert_frame_equal(b, before)  # input untouched
    assert list(gdf.columns) == DEMAND_COLUMNS
    assert gdf.crs.to_epsg() == 4326
    assert gdf["population"].sum() == pytest.approx(10_000)
    assert gdf["demand_id"].tolist() == ["Bway/1", "Bway/2", "Bway/3", "Bway/5"]
    assert set(gdf["kind"]) == {"building"}
    pop = gdf.set_index("demand_id")["population"]
    levels = settings.default_building_levels
    # Population is proportional to footprint × storeys (area computed in UTM).
    assert pop["Bway/2"] / pop["Bway/1"] == pytest.approx(3.0, rel=1e-3)
    assert pop["Bway/3"] / pop["Bway/1"] == pytest.approx(500 * levels / 6000, rel=1e-3)
    assert pop["Bway/5"] / pop["Bway/1"] == pytest.approx(levels / 6, rel=1e-3)
    # Points sit inside their footprints.
    feet = b.set_index("osm_id").geometry
    for oid, pt in zip(gdf["demand_id"], gdf.geometry, strict=True):
        assert feet[oid[1:]].contains(pt)
    assert report.rejected["row"].tolist() == [6]
    assert "not a polygon" in report.rejected["reason"].iloc[0]
    assert any("non-residential" in w and "school 1" in w for w in report.warnings)
    assert report.n_read == 6 and report.n_ok == 4


def test_buildings_without_total_use_floor_area_per_person():
    gdf, _ = demand_from_buildings(_buildings().iloc[:2])
    assert gdf["population"].sum() == pytest.approx(
        (1000 * 6 + 1000 * 18) / settings.floor_area_per_person_m2, rel=1e-3
    )
    gdf, _ = demand_from_buildings(_buildings().iloc[:1], persons_per_m2=0.05)
    assert gdf["population"].iloc[0] == pytest.approx(1000 * 6 * 0.05, rel=1e-3)
    gdf, _ = demand_from_buildings(_buildings().iloc[:1], elderly_share=0.25)
    assert gdf["elderly"].iloc[0] == pytest.approx(gdf["population"].iloc[0] * 0.25)


def test_buildings_residential_filter_off_and_communities():
    b = _buildings()
    gdf, _ = demand_from_buildings(b, residential_only=False, default_levels=2)
    assert "Bway/4" in set(gdf["demand_id"])
    communities = gpd.GeoDataFrame(
        {"community": ["东社区"]}, geometry=[b.geometry.iloc[:2].union_all().envelope], crs=4326
    )
    gdf, _ = demand_from_buildings(b, communities=communities)
    assert gdf["community"].tolist()[:2] == ["东社区", "东社区"]
    assert gdf["community"].iloc[-1] == ""


def test_buildings_with_nothing_residential():
    b = _buildings().iloc[[3]]
    with pytest.raises(InputDataError, match="no usable residential building"):
        demand_from_buildings(b, total_population=100)
    with pytest.raises(InputDataError, match="total_population"):
        demand_from_buildings(_buildings(), total_population=-5)


def test_real_nanjing_buildings_calibrate_to_total():
    from geo.osm_features import buildings_from_osm

    b = buildings_from_osm(osm_extract("nanjing_xinjiekou"))
    gdf, report = demand_from_buildings(b, total_population=120_000)
    assert gdf["population"].sum() == pytest.approx(120_000)
    assert gdf["demand_id"].is_unique
    assert 500 < len(gdf) < len(b)  # mostly building=yes, some schools/offices left out
    assert (gdf["population"] > 0).all()
    assert report.n_ok + report.n_rejected <= report.n_read


def test_grid_sums_to_total_over_area_and_residential_land():
    area = shapely.box(118.75, 32.00, 118.80, 32.05)
    gdf, report = demand_grid(area, total_population=50_000, cell_m=200)
    assert list(gdf.columns) == DEMAND_COLUMNS
    assert gdf["population"].sum() == pytest.approx(50_000)
    assert area.buffer(1e-9).contains(gdf.geometry).all()
    # ~4.7 km x 5.5 km at 200 m cells.
    assert 600 < len(gdf) < 700
    assert gdf["demand_id"].is_unique and set(gdf["kind"]) == {"grid"}
    land = gpd.GeoDataFrame(
        geometry=[
            shapely.box(118.76, 32.01, 118.77, 32.02),
            shapely.box(118.79, 32.04, 118.85, 32.06),
        ],
        crs=4326,
    )
    gdf, report = demand_grid(area, total_population=50_000, residential=land, elderly_share=0.2)
    assert gdf["population"].sum() == pytest.approx(50_000)
    assert gdf["elderly"].sum() == pytest.approx(10_000)
    inside = land.union_all().intersection(area)
    assert inside.buffer(1e-9).contains(gdf.geometry).all()
    # Equal land areas (both boxes clipped to 0.01° x 0.01°) hold about equal populations.
    west = gdf.geometry.x < 118.78
    assert gdf.loc[west, "population"].sum() == pytest.approx(25_000, rel=0.03)
    assert "residential" in report.source


def test_grid_bad_input():
    with pytest.raises(InputDataError, match="total_population"):
        demand_grid(shapely.box(0, 0, 1, 1), total_population=0)
    far = gpd.GeoDataFrame(geometry=[shapely.box(100, 20, 100.01, 20.01)], crs=4326)
    with pytest.raises(GeometryError, match="do not overlap"):
        demand_grid(shapely.box(118.75, 32.0, 118.8, 32.05), total_population=10, residential=far)


def test_table_with_elderly_column_and_combined_coordinates(tmp_path: Path):
    path = tmp_path / "社区人口.csv"
    path.write_text(
        "社区名称,常住人口,60岁以上人口,经纬度\n"
        '甲社区,12000,3000,"118.78,32.04"\n'
        '乙社区,不详,10,"118.79,32.05"\n'
        '丙社区,8000,,"118.80 32.06"\n'
        '丁社区,-5,,"118.81 32.06"\n',
        encoding="gbk",
    )
    gdf, report = demand_from_table(path)
    assert list(gdf.columns) == DEMAND_COLUMNS
    assert gdf["community"].tolist() == ["甲社区", "丙社区"]
    assert gdf["population"].tolist() == [12000.0, 8000.0]
    assert gdf["elderly"].iloc[0] == 3000.0 and np.isnan(gdf["elderly"].iloc[1])
    assert set(gdf["kind"]) == {"community"}
    rej = report.rejected.set_index("row")
    assert rej.loc[3, "reason"] == "population is not a number"
    assert rej.loc[5, "reason"] == "population is negative"
    assert report.detected["elderly"] == "60岁以上人口"
    scaled, _ = demand_from_table(path, total_population=40_000)
    assert scaled["population"].sum() == pytest.approx(40_000)
    assert scaled["elderly"].iloc[0] == pytest.approx(6000)


def test_table_of_polygons_gives_representative_points(tmp_path: Path):
    polys = [shapely.box(118.78, 32.04, 118.79, 32.05), shapely.box(118.79, 32.04, 118.80, 32.05)]
    gpd.GeoDataFrame(
        {"name": ["北园", "南园"], "population": [3000, 2000], "pop60": [600, 500]},
        geometry=polys,
        crs=4326,
    ).to_file(tmp_path / "compounds.geojson")
    gdf, report = demand_from_table(tmp_path / "compounds.geojson", kind="compound_gate")
    assert gdf["community"].tolist() == ["北园", "南园"]  # name as the community fallback
    assert all(p.contains(pt) for p, pt in zip(polys, gdf.geometry, strict=True))
    assert gdf["elderly"].tolist() == [600.0, 500.0]
    assert set(gdf["kind"]) == {"compound_gate"}
    assert report.detected["community"] == "name (name)"


def test_table_without_population_column(tmp_path: Path):
    path = tmp_path / "nopop.csv"
    path.write_text("社区,lng,lat\n甲,118.78,32.04\n", encoding="utf-8")
    with pytest.raises(ColumnNotFoundError, match=r"nopop\.csv: no population column"):
        demand_from_table(path)
    with pytest.raises(InputDataError, match="kind"):
        demand_from_table(path, kind="household")


def test_buildings_with_chinese_storey_and_height_columns():
    b = _buildings().iloc[:3].drop(columns="levels")
    b["层数"] = [6, np.nan, np.nan]
    b["高度"] = [np.nan, 54.0, np.nan]  # 18 storeys of 3 m
    gdf, report = demand_from_buildings(b)
    pop = gdf.set_index("demand_id")["population"]
    assert pop["Bway/2"] / pop["Bway/1"] == pytest.approx(3.0, rel=1e-3)
    assert report.detected["levels"] == "层数" and report.detected["levels_from_height"] == "1"
    only_height = _buildings().iloc[:2].drop(columns="levels").assign(height=[18.0, 54.0])
    gdf, _ = demand_from_buildings(only_height)
    assert gdf["population"].iloc[1] / gdf["population"].iloc[0] == pytest.approx(3.0, rel=1e-3)


def test_community_table_units_shares_and_population_columns(tmp_path: Path):
    # What statistics offices send: counts in 万人, a 60+ share next to the 60+ count, registered
    # and resident population side by side, a street code, numbers with units and spaces.
    path = tmp_path / "社区人口.csv"
    pd.DataFrame(
        {
            "街道代码": ["320106001"] * 3,
            "社区": ["甲", "乙", "丙"],
            "户籍人口": [9000, 8000, 7000],
            "常住人口（万人）": ["1.2", "0.8", "1.05"],
            "60岁以上人口占比(%)": ["23.5%", "20%", "18%"],
            "60岁以上人口": ["约2千人", "1 600", "1,500人"],
            "经度": [118.78, 118.79, 118.80],
            "纬度": [32.04, 32.05, 32.06],
        }
    ).to_csv(path, index=False, encoding="gbk")
    gdf, report = demand_from_table(path)
    assert report.detected["population"] == "常住人口（万人）"
    assert report.detected["elderly"] == "60岁以上人口"
    assert report.detected.get("id") is None  # a street code is not an id of the rows
    assert gdf["population"].tolist() == pytest.approx([12_000, 8_000, 10_500])
    assert gdf["elderly"].tolist() == pytest.approx([2_000, 1_600, 1_500])
    assert len(gdf) == 3 and gdf["demand_id"].is_unique
    assert any("10,000" in w for w in report.warnings)


@pytest.mark.parametrize(
    ("cell", "value"),
    [("1.2万", 12_000), ("约5千人", 5_000), ("12 345", 12_345), ("8,000人", 8_000), ("50张", 50)],
)
def test_amounts_with_chinese_magnitudes(cell: str, value: float):
    from geo.columns import parse_amount

    out, bad = parse_amount([cell])
    assert out[0] == value and not bad[0]
