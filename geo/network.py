"""The analysis-ready road network: arrays, a sparse length matrix and edge geometries.

Every loader in ``geo/`` ends in :func:`build_network`, so the rest of the tool sees one form:

* node coordinates ``x``, ``y`` (float64, metres in a projected CRS, normally local UTM);
* edge arrays ``u``, ``v`` (node indices), ``length`` (metres) and ``geometry`` (shapely
  LineStrings in the projected CRS, drawn from ``u`` to ``v``);
* ``csr``: a ``scipy.sparse.csr_matrix`` of edge lengths, symmetric for walking and cycling
  (one-way streets do not bind pedestrians), directed for driving; parallel edges are reduced to
  the shortest one first because scipy would otherwise *sum* duplicates;
* a :class:`NetworkReport` saying where it came from, how many components it had and what was
  dropped.

A :class:`Network` is immutable in spirit: functions take it and return new objects; never write
into its arrays (the app caches one and shares it across sessions).
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from geo import settings
from geo.errors import EmptyNetworkError, NetworkError
from geo.messages import msg

T = TypeVar("T")

logger = logging.getLogger(__name__)

__all__ = [
    "WGS84",
    "Network",
    "NetworkReport",
    "build_network",
    "derived",
    "distinct_parallels",
    "lattice_network",
    "project_xy",
    "split_edges",
    "utm_crs_for",
]

WGS84 = "EPSG:4326"


@dataclass(frozen=True)
class NetworkReport:
    """What a loader did, for the planner and the logs."""

    source: str
    mode: str
    n_nodes: int
    n_edges: int
    n_components: int
    dropped_nodes: int = 0
    dropped_edges: int = 0
    parallel_edges_merged: int = 0
    self_loops_dropped: int = 0
    dangling_ends: int = 0
    notes: tuple[str, ...] = ()

    def summary(self, lang: str = "zh") -> str:
        """One paragraph describing the network, in ``lang`` (``"zh"`` or ``"en"``)."""
        dropped = (
            msg(
                "geo.network.summary_dropped",
                nodes=self.dropped_nodes,
                edges=self.dropped_edges,
            )
            if self.dropped_nodes
            else ""
        )
        dangling = (
            msg("geo.network.summary_dangling", n=self.dangling_ends) if self.dangling_ends else ""
        )
        return msg(
            "geo.network.summary",
            source=self.source,
            mode=self.mode,
            nodes=self.n_nodes,
            edges=self.n_edges,
            components=self.n_components,
            dropped=dropped,
            dangling=dangling,
        ).text(lang)


@dataclass(frozen=True, eq=False)
class Network:
    """A road network in compact form. Build it with :func:`build_network`."""

    x: np.ndarray
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length: np.ndarray
    geometry: np.ndarray
    crs: str
    mode: str
    directed: bool
    csr: sparse.csr_matrix
    node_ids: np.ndarray
    report: NetworkReport
    edge_attrs: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.x.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of edges (after merging parallels)."""
        return int(self.u.shape[0])

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) of the nodes in the projected CRS."""
        return (
            float(self.x.min()),
            float(self.y.min()),
            float(self.x.max()),
            float(self.y.max()),
        )

    def nodes_gdf(self, *, to_crs: str | None = None) -> gpd.GeoDataFrame:
        """Nodes as points (index = node index) with their original ids."""
        gdf = gpd.GeoDataFrame(
            {"node_id": self.node_ids},
            geometry=shapely.points(self.x, self.y),
            crs=self.crs,
        )
        return gdf.to_crs(to_crs) if to_crs else gdf

    def edges_gdf(self, *, to_crs: str | None = None) -> gpd.GeoDataFrame:
        """Edges as lines (index = edge index) with ``u``, ``v``, ``length`` and attributes."""
        data: dict[str, Any] = {"u": self.u, "v": self.v, "length": self.length}
        data.update(self.edge_attrs)
        gdf = gpd.GeoDataFrame(data, geometry=list(self.geometry), crs=self.crs)
        return gdf.to_crs(to_crs) if to_crs else gdf

    def to_projected(self, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Return ``gdf`` in this network's CRS (a copy; WGS-84 assumed when it has none)."""
        if gdf.crs is None:
            gdf = gdf.set_crs(WGS84)
        return gdf.to_crs(self.crs)

    def to_networkx(self) -> Any:
        """An equivalent networkx graph (for oracle tests and exports; slow for big graphs)."""
        import networkx as nx

        g = nx.DiGraph() if self.directed else nx.Graph()
        g.add_nodes_from(range(self.n_nodes))
        for a, b, w in zip(self.u.tolist(), self.v.tolist(), self.length.tolist(), strict=True):
            if g.has_edge(a, b) and g[a][b]["length"] <= w:
                continue
            g.add_edge(a, b, length=w)
        return g

    def with_report(self, **changes: Any) -> Network:
        """A copy with some report fields changed."""
        return replace(self, report=replace(self.report, **changes))


# Indexes derived from a network (search graph, spatial trees, edge buffers …) are kept beside the
# network for as long as it lives. A Network is immutable and shared between app sessions and the
# warm-up thread, so the store is keyed by the object itself (weakly: it goes with the network, and
# an id() can never be reused for another one) and guarded by a lock. Callers put every setting
# that changes the value into ``key``.
_DERIVED: weakref.WeakKeyDictionary[Network, dict[Hashable, Any]] = weakref.WeakKeyDictionary()
_DERIVED_LOCK = threading.Lock()


def derived(network: Network, key: Hashable, build: Callable[[], T]) -> T:
    """Return the value derived from ``network`` under ``key``, building it once.

    Thread-safe: concurrent callers may both build, but all get the first stored value, so no
    caller ever sees a half-built or a second, different object.

    Parameters
    ----------
    network
        The network the value belongs to.
    key
        What the value is, with every setting that changes it (e.g. ``("buffers", 25.0, 4)``).
    build
        Builds the value from the network alone; called without the lock held.

    Returns
    -------
    T
        The cached value.
    """
    with _DERIVED_LOCK:
        store = _DERIVED.get(network)
        if store is not None and key in store:
            return store[key]
    value = build()
    with _DERIVED_LOCK:
        store = _DERIVED.setdefault(network, {})
        return store.setdefault(key, value)


def utm_crs_for(lon: float, lat: float) -> str:
    """The WGS-84 UTM zone CRS (``EPSG:326xx`` north, ``327xx`` south) for a location."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise NetworkError(msg("geo.network.not_degrees", lon=lon, lat=lat))
    zone = int((lon + 180) // 6) % 60 + 1
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


def project_xy(
    lon: np.ndarray, lat: np.ndarray, *, crs: str | None = None
) -> tuple[np.ndarray, np.ndarray, str]:
    """Project WGS-84 lon/lat arrays to ``crs`` (the local UTM zone by default)."""
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    if crs is None:
        crs = utm_crs_for(float(np.nanmean(lon)), float(np.nanmean(lat)))
    tr = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)
    x, y = tr.transform(lon, lat)
    return np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64"), crs


def _shared_pairs(a: np.ndarray, b: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """The edges of ``idx`` whose node pair ``(a, b)`` has more than one edge in ``idx``.

    Hashing the pairs is linear; only the few parallel edges are then sorted, where sorting all
    edges by their pair would cost n log n.
    """
    if idx.size == 0:
        return idx
    key = a[idx] * (int(max(a.max(), b.max())) + 1) + b[idx]
    codes, _ = pd.factorize(key)
    return idx[np.bincount(codes)[codes] > 1]


def distinct_parallels(
    u: np.ndarray,
    v: np.ndarray,
    geometry: np.ndarray,
    *,
    directed: bool,
    hausdorff_m: float | None = None,
    loop_min_m: float | None = None,
) -> np.ndarray:
    """Edges that a one-value-per-node-pair matrix would lose although they are real streets.

    An edge is flagged when it is a self-loop longer than ``loop_min_m``, or when it shares its
    node pair with a shorter edge whose *shape* differs from it by more than ``hausdorff_m``
    (Hausdorff distance). Lengths alone never make two edges duplicates: the halves of a P-shaped
    road have nearly equal lengths yet lie far apart.

    Parameters
    ----------
    u, v
        Edge end node indices.
    geometry
        Edge LineStrings (projected, metres).
    directed
        Node pairs are ordered (drive) or not.
    hausdorff_m, loop_min_m
        Defaults ``settings.parallel_duplicate_hausdorff_m`` and ``settings.self_loop_min_m``.

    Returns
    -------
    numpy.ndarray
        Boolean mask over the edges.
    """
    hausdorff_m = settings.parallel_duplicate_hausdorff_m if hausdorff_m is None else hausdorff_m
    loop_min_m = settings.self_loop_min_m if loop_min_m is None else loop_min_m
    u = np.asarray(u, dtype="int64")
    v = np.asarray(v, dtype="int64")
    flag = np.zeros(u.size, dtype=bool)
    if u.size == 0:
        return flag
    length = shapely.length(geometry)
    loops = u == v
    flag[loops] = length[loops] > loop_min_m
    a = np.where(directed | (u <= v), u, v)
    b = np.where(directed | (u <= v), v, u)
    idx = _shared_pairs(a, b, np.flatnonzero(~loops))
    order = idx[np.lexsort((length[idx], b[idx], a[idx]))]
    first = np.ones(order.size, dtype=bool)
    first[1:] = (a[order][1:] != a[order][:-1]) | (b[order][1:] != b[order][:-1])
    rep = order[np.flatnonzero(first)[np.cumsum(first) - 1]]  # the shortest of each group
    others = order[~first]
    if others.size:
        geom = np.asarray(geometry, dtype=object)
        gap = shapely.hausdorff_distance(geom[others], geom[rep[~first]])
        flag[others] = ~(gap <= hausdorff_m)
    return flag


def split_edges(
    x: np.ndarray,
    y: np.ndarray,
    node_ids: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    geometry: np.ndarray,
    which: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cut edges ``which`` into pieces at inner nodes (two pieces, three for a self-loop).

    New nodes get negative ids (or ``"new<i>"`` when ids are strings). Returns ``x, y,
    node_ids, u, v, geometry, src`` where kept edges come first and ``src`` maps every output
    edge to its input edge (for copying attributes).
    """
    from shapely.ops import substring

    xs, ys, ids = list(x), list(y), list(node_ids)
    node_ids = np.asarray(node_ids)
    numeric = node_ids.dtype.kind in "iu" or node_ids.size == 0
    next_id = min([0, *(int(i) for i in node_ids)] if numeric else [0]) - 1
    seen: dict[tuple[int, int], int] = {}
    us: list[int] = []
    vs: list[int] = []
    geoms: list[Any] = []
    src: list[int] = []
    for e in np.flatnonzero(which).tolist():
        line = geometry[e]
        k = 3 if u[e] == v[e] else 2  # a loop cut in two would be two parallels again
        cuts = [line.length * i / k for i in range(k + 1)]
        stops = [int(u[e])]
        for d in cuts[1:-1]:
            pt = line.interpolate(d)
            key = (round(pt.x * 1000), round(pt.y * 1000))
            if key not in seen:
                xs.append(pt.x)
                ys.append(pt.y)
                ids.append(next_id if numeric else f"new{-next_id}")
                next_id -= 1
                seen[key] = len(xs) - 1
            stops.append(seen[key])
        stops.append(int(v[e]))
        for i in range(k):
            us.append(stops[i])
            vs.append(stops[i + 1])
            geoms.append(substring(line, cuts[i], cuts[i + 1]))
            src.append(e)
    rest = np.flatnonzero(~np.asarray(which, dtype=bool))
    return (
        np.asarray(xs, dtype="float64"),
        np.asarray(ys, dtype="float64"),
        np.asarray(ids, dtype="int64" if numeric else object),
        np.concatenate([np.asarray(u)[rest], np.asarray(us, dtype="int64")]),
        np.concatenate([np.asarray(v)[rest], np.asarray(vs, dtype="int64")]),
        np.concatenate([np.asarray(geometry, dtype=object)[rest], np.asarray(geoms, dtype=object)]),
        np.concatenate([rest, np.asarray(src, dtype="int64")]),
    )


def build_network(
    *,
    x: np.ndarray,
    y: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    crs: str,
    mode: str = "walk",
    directed: bool | None = None,
    length: np.ndarray | None = None,
    geometry: np.ndarray | None = None,
    node_ids: np.ndarray | None = None,
    edge_attrs: dict[str, np.ndarray] | None = None,
    source: str = "arrays",
    keep_largest: bool | None = None,
    dangling_ends: int = 0,
    notes: tuple[str, ...] = (),
) -> Network:
    """Build the compact network from node and edge arrays.

    Parameters
    ----------
    x, y
        Projected node coordinates in metres (``crs`` must be projected).
    u, v
        Edge end node indices into ``x``/``y``.
    crs
        The projected CRS of ``x``, ``y`` and ``geometry``.
    mode
        ``"walk"``, ``"bike"`` or ``"drive"``.
    directed
        Directed edges (``u`` to ``v`` only). Default: ``True`` for drive, else ``False``.
    length
        Edge lengths in metres; default the geometry length, or the straight segment.
    geometry
        Edge LineStrings from ``u`` to ``v``; default straight segments.
    node_ids
        Original node identifiers (e.g. OSM ids); default ``0..n-1``.
    edge_attrs
        Extra per-edge arrays (``highway``, ``name``, ``speed_kph`` ...).
    source
        Where the data came from, for the report.
    keep_largest
        Keep only the largest (weakly) connected component; default ``settings``.
    dangling_ends, notes
        Passed into the report by loaders that know them.

    Returns
    -------
    Network
    """
    if directed is None:
        directed = mode == "drive"
    if keep_largest is None:
        keep_largest = settings.keep_largest_component
    g = _prepare(
        x, y, u, v, length=length, geometry=geometry, node_ids=node_ids, edge_attrs=edge_attrs
    )
    _check_edges(g, source=source, mode=mode)
    if geometry is not None:
        # A second street between the same junctions, or a ring, would otherwise be merged away
        # below (the matrix holds one value per node pair) with everything along it.
        g = _split_distinct_parallels(g, directed=bool(directed))
    g, self_loops, parallels = _merge_parallels(g, directed=bool(directed))
    if g.u.size == 0:
        raise EmptyNetworkError(msg("geo.network.only_loops", source=source, mode=mode))
    g, n_real, dropped_nodes, dropped_edges = _keep_component(
        g, directed=bool(directed), keep_largest=keep_largest, source=source
    )
    report = NetworkReport(
        source=source,
        mode=mode,
        n_nodes=g.x.shape[0],
        n_edges=int(g.u.size),
        n_components=n_real,
        dropped_nodes=dropped_nodes,
        dropped_edges=dropped_edges,
        parallel_edges_merged=parallels,
        self_loops_dropped=self_loops,
        dangling_ends=dangling_ends,
        notes=tuple(notes),
    )
    return Network(
        x=g.x,
        y=g.y,
        u=g.u,
        v=g.v,
        length=g.length,
        geometry=g.geometry,
        crs=crs,
        mode=mode,
        directed=bool(directed),
        csr=_length_matrix(g, directed=bool(directed)),
        node_ids=g.node_ids,
        report=report,
        edge_attrs=g.attrs,
    )


@dataclass(frozen=True)
class _Graph:
    """Nodes and edges on their way into a :class:`Network`."""

    x: np.ndarray
    y: np.ndarray
    node_ids: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length: np.ndarray
    geometry: np.ndarray
    attrs: dict[str, np.ndarray]

    def edges(self, idx: np.ndarray) -> _Graph:
        """The same nodes with the edges ``idx`` (indices or mask)."""
        return replace(
            self,
            u=self.u[idx],
            v=self.v[idx],
            length=self.length[idx],
            geometry=self.geometry[idx],
            attrs={k: arr[idx] for k, arr in self.attrs.items()},
        )


def _prepare(
    x: np.ndarray,
    y: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    *,
    length: np.ndarray | None,
    geometry: np.ndarray | None,
    node_ids: np.ndarray | None,
    edge_attrs: dict[str, np.ndarray] | None,
) -> _Graph:
    """The inputs as arrays of the right types, with default ids, geometries and lengths."""
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    u = np.asarray(u, dtype="int64")
    v = np.asarray(v, dtype="int64")
    ids = np.arange(x.shape[0], dtype="int64") if node_ids is None else np.asarray(node_ids)
    attrs = {k: np.asarray(a) for k, a in (edge_attrs or {}).items()}
    if geometry is None:
        n = x.shape[0]
        # Straight segments (indices clipped only so that bad ones are reported, not raised).
        a, b = np.clip(u, 0, max(n - 1, 0)), np.clip(v, 0, max(n - 1, 0))
        coords = np.stack([np.stack([x[a], y[a]], axis=1), np.stack([x[b], y[b]], axis=1)], axis=1)
        geometry = shapely.linestrings(coords) if n else np.empty(0, dtype=object)
    geometry = np.asarray(geometry, dtype=object)
    length = np.asarray(shapely.length(geometry) if length is None else length, dtype="float64")
    return _Graph(x, y, ids, u, v, length, geometry, attrs)


def _check_edges(g: _Graph, *, source: str, mode: str) -> None:
    """Raise when there are no edges, an edge names a missing node or a length is invalid."""
    n, u, v = g.x.shape[0], g.u, g.v
    if u.size == 0 or n == 0:
        raise EmptyNetworkError(msg("geo.network.no_edges", source=source, mode=mode))
    if u.min() < 0 or v.min() < 0 or u.max() >= n or v.max() >= n:
        raise NetworkError(msg("geo.network.bad_indices", source=source, last=n - 1))
    if not np.all(np.isfinite(g.length)) or g.length.min() < 0:
        raise NetworkError(msg("geo.network.bad_lengths", source=source))


def _split_distinct_parallels(g: _Graph, *, directed: bool) -> _Graph:
    """Give self-loops and parallels of another shape inner nodes (see distinct_parallels)."""
    cut = distinct_parallels(g.u, g.v, g.geometry, directed=directed)
    if not cut.any():
        return g
    old_len = shapely.length(g.geometry)
    x, y, node_ids, u, v, geometry, src = split_edges(
        g.x, g.y, g.node_ids, g.u, g.v, g.geometry, cut
    )
    share = np.divide(
        shapely.length(geometry),
        old_len[src],
        out=np.ones(src.size),
        where=old_len[src] > 0,
    )
    attrs = {k: arr[src] for k, arr in g.attrs.items()}
    if "travel_time_s" in attrs:
        attrs["travel_time_s"] = attrs["travel_time_s"] * share
    return _Graph(x, y, node_ids, u, v, g.length[src] * share, geometry, attrs)


def _merge_parallels(g: _Graph, *, directed: bool) -> tuple[_Graph, int, int]:
    """Drop self-loops and keep the shortest of parallel edges.

    Self-loops never shorten a path; parallels would be summed by scipy when it builds the
    sparse matrix. Pairs are unordered when undirected. Returns the graph and how many loops and
    parallels went.
    """
    u, v, length = g.u, g.v, g.length
    keep = u != v
    self_loops = int((~keep).sum())
    a = np.where(directed | (u <= v), u, v)
    b = np.where(directed | (u <= v), v, u)
    idx = np.flatnonzero(keep)
    multi = _shared_pairs(a, b, idx)
    multi = multi[np.lexsort((length[multi], b[multi], a[multi]))]
    first = np.ones(multi.size, dtype=bool)
    first[1:] = (a[multi][1:] != a[multi][:-1]) | (b[multi][1:] != b[multi][:-1])
    parallels = int((~first).sum())
    if parallels:
        drop = np.zeros(u.size, dtype=bool)
        drop[multi[~first]] = True
        idx = idx[~drop[idx]]
    return g.edges(idx), self_loops, parallels


def _keep_component(
    g: _Graph, *, directed: bool, keep_largest: bool, source: str
) -> tuple[_Graph, int, int, int]:
    """Keep the largest (weakly) connected component, or all nodes with an edge.

    Returns the graph, the number of components with an edge and the nodes and edges dropped.
    """
    n = g.x.shape[0]
    adj = sparse.coo_matrix((np.ones(g.u.size), (g.u, g.v)), shape=(n, n)).tocsr()
    n_comp, labels = csgraph.connected_components(adj, directed=directed, connection="weak")
    used = np.zeros(n, dtype=bool)
    used[g.u] = True
    used[g.v] = True
    # Isolated nodes (no edge) are not components a planner cares about.
    comp_sizes = np.bincount(labels[used], minlength=n_comp)
    n_real = int((comp_sizes > 0).sum())
    keep_nodes = labels == int(np.argmax(comp_sizes)) if keep_largest else used
    if keep_nodes.all():
        return g, n_real, 0, 0
    new_index = np.full(n, -1, dtype="int64")
    new_index[keep_nodes] = np.arange(int(keep_nodes.sum()))
    keep_e = keep_nodes[g.u] & keep_nodes[g.v]
    kept = g.edges(keep_e)
    kept = replace(
        kept,
        x=g.x[keep_nodes],
        y=g.y[keep_nodes],
        node_ids=g.node_ids[keep_nodes],
        u=new_index[kept.u],
        v=new_index[kept.v],
    )
    dropped_nodes, dropped_edges = int((used & ~keep_nodes).sum()), int((~keep_e).sum())
    if dropped_nodes:
        logger.info(
            "network (%s): kept the largest of %d components, dropped %d nodes and %d edges",
            source,
            n_real,
            dropped_nodes,
            dropped_edges,
        )
    return kept, n_real, dropped_nodes, dropped_edges


def _length_matrix(g: _Graph, *, directed: bool) -> sparse.csr_matrix:
    """The CSR matrix of edge lengths (both directions when undirected)."""
    n = g.x.shape[0]
    # Zero-length edges would vanish from a sparse matrix; give them a negligible length.
    w = np.maximum(g.length, 1e-9)
    if directed:
        csr = sparse.csr_matrix((w, (g.u, g.v)), shape=(n, n))
    else:
        csr = sparse.csr_matrix(
            (np.concatenate([w, w]), (np.concatenate([g.u, g.v]), np.concatenate([g.v, g.u]))),
            shape=(n, n),
        )
    csr.sort_indices()
    return csr


def lattice_network(
    nx_: int,
    ny: int,
    *,
    spacing: float = 100.0,
    origin: tuple[float, float] = (500_000.0, 3_500_000.0),
    crs: str = "EPSG:32650",
    mode: str = "walk",
) -> Network:
    """A regular grid network (for tests, benchmarks and analytic cases).

    Node ``i + j * nx_`` sits at ``origin + (i * spacing, j * spacing)``.
    """
    i, j = np.meshgrid(np.arange(nx_), np.arange(ny), indexing="xy")
    x = origin[0] + i.ravel() * spacing
    y = origin[1] + j.ravel() * spacing
    idx = np.arange(nx_ * ny).reshape(ny, nx_)
    hu = idx[:, :-1].ravel()
    hv = idx[:, 1:].ravel()
    vu = idx[:-1, :].ravel()
    vv = idx[1:, :].ravel()
    u = np.concatenate([hu, vu])
    v = np.concatenate([hv, vv])
    return build_network(
        x=x,
        y=y,
        u=u,
        v=v,
        crs=crs,
        mode=mode,
        length=np.full(u.size, float(spacing)),
        source=msg("geo.network.lattice_source", nx=nx_, ny=ny, spacing=spacing),
    )
