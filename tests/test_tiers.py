"""Living-circle tiers (issue 12 §1, §4): tier rates and subgroup rates on a small lattice.

The lattice is a street along y = 0 with 100 m blocks; every demand point sits on it at ``x``
metres from the facilities at the origin, so its network distance is ``x``.
"""

from __future__ import annotations

import numpy as np
import pytest
from _lattice import gdf, lattice_demand

from coverage.analysis import analyse
from coverage.tiers import (
    TIER_COLUMNS,
    check_distances,
    required_search_m,
    tier_by_community,
    tier_rules,
    tier_table,
    tier_wide,
)
from geo.demand import demand_from_table
from geo.errors import ConfigError
from geo.network import lattice_network


@pytest.fixture(scope="module")
def result():
    net = lattice_network(16, 2, spacing=100.0)
    fac = gdf([(0, 0), (0, 0)], facility_id=["f", "k"], category=["fitness", "childcare"])
    dem = gdf(
        [(200, 0), (400, 0), (800, 0), (1200, 0)],
        demand_id=["a1", "b1", "b2", "a2"],
        population=[100.0, 200.0, 300.0, 400.0],
        elderly=[10.0, 30.0, 50.0, 60.0],
        children=[20.0, np.nan, 40.0, 60.0],
        community=["A", "B", "B", "A"],
    )
    return analyse(net, dem, fac)


def _row(table, category, tier):
    rows = table[(table["category"] == category) & (table["tier"] == tier)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_tier_table_rates_by_hand(result) -> None:
    table = tier_table(result)
    assert list(table.columns) == TIER_COLUMNS
    # fitness belongs to min15 (1000 m), min10 (500 m), min5 (300 m); childcare to min5 (300 m).
    assert sorted(zip(table["category"], table["tier"], strict=True)) == [
        ("childcare", "min5"),
        ("fitness", "min10"),
        ("fitness", "min15"),
        ("fitness", "min5"),
    ]
    # population 100 + 200 + 300 + 400 = 1000; elderly 150; children known 20 + 40 + 60 = 120.
    m5 = _row(table, "fitness", "min5")  # within 300 m: x = 200 only
    assert m5["threshold_m"] == 300 and m5["minutes"] == 5
    assert m5["covered_population"] == 100
    assert m5["coverage_rate"] == pytest.approx(100 / 1000)
    assert m5["elderly_coverage_rate"] == pytest.approx(10 / 150)
    assert m5["children_coverage_rate"] == pytest.approx(20 / 120)
    assert np.isnan(m5["infants_coverage_rate"])  # no infants column
    m10 = _row(table, "fitness", "min10")  # within 500 m: x = 200, 400
    assert m10["coverage_rate"] == pytest.approx(300 / 1000)
    assert m10["elderly_coverage_rate"] == pytest.approx(40 / 150)
    assert m10["children_coverage_rate"] == pytest.approx(20 / 120)  # x = 400 unknown
    m15 = _row(table, "fitness", "min15")  # within 1000 m: x = 200, 400, 800
    assert m15["coverage_rate"] == pytest.approx(600 / 1000)
    assert m15["elderly_coverage_rate"] == pytest.approx(90 / 150)
    assert m15["children_coverage_rate"] == pytest.approx(60 / 120)
    assert m15["covered_points"] == 3 and m15["n_points"] == 4
    assert m15["status"] == "[M]" and "GB 50180" in m15["source"]
    # childcare is judged on children by default.
    cc = _row(table, "childcare", "min5")
    assert cc["subgroup"] == "children"
    assert cc["subgroup_coverage_rate"] == pytest.approx(20 / 120)
    assert m15["subgroup"] == "all" and m15["subgroup_coverage_rate"] == m15["coverage_rate"]


def test_tier_beyond_the_criterion_reads_true_distances(result) -> None:
    # childcare's criterion is 300 m; judged at the 15-minute tier (1000 m) the point at 800 m
    # is covered although the criterion says not.
    assert not result.demand.loc[2, "childcare_covered"]
    table = tier_table(result, tiers={"childcare": ["min5", "min15"]}, categories=["childcare"])
    m15 = _row(table, "childcare", "min15")
    assert m15["threshold_m"] == 1000
    assert m15["coverage_rate"] == pytest.approx(600 / 1000)
    assert m15["children_coverage_rate"] == pytest.approx(60 / 120)
    rules = tier_rules(["childcare"], tiers={"childcare": ["min5", "min15"]})
    # The childcare criterion is 300 m, so the 1000 m tier sets the radius; fitness's 15 min at
    # 1.2 m/s (1080 m) does when it is included.
    assert required_search_m(rules, {"childcare": result.criteria["childcare"]}) == 1000
    assert required_search_m(rules, result.criteria) == pytest.approx(1080)
    check_distances(result, rules)  # unlimited search: fine
    with pytest.raises(ConfigError, match="search stopped at 300"):
        check_distances(result, rules, search_limit_m=300)


def test_run_overrides_win(result) -> None:
    table = tier_table(
        result,
        overrides={"min10": 350, "fitness.min15": {"minutes": 10, "profile": "planning"}},
        categories=["fitness"],
    )
    assert _row(table, "fitness", "min10")["coverage_rate"] == pytest.approx(100 / 1000)
    m15 = _row(table, "fitness", "min15")
    # 10 min at 1.0 m/s = 600 m: x = 200, 400 covered.
    assert m15["threshold_m"] == pytest.approx(600)
    assert m15["minutes"] == 10
    assert m15["coverage_rate"] == pytest.approx(300 / 1000)
    assert m15["source"] == "run override"
    only = tier_table(result, tiers=["min5"])
    assert set(only["tier"]) == {"min5"}
    with pytest.raises(ConfigError, match="unknown key 'min7'"):
        tier_table(result, overrides={"min7": 100})
    with pytest.raises(ConfigError, match="metres or minutes"):
        tier_table(result, overrides={"min5": {"feet": 3}})


def test_tier_by_community_by_hand(result) -> None:
    by = tier_by_community(result, categories=["fitness"])
    assert list(by.columns) == ["community", *TIER_COLUMNS]
    a = by[(by["community"] == "A") & (by["tier"] == "min15")].iloc[0]
    b = by[(by["community"] == "B") & (by["tier"] == "min15")].iloc[0]
    # A: x = 200 (100, covered), 1200 (400, not); B: x = 400 (200), 800 (300), both covered.
    assert a["population"] == 500 and a["coverage_rate"] == pytest.approx(100 / 500)
    assert a["elderly_coverage_rate"] == pytest.approx(10 / 70)
    assert a["children_coverage_rate"] == pytest.approx(20 / 80)
    assert b["coverage_rate"] == pytest.approx(1.0)
    assert b["children_coverage_rate"] == pytest.approx(1.0)  # only x = 800 known: 40 / 40
    assert len(by) == 2 * 3
    with pytest.raises(ConfigError, match="no 'compound' column"):
        tier_by_community(result, by="compound")


def test_demand_table_keeps_children_and_infants(tmp_path) -> None:
    path = tmp_path / "communities.csv"
    path.write_text(
        "社区,经度,纬度,常住人口,60岁以上人口,0-14岁人口,0-3岁人口\n"
        "甲,118.78,32.04,1000,200,150,30\n"
        "乙,118.79,32.05,2000,300,不详,40\n",
        encoding="utf-8",
    )
    dem, report = demand_from_table(path)
    assert report.detected["children"] == "0-14岁人口"
    assert report.detected["infants"] == "0-3岁人口"
    assert report.detected["population"] == "常住人口"
    assert dem["children"].dtype == "float64" and dem["infants"].dtype == "float64"
    assert dem["children"].iloc[0] == 150 and np.isnan(dem["children"].iloc[1])
    assert list(dem["infants"]) == [30.0, 40.0]
    assert any("0–14" in w and "not a number" in w for w in report.warnings)
    plain = tmp_path / "plain.csv"
    plain.write_text("社区,经度,纬度,人口\n甲,118.78,32.04,10\n", encoding="utf-8")
    dem2, _ = demand_from_table(plain)
    assert "children" not in dem2.columns and "infants" not in dem2.columns


def test_tier_wide_one_row_per_community(result) -> None:
    wide = tier_wide(tier_by_community(result, categories=["fitness"]))
    assert list(wide["community"]) == ["A", "B"]
    assert wide.columns[1:5].tolist() == [
        "fitness_min15_coverage_rate",
        "fitness_min15_elderly_coverage_rate",
        "fitness_min15_children_coverage_rate",
        "fitness_min15_infants_coverage_rate",
    ]
    assert wide.loc[0, "fitness_min15_coverage_rate"] == pytest.approx(100 / 500)
    assert wide.loc[1, "fitness_min5_coverage_rate"] == pytest.approx(0.0)


def test_tier_at_the_criterion_equals_the_summary() -> None:
    # Cross-check against analyse's own rates: a tier threshold equal to the criterion (market
    # 500 m; elderly care 300 m) must give the summary's coverage and elderly rates.
    net = lattice_network(21, 21, spacing=100.0)
    dem = lattice_demand(
        net, n=300, extent_m=2000, seed=3, max_population=400, elderly_share=0.2, n_communities=5
    )
    fac = gdf(
        [(300, 300), (1500, 900), (700, 1700), (1200, 1200)],
        category=["market", "market", "elderly_care", "elderly_care"],
    )
    res = analyse(net, dem, fac)
    table = tier_table(res, tiers={"market": ["min10"], "elderly_care": ["min5"]})
    summary = res.summary.set_index("category")
    for cat, tier in (("market", "min10"), ("elderly_care", "min5")):
        row = _row(table, cat, tier)
        assert row["threshold_m"] == res.criteria[cat].threshold_m
        assert row["coverage_rate"] == pytest.approx(summary.loc[cat, "coverage_rate"])
        assert row["elderly_coverage_rate"] == pytest.approx(
            summary.loc[cat, "elderly_coverage_rate"]
        )
        assert 0 < row["coverage_rate"] < 1
