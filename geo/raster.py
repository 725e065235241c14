"""Population from rasters: GeoTIFF grids (WorldPop, GHS-POP, census grids) as demand points.

:func:`demand_from_raster` reads one band with rasterio in the raster's own CRS. Every cell with
people becomes a demand point at its centre (``kind = "grid"``), or, given residential building
footprints, its people are spread over the buildings inside it in proportion to footprint area ×
storeys (dasymetric mapping; ``kind = "building"``).

Decisions
---------
* **Nodata** (the band's nodata value, masked or NaN cells) holds nobody; the count is reported.
* **Negative cells** are data errors: set to 0, listed in ``rejected`` (``row`` is the 1-based
  cell number ``r * width + c + 1``; the reason names row and column) and counted in a warning.
* **Zero cells** produce no point.
* **Study area:** cells whose centre lies outside it are dropped (a cell is all in or all out, so
  the total inside is the sum of the cells kept).
* **Total preserved:** the output population equals the sum of the positive cells kept, to
  floating-point rounding. A cell with people but no building keeps one point at its centre (so
  nothing is lost) and is reported.
* A building belongs to the cell holding its representative point; buildings in empty, nodata
  or dropped cells get no point.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.demand import DEMAND_COLUMNS
from geo.errors import InputDataError
from geo.facilities import study_area_polygon
from geo.messages import msg
from geo.network import WGS84, utm_crs_for
from geo.validation import ValidationReport, empty_rejected

logger = logging.getLogger(__name__)

__all__ = ["demand_from_raster"]

#: Storeys above this are treated as data errors (as for building demand) and read as 1.
_MAX_LEVELS = 150


def _read_band(path: Any, band: int) -> tuple[np.ndarray, np.ndarray, Any, Any, dict[str, str]]:
    """Values (float64), nodata mask, affine transform, CRS and facts for the report."""
    import rasterio

    try:
        src = rasterio.open(path)
    except (rasterio.errors.RasterioIOError, OSError) as exc:
        error = msg("loaders.raster.unreadable", path=str(path), error=str(exc))
        raise InputDataError(error) from None
    with src:
        if not 1 <= band <= src.count:
            name = Path(str(path)).name
            raise InputDataError(
                msg("loaders.raster.no_band", file=name, band=band, count=src.count)
            )
        if src.crs is None:
            raise InputDataError(msg("loaders.raster.no_crs", file=Path(str(path)).name))
        data = src.read(band, masked=True)
        values = np.asarray(data.filled(np.nan), dtype="float64")
        mask = np.asarray(np.ma.getmaskarray(data)) | ~np.isfinite(values)
        facts = {
            "band": str(band),
            "size": f"{src.width} × {src.height}",
            "cell": f"{abs(src.transform.a):g} × {abs(src.transform.e):g}",
            "nodata": str(src.nodata),
            "crs": src.crs.to_string(),
        }
        return values, mask, src.transform, src.crs, facts


def _metric_crs(crs: Any, lon: float, lat: float) -> Any:
    proj = pyproj.CRS.from_user_input(crs)
    return proj if proj.is_projected else utm_crs_for(lon, lat)


def _building_weights(buildings: gpd.GeoDataFrame, levels_col: str, metric: Any) -> np.ndarray:
    area = buildings.geometry.to_crs(metric).area.to_numpy(dtype="float64")
    if levels_col in buildings.columns:
        levels = pd.to_numeric(buildings[levels_col], errors="coerce").to_numpy(dtype="float64")
        levels = np.where(np.isfinite(levels) & (levels > 0) & (levels <= _MAX_LEVELS), levels, 1)
    else:
        levels = np.ones(len(buildings))
    return np.where(np.isfinite(area), area, 0.0) * levels


def demand_from_raster(
    path: str | Path,
    *,
    buildings: gpd.GeoDataFrame | None = None,
    study_area: Any = None,
    band: int = 1,
    levels_col: str = "levels",
    elderly_share: float | None = None,
) -> tuple[gpd.GeoDataFrame, ValidationReport]:
    """Demand points from a population GeoTIFF.

    Parameters
    ----------
    path
        The GeoTIFF (any CRS; people per cell).
    buildings
        Residential building footprints, already filtered (e.g.
        ``demand_from_buildings(..., residential_only=True)``'s source polygons); with them
        each cell's people are spread over its buildings by footprint area × ``levels_col``.
    study_area
        Polygon (WGS-84) or GeoDataFrame; cells whose centre is outside are dropped.
    band
        Band number (1-based).
    levels_col
        Storeys column of ``buildings`` (missing, non-positive or > 150 read as 1).
    elderly_share
        Share of residents aged 60+, to fill ``elderly`` (NaN otherwise).

    Returns
    -------
    tuple
        The Demand GeoDataFrame (CONTRACTS.md; WGS-84 points) and a
        :class:`~geo.validation.ValidationReport`.
    """
    if elderly_share is not None and not 0 <= elderly_share <= 1:
        raise InputDataError(msg("loaders.demand.bad_share", value=repr(elderly_share)))
    name = Path(str(path)).name
    values, nodata, transform, crs, facts = _read_band(path, band)
    height, width = values.shape
    warnings: list[str] = []
    negative = ~nodata & (values < 0)
    rejected = _negative_cells(values, negative, band, warnings)
    n_nodata = int(nodata.sum())
    if n_nodata:
        warnings.append(msg("loaders.raster.nodata_cells", n=n_nodata))
    people = np.where(nodata | negative, 0.0, values)
    rows, cols = np.nonzero(people > 0)
    pop = people[rows, cols]
    xs, ys = transform * (cols + 0.5, rows + 0.5)
    xs, ys = np.asarray(xs, dtype="float64"), np.asarray(ys, dtype="float64")
    to_wgs = pyproj.Transformer.from_crs(crs, WGS84, always_xy=True)
    lon, lat = to_wgs.transform(xs, ys)
    lon, lat = np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")
    if study_area is not None:
        inside = shapely.contains_xy(study_area_polygon(study_area), lon, lat)
        if (~inside).any():
            people_out = f"{pop[~inside].sum():,.0f}"
            warnings.append(
                msg("loaders.raster.outside_area", n=int((~inside).sum()), people=people_out)
            )
        rows, cols, pop, lon, lat = (a[inside] for a in (rows, cols, pop, lon, lat))
    total = float(pop.sum())

    if buildings is None:
        ids = np.array([f"R{r}_{c}" for r, c in zip(rows.tolist(), cols.tolist(), strict=True)])
        gdf = _frame(ids, pop, lon, lat, np.full(len(pop), "grid", dtype=object), elderly_share)
    else:
        gdf, extra = _dasymetric(
            buildings, rows, cols, pop, lon, lat, transform, crs, width, levels_col, elderly_share
        )
        warnings += extra
    report = ValidationReport(
        source=name,
        n_read=int(height * width),
        n_ok=len(gdf),
        rejected=rejected,
        detected={**facts, "population": f"{total:,.0f}"},
        encoding=None,
        crs_in=facts["crs"],
        warnings=warnings,
    )
    logger.info("%s: %d demand points, %.0f residents", name, len(gdf), total)
    return gdf, report


def _negative_cells(
    values: np.ndarray, negative: np.ndarray, band: int, warnings: list[str]
) -> pd.DataFrame:
    """The rejected table of negative cells (``row`` = cell number from 1), with a warning."""
    if not negative.any():
        return empty_rejected()
    width = values.shape[1]
    r, c = np.nonzero(negative)
    reasons = [
        msg("loaders.raster.negative_cell", row=i, column=j)
        for i, j in zip(r.tolist(), c.tolist(), strict=True)
    ]
    warnings.append(msg("loaders.raster.negative_cells", n=int(negative.sum())))
    return pd.DataFrame(
        {
            "row": (r * width + c + 1).astype("int64"),
            "column": pd.Series([f"band {band}"] * len(r), dtype=object),
            "value": values[r, c].astype(object),
            "reason": pd.Series(reasons, dtype=object),
        }
    )


def _frame(
    ids: np.ndarray,
    pop: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    kind: np.ndarray,
    elderly_share: float | None,
) -> gpd.GeoDataFrame:
    pop = np.asarray(pop, dtype="float64")
    out = gpd.GeoDataFrame(
        {
            "demand_id": pd.Series(ids, dtype=object).astype(str).to_numpy(dtype=object),
            "population": pop,
            "elderly": pop * elderly_share
            if elderly_share is not None
            else np.full(len(pop), np.nan),
            "community": np.full(len(pop), "", dtype=object),
            "kind": np.asarray(kind, dtype=object),
        },
        geometry=shapely.points(np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")),
        crs=WGS84,
    )
    return out[[*DEMAND_COLUMNS, "geometry"]]


def _dasymetric(
    buildings: gpd.GeoDataFrame,
    rows: np.ndarray,
    cols: np.ndarray,
    pop: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    transform: Any,
    crs: Any,
    width: int,
    levels_col: str,
    elderly_share: float | None,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Spread each cell's people over the buildings inside it (area × storeys)."""
    if not isinstance(buildings, gpd.GeoDataFrame):
        kind = type(buildings).__name__
        raise InputDataError(msg("loaders.raster.bad_buildings", kind=kind))
    blds = buildings if buildings.crs is not None else buildings.set_crs(WGS84)
    blds = blds[~blds.geometry.is_empty & blds.geometry.notna()].reset_index(drop=True)
    warnings: list[str] = []
    cell_of = {int(r) * width + int(c): i for i, (r, c) in enumerate(zip(rows, cols, strict=True))}
    if len(blds):
        rep = blds.geometry.representative_point()
        centre = rep.to_crs(WGS84).union_all().centroid
        weight = _building_weights(blds, levels_col, _metric_crs(crs, centre.x, centre.y))
        in_raster = rep.to_crs(crs)
        col_f, row_f = ~transform * (in_raster.x.to_numpy(), in_raster.y.to_numpy())
        b_row = np.floor(np.asarray(row_f)).astype("int64")
        b_col = np.floor(np.asarray(col_f)).astype("int64")
        valid = (b_col >= 0) & (b_col < width) & (b_row >= 0)
        flat = np.where(valid, b_row * width + b_col, -1)
        b_cell = np.array([cell_of.get(int(f), -1) for f in flat.tolist()], dtype="int64")
    else:
        weight = np.zeros(0)
        b_cell = np.zeros(0, dtype="int64")
        rep = gpd.GeoSeries([], crs=WGS84)
    used = b_cell >= 0
    n_cells = len(pop)
    w_sum = np.bincount(b_cell[used], weights=weight[used], minlength=n_cells)
    n_b = np.bincount(b_cell[used], minlength=n_cells)
    # A cell whose buildings all have zero weight (points, bad polygons) shares equally.
    equal = (n_b > 0) & ~(w_sum > 0)
    share = np.zeros(len(blds))
    if used.any():
        cells = b_cell[used]
        share[used] = np.where(
            equal[cells],
            1.0 / np.maximum(n_b[cells], 1),
            weight[used] / np.where(w_sum[cells] > 0, w_sum[cells], 1.0),
        )
    b_pop = np.where(used, share * pop[np.maximum(b_cell, 0)], 0.0)
    keep = used & (b_pop > 0)
    rep_wgs = rep.to_crs(WGS84)
    ids_b = np.array([f"RB{i}" for i in np.flatnonzero(keep)])
    orphan = n_b == 0
    if orphan.any():
        people = f"{pop[orphan].sum():,.0f}"
        warnings.append(
            msg("loaders.raster.cells_without_buildings", n=int(orphan.sum()), people=people)
        )
    n_unused = int((~used).sum())
    if n_unused:
        warnings.append(msg("loaders.raster.buildings_without_people", n=n_unused))
    ids_c = np.array(
        [f"R{r}_{c}" for r, c in zip(rows[orphan].tolist(), cols[orphan].tolist(), strict=True)]
    )
    frame = _frame(
        np.concatenate([ids_b, ids_c]).astype(object),
        np.concatenate([b_pop[keep], pop[orphan]]),
        np.concatenate([rep_wgs.x.to_numpy()[keep], lon[orphan]]),
        np.concatenate([rep_wgs.y.to_numpy()[keep], lat[orphan]]),
        np.array(["building"] * int(keep.sum()) + ["grid"] * int(orphan.sum()), dtype=object),
        elderly_share,
    )
    return frame, warnings
