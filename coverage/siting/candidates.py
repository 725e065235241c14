"""Candidate sites: generated street nodes in and around the gaps, uploaded lists, or both.

A candidates GeoDataFrame (EPSG:4326 points) has the columns ``candidate_id`` (str, unique),
``name`` (str), ``source`` ("generated", a file name, "upload" ...), ``capacity`` (float, NaN when
unknown) and ``node`` (the street node of a generated candidate, -1 otherwise).

Generated candidates are street nodes (a site on a street is reachable by definition), kept only
where a new facility could help: within the category's threshold — on the network — of at least
one uncovered resident. They are thinned to one per ``spacing_m`` grid cell (the node nearest the
cell centre), which bounds the model size while keeping every gap reachable.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage.analysis import CoverageResult
from coverage.distance import nearest_from
from coverage.snap import snap_points
from geo import settings
from geo.errors import ColumnNotFoundError, InputDataError
from geo.messages import msg, text
from geo.network import WGS84, Network

logger = logging.getLogger(__name__)

__all__ = [
    "CANDIDATE_COLUMNS",
    "as_candidates",
    "candidates_from_file",
    "combine",
    "empty_candidates",
    "generate_candidates",
    "thin_to_grid",
]

CANDIDATE_COLUMNS = ["candidate_id", "name", "source", "capacity", "node"]


def empty_candidates() -> gpd.GeoDataFrame:
    """A candidates GeoDataFrame with no rows."""
    return gpd.GeoDataFrame(
        {
            "candidate_id": pd.Series([], dtype=str),
            "name": pd.Series([], dtype=str),
            "source": pd.Series([], dtype=str),
            "capacity": pd.Series([], dtype="float64"),
            "node": pd.Series([], dtype="int64"),
        },
        geometry=[],
        crs=WGS84,
    )


def thin_to_grid(x: np.ndarray, y: np.ndarray, *, spacing_m: float) -> np.ndarray:
    """Keep one point per ``spacing_m`` square cell: the one nearest the cell centre.

    Parameters
    ----------
    x, y
        Projected coordinates (metres).
    spacing_m
        Cell size.

    Returns
    -------
    numpy.ndarray
        Sorted indices of the kept points.
    """
    if x.size == 0:
        return np.zeros(0, dtype="int64")
    if not spacing_m > 0:
        raise InputDataError(msg("coverage.siting.bad_spacing", spacing=repr(spacing_m)))
    x0, y0 = float(x.min()), float(y.min())
    cx = np.floor((x - x0) / spacing_m).astype("int64")
    cy = np.floor((y - y0) / spacing_m).astype("int64")
    dx = x - (x0 + (cx + 0.5) * spacing_m)
    dy = y - (y0 + (cy + 0.5) * spacing_m)
    key = cx * (int(cy.max()) + 1) + cy
    order = np.lexsort((np.arange(x.size), np.hypot(dx, dy), key))
    first = np.ones(order.size, dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    return np.sort(order[first])


def generate_candidates(
    network: Network,
    result: CoverageResult,
    *,
    category: str,
    spacing_m: float | None = None,
    around_gaps: bool = True,
) -> gpd.GeoDataFrame:
    """Street nodes at a spacing where a new facility of ``category`` would cover someone.

    Parameters
    ----------
    network
        The street network ``result`` was computed on.
    result
        A coverage result that includes ``category``.
    category
        Taxonomy key.
    spacing_m
        Grid spacing of the thinning; default ``settings.candidate_spacing_m``.
    around_gaps
        Keep only nodes within the threshold (network distance) of an uncovered resident. With
        ``False``, every node that reaches some resident within the threshold is eligible.

    Returns
    -------
    geopandas.GeoDataFrame
        Candidates (see the module docstring); empty when nobody is uncovered.
    """
    _require_category(result, category)
    spacing = float(settings.candidate_spacing_m if spacing_m is None else spacing_m)
    crit = result.criteria[category]
    dem = result.demand
    snap = result.demand_snap
    if snap is None:
        snap = snap_points(network, dem, tolerance_m=result.tolerance_m or None)
    pop = dem["population"].to_numpy(dtype="float64")
    want = snap.ok & (pop > 0)
    if around_gaps:
        want &= ~dem[f"{category}_covered"].to_numpy(dtype=bool)
    if not want.any():
        logger.info("generate_candidates: no uncovered residents for %s; no candidates", category)
        return empty_candidates()
    # Nodes within the threshold of a wanted point: the reverse search from the points (walking
    # networks are symmetric; on directed ones this is the distance point → node).
    node_dist, _ = nearest_from(
        network, snap.subset(np.flatnonzero(want)), limit_m=crit.threshold_m
    )
    nodes = np.flatnonzero(np.isfinite(node_dist))
    keep = nodes[thin_to_grid(network.x[nodes], network.y[nodes], spacing_m=spacing)]
    pts = gpd.GeoSeries(shapely.points(network.x[keep], network.y[keep]), crs=network.crs)
    out = gpd.GeoDataFrame(
        {
            "candidate_id": [f"gen-{i + 1:05d}" for i in range(keep.size)],
            # Names are data shown on Chinese maps and tables: the catalogue's Chinese label.
            "name": [
                text("coverage.siting.candidate_name", "zh", n=i + 1) for i in range(keep.size)
            ],
            "source": "generated",
            "capacity": np.nan,
            "node": keep.astype("int64"),
        },
        geometry=pts.to_crs(WGS84).values,
        crs=WGS84,
    )
    logger.info(
        "generate_candidates: %d candidates for %s (%d eligible nodes, spacing %.0f m)",
        len(out),
        category,
        nodes.size,
        spacing,
    )
    return out


def _require_category(result: CoverageResult, category: str) -> None:
    if category not in result.criteria:
        raise ColumnNotFoundError(
            msg(
                "coverage.siting.category_not_analysed",
                category=repr(category),
                analysed=list(result.criteria),
            )
        )


def as_candidates(
    frame: gpd.GeoDataFrame, *, source: str | None = None, capacity: str | None = None
) -> gpd.GeoDataFrame:
    """Turn any facility-like GeoDataFrame (points or polygons) into candidates.

    Parameters
    ----------
    frame
        Points or polygons (polygons become a point inside them). Ids come from
        ``candidate_id``, ``facility_id`` or ``id``; names from ``name``; capacity from
        ``capacity`` (or the column named by ``capacity``).
    source
        Value of the ``source`` column when ``frame`` has none (default "upload").
    capacity
        Name of the capacity column, when it is not ``capacity``.

    Returns
    -------
    geopandas.GeoDataFrame
    """
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputDataError(msg("coverage.siting.candidates_not_frame", kind=type(frame).__name__))
    if len(frame) == 0:
        return empty_candidates()
    g = frame.set_crs(WGS84) if frame.crs is None else frame
    g = g.to_crs(WGS84).reset_index(drop=True)
    geom = g.geometry.values
    bad = shapely.is_missing(geom) | shapely.is_empty(geom)
    if bad.any():
        raise InputDataError(
            msg(
                "coverage.siting.candidates_no_geometry",
                n=int(bad.sum()),
                row=int(np.flatnonzero(bad)[0]) + 2,
            )
        )
    geom = np.where(shapely.get_type_id(geom) == 0, geom, shapely.point_on_surface(geom))
    ids = None
    for col in ("candidate_id", "facility_id", "id"):
        if col in g.columns:
            ids = g[col].astype(str).to_numpy()
            break
    if ids is None:
        ids = np.array([f"cand-{i + 1:05d}" for i in range(len(g))])
    cap_col = capacity or "capacity"
    if capacity is not None and capacity not in g.columns:
        raise ColumnNotFoundError(
            msg(
                "coverage.siting.no_capacity_column",
                column=repr(capacity),
                columns=list(g.columns),
            )
        )
    cap = (
        pd.to_numeric(g[cap_col], errors="coerce").to_numpy(dtype="float64")
        if cap_col in g.columns
        else np.full(len(g), np.nan)
    )
    out = gpd.GeoDataFrame(
        {
            "candidate_id": ids,
            "name": g["name"].fillna("").astype(str).to_numpy()
            if "name" in g.columns
            else np.full(len(g), "", dtype=object),
            "source": g["source"].fillna("").astype(str).to_numpy()
            if "source" in g.columns
            else np.full(len(g), source or "upload", dtype=object),
            "capacity": cap,
            "node": np.full(len(g), -1, dtype="int64"),
        },
        geometry=list(geom),
        crs=WGS84,
    )
    return _unique_ids(out)


def candidates_from_file(
    path: Any, *, category: str | None = None, **options: Any
) -> tuple[gpd.GeoDataFrame, Any]:
    """Load candidate sites from a facility-like file (CSV, XLSX, GeoJSON, SHP ...).

    Uses the facilities loader (:func:`geo.facilities.load_facilities`), so every format,
    coordinate system and column name it understands works here too.

    Parameters
    ----------
    path
        The file (or bytes / an uploaded file, with ``name=`` giving its file name).
    category
        Category to give rows without one (the loader needs a category per facility).
    **options
        Passed to the loader (``crs``, ``lon``, ``lat``, ``name`` ...).

    Returns
    -------
    tuple
        ``(candidates, validation_report)``.
    """
    from geo.facilities import load_facilities

    frame, report = load_facilities(path, category=category, **options)
    label = options.get("name") or (Path(path).name if isinstance(path, str | Path) else "upload")
    return as_candidates(frame, source=str(label)), report


def _unique_ids(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    ids = frame["candidate_id"].astype(str)
    dup = ids.duplicated(keep="first")
    if dup.any():
        # Suffix repeats so that every candidate stays addressable (two files may share ids).
        counter = ids.groupby(ids).cumcount()
        ids = ids.where(~dup, ids + "-" + counter.astype(str))
        frame = frame.assign(candidate_id=ids)
    return frame


def combine(*frames: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Concatenate candidate frames (e.g. generated and uploaded), keeping ids unique."""
    parts = [as_candidates(f) if "node" not in f.columns else f for f in frames if len(f)]
    if not parts:
        return empty_candidates()
    out = pd.concat([p[[*CANDIDATE_COLUMNS, "geometry"]] for p in parts], ignore_index=True)
    return _unique_ids(gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84))
