"""Download networks and features from OpenStreetMap with osmnx, cached on disk.

osmnx caches raw HTTP responses, but those can be cleared, and a place query still needs the
geocoder. Here every result is also saved under ``settings.cache_folder`` keyed by a hash of the
query and the mode (networks as GraphML, features as GeoJSON), so a second open of the same query
needs no internet at all. The Overpass and Nominatim endpoints come from ``settings`` (mainland
users usually need mirrors: ``LCC_OVERPASS_URL`` / ``LCC_NOMINATIM_URL``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeAlias

import geopandas as gpd
import requests
import shapely
from shapely.geometry.base import BaseGeometry

from geo import settings
from geo.errors import EmptyNetworkError, NetworkError, OfflineError
from geo.messages import msg
from geo.network import WGS84
from geo.osm_parse import check_mode

logger = logging.getLogger(__name__)

__all__ = [
    "Query",
    "cache_path",
    "describe_query",
    "features_from_online",
    "graph_from_online",
]

Query: TypeAlias = str | BaseGeometry | tuple[float, float, float, float]


def describe_query(query: Query) -> tuple[str, str]:
    """Return ``(kind, canonical text)`` of a place name, WGS-84 polygon or bbox query."""
    if isinstance(query, str):
        text = query.strip()
        if not text:
            raise NetworkError(msg("geo.online.empty_place"))
        return "place", text
    if isinstance(query, BaseGeometry):
        if query.geom_type not in ("Polygon", "MultiPolygon") or query.is_empty:
            raise NetworkError(msg("geo.online.not_polygon", got=query.geom_type))
        return "polygon", shapely.to_wkt(query, rounding_precision=7)
    if isinstance(query, tuple | list) and len(query) == 4:
        west, south, east, north = (float(c) for c in query)
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise NetworkError(msg("geo.online.bad_box", box=tuple(query)))
        return "bbox", json.dumps([round(c, 7) for c in (west, south, east, north)])
    raise NetworkError(msg("geo.online.unknown_query", kind=type(query).__name__))


def cache_path(kind: str, text: str, what: str, suffix: str) -> Path:
    """Where a query's result is cached (``settings.cache_folder`` read at call time)."""
    digest = hashlib.sha256(json.dumps([kind, text, what]).encode()).hexdigest()[:20]
    return Path(settings.cache_folder) / "osm" / f"{kind}-{digest}{suffix}"


def _label(kind: str, text: str) -> str:
    if kind == "place":
        return msg("geo.online.label_place", text=text)
    if kind == "bbox":
        return msg("geo.online.label_bbox", text=text)
    return msg("geo.online.label_polygon")


@contextlib.contextmanager
def _osmnx_settings() -> Iterator[Any]:
    """Configure osmnx with our endpoints, timeout and cache; restore its settings after."""
    import osmnx as ox

    names = ("overpass_url", "nominatim_url", "requests_timeout", "cache_folder", "use_cache")
    saved = {n: getattr(ox.settings, n) for n in names}
    ox.settings.overpass_url = settings.overpass_url
    ox.settings.nominatim_url = settings.nominatim_url
    ox.settings.requests_timeout = settings.overpass_timeout_s
    ox.settings.cache_folder = str(Path(settings.cache_folder) / "osmnx")
    ox.settings.use_cache = True
    try:
        yield ox
    finally:
        for n, value in saved.items():
            setattr(ox.settings, n, value)


def _offline(label: str, exc: BaseException) -> OfflineError:
    return OfflineError(
        msg(
            "geo.online.offline",
            label=label,
            url=settings.overpass_url,
            error=type(exc).__name__,
        )
    )


def _download(label: str, call: Any) -> Any:
    """Run an osmnx download, translating its failures into our errors."""
    import osmnx as ox

    try:
        return call()
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout, OSError) as exc:
        raise _offline(label, exc) from exc
    except ox._errors.ResponseStatusCodeError as exc:
        raise NetworkError(
            msg("geo.online.server_error", label=label, url=settings.overpass_url, error=str(exc))
        ) from exc


def _write_atomic(path: Path, write: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    write(tmp)
    os.replace(tmp, path)


def graph_from_online(query: Query, *, mode: str = "walk") -> tuple[Any, str]:
    """Download (or read from the cache) the osmnx graph of a place, polygon or bbox.

    Parameters
    ----------
    query
        Place name (geocoded by Nominatim), WGS-84 polygon, or (west, south, east, north).
    mode
        ``"walk"``, ``"bike"`` or ``"drive"`` (the osmnx network type of the same name).

    Returns
    -------
    tuple
        ``(networkx.MultiDiGraph in WGS-84, source label)``.

    Raises
    ------
    OfflineError
        No connection and nothing cached.
    EmptyNetworkError
        The place is unknown or holds no streets for the mode.
    """
    check_mode(mode)
    kind, text = describe_query(query)
    label = _label(kind, text)
    path = cache_path(kind, text, f"graph:{mode}", ".graphml")
    with _osmnx_settings() as ox:
        if path.is_file():
            logger.info("%s: network read from the cache %s", label, path)
            return ox.load_graphml(path), msg("geo.online.cached", label=label)
        options = {"network_type": mode, "simplify": True, "retain_all": True}
        if kind == "place":
            fetch = lambda: ox.graph_from_place(text, **options)  # noqa: E731
        elif kind == "polygon":
            fetch = lambda: ox.graph_from_polygon(query, **options)  # noqa: E731
        else:
            fetch = lambda: ox.graph_from_bbox(tuple(json.loads(text)), **options)  # noqa: E731
        try:
            graph = _download(label, fetch)
        except ox._errors.InsufficientResponseError as exc:
            raise EmptyNetworkError(
                msg("geo.online.no_streets", label=label, mode=mode, error=str(exc))
            ) from exc
        _write_atomic(path, lambda p: ox.save_graphml(graph, p))
    logger.info("%s: network downloaded and cached as %s", label, path)
    return graph, label


def features_from_online(query: Query, *, tags: dict[str, Any]) -> gpd.GeoDataFrame:
    """Download (or read from the cache) OSM features matching osmnx ``tags``.

    Returns
    -------
    geopandas.GeoDataFrame
        WGS-84 with ``osm_id`` ("node/1", "way/2", "relation/3"), ``element``, the tag columns
        (strings, ``None`` when absent) and the geometry; empty when nothing matched.
    """
    kind, text = describe_query(query)
    label = _label(kind, text)
    what = "features:" + json.dumps(tags, sort_keys=True, default=str)
    path = cache_path(kind, text, what, ".geojson")
    if path.is_file():
        logger.info("%s: features read from the cache %s", label, path)
        gdf = gpd.read_file(path)
        return gdf.set_crs(WGS84, allow_override=True)
    with _osmnx_settings() as ox:
        if kind == "place":
            fetch = lambda: ox.features_from_place(text, tags)  # noqa: E731
        elif kind == "polygon":
            fetch = lambda: ox.features_from_polygon(query, tags)  # noqa: E731
        else:
            fetch = lambda: ox.features_from_bbox(tuple(json.loads(text)), tags)  # noqa: E731
        try:
            raw = _download(label, fetch)
        except ox._errors.InsufficientResponseError:
            raw = gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs=WGS84)
    gdf = _tidy_features(raw)
    _write_atomic(path, lambda p: gdf.to_file(p, driver="GeoJSON"))
    logger.info("%s: %d features downloaded and cached as %s", label, len(gdf), path)
    return gdf


def _tidy_features(raw: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Turn osmnx features (index ``element, id``) → our flat form with string tag columns."""
    if len(raw) == 0:
        return gpd.GeoDataFrame(
            {"osm_id": [], "element": []}, geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84
        )
    frame = raw.reset_index()
    element = frame["element"].astype(str)
    out = gpd.GeoDataFrame(
        {"osm_id": element + "/" + frame["id"].astype(str), "element": element},
        geometry=frame.geometry.to_numpy(),
        crs=raw.crs or WGS84,
    )
    for col in frame.columns:
        if col in ("element", "id", "geometry", "nodes", "ways") or col in out:
            continue
        values = frame[col]
        out[col] = [None if _missing(v) else str(v) for v in values]
    return out.to_crs(WGS84)


def _missing(value: Any) -> bool:
    try:
        return bool(value is None or value != value)  # NaN is the only value unequal to itself
    except (TypeError, ValueError):
        return False
