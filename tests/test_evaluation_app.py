"""The Evaluation page (评估) under AppTest in both languages, and the Sites demand weight."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from coverage.analysis import analyse
from coverage.compliance import compliance
from coverage.supply import DISTRICT, supply_table
from coverage.tiers import tier_table
from study.demo import load_demo

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def _no_warmup(monkeypatch: pytest.MonkeyPatch) -> None:
    from ui import warmup

    monkeypatch.setattr(warmup, "ENABLED", False)


@pytest.fixture(scope="module")
def core() -> dict[str, pd.DataFrame]:
    """The demo's evaluation computed by the core directly (what the page must show)."""
    demo = load_demo("synthetic")
    result = analyse(demo.network, demo.demand, demo.facilities)
    comp = compliance(result)
    return {
        "tiers": tier_table(result),
        "supply": supply_table(demo.network, result),
        "least_served": comp.least_served,
        "summary": comp.summary,
    }


def _page(lang: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    if lang == "en":
        at.sidebar.radio(key="lang").set_value("en").run()
    at.switch_page("views/evaluation.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _table(at: AppTest, column: str) -> pd.DataFrame:
    for df in at.dataframe:
        value = df.value
        if isinstance(value, pd.DataFrame) and column in value.columns:
            return value
    raise AssertionError(f"no table with column {column!r}")


def _texts(at: AppTest) -> list[str]:
    # The page itself (the sidebar's dataset badge is bilingual on purpose).
    main = at.main
    parts = [e.value for e in (*main.header, *main.subheader, *main.caption, *main.info)]
    parts += [m.label for m in main.metric]
    for df in main.dataframe:
        value = df.value
        if isinstance(value, pd.DataFrame):
            parts += [str(c) for c in value.columns] + [str(i) for i in value.index]
            # Every text column except the communities' own names (user data) and the
            # standards' citations (Chinese document titles, cited as published).
            for col in value.columns:
                text = not pd.api.types.is_numeric_dtype(value[col])
                if text and col not in ("Community", "Standard"):
                    parts += [str(v) for v in value[col]]
    return [str(p) for p in parts]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_evaluation_page_shows_the_core_numbers(lang: str, core: dict[str, pd.DataFrame]) -> None:
    at = _page(lang)
    assert at.header[0].value == ("评估" if lang == "zh" else "Evaluation")
    # The tier matrix: one row per category, a cell per tier the category is in, with the rate
    # of tiers.csv and the standard's label.
    tiers = core["tiers"]
    from maps.export_tables import tier_matrix

    _rates, cells = tier_matrix(tiers, lang=lang)
    matrix = next(
        df.value
        for df in at.dataframe
        if hasattr(df.value, "index")
        and len(df.value) == len(cells)
        and set(map(str, df.value.columns)) >= set(map(str, cells.columns))
    )
    fitness = "全民健身场所/百姓健身房" if lang == "zh" else "Public fitness site"
    five = "五分钟生活圈" if lang == "zh" else "5-minute living circle"
    want = tiers[(tiers["category"] == "fitness") & (tiers["tier"] == "min5")].iloc[0]
    cell = str(pd.DataFrame(matrix).loc[fitness, five])
    assert cell.startswith(f"{float(want['coverage_rate']):.1%}")
    assert want["status"] in cell
    # Least served: same order as the core's ranking, with what each lacks.
    community = "社区" if lang == "zh" else "Community"
    ranked = _table(at, "缺少的设施" if lang == "zh" else "Lacks")
    assert list(ranked[community]) == list(core["least_served"]["community"])
    lacks = core["least_served"]["lacks_zh" if lang == "zh" else "lacks_en"].iloc[0]
    assert ranked.iloc[0, -1] == lacks
    # Supply per 1,000 against the targets: the district rows, judged met / not met.
    supply = _table(at, "千人指标" if lang == "zh" else "Per 1000 residents")
    district = core["supply"][core["supply"]["community"] == DISTRICT]
    assert len(supply) == len(district)
    judged = supply["是否达到目标" if lang == "zh" else "Target met"]
    want_met = ["达到" if lang == "zh" else "met", "未达到" if lang == "zh" else "not met"]
    assert set(want_met) & set(judged)
    assert supply["千人指标" if lang == "zh" else "Per 1000 residents"].tolist() == pytest.approx(
        district["per_1000"].tolist()
    )
    # Compliance headline from the core's summary.
    n = core["summary"].iloc[0]
    assert f"{int(n['n_compliant'])} / {int(n['n_groups'])}" in [m.value for m in at.metric]


def test_english_page_has_no_chinese_labels() -> None:
    at = _page("en")
    labels = _texts(at)
    offenders = [s for s in labels if CJK.search(s)]
    assert not offenders, offenders


def test_chinese_page_labels_are_chinese() -> None:
    at = _page("zh")
    for s in (e.value for e in at.subheader):
        assert CJK.search(s), s


def test_coverage_page_shows_the_tier_matrix_beside_the_map(core: dict[str, pd.DataFrame]) -> None:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("views/coverage.py").run()
    assert not at.exception, [e.value for e in at.exception]
    tiers = core["tiers"]
    matrix = next(
        pd.DataFrame(df.value)
        for df in at.table
        if "五分钟生活圈" in map(str, getattr(df.value, "columns", []))
    )
    want = tiers[(tiers["category"] == "reading") & (tiers["tier"] == "min5")].iloc[0]
    got = matrix.loc["城市书房/图书馆", "五分钟生活圈"]
    assert float(got) == pytest.approx(float(want["coverage_rate"]))
    # A category outside a tier has no rate there (not 0%).
    assert pd.isna(matrix.loc["托育/幼儿园", "十五分钟生活圈"])


def test_sites_page_weights_demand_by_unmet_supply() -> None:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page("views/sites.py").run()
    at.selectbox(key="sites_category").set_value("fitness").run()
    # p-median: every point counts, so points in reach of too little supply weigh less.
    at.selectbox(key="sites_model").set_value("pmedian").run()
    radio = at.radio(key="sites_weight")
    assert radio.options == ["未覆盖居民", "未满足的供给"]
    at.button(key="sites_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    by_population = at.session_state["siting"][1]
    radio = at.radio(key="sites_weight")
    radio.set_value("unmet_supply").run()
    assert not at.main.warning, [w.value for w in at.main.warning]
    at.button(key="sites_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    by_supply = at.session_state["siting"][1]
    assert by_supply.weight == "unmet_supply" and by_population.weight == "population"
    assert at.session_state["sites_run_weight"] == "unmet_supply"
    # Fitness falls short of its target (2.6 m² a resident): a point's weight is the share of its
    # residents whose m² are missing, less than its residents where some is in reach, so the
    # weighted walking time (the p-median objective) is smaller than the residents' one.
    assert 0 < by_supply.objective < by_population.objective


def test_demand_without_communities_says_so_instead_of_a_blank_row() -> None:
    from maps.export_tables import compliance_ranked

    demo = load_demo("synthetic")
    demand = demo.demand.copy()
    demand["community"] = ""
    comp = compliance(analyse(demo.network, demand, demo.facilities))
    assert compliance_ranked(comp.least_served, comp.per_group, lang="zh").empty
