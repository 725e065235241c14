"""Service areas: analytic diamonds on lattices, nesting, splitting, holes, kinds."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pytest
import shapely

from coverage.analysis import analyse
from coverage.service_areas import SERVICE_AREA_COLUMNS, service_areas
from geo.errors import ConfigError
from geo.network import build_network, lattice_network

X0, Y0 = 500_000.0, 3_500_000.0
CRS = "EPSG:32650"


def fac_at(pts: list[tuple[float, float]], category: str = "market") -> gpd.GeoDataFrame:
    a = np.array(pts, dtype=float)
    return gpd.GeoDataFrame(
        {"facility_id": [f"f{i}" for i in range(len(a))], "category": category},
        geometry=gpd.points_from_xy(X0 + a[:, 0], Y0 + a[:, 1]),
        crs=CRS,
    )


def diamond_lines(cx: float, cy: float, t: float, n: int, spacing: float) -> shapely.Geometry:
    """Independent construction: lattice lines within Manhattan distance t of a node."""
    lines = []
    for k in range(n):
        c = k * spacing
        r = t - abs(c - cy)
        if r > 0:
            lines.append(
                shapely.LineString([(max(cx - r, 0), c), (min(cx + r, (n - 1) * spacing), c)])
            )
        r = t - abs(c - cx)
        if r > 0:
            lines.append(
                shapely.LineString([(c, max(cy - r, 0)), (c, min(cy + r, (n - 1) * spacing))])
            )
    return shapely.affinity.translate(shapely.MultiLineString(lines), X0, Y0)


@pytest.fixture(scope="module")
def net():
    return lattice_network(21, 21, spacing=100.0)


def projected(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf.to_crs(CRS)


def test_single_facility_is_the_buffered_diamond(net) -> None:
    sa = projected(
        service_areas(
            net,
            fac_at([(1000, 1000)]),
            category="market",
            thresholds_m=[450.0],
            kinds=["facility"],
            buffer_m=10,
            min_hole_m2=0,
        )
    )
    assert list(sa.columns) == SERVICE_AREA_COLUMNS
    geom = sa.geometry.iloc[0]
    # The streets reached within T − w (440 m), widened by w = 10 m: the shading ends at the
    # threshold (450 m) along every street, not w beyond it.
    expect = diamond_lines(1000, 1000, 440, 21, 100).buffer(10)
    # Arcs are polygonised differently in the two constructions: agree to 0.1 %.
    assert geom.area == pytest.approx(expect.area, rel=1e-3)
    assert geom.symmetric_difference(expect).area < 1e-3 * expect.area
    minx, miny, maxx, maxy = geom.bounds
    assert (minx, miny, maxx, maxy) == pytest.approx((X0 + 550, Y0 + 550, X0 + 1450, Y0 + 1450))
    assert sa["area_m2"].iloc[0] == pytest.approx(geom.area)
    assert sa["minutes"].iloc[0] == pytest.approx(450 / 1.2 / 60)


def test_rings_nest_and_holes_are_filled(net) -> None:
    sa = projected(
        service_areas(
            net,
            fac_at([(1000, 1000), (1330, 1000)]),
            category="market",
            thresholds_m=[250.0, 450.0, 700.0],
            buffer_m=10,
            min_hole_m2=10_000,
        )
    )
    for (kind, fid), g in sa.groupby(["kind", "facility_id"]):
        g = g.sort_values("threshold_m")
        geoms = g.geometry.to_list()
        for small, big in itertools.pairwise(geoms):
            assert small.difference(big).area < 1e-6, (kind, fid)
        for geom in geoms:
            assert all(len(p.interiors) == 0 for p in shapely.get_parts(geom)), (kind, fid)
    with_holes = projected(
        service_areas(
            net,
            fac_at([(1000, 1000)]),
            category="market",
            thresholds_m=[700.0],
            kinds=["facility"],
            buffer_m=10,
            min_hole_m2=0,
        )
    )
    assert sum(len(p.interiors) for p in shapely.get_parts(with_holes.geometry.iloc[0])) > 10


def test_nearest_split_and_dissolved(net) -> None:
    sa = projected(
        service_areas(
            net,
            fac_at([(1000, 1000), (1450, 1000)]),
            category="market",
            thresholds_m=[300.0],
            buffer_m=10,
            min_hole_m2=0,
        )
    )
    near = sa[sa["kind"] == "nearest"].set_index("facility_id").geometry
    diss = sa[sa["kind"] == "dissolved"].geometry.iloc[0]
    fac = sa[sa["kind"] == "facility"].set_index("facility_id").geometry
    # The owners meet halfway between them (x = 1225), each side buffered by 10 m.
    assert near["f0"].bounds[2] == pytest.approx(X0 + 1235)
    assert near["f1"].bounds[0] == pytest.approx(X0 + 1215)
    assert near["f0"].union(near["f1"]).symmetric_difference(diss).area < 1e-3
    assert fac["f0"].union(fac["f1"]).symmetric_difference(diss).area < 1e-3
    assert sa[sa["kind"] == "dissolved"]["facility_id"].iloc[0] == ""
    # Facility f1 sits mid-edge: it reaches 300 m both ways along its own edge, and the shading
    # ends there (290 m of street plus the 10 m round end).
    assert fac["f1"].bounds[0] == pytest.approx(X0 + 1150)
    assert fac["f1"].bounds[2] == pytest.approx(X0 + 1750)


def test_from_result_equals_from_facilities(net) -> None:
    fac = fac_at([(300, 300), (1500, 1200)])
    dem = gpd.GeoDataFrame(
        {"population": [1.0]}, geometry=gpd.points_from_xy([X0 + 700], [Y0 + 700]), crs=CRS
    )
    res = analyse(net, dem, fac)
    a = service_areas(net, res, category="market", thresholds_m=[500.0], buffer_m=15)
    b = service_areas(net, fac, category="market", thresholds_m=[500.0], buffer_m=15)
    assert len(a) == len(b) == 5
    np.testing.assert_allclose(a["area_m2"], b["area_m2"], rtol=1e-9)
    assert a.crs.to_epsg() == 4326


def test_no_islands_on_other_components() -> None:
    net = build_network(
        x=np.array([X0, X0 + 100, X0 + 200, X0 + 100, X0 + 130]),
        y=np.array([Y0, Y0, Y0, Y0 + 50, Y0 + 50]),
        u=np.array([0, 1, 3]),
        v=np.array([1, 2, 4]),
        crs=CRS,
        keep_largest=False,
    )
    sa = projected(
        service_areas(
            net,
            fac_at([(0, 0)]),
            category="market",
            thresholds_m=[1000.0],
            kinds=["facility"],
            buffer_m=5,
            min_hole_m2=0,
        )
    )
    geom = sa.geometry.iloc[0]
    # The short street at y=50 is 50 m away in a straight line but unreachable.
    assert not geom.intersects(shapely.Point(X0 + 115, Y0 + 50))
    assert geom.area == pytest.approx(200 * 10 + np.pi * 25, rel=1e-2)


def test_bad_arguments(net) -> None:
    with pytest.raises(ConfigError, match="kinds"):
        service_areas(net, fac_at([(0, 0)]), category="market", thresholds_m=[100.0], kinds=["x"])
    with pytest.raises(ConfigError, match="thresholds"):
        service_areas(net, fac_at([(0, 0)]), category="market", thresholds_m=[0.0])
    empty = service_areas(net, fac_at([(0, 0)]), category="fitness", thresholds_m=[100.0])
    assert len(empty) == 0 and list(empty.columns) == SERVICE_AREA_COLUMNS


def test_dissolved_is_the_same_by_either_route(net) -> None:
    fac = fac_at([(1000, 1000), (1330, 1000), (400, 1500)])
    kw = {"category": "market", "thresholds_m": [300.0, 650.0], "buffer_m": 20.0}
    a = projected(service_areas(net, fac, kinds=("facility", "dissolved"), **kw))
    b = projected(service_areas(net, fac, kinds=("dissolved",), **kw))
    da = a[a["kind"] == "dissolved"].sort_values("threshold_m").geometry.to_list()
    db = b.sort_values("threshold_m").geometry.to_list()
    for ga, gb in zip(da, db, strict=True):
        assert ga.symmetric_difference(gb).area < 1e-3 * gb.area


def test_shading_does_not_claim_residents_beyond_the_threshold() -> None:
    # On the demo, residents inside a category's shaded area who are counted as uncovered are
    # only those just past the threshold diagonally off a street's end: at most (√2 − 1)·w over.
    from coverage.analysis import analyse
    from geo import settings
    from study.demo import load_demo

    demo = load_demo("synthetic")
    cats = ["childcare", "market", "parking", "elderly_care", "elderly_canteen"]
    res = analyse(demo.network, demo.demand, demo.facilities, categories=cats)
    w = settings.service_area_buffer_m
    for cat in cats:
        t = res.criteria[cat].threshold_m
        area = service_areas(demo.network, res, category=cat, thresholds_m=[t], kinds=["dissolved"])
        dem = res.demand
        uncovered = dem[~dem[f"{cat}_covered"].astype(bool)]
        inside = uncovered[uncovered.within(area.geometry.iloc[0])]
        over = inside[f"{cat}_distance_m"] - t
        assert (over <= (np.sqrt(2) - 1) * w + 1.0).all(), (cat, over.max())
