"""Population demand points: from buildings, from a community table, or from a grid.

Each loader returns the Demand GeoDataFrame of CONTRACTS.md (EPSG:4326 points with
``demand_id``, ``population``, ``elderly``, ``community``, ``kind``) and a
:class:`~geo.validation.ValidationReport`.

* :func:`demand_from_buildings`: residents ∝ footprint area × storeys; one point per building.
* :func:`demand_from_table`: the planner's community/compound table (points or polygons).
* :func:`demand_from_grid` / :func:`demand_grid`: a regular grid over residential land when no
  buildings are mapped, the population spread by land area.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import settings
from geo.columns import ColumnMapping, header_multiplier, norm_header, parse_amount
from geo.errors import ColumnNotFoundError, GeometryError, InputDataError
from geo.facilities import (
    assign_ids,
    column_texts,
    find_columns,
    locate_rows,
    study_area_polygon,
    table_report,
    with_input_columns,
)
from geo.messages import msg
from geo.network import WGS84, utm_crs_for
from geo.tables import Source, read_table
from geo.validation import Rejections, ValidationReport, list_rows

logger = logging.getLogger(__name__)

__all__ = [
    "DEMAND_COLUMNS",
    "EXCLUSION_COLUMNS",
    "KINDS",
    "BuildingsReport",
    "DemandRules",
    "classify_buildings",
    "demand_from_buildings",
    "demand_from_grid",
    "demand_from_table",
    "demand_grid",
    "demand_rules",
    "exclusion_table",
]

#: Kinds of demand points (CONTRACTS.md).
KINDS: tuple[str, ...] = ("building", "compound_gate", "community", "grid")

DEMAND_COLUMNS: tuple[str, ...] = ("demand_id", "population", "elderly", "community", "kind")

#: Storeys above this are treated as data errors and replaced by the default.
_MAX_LEVELS = 150


def _demand_frame(
    ids: np.ndarray,
    population: np.ndarray,
    elderly: np.ndarray,
    community: np.ndarray,
    kind: str,
    lon: np.ndarray,
    lat: np.ndarray,
) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "demand_id": _texts(ids),
            "population": np.asarray(population, dtype="float64"),
            "elderly": np.asarray(elderly, dtype="float64"),
            "community": _texts(community),
            "kind": np.full(len(ids), kind, dtype=object),
        },
        geometry=shapely.points(lon, lat),
        crs=WGS84,
    )


def _check_share(elderly_share: float | None) -> None:
    if elderly_share is not None and not 0 <= elderly_share <= 1:
        raise InputDataError(msg("loaders.demand.bad_share", value=repr(elderly_share)))


def _texts(values: np.ndarray) -> np.ndarray:
    """``values`` as an object array of ``str`` (missing → "")."""
    values = np.asarray(values, dtype=object)
    if pd.api.types.infer_dtype(values, skipna=False) == "string":
        return values  # already all text (a million ids): no string round trip
    return pd.Series(values, dtype=object).fillna("").astype(str).to_numpy(dtype=object)


def _only(geoms: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``geoms`` where ``mask`` holds, ``None`` elsewhere."""
    out = np.array(geoms, dtype=object, copy=True)
    out[~mask] = None
    return out


def _to_wgs84_geoms(gs: gpd.GeoSeries) -> gpd.GeoSeries:
    return gs.set_crs(WGS84) if gs.crs is None else gs.to_crs(WGS84)


# --------------------------------------------------------------------------- (a) buildings


#: Columns of :attr:`BuildingsReport.exclusions`.
EXCLUSION_COLUMNS: tuple[str, ...] = ("rule", "n_buildings", "area_m2")


@dataclass(frozen=True)
class DemandRules:
    """The rule tables of ``data/demand_rules.toml`` (see the comments there for the order)."""

    residential: frozenset[str]
    non_residential: frozenset[str]
    nonres_keys: tuple[str, ...]
    landuse_residential: frozenset[str]
    nonres_areas: dict[str, frozenset[str]]
    names_always: tuple[str, ...]
    names_outside_residential: tuple[str, ...]
    name_markers: tuple[str, ...]


@lru_cache(maxsize=4)
def demand_rules(path: Path | None = None) -> DemandRules:
    """Load the home / not-a-home rules from ``data/demand_rules.toml``.

    Parameters
    ----------
    path
        Another rules file with the same tables.

    Returns
    -------
    DemandRules
        Lower-cased value sets and word lists.
    """
    path = path or settings.data_folder / "demand_rules.toml"
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
        areas = raw["areas"]
        return DemandRules(
            residential=frozenset(v.lower() for v in raw["building"]["residential"]),
            non_residential=frozenset(v.lower() for v in raw["building"]["non_residential"]),
            nonres_keys=tuple(raw["tags"]["non_residential_keys"]),
            landuse_residential=frozenset(v.lower() for v in areas["landuse_residential"]),
            nonres_areas={
                k: frozenset(str(v).lower() for v in vals)
                for k, vals in areas["non_residential"].items()
            },
            names_always=tuple(raw["names"]["always"]),
            names_outside_residential=tuple(raw["names"]["outside_residential_land"]),
            name_markers=tuple(raw["names"]["residential_markers"]),
        )
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError) as exc:
        error = msg("loaders.demand.bad_rules", path=str(path), error=repr(exc))
        raise InputDataError(error) from exc


@dataclass
class BuildingsReport(ValidationReport):
    """A :class:`~geo.validation.ValidationReport` plus what the home rules left out.

    Attributes
    ----------
    exclusions
        One row per rule that excluded footprints: ``rule`` (e.g. ``building=retail``,
        ``shop=*``, ``landuse=commercial``, ``name 商场``), ``n_buildings``, ``area_m2``
        (footprint area), largest area first.
    excluded
        The excluded footprints (WGS-84 polygons) with ``osm_id``, ``building``, ``name`` and
        ``rule``, for a map layer.
    weighted
        Footprints counted with ``yes_weight`` (untyped, outside residential land).
    """

    exclusions: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {
                "rule": pd.Series([], dtype=object),
                "n_buildings": pd.Series([], dtype="int64"),
                "area_m2": pd.Series([], dtype="float64"),
            }
        )
    )
    excluded: gpd.GeoDataFrame | None = None
    weighted: int = 0


def _lower_texts(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    return np.array([t.strip().lower() for t in column_texts(frame, col)], dtype=object)


def _area_classes(
    points: np.ndarray, areas: gpd.GeoDataFrame | None, rules: DemandRules, utm: str
) -> tuple[np.ndarray, np.ndarray]:
    """Per point: the rule of the smallest area polygon holding it, and whether it is homes.

    Returns ``(rule, residential)``: ``rule`` is "" where no polygon classifies the point,
    ``landuse=residential`` style text otherwise; ``residential`` is True where that polygon is
    residential land.
    """
    n = points.shape[0]
    rule = np.full(n, "", dtype=object)
    homes = np.zeros(n, dtype=bool)
    if areas is None or len(areas) == 0:
        return rule, homes
    polys = _to_wgs84_geoms(areas.geometry).to_numpy()
    labels = np.full(len(areas), "", dtype=object)
    is_res = np.zeros(len(areas), dtype=bool)
    # Later keys only label polygons the earlier ones left unlabelled.
    for key in ("landuse", *[k for k in rules.nonres_areas if k != "landuse"]):
        vals = _lower_texts(areas, key)
        nonres = rules.nonres_areas.get(key, frozenset())
        any_value = "*" in nonres
        free = labels == ""
        if key == "landuse":
            res = free & np.isin(vals, list(rules.landuse_residential))
            labels[res] = [f"landuse={v}" for v in vals[res]]
            is_res |= res
            free = labels == ""
        hit = free & (vals != "") & (vals != "no") & (any_value | np.isin(vals, list(nonres)))
        labels[hit] = [f"{key}={v}" for v in vals[hit]]
    ok = (labels != "") & np.isin(shapely.get_type_id(polys), (3, 6))
    if not ok.any():
        return rule, homes
    polys, labels, is_res = polys[ok], labels[ok], is_res[ok]
    size = gpd.GeoSeries(polys, crs=WGS84).to_crs(utm).area.to_numpy()
    tree = shapely.STRtree(polys)
    valid = ~shapely.is_missing(points)
    pt_idx, poly_idx = tree.query(points[valid], predicate="within")
    if pt_idx.size == 0:
        return rule, homes
    pt_idx = np.flatnonzero(valid)[pt_idx]
    # The smallest polygon is the most specific: staff housing inside a campus.
    order = np.lexsort((size[poly_idx], pt_idx))
    pt_idx, poly_idx = pt_idx[order], poly_idx[order]
    first = np.ones(pt_idx.size, dtype=bool)
    first[1:] = pt_idx[1:] != pt_idx[:-1]
    rule[pt_idx[first]] = labels[poly_idx[first]]
    homes[pt_idx[first]] = is_res[poly_idx[first]]
    return rule, homes


def _name_rule(name: str, words: tuple[str, ...], markers: tuple[str, ...]) -> str:
    if not name or any(m in name for m in markers):
        return ""
    for w in words:
        if w in name:
            return f"name {w}"
    return ""


def classify_buildings(
    buildings: gpd.GeoDataFrame,
    *,
    areas: gpd.GeoDataFrame | None = None,
    residential_only: bool | None = None,
    include_building: Iterable[str] = (),
    exclude_building: Iterable[str] = (),
    yes_weight: float | None = None,
    rules: DemandRules | None = None,
) -> pd.DataFrame:
    """Which footprints are homes: a weight per building and the rule that decided it.

    Parameters
    ----------
    buildings
        Footprints with ``building`` and optionally ``name``, ``nonres_tag`` (as from
        :func:`geo.osm_features.buildings_from_osm`) or raw tag columns (``shop``,
        ``amenity``, ...). CRS: any (none = WGS-84).
    areas
        Land-use and other area polygons with tag columns (``landuse``, ``amenity``,
        ``leisure``, ...), as from :func:`geo.osm_features.land_areas_from_osm` or
        :func:`geo.osm_features.landuse_from_osm`.
    residential_only
        ``False``: every footprint is a home with weight 1 (the old behaviour). Default
        ``settings.demand_residential_only``.
    include_building, exclude_building
        ``building`` values forced in (a home, weight 1) or out, before every other rule.
    yes_weight
        Weight of untyped footprints outside residential land; default
        ``settings.demand_yes_weight``. Applies only when ``areas`` is given (without land use,
        whether a footprint is outside residential land is unknown and it counts fully).
    rules
        Rule tables; default :func:`demand_rules`.

    Returns
    -------
    pandas.DataFrame
        Same index as ``buildings``: ``weight`` (0 = not a home, else the share of its floor
        area that counts) and ``rule`` (the exclusion rule; ``yes_weight`` for down-weighted
        footprints; "" for homes).
    """
    rules = rules or demand_rules()
    only = settings.demand_residential_only if residential_only is None else residential_only
    w_yes = float(settings.demand_yes_weight if yes_weight is None else yes_weight)
    if not 0 <= w_yes <= 1:
        raise InputDataError(msg("loaders.demand.bad_yes_weight", value=repr(yes_weight)))
    verdict = _Verdict(len(buildings))
    if only:
        _classify_by_tags(verdict, buildings, rules, include_building, exclude_building)
        if not verdict.decided.all():
            _classify_by_place(verdict, buildings, areas, rules, w_yes)
    return pd.DataFrame({"weight": verdict.weight, "rule": verdict.rule}, index=buildings.index)


class _Verdict:
    """Weight and rule per building, each decided once: the first rule that applies wins."""

    def __init__(self, n: int) -> None:
        self.weight = np.ones(n)
        self.rule = np.full(n, "", dtype=object)
        self.decided = np.zeros(n, dtype=bool)

    def decide(self, mask: np.ndarray, labels: Any, w: float) -> None:
        """Give the undecided buildings of ``mask`` weight ``w`` and rule ``labels``."""
        m = mask & ~self.decided
        self.rule[m] = labels[m] if isinstance(labels, np.ndarray) else labels
        self.weight[m] = w
        self.decided[m] = True


def _classify_by_tags(
    verdict: _Verdict,
    buildings: gpd.GeoDataFrame,
    rules: DemandRules,
    include_building: Iterable[str],
    exclude_building: Iterable[str],
) -> None:
    """The rules that read a footprint's own tags (forced values, building type, shop=*)."""
    n = len(buildings)
    kinds = _lower_texts(buildings, "building")
    forced_in = np.isin(kinds, [str(v).strip().lower() for v in include_building])
    forced_out = np.isin(kinds, [str(v).strip().lower() for v in exclude_building])
    decide = verdict.decide
    decide(forced_out, np.array([f"exclude_building={k}" for k in kinds], dtype=object), 0.0)
    decide(forced_in, "", 1.0)
    decide(
        np.isin(kinds, list(rules.non_residential)),
        np.array([f"building={k}" for k in kinds], dtype=object),
        0.0,
    )
    tag_rule = np.full(n, "", dtype=object)
    if "nonres_tag" in buildings.columns:
        compact = column_texts(buildings, "nonres_tag")
        tag_rule = np.array([t.split(";")[0].strip() for t in compact], dtype=object)
    for key in rules.nonres_keys:
        vals = _lower_texts(buildings, key)
        hit = (tag_rule == "") & (vals != "") & (vals != "no")
        tag_rule[hit] = [f"{key}={v}" for v in vals[hit]]
    decide(tag_rule != "", tag_rule, 0.0)
    decide(np.isin(kinds, list(rules.residential)), "", 1.0)


def _classify_by_place(
    verdict: _Verdict,
    buildings: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame | None,
    rules: DemandRules,
    w_yes: float,
) -> None:
    """The rules that read where a footprint is (land use) and what it is called."""
    n = len(buildings)
    names = (
        column_texts(buildings, "name")
        if "name" in buildings.columns
        else np.full(n, "", dtype=object)
    )
    geoms = _to_wgs84_geoms(buildings.geometry).to_numpy()
    usable = ~shapely.is_missing(geoms)
    usable[usable] = ~shapely.is_empty(geoms[usable])
    pts = np.full(n, None, dtype=object)
    pts[usable] = shapely.point_on_surface(geoms[usable])
    if usable.any():
        c = shapely.centroid(shapely.union_all(shapely.envelope(geoms[usable])))
        utm = utm_crs_for(c.x, c.y)
    else:
        utm = "EPSG:3857"
    area_rule, in_homes = _area_classes(pts, areas, rules, utm)
    decide = verdict.decide
    decide((area_rule != "") & ~in_homes, area_rule, 0.0)
    always = np.array(
        [_name_rule(t, rules.names_always, rules.name_markers) for t in names], dtype=object
    )
    decide(always != "", always, 0.0)
    outside = np.array(
        [
            "" if h else _name_rule(t, rules.names_outside_residential, rules.name_markers)
            for t, h in zip(names, in_homes, strict=True)
        ],
        dtype=object,
    )
    decide(outside != "", outside, 0.0)
    named_home = np.array([any(m in t for m in rules.name_markers) for t in names], dtype=bool)
    decide(in_homes | named_home, "", 1.0)
    if areas is None:
        # No land use given: "outside residential land" is unknown, not known.
        decide(np.ones(n, dtype=bool), "", 1.0)
    decide(np.ones(n, dtype=bool), "yes_weight" if w_yes < 1 else "", w_yes)


def demand_from_buildings(
    buildings: gpd.GeoDataFrame,
    *,
    total_population: float | None = None,
    persons_per_m2: float | None = None,
    default_levels: float | None = None,
    residential_only: bool | None = None,
    include_building: Iterable[str] = (),
    exclude_building: Iterable[str] = (),
    yes_weight: float | None = None,
    areas: gpd.GeoDataFrame | None = None,
    community_col: str | None = None,
    communities: gpd.GeoDataFrame | None = None,
    elderly_share: float | None = None,
    source: str = "buildings",
) -> tuple[gpd.GeoDataFrame, BuildingsReport]:
    """Residents per building from footprint area × storeys, calibrated to a total.

    Floor area = footprint area (local UTM zone) × storeys (the default where missing).
    Residents = floor area × ``persons_per_m2`` (default 1 / ``settings.floor_area_per_person_m2``),
    then scaled to sum to ``total_population`` exactly when it is given. Each building becomes one
    point inside its footprint, kind ``"building"``.

    Parameters
    ----------
    buildings
        Footprints as from an OSM building extract: ``building`` (type), ``levels`` (storeys;
        ``building:levels``, 层数, 楼层数 also accepted), optional ``height`` / 高度 (metres,
        storeys = height / ``settings.storey_height_m`` where ``levels`` is missing), ``name``,
        ``osm_id``. CRS: any (none = WGS-84).
    total_population
        Residents of the whole area, e.g. from the census or the street office.
    persons_per_m2
        Residents per m² of floor area (instead of the settings' floor area per person).
    default_levels
        Storeys where ``levels`` is unusable; default ``settings.default_building_levels``.
    residential_only
        Only homes receive residents (default ``settings.demand_residential_only``): the rules of
        ``data/demand_rules.toml`` (:func:`classify_buildings`) leave out footprints whose type,
        tags, land use or name say they are not homes, counted per rule in the report's
        ``exclusions`` (not rows in error). ``False`` puts residents into every footprint.
    include_building, exclude_building
        ``building`` values always counted as homes / always left out (local practice).
    yes_weight
        Weight of untyped footprints outside residential land (default
        ``settings.demand_yes_weight``); only used with ``areas``.
    areas
        Land-use and other area polygons (``landuse``, ``amenity`` ... columns), as from
        :func:`geo.osm_features.land_areas_from_osm`; without them only tags and names decide.
    community_col
        Column holding the community (社区/小区) name of each building.
    communities
        Else, community polygons with a ``community`` column naming the points inside.
    elderly_share
        Share of residents aged 60+, to fill ``elderly`` (NaN otherwise).
    source
        Label of the input for the report.

    Returns
    -------
    tuple
        Demand GeoDataFrame and :class:`BuildingsReport` (``row``: position in ``buildings``).
    """
    _check_building_args(buildings, total_population, persons_per_m2, elderly_share, source)
    rej = Rejections(np.arange(1, len(buildings) + 1))
    warnings: list[str] = []
    detected: dict[str, str] = {}
    geoms = _footprints(buildings, rej)
    only = settings.demand_residential_only if residential_only is None else residential_only
    cls = classify_buildings(
        buildings,
        areas=areas,
        residential_only=only,
        include_building=include_building,
        exclude_building=exclude_building,
        yes_weight=yes_weight,
    )
    home_weight, home_rule = cls["weight"].to_numpy(dtype="float64"), cls["rule"].to_numpy()
    excluded = _leave_out_non_homes(buildings, cls, rej, warnings, detected, only, yes_weight)
    levels = _storeys(buildings, default_levels, rej, warnings, detected)
    _refuse_no_homes(rej, warnings, source)
    keep = rej.alive
    floor = _floor_areas(geoms, keep, levels, home_weight, warnings, detected)
    population = _residents(floor, keep, total_population, persons_per_m2, source, detected)
    gdf = _building_points(
        buildings, floor, keep, population, community_col, communities, elderly_share, source
    )
    report = BuildingsReport(
        source=source,
        n_read=len(buildings),
        n_ok=len(gdf),
        rejected=rej.frame(),
        detected=detected,
        crs_in=str(buildings.crs.to_string() if buildings.crs is not None else "wgs84"),
        warnings=warnings,
        weighted=floor.weighted,
    )
    _add_exclusions(report, buildings, geoms, excluded, home_rule, floor.utm)
    logger.info("%s: %d demand points from %d footprints", source, len(gdf), len(buildings))
    return gdf, report


def _add_exclusions(
    report: BuildingsReport,
    buildings: gpd.GeoDataFrame,
    geoms: np.ndarray,
    excluded: np.ndarray,
    home_rule: np.ndarray,
    utm: str,
) -> None:
    """The footprints the home rules left out: per rule (with their area) and as a layer."""
    excl_area = gpd.GeoSeries(_only(geoms, excluded), crs=WGS84).to_crs(utm).area
    report.exclusions = exclusion_table(home_rule[excluded], excl_area.to_numpy()[excluded])
    report.excluded = _excluded_frame(buildings, geoms, excluded, home_rule)


def _refuse_no_homes(rej: Rejections, warnings: list[str], source: str) -> None:
    """Raise when no footprint is left to hold residents, saying why."""
    if rej.alive.any():
        return
    error = msg(
        "loaders.demand.no_residential_building",
        source=source,
        n=int(rej.rows.size),
        n_bad=rej.frame().shape[0],
        notes=warnings or "",
    )
    raise InputDataError(error)


def _building_points(
    buildings: gpd.GeoDataFrame,
    floor: _FloorAreas,
    keep: np.ndarray,
    population: np.ndarray,
    community_col: str | None,
    communities: gpd.GeoDataFrame | None,
    elderly_share: float | None,
    source: str,
) -> gpd.GeoDataFrame:
    """One demand point per kept building, inside its footprint."""
    pts = floor.projected.representative_point().to_crs(WGS84).to_numpy()
    lon, lat = shapely.get_x(pts[keep]), shapely.get_y(pts[keep])
    community = _building_communities(buildings, lon, lat, keep, community_col, communities, source)
    ids = _building_ids(buildings, np.arange(1, len(buildings) + 1))
    n = len(buildings)
    elderly = population * elderly_share if elderly_share is not None else np.full(n, np.nan)
    return _demand_frame(
        ids[keep], population[keep], elderly[keep], community, "building", lon, lat
    )


def _check_building_args(
    buildings: Any,
    total_population: float | None,
    persons_per_m2: float | None,
    elderly_share: float | None,
    source: str,
) -> None:
    """Refuse impossible options and a missing building layer before any work."""
    _check_share(elderly_share)
    if total_population is not None and not total_population > 0:
        raise InputDataError(msg("loaders.demand.bad_total", value=repr(total_population)))
    if persons_per_m2 is not None and not persons_per_m2 > 0:
        raise InputDataError(msg("loaders.demand.bad_density", value=repr(persons_per_m2)))
    if not isinstance(buildings, gpd.GeoDataFrame) or len(buildings) == 0:
        raise InputDataError(msg("loaders.demand.no_buildings", source=source))


def _footprints(buildings: gpd.GeoDataFrame, rej: Rejections) -> np.ndarray:
    """The WGS-84 footprints; rows without a polygon are rejected."""
    geoms = _to_wgs84_geoms(buildings.geometry).to_numpy()
    missing = shapely.is_missing(geoms)
    missing[~missing] = shapely.is_empty(geoms[~missing])
    no_geometry = msg("loaders.demand.no_building_geometry")
    rej.reject(missing, "geometry", "", no_geometry, error=GeometryError)
    types = shapely.get_type_id(np.where(missing, None, geoms))
    not_poly = ~missing & ~np.isin(types, (3, 6))
    rej.reject(
        not_poly,
        "geometry",
        [g.geom_type if g is not None else "" for g in geoms],
        msg("loaders.demand.not_a_polygon"),
        error=GeometryError,
    )
    return geoms


def _leave_out_non_homes(
    buildings: gpd.GeoDataFrame,
    cls: pd.DataFrame,
    rej: Rejections,
    warnings: list[str],
    detected: dict[str, str],
    only: bool,
    yes_weight: float | None,
) -> np.ndarray:
    """Take the buildings that are not homes (``cls``: weight and rule) out of the pool.

    Returns which ones were left out.
    """
    home_weight, home_rule = cls["weight"].to_numpy(dtype="float64"), cls["rule"].to_numpy()
    if only:
        if "building" not in buildings.columns:
            warnings.append(msg("loaders.demand.no_building_column"))
        detected["residential_rules"] = "data/demand_rules.toml"
        detected["yes_weight"] = (
            f"{settings.demand_yes_weight if yes_weight is None else yes_weight:g}"
        )
    # Filtered by design, not in error: they leave the pool without a rejection row.
    other = rej.alive & (home_weight <= 0)
    if other.any():
        counts = pd.Series(home_rule[other]).value_counts()
        top = ", ".join(f"{k} {v}" for k, v in counts.head(6).items())
        warnings.append(msg("loaders.demand.non_residential", n=int(other.sum()), top=top))
    rej.alive &= ~other
    return other


def _storeys(
    buildings: gpd.GeoDataFrame,
    default_levels: float | None,
    rej: Rejections,
    warnings: list[str],
    detected: dict[str, str],
) -> np.ndarray:
    """Storeys per building: the levels column, else height / storey height, else the default."""
    n = len(buildings)
    levels_default = float(
        default_levels if default_levels is not None else settings.default_building_levels
    )
    level_col = _find_column(buildings.columns, _LEVEL_NAMES)
    height_col = _find_column(buildings.columns, _HEIGHT_NAMES)
    if level_col is None and height_col is not None:
        level_col = height_col  # storeys come from the height below
    if level_col is None:
        warnings.append(msg("loaders.demand.levels_assumed", levels=f"{levels_default:g}"))
        return np.full(n, levels_default)
    detected["levels"] = level_col
    levels, _ = parse_amount(buildings[level_col])
    if level_col == height_col:
        levels = np.full(n, np.nan)
    if height_col is not None:
        # Only the height mapped: storeys from the height.
        height, _ = parse_amount(buildings[height_col])
        from_height = ~(levels > 0) & (height > 0)
        if (from_height & rej.alive).any():
            detected["levels_from_height"] = str(int((from_height & rej.alive).sum()))
        levels = np.where(
            from_height, np.maximum(1.0, np.round(height / settings.storey_height_m)), levels
        )
    unusable = ~(levels > 0) | (levels > _MAX_LEVELS)
    n_default = int((unusable & rej.alive).sum())
    if n_default:
        warnings.append(
            msg("loaders.demand.levels_missing", n=n_default, levels=f"{levels_default:g}")
        )
    return np.where(unusable, levels_default, levels)


@dataclass(frozen=True)
class _FloorAreas:
    """Floor area per building (0 where not kept), in the local UTM zone."""

    floor: np.ndarray
    projected: gpd.GeoSeries
    utm: str
    weighted: int


def _floor_areas(
    geoms: np.ndarray,
    keep: np.ndarray,
    levels: np.ndarray,
    home_weight: np.ndarray,
    warnings: list[str],
    detected: dict[str, str],
) -> _FloorAreas:
    """Footprint area × storeys × home weight, the footprints projected to their UTM zone."""
    centre = shapely.centroid(shapely.union_all(shapely.envelope(geoms[keep])))
    utm = utm_crs_for(centre.x, centre.y)
    proj = gpd.GeoSeries(_only(geoms, keep), crs=WGS84).to_crs(utm)
    area = np.where(keep, proj.area.to_numpy(), 0.0)
    floor = area * levels * home_weight
    weighted = keep & (home_weight < 1)
    if weighted.any():
        weight = f"{float(home_weight[weighted].max()):g}"
        warnings.append(msg("loaders.demand.yes_weighted", n=int(weighted.sum()), weight=weight))
    detected["floor_area_m2"] = f"{float(floor[keep].sum()):.0f}"
    return _FloorAreas(floor, proj, utm, int(weighted.sum()))


def _residents(
    floor: _FloorAreas,
    keep: np.ndarray,
    total_population: float | None,
    persons_per_m2: float | None,
    source: str,
    detected: dict[str, str],
) -> np.ndarray:
    """Residents per building from the floor area, calibrated to ``total_population``."""
    if persons_per_m2 is not None:
        population = floor.floor * persons_per_m2
    else:
        population = floor.floor / settings.floor_area_per_person_m2
    population = np.where(keep, population, 0.0)
    total_raw = float(population.sum())
    if total_population is None:
        return population
    if total_raw <= 0:
        raise InputDataError(msg("loaders.demand.no_floor_area", source=source))
    detected["calibration"] = f"×{float(total_population) / total_raw:.4f}"
    return population * (float(total_population) / total_raw)


def _building_communities(
    buildings: gpd.GeoDataFrame,
    lon: np.ndarray,
    lat: np.ndarray,
    keep: np.ndarray,
    community_col: str | None,
    communities: gpd.GeoDataFrame | None,
    source: str,
) -> np.ndarray:
    """The community of each kept building: its column, else the polygon it lies in, else ""."""
    if community_col is not None:
        if community_col not in buildings.columns:
            error = msg(
                "loaders.demand.no_community_column",
                source=source,
                column=repr(community_col),
                columns=str(list(buildings.columns)),
            )
            raise ColumnNotFoundError(error)
        return column_texts(buildings, community_col)[keep]
    if communities is not None:
        return _community_of(lon, lat, communities, source)
    return np.full(int(keep.sum()), "", dtype=object)


def _building_ids(buildings: gpd.GeoDataFrame, rows: np.ndarray) -> np.ndarray:
    """``B<osm_id>`` when every building has a distinct OSM id, else ``B<row>``."""
    if "osm_id" in buildings.columns:
        osm = column_texts(buildings, "osm_id")
        if (osm != "").all() and not pd.Series(osm).duplicated().any():
            return np.array([f"B{o}" for o in osm], dtype=object)
    return np.array([f"B{r}" for r in rows], dtype=object)


def exclusion_table(rules: np.ndarray, area_m2: np.ndarray) -> pd.DataFrame:
    """Excluded footprints per rule: ``rule``, ``n_buildings``, ``area_m2``, largest first."""
    frame = pd.DataFrame({"rule": pd.Series(rules, dtype=object), "area": area_m2})
    out = (
        frame.groupby("rule", sort=False)["area"]
        .agg(n_buildings="size", area_m2="sum")
        .reset_index()
        .sort_values(["area_m2", "rule"], ascending=[False, True], kind="stable")
        .reset_index(drop=True)
    )
    out["n_buildings"] = out["n_buildings"].astype("int64")
    out["area_m2"] = out["area_m2"].astype("float64")
    return out[list(EXCLUSION_COLUMNS)]


def _excluded_frame(
    buildings: gpd.GeoDataFrame, geoms: np.ndarray, mask: np.ndarray, rule: np.ndarray
) -> gpd.GeoDataFrame:
    def col(name: str) -> np.ndarray:
        if name in buildings.columns:
            return column_texts(buildings, name)[mask]
        return np.full(int(mask.sum()), "", dtype=object)

    return gpd.GeoDataFrame(
        {
            "osm_id": col("osm_id"),
            "building": col("building"),
            "name": col("name"),
            "rule": rule[mask],
        },
        geometry=list(geoms[mask]),
        crs=WGS84,
    )


_LEVEL_NAMES = (
    "levels",
    "buildinglevels",
    "层数",
    "楼层数",
    "地上层数",
    "楼层",
    "floors",
    "storeys",
)
_HEIGHT_NAMES = ("height", "高度", "建筑高度", "楼高")


def _find_column(columns: Any, names: tuple[str, ...]) -> str | None:
    for c in columns:
        if norm_header(c) in names:
            return str(c)
    return None


def _community_of(
    lon: np.ndarray, lat: np.ndarray, communities: gpd.GeoDataFrame, source: str
) -> np.ndarray:
    if "community" not in communities.columns:
        columns = str(list(communities.columns))
        error = msg("loaders.demand.communities_unnamed", columns=columns, source=source)
        raise ColumnNotFoundError(error)
    polys = _to_wgs84_geoms(communities.geometry).to_numpy()
    names = column_texts(communities, "community")
    tree = shapely.STRtree(polys)
    pt_idx, poly_idx = tree.query(shapely.points(lon, lat), predicate="within")
    out = np.full(lon.shape[0], "", dtype=object)
    # A point inside overlapping polygons takes the first one listed.
    order = np.lexsort((poly_idx, pt_idx))
    pt_idx, poly_idx = pt_idx[order], poly_idx[order]
    first = np.ones(pt_idx.size, dtype=bool)
    first[1:] = pt_idx[1:] != pt_idx[:-1]
    out[pt_idx[first]] = names[poly_idx[first]]
    return out


# --------------------------------------------------------------------------- (b) tables


def _subgroup_counts(
    frame: pd.DataFrame,
    cols: dict[str, str | None],
    pop: np.ndarray,
    keep: np.ndarray,
    rows: np.ndarray,
    warnings: list[str],
) -> dict[str, np.ndarray]:
    """Children (0–14) and infants (0–3) per row where the table has the columns.

    Only detected columns are returned (the demand contract's optional ``children`` and
    ``infants``, float, NaN when unknown); unreadable cells are left NaN with a warning.
    """
    out: dict[str, np.ndarray] = {}
    for role, group in (("children", "0–14"), ("infants", "0–3")):
        col = cols.get(role)
        if col is None:
            continue
        values, bad = parse_amount(frame[col])
        values = values * header_multiplier(col)
        if (bad & keep).any():
            rows_bad = list_rows(rows[bad & keep])
            warnings.append(
                msg("loaders.demand.subgroup_not_number", group=group, col=col, rows=rows_bad)
            )
        over = keep & (values > pop)
        if over.any():
            rows_over = list_rows(rows[over])
            warnings.append(msg("loaders.demand.subgroup_exceeds", group=group, rows=rows_over))
        out[role] = values
    return out


def _elderly_counts(
    frame: pd.DataFrame,
    col: str | None,
    pop: np.ndarray,
    keep: np.ndarray,
    rows: np.ndarray,
    warnings: list[str],
) -> np.ndarray:
    """Residents aged 60+ per row (NaN when unknown), with warnings for unreadable cells."""
    if col is None:
        return np.full(len(frame), np.nan)
    elderly, bad = parse_amount(frame[col])
    elderly = elderly * header_multiplier(col)
    if (bad & keep).any():
        rows_bad = list_rows(rows[bad & keep])
        warnings.append(msg("loaders.demand.elderly_not_number", col=col, rows=rows_bad))
    over = keep & (elderly > pop)
    if over.any():
        warnings.append(msg("loaders.demand.elderly_exceeds", rows=list_rows(rows[over])))
    return elderly


def _table_population(
    frame: pd.DataFrame, col: str, rej: Rejections, warnings: list[str]
) -> np.ndarray:
    """Residents per row (a unit such as 万人 in the header applied); unusable rows rejected."""
    pop, bad = parse_amount(frame[col])
    scale = header_multiplier(col)
    if scale != 1:
        pop = pop * scale
        warnings.append(msg("loaders.demand.units", col=col, scale=f"{scale:,.0f}"))
    rej.reject(bad, col, frame[col], msg("loaders.demand.population_not_number"))
    rej.reject(np.isnan(pop), col, "", msg("loaders.demand.population_missing"))
    rej.reject(pop < 0, col, pop, msg("loaders.demand.population_negative"))
    return pop


def demand_from_table(
    source: Source,
    *,
    columns: ColumnMapping | None = None,
    name: str | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    crs: str = "wgs84",
    study_area: Any = None,
    kind: str = "community",
    total_population: float | None = None,
) -> tuple[gpd.GeoDataFrame, ValidationReport]:
    """Demand points from a community or compound table (points or polygons) with population.

    Polygons (GIS files or a WKT column) become their representative point. Rows without a
    usable population are rejected; a missing or unreadable 60+ population leaves ``elderly``
    NaN with a warning.

    Parameters
    ----------
    source
        Path, bytes or upload: CSV/TXT, XLSX, GeoJSON, SHP, zipped SHP, GPKG.
    columns
        Column choices overriding detection: ``population`` (人口/常住人口/population),
        ``elderly`` (老年人口/60岁以上/elderly), ``children``, ``infants``, ``community``
        (社区/小区/community; the name column is the fallback), the coordinate columns and
        ``id`` (``""`` switches id detection off).
    name, sheet, encoding
        As in :func:`geo.tables.read_table`.
    crs
        Datum or CRS of table coordinates (see :func:`geo.facilities.load_facilities`).
    study_area
        Polygon; rows outside are rejected.
    kind
        ``"community"`` (default) or ``"compound_gate"`` etc. (see :data:`KINDS`).
    total_population
        When given, populations are scaled to sum to it (and the subgroups by the same factor).

    Returns
    -------
    tuple
        Demand GeoDataFrame and :class:`~geo.validation.ValidationReport`.
    """
    if kind not in KINDS:
        raise InputDataError(msg("loaders.demand.bad_kind", kinds=str(KINDS), kind=repr(kind)))
    columns = columns or ColumnMapping()
    frame, info = read_table(source, name=name, sheet=sheet, encoding=encoding)
    label = info.name
    is_gis = isinstance(frame, gpd.GeoDataFrame)
    roles: tuple[str, ...] = ("population", "elderly", "children", "infants", "community", "name")
    roles = roles if columns.ids_off else ("id", *roles)
    cols = find_columns(frame, columns, roles, label=label)
    pop_col = cols.get("population")
    if pop_col is None:
        attr_cols = [c for c in frame.columns if not (is_gis and c == frame.geometry.name)]
        error = msg("loaders.demand.no_population_column", file=label, columns=str(attr_cols))
        raise ColumnNotFoundError(error)
    rej = Rejections(frame.index.to_numpy())
    warnings: list[str] = list(info.notes)
    ids = assign_ids(
        frame, cols.get("id"), rej, label, warnings, prefix="D", explicit=bool(columns.id)
    )
    pop = _table_population(frame, pop_col, rej, warnings)
    loc = locate_rows(
        frame, label=label, crs=crs, cols=cols, study_area=study_area, rej=rej, is_gis=is_gis
    )
    warnings += loc.warnings
    rej.raise_if_none_left(label)
    keep = rej.alive
    rows = frame.index.to_numpy()
    elderly = _elderly_counts(frame, cols.get("elderly"), pop, keep, rows, warnings)
    counts = {"population": pop, "elderly": elderly}
    counts.update(_subgroup_counts(frame, cols, pop, keep, rows, warnings))
    if total_population is not None:
        counts = _scaled(counts, keep, total_population, label, warnings)
    com_col = cols.get("community") or cols.get("name")
    community = column_texts(frame, com_col)
    gdf = _demand_frame(
        ids[keep],
        counts["population"][keep],
        counts["elderly"][keep],
        community[keep],
        kind,
        loc.lon[keep],
        loc.lat[keep],
    )
    gdf = gpd.GeoDataFrame(
        with_input_columns(gdf, frame, keep, [*cols.values(), pop_col]), crs=WGS84
    )
    for role in ("children", "infants"):
        if role in counts:
            gdf[role] = counts[role][keep]
    report = table_report(
        label, rej, cols, loc, n_ok=len(gdf), encoding=info.encoding, warnings=warnings
    )
    if com_col is not None and cols.get("community") is None:
        report.detected["community"] = f"{com_col} (name)"
    logger.info("%s: %d demand points", label, len(gdf))
    return gdf, report


def _scaled(
    counts: dict[str, np.ndarray],
    keep: np.ndarray,
    total_population: float,
    label: str,
    warnings: list[str],
) -> dict[str, np.ndarray]:
    """Every count scaled by the factor that makes the kept populations sum to the total."""
    total = float(np.nansum(counts["population"][keep]))
    if not total > 0 or not total_population > 0:
        error = msg(
            "loaders.demand.cannot_scale",
            file=label,
            total=f"{total:g}",
            target=repr(total_population),
        )
        raise InputDataError(error)
    factor = float(total_population) / total
    warnings.append(
        msg("loaders.demand.scaled", factor=f"{factor:.4f}", total=f"{total_population:g}")
    )
    return {k: v * factor for k, v in counts.items()}


# --------------------------------------------------------------------------- (c) grid


def demand_grid(
    area: Any,
    *,
    total_population: float,
    cell_m: float | None = None,
    residential: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    elderly_share: float | None = None,
    communities: gpd.GeoDataFrame | None = None,
) -> tuple[gpd.GeoDataFrame, ValidationReport]:
    """A regular grid of demand points over residential land, population spread by land area.

    Parameters
    ----------
    area
        The study area: shapely polygon in WGS-84, or a GeoDataFrame/GeoSeries in any CRS.
    total_population
        Residents to spread.
    cell_m
        Grid spacing in metres; default ``settings.demand_grid_cell_m``.
    residential
        Residential land polygons (e.g. OSM ``landuse=residential``); the grid covers their part
        inside ``area``. Without them the whole area counts as residential.
    elderly_share
        Share of residents aged 60+, to fill ``elderly`` (NaN otherwise).
    communities
        Community polygons with a ``community`` column to name each point.

    Returns
    -------
    tuple
        Demand GeoDataFrame (kind ``"grid"``) and a report (``n_read`` = grid cells over the area).
    """
    _check_share(elderly_share)
    if not total_population or not total_population > 0:
        raise InputDataError(msg("loaders.demand.bad_total", value=repr(total_population)))
    cell = float(cell_m if cell_m is not None else settings.demand_grid_cell_m)
    if not cell > 0:
        raise InputDataError(msg("loaders.demand.bad_cell", value=repr(cell_m)))
    area_wgs = study_area_polygon(area, label="area")
    utm = utm_crs_for(area_wgs.centroid.x, area_wgs.centroid.y)
    area_p = gpd.GeoSeries([area_wgs], crs=WGS84).to_crs(utm).iloc[0]
    warnings: list[str] = []
    land, source = _grid_land(area_p, residential, utm, warnings)
    n_cells, pts, share = _grid_cells(land, cell)
    pts_wgs = gpd.GeoSeries(pts, crs=utm).to_crs(WGS84).to_numpy()
    lon, lat = shapely.get_x(pts_wgs), shapely.get_y(pts_wgs)
    population = float(total_population) * share / share.sum()
    elderly = population * elderly_share if elderly_share is not None else np.nan * population
    community = (
        _community_of(lon, lat, communities, source)
        if communities is not None
        else np.full(lon.size, "", dtype=object)
    )
    ids = np.array([f"G{i}" for i in range(lon.size)], dtype=object)
    gdf = _demand_frame(ids, population, elderly, community, "grid", lon, lat)
    report = ValidationReport(
        source=source,
        n_read=n_cells,
        n_ok=len(gdf),
        detected={
            "cell_m": f"{cell:g}",
            "land_area_m2": f"{land.area:.0f}",
            "utm": utm,
        },
        crs_in="wgs84",
        warnings=warnings,
    )
    logger.info("%s: %d grid points for %.0f residents", source, len(gdf), total_population)
    return gdf, report


def _grid_land(
    area_p: Any,
    residential: gpd.GeoDataFrame | gpd.GeoSeries | None,
    utm: str,
    warnings: list[str],
) -> tuple[Any, str]:
    """The land the grid covers (in ``utm``): residential land inside the area, else the area."""
    if residential is None or not len(residential):
        warnings.append(msg("loaders.demand.no_land"))
        return area_p, "grid (whole area)"
    gs = residential.geometry if isinstance(residential, gpd.GeoDataFrame) else residential
    gs = gs.set_crs(WGS84) if gs.crs is None else gs
    polys = gs.to_crs(utm).to_numpy()
    polys = polys[np.isin(shapely.get_type_id(polys), (3, 6))]
    land = shapely.intersection(shapely.make_valid(shapely.union_all(polys)), area_p)
    if land.is_empty or land.area == 0:
        raise GeometryError(msg("loaders.demand.land_outside_area"))
    return land, "grid (residential land)"


def _grid_cells(land: Any, cell: float) -> tuple[int, np.ndarray, np.ndarray]:
    """Cells over ``land``: how many touch it, a point per cell with land, its land area."""
    minx, miny, maxx, maxy = land.bounds
    xs = np.arange(minx, maxx + cell, cell)[:-1] if maxx > minx else np.array([minx])
    ys = np.arange(miny, maxy + cell, cell)[:-1] if maxy > miny else np.array([miny])
    gx, gy = np.meshgrid(xs, ys)
    boxes = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + cell, gy.ravel() + cell)
    shapely.prepare(land)
    hit = shapely.intersects(land, boxes)
    boxes = boxes[hit]
    pieces = shapely.intersection(boxes, land)
    share = shapely.area(pieces)
    ok = share > 0
    boxes, pieces, share = boxes[ok], pieces[ok], share[ok]
    if share.size == 0:
        raise GeometryError(msg("loaders.demand.no_extent"))
    centres = shapely.centroid(boxes)
    inside = shapely.contains(land, centres)
    # Cells cut by the land boundary: a point inside the land, not the cell centre.
    pts = np.where(inside, centres, shapely.point_on_surface(pieces))
    return int(hit.sum()), pts, share


#: Alias matching the issue's wording.
demand_from_grid = demand_grid
