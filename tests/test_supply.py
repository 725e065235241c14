"""Supply per 1,000 residents (issue 12 §3) on a street along y = 0 with 100 m blocks.

Childcare (target 4.5 托位 per 1000 residents [V], catchment = its 5-minute tier, 300 m):
K1 at x = 0 (9 places), K2 at x = 1000 (6 places), K3 at x = 1400 (capacity unknown).
Residents: A at x = 0 (1000) and x = 100 (1000); B at x = 200 (1000) and x = 1000 (2000).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from _lattice import CRS, X0, Y0, gdf

from coverage.analysis import analyse
from coverage.supply import DISTRICT, SUPPLY_COLUMNS, supply_table, unmet_supply_weights
from geo.errors import ConfigError
from geo.network import lattice_network
from geo.taxonomy import SupplyTarget


def gauss(d: float, d0: float = 300.0) -> float:
    """Dai's Gaussian decay, written out (standards.md, indicator 4)."""
    e = math.exp(-0.5)
    return (math.exp(-0.5 * (d / d0) ** 2) - e) / (1 - e) if d <= d0 else 0.0


@pytest.fixture(scope="module")
def case():
    net = lattice_network(16, 2, spacing=100.0)
    fac = gdf(
        [(0, 0), (1000, 0), (1400, 0)],
        facility_id=["K1", "K2", "K3"],
        category=["childcare"] * 3,
        capacity=[9.0, 6.0, np.nan],
    )
    dem = gdf(
        [(0, 0), (100, 0), (200, 0), (1000, 0)],
        demand_id=["a0", "a1", "b2", "b10"],
        population=[1000.0, 1000.0, 1000.0, 2000.0],
        community=["A", "A", "B", "B"],
    )
    return net, analyse(net, dem, fac)


def _hand():
    # K1 serves x = 0, 100, 200 (weights 1, gauss(100), gauss(200)); K2 serves x = 1000 only (1);
    # K3 has no capacity (0). R_j = S_j / Σ G·P.
    r1 = 9 / (1000 * (1 + gauss(100) + gauss(200)))
    r2 = 6 / 2000
    a = {0: r1, 100: gauss(100) * r1, 200: gauss(200) * r1, 1000: r2}
    return r1, r2, a


def test_supply_table_by_hand(case) -> None:
    net, result = case
    table = supply_table(net, result)
    assert list(table.columns) == SUPPLY_COLUMNS
    assert list(table["community"]) == ["A", "B", DISTRICT]
    t = table.set_index("community")
    _, _, a = _hand()
    # per_1000: A holds K1 (9) for 2000 residents = 4.5; B holds K2 + K3 (6 + unknown) for 3000.
    assert t.loc["A", "capacity"] == 9 and t.loc["A", "per_1000"] == pytest.approx(4.5)
    assert t.loc["B", "per_1000"] == pytest.approx(6 / 3000 * 1000)
    assert t.loc[DISTRICT, "per_1000"] == pytest.approx(15 / 5000 * 1000)
    assert (t.loc["B", "n_facilities"], t.loc["B", "n_capacity_unknown"]) == (2, 1)
    assert t.loc[DISTRICT, "n_facilities"] == 3
    # reachable: population-weighted mean of A_i, × 1000.
    reach_a = (1000 * a[0] + 1000 * a[100]) / 2000 * 1000
    reach_b = (1000 * a[200] + 2000 * a[1000]) / 3000 * 1000
    assert t.loc["A", "reachable_per_1000"] == pytest.approx(reach_a)
    assert t.loc["B", "reachable_per_1000"] == pytest.approx(reach_b)
    # 2SFCA conserves supply when every resident is in some catchment: Σ P·A = Σ S = 15.
    assert t.loc[DISTRICT, "reachable_per_1000"] == pytest.approx(15 / 5000 * 1000)
    assert t.loc["A", "target_per_1000"] == 4.5 and t.loc["A", "target_status"] == "[V]"
    assert list(table["meets_target"]) == [True, False, False]  # 4.5 ≥ 4.5; 2.0; 3.0
    assert t.loc["A", "catchment_m"] == 300
    # households at 2.62 persons: per 100 households = capacity / (residents / 2.62) × 100.
    assert t.loc["A", "per_100_households"] == pytest.approx(9 / (2000 / 2.62) * 100)
    on_reach = supply_table(net, result, judge_on="reachable_per_1000").set_index("community")
    assert bool(on_reach.loc["A", "meets_target"]) == (reach_a >= 4.5)


def test_targets_polygons_and_households(case) -> None:
    net, result = case
    # Polygons put K1 in A (x < 150) and K2, K3 in B: the same as the nearest-resident rule.
    polys = gpd.GeoDataFrame(
        {"community": ["A", "B"]},
        geometry=[
            shapely.box(X0 - 50, Y0 - 50, X0 + 150, Y0 + 50),
            shapely.box(X0 + 150, Y0 - 50, X0 + 1500, Y0 + 50),
        ],
        crs=CRS,
    )
    a = supply_table(net, result, communities=polys)
    b = supply_table(net, result)
    assert a["capacity"].tolist() == b["capacity"].tolist()
    # A per-100-household target of 2 at 2.5 persons is 2 per 250 residents = 8 per 1000.
    hh = supply_table(
        net,
        result,
        targets={"childcare": SupplyTarget(value=2, per="100 households")},
        persons_per_household=2.5,
    )
    assert hh["target_per_1000"].iloc[0] == pytest.approx(8.0)
    assert not hh["meets_target"].any()
    plain = supply_table(net, result, targets={"childcare": 3.0}).set_index("community")
    assert bool(plain.loc["B", "meets_target"]) is False and bool(
        plain.loc[DISTRICT, "meets_target"]
    )
    none = supply_table(net, result, targets={"childcare": None})
    assert none["meets_target"].isna().all() and none["target_per_1000"].isna().all()
    with pytest.raises(ConfigError, match="judge_on"):
        supply_table(net, result, judge_on="vibes")
    with pytest.raises(ConfigError, match="not evaluated"):
        supply_table(net, result, targets={"market": 1.0})


def test_unmet_supply_weights_by_hand(case) -> None:
    net, result = case
    _, _, a = _hand()
    w = unmet_supply_weights(net, result, category="childcare")
    assert w.name == "unmet_weight" and list(w.index) == list(result.demand.index)
    t = 4.5 / 1000  # target per resident
    expected = [
        1000 * max(0.0, 1 - a[0] / t),
        1000 * max(0.0, 1 - a[100] / t),
        1000 * max(0.0, 1 - a[200] / t),
        2000 * max(0.0, 1 - a[1000] / t),  # 2000 × (1 − 0.003 / 0.0045) = 666.7
    ]
    assert w.to_numpy() == pytest.approx(expected)
    assert w.iloc[3] == pytest.approx(2000 / 3)
    # A low target everyone meets weighs nothing.
    assert unmet_supply_weights(net, result, category="childcare", target_per_1000=0.1).sum() == 0
    with pytest.raises(ConfigError, match="not analysed"):
        unmet_supply_weights(net, result, category="market")
