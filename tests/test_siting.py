"""Site suggestions on lattice networks, checked against independent coverage runs."""

from __future__ import annotations

import itertools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from _lattice import lattice_demand, lonlat_points

from coverage.analysis import analyse
from coverage.siting import (
    SiteSearch,
    as_candidates,
    combine,
    generate_candidates,
    suggest_sites,
)
from coverage.siting.candidates import thin_to_grid
from geo.network import lattice_network

CAT = "elderly_canteen"
CRIT = {"metres": 400.0}  # small threshold so a 2 km lattice has gaps
SPACING = 100.0


@pytest.fixture(scope="module")
def net():
    return lattice_network(21, 21, spacing=SPACING)


@pytest.fixture(scope="module")
def demand(net):
    return lattice_demand(
        net, n=60, extent_m=2000, seed=7, max_population=500, elderly_share=0.2, n_communities=5
    )


@pytest.fixture(scope="module")
def facilities(net):
    xy = np.array([[net.x.min() + 300, net.y.min() + 300]])
    return gpd.GeoDataFrame(
        {
            "facility_id": ["f0"],
            "name": ["现有食堂"],
            "category": [CAT],
            "capacity": [np.nan],
            "source": ["test"],
        },
        geometry=lonlat_points(net, xy[:, 0], xy[:, 1]).values,
        crs=4326,
    )


@pytest.fixture(scope="module")
def baseline(net, demand, facilities):
    return analyse(net, demand, facilities, categories=[CAT], criteria={CAT: CRIT})


@pytest.fixture(scope="module")
def suggest(net, demand, facilities, baseline):
    """``suggest_sites`` on this module's lattice, category, criterion and baseline."""

    def run(**kw):
        # Model options travel in one SiteSearch; inputs stay keywords of suggest_sites.
        inputs = {key: kw.pop(key) for key in ("candidates", "progress") if key in kw}
        return suggest_sites(
            net,
            demand,
            facilities,
            category=CAT,
            criterion=CRIT,
            baseline=baseline,
            search=SiteSearch(**kw),
            **inputs,
        )

    return run


def _with_sites(facilities: gpd.GeoDataFrame, sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    new = gpd.GeoDataFrame(
        {
            "facility_id": [f"new{i}" for i in range(len(sites))],
            "name": list(sites["name"]),
            "category": CAT,
            "capacity": np.nan,
            "source": "edit",
        },
        geometry=sites.geometry.values,
        crs=4326,
    )
    return gpd.GeoDataFrame(pd.concat([facilities, new], ignore_index=True), crs=4326)


def _analyse(net, demand, facs):
    return analyse(net, demand, facs, categories=[CAT], criteria={CAT: CRIT})


def _covered_pop(net, demand, facs) -> float:
    return float(_analyse(net, demand, facs).summary.loc[0, "covered_population"])


def _candidates(net, n: int = 8, seed: int = 3) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    xy = np.column_stack(
        [net.x.min() + rng.uniform(0, 2000, n), net.y.min() + rng.uniform(0, 2000, n)]
    )
    return gpd.GeoDataFrame(
        {
            "facility_id": [f"c{i}" for i in range(n)],
            "name": [f"空地{i}" for i in range(n)],
            "capacity": rng.choice([200.0, 800.0, 3000.0], size=n),
        },
        geometry=lonlat_points(net, xy[:, 0], xy[:, 1]).values,
        crs=4326,
    )


def test_mclp_sites_match_an_independent_coverage_run(suggest, net, demand, facilities, baseline):
    res = suggest(model="mclp", k=3)
    assert res.status == "optimal"
    assert res.method == "HiGHS MILP"
    assert 1 <= len(res.sites) <= 3
    assert list(res.sites["rank"]) == list(range(1, len(res.sites) + 1))
    assert (res.sites["added_population"] > 0).all()
    # Greedy explanation order: marginal gains never increase.
    assert np.all(np.diff(res.sites["added_population"].to_numpy()) <= 1e-9)
    before = float(baseline.summary.loc[0, "covered_population"])
    after = _covered_pop(net, demand, _with_sites(facilities, res.sites))
    assert after == pytest.approx(before + res.sites["added_population"].sum())
    assert res.sites["cumulative_population"].iloc[-1] == pytest.approx(after)
    assert res.objective == pytest.approx(after - before)
    assert res.sites.crs.to_epsg() == 4326
    assert res.sites["communities"].str.startswith("社区").all()


def test_mclp_equals_bruteforce_over_uploaded_candidates(
    suggest, net, demand, facilities, baseline
):
    cand = _candidates(net)
    res = suggest(model="mclp", k=2, candidates=cand)
    cand_c = as_candidates(cand)
    best = max(
        _covered_pop(net, demand, _with_sites(facilities, cand_c.iloc[list(s)]))
        for s in itertools.combinations(range(len(cand)), 2)
    )
    assert res.sites["cumulative_population"].iloc[-1] == pytest.approx(best)
    assert set(res.sites["candidate_id"]) <= set(cand["facility_id"])


def test_site_adding_no_one_is_never_proposed(suggest, net, demand, facilities, baseline):
    # A candidate on top of the existing facility adds no one; k larger than useful sites.
    fx = facilities.geometry.iloc[0]
    cand = _candidates(net, n=3)
    dup = gpd.GeoDataFrame(
        {"facility_id": ["on-existing"], "name": ["x"], "capacity": [np.nan]},
        geometry=[fx],
        crs=4326,
    )
    cand = gpd.GeoDataFrame(pd.concat([dup, cand], ignore_index=True), crs=4326)
    res = suggest(model="mclp", k=4, candidates=cand)
    assert "on-existing" not in set(res.sites["candidate_id"])
    assert len(res.sites) < 4
    assert "not proposed" in res.message
    assert (res.sites["added_population"] > 0).all()


def test_existing_facilities_are_kept(suggest, net, demand, facilities, baseline):
    res = suggest(model="pmedian", k=2)
    after = _analyse(net, demand, _with_sites(facilities, res.sites))
    was = baseline.demand[f"{CAT}_covered"].to_numpy()
    now = after.demand[f"{CAT}_covered"].to_numpy()
    assert np.all(now[was])
    dist_before = baseline.demand[f"{CAT}_distance_m"].to_numpy()
    assert np.all(after.demand[f"{CAT}_distance_m"].to_numpy() <= dist_before + 1e-9)


def test_pmedian_objective_is_the_weighted_minutes_of_an_independent_run(
    suggest, net, demand, facilities, baseline
):
    res = suggest(model="pmedian", k=2)
    assert res.status == "optimal"
    after = _analyse(net, demand, _with_sites(facilities, res.sites))
    crit = baseline.criteria[CAT]
    reach_min = crit.threshold_m * 1.5 / crit.speed / 60.0
    minutes = np.minimum(after.demand[f"{CAT}_minutes"].to_numpy(), reach_min)
    pop = demand["population"].to_numpy()
    assert res.objective == pytest.approx(float(pop @ minutes))
    assert (res.sites["minutes_saved"] > 0).all()


def test_lscp_full_target_covers_every_reachable_resident(
    suggest, net, demand, facilities, baseline
):
    # Candidates only in the lower half: residents in the far top are out of reach.
    cand = _candidates(net, n=10, seed=11)
    geom_y = cand.to_crs(net.crs).geometry.y.to_numpy()
    cand = cand[geom_y < net.y.min() + 1000].reset_index(drop=True)
    res = suggest(model="lscp", target=1.0, candidates=cand)
    after = _analyse(net, demand, _with_sites(facilities, res.sites))
    covered = after.demand[f"{CAT}_covered"].to_numpy()
    unreachable = set(res.unreachable["demand_id"]) if res.unreachable is not None else set()
    pop = demand["population"].to_numpy()
    ids = demand["demand_id"].to_numpy()
    for i in range(len(demand)):
        if pop[i] > 0:
            assert covered[i] or ids[i] in unreachable
    # The unreachable ones are truly out of reach of every candidate.
    every = _analyse(net, demand, _with_sites(facilities, as_candidates(cand)))
    ev = every.demand.set_index("demand_id")[f"{CAT}_covered"]
    assert not ev.loc[sorted(unreachable)].any()
    assert ev.sum() == covered.sum()
    assert len(unreachable) > 0
    assert "out of reach" in res.message


def test_lscp_partial_target(suggest, net, demand, facilities, baseline):
    res = suggest(model="lscp", target=0.6)
    after = _covered_pop(net, demand, _with_sites(facilities, res.sites))
    total = float(demand["population"].sum())
    reach = total - (res.unreachable["population"].sum() if res.unreachable is not None else 0)
    assert after >= 0.6 * reach - 1e-6
    # One site fewer would miss the target (minimality, via the explanation order).
    if len(res.sites) > 1:
        assert res.sites["cumulative_population"].iloc[-2] < 0.6 * reach


def test_capacitated_respects_capacity(suggest, net, demand, facilities, baseline):
    cand = _candidates(net, n=8, seed=5)
    res = suggest(model="capacitated", k=3, candidates=cand)
    assert res.status == "optimal"
    assert len(res.sites) >= 1
    assert (res.sites["added_population"] <= res.sites["capacity"] + 1e-6).all()
    assert res.objective == pytest.approx(res.sites["added_population"].sum())


def test_elderly_weight(suggest, net, demand, facilities, baseline):
    res = suggest(model="mclp", k=2, weight="elderly")
    assert res.objective == pytest.approx(res.sites["added_elderly"].sum())
    no_eld = demand.drop(columns="elderly")
    with pytest.raises(KeyError, match="elderly"):
        suggest_sites(
            net,
            no_eld,
            facilities,
            category=CAT,
            search=SiteSearch(model="mclp", k=2, weight="elderly"),
            criterion=CRIT,
        )


def test_curve_is_monotone_and_exact_dominates_greedy(suggest, net, demand, facilities, baseline):
    res = suggest(model="mclp", k=3, curve_k=6)
    curve = res.curve
    k0 = curve[curve["method"] == "existing"]
    assert k0["covered_population"].iloc[0] == pytest.approx(
        baseline.summary.loc[0, "covered_population"]
    )
    greedy = curve[curve["method"] == "greedy"].set_index("k")["covered_population"]
    exact = curve[curve["method"] == "optimal"].set_index("k")["covered_population"]
    assert np.all(np.diff(greedy.to_numpy()) > 0)
    assert len(exact) == len(greedy) >= 3
    assert np.all(exact.to_numpy() >= greedy.to_numpy() - 1e-9)
    assert exact.loc[3] == pytest.approx(res.sites["cumulative_population"].iloc[-1])
    best = res.best_curve
    assert list(best["k"]) == list(range(len(best)))
    assert (best.loc[best["k"] > 0, "method"] == "optimal").all()
    np.testing.assert_allclose(best.set_index("k").loc[exact.index, "covered_population"], exact)


def test_generate_candidates_near_gaps_only(net, baseline):
    cand = generate_candidates(net, baseline, category=CAT, spacing_m=200.0)
    assert len(cand) > 0
    assert set(cand.columns) >= {"candidate_id", "name", "source", "capacity", "geometry"}
    assert cand["candidate_id"].is_unique
    assert cand.crs.to_epsg() == 4326
    # Every candidate covers at least one uncovered resident (network distance ≤ threshold).
    res = suggest_sites(
        net,
        baseline.demand,
        None,
        category=CAT,
        search=SiteSearch(model="mclp", k=1),
        candidates=cand,
        baseline=baseline,
    )
    from coverage.siting.matrix import build_matrices
    from coverage.snap import snap_points

    mats = build_matrices(
        net,
        snap_points(net, cand),
        baseline.demand_snap,
        baseline.demand[f"{CAT}_distance_m"].to_numpy(),
        criterion=baseline.criteria[CAT],
    )
    cover = mats.cover.toarray() > 0
    uncovered = ~baseline.demand[f"{CAT}_covered"].to_numpy()
    assert np.all((cover & uncovered[None, :]).any(axis=1))
    assert len(res.sites) == 1
    # At most one candidate per 200 m cell of the 2 km square (11 × 11 cells with the edge).
    assert len(cand) <= 121
    denser = generate_candidates(net, baseline, category=CAT, spacing_m=100.0)
    assert len(denser) > len(cand)


def test_thin_to_grid_keeps_one_point_per_cell():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1000, 500), rng.uniform(0, 1000, 500)
    kept = thin_to_grid(x, y, spacing_m=250.0)
    cells = set(zip((x[kept] - x.min()) // 250, (y[kept] - y.min()) // 250, strict=True))
    all_cells = set(zip((x - x.min()) // 250, (y - y.min()) // 250, strict=True))
    assert len(cells) == kept.size == len(all_cells)


def test_generate_candidates_empty_when_everyone_is_covered(net, demand, facilities):
    res = analyse(net, demand, facilities, categories=[CAT], criteria={CAT: {"metres": 5000}})
    assert generate_candidates(net, res, category=CAT).empty
    out = suggest_sites(
        net, demand, facilities, category=CAT, search=SiteSearch(model="mclp", k=2), baseline=res
    )
    assert out.status == "no candidates"
    assert out.sites.empty


def test_combine_keeps_ids_unique(net, baseline):
    gen = generate_candidates(net, baseline, category=CAT)
    up = as_candidates(_candidates(net, n=3))
    both = combine(gen, up, up)
    assert len(both) == len(gen) + 6
    assert both["candidate_id"].is_unique
    assert set(both["source"]) == {"generated", "upload"}


def test_bad_arguments_raise_helpful_errors(net, demand, facilities, baseline):
    with pytest.raises(ValueError, match="needs k"):
        suggest_sites(net, demand, facilities, category=CAT, search=SiteSearch(), baseline=baseline)
    with pytest.raises(ValueError, match="unknown model"):
        suggest_sites(
            net,
            demand,
            facilities,
            category=CAT,
            search=SiteSearch(model="foo", k=1),
            baseline=baseline,
        )
    with pytest.raises(ValueError, match="candidates must be"):
        suggest_sites(
            net,
            demand,
            facilities,
            category=CAT,
            search=SiteSearch(model="mclp", k=1),
            baseline=baseline,
            candidates="nope.csv",
        )


def test_candidates_from_a_csv_file(suggest, tmp_path, net, demand, facilities, baseline):
    from coverage.siting import candidates_from_file

    pts = _candidates(net, n=4)
    csv = tmp_path / "空地.csv"
    pd.DataFrame(
        {
            "名称": [f"空地{i}" for i in range(4)],
            "经度": pts.geometry.x,
            "纬度": pts.geometry.y,
            "座位数": [100, 200, 300, 400],
        }
    ).to_csv(csv, index=False, encoding="utf-8-sig")
    cand, report = candidates_from_file(csv, category=CAT)
    assert len(cand) == 4
    assert cand["candidate_id"].is_unique
    assert list(cand["name"]) == [f"空地{i}" for i in range(4)]
    assert report.n_ok == 4
    assert list(cand["capacity"]) == [100.0, 200.0, 300.0, 400.0]
    res = suggest(model="mclp", k=1, candidates=cand)
    assert res.sites["name"].iloc[0].startswith("空地")


def test_highs_prints_nothing_and_logs_its_outcome() -> None:
    # A fresh process: HiGHS writes its banner only once per process, on its first call.
    import subprocess
    import sys

    code = (
        "import logging, numpy as np\n"
        "from scipy import sparse\n"
        "logging.basicConfig(level=logging.DEBUG, format='%(name)s %(message)s')\n"
        "from coverage.siting import mclp\n"
        "a = sparse.csr_matrix(np.eye(4) + np.eye(4, k=1))\n"
        "sol = mclp(a, np.arange(1.0, 5.0), k=2)\n"
        "print('selected', sorted(sol.selected.tolist()))\n"
    )
    root = Path(__file__).resolve().parents[1]
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == "selected [0, 2]"
    assert "Running HiGHS" not in run.stdout + run.stderr
    assert "coverage.siting.highs HiGHS: optimal" in run.stderr


def test_minutes_saved_counts_every_resident_a_site_brings_closer() -> None:
    # Person-minutes saved by each site, in order, equal a full re-analysis with the sites added
    # one by one — including residents beyond the model's reach (1.5 × threshold).
    from coverage.siting import SiteSearch, suggest_sites
    from study.demo import load_demo

    demo = load_demo("synthetic")
    cat = "elderly_canteen"
    out = suggest_sites(
        demo.network, demo.demand, demo.facilities, category=cat, search=SiteSearch(k=2)
    )
    fac = demo.facilities
    prev = analyse(demo.network, demo.demand, fac, categories=[cat]).demand
    pop = prev["population"].to_numpy()
    before = prev[f"{cat}_minutes"].to_numpy()
    for _, site in out.sites.iterrows():
        add = gpd.GeoDataFrame(
            {
                "facility_id": [f"new{site['rank']}"],
                "name": "",
                "category": cat,
                "capacity": np.nan,
            },
            geometry=[site.geometry],
            crs=out.sites.crs,
        ).to_crs(fac.crs)
        fac = gpd.GeoDataFrame(pd.concat([fac, add], ignore_index=True), crs=fac.crs)
        after = analyse(demo.network, demo.demand, fac, categories=[cat]).demand
        now = after[f"{cat}_minutes"].to_numpy()
        fin = np.isfinite(before)
        expected = float((pop[fin] * (before[fin] - now[fin])).sum())
        assert site["minutes_saved"] == pytest.approx(expected, rel=1e-9)
        before = now


def _unlimited_site_minutes(net, sol, mats, c_snap, d_snap) -> dict[int, np.ndarray]:
    """The explanation's walks from each proposed site by unlimited searches (the reference)."""
    from coverage.distance import nearest_from, point_distance

    out = {}
    for i in sol.selected.tolist():
        one = c_snap.subset(np.array([i]))
        node_d, node_s = nearest_from(net, one)
        dist, _ = point_distance(net, node_d, node_s, d_snap, sources=one)
        out[int(i)] = mats.minutes(dist)
    return out


@pytest.mark.parametrize("existing", ["one", "none"])
@pytest.mark.parametrize("model", ["lscp", "pmedian"])
def test_limited_explanation_searches_explain_like_unlimited_ones(
    net, demand, facilities, existing, model
) -> None:
    # The explanation's searches stop at per-site limits; the sites table (gains, minutes
    # saved, communities) must be exactly the one unlimited searches give — also when nobody
    # has an existing facility (every walk counted from the reach).
    from coverage.siting import explain
    from coverage.siting.matrix import build_matrices
    from coverage.siting.models import solve
    from coverage.snap import snap_points

    facs = facilities if existing == "one" else facilities.iloc[:0]
    base = analyse(net, demand, facs, categories=[CAT], criteria={CAT: CRIT})
    cand = as_candidates(_candidates(net, n=40, seed=5))
    c_snap = snap_points(net, cand)
    d_snap = base.demand_snap
    crit = base.criteria[CAT]
    mats = build_matrices(
        net,
        c_snap,
        d_snap,
        base.demand[f"{CAT}_distance_m"].to_numpy(),
        criterion=crit,
        reach_m=crit.threshold_m * 1.5,
    )
    w = base.demand["population"].to_numpy(dtype="float64")
    sol = solve(
        model,
        cover=mats.cover,
        cost=mats.cost_minutes,
        base_cost=mats.base_minutes,
        weight=w,
        k=4,
        covered=mats.covered,
    )
    assert sol.selected.size >= 2
    dem = pd.DataFrame(base.demand.drop(columns="geometry"))
    limited = explain._site_minutes(net, sol, mats, c_snap, d_snap)
    reference = _unlimited_site_minutes(net, sol, mats, c_snap, d_snap)
    got = explain.explain_sites(sol, mats, cand, dem, site_minutes=limited)
    want = explain.explain_sites(sol, mats, cand, dem, site_minutes=reference)
    assert got["minutes_saved"].sum() > 0
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    # The limits really cut the searches: some far points are left unmeasured.
    assert any(np.isinf(v).sum() > np.isinf(reference[i]).sum() for i, v in limited.items())


def test_siting_messages_render_in_both_languages(suggest) -> None:
    # The sentences for the planner are catalogue messages: English as text (CLI, logs), the
    # same sentences in Chinese for the app, joined with the language's list mark.
    out = suggest(model="mclp", k=2)
    assert str(out.message).endswith("sites proposed") or "requested sites" in out.message
    zh = out.message.text("zh")
    assert zh != str(out.message) and ("推荐" in zh or "计划新增" in zh)
    from geo.errors import ConfigError

    with pytest.raises(ConfigError, match="needs k") as caught:
        suggest(model="pmedian")
    assert "新增设施的数量" in caught.value.text("zh")
