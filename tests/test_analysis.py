"""analyse(): covered sets, edge cases and the summary table, on lattices with known answers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from coverage.analysis import analyse, resolve_criteria
from coverage.summary import SUMMARY_COLUMNS, weighted_quantile
from geo.errors import CategoryError, ColumnNotFoundError, ConfigError
from geo.network import build_network, lattice_network
from geo.taxonomy import Criterion

X0, Y0 = 500_000.0, 3_500_000.0
CRS = "EPSG:32650"


def points(pts: list[tuple[float, float]], **cols: object) -> gpd.GeoDataFrame:
    a = np.array(pts, dtype=float)
    return gpd.GeoDataFrame(
        dict(cols), geometry=gpd.points_from_xy(X0 + a[:, 0], Y0 + a[:, 1]), crs=CRS
    )


@pytest.fixture
def net():
    return lattice_network(11, 11, spacing=100.0)


def test_covered_set_and_exact_threshold(net) -> None:
    # market: 500 m network distance. Facility on node (0, 0).
    fac = points([(0, 0)], facility_id=["m1"], name=["菜场"], category=["market"])
    dem = points(
        [(300, 200), (300, 201), (250, 250), (0, 500), (100, 0)],
        population=[10.0, 20.0, 30.0, 40.0, 50.0],
        elderly=[1.0, 2.0, np.nan, 4.0, 5.0],
        community=["A", "A", "B", "B", ""],
    )
    r = analyse(net, dem, fac)
    d = r.demand
    # (300, 200) is a node exactly 500 m away: covered. (300, 201) is 1 m further.
    np.testing.assert_allclose(d["market_distance_m"], [500, 501, 500, 500, 100], atol=1e-6)
    assert d["market_covered"].tolist() == [True, False, True, True, True]
    assert d["market_facility_id"].tolist() == ["m1"] * 5
    assert d["market_facility_name"].iloc[0] == "菜场"
    np.testing.assert_allclose(d["market_minutes"], d["market_distance_m"] / 1.2 / 60)
    np.testing.assert_allclose(d["market_euclid_m"].iloc[0], np.hypot(300, 200))
    assert (d["market_detour"] >= 1 - 1e-12).all()
    row = r.summary.iloc[0]
    assert list(r.summary.columns) == SUMMARY_COLUMNS
    assert row["population"] == 150 and row["covered_population"] == 130
    assert row["coverage_rate"] == pytest.approx(130 / 150)
    assert row["elderly_population"] == 12 and row["covered_elderly"] == 10
    assert row["covered_points"] == 4 and row["n_facilities"] == 1
    # Every point is within 500 m in a straight line: the buffer would claim all of them.
    assert row["buffer_coverage_rate"] == pytest.approx(1.0)
    assert row["n_communities"] == 2 and row["covered_communities"] == 1
    assert row["median_minutes"] == pytest.approx(500 / 1.2 / 60)


def test_category_without_facilities_and_unsnapped_demand(net) -> None:
    fac = points([(0, 0)], facility_id=["m1"], category=["market"])
    dem = points([(100, 0), (3000, 3000)], population=[5.0, 7.0], demand_id=["a", "far"])
    r = analyse(net, dem, fac, categories=["market", "childcare"], tolerance_m=200)
    d = r.demand
    assert d["snapped"].tolist() == [True, False]
    assert np.isinf(d["market_distance_m"].iloc[1]) and not d["market_covered"].iloc[1]
    assert np.isinf(d["childcare_distance_m"]).all() and not d["childcare_covered"].any()
    assert d["childcare_facility_id"].isna().all()
    assert r.unsnapped["kind"].tolist() == ["demand"]
    assert r.unsnapped["id"].tolist() == ["far"]
    assert r.unsnapped["distance_m"].iloc[0] > 200
    cc = r.summary.set_index("category").loc["childcare"]
    assert cc["n_facilities"] == 0 and cc["coverage_rate"] == 0 and np.isnan(cc["median_minutes"])
    assert (r.node_source["childcare"] == -1).all()


def test_facility_on_isolated_component() -> None:
    net = build_network(
        x=np.array([X0, X0 + 100, X0 + 5000, X0 + 5100]),
        y=np.full(4, Y0),
        u=np.array([0, 2]),
        v=np.array([1, 3]),
        crs=CRS,
        keep_largest=False,
    )
    fac = points([(5050, 0)], facility_id=["island"], category=["market"])
    dem = points([(50, 0), (5000, 0)], population=[1.0, 1.0])
    r = analyse(net, dem, fac)
    assert np.isinf(r.demand["market_distance_m"].iloc[0])
    assert r.demand["market_covered"].tolist() == [False, True]
    assert r.node_source["market"].tolist() == [-1, -1, 0, 0]


def test_criteria_overrides(net) -> None:
    fac = points([(0, 0)], facility_id=["h"], category=["health_station"])
    dem = points([(400, 0), (900, 0)], population=[1.0, 1.0])
    r = analyse(
        net,
        dem,
        fac,
        criteria={"health_station": {"minutes": 5, "speed": 1.5}},
    )
    crit = r.criteria["health_station"]
    assert crit.threshold_m == pytest.approx(450)
    assert r.demand["health_station_covered"].tolist() == [True, False]
    r2 = analyse(net, dem, fac, criteria={"health_station": Criterion(minutes=None, metres=1000)})
    assert r2.demand["health_station_covered"].tolist() == [True, True]
    assert r2.summary["threshold_m"].iloc[0] == 1000
    with pytest.raises(ConfigError, match="not analysed"):
        resolve_criteria(["market"], {"fitness": {"minutes": 5}})


def test_input_errors(net) -> None:
    fac = points([(0, 0)], category=["market"])
    with pytest.raises(ColumnNotFoundError, match="population"):
        analyse(net, points([(0, 0)]), fac)
    with pytest.raises(CategoryError, match="unknown key"):
        analyse(net, points([(0, 0)], population=[1.0]), fac, categories=["nope"])


def test_result_is_wgs84_and_inputs_untouched(net) -> None:
    fac = points([(0, 0)], category=["market"])
    dem = points([(100, 0)], population=[1.0])
    before = dem.copy()
    r = analyse(net, dem, fac)
    assert r.demand.crs.to_epsg() == 4326 and r.facilities.crs.to_epsg() == 4326
    pd.testing.assert_frame_equal(pd.DataFrame(dem), pd.DataFrame(before))
    assert r.facilities["snapped"].all()


def test_progress_is_reported(net) -> None:
    seen: list[tuple[str, float]] = []
    fac = points([(0, 0)], category=["market"])
    analyse(
        net, points([(100, 0)], population=[1.0]), fac, progress=lambda s, f: seen.append((s, f))
    )
    assert seen[-1] == ("done", 1.0) and len(seen) >= 3


def test_weighted_quantile() -> None:
    assert weighted_quantile(np.array([1.0, 2.0, 3.0]), np.array([0.0, 0.0, 1.0]), 0.5) == 3.0
    assert weighted_quantile(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0]), 0.5) == 2.0
    assert np.isnan(weighted_quantile(np.array([]), np.array([]), 0.5))
