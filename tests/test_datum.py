"""Datum transforms: published coordinate pairs and sub-metre round trips."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest

from geo import datum
from geo.errors import CoordinateError

GEOD = pyproj.Geod(ellps="WGS84")


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    _, _, d = GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(d)


def test_forward_matches_published_pairs():
    # coordTransform_py README values (the same public formulas), exact to 1e-9 degrees.
    lon, lat = datum.wgs84_to_gcj02(116.404, 39.915)
    assert lon == pytest.approx(116.41024449916938, abs=1e-9)
    assert lat == pytest.approx(39.91640428150164, abs=1e-9)
    lon, lat = datum.gcj02_to_bd09(116.404, 39.915)
    assert lon == pytest.approx(116.41036949371029, abs=1e-9)
    assert lat == pytest.approx(39.92133699351021, abs=1e-9)


def test_tiananmen_wgs84_to_gcj02_is_within_a_metre_of_the_published_pair():
    lon, lat = datum.from_wgs84(116.397128, 39.916527, crs="gcj02")
    assert _metres(lon, lat, 116.403366, 39.917927) < 1.0
    # And the offset itself is the familiar few hundred metres.
    assert 400 < _metres(116.397128, 39.916527, lon, lat) < 700


def test_inverse_round_trip_under_a_millimetre_over_china():
    lon, lat = np.meshgrid(np.linspace(73.7, 134.9, 60), np.linspace(18.2, 53.4, 60))
    lon, lat = lon.ravel(), lat.ravel()
    for crs in ("gcj02", "bd09"):
        shifted = datum.from_wgs84(lon, lat, crs=crs)
        assert _metres(lon, lat, *shifted).min() > 10  # the shift is real everywhere here
        back = datum.to_wgs84(*shifted, crs=crs)
        err = _metres(lon, lat, *back)
        assert err.max() < 1e-3, crs
        assert np.abs(back[0] - lon).max() < 1e-9
        assert np.abs(back[1] - lat).max() < 1e-9


def test_inverse_beats_the_one_step_approximation():
    # The usual shortcut (2*g - f(g)) is off by centimetres; the iteration is not.
    g_lon, g_lat = 116.404, 39.915
    w_lon, w_lat = datum.gcj02_to_wgs84(g_lon, g_lat)
    f_lon, f_lat = datum.wgs84_to_gcj02(w_lon, w_lat)
    assert abs(f_lon - g_lon) < 1e-10 and abs(f_lat - g_lat) < 1e-10


def test_gcj02_is_identity_outside_china_and_bd09_is_not():
    lon, lat = datum.from_wgs84([2.35, -74.0], [48.85, 40.7], crs="gcj02")
    np.testing.assert_array_equal(lon, [2.35, -74.0])
    np.testing.assert_array_equal(lat, [48.85, 40.7])
    b_lon, b_lat = datum.from_wgs84(2.35, 48.85, crs="bd09")
    assert b_lon != 2.35
    assert datum.to_wgs84(b_lon, b_lat, crs="bd09")[0] == pytest.approx(2.35, abs=1e-9)


def test_nan_passes_through_and_inputs_are_not_mutated():
    lon = np.array([118.78, np.nan])
    lat = np.array([32.04, 32.0])
    out = datum.to_wgs84(lon, lat, crs="bd09")
    assert np.isnan(out[0][1]) and np.isfinite(out[0][0])
    np.testing.assert_array_equal(lon[:1], [118.78])
    same = datum.to_wgs84(lon, lat, crs="wgs84")
    assert same[0] is not lon


def test_aliases_and_unknown_datum():
    assert datum.normalise_datum("GCJ-02") == "gcj02"
    assert datum.normalise_datum("高德") == "gcj02"
    assert datum.normalise_datum("Baidu") == "bd09"
    assert datum.normalise_datum("EPSG:4547") is None
    with pytest.raises(CoordinateError, match="unknown datum 'mars'"):
        datum.to_wgs84(1.0, 2.0, crs="mars")
