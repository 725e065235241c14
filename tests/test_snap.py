"""Snapping points to edges (not nodes), tolerance reporting and CRS handling."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from coverage.snap import snap_points, twin_edges
from geo.errors import CoordinateError, GeometryError
from geo.network import build_network, lattice_network

X0, Y0 = 500_000.0, 3_500_000.0


def test_point_snaps_to_edge_position_with_offset() -> None:
    net = lattice_network(3, 3, spacing=100.0)
    s = snap_points(net, (np.array([X0 + 30.0]), np.array([Y0 + 12.0])))
    e = int(s.edge[0])
    assert {int(net.u[e]), int(net.v[e])} == {0, 1}
    assert s.along_m[0] == pytest.approx(30.0 if net.u[e] == 0 else 70.0)
    assert s.offset_m[0] == pytest.approx(12.0)
    assert s.ok.all()


def test_point_beyond_tolerance_is_reported_not_snapped() -> None:
    net = lattice_network(3, 3, spacing=100.0)
    s = snap_points(net, (np.array([X0 + 50.0, X0 - 250.0]), np.array([Y0, Y0])), tolerance_m=200)
    assert s.ok.tolist() == [True, False]
    assert s.edge[1] == -1
    assert np.isnan(s.along_m[1])
    assert s.offset_m[1] == pytest.approx(250.0)


def test_geodataframe_in_wgs84_is_projected() -> None:
    net = lattice_network(3, 3, spacing=100.0)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([X0 + 40.0], [Y0 + 5.0]), crs=net.crs)
    s = snap_points(net, pts.to_crs(4326))
    assert s.x[0] == pytest.approx(X0 + 40.0, abs=1e-6)
    assert s.offset_m[0] == pytest.approx(5.0, abs=1e-6)


def test_along_uses_network_length_units() -> None:
    # A geometry of 100 m with a recorded length of 150 m: positions scale to the recorded one.
    net = build_network(
        x=np.array([X0, X0 + 100.0]),
        y=np.array([Y0, Y0]),
        u=np.array([0]),
        v=np.array([1]),
        crs="EPSG:32650",
        length=np.array([150.0]),
    )
    s = snap_points(net, (np.array([X0 + 50.0]), np.array([Y0 + 1.0])))
    assert s.along_m[0] == pytest.approx(75.0)


def test_directed_two_way_street_snaps_to_one_canonical_edge() -> None:
    net = build_network(
        x=np.array([X0, X0 + 100.0, X0 + 200.0]),
        y=np.array([Y0, Y0, Y0]),
        u=np.array([1, 0, 1]),
        v=np.array([0, 1, 2]),
        crs="EPSG:32650",
        mode="drive",
    )
    twin = twin_edges(net)
    assert sorted(twin[:2].tolist()) == [0, 1] and twin[2] == -1
    s = snap_points(net, (np.array([X0 + 20.0, X0 + 80.0]), np.array([Y0, Y0])))
    assert s.edge[0] == s.edge[1] == min(0, 1)
    # along is measured from the canonical edge's u end.
    e = int(s.edge[0])
    start = net.x[net.u[e]]
    assert s.along_m[0] == pytest.approx(abs(X0 + 20.0 - start))


def test_bad_inputs_raise_helpful_errors() -> None:
    net = lattice_network(3, 3)
    with pytest.raises(GeometryError, match="GeoDataFrame"):
        snap_points(net, [1, 2])
    with pytest.raises(CoordinateError, match="non-finite"):
        snap_points(net, (np.array([np.nan]), np.array([Y0])))
    with pytest.raises(CoordinateError, match="tolerance"):
        snap_points(net, (np.array([X0]), np.array([Y0])), tolerance_m=-1)


def test_empty_input() -> None:
    s = snap_points(lattice_network(3, 3), (np.array([]), np.array([])))
    assert len(s) == 0 and s.ok.size == 0
