"""Basic/quality items and 达标 per community (issue 12 §2) on a street along y = 0.

Facilities sit at the origin, so a demand point's network distance is its ``x`` in metres.
Items and their thresholds (taxonomy defaults): market basic at min10 (500 m), childcare basic
at min5 (300 m), reading quality at min15 (15 min at 1.2 m/s = 1080 m), parking quality at min15
(300 m).
"""

from __future__ import annotations

import pytest
from _lattice import gdf

from coverage.analysis import analyse
from coverage.compliance import compliance, item_rules
from geo.errors import ConfigError
from geo.network import lattice_network

POINTS = [  # x, population, community, compound
    (200, 100, "A", "a1"),
    (250, 100, "A", "a2"),
    (400, 200, "B", "b1"),
    (600, 200, "B", "b1"),
    (1200, 300, "C", "c1"),
    (450, 50, "D", "d1"),
    (100, 50, "", ""),
]


@pytest.fixture(scope="module")
def result():
    net = lattice_network(16, 2, spacing=100.0)
    fac = gdf(
        [(0, 0)] * 4,
        facility_id=["m", "k", "r", "p"],
        category=["market", "childcare", "reading", "parking"],
    )
    dem = gdf(
        [(x, 0) for x, *_ in POINTS],
        demand_id=[f"d{i}" for i in range(len(POINTS))],
        population=[float(p) for _, p, _, _ in POINTS],
        community=[c for *_, c, _ in POINTS],
        compound=[c for *_, c in POINTS],
    )
    return analyse(net, dem, fac)


def test_item_rules_follow_the_taxonomy(result) -> None:
    rules = item_rules(result.categories, result.criteria)
    assert (rules["market"].tier, rules["market"].threshold_m) == ("min10", 500)
    assert (rules["childcare"].tier, rules["childcare"].threshold_m) == ("min5", 300)
    assert rules["reading"].threshold_m == pytest.approx(1080)
    job = item_rules(["job_service"], {"job_service": result.criteria["market"]})
    assert job["job_service"].tier == "criterion"  # no tier: judged at its criterion (500 m here)


def test_compliance_by_hand(result) -> None:
    comp = compliance(result)
    assert comp.items == {
        "parking": "quality",
        "childcare": "basic",
        "reading": "quality",
        "market": "basic",
    }
    g = comp.per_group.set_index("community")
    # A: 200 and 250 m reach everything; B: market 400 ✓ / 600 ✗ (share 0.5), childcare ✗,
    # reading ✓, parking ✗; C at 1200 m reaches nothing; D at 450 m: market and reading only.
    assert list(g["compliant"]) == [True, True, False, False, False]  # "", A, B, C, D
    assert g.loc["B", "market_coverage_rate"] == pytest.approx(0.5)
    assert g.loc["B", "basic_missing"] == "childcare,market"
    assert g.loc["B", "quality_reached"] == "reading"
    assert g.loc["B", "basic_score"] == pytest.approx((0.5 + 0.0) / 2)
    assert g.loc["D", "basic_missing"] == "childcare"
    assert g.loc["D", "quality_missing"] == "parking"
    # B's residents at 400 m reach the market but not childcare: nobody in B complies.
    assert g.loc["B", "compliant_population"] == 0
    s = comp.summary.iloc[0]
    # Complying points: 200, 250 (A) and 100 (unnamed): 100 + 100 + 50 = 250 of 1000 residents.
    assert s["population"] == 1000 and s["compliant_population"] == 250
    assert s["resident_share"] == pytest.approx(0.25)
    # Named communities A, B, C, D: only A complies.
    assert (s["n_groups"], s["n_compliant"]) == (4, 1)
    assert s["group_share"] == pytest.approx(0.25)
    # Least served: C and B lack 2 basic items (C's mean share 0 < B's 0.25), then D (1).
    least = comp.least_served
    assert list(least["community"]) == ["C", "B", "D", "A", ""]
    assert list(least["rank"]) == [1, 2, 3, 4, 5]
    assert least.iloc[0]["lacks_zh"] == (
        "基础保障：托育/幼儿园、菜市场/生鲜超市；品质提升：公共停车场、城市书房/图书馆"
    )
    assert least.iloc[2]["lacks_en"] == "basic: Childcare / kindergarten; quality: Public parking"
    assert comp.per_point["compliant"].tolist() == [True, True, False, False, False, False, True]


def test_min_share_items_and_overrides(result) -> None:
    half = compliance(result, min_share=0.5).per_group.set_index("community")
    assert half.loc["B", "basic_missing"] == "childcare"  # market reached by half of B
    basic_market = compliance(result, items={"childcare": "quality"})
    s = basic_market.summary.iloc[0]
    # Only the market is basic: points within 500 m comply: 100+100+200+50+50 = 500 of 1000.
    assert s["resident_share"] == pytest.approx(0.5)
    assert (s["n_compliant"], s["n_groups"]) == (2, 4)  # A and D
    wider = compliance(result, overrides={"childcare.min5": 450}).per_group.set_index("community")
    assert bool(wider.loc["D", "compliant"])  # 450 m now within childcare's threshold
    with pytest.raises(ConfigError, match="items must map"):
        compliance(result, items={"market": "luxury"})
    with pytest.raises(ConfigError, match="min_share") as caught:
        compliance(result, min_share=0)
    # The error is a catalogue message: English as text, planner Chinese on request.
    assert "0 到 1 之间" in caught.value.text("zh") and "min_share" not in caught.value.text("zh")


def test_by_compound(result) -> None:
    comp = compliance(result, by="compound")
    g = comp.per_group.set_index("compound")
    assert list(g.index) == ["", "a1", "a2", "b1", "c1", "d1"]
    assert bool(g.loc["a2", "compliant"]) and not bool(g.loc["b1", "compliant"])
    assert comp.summary.iloc[0]["n_groups"] == 5
    with pytest.raises(ConfigError, match="no 'block' column"):
        compliance(result, by="block")
