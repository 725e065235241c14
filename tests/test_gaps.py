"""Gaps: uncovered demand clustered, counted, located and ranked."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from _lattice import CRS, gdf

from coverage.analysis import analyse
from coverage.gaps import GAP_COLUMNS, find_gaps
from geo.errors import ConfigError
from geo.network import lattice_network


@pytest.fixture(scope="module")
def result():
    net = lattice_network(31, 31, spacing=100.0)
    fac = gdf([(0, 0)], facility_id=["m"], category=["market"])
    pts = [(100, 0), (200, 0)]  # covered
    cluster_a = [(2000 + 40 * i, 2000) for i in range(5)]  # 5 points 40 m apart
    cluster_b = [(2800, 200), (2800, 260)]
    pts += cluster_a + cluster_b + [(1500, 2900)]
    pop = [9.0, 9.0] + [10.0] * 5 + [100.0, 50.0] + [1.0]
    comm = ["X", "X", "甲", "甲", "乙", "乙", "乙", "丙", "丙", ""]
    dem = gdf(pts, population=pop, elderly=[1.0] * len(pts), community=comm)
    return analyse(net, dem, fac)


def test_gaps_are_clustered_and_ranked(result) -> None:
    gaps = find_gaps(result, category="market", cluster_m=100)
    assert list(gaps.columns) == GAP_COLUMNS
    assert gaps.crs.to_epsg() == 4326
    assert gaps["uncovered_population"].tolist() == [150.0, 50.0, 1.0]
    assert gaps["rank"].tolist() == [1, 2, 3]
    assert gaps["gap_id"].iloc[0] == "market-001"
    assert gaps["n_points"].tolist() == [2, 5, 1]
    assert gaps["uncovered_elderly"].tolist() == [2.0, 5.0, 1.0]
    assert gaps["communities"].tolist() == ["丙", "乙、甲", ""]
    assert gaps["n_communities"].tolist() == [1, 2, 0]
    # lon/lat is a point inside each gap.
    inside = gpd.points_from_xy(gaps["lon"], gaps["lat"], crs=4326)
    assert all(g.contains(p) for g, p in zip(gaps.geometry, inside, strict=True))
    # Gap B: points at (2800, 200) and (2800, 260); weighted median of the network distances.
    assert gaps["nearest_facility_m"].iloc[0] == pytest.approx(3000.0)
    assert gaps["nearest_facility_max_m"].iloc[0] == pytest.approx(3060.0)
    # One point: a disc of radius cluster_m / 2.
    assert gaps["area_m2"].iloc[2] == pytest.approx(np.pi * 50**2, rel=0.01)
    proj = gaps.to_crs(CRS)
    assert proj.geometry.iloc[1].contains(gdf([(2080, 2000)]).geometry.iloc[0])


def test_min_population_and_no_gaps(result) -> None:
    gaps = find_gaps(result, category="market", cluster_m=100, min_population=40)
    assert len(gaps) == 2
    # A threshold that covers everyone leaves no gap.
    net = lattice_network(3, 3)
    r = analyse(net, gdf([(10, 0)], population=[1.0]), gdf([(0, 0)], category=["market"]))
    empty = find_gaps(r, category="market")
    assert len(empty) == 0 and list(empty.columns) == GAP_COLUMNS


def test_bad_arguments(result) -> None:
    with pytest.raises(ConfigError, match="not analysed"):
        find_gaps(result, category="fitness")
    with pytest.raises(ConfigError, match="cluster_m"):
        find_gaps(result, category="market", cluster_m=0)
