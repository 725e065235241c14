"""The living-circle evaluation reaches the outputs: tiers.csv, supply.csv, communities.csv."""

from __future__ import annotations

import pandas as pd
import pytest

import cli
from coverage.supply import SUPPLY_COLUMNS
from coverage.tiers import TIER_COLUMNS


def test_demo_run_writes_the_evaluation(tmp_path):
    cfg = tmp_path / "demo.toml"
    cfg.write_text(
        'demo = "synthetic"\n[analysis]\nservice_areas = false\n'
        '[evaluation]\noverrides = { "childcare.min5" = 250 }\n',
        "utf-8",
    )
    assert cli.main(["-q", "run", str(cfg), "--out", str(tmp_path / "o")]) == 0
    out = tmp_path / "o"
    tiers = pd.read_csv(out / "tiers.csv")
    assert list(tiers.columns) == list(TIER_COLUMNS)
    summary = pd.read_csv(out / "summary.csv").set_index("category")
    # The district's override is used, and rates are shares of the same residents.
    child = tiers[(tiers["category"] == "childcare") & (tiers["tier"] == "min5")]
    assert child["threshold_m"].iloc[0] == pytest.approx(250.0)
    assert (tiers["population"] == tiers["category"].map(summary["population"])).all()
    assert tiers["coverage_rate"].between(0, 1).all()
    supply = pd.read_csv(out / "supply.csv")
    assert list(supply.columns) == list(SUPPLY_COLUMNS)
    assert "全区" in set(supply["community"])
    comm = pd.read_csv(out / "communities.csv")
    assert {"compliant", "basic_missing", "quality_missing"} <= set(comm.columns)
    ranked = pd.read_csv(out / "least_served.csv")
    assert list(ranked["rank"]) == list(range(1, len(ranked) + 1))
    assert set(ranked["community"]) <= set(comm["community"])


def test_summary_reports_children_rates_when_the_table_has_them():
    import numpy as np

    from coverage.analysis import analyse
    from study.demo import load_demo

    demo = load_demo("synthetic")
    demand = demo.demand.copy()
    rng = np.random.default_rng(1)
    demand["children"] = np.round(demand["population"] * rng.uniform(0.05, 0.25, len(demand)))
    res = analyse(demo.network, demand, demo.facilities, categories=["childcare", "parking"])
    for row in res.summary.itertuples():
        covered = res.demand[f"{row.category}_covered"].to_numpy(dtype=bool)
        expect = demand["children"][covered].sum() / demand["children"].sum()
        assert row.children_coverage_rate == pytest.approx(expect)
        assert np.isnan(row.infants_coverage_rate)  # no 0-3 column: unknown, not 0 %
