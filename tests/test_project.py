"""Project files open exactly as saved; other files and versions are refused by name."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pandas as pd
import pytest

from coverage.analysis import analyse
from geo.network import lattice_network
from study.demo import load_demo
from study.project import FORMAT_VERSION, ProjectError, open_project, save_project


def test_demo_round_trip_gives_identical_networks_frames_and_numbers(tmp_path):
    demo = load_demo("synthetic")
    meta = {"criteria": {"elderly_canteen": {"minutes": 15}}, "scenarios": [{"name": "新增"}]}
    path = save_project(
        tmp_path / "demo.lcc.gpkg",
        network=demo.network,
        facilities=demo.facilities,
        demand=demo.demand,
        boundary=demo.boundary,
        communities=demo.communities,
        meta=meta,
    )
    proj = open_project(path)
    net, ref = proj.network, demo.network
    for attr in ("x", "y", "u", "v", "length", "node_ids"):
        np.testing.assert_array_equal(getattr(net, attr), getattr(ref, attr))
    assert (net.csr != ref.csr).nnz == 0
    assert net.crs == ref.crs and net.mode == ref.mode and net.directed == ref.directed
    assert net.report == ref.report
    assert set(net.edge_attrs) == set(ref.edge_attrs)
    pd.testing.assert_frame_equal(
        pd.DataFrame(proj.facilities.drop(columns="geometry")),
        pd.DataFrame(demo.facilities.drop(columns="geometry")),
        check_dtype=False,
    )
    assert proj.meta == meta
    a = analyse(ref, demo.demand, demo.facilities).summary
    b = analyse(net, proj.demand, proj.facilities).summary
    pd.testing.assert_frame_equal(a, b)


def test_other_files_and_versions_are_refused(tmp_path):
    net = lattice_network(3, 3)
    demo = load_demo("synthetic")
    path = save_project(
        tmp_path / "p.lcc.gpkg", network=net, facilities=demo.facilities, demand=demo.demand
    )
    with sqlite3.connect(path) as con:
        con.execute("UPDATE lcc_project SET value = ? WHERE key = 'version'", (json.dumps("9.1"),))
    with pytest.raises(ProjectError, match=r"p\.lcc\.gpkg: project file version 9\.1"):
        open_project(path)
    plain = tmp_path / "layers.gpkg"
    demo.facilities.to_file(plain, layer="facilities", driver="GPKG")
    with pytest.raises(ProjectError, match="not a project file"):
        open_project(plain)
    junk = tmp_path / "junk.lcc.gpkg"
    junk.write_bytes(b"not sqlite at all" * 10)
    with pytest.raises(ProjectError, match=r"junk\.lcc\.gpkg: not a project file"):
        open_project(junk)
    with pytest.raises(ProjectError, match="no such project file"):
        open_project(tmp_path / "missing.lcc.gpkg")
    assert FORMAT_VERSION.startswith("1.")
