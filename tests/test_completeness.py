"""设施完备度: counts, weighted scores and complete-set shares per point and community."""

from __future__ import annotations

import numpy as np
import pytest
from _lattice import gdf

from coverage.analysis import analyse
from coverage.completeness import completeness
from geo.errors import ConfigError
from geo.network import lattice_network


@pytest.fixture(scope="module")
def result():
    net = lattice_network(21, 21, spacing=100.0)
    # market 500 m, childcare 300 m.
    fac = gdf([(0, 0), (0, 0)], facility_id=["m", "c"], category=["market", "childcare"])
    dem = gdf(
        [(100, 0), (400, 0), (1500, 0), (200, 0)],
        population=[10.0, 20.0, 30.0, 0.0],
        community=["A", "A", "B", "B"],
    )
    return analyse(net, dem, fac)


def test_per_point(result) -> None:
    pp, _ = completeness(result)
    assert pp["n_within"].tolist() == [2, 1, 0, 2]
    np.testing.assert_allclose(pp["score"], [1.0, 0.5, 0.0, 1.0])
    assert pp["complete"].tolist() == [True, False, False, True]
    assert pp["missing"].tolist() == ["", "childcare", "childcare,market", ""]
    pw, _ = completeness(result, weights={"market": 3.0, "childcare": 1.0})
    np.testing.assert_allclose(pw["score"], [1.0, 0.75, 0.0, 1.0])


def test_per_community(result) -> None:
    _, pc = completeness(result)
    pc = pc.set_index("community")
    assert pc.loc["A", "population"] == 30 and pc.loc["A", "n_points"] == 2
    assert pc.loc["A", "score"] == pytest.approx((10 * 1.0 + 20 * 0.5) / 30)
    assert pc.loc["A", "complete_share"] == pytest.approx(10 / 30)
    assert pc.loc["B", "complete_share"] == pytest.approx(0.0)
    assert pc.loc["A", "market_coverage_rate"] == pytest.approx(1.0)
    assert pc.loc["A", "childcare_coverage_rate"] == pytest.approx(10 / 30)
    # Sorted lowest score first.
    assert completeness(result)[1]["community"].iloc[0] == "B"


def test_subset_and_errors(result) -> None:
    pp, _ = completeness(result, categories=["market"])
    assert pp["complete"].tolist() == [True, True, False, True]
    with pytest.raises(ConfigError, match="not analysed"):
        completeness(result, categories=["fitness"])
    with pytest.raises(ConfigError, match="weights"):
        completeness(result, weights={"market": -1.0})
