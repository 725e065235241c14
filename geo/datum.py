"""Chinese map datums: WGS-84 ↔ GCJ-02 ↔ BD-09, vectorised with numpy.

Amap (高德) and Tencent use GCJ-02, Baidu uses BD-09; OpenStreetMap, GPS and Tianditu use WGS-84
(CGCS2000 differs from WGS-84 by centimetres). The forward transforms are the public formulas
("eviltransform": Krasovsky ellipsoid ``a = 6378245.0``, ``ee = 0.00669342162296594323``; BD-09
from GCJ-02 with ``x_pi = pi * 3000 / 180``). They have no closed-form inverse, so the inverses
iterate the forward formula (fixed point) until the round trip error is below ``1e-10`` degrees
(about 0.01 mm), far under the 1 m the tool promises.

GCJ-02 is the identity outside mainland China's bounding box (the same ``out_of_china`` test the
formulas were published with); BD-09 is not (its shift applies everywhere).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from geo.errors import CoordinateError
from geo.messages import msg

__all__ = [
    "DATUMS",
    "DATUM_ALIASES",
    "bd09_to_gcj02",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "normalise_datum",
    "out_of_china",
    "to_wgs84",
    "wgs84_to_gcj02",
]

_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

#: Datum names accepted by :func:`to_wgs84` and :func:`from_wgs84`, with common aliases.
DATUM_ALIASES: dict[str, str] = {
    "wgs84": "wgs84",
    "wgs-84": "wgs84",
    "wgs": "wgs84",
    "epsg:4326": "wgs84",
    "4326": "wgs84",
    "gps": "wgs84",
    "osm": "wgs84",
    "cgcs2000": "wgs84",
    "epsg:4490": "wgs84",
    "tianditu": "wgs84",
    "天地图": "wgs84",
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "gcj": "gcj02",
    "amap": "gcj02",
    "gaode": "gcj02",
    "高德": "gcj02",
    "tencent": "gcj02",
    "腾讯": "gcj02",
    "火星坐标": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
    "bd09ll": "bd09",
    "baidu": "bd09",
    "百度": "bd09",
}

#: Stable datum keys.
DATUMS: tuple[str, ...] = ("wgs84", "gcj02", "bd09")

_TOL_DEG = 1e-10
_MAX_ITER = 50


def normalise_datum(crs: str) -> str | None:
    """Return ``"wgs84"``, ``"gcj02"`` or ``"bd09"`` for a datum name or alias, else ``None``.

    ``None`` means the string is not one of the three lon/lat datums (it may still be a CRS that
    pyproj understands, such as ``"EPSG:4547"``).
    """
    key = str(crs).strip().lower().replace(" ", "").replace("_", "")
    return DATUM_ALIASES.get(key)


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> np.ndarray:
    """True where a point lies outside the box in which GCJ-02 applies."""
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _delta_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _delta_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Forward WGS-84 → GCJ-02 (identity outside China)."""
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    dlat = _delta_lat(lon - 105.0, lat - 35.0)
    dlon = _delta_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, lon, lon + dlon), np.where(outside, lat, lat + dlat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Forward GCJ-02 → BD-09."""
    x = np.asarray(lon, dtype="float64")
    y = np.asarray(lat, dtype="float64")
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd09_to_gcj02_approx(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # The published closed-form approximation; only a starting point for the iteration.
    x = lon - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _invert(
    forward: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    lon: np.ndarray,
    lat: np.ndarray,
    start: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    # Fixed-point iteration x <- x - (f(x) - target). The shifts vary by ~1e-5 per degree, so
    # the map is a strong contraction and converges in a handful of steps.
    x, y = (np.array(a, dtype="float64", copy=True) for a in start)
    for _ in range(_MAX_ITER):
        fx, fy = forward(x, y)
        ex, ey = fx - lon, fy - lat
        x -= ex
        y -= ey
        err = np.maximum(np.abs(ex), np.abs(ey))
        if not np.any(err[np.isfinite(err)] > _TOL_DEG):
            break
    return x, y


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Inverse GCJ-02 → WGS-84 (iterated; round trip error < 1e-9 degrees)."""
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    return _invert(wgs84_to_gcj02, lon, lat, (lon, lat))


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Inverse BD-09 → GCJ-02 (iterated; round trip error < 1e-9 degrees)."""
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    return _invert(gcj02_to_bd09, lon, lat, _bd09_to_gcj02_approx(lon, lat))


def _check(crs: str) -> str:
    key = normalise_datum(crs)
    if key is None:
        raise CoordinateError(msg("loaders.datum.unknown", crs=repr(crs)))
    return key


def to_wgs84(
    lon: ArrayLike, lat: ArrayLike, *, crs: str = "wgs84"
) -> tuple[np.ndarray, np.ndarray]:
    """Convert lon/lat arrays from ``crs`` (``"wgs84"``, ``"gcj02"``, ``"bd09"``) to WGS-84.

    Parameters
    ----------
    lon, lat
        Longitudes and latitudes in degrees (NaN passes through).
    crs
        The datum of the input (aliases such as ``"amap"`` or ``"baidu"`` are accepted).

    Returns
    -------
    tuple of numpy.ndarray
        WGS-84 longitudes and latitudes (new arrays).
    """
    key = _check(crs)
    lon = np.array(lon, dtype="float64", copy=True)
    lat = np.array(lat, dtype="float64", copy=True)
    if key == "wgs84":
        return lon, lat
    if key == "bd09":
        lon, lat = bd09_to_gcj02(lon, lat)
    return gcj02_to_wgs84(lon, lat)


def from_wgs84(
    lon: ArrayLike, lat: ArrayLike, *, crs: str = "wgs84"
) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS-84 lon/lat arrays to ``crs`` (``"wgs84"``, ``"gcj02"``, ``"bd09"``).

    Used to draw on offset basemaps (Amap, Baidu) and to export for Chinese map services.

    Parameters
    ----------
    lon, lat
        WGS-84 longitudes and latitudes in degrees.
    crs
        The target datum.

    Returns
    -------
    tuple of numpy.ndarray
        Longitudes and latitudes in the target datum (new arrays).
    """
    key = _check(crs)
    lon = np.array(lon, dtype="float64", copy=True)
    lat = np.array(lat, dtype="float64", copy=True)
    if key == "wgs84":
        return lon, lat
    lon, lat = wgs84_to_gcj02(lon, lat)
    if key == "bd09":
        lon, lat = gcj02_to_bd09(lon, lat)
    return lon, lat
