"""Facility loader: formats, columns, datums, categories and every bad-input case."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from geo import datum
from geo.columns import ColumnMapping
from geo.errors import (
    CategoryError,
    ColumnNotFoundError,
    CoordinateError,
    DuplicateIdError,
    EncodingDetectionError,
    GeometryError,
    InputDataError,
)
from geo.facilities import datum_fit, load_facilities, suggest_datum
from geo.messages import localise
from geo.network import lattice_network

GEOD = pyproj.Geod(ellps="WGS84")

# Four facilities in Nanjing (WGS-84).
LON = np.array([118.781, 118.772, 118.790, 118.765])
LAT = np.array([32.041, 32.055, 32.048, 32.060])
NAMES = ["鼓楼区老年食堂", "宁海路社区卫生服务中心", "北京西路停车场", "百姓健身房"]
TYPES = ["老年食堂", "社区卫生服务中心", "停车场", "全民健身场所"]
KEYS = ["elderly_canteen", "health_station", "parking", "fitness"]


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def _write_csv(path: Path, lon, lat, *, encoding="utf-8", extra_rows=(), header=None) -> Path:
    header = header or "编号,名称,类型,经度,纬度,床位"
    lines = [header]
    for i, (x, y) in enumerate(zip(lon, lat, strict=True)):
        lines.append(f"A{i + 1},{NAMES[i]},{TYPES[i]},{x:.7f},{y:.7f},{10 * (i + 1)}")
    lines += list(extra_rows)
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def _text_file(folder: Path, name: str, text: str) -> Path:
    """Write ``text`` as a UTF-8 file ``name`` in ``folder``; its path."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_contract_columns_and_types(tmp_path: Path):
    gdf, report = load_facilities(_write_csv(tmp_path / "f.csv", LON, LAT))
    assert list(gdf.columns[:5]) == ["facility_id", "name", "category", "capacity", "source"]
    assert "raw_category" in gdf.columns and gdf.geometry.name == "geometry"
    assert gdf.crs.to_epsg() == 4326
    assert isinstance(gdf.index, pd.RangeIndex)
    assert gdf["facility_id"].tolist() == ["A1", "A2", "A3", "A4"]
    assert gdf["category"].tolist() == KEYS
    assert gdf["raw_category"].tolist() == TYPES
    assert gdf["capacity"].tolist() == [10.0, 20.0, 30.0, 40.0]
    assert set(gdf["source"]) == {"f.csv"}
    assert report.n_read == 4 and report.n_ok == 4 and report.n_rejected == 0
    assert report.detected["lon"] == "经度" and report.detected["capacity"] == "床位"


def test_gbk_csv_in_gcj02_converts_to_wgs84_within_a_metre(tmp_path: Path):
    g_lon, g_lat = datum.from_wgs84(LON, LAT, crs="gcj02")
    path = _write_csv(tmp_path / "高德坐标.csv", g_lon, g_lat, encoding="gbk")
    gdf, report = load_facilities(path, crs="gcj02")
    assert report.encoding == "gb18030" and report.crs_in == "gcj02"
    err = _metres(gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy(), LON, LAT)
    assert err.max() < 0.05  # only the 7-decimal rounding of the file remains
    # Read as WGS-84 the same file is hundreds of metres off.
    wrong, _ = load_facilities(path)
    assert _metres(wrong.geometry.x.to_numpy(), wrong.geometry.y.to_numpy(), LON, LAT).min() > 300


def test_bd09_input(tmp_path: Path):
    b_lon, b_lat = datum.from_wgs84(LON, LAT, crs="bd09")
    gdf, report = load_facilities(_write_csv(tmp_path / "baidu.csv", b_lon, b_lat), crs="百度")
    assert report.crs_in == "bd09"
    assert _metres(gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy(), LON, LAT).max() < 0.05


def test_xlsx_with_chinese_headers_and_forced_category(tmp_path: Path):
    path = tmp_path / "助餐点.xlsx"
    pd.DataFrame(
        {
            "序号": [1, 2],
            "机构名称": ["甲助餐点", "乙助餐点"],
            "座位数": ["40个", 25],
            "东经": [118.78, 118.79],
            "北纬": [32.04, 32.05],
        }
    ).to_excel(path, index=False)
    gdf, report = load_facilities(path, category="elderly_canteen")
    assert gdf["category"].tolist() == ["elderly_canteen"] * 2
    assert gdf["capacity"].tolist() == [40.0, 25.0]
    assert gdf["facility_id"].tolist() == ["1", "2"]
    assert gdf["name"].tolist() == ["甲助餐点", "乙助餐点"]
    assert "raw_category" not in gdf.columns
    assert report.detected["category"] == "= elderly_canteen"
    with pytest.raises(CategoryError, match="unknown key 'canteens'"):
        load_facilities(path, category="canteens")


def test_combined_coordinate_column_with_chinese_comma(tmp_path: Path):
    text = (
        "名称,类型,经纬度\n"
        f'甲,老年食堂,"{LON[0]},{LAT[0]}"\n'
        f"乙,卫生服务站,{LON[1]}，{LAT[1]}\n"
        f"丙,停车场,{LON[2]} {LAT[2]}\n"
        "丁,停车场,不详\n"
    )
    path = _text_file(tmp_path, "pairs.csv", text)
    gdf, report = load_facilities(path)
    np.testing.assert_allclose(gdf.geometry.x, LON[:3])
    np.testing.assert_allclose(gdf.geometry.y, LAT[:3])
    assert report.detected["coordinates"] == "coord"
    bad = report.rejected.set_index("row").loc[5]
    assert bad["column"] == "经纬度" and bad["value"] == "不详" and "pair" in bad["reason"]
    # Facilities without an id column get F<row>.
    assert gdf["facility_id"].tolist() == ["F2", "F3", "F4"]


def test_wkt_column_with_polygons_and_an_unreadable_geometry(tmp_path: Path):
    square = shapely.box(118.78, 32.04, 118.781, 32.041)
    text = (
        "name,type,wkt\n"
        f'A,canteen,"POINT ({LON[0]} {LAT[0]})"\n'
        f'B,clinic,"{square.wkt}"\n'
        'C,clinic,"POLYGON ((118 32, 118.1"\n'
    )
    path = _text_file(tmp_path, "wkt.csv", text)
    gdf, report = load_facilities(path)
    assert gdf["category"].tolist() == ["elderly_canteen", "health_station"]
    assert square.contains(gdf.geometry.iloc[1])
    assert any("representative point" in w for w in report.warnings)
    row = report.rejected.set_index("row").loc[4]
    assert row["reason"] == "unreadable geometry (WKT)"


def test_swapped_axes_in_every_row_are_exchanged(tmp_path: Path):
    path = _write_csv(tmp_path / "swapped.csv", LAT, LON)
    gdf, report = load_facilities(path)
    np.testing.assert_allclose(gdf.geometry.x, LON)
    np.testing.assert_allclose(gdf.geometry.y, LAT)
    assert any("swapped in every row" in w for w in report.warnings)


def test_swapped_axes_in_one_row_are_exchanged_and_named(tmp_path: Path):
    lon, lat = LON.copy(), LAT.copy()
    lon[2], lat[2] = LAT[2], LON[2]
    gdf, report = load_facilities(_write_csv(tmp_path / "one.csv", lon, lat))
    np.testing.assert_allclose(gdf.geometry.x, LON)
    assert any("swapped in rows 4" in w for w in report.warnings)


def test_category_synonyms_and_unknown_categories_reported(tmp_path: Path):
    path = _write_csv(
        tmp_path / "cats.csv",
        LON,
        LAT,
        extra_rows=["B1,小面馆,火锅店,118.78,32.04,", "B2,无类型,,118.78,32.04,"],
    )
    gdf, report = load_facilities(path)
    assert gdf["category"].tolist() == KEYS
    rej = report.rejected.set_index("row")
    assert rej.loc[6, "value"] == "火锅店"
    assert "unknown category '火锅店'" in rej.loc[6, "reason"]
    assert "elderly_canteen" in rej.loc[6, "reason"]  # lists the known categories
    assert rej.loc[7, "reason"] == "category is empty"
    assert "第6行" in report.summary("zh") and "row 6" in report.summary("en")
    # Reasons are catalogue messages: English as text (CSV, logs), Chinese for the planner.
    assert localise(rej.loc[7, "reason"], "zh") == "类别为空"
    assert "无法识别的类别“火锅店”" in localise(rej.loc[6, "reason"], "zh")
    assert "类别为空" in report.summary("zh") and "category is empty" in report.summary("en")


def test_categories_inferred_from_names_when_there_is_no_category_column(tmp_path: Path):
    path = tmp_path / "names.csv"
    path.write_text(
        "名称,lng,lat\n鼓楼老年食堂,118.78,32.04\n某某小卖部,118.79,32.05\n", encoding="utf-8"
    )
    gdf, report = load_facilities(path)
    assert gdf["category"].tolist() == ["elderly_canteen"]
    assert report.rejected["row"].tolist() == [3]
    assert any("inferred from the names" in w for w in report.warnings)
    path.write_text("lng,lat\n118.78,32.04\n", encoding="utf-8")
    with pytest.raises(ColumnNotFoundError, match="no category column"):
        load_facilities(path)


def test_overrides_pick_columns(tmp_path: Path):
    path = tmp_path / "odd.csv"
    path.write_text(
        "east,north,what,label,size\n118.78,32.04,菜市场,农贸市场,5\n", encoding="utf-8"
    )
    with pytest.raises(ColumnNotFoundError, match=r"no coordinate columns found among"):
        load_facilities(path)
    gdf, _ = load_facilities(
        path,
        columns=ColumnMapping(
            lon="east", lat="north", category="what", name="label", capacity="size"
        ),
    )
    assert gdf["category"].tolist() == ["market"] and gdf["name"].tolist() == ["农贸市场"]
    assert gdf["capacity"].tolist() == [5.0]
    with pytest.raises(ColumnNotFoundError, match="no column 'nope'"):
        load_facilities(path, columns=ColumnMapping(lon="nope", lat="north"))


def test_out_of_range_and_non_numeric_rows_are_rejected_with_row_numbers(tmp_path: Path):
    path = _write_csv(
        tmp_path / "range.csv",
        LON,
        LAT,
        extra_rows=[
            "C1,坏经度,老年食堂,abc,32.04,",
            "C2,超范围,老年食堂,200,95,",
            "C3,零点,老年食堂,0,0,",
            "C4,缺坐标,老年食堂,,32.0,",
        ],
    )
    gdf, report = load_facilities(path)
    assert len(gdf) == 4
    rej = report.rejected.set_index("row")
    assert rej.loc[6, "reason"] == "longitude is not a number" and rej.loc[6, "value"] == "abc"
    assert "out of range" in rej.loc[7, "reason"] and rej.loc[7, "value"] == "200, 95"
    assert "0,0" in rej.loc[8, "reason"]
    assert rej.loc[9, "reason"] == "coordinates are missing"
    assert report.n_read == 8 and report.n_ok + report.n_rejected == report.n_read


def test_all_rows_out_of_range_raise_coordinate_error(tmp_path: Path):
    path = _text_file(
        tmp_path, "bad.csv", "名称,类型,经度,纬度\n甲,停车场,500,32\n乙,停车场,118,-100\n"
    )
    with pytest.raises(
        CoordinateError, match=r"bad\.csv: none of the 2 rows.*row 2: coordinates out of range"
    ):
        load_facilities(path)


def test_projected_metres_declared_as_degrees(tmp_path: Path):
    path = _text_file(tmp_path, "proj.csv", "名称,类型,x,y\n甲,停车场,665308.2,3541773.7\n")
    with pytest.raises(CoordinateError, match="projected metres"):
        load_facilities(path)
    gdf, report = load_facilities(path, crs="EPSG:32650")
    assert gdf.geometry.x.iloc[0] == pytest.approx(118.75, abs=1e-6)
    assert gdf.geometry.y.iloc[0] == pytest.approx(32.0, abs=1e-6)
    assert "32650" in report.crs_in


def test_study_area_rejects_points_outside(tmp_path: Path):
    area = shapely.box(118.77, 32.04, 118.80, 32.05)
    gdf, report = load_facilities(_write_csv(tmp_path / "sa.csv", LON, LAT), study_area=area)
    assert gdf["facility_id"].tolist() == ["A1", "A3"]
    rej = report.rejected.set_index("row")
    assert rej.loc[[3, 5], "reason"].tolist() == ["outside the study area"] * 2
    # A GeoDataFrame in another CRS works the same.
    area_gdf = gpd.GeoDataFrame(geometry=[area], crs="EPSG:4326").to_crs("EPSG:32650")
    gdf2, _ = load_facilities(_write_csv(tmp_path / "sa.csv", LON, LAT), study_area=area_gdf)
    assert gdf2["facility_id"].tolist() == ["A1", "A3"]
    far = shapely.box(100, 20, 101, 21)
    with pytest.raises(CoordinateError, match="outside the study area"):
        load_facilities(tmp_path / "sa.csv", study_area=far)


def test_duplicate_ids_rejected_or_raised_when_not_an_id_column(tmp_path: Path):
    path = _write_csv(tmp_path / "dup.csv", LON, LAT, extra_rows=["A2,重复,停车场,118.78,32.04,"])
    gdf, report = load_facilities(path)
    assert gdf["facility_id"].is_unique and len(gdf) == 4
    rej = report.rejected.set_index("row")
    assert rej.loc[6, "reason"] == "duplicate id 'A2' (first at row 3)"
    path = tmp_path / "code.csv"
    path.write_text(
        "代码,名称,类型,lng,lat\n" + "".join(f"1,n{i},停车场,118.7{i},32.0\n" for i in range(5)),
        encoding="utf-8",
    )
    with pytest.raises(DuplicateIdError, match=r"code\.csv: column '代码' repeats values"):
        load_facilities(path)
    gdf, _ = load_facilities(path, columns=ColumnMapping(id="名称"))
    assert gdf["facility_id"].tolist() == [f"n{i}" for i in range(5)]


def test_bad_files(tmp_path: Path):
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(InputDataError, match=r"empty\.csv"):
        load_facilities(tmp_path / "empty.csv")
    (tmp_path / "bin.csv").write_bytes(bytes(range(128, 256)) * 8)
    with pytest.raises(EncodingDetectionError, match=r"bin\.csv"):
        load_facilities(tmp_path / "bin.csv")
    (tmp_path / "nocoord.csv").write_text("名称,地址\n甲,中山路1号\n", encoding="utf-8")
    with pytest.raises(ColumnNotFoundError, match=r"nocoord\.csv.*\['名称', '地址'\].*经度"):
        load_facilities(tmp_path / "nocoord.csv")
    (tmp_path / "bad.geojson").write_text('{"type": "FeatureCollection", "features": [')
    with pytest.raises(GeometryError, match=r"bad\.geojson"):
        load_facilities(tmp_path / "bad.geojson")


def _gis(crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "名称": NAMES,
            "设施类型": TYPES,
            "床位": [1.0, np.nan, 3.0, 4.0],
            "osm_id": [11, 12, 13, 14],
        },
        geometry=shapely.points(LON, LAT),
        crs="EPSG:4326",
    ).to_crs(crs)


def test_zipped_shapefile_upload_in_utm(tmp_path: Path):
    # DBF field names hold 10 bytes: two Chinese characters in UTF-8 fit, four do not.
    shp = _gis("EPSG:32650").rename(columns={"设施类型": "类型"})
    shp.to_file(tmp_path / "pois.shp", encoding="utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in tmp_path.glob("pois.*"):
            zf.write(f, arcname=f.name)
    gdf, report = load_facilities(buf.getvalue(), name="设施.zip")
    assert _metres(gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy(), LON, LAT).max() < 0.01
    assert gdf["category"].tolist() == KEYS
    assert gdf["source"].iloc[0] == "设施.zip"
    assert gdf["osm_id"].tolist() == ["11", "12", "13", "14"]
    assert "32650" in report.crs_in and report.detected["coordinates"] == "geometry"


def test_gpkg_polygons_and_geojson(tmp_path: Path):
    polys = _gis("EPSG:32650")
    polys["geometry"] = polys.buffer(30)
    polys.loc[2, "geometry"] = None
    polys.to_crs(4326).to_file(tmp_path / "f.gpkg", layer="facilities")
    gdf, report = load_facilities(tmp_path / "f.gpkg")
    assert len(gdf) == 3
    assert report.rejected["row"].tolist() == [3]
    assert report.rejected["reason"].iloc[0] == "the feature has no geometry"
    assert (
        _metres(
            gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy(), LON[[0, 1, 3]], LAT[[0, 1, 3]]
        ).max()
        < 31
    )
    _gis().to_file(tmp_path / "f.geojson")
    gdf, report = load_facilities(tmp_path / "f.geojson")
    assert gdf["category"].tolist() == KEYS and np.isnan(gdf["capacity"].iloc[1])


def test_geographic_gis_file_declared_gcj02(tmp_path: Path):
    g_lon, g_lat = datum.from_wgs84(LON, LAT, crs="gcj02")
    gis = _gis()
    gis["geometry"] = shapely.points(g_lon, g_lat)
    gis.to_file(tmp_path / "amap.geojson")
    gdf, report = load_facilities(tmp_path / "amap.geojson", crs="gcj02")
    assert report.crs_in == "gcj02"
    assert _metres(gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy(), LON, LAT).max() < 0.01


# --------------------------------------------------------------------------- suggest_datum


def _nanjing_lattice():
    # 16 x 16 streets 400 m apart in UTM 50N, south-west corner near (118.75 E, 32.0 N).
    return lattice_network(16, 16, spacing=400.0, origin=(665_000.0, 3_541_500.0), crs="EPSG:32650")


def _points_on_streets(net, n: int = 60, seed: int = 3):
    rng = np.random.default_rng(seed)
    edges = rng.choice(net.n_edges, n, replace=False)
    pts = shapely.line_interpolate_point(
        net.geometry[edges], rng.uniform(0.1, 0.9, n), normalized=True
    )
    # Entrances sit a little off the centreline.
    x = shapely.get_x(pts) + rng.uniform(-12, 12, n)
    y = shapely.get_y(pts) + rng.uniform(-12, 12, n)
    tr = pyproj.Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True)
    return tr.transform(x, y)


def test_suggest_datum_detects_gcj02_declared_as_wgs84(tmp_path: Path):
    net = _nanjing_lattice()
    lon, lat = _points_on_streets(net)
    g_lon, g_lat = datum.from_wgs84(lon, lat, crs="gcj02")
    fit = datum_fit((g_lon, g_lat), net)
    assert fit["gcj02"] < 15 and fit["wgs84"] > 50
    text = suggest_datum((g_lon, g_lat), net, crs_used="wgs84")
    assert text is not None and "GCJ-02" in text and 'crs = "gcj02"' in text
    # A Chinese line and an English line (the app shows one, the terminal both).
    # A message: English as text (the terminal), Chinese in the Chinese app.
    zh = text.text("zh")
    assert "请确认坐标系" in zh and "更贴合路网" in zh and 'crs = "gcj02"' in zh
    assert text.startswith("These points")
    assert suggest_datum((g_lon, g_lat), net, crs_used="gcj02") is None
    assert suggest_datum(np.column_stack([lon, lat]), net, crs_used="wgs84") is None
    # Through the loader: the report carries the suggestion.
    rows = [f"{x:.7f},{y:.7f}" for x, y in zip(g_lon, g_lat, strict=True)]
    path = _text_file(tmp_path, "amap.csv", "lng,lat\n" + "\n".join(rows) + "\n")
    _, report = load_facilities(path, category="parking", network=net)
    assert report.suggestion is not None and "GCJ-02" in report.suggestion
    _, report = load_facilities(path, category="parking", network=net, crs="gcj02")
    assert report.suggestion is None


def test_suggest_datum_detects_bd09_declared_as_gcj02():
    net = _nanjing_lattice()
    lon, lat = _points_on_streets(net, seed=5)
    b_lon, b_lat = datum.from_wgs84(lon, lat, crs="bd09")
    text = suggest_datum((b_lon, b_lat), net, crs_used="gcj02")
    assert text is not None and "BD-09" in text


def test_repeating_running_numbers_are_not_ids(tmp_path: Path):
    # 序号 restarting per street: the rows are all good facilities.
    path = tmp_path / "list.csv"
    path.write_text(
        "序号,名称,类型,经度,纬度\n1,甲,停车场,118.70,32.0\n2,乙,停车场,118.71,32.0\n"
        "1,丙,停车场,118.72,32.0\n",
        encoding="utf-8",
    )
    gdf, report = load_facilities(path)
    assert gdf["name"].tolist() == ["甲", "乙", "丙"] and gdf["facility_id"].is_unique
    assert any("序号" in w and "not used as the id" in w for w in report.warnings)
    # Named explicitly, the column is taken at its word: the repeat is a duplicate.
    gdf2, report2 = load_facilities(path, columns=ColumnMapping(id="序号"))
    assert len(gdf2) == 2 and len(report2.rejected) == 1
    # id="" switches ids off even for a column that would be detected.
    code = tmp_path / "code.csv"
    code.write_text(
        "编号,名称,类型,经度,纬度\n7,甲,停车场,118.70,32.0\n7,乙,停车场,118.71,32.0\n",
        encoding="utf-8",
    )
    gdf3, _ = load_facilities(code, columns=ColumnMapping(id=""))
    assert len(gdf3) == 2 and gdf3["facility_id"].tolist() == ["F2", "F3"]


def test_headers_naming_a_datum_and_rows_outside_china_are_warned(tmp_path: Path):
    path = tmp_path / "amap.csv"
    path.write_text(
        "名称,类型,高德经度,高德纬度\n甲,停车场,118.78,32.04\n乙,停车场,118.79,32.05\n"
        "丙,停车场,18.79,32.05\n",
        encoding="utf-8",
    )
    _, report = load_facilities(path)  # read as WGS-84 by default
    assert any("GCJ-02" in w and "gcj02" in w for w in report.warnings), report.warnings
    assert any("outside China (rows 4)" in w for w in report.warnings), report.warnings
    _, report2 = load_facilities(path, crs="gcj02")
    assert not any("GCJ-02" in w for w in report2.warnings)
    bd = tmp_path / "bd.csv"
    bd.write_text("名称,类型,lng_bd09,lat_bd09\n甲,停车场,118.78,32.04\n", encoding="utf-8")
    _, report3 = load_facilities(bd, crs="gcj02")
    assert any("BD-09" in w for w in report3.warnings), report3.warnings


def test_coordinates_with_hemisphere_marks(tmp_path: Path):
    path = tmp_path / "marks.csv"
    path.write_text(
        "名称,类型,经度,纬度\n甲,停车场,东经118.78,北纬32.04\n乙,停车场,118.79°E,32.05°N\n"
        "丙,停车场,118.80E,N 32.06\n丁,停车场,E118.5N,32.0\n",
        encoding="utf-8",
    )
    gdf, report = load_facilities(path)
    assert gdf["name"].tolist() == ["甲", "乙", "丙"]
    np.testing.assert_allclose(gdf.geometry.x, [118.78, 118.79, 118.80])
    np.testing.assert_allclose(gdf.geometry.y, [32.04, 32.05, 32.06])
    # Two marks on one number is not a coordinate: rejected with its row number.
    assert report.rejected["row"].tolist() == [5]


def test_column_mapping_overrides_and_switches_ids_off():
    mapping = ColumnMapping(lon="x", lat="y", id="")
    assert mapping.ids_off and not ColumnMapping(id="编号").ids_off
    # "" is not a column choice: detection decides (or, for ids, is switched off by the caller).
    assert mapping.overrides(("lon", "lat", "id", "name")) == {
        "lon": "x",
        "lat": "y",
        "id": None,
        "name": None,
    }
