"""Facilities, buildings and land use from OpenStreetMap (local files or online, cached).

Facilities follow the Facilities contract (CONTRACTS.md) for any taxonomy category, matched with
each category's ``osm`` tag filters from ``data/categories.toml``: a feature matches a filter
when it has every key of the filter with one of the listed values (``true`` = any value). Ways
and multipolygons become their representative point (always inside the polygon, unlike a
centroid of an L-shaped compound). The same source a network came from can be passed: an
``.osm``/``.osm.pbf`` file, a place name, a WGS-84 polygon or a (west, south, east, north) box.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.facilities import FACILITY_COLUMNS as CONTRACT_COLUMNS
from geo.network import WGS84
from geo.osm_parse import FEATURE_EXTRA_TAGS, display_name, osm_bounds, read_osm_features
from geo.roads import StudyArea, study_area_wgs84
from geo.taxonomy import Category, categories, get_category

logger = logging.getLogger(__name__)

__all__ = [
    "FACILITY_COLUMNS",
    "buildings_from_osm",
    "facilities_from_osm",
    "land_areas_from_osm",
    "landuse_from_osm",
    "osmnx_tags_for",
]

Source: TypeAlias = str | Path | BaseGeometry | tuple[float, float, float, float]

#: Columns of the facilities frame, in order (``osm_id``, ``raw_category`` are the optional ones).
FACILITY_COLUMNS: tuple[str, ...] = (*CONTRACT_COLUMNS, "osm_id", "raw_category")

_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)")


def _is_file(source: Source) -> bool:
    if isinstance(source, Path):
        return True
    return isinstance(source, str) and (
        source.lower().endswith((".osm", ".osm.xml", ".xml", ".pbf")) or Path(source).is_file()
    )


def _number(value: Any) -> float:
    """Leading number of a tag value ("12", "6;7", "3.5 m"), NaN when there is none."""
    if value is None:
        return float("nan")
    m = _NUMBER.match(str(value))
    return float(m.group(1)) if m else float("nan")


def _clean(record: Mapping[str, Any]) -> dict[str, str]:
    """Tags of a record that are present (cached GeoJSON may give NaN for absent ones)."""
    return {k: v for k, v in record.items() if isinstance(v, str) and v}


def _strict_number(value: Any) -> float:
    """A tag value that is a plain number ("120"), NaN otherwise ("yes", "about 100")."""
    if value is None:
        return float("nan")
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*", str(value))
    return float(m.group(1)) if m else float("nan")


def _raw(
    source: Source,
    *,
    keys: Iterable[str],
    osmnx_tags: dict[str, Any],
    extra_tags: Iterable[str] = FEATURE_EXTRA_TAGS,
) -> tuple[gpd.GeoDataFrame, BaseGeometry | None, str]:
    """Features with any of ``keys`` from a file or online; also the source's own clip area.

    ``extra_tags`` are further tags kept from a file (online results carry every tag).
    """
    if isinstance(source, str | Path) and _is_file(source):
        path = Path(source)
        raw = read_osm_features(path, keys=keys, extra_tags=extra_tags)
        bounds = osm_bounds(path)
        return raw, (shapely.box(*bounds) if bounds else None), path.name
    from geo.online import features_from_online

    raw = features_from_online(source, tags=osmnx_tags)  # type: ignore[arg-type]
    if isinstance(source, BaseGeometry):
        return raw, source, "osm"
    if isinstance(source, tuple | list):
        return raw, shapely.box(*source), "osm"
    return raw, None, "osm"


def _clip(gdf: gpd.GeoDataFrame, area: BaseGeometry | None) -> gpd.GeoDataFrame:
    if area is None or gdf.empty:
        return gdf
    return gdf[shapely.intersects(gdf.geometry.to_numpy(), area)]


def _matches(raw: gpd.GeoDataFrame, filt: Mapping[str, Any]) -> np.ndarray:
    mask = np.ones(len(raw), dtype=bool)
    for key, values in filt.items():
        if key not in raw.columns:
            return np.zeros(len(raw), dtype=bool)
        col = raw[key]
        if values is True:
            mask &= col.notna().to_numpy()
        else:
            mask &= col.isin([str(v) for v in values]).to_numpy()
    return mask


def _filter_text(filt: Mapping[str, Any]) -> str:
    return " + ".join(f"{k}={'*' if v is True else '|'.join(v)}" for k, v in filt.items())


def osmnx_tags_for(cats: Iterable[Category]) -> dict[str, Any]:
    """Return osmnx ``tags`` that fetch a superset of what the categories' filters match."""
    tags: dict[str, Any] = {}
    for cat in cats:
        for filt in cat.osm:
            key, values = next(iter(filt.items()))
            if values is True or tags.get(key) is True:
                tags[key] = True
            else:
                tags[key] = sorted({*tags.get(key, []), *values})
    return tags


def _empty_facilities() -> gpd.GeoDataFrame:
    data = {
        c: pd.Series(dtype="float64" if c == "capacity" else "object") for c in FACILITY_COLUMNS
    }
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84)


def facilities_from_osm(
    source: Source,
    *,
    categories: Iterable[str] | None = None,
    study_area: StudyArea | None = None,
) -> gpd.GeoDataFrame:
    """Facilities of taxonomy categories from OpenStreetMap.

    Parameters
    ----------
    source
        ``.osm``/``.osm.pbf`` file, place name, WGS-84 polygon or (west, south, east, north).
    categories
        Taxonomy keys; all categories by default.
    study_area
        Keep facilities inside this polygon (WGS-84, or a GeoDataFrame in any CRS). Without
        it a file is clipped to the bounds it declares, a polygon/bbox query to itself.

    Returns
    -------
    geopandas.GeoDataFrame
        Facilities contract: ``facility_id``, ``name``, ``category``, ``capacity`` (NaN when not
        tagged as a number), ``source`` ("osm"), ``osm_id`` ("node/123", "way/456"),
        ``raw_category`` (the filter that matched, e.g. ``amenity=clinic|doctors|hospital``);
        WGS-84 points, RangeIndex. A feature matching two categories appears once per category.
    """
    keys = list(categories) if categories is not None else list(_all_keys())
    cats = [get_category(k) for k in keys]
    tag_keys = sorted({k for cat in cats for filt in cat.osm for k in filt})
    raw, own_area, label = _raw(source, keys=tag_keys, osmnx_tags=osmnx_tags_for(cats))
    area = study_area_wgs84(study_area) if study_area is not None else own_area
    frames = []
    for cat in cats:
        hit = np.zeros(len(raw), dtype=bool)
        why = np.full(len(raw), "", dtype=object)
        for filt in cat.osm:
            m = _matches(raw, filt) & ~hit
            why[m] = _filter_text(filt)
            hit |= m
        if not hit.any():
            continue
        sub = raw[hit]
        points = shapely.point_on_surface(sub.geometry.to_numpy())
        tags = sub.drop(columns=sub.geometry.name).to_dict("records")
        capacity = [
            _strict_number(t.get("capacity"))
            if np.isfinite(_strict_number(t.get("capacity")))
            else _strict_number(t.get("beds"))
            for t in tags
        ]
        frames.append(
            gpd.GeoDataFrame(
                {
                    "facility_id": [f"{cat.key}:{i}" for i in sub["osm_id"]],
                    "name": [display_name(_clean(t)) for t in tags],
                    "category": cat.key,
                    "capacity": np.asarray(capacity, dtype="float64"),
                    "source": "osm",
                    "osm_id": sub["osm_id"].to_numpy(dtype=object),
                    "raw_category": why[hit],
                },
                geometry=points,
                crs=WGS84,
            )
        )
    if not frames:
        logger.info("%s: no OSM facilities for %s", label, ", ".join(keys))
        return _empty_facilities()
    out = pd.concat(frames, ignore_index=True)
    out = _clip(out, area).reset_index(drop=True)
    logger.info(
        "%s: OSM facilities %s", label, out["category"].value_counts().to_dict() if len(out) else {}
    )
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84)


def _all_keys() -> list[str]:
    return list(categories())


def _polygons(raw: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    kind = shapely.get_type_id(raw.geometry.to_numpy())
    return raw[(kind == 3) | (kind == 6)]


def _nonres_keys() -> tuple[str, ...]:
    from geo.demand import demand_rules

    return demand_rules().nonres_keys


def _nonres_tag(tags: Mapping[str, Any], keys: Iterable[str]) -> str:
    """``"shop=mall;amenity=bank"``: the footprint's own tags that say it is not a home."""
    found = [f"{k}={tags[k]}" for k in keys if isinstance(tags.get(k), str) and tags[k] != "no"]
    return ";".join(found)


def buildings_from_osm(source: Source, *, study_area: StudyArea | None = None) -> gpd.GeoDataFrame:
    """Building footprints from OpenStreetMap (for population estimates).

    Returns
    -------
    geopandas.GeoDataFrame
        WGS-84 polygons with ``osm_id``, ``building`` (the tag value, e.g. ``residential``,
        ``apartments``, ``yes``), ``levels`` (float from ``building:levels``, NaN when missing),
        ``height`` (metres, NaN when missing), ``name`` and ``nonres_tag`` (the footprint's own
        tags among ``data/demand_rules.toml`` ``non_residential_keys``, e.g.
        ``"shop=mall;amenity=cinema"``, "" when none); clipped to ``study_area`` (or the file's
        bounds / the query polygon) by intersection.
    """
    keys = _nonres_keys()
    raw, own_area, _ = _raw(
        source,
        keys=["building"],
        osmnx_tags={"building": True},
        extra_tags=(*FEATURE_EXTRA_TAGS, *keys),
    )
    area = study_area_wgs84(study_area) if study_area is not None else own_area
    raw = _polygons(raw)
    if "building" in raw.columns:
        raw = raw[raw["building"].notna() & (raw["building"] != "no")]
    raw = _clip(raw, area)
    records = raw.drop(columns=raw.geometry.name).to_dict("records") if len(raw) else []
    return gpd.GeoDataFrame(
        {
            "osm_id": raw["osm_id"].to_numpy(dtype=object) if len(raw) else [],
            "building": [t.get("building") for t in records],
            "levels": np.asarray(
                [_number(t.get("building:levels")) for t in records], dtype="float64"
            ),
            "height": np.asarray([_number(t.get("height")) for t in records], dtype="float64"),
            "name": [display_name(_clean(t)) for t in records],
            "nonres_tag": [_nonres_tag(t, keys) for t in records],
        },
        geometry=gpd.GeoSeries(raw.geometry.to_numpy() if len(raw) else [], crs=WGS84),
        crs=WGS84,
    )


def land_areas_from_osm(source: Source, *, study_area: StudyArea | None = None) -> gpd.GeoDataFrame:
    """Area polygons that tell whether the buildings on them are homes.

    Land use (``landuse=residential``, ``commercial``, ``education``, ...) and the area keys of
    ``data/demand_rules.toml`` (``amenity=university`` campuses, ``leisure=park``, ...), for
    :func:`geo.demand.demand_from_buildings` ``areas=``.

    Returns
    -------
    geopandas.GeoDataFrame
        WGS-84 polygons with ``osm_id``, ``name`` and one column per key (``landuse``,
        ``amenity``, ``leisure``, ...; ``None`` when absent), clipped like
        :func:`buildings_from_osm`.
    """
    from geo.demand import demand_rules

    rules = demand_rules()
    keys = list(dict.fromkeys(("landuse", *rules.nonres_areas)))
    osmnx_tags: dict[str, Any] = {"landuse": True}
    for key, values in rules.nonres_areas.items():
        if key != "landuse":
            osmnx_tags[key] = True if "*" in values else sorted(values)
    raw, own_area, _ = _raw(
        source, keys=keys, osmnx_tags=osmnx_tags, extra_tags=(*FEATURE_EXTRA_TAGS, "building")
    )
    area = study_area_wgs84(study_area) if study_area is not None else own_area
    raw = _polygons(raw)
    wanted = np.zeros(len(raw), dtype=bool)
    for key in keys:
        if key not in raw.columns:
            continue
        vals = raw[key].astype(object).where(raw[key].notna(), None)
        present = vals.map(lambda v: isinstance(v, str) and v not in ("", "no")).to_numpy()
        values = rules.nonres_areas.get(key, frozenset())
        if key == "landuse" or "*" in values:
            wanted |= present
        else:
            lower = np.array([str(v).lower() for v in vals], dtype=object)
            wanted |= present & np.isin(lower, list(values))
    if "building" in raw.columns:
        # A building is not land around buildings (a cinema building holds no homes).
        wanted &= ~raw["building"].map(lambda v: isinstance(v, str) and v != "no").to_numpy()
    raw = _clip(raw[wanted], area)
    cols = {
        k: (raw[k].to_numpy(dtype=object) if k in raw.columns else [None] * len(raw)) for k in keys
    }
    records = raw.drop(columns=raw.geometry.name).to_dict("records") if len(raw) else []
    return gpd.GeoDataFrame(
        {
            "osm_id": raw["osm_id"].to_numpy(dtype=object) if len(raw) else [],
            "name": [display_name(_clean(t)) for t in records],
            **cols,
        },
        geometry=gpd.GeoSeries(raw.geometry.to_numpy() if len(raw) else [], crs=WGS84),
        crs=WGS84,
    )


def landuse_from_osm(
    source: Source,
    *,
    values: Iterable[str] = ("residential",),
    study_area: StudyArea | None = None,
) -> gpd.GeoDataFrame:
    """Land-use polygons (``landuse=residential`` by default) from OpenStreetMap.

    Returns
    -------
    geopandas.GeoDataFrame
        WGS-84 polygons with ``osm_id``, ``landuse`` and ``name``.
    """
    wanted = [str(v) for v in values]
    raw, own_area, _ = _raw(source, keys=["landuse"], osmnx_tags={"landuse": wanted})
    area = study_area_wgs84(study_area) if study_area is not None else own_area
    raw = _polygons(raw)
    raw = raw[raw["landuse"].isin(wanted)] if "landuse" in raw.columns else raw.iloc[0:0]
    raw = _clip(raw, area)
    records = raw.drop(columns=raw.geometry.name).to_dict("records") if len(raw) else []
    return gpd.GeoDataFrame(
        {
            "osm_id": raw["osm_id"].to_numpy(dtype=object) if len(raw) else [],
            "landuse": [t.get("landuse") for t in records],
            "name": [display_name(_clean(t)) for t in records],
        },
        geometry=gpd.GeoSeries(raw.geometry.to_numpy() if len(raw) else [], crs=WGS84),
        crs=WGS84,
    )
