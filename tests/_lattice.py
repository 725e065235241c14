"""Test helpers: points and demand on ``lattice_network`` test streets.

``lattice_network`` puts its streets in UTM zone 50N (EPSG:32650) from ``(X0, Y0)`` by default;
``gdf`` places points at offsets from that corner, ``lonlat_points`` and ``lattice_demand`` give
WGS-84 points for any lattice (the loaders' and the coverage engine's input CRS).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo.network import Network

X0, Y0 = 500_000.0, 3_500_000.0
CRS = "EPSG:32650"


def gdf(pts, **cols) -> gpd.GeoDataFrame:
    """Points at ``(dx, dy)`` metres from the default lattice corner, in :data:`CRS`."""
    a = np.array(pts, dtype=float)
    return gpd.GeoDataFrame(
        dict(cols), geometry=gpd.points_from_xy(X0 + a[:, 0], Y0 + a[:, 1]), crs=CRS
    )


def lonlat_points(net: Network, x, y) -> gpd.GeoSeries:
    """Projected coordinates in ``net.crs`` as WGS-84 points."""
    pts = shapely.points(np.atleast_1d(x), np.atleast_1d(y))
    return gpd.GeoSeries(pts, crs=net.crs).to_crs(4326)


def lattice_demand(
    net: Network,
    *,
    n: int,
    extent_m: float,
    seed: int,
    max_population: int,
    elderly_share: float,
    n_communities: int,
) -> gpd.GeoDataFrame:
    """``n`` random demand points (contract columns, WGS-84) in the lattice's lower-left square.

    Draws x, then y, then the populations (10 to ``max_population``) from one generator, so a
    seed always gives the same points.
    """
    rng = np.random.default_rng(seed)
    x = net.x.min() + rng.uniform(0, extent_m, n)
    y = net.y.min() + rng.uniform(0, extent_m, n)
    pop = rng.integers(10, max_population, size=n).astype(float)
    return gpd.GeoDataFrame(
        {
            "demand_id": [f"d{i}" for i in range(n)],
            "population": pop,
            "elderly": np.round(pop * elderly_share),
            "community": [f"社区{i % n_communities}" for i in range(n)],
            "kind": "building",
        },
        geometry=lonlat_points(net, x, y).values,
        crs=4326,
    )
