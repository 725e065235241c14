"""What-if edits: incremental results equal full recomputation; edits and inverses cancel."""

from __future__ import annotations

import functools
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _lattice import lattice_demand, lonlat_points
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage.analysis import analyse
from coverage.scenarios import (
    Edit,
    Scenario,
    apply_edits,
    change_areas,
    compare,
    load_scenarios,
    save_scenarios,
)
from geo.errors import DuplicateIdError, InputDataError
from geo.network import lattice_network

CATS = ["elderly_canteen", "health_station"]
CRIT = {"elderly_canteen": {"metres": 400.0}, "health_station": {"metres": 600.0}}


@functools.cache
def _net():
    return lattice_network(15, 15, spacing=100.0)


@pytest.fixture(scope="module")
def net():
    return _net()


def _to_lonlat(net, x, y):
    p = lonlat_points(net, x, y)
    return p.x.to_numpy(), p.y.to_numpy()


@pytest.fixture(scope="module")
def demand(net):
    return _demand()


@functools.cache
def _demand():
    return lattice_demand(
        _net(), n=50, extent_m=1400, seed=1, max_population=300, elderly_share=0.2, n_communities=4
    )


@pytest.fixture(scope="module")
def facilities(net):
    return _facilities()


@functools.cache
def _facilities():
    net = _net()
    xy = np.array([[250, 250], [1150, 300], [700, 1200], [400, 900]], dtype=float)
    lon, lat = _to_lonlat(net, net.x.min() + xy[:, 0], net.y.min() + xy[:, 1])
    return gpd.GeoDataFrame(
        {
            "facility_id": ["a", "b", "c", "h"],
            "name": ["甲", "乙", "丙", "卫生站"],
            "category": ["elderly_canteen"] * 3 + ["health_station"],
            "capacity": [50.0, np.nan, 80.0, np.nan],
            "source": "test",
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs=4326,
    )


@functools.cache
def _base():
    return analyse(_net(), _demand(), _facilities(), categories=CATS, criteria=CRIT)


@pytest.fixture(scope="module")
def base():
    return _base()


def _lonlat(net, dx: float, dy: float) -> tuple[float, float]:
    lon, lat = _to_lonlat(net, net.x.min() + dx, net.y.min() + dy)
    return float(lon[0]), float(lat[0])


def _full(net, demand, facilities_after):
    return analyse(net, demand, facilities_after, categories=CATS, criteria=CRIT)


def _assert_same(res, ref, *, ids: bool = True):
    for key in CATS:
        np.testing.assert_array_equal(
            res.demand[f"{key}_distance_m"].to_numpy(), ref.demand[f"{key}_distance_m"].to_numpy()
        )
        np.testing.assert_array_equal(
            res.demand[f"{key}_covered"].to_numpy(), ref.demand[f"{key}_covered"].to_numpy()
        )
        np.testing.assert_array_equal(res.node_distance[key], ref.node_distance[key])
        if ids:
            np.testing.assert_array_equal(
                res.demand[f"{key}_facility_id"].to_numpy(),
                ref.demand[f"{key}_facility_id"].to_numpy(),
            )
    cols = ["category", "n_facilities", "covered_population", "coverage_rate", "median_minutes"]
    pd.testing.assert_frame_equal(res.summary[cols], ref.summary[cols])


def _assert_identical(res, base):
    pd.testing.assert_frame_equal(res.demand, base.demand)
    pd.testing.assert_frame_equal(res.summary, base.summary)
    pd.testing.assert_frame_equal(
        pd.DataFrame(res.facilities.drop(columns="geometry")),
        pd.DataFrame(base.facilities.drop(columns="geometry")),
    )
    assert list(res.facilities.geometry.to_wkb()) == list(base.facilities.geometry.to_wkb())
    for key in CATS:
        np.testing.assert_array_equal(res.node_distance[key], base.node_distance[key])
        np.testing.assert_array_equal(res.node_source[key], base.node_source[key])


def test_add_is_incremental_and_equals_full_recomputation(net, demand, facilities, base):
    lon, lat = _lonlat(net, 1200, 1250)
    edit = Edit.add(category="elderly_canteen", lon=lon, lat=lat, name="新食堂", facility_id="n1")
    sc = apply_edits(base, net, [edit])
    assert sc.changed == {"elderly_canteen": "incremental", "health_station": "unchanged"}
    after = facilities.copy()
    new = gpd.GeoDataFrame(
        {
            "facility_id": ["n1"],
            "name": ["新食堂"],
            "category": ["elderly_canteen"],
            "capacity": [np.nan],
            "source": ["edit"],
        },
        geometry=gpd.points_from_xy([lon], [lat]),
        crs=4326,
    )
    ref = _full(net, demand, gpd.GeoDataFrame(pd.concat([after, new], ignore_index=True)))
    # Ties between equidistant facilities may name a different one; distances must not differ.
    _assert_same(sc.result, ref, ids=False)
    before = base.summary.set_index("category").loc["elderly_canteen", "covered_population"]
    now = sc.result.summary.set_index("category").loc["elderly_canteen", "covered_population"]
    assert now > before


def test_remove_and_move_equal_full_recomputation(net, demand, facilities, base):
    sc = apply_edits(base, net, [Edit.remove("b")])
    assert sc.changed["elderly_canteen"] == "recomputed"
    ref = _full(net, demand, facilities[facilities["facility_id"] != "b"])
    _assert_same(sc.result, ref)
    lon, lat = _lonlat(net, 800, 700)
    sc = apply_edits(base, net, [Edit.move("c", lon=lon, lat=lat)])
    moved = facilities.copy()
    moved.loc[moved["facility_id"] == "c", "geometry"] = shapely.Point(lon, lat)
    # The moved row goes to the end of the table; reorder the reference the same way.
    moved = pd.concat([moved[moved.facility_id != "c"], moved[moved.facility_id == "c"]])
    ref = _full(net, demand, gpd.GeoDataFrame(moved.reset_index(drop=True), crs=4326))
    _assert_same(sc.result, ref)


@pytest.mark.parametrize("kind", ["add", "remove", "move"])
def test_edit_then_inverse_is_exactly_the_baseline(net, base, kind):
    lon, lat = _lonlat(net, 650, 420)
    edit = {
        "add": Edit.add(category="health_station", lon=lon, lat=lat, facility_id="x"),
        "remove": Edit.remove("a"),
        "move": Edit.move("h", lon=lon, lat=lat),
    }[kind]
    inverse = edit.inverse(base.facilities)
    # In one call...
    sc = apply_edits(base, net, [edit, inverse])
    _assert_identical(sc.result, base)
    # ...and step by step, the second edit applied to the first one's result.
    first = apply_edits(base, net, [edit])
    assert first.result is not base
    second = apply_edits(first, net, [inverse])
    _assert_identical(second.result, base)


edit_strategy = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.sampled_from(CATS), st.floats(0, 1400), st.floats(0, 1400)),
        st.tuples(st.just("remove"), st.sampled_from(["a", "b", "c", "h"])),
        st.tuples(
            st.just("move"),
            st.sampled_from(["a", "b", "c", "h"]),
            st.floats(0, 1400),
            st.floats(0, 1400),
        ),
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=25, deadline=None)
@given(raw=edit_strategy)
def test_any_edit_sequence_followed_by_its_inverses_is_the_baseline(raw):
    net, base = _net(), _base()
    edits: list[Edit] = []
    inverses: list[Edit] = []
    state = apply_edits(base, net, [])
    removed: set[str] = set()
    for n, item in enumerate(raw):
        if item[0] == "add":
            lon, lat = _lonlat(net, item[2], item[3])
            e = Edit.add(category=item[1], lon=lon, lat=lat, facility_id=f"new{n}")
        elif item[1] in removed:
            continue
        elif item[0] == "remove":
            e = Edit.remove(item[1])
            removed.add(item[1])
        else:
            lon, lat = _lonlat(net, item[2], item[3])
            e = Edit.move(item[1], lon=lon, lat=lat)
        inverses.append(e.inverse(state.result.facilities))
        edits.append(e)
        state = apply_edits(state, net, [e])
    back = apply_edits(state, net, list(reversed(inverses)))
    _assert_identical(back.result, base)


@settings(max_examples=15, deadline=None)
@given(xy=st.lists(st.tuples(st.floats(0, 1400), st.floats(0, 1400)), min_size=1, max_size=3))
def test_additions_never_lower_coverage_and_match_analyse(xy):
    net, demand, base = _net(), _demand(), _base()
    edits = []
    for n, (x, y) in enumerate(xy):
        lon, lat = _lonlat(net, x, y)
        edits.append(Edit.add(category="elderly_canteen", lon=lon, lat=lat, facility_id=f"p{n}"))
    sc = apply_edits(base, net, edits)
    d0 = base.demand["elderly_canteen_distance_m"].to_numpy()
    d1 = sc.result.demand["elderly_canteen_distance_m"].to_numpy()
    assert np.all(d1 <= d0)
    ref = _full(net, demand, sc.result.facilities)
    _assert_same(sc.result, ref, ids=False)


def test_compare_and_change_areas(net, base):
    lon, lat = _lonlat(net, 1200, 1250)
    plan_a = Scenario("增设一处", (Edit.add(category="elderly_canteen", lon=lon, lat=lat),))
    plan_b = Scenario("撤并乙", (Edit.remove("b"),))
    results = [plan_a.apply(base, net), plan_b.apply(base, net)]
    table = compare(base, results)
    assert len(table) == 2 * len(CATS)
    row = table.set_index(["scenario", "category"]).loc[("增设一处", "elderly_canteen")]
    assert row["newly_covered_population"] > 0
    assert row["newly_lost_population"] == 0
    assert row["covered_population_after"] - row["covered_population_before"] == pytest.approx(
        row["newly_covered_population"]
    )
    assert row["n_facilities_after"] == row["n_facilities_before"] + 1
    lost = table.set_index(["scenario", "category"]).loc[("撤并乙", "elderly_canteen")]
    assert lost["newly_lost_population"] > 0
    untouched = table.set_index(["scenario", "category"]).loc[("撤并乙", "health_station")]
    assert untouched["coverage_change"] == 0
    areas = change_areas(base, results)
    assert areas.crs.to_epsg() == 4326
    assert set(areas["change"]) == {"gained", "lost"}
    got = areas[(areas.scenario == "增设一处") & (areas.change == "gained")]
    assert got["population"].sum() == pytest.approx(row["newly_covered_population"])
    lst = areas[(areas.scenario == "撤并乙") & (areas.change == "lost")]
    assert lst["population"].sum() == pytest.approx(lost["newly_lost_population"])
    # Every newly covered point lies inside a "gained" area.
    gained_pts = base.demand[
        ~base.demand["elderly_canteen_covered"].to_numpy()
        & results[0].result.demand["elderly_canteen_covered"].to_numpy()
    ]
    union = shapely.union_all(got.geometry.values)
    assert shapely.contains(union, gained_pts.geometry.values).all()


def test_save_and_load_round_trip(tmp_path, net, base):
    lon, lat = _lonlat(net, 300, 300)
    plans = [
        Scenario(
            "方案一",
            (
                Edit.add(category="elderly_canteen", lon=lon, lat=lat, name="新点", capacity=40),
                Edit.remove("b"),
            ),
            description="增一撤一",
        ),
        Scenario("方案二", (Edit.move("h", lon=lon, lat=lat),)),
    ]
    path = save_scenarios(plans, tmp_path / "plans.json")
    text = path.read_text(encoding="utf-8")
    assert "方案一" in text  # readable Chinese, not \\u escapes
    back = load_scenarios(path)
    assert back == plans
    r1 = plans[0].apply(base, net).result
    r2 = back[0].apply(base, net).result
    pd.testing.assert_frame_equal(r1.demand, r2.demand)


def test_bad_edits_and_files_raise_helpful_errors(tmp_path, net, base):
    with pytest.raises(InputDataError, match="no such facility"):
        apply_edits(base, net, [Edit.remove("zzz")])
    with pytest.raises(InputDataError, match="no such facility"):
        apply_edits(base, net, [Edit.remove("a"), Edit.remove("a")])
    lon, lat = _lonlat(net, 100, 100)
    with pytest.raises(DuplicateIdError, match="already exists"):
        apply_edits(
            base, net, [Edit.add(category="health_station", lon=lon, lat=lat, facility_id="a")]
        )
    with pytest.raises(InputDataError, match="WGS-84"):
        Edit.add(category="health_station", lon=500000.0, lat=3500000.0)
    with pytest.raises(KeyError, match="unknown key"):
        Edit.add(category="no_such_category", lon=lon, lat=lat)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputDataError, match="not valid JSON"):
        load_scenarios(bad)
    bad.write_text(
        json.dumps({"scenarios": [{"name": "x", "edits": [{"kind": "teleport"}]}]}),
        encoding="utf-8",
    )
    with pytest.raises(InputDataError, match="kind must be"):
        load_scenarios(bad)


def test_demo_district_edit_is_fast_and_exact():
    from study.demo import load_demo

    demo = load_demo()
    res = analyse(demo.network, demo.demand, demo.facilities)
    fac = res.facilities
    victim = fac[fac["category"] == "health_station"].iloc[0]
    sc = apply_edits(res, demo.network, [Edit.remove(victim["facility_id"])])
    ref = analyse(
        demo.network,
        demo.demand,
        fac[fac["facility_id"] != victim["facility_id"]].drop(
            columns=["snapped", "snap_distance_m"]
        ),
        categories=res.categories,
    )
    key = "health_station"
    np.testing.assert_array_equal(
        sc.result.demand[f"{key}_distance_m"].to_numpy(), ref.demand[f"{key}_distance_m"].to_numpy()
    )
    assert sc.changed[key] == "recomputed"
    assert sum(v == "unchanged" for v in sc.changed.values()) == len(res.categories) - 1


def test_adding_to_a_category_without_facilities(net, demand, facilities):
    base = analyse(net, demand, facilities, categories=["market"], criteria=None)
    assert not base.demand["market_covered"].any()
    lon, lat = _lonlat(net, 700, 700)
    sc = apply_edits(base, net, [Edit.add(category="market", lon=lon, lat=lat, facility_id="m")])
    assert sc.changed == {"market": "incremental"}
    ref = analyse(net, demand, sc.result.facilities, categories=["market"])
    np.testing.assert_array_equal(
        sc.result.demand["market_distance_m"].to_numpy(), ref.demand["market_distance_m"].to_numpy()
    )
    assert sc.result.demand["market_covered"].any()
    assert (
        sc.result.demand.loc[sc.result.demand["market_covered"], "market_facility_id"] == "m"
    ).all()
    assert sc.result.summary.loc[0, "n_facilities"] == 1
