"""A corpus of broken and awkward input files, each made in code, and what the loaders say.

Every case asserts the error class (one of ours), that the message names the file, and the
element, row or column where there is one. Files that load despite bad rows must account for
every row: each rejected row is in the ValidationReport with its row number and reason.

Network and facility cases are prefixed ``network_`` and ``facility_``; demand, config and CLI
cases belong in this file too (prefix them likewise).
"""

from __future__ import annotations

import bz2
import io
import json
import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from geo.errors import (
    ColumnNotFoundError,
    CoordinateError,
    CoverageToolError,
    EmptyNetworkError,
    InputDataError,
    NetworkError,
    NetworkFormatError,
)
from geo.facilities import load_facilities
from geo.roads import load_network

# --------------------------------------------------------------------------- builders

_NODES = {1: (118.7800, 32.0500), 2: (118.7810, 32.0500), 3: (118.7820, 32.0500)}


def osm(
    nodes: dict[object, tuple[object, object]] | None = None,
    ways: dict[object, list[object]] | None = None,
    *,
    bounds: str = "",
    extra: str = "",
) -> str:
    """An OSM XML document; node values are (lon, lat) written as given."""
    nodes = _NODES if nodes is None else nodes
    ways = {10: [1, 2, 3]} if ways is None else ways
    body = "".join(
        f'<node id="{i}" version="1" lat="{la}" lon="{lo}"/>\n' for i, (lo, la) in nodes.items()
    )
    body += extra
    body += "".join(
        f'<way id="{w}" version="1">'
        + "".join(f'<nd ref="{r}"/>' for r in refs)
        + '<tag k="highway" v="residential"/></way>\n'
        for w, refs in ways.items()
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n{bounds}{body}</osm>\n'


def graphml(crs: str = "EPSG:4326", *, x1: str = "118.7810", drop_xy: bool = False) -> str:
    """A two-node osmnx GraphML (as geo.roads.save_graphml writes it) with chosen defects."""
    xy = "" if drop_xy else f'<data key="d1">{x1}</data><data key="d2">32.05</data>'
    return (
        "<?xml version='1.0' encoding='utf-8'?>\n"
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
        '<key id="d6" for="edge" attr.name="oneway" attr.type="string"/>'
        '<key id="d5" for="edge" attr.name="highway" attr.type="string"/>'
        '<key id="d4" for="edge" attr.name="length" attr.type="string"/>'
        '<key id="d3" for="node" attr.name="osmid" attr.type="string"/>'
        '<key id="d2" for="node" attr.name="y" attr.type="string"/>'
        '<key id="d1" for="node" attr.name="x" attr.type="string"/>'
        '<key id="d0" for="graph" attr.name="crs" attr.type="string"/>'
        f'<graph edgedefault="directed"><data key="d0">{crs}</data>'
        '<node id="0"><data key="d1">118.7800</data><data key="d2">32.05</data>'
        '<data key="d3">0</data></node>'
        f'<node id="1">{xy}<data key="d3">1</data></node>'
        '<edge source="0" target="1" id="0"><data key="d4">94.0</data>'
        '<data key="d5">residential</data><data key="d6">False</data></edge>'
        "</graph></graphml>\n"
    )


def lines_geojson(coords: list[list[list[float | str]]], *, kind: str = "LineString") -> str:
    feats = [
        {
            "type": "Feature",
            "properties": {"highway": "residential"},
            "geometry": {"type": kind, "coordinates": c},
        }
        for c in coords
    ]
    return json.dumps({"type": "FeatureCollection", "features": feats})


_LINE = [[118.780, 32.05], [118.781, 32.05]]
_LINE2 = [[118.781, 32.05], [118.782, 32.05]]

CSV_HEAD = "id,名称,经度,纬度\n"
CSV_OK = "F1,卫生站一,118.7801,32.0591\nF2,卫生站二,118.7832,32.0452\n"


def xlsx_bytes(rows: str = CSV_OK) -> bytes:
    buf = io.BytesIO()
    pd.read_csv(io.StringIO(CSV_HEAD + rows), dtype=str).to_excel(buf, index=False)
    return buf.getvalue()


def torn_xlsx() -> bytes:
    """An .xlsx whose sheet's deflate stream is damaged (a broken copy): zlib fails mid-read."""
    raw = bytearray(xlsx_bytes(CSV_OK * 40))
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 10, start + info.compress_size - 10, 7):
        raw[i] ^= 0x55
    return bytes(raw)


def osm_pbf(path: Path, *, cut: int = 0) -> Path:
    """Write the small network as .osm.pbf (with libosmium), less its last ``cut`` bytes."""
    import osmium

    src = path.with_name("source.osm")
    src.write_text(osm(), encoding="utf-8")
    full = path.with_name("full.osm.pbf")
    writer = osmium.SimpleWriter(str(full))
    for obj in osmium.FileProcessor(str(src)):
        writer.add(obj)
    writer.close()
    raw = full.read_bytes()
    path.write_bytes(raw[: len(raw) - cut])
    return path


def attribute_only_gpkg(path: Path, frame: pd.DataFrame) -> Path:
    pyogrio.write_dataframe(frame, path, driver="GPKG", layer="table")
    return path


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """A file to write, how to load it, and what must come back."""

    file: str
    content: str | bytes | Callable[[Path], Path]
    error: type[CoverageToolError] | None
    mentions: tuple[str, ...] = ()
    kind: str = "network"  # or "facility"
    options: tuple[tuple[str, object], ...] = ()
    rejected_rows: tuple[int, ...] = ()


NETWORK_CASES: dict[str, Case] = {
    "network_osm_repeated_node_ids": Case(
        "dup_nodes.osm",
        osm(extra='<node id="2" version="1" lat="32.5" lon="118.9"/>\n'),
        NetworkFormatError,
        ("node 2", "more than once"),
    ),
    "network_osm_repeated_way_ids": Case(
        "dup_ways.osm",
        osm(ways={10: [1, 2], "10 ": [2, 3]}).replace('id="10 "', 'id="10"'),
        NetworkFormatError,
        ("way 10", "more than once"),
    ),
    "network_osm_lat_nan": Case(
        "lat_nan.osm",
        osm({**_NODES, 1: (118.78, "NaN")}),
        NetworkFormatError,
        ("node 1", "lat", "NaN"),
    ),
    "network_osm_lat_text": Case(
        "lat_abc.osm", osm({**_NODES, 2: (118.781, "abc")}), NetworkFormatError, ("node 2", "abc")
    ),
    "network_osm_lat_out_of_range": Case(
        "lat_95.osm",
        osm({**_NODES, 3: (118.782, 95.0)}),
        NetworkFormatError,
        ("node 3", "lat", "-90"),
    ),
    "network_osm_lon_out_of_range": Case(
        "lon_200.osm",
        osm({**_NODES, 1: (200.0, 32.05)}),
        NetworkFormatError,
        ("node 1", "lon", "180"),
    ),
    "network_osm_lat_missing": Case(
        "lat_missing.osm",
        osm().replace('<node id="1" version="1" lat="32.05" ', '<node id="1" version="1" '),
        NetworkFormatError,
        ("node 1", "lat"),
    ),
    "network_osm_node_id_beyond_int64": Case(
        "big_id.osm",
        osm(
            {99999999999999999999: (118.78, 32.05), 2: _NODES[2], 3: _NODES[3]},
            {10: [99999999999999999999, 2, 3]},
        ),
        NetworkFormatError,
        ("node id", "99999999999999999999", "64-bit"),
    ),
    "network_osm_node_id_not_integer": Case(
        "text_id.osm",
        osm({"n1": (118.78, 32.05), 2: _NODES[2], 3: _NODES[3]}, {10: ["n1", 2, 3]}),
        NetworkFormatError,
        ("node id", "n1"),
    ),
    "network_osm_bounds_not_a_number": Case(
        "bounds_x.osm",
        osm(bounds='<bounds minlat="x" minlon="118.77" maxlat="32.06" maxlon="118.79"/>\n'),
        NetworkFormatError,
        ("<bounds>", "minlat", "'x'"),
    ),
    "network_osm_bounds_inverted": Case(
        "bounds_inv.osm",
        osm(bounds='<bounds minlat="32.06" minlon="118.77" maxlat="32.04" maxlon="118.79"/>\n'),
        NetworkFormatError,
        ("<bounds>", "minlat=32.06", "maxlat=32.04"),
    ),
    "network_osm_bounds_without_area": Case(
        "bounds_flat.osm",
        osm(bounds='<bounds minlat="32.05" minlon="118.77" maxlat="32.05" maxlon="118.79"/>\n'),
        NetworkFormatError,
        ("<bounds>", "no area"),
    ),
    "network_osm_bounds_missing_attribute": Case(
        "bounds_part.osm",
        osm(bounds='<bounds minlat="32.04" minlon="118.77" maxlat="32.06"/>\n'),
        NetworkFormatError,
        ("<bounds>", "maxlon"),
    ),
    "network_osm_truncated": Case("torn.osm", osm()[:-60], NetworkFormatError, ("torn.osm",)),
    "network_osm_empty_file": Case("empty.osm", "", NetworkFormatError, ("empty.osm", "empty")),
    "network_osm_not_osm": Case(
        "notes.osm", "just some notes\n", NetworkFormatError, ("notes.osm", "not an OpenStreetMap")
    ),
    "network_osm_bz2_torn": Case(
        "torn.osm.bz2",
        bz2.compress(osm().encode() * 3)[:-40],
        NetworkFormatError,
        ("torn.osm.bz2",),
    ),
    "network_pbf_truncated": Case(
        "torn.osm.pbf", lambda p: osm_pbf(p, cut=30), NetworkFormatError, ("torn.osm.pbf", "PBF")
    ),
    "network_osm_no_streets": Case(
        "no_streets.osm",
        osm().replace("highway", "building"),
        EmptyNetworkError,
        ("no_streets.osm", "no ways"),
    ),
    "network_graphml_unknown_crs": Case(
        "unknown_crs.graphml",
        graphml(crs="EPSG:999999"),
        NetworkFormatError,
        ("unknown_crs.graphml", "EPSG:999999"),
    ),
    "network_graphml_node_without_xy": Case(
        "no_xy.graphml", graphml(drop_xy=True), NetworkFormatError, ("no_xy.graphml", "'x'")
    ),
    "network_graphml_node_nan": Case(
        "nan_node.graphml",
        graphml(x1="nan"),
        NetworkFormatError,
        ("nan_node.graphml", "node 1 ", "x=nan"),
    ),
    "network_graphml_not_graphml": Case(
        "table.graphml", "a,b\n1,2\n", NetworkFormatError, ("table.graphml", "not a GraphML")
    ),
    "network_graphml_truncated": Case(
        "torn.graphml", graphml()[:-50], NetworkFormatError, ("torn.graphml", "unreadable GraphML")
    ),
    "network_centrelines_nan_coordinate": Case(
        "nan_line.geojson",
        lines_geojson([_LINE, [[118.781, 32.05], ["NaN", 32.05]]]).replace('"NaN"', "NaN"),
        NetworkFormatError,
        ("nan_line.geojson", "feature 2", "NaN"),
    ),
    "network_centrelines_degrees_out_of_range": Case(
        "far_line.geojson",
        lines_geojson([_LINE, [[118.781, 32.05], [318.0, 32.05]]]),
        NetworkFormatError,
        ("far_line.geojson", "feature 2", "180"),
    ),
    "network_centrelines_points_only": Case(
        "points.geojson",
        lines_geojson([[118.78, 32.05]], kind="Point"),
        NetworkFormatError,
        ("points.geojson", "no line"),
    ),
    "network_centrelines_truncated_geojson": Case(
        "torn.geojson", lines_geojson([_LINE, _LINE2])[:-30], NetworkFormatError, ("torn.geojson",)
    ),
    "network_centrelines_gpkg_attribute_table": Case(
        "attrs.gpkg",
        lambda p: attribute_only_gpkg(
            p, pd.DataFrame({"name": ["中山路"], "highway": ["residential"]})
        ),
        NetworkFormatError,
        ("attrs.gpkg", "attribute table", "'table'"),
    ),
    "network_unknown_suffix": Case(
        "roads.dwg", b"AC1032", NetworkFormatError, ("roads.dwg", "unknown network file type")
    ),
    "network_folder_given": Case(
        "roads_dir", lambda p: (p.mkdir(), p)[1], NetworkFormatError, ("roads_dir", "folder")
    ),
}

FACILITY_CASES: dict[str, Case] = {
    "facility_xlsx_torn": Case(
        "torn.xlsx", torn_xlsx(), InputDataError, ("torn.xlsx",), "facility"
    ),
    "facility_xlsx_truncated": Case(
        "cut.xlsx", xlsx_bytes()[:-200], InputDataError, ("cut.xlsx", ".xlsx"), "facility"
    ),
    "facility_xlsx_is_text": Case(
        "text.xlsx", (CSV_HEAD + CSV_OK).encode(), InputDataError, ("text.xlsx",), "facility"
    ),
    "facility_xls_old_format": Case(
        "old.xls",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 200,
        InputDataError,
        ("old.xls", ".xlsx"),
        "facility",
    ),
    "facility_csv_empty": Case("empty.csv", b"", InputDataError, ("empty.csv",), "facility"),
    "facility_csv_header_only": Case(
        "head.csv", CSV_HEAD.encode(), InputDataError, ("head.csv",), "facility"
    ),
    "facility_csv_no_coordinate_columns": Case(
        "nocoords.csv",
        "id,名称\nF1,卫生站\n".encode(),
        ColumnNotFoundError,
        ("nocoords.csv", "coordinate"),
        "facility",
    ),
    "facility_csv_every_row_out_of_range": Case(
        "far.csv",
        (CSV_HEAD + "F1,甲,518.78,32.05\nF2,乙,518.79,32.06\n").encode(),
        CoordinateError,
        ("far.csv", "row 2"),
        "facility",
    ),
    "facility_csv_some_rows_bad": Case(
        "some_bad.csv",
        (CSV_HEAD + CSV_OK + "F3,丙,abc,32.05\nF4,丁,118.78,\nF5,戊,118.79,32.06\n").encode(),
        None,
        ("some_bad.csv",),
        "facility",
        rejected_rows=(4, 5),
    ),
    "facility_csv_duplicate_ids": Case(
        "dup_ids.csv",
        (CSV_HEAD + CSV_OK + "F1,重复,118.79,32.06\n").encode(),
        None,
        ("dup_ids.csv",),
        "facility",
        rejected_rows=(4,),
    ),
    "facility_csv_gbk_awkward_but_fine": Case(
        "gbk.csv", (CSV_HEAD + CSV_OK).encode("gbk"), None, ("gbk.csv",), "facility"
    ),
    "facility_csv_undecodable_bytes": Case(
        "bytes.csv", b"\xff\xfe\x00\xd8" * 50, InputDataError, ("bytes.csv",), "facility"
    ),
    "facility_geojson_truncated": Case(
        "torn.geojson",
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"name": "甲"},
                        "geometry": {"type": "Point", "coordinates": [118.78, 32.05]},
                    }
                ],
            }
        )[:-20].encode(),
        InputDataError,
        ("torn.geojson",),
        "facility",
    ),
    "facility_gpkg_attribute_table_without_coordinates": Case(
        "attrs.gpkg",
        lambda p: attribute_only_gpkg(p, pd.DataFrame({"name": ["甲"], "kind": ["x"]})),
        ColumnNotFoundError,
        ("attrs.gpkg", "coordinate"),
        "facility",
    ),
    "facility_gpkg_attribute_table_with_coordinates": Case(
        "attrs_xy.gpkg",
        lambda p: attribute_only_gpkg(
            p, pd.DataFrame({"name": ["甲", "乙"], "lon": [118.78, 118.79], "lat": [32.05, 32.06]})
        ),
        None,
        ("attrs_xy.gpkg",),
        "facility",
    ),
}

CASES = {**NETWORK_CASES, **FACILITY_CASES}


def _write(case: Case, tmp_path: Path) -> Path:
    path = tmp_path / case.file
    if callable(case.content):
        return case.content(path)
    if isinstance(case.content, str):
        path.write_text(case.content, encoding="utf-8")
    else:
        path.write_bytes(case.content)
    return path


def _load(case: Case, path: Path) -> object:
    options = dict(case.options)
    if case.kind == "network":
        return load_network(path, mode="walk", **options)
    options.setdefault("category", "health_station")
    return load_facilities(path, **options)


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30
    assert all(name.startswith(("network_", "facility_")) for name in CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_broken_input(name: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL)
    case = CASES[name]
    path = _write(case, tmp_path)
    if case.error is not None:
        with pytest.raises(CoverageToolError) as info:
            _load(case, path)
        assert isinstance(info.value, case.error), f"{type(info.value).__name__}: {info.value}"
        for text in case.mentions:
            assert text in str(info.value), f"{text!r} not in: {info.value}"
        return
    result = _load(case, path)
    if case.kind == "facility":
        assert isinstance(result, tuple)
        gdf, report = result
        assert report.source == case.file or case.file in str(report.source)
        # No row silently dropped: every row read is kept or listed with its row and reason.
        rejected = report.rejected
        assert sorted(rejected["row"].astype(int).unique()) == list(case.rejected_rows)
        assert rejected["reason"].astype(str).str.len().gt(0).all()
        assert report.n_read == len(gdf) + len(case.rejected_rows)


def test_osm_missing_node_references_are_noted(tmp_path: Path) -> None:
    path = tmp_path / "clipped.osm"
    path.write_text(osm(ways={10: [1, 2, 3, 77]}), encoding="utf-8")
    net = load_network(path, mode="walk")
    assert any("1 node references missing" in n for n in net.report.notes)
    assert net.n_edges >= 1


def test_osm_negative_node_ids_from_josm_are_kept(tmp_path: Path) -> None:
    # JOSM saves new nodes with negative ids; libosmium's location index holds none of them.
    path = tmp_path / "josm.osm"
    nodes = {-1: _NODES[1], 2: _NODES[2], -3: _NODES[3]}
    path.write_text(osm(nodes, {10: [-1, 2, -3]}), encoding="utf-8")
    net = load_network(path, mode="walk", clip=False)
    assert sorted(net.node_ids.tolist()) == [-3, -1]
    assert net.length.sum() == pytest.approx(189, abs=1)
    assert not any("missing" in n for n in net.report.notes)


def test_network_errors_are_network_errors() -> None:
    # The app catches NetworkError around network loading: every network case must be one.
    for name, case in NETWORK_CASES.items():
        assert case.error is None or issubclass(case.error, NetworkError), name


@pytest.mark.parametrize(
    ("file", "content", "mentions"),
    [
        ("missing.geojson", None, ("missing.geojson", "not found")),
        (
            "torn_area.geojson",
            '{"type": "FeatureCollection", "features": [{"type": "Fe',
            ("torn_area.geojson", "unreadable"),
        ),
        (
            "line_area.geojson",
            json.dumps(
                {
                    "type": "Feature",
                    "properties": {},
                    "geometry": {"type": "LineString", "coordinates": _LINE},
                }
            ),
            ("line_area.geojson", "no polygon", "LineString"),
        ),
    ],
)
def test_network_study_area_file_broken(
    file: str, content: str | None, mentions: tuple[str, ...], tmp_path: Path
) -> None:
    from geo.errors import GeometryError

    network = tmp_path / "streets.osm"
    network.write_text(osm(), encoding="utf-8")
    area = tmp_path / file
    if content is not None:
        area.write_text(content, encoding="utf-8")
    with pytest.raises(GeometryError) as info:
        load_network(network, study_area=area)
    for text in mentions:
        assert text in str(info.value), str(info.value)


def test_network_study_area_file_read(tmp_path: Path) -> None:
    network = tmp_path / "streets.osm"
    network.write_text(osm(), encoding="utf-8")
    box = [
        [118.7795, 32.049],
        [118.7815, 32.049],
        [118.7815, 32.051],
        [118.7795, 32.051],
        [118.7795, 32.049],
    ]
    area = tmp_path / "area.geojson"
    area.write_text(
        json.dumps(
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Polygon", "coordinates": [box]},
            }
        ),
        encoding="utf-8",
    )
    net = load_network(network, study_area=area, mode="walk")
    # Clipped at the boundary: the street from node 1 stops at 118.7815 (about 140 m, not 190 m).
    assert 100 < net.length.sum() < 160
