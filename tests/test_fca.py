"""Gaussian 2SFCA checked against the formula on a hand-computable case."""

from __future__ import annotations

import numpy as np
import pytest
from _lattice import gdf

from coverage.analysis import analyse
from coverage.fca import gaussian_weight, two_step_fca
from geo.errors import ConfigError
from geo.network import lattice_network


def test_gaussian_weight() -> None:
    g = gaussian_weight(np.array([0.0, 500.0, 1000.0, 1500.0]), 1000.0)
    assert g[0] == pytest.approx(1.0) and g[2] == pytest.approx(0.0) and g[3] == 0.0
    e = np.exp(-0.5)
    assert g[1] == pytest.approx((np.exp(-0.125) - e) / (1 - e))


def test_two_step_fca_matches_formula() -> None:
    net = lattice_network(21, 1, spacing=100.0)
    fac = gdf(
        [(0, 0), (1000, 0), (2000, 0)],
        facility_id=["a", "b", "z"],
        category="market",
        capacity=[10.0, np.nan, 5.0],
    )
    dem = gdf([(200, 0), (700, 0), (1900, 0)], population=[100.0, 50.0, 0.0])
    res = analyse(net, dem, fac)
    per_fac, per_pt = two_step_fca(net, res, category="market")  # d0 = 500 m
    G = lambda d: gaussian_weight(np.array([d]), 500.0)[0]  # noqa: E731
    dem_a = G(200) * 100
    dem_b = G(300) * 50
    assert per_fac["weighted_demand"].iloc[0] == pytest.approx(dem_a)
    assert per_fac["ratio"].iloc[0] == pytest.approx(10 / dem_a)
    # Missing capacity counts as one facility.
    assert per_fac["supply"].iloc[1] == 1.0
    assert per_fac["ratio"].iloc[1] == pytest.approx(1 / dem_b)
    # Nobody in z's catchment has residents: R = NaN, load NaN.
    assert np.isnan(per_fac["ratio"].iloc[2])
    np.testing.assert_allclose(per_pt["accessibility"], [G(200) * 10 / dem_a, G(300) / dem_b, 0.0])
    assert per_pt["n_facilities"].tolist() == [1, 1, 1]
    region = 16.0 / 150.0
    assert per_pt["accessibility_index"].iloc[0] == pytest.approx(
        per_pt["accessibility"].iloc[0] / region
    )


def test_errors() -> None:
    net = lattice_network(3, 1)
    res = analyse(net, gdf([(0, 0)], population=[1.0]), gdf([(0, 0)], category=["market"]))
    with pytest.raises(ConfigError):
        two_step_fca(net, res, category="fitness")
    with pytest.raises(ConfigError):
        two_step_fca(net, res, category="market", weight="cars")
