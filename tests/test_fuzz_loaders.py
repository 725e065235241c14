"""Fuzzing the loaders: mutated bytes of small valid files raise only our own errors.

Each example takes a valid seed file (facilities as CSV in UTF-8 and GBK, XLSX and GeoJSON;
networks as OSM XML and PBF, osmnx GraphML and GeoJSON centrelines) and applies one to four
mutations: bit flips, truncation, inserted or deleted bytes, and splices from another seed.
Loading must either succeed or raise a :class:`geo.errors.CoverageToolError` subclass (whose
message names the file); any other exception is a traceback a planner would see.

The default example count is the suite's hypothesis profile (``LCC_HYPOTHESIS_EXAMPLES``); run
with ``LCC_HYPOTHESIS_EXAMPLES=3000`` to hunt for new escape classes.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import osmium
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.errors import CoverageToolError
from geo.facilities import load_facilities
from geo.roads import load_network, save_graphml

FACILITY_CSV = (
    "id,名称,类别,经度,纬度,容量\n"
    "F1,鼓楼社区卫生服务中心,社区卫生服务中心,118.7801,32.0591,20\n"
    "F2,新街口小学,小学,118.7832,32.0452,600\n"
    "F3,老年食堂,老年食堂,118.7765,32.0480,\n"
)

_NODES = {
    1: (118.7800, 32.0500),
    2: (118.7810, 32.0500),
    3: (118.7820, 32.0500),
    4: (118.7810, 32.0510),
    5: (118.7810, 32.0490),
    6: (118.7820, 32.0510),
}
_WAYS = {10: [1, 2, 3], 11: [4, 2, 5], 12: [3, 6, 4]}


def facility_seeds() -> dict[str, bytes]:
    """Valid small facility files by name (the suffix picks the reader)."""
    frame = pd.read_csv(io.StringIO(FACILITY_CSV))
    xlsx = io.BytesIO()
    frame.to_excel(xlsx, index=False)
    features = [
        {
            "type": "Feature",
            "properties": {"name": r["名称"], "category": r["类别"]},
            "geometry": {"type": "Point", "coordinates": [r["经度"], r["纬度"]]},
        }
        for _, r in frame.iterrows()
    ]
    geojson = {"type": "FeatureCollection", "features": features}
    return {
        "facilities.csv": FACILITY_CSV.encode("utf-8"),
        "facilities_gbk.csv": FACILITY_CSV.encode("gbk"),
        "facilities.xlsx": xlsx.getvalue(),
        "facilities.geojson": json.dumps(geojson, ensure_ascii=False).encode("utf-8"),
    }


def osm_xml() -> str:
    """A small valid OSM XML street network with a <bounds> element."""
    nodes = "".join(
        f'<node id="{i}" version="1" lat="{lat}" lon="{lon}"/>\n'
        for i, (lon, lat) in _NODES.items()
    )
    ways = "".join(
        f'<way id="{w}" version="1">'
        + "".join(f'<nd ref="{r}"/>' for r in refs)
        + '<tag k="highway" v="residential"/><tag k="name" v="中山路"/></way>\n'
        for w, refs in _WAYS.items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="test">\n'
        '<bounds minlat="32.0480" minlon="118.7790" maxlat="32.0520" maxlon="118.7830"/>\n'
        f"{nodes}{ways}</osm>\n"
    )


def network_seeds(tmp: Path) -> dict[str, bytes]:
    """Valid small network files by name: OSM XML and PBF, GraphML and GeoJSON centrelines."""
    features = [
        {
            "type": "Feature",
            "properties": {"name": "中山路", "highway": "residential"},
            "geometry": {"type": "LineString", "coordinates": [list(_NODES[r]) for r in refs]},
        }
        for refs in _WAYS.values()
    ]
    osm = tmp / "seed.osm"
    osm.write_text(osm_xml(), encoding="utf-8")
    graphml = save_graphml(load_network(osm, clip=False), tmp / "seed.graphml")
    pbf = tmp / "seed.osm.pbf"
    writer = osmium.SimpleWriter(str(pbf))
    for obj in osmium.FileProcessor(str(osm)):
        writer.add(obj)
    writer.close()
    return {
        "network.osm": osm.read_bytes(),
        "network.osm.pbf": pbf.read_bytes(),
        "network.graphml": graphml.read_bytes(),
        "network.geojson": json.dumps(
            {"type": "FeatureCollection", "features": features}, ensure_ascii=False
        ).encode("utf-8"),
    }


_FACILITY_SEEDS = facility_seeds()
_SPLICE = list(_FACILITY_SEEDS.values())


@st.composite
def mutated(draw: st.DrawFn, seeds: dict[str, bytes]) -> tuple[str, bytes]:
    """A seed's name and its bytes after one to four random mutations."""
    name = draw(st.sampled_from(sorted(seeds)))
    data = bytearray(seeds[name])
    others = list(seeds.values())
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "splice"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        else:
            other = draw(st.sampled_from(others))
            start = draw(st.integers(0, len(other)))
            piece = other[start : start + draw(st.integers(1, 200))]
            data[at : at + draw(st.integers(0, 50))] = piece
    return name, bytes(data)


# Warnings stay warnings here, as in the app (the suite otherwise turns them into errors).
pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(autouse=True)
def _quiet(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL)


@given(case=mutated(_FACILITY_SEEDS), fixed=st.booleans())
def test_mutated_facility_files_raise_only_our_errors(case: tuple[str, bytes], fixed: bool) -> None:
    name, data = case
    try:
        gdf, report = load_facilities(data, name=name, category="health_station" if fixed else None)
    except CoverageToolError as exc:
        assert name in str(exc)
        return
    # Whatever loads is accounted for: every row read is either kept or reported as rejected.
    assert report.n_ok == len(gdf)
    assert report.n_read == report.n_ok + report.rejected["row"].nunique()


@pytest.fixture(scope="module")
def net_seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return network_seeds(tmp_path_factory.mktemp("seeds"))


@given(data=st.data())
def test_mutated_network_files_raise_only_our_errors(
    data: st.DataObject, net_seeds: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory
) -> None:
    name, raw = data.draw(mutated(net_seeds))
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_bytes(raw)
    try:
        net = load_network(path, mode="walk")
    except CoverageToolError as exc:
        assert name in str(exc)
        return
    assert net.n_edges > 0
    assert (net.length >= 0).all()


def test_seeds_load() -> None:
    for name, raw in _FACILITY_SEEDS.items():
        gdf, report = load_facilities(raw, name=name, category="health_station")
        assert len(gdf) == 3, name
        assert report.rejected.empty, name
