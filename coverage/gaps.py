"""Coverage gaps: uncovered demand grouped into ranked polygons.

Uncovered demand points of one category (including points too far from any street to snap) are
grouped by **single-link clustering**: two points at most ``cluster_m`` (default
``settings.gap_cluster_distance_m``) apart belong to the same gap. The clustering is linear in
memory (:func:`single_link_labels`): a grid hash whose cells are small enough that all points of a
cell are linked, and one nearest-neighbour query per point and neighbouring cell joins the cells,
so no list of point pairs is ever built (a dense city has hundreds of pairs per point).

A gap's polygon is the union of discs of radius ``cluster_m / 2`` around its points, so linked
points give one connected polygon and covered land between separate gaps is not swallowed (a
convex hull would). Gaps of up to :data:`_EXACT_MAX` points get the exact union of 32-gon discs;
larger ones the level ``cluster_m / 2`` contour of the exact distance to their points sampled on a
grid of ``cluster_m / 16`` (:func:`disc_union_raster`): it holds every point of the gap and its area
is within :data:`RASTER_AREA_TOLERANCE` of the exact union of discs. The distance field is stamped
point by point (compiled with numba; each point writes the nodes within ``radius + 2 step``, so the
work is linear in the points; the numpy fallback is a distance transform), then traced once with
``contourpy``. Large gaps whose extents overlap share one grid (:func:`shared_disc_unions`: one
field, one contour, each polygon given to the gap whose points its region holds); the numbers of a
gap (residents, points, distances, communities) never depend on its polygon.

``nearest_facility_m`` is the population-weighted **median** network distance from the gap's
points to the nearest existing facility of the category (robust to one far-off point);
``nearest_facility_max_m`` is the largest. Both are ``inf`` when no point of the gap reaches a
facility. ``communities`` lists up to three community names, most uncovered residents first, and
``n_communities`` counts all of them. ``lon``/``lat`` is a point inside the gap (WGS-84).
Gaps are ranked by uncovered residents (then by points).
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

import contourpy
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage, sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from coverage.bucket_queue import compiled_kernel
from coverage.summary import weighted_quantile
from geo import settings
from geo.errors import ConfigError
from geo.messages import msg
from geo.network import WGS84

if TYPE_CHECKING:
    from coverage.analysis import CoverageResult

logger = logging.getLogger(__name__)

__all__ = [
    "GAP_COLUMNS",
    "RASTER_AREA_TOLERANCE",
    "disc_union_raster",
    "find_gaps",
    "shared_disc_unions",
    "single_link_labels",
]

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

#: Between the community names of a gap: the Chinese enumeration comma (U+3001), as planners
#: write lists of names.
_NAME_SEP = "\u3001"

#: Gaps with more points than this get the grid-contour polygon; the exact union of discs costs
#: about 0.1 ms per disc and grows worse than linearly (435 s for 1M points in one run).
_EXACT_MAX = 256
#: Grid step of the contour polygon as a share of the disc radius: the linear interpolation
#: between grid nodes moves the outline by about step² / (8 radius) = radius / 512.
_RASTER_STEP = 1.0 / 8.0
#: Largest contour grid (nodes); a gap spread wider than this gets a coarser step.
_MAX_NODES = 30_000_000
#: Large gaps of a category share one grid when its extent is below this share of the sum of
#: their own extents.
_SHARED_GRID_SHARE = 0.7
#: Relative area difference of :func:`disc_union_raster` from the exact union of discs, tested.
RASTER_AREA_TOLERANCE = 0.01

# Neighbouring cells of a cell of side link / √2 (a little less) that may hold linked points:
# offsets up to 2 each way, half of them (the other half are the same pairs seen from the other
# cell), nearest first so that most cells are joined before the farther offsets are queried.
_OFFSETS = [(1, 0), (0, 1), (1, 1), (1, -1), (2, 0), (0, 2), (2, 1), (1, 2), (2, -1), (1, -2)]
_OFFSETS += [(2, 2), (2, -2)]


def _empty(crs: str = WGS84) -> gpd.GeoDataFrame:
    cols: dict[str, list[object]] = {c: [] for c in GAP_COLUMNS if c != "geometry"}
    return gpd.GeoDataFrame(cols, geometry=[], crs=crs)


class _CellLinks:
    """Connected components of the cells under the links found so far (recomputed per join)."""

    def __init__(self, m: int) -> None:
        self.m = m
        self.src: list[np.ndarray] = []
        self.dst: list[np.ndarray] = []
        self.comp = np.arange(m)

    def join(self, a: np.ndarray, b: np.ndarray) -> None:
        """Link cells ``a[i]`` and ``b[i]`` and update :attr:`comp`."""
        self.src.append(a)
        self.dst.append(b)
        ea, eb = np.concatenate(self.src), np.concatenate(self.dst)
        adj = sparse.coo_matrix((np.ones(ea.size, dtype=np.int8), (ea, eb)), shape=(self.m,) * 2)
        self.comp = csgraph.connected_components(adj, directed=False)[1]


def _nearest_point_hits(
    idx: np.ndarray,
    g2: np.ndarray,
    cell: np.ndarray,
    tpos: np.ndarray,
    start: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    link2: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's point nearest the neighbour's square against every point of that cell.

    ``idx`` are candidate points (sorted by cell) and ``g2`` their squared gaps to the
    neighbouring cell's square. Returns which of ``idx`` is chosen per cell (ties: the first)
    and whether each chosen point lies within the link of some point of the neighbouring cell;
    in dense areas this alone joins almost every pair of cells.
    """
    head = np.ones(idx.size, dtype=bool)
    head[1:] = cell[idx[1:]] != cell[idx[:-1]]
    grp = np.cumsum(head) - 1
    gmin = np.minimum.reduceat(g2, np.flatnonzero(head))
    at_min = g2 == gmin[grp]
    chosen = np.zeros(idx.size, dtype=bool)
    chosen[np.flatnonzero(at_min)[np.unique(grp[at_min], return_index=True)[1]]] = True
    q = idx[chosen]
    t = tpos[cell[q]]
    count = start[t + 1] - start[t]
    rep = np.repeat(np.arange(q.size), count)
    within = np.arange(rep.size) - np.repeat(np.cumsum(count) - count, count)
    other = start[t][rep] + within
    dx, dy = x[q[rep]] - x[other], y[q[rep]] - y[other]
    # The same sum of squares as query_pairs, so ties at exactly link agree.
    hit = np.zeros(q.size, dtype=bool)
    hit[rep[dx * dx + dy * dy <= link2]] = True
    return chosen, hit


def single_link_labels(x: np.ndarray, y: np.ndarray, link: float) -> np.ndarray:
    """Single-link clusters: points at most ``link`` apart (``dx² + dy² <= link²``) are joined.

    The same components as ``cKDTree.query_pairs(r=link)`` fed to ``connected_components``, in
    memory linear in the number of points. Points are hashed to square cells of side just under
    ``link / √2`` (every two points of a cell are linked); cells are then joined across the 12
    neighbouring-cell offsets that can hold linked points. For each offset and pair of cells not
    yet joined, the point nearest the other cell's square is compared with all points of that
    cell (each cell is the target of one pair per offset, so this is linear); only when that
    fails do the cell's other points ask a k-d tree for their nearest point *in that cell* (the
    cell index is a third coordinate, spaced farther apart than ``link``).

    Parameters
    ----------
    x, y
        Projected coordinates in metres.
    link
        Linking distance in metres (> 0).

    Returns
    -------
    numpy.ndarray
        Cluster label of every point, ``0 .. k-1`` numbered in the order of each cluster's first
        point (the numbering of ``scipy.sparse.csgraph.connected_components``).
    """
    x_in = np.asarray(x, dtype="float64")
    y_in = np.asarray(y, dtype="float64")
    n = x_in.size
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    # Slightly under link / √2 so that rounding cannot put two points > link apart in one cell.
    side = link / math.sqrt(2.0) * (1.0 - 1e-9)
    x0, y0 = float(x_in.min()), float(y_in.min())
    ci = np.floor((x_in - x0) / side).astype(np.int64)
    cj = np.floor((y_in - y0) / side).astype(np.int64)
    width = int(cj.max()) + 5
    key = (ci + 2) * width + (cj + 2)
    # Work on the points sorted by cell: a cell's points are one slice.
    perm = np.argsort(key, kind="stable")
    key, ci, cj = key[perm], ci[perm], cj[perm]
    x, y = x_in[perm], y_in[perm]
    u, v = x - x0, y - y0
    new_cell = np.ones(n, dtype=bool)
    new_cell[1:] = key[1:] != key[:-1]
    cell = np.cumsum(new_cell) - 1
    start = np.append(np.flatnonzero(new_cell), n)
    ukey = key[start[:-1]]
    m = ukey.size
    label = np.empty(n, dtype=np.intp)
    if m == 1:
        return np.zeros(n, dtype=np.intp)
    link2 = link * link
    cells = _CellLinks(m)
    tree: cKDTree | None = None
    spacing = 4.0 * link
    for di, dj in _OFFSETS:
        off = di * width + dj
        tpos = np.minimum(np.searchsorted(ukey, ukey + off), m - 1)
        live = (ukey[tpos] == ukey + off) & (cells.comp != cells.comp[tpos])
        idx = np.flatnonzero(live[cell])
        if idx.size == 0:
            continue
        # Only points within link of the neighbouring cell's square can reach into it.
        a, b, uu, vv = ci[idx] + di, cj[idx] + dj, u[idx], v[idx]
        gx = np.maximum(0.0, np.maximum(a * side - uu, uu - (a + 1) * side))
        gy = np.maximum(0.0, np.maximum(b * side - vv, vv - (b + 1) * side))
        g2 = gx * gx + gy * gy
        keep = g2 <= link2 * (1.0 + 1e-6)
        idx, g2 = idx[keep], g2[keep]
        if idx.size == 0:
            continue
        chosen, hit = _nearest_point_hits(idx, g2, cell, tpos, start, x, y, link2)
        q = idx[chosen]
        if hit.any():
            cells.join(cell[q[hit]], tpos[cell[q[hit]]])
        rest = idx[~chosen]
        rest = rest[cells.comp[cell[rest]] != cells.comp[tpos[cell[rest]]]]
        if rest.size == 0:
            continue
        if tree is None:
            tree = cKDTree(np.column_stack([x, y, cell * spacing]))
        t = tpos[cell[rest]]
        _, j = tree.query(
            np.column_stack([x[rest], y[rest], t * spacing]),
            k=1,
            distance_upper_bound=link * (1.0 + 1e-9),
        )
        found = j < n
        rest, j = rest[found], j[found]
        dx, dy = x[rest] - x[j], y[rest] - y[j]
        ok = dx * dx + dy * dy <= link2
        if ok.any():
            cells.join(cell[rest[ok]], cell[j[ok]])
    label[perm] = cells.comp[cell]
    _, first, inv = np.unique(label, return_index=True, return_inverse=True)
    order = np.empty(first.size, dtype=np.intp)
    order[np.argsort(first)] = np.arange(first.size)
    return order[inv]


def _stamp_py(
    field: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    x0: float,
    y0: float,
    h: float,
    reach: float,
) -> None:
    """Lower ``field`` (squared distances) to each point's squared distance within ``reach``.

    Compiled by numba (:func:`coverage.bucket_queue.compiled_kernel`): one pass over the points,
    each touching the (2·reach/h)² grid nodes around it, so the work is linear in the points.
    """
    ny, nx = field.shape
    r = int(reach / h) + 1
    for k in range(xs.size):
        ci = int((xs[k] - x0) / h)
        cj = int((ys[k] - y0) / h)
        j0, j1 = max(cj - r, 0), min(cj + r + 1, ny - 1)
        i0, i1 = max(ci - r, 0), min(ci + r + 1, nx - 1)
        for j in range(j0, j1 + 1):
            dy = y0 + j * h - ys[k]
            dy2 = dy * dy
            for i in range(i0, i1 + 1):
                dx = x0 + i * h - xs[k]
                d2 = dx * dx + dy2
                if d2 < field[j, i]:
                    field[j, i] = d2


def _distance_field(
    x: np.ndarray,
    y: np.ndarray,
    xmin: float,
    ymin: float,
    h: float,
    shape: tuple[int, int],
    radius: float,
) -> np.ndarray:
    """Distance from each grid node to the nearest point, exact wherever it decides the contour.

    Nodes within ``radius + 2 h`` of a point get their exact distance (an edge of the grid that
    crosses the level ``radius`` has both ends within ``radius ± h``); the others ``2 radius``
    or, on the numpy path, 0 deep inside (never next to a crossing edge either way).
    """
    stamp = compiled_kernel("gap_stamp", _stamp_py)
    cap = 2.0 * radius
    if stamp is not None:
        field = np.full(shape, cap * cap)
        # Row by row keeps the nodes a point touches in cache (several times faster).
        order = np.lexsort((x, np.floor((y - ymin) / h)))
        try:
            stamp(field, x[order], y[order], xmin, ymin, h, radius + 2.0 * h)
            return np.sqrt(field, out=field)
        except Exception as exc:  # an optional accelerator: any failure means the numpy path
            # numba cannot compile bytecode rewritten by a line-coverage tool, for one.
            logger.info("gaps: compiled distance field unusable (%s); numpy path used", exc)
            del field
    ny, nx = shape
    occ = np.ones((ny, nx), dtype=bool)
    occ[np.rint((y - ymin) / h).astype(np.intp), np.rint((x - xmin) / h).astype(np.intp)] = False
    # The nearest occupied node is e away, a point within e + h/√2: a node with e > radius + 2 h
    # is outside, and one with e + h/√2 <= radius - 2 h is inside with all its neighbours, so
    # that no grid edge from it crosses the outline. Only the band between needs distances.
    e = ndimage.distance_transform_edt(occ) * h
    del occ
    field = np.where(e <= radius - 2.75 * h, 0.0, cap)
    jj, ii = np.nonzero((e > radius - 2.75 * h) & (e <= radius + 2.0 * h))
    del e
    d, _ = cKDTree(np.column_stack([x, y])).query(
        np.column_stack([xmin + ii * h, ymin + jj * h]), k=1, distance_upper_bound=cap
    )
    field[jj, ii] = np.minimum(d, cap)
    return field


def disc_union_raster(
    x: np.ndarray, y: np.ndarray, radius: float, *, step: float | None = None
) -> shapely.Geometry:
    """The union of discs of ``radius`` around the points, traced on a grid.

    The exact distance from grid nodes to the nearest point (k-d tree, only for nodes near a
    point, found by a distance transform of the occupied cells) is contoured at ``radius``
    (``contourpy``, linear interpolation). With ``step <= radius / √2`` the four nodes around a
    point are inside, so the polygon contains every point; with the default ``radius / 8`` its
    area is within :data:`RASTER_AREA_TOLERANCE` of the exact union.

    Parameters
    ----------
    x, y
        Projected point coordinates in metres.
    radius
        Disc radius in metres.
    step
        Grid step in metres; default ``radius / 8`` (coarser when the grid would exceed
        :data:`_MAX_NODES`).

    Returns
    -------
    shapely.Geometry
        A Polygon or MultiPolygon.
    """
    grid = _Grid.around(
        np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64"), radius, step
    )
    polys = grid.trace()
    if len(polys) == 1:
        return polys[0]
    return shapely.multipolygons(polys)


class _Grid:
    """The distance field of some points on a grid, and its contour at the disc radius."""

    def __init__(
        self, x: np.ndarray, y: np.ndarray, radius: float, origin: tuple[float, float], h: float
    ) -> None:
        self.radius, self.h = radius, h
        self.xmin, self.ymin = origin
        pad = radius + 2.0 * h
        self.nx = math.ceil((float(x.max()) + pad - self.xmin) / h) + 1
        self.ny = math.ceil((float(y.max()) + pad - self.ymin) / h) + 1
        field = _distance_field(x, y, self.xmin, self.ymin, h, (self.ny, self.nx), radius)
        # A node exactly on the level makes the traced ring touch itself there (invalid polygon).
        field[field == radius] = np.nextafter(radius, np.inf)
        self.field = field

    @classmethod
    def around(
        cls, x: np.ndarray, y: np.ndarray, radius: float, step: float | None = None
    ) -> _Grid:
        """The grid over the points' extent: step ``radius / 8`` unless the grid is too large."""
        h = radius * _RASTER_STEP if step is None else float(step)
        pad = radius + 2.0 * h
        # The odd fraction of a step keeps grid nodes off round coordinates (points on a lattice).
        xmin, ymin = float(x.min()) - pad - 0.3183 * h, float(y.min()) - pad - 0.2718 * h
        span_x, span_y = float(x.max()) + pad - xmin, float(y.max()) + pad - ymin
        h = max(h, math.sqrt(span_x * span_y / _MAX_NODES))
        return cls(x, y, radius, (xmin, ymin), h)

    def trace(self) -> np.ndarray:
        """The polygons (with their holes) of the level ``radius`` contour."""
        gen = contourpy.contour_generator(
            x=self.xmin + np.arange(self.nx) * self.h,
            y=self.ymin + np.arange(self.ny) * self.h,
            z=self.field,
            fill_type=contourpy.FillType.ChunkCombinedOffsetOffset,
            chunk_size=0,
        )
        # ChunkCombinedOffsetOffset with one chunk: points, ring offsets, polygon offsets.
        filled: Any = gen.filled(-1.0, self.radius)
        pts, rings, outer = filled
        return np.asarray(
            shapely.from_ragged_array(shapely.GeometryType.POLYGON, pts[0], (rings[0], outer[0])),
            dtype=object,
        )

    def components(self) -> np.ndarray:
        """Label of each node's connected inside region (8-connected, 0 outside).

        Nodes joined by a traced polygon are always joined here (a saddle cell of the contour
        joins diagonal nodes at most), so points of different components are never in one
        polygon.
        """
        labels, _ = ndimage.label(self.field < self.radius, structure=np.ones((3, 3), bool))
        return np.asarray(labels)

    def node_of(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row and column of the node nearest each point."""
        return (
            np.rint((y - self.ymin) / self.h).astype(np.intp),
            np.rint((x - self.xmin) / self.h).astype(np.intp),
        )

    def inside_node_of_rings(self, polys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each polygon, a node inside it next to the first vertex of its outline.

        The vertex lies on a grid edge between a node inside the level and one outside (no node
        is exactly on it); the inside one is next to the polygon's interior.
        """
        first = shapely.get_coordinates(shapely.get_point(shapely.get_exterior_ring(polys), 0))
        fx, fy = (first[:, 0] - self.xmin) / self.h, (first[:, 1] - self.ymin) / self.h
        on_column = np.abs(fx - np.rint(fx)) <= np.abs(fy - np.rint(fy))
        col_a = np.where(on_column, np.rint(fx), np.floor(fx)).astype(np.intp)
        row_a = np.where(on_column, np.floor(fy), np.rint(fy)).astype(np.intp)
        col_b = np.where(on_column, col_a, col_a + 1)
        row_b = np.where(on_column, row_a + 1, row_a)
        col_a, row_a = np.clip(col_a, 0, self.nx - 1), np.clip(row_a, 0, self.ny - 1)
        col_b, row_b = np.clip(col_b, 0, self.nx - 1), np.clip(row_b, 0, self.ny - 1)
        a_in = self.field[row_a, col_a] < self.radius
        return np.where(a_in, row_a, row_b), np.where(a_in, col_a, col_b)


def shared_disc_unions(
    x: np.ndarray, y: np.ndarray, label: np.ndarray, radius: float
) -> dict[int, shapely.Geometry]:
    """The disc unions of several clusters traced on one grid (one field, one contour).

    Each traced polygon goes to the cluster whose points its region holds. Clusters whose
    regions touch on the grid (two clusters just over the link apart) are left out of the
    answer; the caller traces those on their own grids.

    Parameters
    ----------
    x, y
        Projected coordinates of the points of every cluster.
    label
        Cluster of each point.
    radius
        Disc radius in metres.

    Returns
    -------
    dict
        Cluster → Polygon or MultiPolygon, for every cluster traced alone in its regions.
    """
    grid = _Grid.around(x, y, radius)
    comp = grid.components()
    region = comp[grid.node_of(x, y)]
    # A region holding points of two clusters is shared: both are traced apart.
    pairs = np.unique(np.column_stack([region, label]), axis=0)
    n_owner = np.bincount(pairs[:, 0], minlength=int(comp.max()) + 1)
    shared = set(pairs[n_owner[pairs[:, 0]] > 1, 1].tolist())
    owner = np.full(n_owner.size, -1, dtype=np.int64)
    single = n_owner[pairs[:, 0]] == 1
    owner[pairs[single, 0]] = pairs[single, 1]
    polys = grid.trace()
    if polys.size == 0:
        return {}
    rows, cols = grid.inside_node_of_rings(polys)
    poly_owner = owner[comp[rows, cols]]
    out: dict[int, shapely.Geometry] = {}
    for c in np.unique(label).tolist():
        if c in shared:
            continue
        mine = polys[poly_owner == c]
        if mine.size:
            out[int(c)] = mine[0] if mine.size == 1 else shapely.multipolygons(mine)
    return out


def _disc_union(x: np.ndarray, y: np.ndarray, radius: float) -> shapely.Geometry:
    if x.size > _EXACT_MAX:
        return disc_union_raster(x, y, radius)
    return shapely.union_all(shapely.buffer(shapely.points(x, y), radius, quad_segs=8))


def _big_gap_polygons(
    x: np.ndarray, y: np.ndarray, label: np.ndarray, chosen: np.ndarray, radius: float
) -> dict[int, shapely.Geometry]:
    """Polygons of the large gaps of a category, traced together on one grid.

    One distance field and one contour for all of them costs the city's extent once, where a
    grid per gap costs the extent of every gap (large gaps of one category overlap in extent).
    Gaps whose regions touch on the shared grid are left to :func:`_disc_union`.
    """
    if int(chosen.sum()) < 2:
        return {}
    keep = chosen[label]
    xk, yk, lk = x[keep], y[keep], label[keep]
    # Only when the gaps' own extents overlap: side by side, one grid over all of them would
    # cost more than a grid each.
    n = int(label.max()) + 1
    lo_x, hi_x = (
        _per_label(np.minimum, xk, lk, n, np.inf),
        _per_label(np.maximum, xk, lk, n, -np.inf),
    )
    lo_y, hi_y = (
        _per_label(np.minimum, yk, lk, n, np.inf),
        _per_label(np.maximum, yk, lk, n, -np.inf),
    )
    pad = 2.0 * radius
    own = float(np.sum(((hi_x - lo_x + pad) * (hi_y - lo_y + pad))[chosen]))
    together = (float(xk.max() - xk.min()) + pad) * (float(yk.max() - yk.min()) + pad)
    if together > _SHARED_GRID_SHARE * own:
        return {}
    return shared_disc_unions(xk, yk, lk, radius)


def _per_label(
    ufunc: Any, values: np.ndarray, label: np.ndarray, n: int, empty: float
) -> np.ndarray:
    """``ufunc.at`` reduction of ``values`` by label (``empty`` where a label has none)."""
    out = np.full(n, empty)
    ufunc.at(out, label, values)
    return out


def _top_communities(
    label: np.ndarray, comm: np.ndarray, pop: np.ndarray, n_comp: int
) -> tuple[list[str], np.ndarray]:
    """Up to three community names per cluster, most residents first (ties by name)."""
    frame = pd.DataFrame({"c": label, "name": comm, "pop": pop})
    frame = frame[frame["name"] != ""]
    by = frame.groupby(["c", "name"], sort=True)["pop"].sum().reset_index()
    by = by.sort_values(["c", "pop"], ascending=[True, False], kind="stable")
    count = np.bincount(by["c"].to_numpy(), minlength=n_comp)
    top = by.groupby("c", sort=True).head(3).groupby("c", sort=True)["name"].agg(_NAME_SEP.join)
    names = [""] * n_comp
    for c, s in top.items():
        names[int(c)] = s
    return names, count


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
        raise ConfigError(
            msg(
                "engine.gaps.not_analysed",
                category=repr(category),
                analysed=str(list(result.categories)),
            )
        )
    link = float(settings.gap_cluster_distance_m if cluster_m is None else cluster_m)
    if not link > 0:
        raise ConfigError(msg("engine.gaps.bad_cluster_distance", value=repr(cluster_m)))
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

    label = single_link_labels(x, y, link)
    n_comp = int(label.max()) + 1
    # Per-cluster sums at once; the loop below only touches each cluster's own slice.
    pop_sum = np.bincount(label, weights=pop, minlength=n_comp)
    known = np.isfinite(eld)
    eld_sum = np.bincount(label, weights=np.where(known, eld, 0.0), minlength=n_comp)
    eld_any = np.bincount(label, weights=known, minlength=n_comp) > 0
    size = np.bincount(label, minlength=n_comp)
    members = np.argsort(label, kind="stable")
    start = np.concatenate([[0], np.cumsum(size)])
    names, n_names = _top_communities(label, comm, pop, n_comp)

    radius = link / 2.0
    wanted = pop_sum >= min_population
    big = _big_gap_polygons(x, y, label, wanted & (size > _EXACT_MAX), radius)
    rows: list[dict[str, Any]] = []
    for c in range(n_comp):
        p = float(pop_sum[c])
        if not wanted[c]:
            continue
        idx = members[start[c] : start[c + 1]]
        poly = big[c] if c in big else _disc_union(x[idx], y[idx], radius)
        dc, pc = dist[idx], pop[idx]
        reach = np.isfinite(dc)
        if reach.any():
            near = weighted_quantile(dc[reach], pc[reach], 0.5)
            near_max = float(dc[reach].max())
        else:
            near = near_max = float("inf")
        rows.append(
            {
                "category": category,
                "uncovered_population": p,
                "uncovered_elderly": float(eld_sum[c]) if eld_any[c] else np.nan,
                "n_points": int(size[c]),
                "nearest_facility_m": near,
                "nearest_facility_max_m": near_max,
                "communities": names[c],
                "n_communities": int(n_names[c]),
                "area_m2": float(poly.area),
                "geometry": poly,
            }
        )
    return _ranked(rows, category=category, crs=result.crs)


def _ranked(rows: list[dict[str, Any]], *, category: str, crs: Any) -> gpd.GeoDataFrame:
    """The gaps ranked by uncovered residents (then points), ids, a point inside, WGS-84."""
    if not rows:
        return _empty()
    out = pd.DataFrame(rows).sort_values(
        ["uncovered_population", "n_points"], ascending=[False, False], kind="stable"
    )
    out["rank"] = np.arange(1, len(out) + 1)
    out["gap_id"] = [f"{category}-{r:03d}" for r in out["rank"]]
    gdf = gpd.GeoDataFrame(out, geometry="geometry", crs=crs).to_crs(WGS84)
    # A point inside each gap, so that a table alone says where to look.
    inside = gdf.geometry.representative_point()
    gdf["lon"], gdf["lat"] = inside.x.to_numpy(), inside.y.to_numpy()
    return gdf[GAP_COLUMNS].reset_index(drop=True)
