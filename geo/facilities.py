"""Load planners' facility lists (CSV/XLSX/GIS) into the Facilities GeoDataFrame.

The result follows CONTRACTS.md: EPSG:4326 points with ``facility_id`` (unique str), ``name``,
``category`` (taxonomy key), ``capacity`` (NaN when unknown), ``source`` (file name), and
``raw_category`` (the user's text) when categories came from a column, ``osm_id`` when the file
has one.

Decisions (documented here because planners will ask):

* Rows that cannot be used are rejected one by one, never the whole file: each appears in
  ``report.rejected`` with its spreadsheet row and reason. Only when *no* row is left does the
  loader raise (the class of the commonest reason: :class:`~geo.errors.CoordinateError`,
  :class:`~geo.errors.CategoryError`, ...).
* Duplicate ids: the first row with an id is kept, later ones are rejected ("duplicate id, first at
  row N"). When more than half of the rows repeat an earlier id, the column is not an id column
  at all and :class:`~geo.errors.DuplicateIdError` is raised asking for an id column.
* Swapped axes: when every point reads as (lat, lon) inside China and none as (lon, lat), all
  rows are swapped; rows whose latitude is impossible (> 90) but fit China when swapped are
  swapped one by one. Both are reported in ``report.warnings`` with the rows.
* GIS files use their own CRS (transformed to EPSG:4326). If such a file is in geographic
  coordinates and ``crs`` says GCJ-02 or BD-09, the datum shift is applied as well (Chinese
  files often store Amap coordinates under a WGS-84 label).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo import datum, settings, taxonomy
from geo.columns import (
    ColumnMapping,
    detect_columns,
    norm_header,
    parse_amount,
    parse_numbers,
    parse_pairs,
    parse_wkt,
    require_coordinates,
)
from geo.errors import (
    CategoryError,
    ColumnNotFoundError,
    CoordinateError,
    DuplicateIdError,
    GeometryError,
    InputDataError,
)
from geo.messages import Message, msg
from geo.network import WGS84, Network
from geo.tables import Source, read_table
from geo.validation import Rejections, ValidationReport, list_rows

logger = logging.getLogger(__name__)

__all__ = [
    "FACILITY_COLUMNS",
    "INPUT_PREFIX",
    "SUGGEST_MIN_GAIN_M",
    "SUGGEST_RATIO",
    "DatumChoice",
    "Located",
    "assign_ids",
    "column_texts",
    "datum_fit",
    "datum_named_in",
    "detect_datum",
    "find_columns",
    "known_categories_text",
    "load_facilities",
    "locate_rows",
    "mixed_datum_rows",
    "mixed_datum_warning",
    "study_area_polygon",
    "suggest_datum",
    "table_report",
    "with_input_columns",
]

FACILITY_COLUMNS: tuple[str, ...] = (
    "facility_id",
    "name",
    "category",
    "capacity",
    "source",
)

# China's extent with a margin, used to recognise swapped axes.
_CHINA_LON = (73.0, 136.0)
_CHINA_LAT = (3.0, 54.0)

#: A declared datum must be this many times worse than another, and ...
SUGGEST_RATIO = 2.0
#: ... this many metres worse (median distance to the nearest street), to trigger a suggestion.
SUGGEST_MIN_GAIN_M = 30.0

_DATUM_LABEL = {"wgs84": "WGS-84", "gcj02": "GCJ-02", "bd09": "BD-09"}


@dataclass
class Located:
    """Where each input row lies, with what was decided on the way."""

    lon: np.ndarray
    lat: np.ndarray
    raw_lon: np.ndarray
    raw_lat: np.ndarray
    crs_in: str
    detected: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def load_facilities(
    source: Source,
    *,
    columns: ColumnMapping | None = None,
    name: str | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    category: str | None = None,
    crs: str = "wgs84",
    study_area: Any = None,
    network: Network | None = None,
) -> tuple[gpd.GeoDataFrame, ValidationReport]:
    """Load a facility list into the Facilities GeoDataFrame (WGS-84 points).

    Parameters
    ----------
    source
        Path, bytes or uploaded file: CSV/TXT, XLSX, GeoJSON, SHP, zipped SHP or GPKG.
    columns
        Column choices overriding detection (``lon``, ``lat``, ``coord``, ``wkt``, ``name``,
        ``category``, ``capacity``, ``id``; ``id=""`` switches id detection off).
    name
        File name for bytes and uploads (its suffix picks the format).
    sheet
        Excel sheet or GIS layer; default the first non-empty one.
    encoding
        Text encoding of CSV/TXT (detected by default).
    category
        Taxonomy key applied to every row (e.g. a file of canteens only). Otherwise the category
        column is mapped through :func:`geo.taxonomy.match_category`; with no category column,
        the names are tried (``"鼓楼老年食堂"`` → ``elderly_canteen``) and a warning says so.
    crs
        Coordinates of a table: ``"wgs84"``, ``"gcj02"`` (Amap, Tencent), ``"bd09"`` (Baidu), or
        any CRS pyproj knows (``"EPSG:4547"`` for CGCS2000 3-degree zone projected metres).
    study_area
        A polygon (shapely in WGS-84, or a GeoDataFrame/GeoSeries in any CRS); points outside are
        rejected.
    network
        When given, :func:`suggest_datum` checks whether another datum fits the streets better
        and puts the hint in ``report.suggestion``.

    Returns
    -------
    tuple
        The facilities GeoDataFrame and a :class:`~geo.validation.ValidationReport`.

    Raises
    ------
    InputDataError
        Unreadable file, or no usable row (the subclass of the commonest reason).
    ColumnNotFoundError
        No coordinate column, or neither a category column, ``category`` nor names to infer it.
    CategoryError
        ``category`` is not a taxonomy key.
    DuplicateIdError
        The id column repeats values in most rows.
    """
    columns = columns or ColumnMapping()
    forced = taxonomy.get_category(category).key if category is not None else None
    frame, info = read_table(source, name=name, sheet=sheet, encoding=encoding)
    label = info.name
    is_gis = isinstance(frame, gpd.GeoDataFrame)
    roles = ("name", "category", "capacity") + (() if columns.ids_off else ("id",))
    cols = find_columns(frame, columns, roles, label=label)
    rej = Rejections(frame.index.to_numpy())
    warnings: list[str] = list(info.notes)

    ids = assign_ids(frame, cols.get("id"), rej, label, warnings, explicit=bool(columns.id))
    cats, raw_cats = _categories(frame, cols, forced, rej, label, warnings)
    loc = locate_rows(
        frame, label=label, crs=crs, cols=cols, study_area=study_area, rej=rej, is_gis=is_gis
    )
    warnings += loc.warnings
    rej.raise_if_none_left(label)
    gdf = _facility_frame(frame, cols, loc, rej.alive, ids, cats, raw_cats, warnings, label)
    report = table_report(
        label, rej, cols, loc, n_ok=len(gdf), encoding=info.encoding, warnings=warnings
    )
    if forced:
        report.detected["category"] = f"= {forced}"
    if network is not None and datum.normalise_datum(loc.crs_in) is not None:
        _datum_hints(report, loc, rej, network, label=label)
    logger.info("%s: %d facilities loaded, %d rows rejected", label, report.n_ok, report.n_rejected)
    return gdf, report


def find_columns(
    frame: pd.DataFrame, columns: ColumnMapping, roles: tuple[str, ...], *, label: str
) -> dict[str, str | None]:
    """The columns of ``roles`` (plus the coordinate roles of a table), chosen or detected.

    A GIS file carries its geometry, so only attribute columns are looked for; a table must
    have coordinate columns, and says so first when it has none (nothing else matters then).
    """
    if isinstance(frame, gpd.GeoDataFrame):
        attr_cols = [c for c in frame.columns if c != frame.geometry.name]
    else:
        attr_cols = list(frame.columns)
        roles = ("lon", "lat", "coord", "wkt", *roles)
    overrides = columns.overrides(roles)
    cols = detect_columns(attr_cols, frame=frame, roles=roles, overrides=overrides, label=label)
    if not isinstance(frame, gpd.GeoDataFrame):
        require_coordinates(cols, frame.columns, label=label)
    return cols


def _facility_frame(
    frame: pd.DataFrame,
    cols: dict[str, str | None],
    loc: Located,
    keep: np.ndarray,
    ids: np.ndarray,
    cats: np.ndarray,
    raw_cats: np.ndarray | None,
    warnings: list[str],
    label: str,
) -> gpd.GeoDataFrame:
    """The Facilities GeoDataFrame of the kept rows (plus the user's other columns)."""
    names = column_texts(frame, cols.get("name"))
    capacity = _capacity(frame, cols.get("capacity"), keep, warnings)
    out = pd.DataFrame(
        {
            "facility_id": ids[keep],
            "name": np.where(names[keep] == "", ids[keep], names[keep]),
            "category": cats[keep],
            "capacity": capacity[keep],
            "source": label,
        }
    )
    if raw_cats is not None:
        out["raw_category"] = raw_cats[keep]
    if "osm_id" in frame.columns:
        out["osm_id"] = column_texts(frame, "osm_id")[keep]
    out = with_input_columns(out, frame, keep, [*cols.values(), "osm_id"])
    return gpd.GeoDataFrame(
        out, geometry=shapely.points(loc.lon[keep], loc.lat[keep]), crs=WGS84
    ).reset_index(drop=True)


def _datum_hints(
    report: ValidationReport, loc: Located, rej: Rejections, network: Network, *, label: str
) -> None:
    """Put the datum suggestion, or else a mixed-datum warning, into ``report``."""
    keep = rej.alive
    raw_xy = (loc.raw_lon[keep], loc.raw_lat[keep])
    report.suggestion = suggest_datum(raw_xy, network, crs_used=loc.crs_in)
    if report.suggestion is None:
        mixed = mixed_datum_warning(
            mixed_datum_rows(raw_xy, rej.rows[keep], network, crs_used=loc.crs_in),
            label=label,
            crs_used=loc.crs_in,
        )
        if mixed:
            report.warnings.append(mixed)


# --------------------------------------------------------------------------- ids, categories


def column_texts(frame: pd.DataFrame, col: str | None) -> np.ndarray:
    """A column as clean strings ("" for missing; 12.0 → "12")."""
    if col is None:
        return np.full(len(frame), "", dtype=object)
    # Most cells are text: strip those directly, the rest by the rules of _cell_text.
    out = [v.strip() if type(v) is str else _cell_text(v) for v in frame[col].tolist()]
    return np.array(out, dtype=object)


def _cell_text(v: Any) -> str:
    """One cell as clean text ("" for missing; 12.0 → "12")."""
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return ""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v).strip()


#: Headers of running numbers (not identities), normalised by :func:`geo.columns.norm_header`.
_RUNNING_NUMBERS = frozenset({"序号", "no", "number", "编号序号"})


def assign_ids(
    frame: pd.DataFrame,
    col: str | None,
    rej: Rejections,
    label: str,
    warnings: list[str],
    *,
    prefix: str = "F",
    explicit: bool = False,
) -> np.ndarray:
    """Ids from ``col`` (duplicates rejected) or ``<prefix><row>`` when there is no id column.

    A detected running-number column (序号, No.) that repeats — numbering restarting per street,
    say — is not an identity: it is ignored with a warning instead of rejecting rows. A column
    named by the user (``explicit``) is always taken at its word.
    """
    rows = frame.index.to_numpy()
    generated = (prefix + pd.Series(rows).astype(str)).to_numpy(dtype=object)
    if col is None:
        return generated
    ids = column_texts(frame, col)
    running = norm_header(col) in _RUNNING_NUMBERS
    if not explicit and running and pd.Series(ids[ids != ""]).duplicated().any():
        warnings.append(msg("loaders.facilities.running_numbers", col=col, prefix=prefix))
        return generated
    empty = ids == ""
    if empty.any():
        warnings.append(
            msg(
                "loaders.facilities.ids_missing",
                n=int(empty.sum()),
                col=col,
                prefix=prefix,
                rows=list_rows(rows[empty]),
            )
        )
    ids = np.where(empty, generated, ids)
    dup = pd.Series(ids).duplicated(keep="first").to_numpy() & ~empty
    if dup.sum() * 2 > len(ids):
        error = msg(
            "loaders.facilities.id_not_unique",
            file=label,
            col=col,
            n=int(dup.sum()),
            total=len(ids),
        )
        raise DuplicateIdError(error)
    if dup.any():
        first_row = pd.Series(rows).groupby(ids).transform("first").to_numpy()

        def duplicate(i: int) -> Message:
            return msg("loaders.facilities.duplicate_id", id=ids[i], row=int(first_row[i]))

        rej.reject(dup, col, ids, duplicate, error=DuplicateIdError)
    return ids


def known_categories_text() -> str:
    """``"elderly_canteen 老年食堂/助餐点, ..."`` for messages."""
    return ", ".join(f"{k} {c.name_zh}" for k, c in taxonomy.categories().items())


def _categories(
    frame: pd.DataFrame,
    cols: dict[str, str | None],
    forced: str | None,
    rej: Rejections,
    label: str,
    warnings: list[str],
) -> tuple[np.ndarray, np.ndarray | None]:
    n = len(frame)
    if forced is not None:
        return np.full(n, forced, dtype=object), None
    col = cols.get("category")
    inferred = False
    if col is None:
        col = cols.get("name")
        inferred = True
        if col is None:
            error = msg(
                "loaders.facilities.no_category_column",
                file=label,
                columns=str([str(c) for c in frame.columns]),
                known=known_categories_text(),
            )
            raise ColumnNotFoundError(error)
    raw = column_texts(frame, col)
    lookup = {v: taxonomy.match_category(v) for v in set(raw.tolist()) if v}
    cats = np.array([lookup.get(v) if v else None for v in raw], dtype=object)
    if inferred:
        warnings.append(msg("loaders.facilities.categories_inferred", col=col))
        rej.reject(
            cats == None,  # noqa: E711 (elementwise on an object array)
            col,
            raw,
            msg("loaders.facilities.name_matches_no_category"),
            error=CategoryError,
        )
        return cats, None
    rej.reject(raw == "", col, raw, msg("loaders.facilities.category_empty"), error=CategoryError)
    known = known_categories_text()

    def unknown(i: int) -> Message:
        return msg("loaders.facilities.unknown_category", value=raw[i], known=known)

    rej.reject(cats == None, col, raw, unknown, error=CategoryError)  # noqa: E711
    return cats, raw


def _capacity(
    frame: pd.DataFrame, col: str | None, keep: np.ndarray, warnings: list[str]
) -> np.ndarray:
    if col is None:
        return np.full(len(frame), np.nan)
    values, bad = parse_amount(frame[col])
    neg = values < 0
    rows = frame.index.to_numpy()
    if (bad & keep).any():
        rows_bad = list_rows(rows[bad & keep])
        warnings.append(msg("loaders.facilities.capacity_not_number", col=col, rows=rows_bad))
    if (neg & keep).any():
        rows_neg = list_rows(rows[neg & keep])
        warnings.append(msg("loaders.facilities.capacity_negative", col=col, rows=rows_neg))
    return np.where(neg, np.nan, values)


# --------------------------------------------------------------------------- coordinates


def study_area_polygon(study_area: Any, *, label: str = "study_area") -> Any:
    """A WGS-84 shapely (Multi)Polygon from a shapely geometry or a GeoDataFrame/GeoSeries."""
    if isinstance(study_area, (gpd.GeoDataFrame, gpd.GeoSeries)):
        gs = study_area.geometry if isinstance(study_area, gpd.GeoDataFrame) else study_area
        if gs.crs is not None:
            gs = gs.to_crs(WGS84)
        geom = shapely.union_all(gs.to_numpy())
    else:
        geom = study_area
    if not isinstance(geom, shapely.Geometry) or geom.is_empty or geom.area == 0:
        kind = type(study_area).__name__
        raise GeometryError(msg("loaders.facilities.bad_study_area", label=label, kind=kind))
    return shapely.make_valid(geom)


def table_report(
    label: str,
    rej: Rejections,
    cols: dict[str, str | None],
    loc: Located,
    *,
    n_ok: int,
    encoding: str | None,
    warnings: list[str],
) -> ValidationReport:
    """The validation report of a table or GIS loader.

    Every input row has a row number in ``rej``, so ``n_read`` is their count. ``detected``
    lists the columns found (``cols``), then what :func:`locate_rows` decided; callers add
    their own entries after these.
    """
    detected = {k: str(v) for k, v in cols.items() if v is not None}
    detected.update(loc.detected)
    return ValidationReport(
        source=label,
        n_read=int(rej.rows.size),
        n_ok=n_ok,
        rejected=rej.frame(),
        detected=detected,
        encoding=encoding,
        crs_in=loc.crs_in,
        warnings=warnings,
    )


def locate_rows(
    frame: pd.DataFrame,
    *,
    label: str,
    crs: str,
    cols: dict[str, str | None],
    study_area: Any,
    rej: Rejections,
    is_gis: bool,
) -> Located:
    """WGS-84 lon/lat for every row of a table or GIS frame, rejecting rows that cannot be placed.

    Handles number parsing, combined and WKT columns, swapped axes, range checks, the datum
    (GCJ-02/BD-09) or projected CRS of the input and the study area. Rejected rows get NaN.
    """
    key, pj, crs_in = _input_crs(crs)
    detected: dict[str, str] = {}
    warns: list[str] = []
    rows = frame.index.to_numpy()
    if is_gis:
        assert isinstance(frame, gpd.GeoDataFrame)
        lon, lat, crs_in, pj = _gis_lonlat(frame, label, key, pj, crs_in, rej, warns, detected)
        where = "geometry/geometry"
    else:
        lon, lat, col_x, col_y = _table_lonlat(frame, cols, label, rej, warns, detected)
        where = f"{col_x}/{col_y}"
    raw_lon, raw_lat = lon.copy(), lat.copy()
    if pj is not None and not pj.is_geographic:
        lon, lat = _projected_to_wgs84(lon, lat, pj, rej, label)
    elif key is not None or (pj is not None and pj.is_geographic):
        _check_projected_values(lon, lat, rej, label, crs_in)
        lon, lat, raw_lon, raw_lat = _swap_axes(lon, lat, rows, rej, warns)
    _reject_impossible(lon, lat, rej, where)
    if not is_gis:
        hint = _header_datum_hint(col_x, col_y, key)
        if hint:
            warns.append(hint)
    alive = rej.alive
    abroad = alive & datum.out_of_china(lon, lat)
    if abroad.any() and abroad.sum() < alive.sum():
        # A few rows far outside China among Chinese ones are typos (a dropped digit, a sign).
        warns.append(
            msg(
                "loaders.facilities.outside_china",
                n=int(abroad.sum()),
                rows=list_rows(rows[abroad]),
            )
        )
    if key in ("gcj02", "bd09"):
        lon, lat = datum.to_wgs84(lon, lat, crs=key)
    if study_area is not None:
        _reject_outside(lon, lat, study_area, rej, where)
    dead = ~rej.alive
    lon = np.where(dead, np.nan, lon)
    lat = np.where(dead, np.nan, lat)
    return Located(lon, lat, raw_lon, raw_lat, crs_in, detected, warns)


def _input_crs(crs: str) -> tuple[str | None, pyproj.CRS | None, str]:
    """The datum key (wgs84/gcj02/bd09, else None), the pyproj CRS otherwise, and its name."""
    key = datum.normalise_datum(crs)
    if key is not None:
        return key, None, key
    try:
        pj = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise CoordinateError(msg("loaders.facilities.bad_crs", crs=repr(crs))) from exc
    return None, pj, pj.to_string()


def _table_lonlat(
    frame: pd.DataFrame,
    cols: dict[str, str | None],
    label: str,
    rej: Rejections,
    warns: list[str],
    detected: dict[str, str],
) -> tuple[np.ndarray, np.ndarray, str, str]:
    """Lon/lat as written in a table (lon/lat, pair or WKT columns), and the columns used."""
    how = require_coordinates(cols, frame.columns, label=label)
    detected["coordinates"] = how
    if how == "lonlat":
        col_x, col_y = str(cols["lon"]), str(cols["lat"])
        lon, bad_x = parse_numbers(frame[col_x])
        lat, bad_y = parse_numbers(frame[col_y])
        not_x, not_y = (
            msg("loaders.facilities.lon_not_number"),
            msg("loaders.facilities.lat_not_number"),
        )
        rej.reject(bad_x, col_x, frame[col_x], not_x, error=CoordinateError)
        rej.reject(bad_y, col_y, frame[col_y], not_y, error=CoordinateError)
    elif how == "coord":
        col_x = col_y = str(cols["coord"])
        lon, lat, bad = parse_pairs(frame[col_x])
        not_pair = msg("loaders.facilities.not_a_pair")
        rej.reject(bad, col_x, frame[col_x], not_pair, error=CoordinateError)
    else:
        col_x = col_y = str(cols["wkt"])
        geoms, bad = parse_wkt(frame[col_x])
        bad_wkt = msg("loaders.facilities.bad_wkt")
        rej.reject(bad, col_x, frame[col_x], bad_wkt, error=GeometryError)
        lon, lat = _points_of(geoms, warns)
    missing = np.isnan(lon) | np.isnan(lat)
    gone = msg("loaders.facilities.coords_missing")
    rej.reject(missing, col_x, "", gone, error=CoordinateError)
    return lon, lat, col_x, col_y


def _reject_impossible(lon: np.ndarray, lat: np.ndarray, rej: Rejections, where: str) -> None:
    """Reject coordinates beyond ±180/±90 and 0,0 (a missing value written as zeros)."""
    bad_range = rej.alive & ((np.abs(lon) > 180) | (np.abs(lat) > 90))
    rej.reject(
        bad_range,
        where,
        _pair_texts(lon, lat, bad_range, "{:g}, {:g}"),
        msg("loaders.facilities.out_of_range"),
        error=CoordinateError,
    )
    null_island = rej.alive & (lon == 0) & (lat == 0)
    zeros = msg("loaders.facilities.null_island")
    rej.reject(null_island, where, "0, 0", zeros, error=CoordinateError)


def _reject_outside(
    lon: np.ndarray, lat: np.ndarray, study_area: Any, rej: Rejections, where: str
) -> None:
    """Reject the points outside the study area (WGS-84 lon/lat)."""
    area = study_area_polygon(study_area)
    ok = rej.alive
    inside = np.zeros(len(lon), dtype=bool)
    inside[ok] = shapely.intersects_xy(area, lon[ok], lat[ok])
    rej.reject(
        ok & ~inside,
        where,
        _pair_texts(lon, lat, ok & ~inside, "{:.6f}, {:.6f}"),
        msg("loaders.facilities.outside_area"),
        error=CoordinateError,
    )


def _pair_texts(x: np.ndarray, y: np.ndarray, mask: np.ndarray, fmt: str) -> np.ndarray:
    """``fmt`` of each (x, y) where ``mask`` holds, "" elsewhere (only rejected rows show it)."""
    out = np.full(len(x), "", dtype=object)
    for i in np.flatnonzero(mask).tolist():
        out[i] = fmt.format(x[i], y[i])
    return out


# Headers that name a datum, as planners' exports do (高德经度, 百度纬度, gcj_lng, lon_bd09 ...).
_HEADER_DATUMS = (
    ("gcj02", re.compile(r"高德|腾讯|火星|gcj|amap|gaode|tencent|qq", re.IGNORECASE)),
    ("bd09", re.compile(r"百度|bd-?09|baidu|bmap", re.IGNORECASE)),
    ("wgs84", re.compile(r"wgs|gps|天地图|tianditu", re.IGNORECASE)),
)


def datum_named_in(header: str) -> str | None:
    """The datum a column header names (``"高德经度"`` → ``"gcj02"``), or ``None``."""
    for named, pattern in _HEADER_DATUMS:
        if pattern.search(header):
            return named
    return None


def _header_datum_hint(col_x: str, col_y: str, key: str | None) -> Message | None:
    """A warning when the coordinate headers name a datum other than the one declared."""
    if key is None:
        return None
    header = f"{col_x} {col_y}"
    named = datum_named_in(header)
    if named is None or named == key:
        return None
    return msg(
        "loaders.facilities.header_datum",
        header=repr(header.strip()),
        named=_DATUM_LABEL[named],
        used=_DATUM_LABEL[key],
        key=named,
    )


def _points_of(geoms: np.ndarray, warns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    present = np.array([g is not None for g in geoms], dtype=bool)
    lon = np.full(len(geoms), np.nan)
    lat = np.full(len(geoms), np.nan)
    if present.any():
        g = geoms[present]
        not_point = shapely.get_type_id(g) != 0
        if not_point.any():
            warns.append(msg("loaders.facilities.lines_to_points", n=int(not_point.sum())))
        pts = np.where(not_point, shapely.point_on_surface(g), g)
        lon[present] = shapely.get_x(pts)
        lat[present] = shapely.get_y(pts)
    return lon, lat


def _gis_lonlat(
    gdf: gpd.GeoDataFrame,
    label: str,
    key: str | None,
    pj: pyproj.CRS | None,
    crs_in: str,
    rej: Rejections,
    warns: list[str],
    detected: dict[str, str],
) -> tuple[np.ndarray, np.ndarray, str, pyproj.CRS | None]:
    geoms = gdf.geometry.to_numpy()
    missing = shapely.is_missing(geoms)
    missing[~missing] = shapely.is_empty(geoms[~missing])
    rej.reject(missing, "geometry", "", msg("loaders.facilities.no_geometry"), error=GeometryError)
    detected["coordinates"] = "geometry"
    present = np.array(geoms, dtype=object, copy=True)
    present[missing] = None
    lon, lat = _points_of(present, warns)
    if gdf.crs is None:
        warns.append(msg("loaders.facilities.no_prj", file=label, crs=crs_in))
        return lon, lat, crs_in, pj
    file_crs = pyproj.CRS.from_user_input(gdf.crs)
    if file_crs.is_geographic:
        # Geographic files: take the declared datum (Amap data is often saved as "WGS 84").
        if key in ("gcj02", "bd09"):
            warns.append(
                msg(
                    "loaders.facilities.geographic_as_requested",
                    file=label,
                    file_crs=file_crs.name,
                    crs=crs_in,
                )
            )
            return lon, lat, crs_in, None
        if not file_crs.equals(pyproj.CRS.from_epsg(4326)):
            lon, lat = _projected_to_wgs84(lon, lat, file_crs, rej, label)
        return lon, lat, file_crs.to_string(), None
    if key in ("gcj02", "bd09"):
        warns.append(
            msg(
                "loaders.facilities.own_crs",
                file=label,
                file_crs=file_crs.name,
                crs=_DATUM_LABEL[key],
            )
        )
    return lon, lat, file_crs.to_string(), file_crs


def _projected_to_wgs84(
    x: np.ndarray, y: np.ndarray, pj: pyproj.CRS, rej: Rejections, label: str
) -> tuple[np.ndarray, np.ndarray]:
    tr = pyproj.Transformer.from_crs(pj, WGS84, always_xy=True)
    lon, lat = tr.transform(x, y, errcheck=False)
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    fail = rej.alive & ~(np.isfinite(lon) & np.isfinite(lat))
    rej.reject(
        fail,
        "geometry",
        _pair_texts(x, y, fail, "{:g}, {:g}"),
        msg("loaders.facilities.cannot_transform", crs=pj.name),
        error=CoordinateError,
    )
    return lon, lat


def _check_projected_values(
    lon: np.ndarray, lat: np.ndarray, rej: Rejections, label: str, crs_in: str
) -> None:
    # Projected metres (UTM, CGCS2000 Gauss-Krüger) declared as degrees: say so once, clearly.
    ok = rej.alive & np.isfinite(lon) & np.isfinite(lat)
    big = ok & (np.abs(lon) > 1000) & (np.abs(lat) > 1000)
    if big.any() and big.sum() == ok.sum():
        error = msg(
            "loaders.facilities.projected_metres",
            file=label,
            x=f"{lon[big][0]:.0f}",
            y=f"{lat[big][0]:.0f}",
            crs=crs_in,
        )
        raise CoordinateError(error)


def _swap_axes(
    lon: np.ndarray, lat: np.ndarray, rows: np.ndarray, rej: Rejections, warns: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    ok = rej.alive & np.isfinite(lon) & np.isfinite(lat)
    normal = ok & _in_china(lon, lat)
    swapped = ok & _in_china(lat, lon)
    if swapped.any() and not normal.any():
        warns.append(msg("loaders.facilities.swapped_all"))
        return lat.copy(), lon.copy(), lat.copy(), lon.copy()
    fix = swapped & (np.abs(lat) > 90)
    if fix.any():
        warns.append(msg("loaders.facilities.swapped_rows", rows=list_rows(rows[fix])))
        lon, lat = np.where(fix, lat, lon), np.where(fix, lon, lat)
    return lon, lat, lon.copy(), lat.copy()


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (
        (lon >= _CHINA_LON[0])
        & (lon <= _CHINA_LON[1])
        & (lat >= _CHINA_LAT[0])
        & (lat <= _CHINA_LAT[1])
    )


# --------------------------------------------------------------------------- datum suggestion


def _raw_arrays(raw: Any) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(raw, (gpd.GeoDataFrame, gpd.GeoSeries)):
        gs = raw.geometry if isinstance(raw, gpd.GeoDataFrame) else raw
        return shapely.get_x(gs.to_numpy()), shapely.get_y(gs.to_numpy())
    if isinstance(raw, tuple) and len(raw) == 2:
        return np.asarray(raw[0], dtype="float64"), np.asarray(raw[1], dtype="float64")
    arr = np.asarray(raw, dtype="float64")
    if arr.ndim == 2 and arr.shape[1] == 2:
        return arr[:, 0], arr[:, 1]
    raise InputDataError(msg("loaders.facilities.bad_raw_points", kind=type(raw).__name__))


def datum_fit(raw: Any, network: Network, *, max_points: int = 2000) -> dict[str, float]:
    """Median distance (m) from the points to the nearest street edge under each datum.

    Parameters
    ----------
    raw
        The input coordinates as read, before any datum conversion: ``(lon, lat)`` arrays, an
        ``(n, 2)`` array, or a point GeoDataFrame/GeoSeries.
    network
        The street network (its edges in ``network.crs``).
    max_points
        Evenly spaced sample size for big inputs.

    Returns
    -------
    dict
        ``{"wgs84": m, "gcj02": m, "bd09": m}``.
    """
    lon, lat = _raw_arrays(raw)
    ok = np.isfinite(lon) & np.isfinite(lat)
    lon, lat = lon[ok], lat[ok]
    if lon.size > max_points:
        pick = np.linspace(0, lon.size - 1, max_points).astype(int)
        lon, lat = lon[pick], lat[pick]
    if lon.size == 0:
        return {}
    tree = shapely.STRtree(network.geometry)
    tr = pyproj.Transformer.from_crs(WGS84, network.crs, always_xy=True)
    out: dict[str, float] = {}
    for d in datum.DATUMS:
        wl, wa = datum.to_wgs84(lon, lat, crs=d)
        x, y = tr.transform(wl, wa)
        _, dist = tree.query_nearest(shapely.points(x, y), return_distance=True, all_matches=False)
        out[d] = float(np.median(dist))
    return out


def suggest_datum(
    raw: Any, network: Network, *, crs_used: str = "wgs84", max_points: int = 2000
) -> Message | None:
    """Suggest another datum when the points sit on the streets only under that one.

    The median distance to the nearest street is computed for the raw coordinates read as
    WGS-84, GCJ-02 and BD-09. When the declared datum's median is more than
    :data:`SUGGEST_RATIO` times and :data:`SUGGEST_MIN_GAIN_M` metres worse than the best one,
    a hint is returned (a message: English as text, Chinese with ``.text("zh")``); otherwise
    ``None``.

    Parameters
    ----------
    raw
        The input coordinates as read (see :func:`datum_fit`).
    network
        The street network.
    crs_used
        The datum the coordinates were declared in.
    max_points
        Sample size for big inputs.

    Returns
    -------
    Message or None
    """
    used = datum.normalise_datum(crs_used)
    if used is None:
        return None
    fit = datum_fit(raw, network, max_points=max_points)
    if not fit:
        return None
    best = min(fit, key=fit.__getitem__)
    cur, top = fit[used], fit[best]
    if best == used or not (cur > SUGGEST_RATIO * top and cur - top > SUGGEST_MIN_GAIN_M):
        return None
    if top > settings.datum_fit_max_m:
        # Far from the streets in every datum: another datum would not put them on a street.
        return None
    return msg(
        "loaders.facilities.datum_suggestion",
        best=_DATUM_LABEL[best],
        used=_DATUM_LABEL[used],
        top=f"{top:.0f}",
        cur=f"{cur:.0f}",
        key=best,
    )


@dataclass(frozen=True)
class DatumChoice:
    """The datum used for coordinates whose ``crs`` was not declared, and why.

    Attributes
    ----------
    declared
        The declared datum (``None``: not declared).
    used
        The datum the coordinates were read in.
    reason
        Why, as a message (English in the log and ``run.json``, the planner's language in the
        app).
    fit
        Median distance (m) to the nearest street under each datum.
    decisive
        Whether the network fit decided (``False``: WGS-84 kept by default).
    """

    declared: str | None
    used: str
    reason: Message
    fit: dict[str, float]
    decisive: bool

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready record (``run.json`` "datum")."""
        return {
            "declared": self.declared,
            "used": self.used,
            "reason": self.reason,
            "median_distance_m": {k: round(v, 1) for k, v in self.fit.items()},
            "decisive": self.decisive,
        }


def detect_datum(raw: Any, network: Network, *, max_points: int = 2000) -> DatumChoice:
    """Pick the datum of undeclared coordinates from how well they fit the street network.

    The best datum (smallest median distance to the nearest street, :func:`datum_fit`) is used
    when the fit is decisive (``settings.datum_fit_max_m``, ``datum_decisive_ratio`` and
    ``datum_decisive_gain_m``); otherwise WGS-84 is kept and the reason says the fit was
    ambiguous.

    Parameters
    ----------
    raw
        The coordinates as read (see :func:`datum_fit`).
    network
        The street network.
    max_points
        Sample size for big inputs.

    Returns
    -------
    DatumChoice
    """
    fit = datum_fit(raw, network, max_points=max_points)
    if not fit:
        return DatumChoice(None, "wgs84", msg("loaders.facilities.datum_untested"), fit, False)
    best = min(fit, key=fit.__getitem__)
    top = fit[best]
    others = [v for k, v in fit.items() if k != best]
    decisive = top <= settings.datum_fit_max_m and all(
        v >= settings.datum_decisive_ratio * top and v - top >= settings.datum_decisive_gain_m
        for v in others
    )
    text = ", ".join(f"{_DATUM_LABEL[k]} {v:.0f} m" for k, v in fit.items())
    if decisive:
        reason = msg(
            "loaders.facilities.datum_decisive", best=_DATUM_LABEL[best], fit=text, key=best
        )
        return DatumChoice(None, best, reason, fit, True)
    reason = msg("loaders.facilities.datum_ambiguous", fit=text)
    return DatumChoice(None, "wgs84", reason, fit, False)


def mixed_datum_rows(
    raw: Any, rows: np.ndarray, network: Network, *, crs_used: str = "wgs84"
) -> dict[str, np.ndarray]:
    """Rows that fit the streets under another datum than the declared one.

    A row is reported when it lies at least ``settings.datum_row_off_m`` from the nearest street
    as declared, and within ``settings.datum_row_fit_m`` under another datum: the pattern of a
    file that mixes WGS-84 rows with rows copied from Amap (GCJ-02, ~500 m off). Only files whose
    rows sit on streets (median at most ``settings.datum_row_file_median_m`` as declared) are
    checked: elsewhere a row's fit says nothing about its datum.

    Parameters
    ----------
    raw
        The coordinates as read (see :func:`datum_fit`), one per row.
    rows
        The user-visible row number of each coordinate.
    network
        The street network.
    crs_used
        The datum the file was read in.

    Returns
    -------
    dict
        Other datum → row numbers that fit it (only datums with such rows).
    """
    used = datum.normalise_datum(crs_used)
    lon, lat = _raw_arrays(raw)
    rows = np.asarray(rows)
    if used is None or lon.size == 0:
        return {}
    dist = _datum_distances(lon, lat, network)
    out: dict[str, np.ndarray] = {}
    declared = dist[used][np.isfinite(dist[used])]
    if declared.size == 0 or np.median(declared) > settings.datum_row_file_median_m:
        return out
    off = dist[used] >= settings.datum_row_off_m
    for d, dd in dist.items():
        if d == used:
            continue
        hit = off & (dd <= settings.datum_row_fit_m)
        if hit.any():
            out[d] = rows[hit]
    return out


def mixed_datum_warning(
    found: dict[str, np.ndarray], *, label: str, crs_used: str
) -> Message | None:
    """A warning naming the rows of :func:`mixed_datum_rows`, or ``None``."""
    if not found:
        return None
    u = _DATUM_LABEL.get(datum.normalise_datum(crs_used) or "", crs_used)
    parts = []
    for d, rows in found.items():
        shown = ", ".join(str(int(r)) for r in rows[:20]) + (" …" if rows.size > 20 else "")
        parts.append(msg("loaders.facilities.mixed_rows", rows=shown, datum=_DATUM_LABEL[d]))
    return msg("loaders.facilities.mixed_datums", file=label, used=u, parts=parts)


def _datum_distances(lon: np.ndarray, lat: np.ndarray, network: Network) -> dict[str, np.ndarray]:
    """Per point, the distance (m) to the nearest street under each datum (NaN: no coordinate)."""
    ok = np.isfinite(lon) & np.isfinite(lat)
    tree = shapely.STRtree(network.geometry)
    tr = pyproj.Transformer.from_crs(WGS84, network.crs, always_xy=True)
    out: dict[str, np.ndarray] = {}
    for d in datum.DATUMS:
        dist = np.full(lon.size, np.nan)
        if ok.any():
            wl, wa = datum.to_wgs84(lon[ok], lat[ok], crs=d)
            x, y = tr.transform(wl, wa)
            _, dd = tree.query_nearest(
                shapely.points(x, y), return_distance=True, all_matches=False
            )
            dist[ok] = dd
        out[d] = dist
    return out


# --------------------------------------------------------------------------- input columns

#: Prefix of a user's column whose name clashes with one of ours (``name`` → ``input_name``).
INPUT_PREFIX = "input_"

#: Columns the analysis adds to demand and facilities (besides ``<category>_...`` ones).
_RESULT_COLUMNS = ("geometry", "snapped", "snap_distance_m")


def with_input_columns(
    out: pd.DataFrame, frame: pd.DataFrame, keep: np.ndarray, used: Any
) -> pd.DataFrame:
    """``out`` plus the user's other input columns, as the README promises (e.g. ``point_no``).

    Columns already turned into ours (``used``: name, category, id, population ...) are not
    repeated. A column whose name clashes with ours, with the analysis' columns or with a
    ``<category>_`` result column gets :data:`INPUT_PREFIX`.

    Parameters
    ----------
    out
        Our table, one row per kept input row.
    frame
        The input table as read.
    keep
        Boolean mask of the input rows kept (aligned to ``frame``).
    used
        Input column names already represented in ``out``.

    Returns
    -------
    pandas.DataFrame
    """
    used = {str(c) for c in used if c is not None}
    geom = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    keys = tuple(f"{k}_" for k in taxonomy.categories())
    taken = {str(c) for c in out.columns} | set(_RESULT_COLUMNS)
    extra: dict[str, Any] = {}
    for col in frame.columns:
        name = str(col)
        if col == geom or name in used:
            continue
        new = name
        while new in taken or new in extra or new.startswith(keys):
            new = INPUT_PREFIX + new
        values = frame[col].to_numpy()[keep]
        extra[new] = values
    if not extra:
        return out
    return pd.concat([out, pd.DataFrame(extra, index=out.index)], axis=1)
