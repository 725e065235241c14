"""Reading tables: encodings, Excel, GIS formats, uploads as bytes, and bad files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.columns import detect_columns, parse_pairs, parse_wkt, require_coordinates
from geo.errors import (
    ColumnNotFoundError,
    EncodingDetectionError,
    GeometryError,
    InputDataError,
)
from geo.tables import detect_encoding, read_table

HEADER = "编号,名称,类型,经度,纬度,床位"
ROWS = [
    "001,鼓楼区老年食堂,老年食堂,118.781,32.041,50",
    "002,宁海路社区卫生服务中心,社区卫生服务中心,118.772,32.055,",
]


def _csv_text() -> str:
    return "\n".join([HEADER, *ROWS]) + "\n"


def test_gbk_csv_is_read_as_gb18030_with_text_ids(tmp_path: Path):
    path = tmp_path / "设施.csv"
    path.write_text(_csv_text(), encoding="gbk")
    df, info = read_table(path)
    assert info.encoding == "gb18030"
    assert info.format == "csv"
    assert list(df.columns) == ["编号", "名称", "类型", "经度", "纬度", "床位"]
    assert df["名称"].tolist() == ["鼓楼区老年食堂", "宁海路社区卫生服务中心"]
    # "001" keeps its leading zeros; coordinates become numbers.
    assert df["编号"].tolist() == ["001", "002"]
    assert df["经度"].dtype == np.float64
    # Index = spreadsheet rows (header = row 1).
    assert df.index.tolist() == [2, 3]


def test_utf8_bom_header_has_no_bom(tmp_path: Path):
    path = tmp_path / "bom.csv"
    path.write_bytes(_csv_text().encode("utf-8-sig"))
    df, info = read_table(path)
    assert info.encoding == "utf-8-sig"
    assert df.columns[0] == "编号"


def test_gb18030_rare_characters_survive(tmp_path: Path):
    # 𠀀 (U+20000) and 㐀 are outside GBK; only GB18030 encodes them.
    text = "名称,经度,纬度\n㐀䶵社区𠀀站,118.78,32.04\n"
    with pytest.raises(UnicodeEncodeError):
        text.encode("gbk")
    path = tmp_path / "rare.csv"
    path.write_bytes(text.encode("gb18030"))
    df, info = read_table(path)
    assert info.encoding == "gb18030"
    assert df["名称"].iloc[0] == "㐀䶵社区𠀀站"


def test_short_gbk_sample_prefers_gb18030_over_korean():
    # charset-normalizer's best guess for this short sample is cp949; GBK must win.
    raw = "名称,经度\n食堂,1\n".encode("gbk")
    assert detect_encoding(raw) == "gb18030"


def test_title_rows_and_blank_rows_keep_spreadsheet_row_numbers(tmp_path: Path):
    text = "鼓楼区养老设施名单（2024年）\n\n" + HEADER + "\n" + ROWS[0] + "\n\n" + ROWS[1] + "\n"
    path = tmp_path / "titled.csv"
    path.write_text(text, encoding="utf-8")
    df, info = read_table(path)
    assert info.header_row == 3
    assert df.index.tolist() == [4, 6]
    assert any("title" in n for n in info.notes)


def test_xlsx_with_chinese_headers_and_a_title_row(tmp_path: Path):
    path = tmp_path / "名单.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        pd.DataFrame().to_excel(xw, sheet_name="说明", index=False)
        pd.DataFrame(
            {
                "设施名称": ["甲", "乙"],
                "设施类型": ["助餐点", "停车场"],
                "经度": [118.7, 118.8],
                "纬度": [32.0, 32.1],
                "泊位": [np.nan, 120],
            }
        ).to_excel(xw, sheet_name="设施", index=False, startrow=1)
        xw.sheets["设施"]["A1"] = "设施清单"
    df, info = read_table(path)
    assert info.format == "xlsx"
    assert info.sheet == "设施"  # the empty first sheet is skipped
    assert info.header_row == 2
    assert df.index.tolist() == [3, 4]
    assert df["泊位"].iloc[1] == 120
    # As an upload: a file object with a name.
    buf = io.BytesIO(path.read_bytes())
    buf.name = "upload.xlsx"
    df2, _ = read_table(buf)
    pd.testing.assert_frame_equal(df, df2)
    with pytest.raises(InputDataError, match="no sheet 'x'"):
        read_table(path, sheet="x")


def test_xlsx_skips_hidden_and_notes_sheets(tmp_path: Path):
    path = tmp_path / "助餐点.xlsx"
    data = pd.DataFrame({"名称": ["甲", "乙"], "经度": [118.7, 118.8], "纬度": [32.0, 32.1]})
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        # A notes sheet with one line of text (a header and no data), an old hidden copy, data.
        pd.DataFrame(columns=["本表由街道填报，坐标为高德坐标"]).to_excel(
            xw, sheet_name="说明", index=False
        )
        data.iloc[:1].to_excel(xw, sheet_name="旧", index=False)
        xw.sheets["旧"].sheet_state = "hidden"
        data.to_excel(xw, sheet_name="名单", index=False)
    df, info = read_table(path)
    assert info.sheet == "名单" and df["名称"].tolist() == ["甲", "乙"]
    df_old, _ = read_table(path, sheet="旧")  # still readable when named
    assert df_old["名称"].tolist() == ["甲"]
    with pytest.raises(InputDataError, match="no data rows"):
        read_table(path, sheet="说明")


def test_xlsx_with_a_stale_dimension_tag_reads_every_row(tmp_path: Path):
    path = tmp_path / "stale.xlsx"
    pd.DataFrame({"名称": [f"点{i}" for i in range(50)], "经度": 118.7, "纬度": 32.0}).to_excel(
        path, index=False
    )
    # Some tools write a <dimension> that covers only part of the sheet.
    src = zipfile.ZipFile(path)
    out = tmp_path / "stale2.xlsx"
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode("utf-8")
                assert '<dimension ref="A1:C51"/>' in text
                data = text.replace(
                    '<dimension ref="A1:C51"/>', '<dimension ref="A1:C11"/>'
                ).encode()
            dst.writestr(item, data)
    df, _ = read_table(out)
    assert len(df) == 50


def _points_gdf(crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(
        {"名称": ["甲", "乙"], "类型": ["老年食堂", "卫生站"]},
        geometry=shapely.points([118.78, 118.79], [32.04, 32.05]),
        crs="EPSG:4326",
    )
    return gdf.to_crs(crs)


def test_gis_formats_and_zipped_shapefile_upload(tmp_path: Path):
    gdf = _points_gdf("EPSG:32650")
    gdf.to_file(tmp_path / "a.gpkg", layer="pois")
    gdf.to_file(tmp_path / "a.geojson")
    gdf.to_file(tmp_path / "a.shp", encoding="utf-8")
    zpath = tmp_path / "a.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in tmp_path.glob("a.*"):
            if f.suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                zf.write(f, arcname=f"数据/{f.name}")
    for path in ("a.gpkg", "a.geojson", "a.shp"):
        df, info = read_table(tmp_path / path)
        assert isinstance(df, gpd.GeoDataFrame)
        assert df["名称"].tolist() == ["甲", "乙"], path
        assert df.index.tolist() == [1, 2]
        assert info.crs is not None
    df, info = read_table(zpath.read_bytes(), name="上传.zip")
    assert info.format == "shp" and info.name == "上传.zip"
    assert "32650" in info.crs
    assert df["类型"].tolist() == ["老年食堂", "卫生站"]


def test_zip_without_dbf_is_reported(tmp_path: Path):
    _points_gdf().to_file(tmp_path / "b.shp")
    zpath = tmp_path / "b.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.write(tmp_path / "b.shp", arcname="b.shp")
    with pytest.raises(GeometryError, match=r"b\.zip.*without .dbf"):
        read_table(zpath)


def test_unreadable_geojson_names_the_file(tmp_path: Path):
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry":')
    with pytest.raises(GeometryError, match=r"broken\.geojson"):
        read_table(path)


@pytest.mark.parametrize(
    ("data", "name", "error", "match"),
    [
        (b"", "empty.csv", InputDataError, "empty.csv: the file is empty"),
        (b"  \n\n", "blank.csv", InputDataError, "blank.csv: the file is empty"),
        (b"a,b\n", "header.csv", InputDataError, "header.csv: .* no data rows"),
        (bytes(range(128, 256)) * 8, "garbage.csv", EncodingDetectionError, "garbage.csv"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "pic.csv", EncodingDetectionError, "binary"),
        (b"x", "notes.docx", InputDataError, "unknown file type '.docx'"),
        (b"x", "old.xls", InputDataError, r"old Excel format \(.xls\)"),
    ],
)
def test_bad_files_raise_our_errors_naming_the_file(data, name, error, match):
    with pytest.raises(error, match=match):
        read_table(data, name=name)


def test_missing_path_and_folder(tmp_path: Path):
    with pytest.raises(InputDataError, match="no such file"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(InputDataError, match="is a folder"):
        read_table(tmp_path)


def test_column_detection_chinese_and_english():
    cols = detect_columns(
        [
            "序号",
            "单位名称",
            "设施类型",
            "经度(GCJ-02)",
            "纬度（GCJ-02）",
            "床位数",
            "所属社区",
            "60岁以上人口",
            "常住人口",
        ]
    )
    assert cols["lon"] == "经度(GCJ-02)" and cols["lat"] == "纬度（GCJ-02）"
    assert cols["name"] == "单位名称" and cols["category"] == "设施类型"
    assert cols["capacity"] == "床位数" and cols["id"] == "序号"
    # "60岁以上人口" contains 人口 but is the elderly column, not the population.
    assert cols["elderly"] == "60岁以上人口" and cols["population"] == "常住人口"
    assert cols["community"] == "所属社区"
    cols = detect_columns([" Longitude ", "LAT", "Name", "Type", "Capacity"])
    assert (cols["lon"], cols["lat"], cols["capacity"]) == (" Longitude ", "LAT", "Capacity")
    assert detect_columns(["名称", "经纬度"])["coord"] == "经纬度"
    assert detect_columns(["X", "Y"])["lon"] == "X"


def test_combined_column_needs_pairs_and_overrides_win():
    frame = pd.DataFrame({"坐标": ["北京", "上海"], "lng": [1.0, 2.0], "lat": [3.0, 4.0]})
    cols = detect_columns(frame.columns, frame=frame)
    assert cols["coord"] is None and cols["lon"] == "lng"
    cols = detect_columns(frame.columns, overrides={"lon": "LAT", "lat": "lng"})
    assert (cols["lon"], cols["lat"]) == ("lat", "lng")
    with pytest.raises(ColumnNotFoundError, match=r"no column 'east'.*\['坐标', 'lng', 'lat'\]"):
        detect_columns(frame.columns, overrides={"lon": "east"}, label="f.csv")


def test_no_coordinates_error_lists_columns_and_names():
    cols = detect_columns(["名称", "地址", "经度"])
    with pytest.raises(ColumnNotFoundError) as exc:
        require_coordinates(cols, ["名称", "地址", "经度"], label="f.csv")
    text = str(exc.value)
    assert "f.csv" in text and "['名称', '地址', '经度']" in text and "纬度" in text
    assert "Found only lon" in text


def test_pair_and_wkt_parsing():
    a, b, bad = parse_pairs(
        [
            "118.78,32.04",
            "118.78 32.04",
            "118.78，32.04",
            "(118.78; 32.04)",
            "１１８.７８,32.04",
            "118.78",
            None,
            "x,y",
        ]
    )
    np.testing.assert_allclose(a[:5], 118.78)
    np.testing.assert_allclose(b[:5], 32.04)
    assert bad.tolist() == [False] * 5 + [True, False, True]
    geoms, bad = parse_wkt(["POINT (1 2)", "SRID=4326;POINT (3 4)", "POINT (1", "", "POINT EMPTY"])
    assert geoms[1].x == 3
    assert bad.tolist() == [False, False, True, False, True]


def test_excel_unicode_text_export_utf16_tabs(tmp_path: Path):
    # Excel/WPS "Unicode 文本" saves UTF-16 with a BOM, tab-separated.
    path = tmp_path / "导出.txt"
    path.write_bytes(_csv_text().replace(",", "\t").encode("utf-16"))
    df, info = read_table(path)
    assert info.encoding == "utf-16"
    assert df.columns.tolist()[:2] == ["编号", "名称"]
    assert df["纬度"].tolist() == [32.041, 32.055]


def test_semicolon_separated_with_quoted_commas(tmp_path: Path):
    path = tmp_path / "semi.csv"
    path.write_text('名称;经纬度\n甲;"118.78,32.04"\n乙;"118.79,32.05"\n', encoding="utf-8")
    df, _ = read_table(path)
    assert df["经纬度"].tolist() == ["118.78,32.04", "118.79,32.05"]


def test_large_text_table_reads_the_same_through_the_fast_path(monkeypatch):
    # Title lines, blank lines, padded cells, quoted separators and newlines, "007" ids, a blank
    # column: pandas' reader (large files) gives the frame the csv module gives (small files).
    import geo.tables as tables

    rng = np.random.default_rng(2)
    lines = ["鼓楼区人口表,,", "", "编号, 人口 ,社区,,备注"]
    for i in range(400):
        note = ['"a, b"', '"two\nlines"', " x ", ""][i % 4]
        pop = "" if i % 37 == 0 else str(int(rng.integers(1, 90)))
        lines.append(f"{i:03d},{pop},社区{i % 7} ,,{note}")
        if i % 50 == 0:
            lines.append("")
    raw = ("\n".join(lines) + "\n").encode("utf-8")
    slow, _ = read_table(raw, name="t.csv")
    monkeypatch.setattr(tables, "_FAST_CSV_LINES", 10)
    fast, _ = read_table(raw, name="t.csv")
    pd.testing.assert_frame_equal(fast, slow)
    assert slow.index[0] == 4 and slow["编号"].iloc[0] == "000"
    assert slow["人口"].isna().sum() == 11


@pytest.mark.parametrize(
    "extra",
    [
        "",  # all numbers: the C reader's frame
        "007,1,2\n",  # an id with leading zeros: stays text
        "\n",  # a blank line: dropped by the general path
        "5, 1.5 ,x\n",  # a text cell
        "1e3,-0.25,+7\n",  # exponent and signs
    ],
)
def test_large_numeric_table_reads_as_the_general_path(monkeypatch, extra):
    # The all-number shortcut (1M-row demand exports) gives exactly the general path's frame.
    import geo.tables as tables

    rng = np.random.default_rng(3)
    lon = np.round(rng.uniform(-180, 180, 300), 7)
    lat = rng.uniform(-90, 90, 300)  # full float precision
    pop = rng.integers(0, 500, 300)
    lines = ["lon,lat,population"] + [
        f"{float(a)!r},{float(b)!r},{c}" for a, b, c in zip(lon, lat, pop, strict=True)
    ]
    raw = ("\n".join(lines[:150]) + "\n" + extra + "\n".join(lines[150:]) + "\n").encode()
    monkeypatch.setattr(tables, "_FAST_CSV_LINES", 10)
    text = raw.decode()
    padded = '"' in text or tables._INNER_SPACE.search(text) is not None
    shortcut = tables._fast_typed_frame(text, ",", padded=padded)
    assert (shortcut is not None) == (extra in ("", "1e3,-0.25,+7\n"))
    fast, info = read_table(raw, name="d.csv")
    monkeypatch.setattr(tables, "_fast_typed_frame", lambda text, delimiter, padded: None)
    slow, _ = read_table(raw, name="d.csv")
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    assert info.header_row == 1


def test_text_column_and_unpadded_shortcuts_read_as_the_full_rules(monkeypatch):
    # Text columns are recognised from their first cells, and files without any whitespace skip
    # the strip: the frame is the one the cell-by-cell rules give.
    import re

    import geo.tables as tables

    lines = ["社区,编码,lon,lat,备注"]
    for i in range(600):
        community = "" if i % 9 == 0 else f"社区{i % 13}"
        code = str(i) if i < 300 else f"x{i}"  # numbers first, text later
        note = "007" if i == 599 else f"n{i}"  # a leading-zero cell far down
        lines.append(f"{community},{code},{118 + i / 1000:.4f},32.{i:04d},{note}")
    raw = ("\n".join(lines) + "\n").encode("utf-8")
    fast, _ = read_table(raw, name="t.csv")
    monkeypatch.setattr(tables, "_text_column", lambda vals, text: False)
    monkeypatch.setattr(tables, "_INNER_SPACE", re.compile(r"[\s\S]"))
    full, _ = read_table(raw, name="t.csv")
    pd.testing.assert_frame_equal(fast, full, check_exact=True)
    assert fast["社区"].isna().sum() == 67 and fast["编码"].iloc[0] == "0"
    assert fast["备注"].iloc[-1] == "007"


def test_large_table_with_text_columns_reads_as_the_general_path(monkeypatch):
    # Text columns (with blanks), numbers with blanks, numbers then text: the C reader's typed
    # frame is exactly what the cell-by-cell path makes of the file.
    import geo.tables as tables

    lines = ["社区,人口,编码,lon,lat"]
    for i in range(500):
        community = "" if i % 11 == 0 else f"社区{i % 17}"
        people = "" if i % 13 == 0 else str(i * 3)
        code = str(i) if i < 400 else f"c{i}"
        lines.append(f"{community},{people},{code},{118 + i / 1000:.4f},{32 + i / 1000:.4f}")
    raw = ("\n".join(lines) + "\n").encode("utf-8")
    monkeypatch.setattr(tables, "_FAST_CSV_LINES", 10)
    assert tables._fast_typed_frame(raw.decode(), ",", padded=False) is not None
    fast, _ = read_table(raw, name="d.csv")
    monkeypatch.setattr(tables, "_fast_typed_frame", lambda text, delimiter, padded: None)
    slow, _ = read_table(raw, name="d.csv")
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    assert str(fast["社区"].dtype) == "str" and fast["人口"].dtype == "float64"
    assert fast["编码"].iloc[0] == "0" and fast["社区"].isna().sum() == 46
