"""Coverage gaps: uncovered demand grouped into ranked polygons.

Uncovered demand points of one category (including points too far from any street to snap) are
grouped by **single-link clustering**: two points closer than ``cluster_m`` (default
``settings.gap_cluster_distance_m``) belong to the same gap (``scipy.spatial.cKDTree`` pairs and
``scipy.sparse.csgraph.connected_components``). A gap's polygon is the union of discs of radius
``cluster_m / 2`` around its points, so linked points give one connected polygon and covered land
between separate gaps is not swallowed (a convex hull would).

``nearest_facility_m`` is the population-weighted **median** network distance from the gap's
points to the nearest existing facility of the category (robust to one far-off point);
``nearest_facility_max_m`` is the largest. Both are ``inf`` when no point of the gap reaches a
facility. ``communities`` lists up to three community names, most uncovered residents first, and
``n_communities`` counts all of them. ``lon``/``lat`` is a point inside the gap (WGS-84).
Gaps are ranked by uncovered residents (then by points).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from coverage.summary import weighted_quantile
from geo import settings
from geo.errors import ConfigError
from geo.network import WGS84

if TYPE_CHECKING:
    from coverage.analysis import CoverageResult

__all__ = ["GAP_COLUMNS", "find_gaps"]

GAP_COLUMNS = [
    "gap_id",
    "rank",
    "category",
    "uncovered_population",
    "uncovered_elderly",
    "n_points",
    "nearest_facility_m",
    "nearest_facility_max_m",
    "communities",
    "n_communities",
    "area_m2",
    "lon",
    "lat",
    "geometry",
]

# Above this many points a gap's discs are first thinned to one per small grid cell: the union
# of thousands of overlapping discs is slow and the thinning moves the outline by < cluster_m / 8.
_THIN_ABOVE = 2000


def _empty(crs: str = WGS84) -> gpd.GeoDataFrame:
    cols: dict[str, list[object]] = {c: [] for c in GAP_COLUMNS if c != "geometry"}
    return gpd.GeoDataFrame(cols, geometry=[], crs=crs)


def find_gaps(
    result: CoverageResult,
    *,
    category: str,
    cluster_m: float | None = None,
    min_population: float = 0.0,
) -> gpd.GeoDataFrame:
    """Group the uncovered demand of one category into ranked gap polygons.

    Parameters
    ----------
    result
        A coverage result.
    category
        The category key (must have been analysed).
    cluster_m
        Linking distance in metres; default ``settings.gap_cluster_distance_m``.
    min_population
        Drop gaps with fewer uncovered residents than this.

    Returns
    -------
    geopandas.GeoDataFrame
        WGS-84, columns :data:`GAP_COLUMNS`, ranked by uncovered residents (rank 1 first).
    """
    if category not in result.categories:
        msg = f"find_gaps: category {category!r} was not analysed; analysed are {result.categories}"
        raise ConfigError(msg)
    link = float(settings.gap_cluster_distance_m if cluster_m is None else cluster_m)
    if not link > 0:
        msg = f"find_gaps: cluster_m must be a positive distance in metres, got {cluster_m!r}"
        raise ConfigError(msg)
    dem = result.demand
    snap = result.demand_snap
    assert snap is not None
    unc = np.flatnonzero(~dem[f"{category}_covered"].to_numpy(dtype=bool))
    if unc.size == 0:
        return _empty()
    x, y = snap.x[unc], snap.y[unc]
    pop = dem["population"].to_numpy(dtype="float64")[unc]
    eld = pd.to_numeric(dem["elderly"], errors="coerce").to_numpy(dtype="float64")[unc]
    dist = dem[f"{category}_distance_m"].to_numpy(dtype="float64")[unc]
    comm = dem["community"].fillna("").astype(str).to_numpy()[unc]

    pairs = cKDTree(np.column_stack([x, y])).query_pairs(r=link, output_type="ndarray")
    adj = sparse.coo_matrix(
        (np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(unc.size, unc.size)
    )
    n_comp, label = csgraph.connected_components(adj, directed=False)

    radius = link / 2.0
    rows = []
    for c in range(n_comp):
        idx = np.flatnonzero(label == c)
        p = float(pop[idx].sum())
        if p < min_population:
            continue
        px, py = x[idx], y[idx]
        if idx.size > _THIN_ABOVE:
            cell = link / 8.0
            keys = np.unique(np.column_stack([np.round(px / cell), np.round(py / cell)]), axis=0)
            px, py = keys[:, 0] * cell, keys[:, 1] * cell
        poly = shapely.union_all(shapely.buffer(shapely.points(px, py), radius, quad_segs=8))
        reach = np.isfinite(dist[idx])
        if reach.any():
            near = weighted_quantile(dist[idx][reach], pop[idx][reach], 0.5)
            near_max = float(dist[idx][reach].max())
        else:
            near = near_max = float("inf")
        by_comm = (
            pd.Series(pop[idx], index=comm[idx])
            .loc[lambda s: s.index != ""]
            .groupby(level=0)
            .sum()
            .sort_values(ascending=False)
        )
        known = np.isfinite(eld[idx])
        rows.append(
            {
                "category": category,
                "uncovered_population": p,
                "uncovered_elderly": float(eld[idx][known].sum()) if known.any() else np.nan,
                "n_points": int(idx.size),
                "nearest_facility_m": near,
                "nearest_facility_max_m": near_max,
                "communities": "、".join(by_comm.index[:3]),
                "n_communities": len(by_comm),
                "area_m2": float(poly.area),
                "geometry": poly,
            }
        )
    if not rows:
        return _empty()
    out = pd.DataFrame(rows).sort_values(
        ["uncovered_population", "n_points"], ascending=[False, False], kind="stable"
    )
    out["rank"] = np.arange(1, len(out) + 1)
    out["gap_id"] = [f"{category}-{r:03d}" for r in out["rank"]]
    gdf = gpd.GeoDataFrame(out, geometry="geometry", crs=result.crs).to_crs(WGS84)
    # A point inside each gap, so that a table alone says where to look.
    inside = gdf.geometry.representative_point()
    gdf["lon"], gdf["lat"] = inside.x.to_numpy(), inside.y.to_numpy()
    return gdf[GAP_COLUMNS].reset_index(drop=True)
