"""One way to run a study: the CLI and the app's path give the same tables.

The CLI writes CSV files (``cli.py run``); the app computes through ``ui.state`` (Streamlit's
caches over the study service). Both sides are written with the same CSV writer and read back,
so the comparison covers every value the planner sees: summary, gaps, communities and sites.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from _data import osm_extract

import cli
from geo.safe_cells import write_csv
from study import load_config, study_from_config
from study.pipeline import _tidy_populations
from study.service import completeness
from ui import state


def _csv(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    write_csv(frame, path)
    return pd.read_csv(path, encoding="utf-8-sig")


def _read(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / f"{name}.csv", encoding="utf-8-sig")


def _app_tables(
    ds: state.Dataset,
    choice: state.CriteriaChoice,
    params: state.SitingParams | None,
    tmp: Path,
) -> dict[str, pd.DataFrame]:
    """What the app shows and exports, through the same calls its pages make."""
    tmp.mkdir()
    result = state.analysis(ds, choice)
    gaps = gpd.GeoDataFrame(
        pd.concat([state.gaps(ds, choice, c) for c in choice.categories], ignore_index=True),
        crs="EPSG:4326",
    )
    _points, communities = completeness(result, choice)  # as ui/exports.py builds it
    out = {
        "summary": _csv(_tidy_populations(result.summary.copy()), tmp / "summary.csv"),
        "gaps": _csv(_tidy_populations(pd.DataFrame(gaps.drop(columns="geometry"))), tmp / "g.csv"),
        "communities": _csv(_tidy_populations(communities), tmp / "communities.csv"),
    }
    if params is not None:
        sites = state.siting(ds, choice, params).sites
        out["sites"] = _csv(pd.DataFrame(sites.drop(columns="geometry")), tmp / "sites.csv")
    return out


def _assert_same(cli_out: Path, app: dict[str, pd.DataFrame]) -> None:
    for name in ("summary", "gaps", "sites"):
        if name in app:
            pd.testing.assert_frame_equal(_read(cli_out, name), app[name], obj=name)
    # communities.csv adds the living-circle evaluation to the compact table the app exports.
    comm = _read(cli_out, "communities")
    compact = app["communities"]
    pd.testing.assert_frame_equal(comm[list(compact.columns)], compact, obj="communities")


def test_demo_with_siting_is_the_same_through_cli_and_app(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    assert cli.main(["-q", "run", "--demo", "--out", str(out)]) == 0
    ds = state.demo_dataset("synthetic")
    choice = state.CriteriaChoice(categories=state.present_categories(ds))
    params = state.SitingParams(category="elderly_canteen", model="mclp", k=3)
    app = _app_tables(ds, choice, params, tmp_path / "app")
    assert len(app["summary"]) >= 3 and len(app["gaps"]) > 0 and len(app["sites"]) == 3
    assert app["summary"]["covered_population"].sum() > 0
    _assert_same(out, app)


def test_real_extract_config_is_the_same_through_cli_and_app(tmp_path: Path) -> None:
    osm = osm_extract("nanjing_xinjiekou")
    cfg_path = tmp_path / "run.toml"
    cfg_path.write_text(
        f'[network]\nfile = "{osm.as_posix()}"\nmode = "walk"\n'
        '[demand]\ntype = "buildings"\ntotal_population = 40000\n'
        "[[facilities]]\nosm = true\n"
        "[criteria.fitness]\nminutes = 10\n"
        "[analysis]\nservice_areas = false\n"
        '[siting]\ncategory = "fitness"\nmodel = "mclp"\nk = 2\n',
        encoding="utf-8",
    )
    out = tmp_path / "cli"
    assert cli.main(["-q", "run", str(cfg_path), "--out", str(out), "--allow-partial"]) == 0
    # The app's path: the same study, analysed and sited through ui.state's cached calls.
    cfg = load_config(cfg_path)
    ds = study_from_config(cfg)
    choice = state.CriteriaChoice(
        categories=state.present_categories(ds), overrides=tuple(ds.criteria.items())
    )
    assert choice.criteria()["fitness"].minutes == pytest.approx(10)
    params = state.SitingParams(category="fitness", model="mclp", k=2)
    app = _app_tables(ds, choice, params, tmp_path / "app")
    assert len(app["summary"]) >= 2 and len(app["sites"]) > 0
    _assert_same(out, app)


def test_comparison_sees_a_different_criterion(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    assert cli.main(["-q", "run", "--demo", "--out", str(out)]) == 0
    ds = state.demo_dataset("synthetic")
    choice = state.CriteriaChoice(
        categories=state.present_categories(ds), kind="minutes", minutes=5.0
    )
    app = _app_tables(ds, choice, None, tmp_path / "app")
    with pytest.raises(AssertionError):
        _assert_same(out, app)


def test_the_service_surface_is_what_ui_uses() -> None:
    import study

    for name in study.__all__:
        assert hasattr(study, name), name
    assert state.Dataset is study.Study
    assert state.CriteriaChoice is study.CriteriaChoice
    assert state.SitingParams is study.SitingParams


def test_study_from_config_keeps_provenance_and_content_tokens(tmp_path: Path) -> None:
    import pyproj

    from study import demo_config, demo_study
    from study.demo import load_demo

    plain = study_from_config(demo_config(siting=False))
    demo = demo_study("synthetic")
    assert plain.network_edits is None and plain.validation == ()
    assert plain.boundary is demo.boundary and plain.water is demo.water
    assert plain.label == demo.label and plain.label_en == demo.label_en
    assert plain.key == study_from_config(demo_config(siting=False)).key
    # Close one bridge: the edit report is kept and the network token changes.
    net = load_demo("synthetic").network
    e = int(np.flatnonzero(np.asarray(net.edge_attrs["bridge"]).astype(bool))[0])
    g = net.geometry[e]
    a, b = g.interpolate(0.2, normalized=True), g.interpolate(0.8, normalized=True)
    tr = pyproj.Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True)
    (x0, x1), (y0, y1) = tr.transform([a.x, b.x], [a.y, b.y])
    (tmp_path / "closed.toml").write_text(
        'demo = "synthetic"\n[[network_edits]]\naction = "close"\n'
        f'coords = [[{x0}, {y0}], [{x1}, {y1}]]\nname = "bridge"\n',
        encoding="utf-8",
    )
    closed = study_from_config(load_config(tmp_path / "closed.toml"))
    assert closed.network_edits is not None and bool(closed.network_edits["applied"].all())
    assert dict(closed.parts)["network"] != dict(plain.parts)["network"]
    assert dict(closed.parts)["demand"] == dict(plain.parts)["demand"]
