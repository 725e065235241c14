"""Street topology from drawn centrelines, in vectorised (near-linear) steps.

Centreline files are drawn, not routed (see :mod:`geo.centrelines`): lines meet where their
endpoints coincide within the snap distance, where a line's endpoint touches another line's
interior (a T-junction) or where two lines share an interior vertex (CAD-style streets drawn
through their junctions). Lines crossing without a shared vertex are over- or underpasses.

Every step works on coordinate arrays (``shapely.get_coordinates``), hash tables
(``pandas.factorize``) and one spatial tree, never with per-line Python work, so a city layer of
two million lines takes seconds. Geometries are created only for edges whose coordinates change;
untouched lines are passed through as the same objects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

__all__ = [
    "Topology",
    "build_topology",
    "crossings_without_vertex",
    "node_clusters",
    "split_at_shared_vertices",
]

#: Positions within this many metres are one position when lines share vertices.
_SAME_POSITION_M = 0.01

#: Odd 64-bit constant mixing the x bits into the position key (any odd value works).
_KEY_MULTIPLIER = -7046029254386353131


@dataclass(frozen=True)
class Topology:
    """Nodes and edges built from centrelines.

    Attributes
    ----------
    x, y
        Node coordinates (mean of the line ends snapped together).
    u, v
        Edge end nodes.
    geometry
        Edge LineStrings from ``u`` to ``v``, ends moved onto their nodes.
    src
        Index of the line each edge comes from.
    n_split
        Lines split at T-junctions.
    n_cross
        Pairs of lines crossing without a shared vertex (kept apart as bridges).
    dangling
        Node indices with a single edge.
    near_gap
        Dangling ends lying close to a line they do not belong to (probable digitising gaps).
    """

    x: np.ndarray
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    geometry: np.ndarray
    src: np.ndarray
    n_split: int
    n_cross: int
    dangling: np.ndarray
    near_gap: int


def _position_ids(xy: np.ndarray, step: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Integer id per position (equal ids for equal positions), in order of first appearance.

    With ``step`` positions are first rounded to multiples of it. A hash table does in one
    linear pass what a lexicographic sort of the pairs would do in n log n. Returns the ids and
    the distinct positions ``(m, 2)``.
    """
    if step is not None:
        # Adding 0.0 turns a rounded -0.0 into 0.0 so both hash alike.
        xy = np.round(xy / step) + 0.0
    xy = np.ascontiguousarray(xy, dtype="float64")
    # One 64-bit key per position from the bits of both coordinates: hashing integers is several
    # times faster than hashing complex numbers. Keys of different positions may collide, so the
    # grouping is checked and, if ever wrong, done again on the exact pairs.
    bits = xy.view("int64")
    with np.errstate(over="ignore"):
        key = bits[:, 0] * np.int64(_KEY_MULTIPLIER) ^ bits[:, 1]
    codes, uniq = pd.factorize(key)
    rep = np.empty((uniq.size, 2))
    rep[codes] = xy
    if not (rep[codes] == xy).all():
        codes, exact = pd.factorize(xy[:, 0] + 1j * xy[:, 1])
        rep = np.column_stack([exact.real, exact.imag])
    return codes.astype("int64"), rep


def _line_bounds(owner: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """First and last coordinate index of each of ``n`` lines (every line has coordinates)."""
    counts = np.bincount(owner, minlength=n)
    last = np.cumsum(counts) - 1
    return last - counts + 1, last


def split_at_shared_vertices(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Split lines at interior vertices that another line (or the same line) also passes through.

    CAD-style centrelines often draw a street as one line through its junctions; a vertex shared
    by two lines is where they meet. Positions within 1 cm are one position.

    Parameters
    ----------
    lines
        LineStrings (projected, metres).

    Returns
    -------
    tuple
        The pieces, the index of each piece's source line and the number of junction positions
        found. Lines without a shared interior vertex are passed through unchanged.
    """
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    if coords.size == 0:
        return lines, np.arange(lines.size), 0
    starts = np.r_[0, np.flatnonzero(np.diff(owner)) + 1]
    first = np.zeros(owner.size, dtype=bool)
    first[starts] = True
    last = np.zeros(owner.size, dtype=bool)
    last[np.r_[starts[1:] - 1, owner.size - 1]] = True
    if (first | last).all():  # no interior vertex at all (every line a single segment)
        return lines, np.arange(lines.size), 0
    inverse, positions = _position_ids(coords, _SAME_POSITION_M)
    counts = np.bincount(inverse, minlength=positions.shape[0])
    shared = (counts[inverse] > 1) & ~first & ~last
    if not shared.any():
        return lines, np.arange(lines.size), 0
    # Every shared interior vertex ends one piece and starts the next, so it is written twice
    # and a piece number runs over the coordinates.
    cut = np.zeros(lines.size, dtype=bool)
    cut[owner[shared]] = True
    keep = cut[owner]
    c, o, sh, fi = coords[keep], owner[keep], shared[keep], first[keep]
    repeat = 1 + sh.astype("int64")
    at = np.cumsum(repeat) - repeat  # where each vertex's first copy lands
    begins = np.zeros(int(repeat.sum()), dtype=bool)
    begins[at[fi]] = True
    begins[at[sh] + 1] = True
    piece = np.cumsum(begins) - 1
    cut_pieces = shapely.linestrings(np.repeat(c, repeat, axis=0), indices=piece)
    cut_origin = np.repeat(o, repeat)[begins]
    whole = np.flatnonzero(~cut)
    origin_all = np.concatenate([whole, cut_origin])
    order = np.argsort(origin_all, kind="stable")
    pieces = np.concatenate([lines[whole], cut_pieces]).astype(object)[order]
    origin = origin_all[order]
    n_junctions = int(np.unique(inverse[shared]).size)
    return pieces, origin.astype("int64"), n_junctions


def crossings_without_vertex(
    lines: np.ndarray,
    start_xy: np.ndarray,
    end_xy: np.ndarray,
    *,
    tree: shapely.STRtree | None = None,
    ends_ids: tuple[np.ndarray, np.ndarray] | None = None,
) -> int:
    """Pairs of lines that cross in their interiors (no shared vertex there).

    Parameters
    ----------
    lines
        LineStrings.
    start_xy, end_xy
        First and last coordinates of each line, ``(n, 2)``.
    tree
        An ``STRtree`` of ``lines`` when the caller has one.
    ends_ids
        Position ids of ``start_xy`` then ``end_xy`` and the distinct positions, when the
        caller has them (see :func:`node_clusters`).

    Returns
    -------
    int
        Number of crossing pairs.
    """
    if lines.size < 2:
        return 0
    tree = shapely.STRtree(lines) if tree is None else tree
    a, b = tree.query(lines)
    keep = a < b
    a, b = a[keep], b[keep]
    # Lines meeting at an end (most neighbours in a street layer) cannot cross: skip the costly
    # predicate for them and test only the rest. Ends are compared at 1 cm, rounding each
    # distinct position once.
    exact, positions = ends_ids or _position_ids(np.concatenate([start_xy, end_xy]))
    rounded, _ = _position_ids(positions, _SAME_POSITION_M)
    ids = rounded[exact]
    s, e = ids[: lines.size], ids[lines.size :]
    meet = (s[a] == s[b]) | (s[a] == e[b]) | (e[a] == s[b]) | (e[a] == e[b])
    a, b = a[~meet], b[~meet]
    return int(shapely.crosses(lines[a], lines[b]).sum())


def node_clusters(
    points: np.ndarray, snap_m: float, *, ids: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """Label points so that points within ``snap_m`` (transitively) share a label.

    Labels run in order of each cluster's first point. Coinciding points (most line ends meet
    exactly) are merged by hashing first, so the distance search sees each position once.

    Parameters
    ----------
    points
        ``(n, 2)`` coordinates.
    snap_m
        Distance at or under which two points are one node.
    ids
        Position id of each point and the distinct positions, when the caller has them.

    Returns
    -------
    numpy.ndarray
        ``int64`` label per point.
    """
    codes, uniq = _position_ids(points) if ids is None else ids
    n_pos = uniq.shape[0]
    pairs = cKDTree(uniq).query_pairs(r=snap_m, output_type="ndarray")
    if pairs.size == 0:
        return codes
    adj = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n_pos,) * 2)
    _, comp = csgraph.connected_components(adj, directed=False)
    labels, _ = pd.factorize(comp[codes])
    return labels.astype("int64")


def _t_junctions(
    lines: np.ndarray,
    lengths: np.ndarray,
    node_pts: np.ndarray,
    tree: shapely.STRtree,
    snap: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(line, node, position along the line)`` where a node touches a line's interior."""
    hit_node, hit_line = tree.query(node_pts, predicate="dwithin", distance=snap)
    at = shapely.line_locate_point(lines[hit_line], node_pts[hit_node])
    interior = (at > snap) & (at < lengths[hit_line] - snap)
    return hit_line[interior], hit_node[interior], at[interior]


def _whole_lines(
    lines: np.ndarray,
    coords: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    end_xy: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """Lines with their ends moved onto their nodes; lines already there are kept as they are."""
    start_at, end_at = end_xy
    moved = (coords[first] != start_at).any(axis=1) | (coords[last] != end_at).any(axis=1)
    out = lines.astype(object, copy=True)
    which = np.flatnonzero(moved)
    if which.size:
        counts = last[which] - first[which] + 1
        take = np.repeat(first[which] - np.cumsum(counts) + counts, counts) + np.arange(
            counts.sum()
        )
        c = coords[take]
        ends = np.cumsum(counts)
        c[ends - counts] = start_at[which]
        c[ends - 1] = end_at[which]
        out[which] = shapely.from_ragged_array(
            shapely.GeometryType.LINESTRING, c, (np.r_[0, ends],)
        )
    return out


def _cumulative_lengths(coords: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Distance along its line of every coordinate, summed vertex by vertex from the start.

    Lines are grouped by vertex count so each group is one 2-D cumulative sum along its rows
    (sequential, so the sums equal a loop over the vertices).
    """
    out = np.zeros(coords.shape[0])
    counts = last - first + 1
    for m in np.unique(counts).tolist():
        if m < 2:
            continue
        rows = first[counts == m]
        idx = rows[:, None] + np.arange(m)[None, :]
        c = coords[idx]
        seg = np.sqrt(np.diff(c[..., 0], axis=1) ** 2 + np.diff(c[..., 1], axis=1) ** 2)
        out[idx[:, 1:]] = np.cumsum(seg, axis=1)
    return out


def _split_pieces(
    coords: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray],
    ends: tuple[np.ndarray, np.ndarray],
    lengths: np.ndarray,
    stops: tuple[np.ndarray, np.ndarray, np.ndarray],
    node_xy: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cut lines at their T-junction nodes.

    A piece runs from one cut to the next: its end node, the line's vertices strictly between
    the two positions, the next node (what ``shapely.ops.substring`` gives, with its ends moved
    onto the nodes). Returns ``u, v, geometry, src`` of the pieces, by line and position.
    """
    first, last = bounds
    start_node, end_node = ends
    hit_line, hit_node, at = stops
    nx_, ny_ = node_xy
    split = np.unique(hit_line)
    k = split.size
    # Cuts: the line's start, its stops, its end; ordered by line, position, node.
    c_line = np.concatenate([split, hit_line, split])
    c_pos = np.concatenate([np.zeros(k), at, lengths[split]])
    c_node = np.concatenate([start_node[split], hit_node, end_node[split]])
    c_rank = np.repeat([0, 1, 2], [k, hit_line.size, k])
    order = np.lexsort((c_node, c_rank, c_pos, c_line))
    c_line, c_pos, c_node = c_line[order], c_pos[order], c_node[order]
    is_piece = np.r_[c_line[1:] == c_line[:-1], False]  # cut j starts a piece to cut j + 1
    # Interior vertices of the split lines with their distance along the line.
    sel = np.zeros(lengths.size, dtype=bool)
    sel[split] = True
    cum = _cumulative_lengths(coords, first[split], last[split])
    owner = np.repeat(np.arange(lengths.size), last - first + 1)
    vtx = np.flatnonzero(sel[owner])
    vtx = vtx[(vtx != first[owner[vtx]]) & (vtx != last[owner[vtx]])]
    # Each vertex joins the piece of the last cut before it (cuts sort before vertices at the
    # same position) when that cut lies strictly before it and a piece starts there.
    e_line = np.concatenate([c_line, owner[vtx]])
    e_pos = np.concatenate([c_pos, cum[vtx]])
    e_kind = np.repeat([0, 1], [c_line.size, vtx.size])
    e_ref = np.concatenate([np.arange(c_line.size), vtx])
    ev = np.lexsort((e_ref, e_kind, e_pos, e_line))
    is_cut = e_kind[ev] == 0
    prev_cut = np.maximum.accumulate(np.where(is_cut, e_ref[ev], -1))
    v_cut, v_ref = prev_cut[~is_cut], e_ref[ev][~is_cut]
    inside = (v_cut >= 0) & is_piece[np.maximum(v_cut, 0)]
    inside &= c_pos[np.maximum(v_cut, 0)] < cum[v_ref]
    v_cut, v_ref = v_cut[inside], v_ref[inside]
    # Pieces of zero length (two nodes at one position) are skipped.
    start = np.flatnonzero(is_piece)
    start = start[c_pos[start + 1] - c_pos[start] > 0]
    a, b = c_node[start], c_node[start + 1]
    # Coordinates of all pieces: first node, inner vertices (in line order), next node.
    p_of = np.concatenate([start, v_cut, start])
    p_key = np.concatenate([np.full(start.size, -1), v_ref, np.full(start.size, coords.shape[0])])
    p_x = np.concatenate([nx_[a], coords[v_ref, 0], nx_[b]])
    p_y = np.concatenate([ny_[a], coords[v_ref, 1], ny_[b]])
    po = np.lexsort((p_key, p_of))
    _, counts = np.unique(p_of[po], return_counts=True)
    geometry = shapely.from_ragged_array(
        shapely.GeometryType.LINESTRING,
        np.column_stack([p_x[po], p_y[po]]),
        (np.r_[0, np.cumsum(counts)],),
    )
    return a, b, geometry, c_line[start]


def build_topology(lines: np.ndarray, *, snap: float, gap_hint: float) -> Topology:
    """Nodes and edges of centrelines: snapped ends, T-junctions split, dangling ends found.

    Parameters
    ----------
    lines
        Non-empty LineStrings of positive length (projected, metres), already split at shared
        vertices.
    snap
        Line ends within this distance are one node; a node within it of a line's interior
        splits that line.
    gap_hint
        Dangling ends this close to another line are counted as probable digitising gaps.

    Returns
    -------
    Topology
    """
    n = lines.size
    lengths = shapely.length(lines)
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    first, last = _line_bounds(owner, n)
    ends = np.concatenate([coords[first], coords[last]])
    ends_ids = _position_ids(ends)
    labels = node_clusters(ends, snap, ids=ends_ids)
    n_nodes = int(labels.max()) + 1
    count = np.bincount(labels, minlength=n_nodes)
    nx_ = np.bincount(labels, weights=ends[:, 0], minlength=n_nodes) / count
    ny_ = np.bincount(labels, weights=ends[:, 1], minlength=n_nodes) / count
    start_node, end_node = labels[:n], labels[n:]

    node_pts = shapely.points(nx_, ny_)
    tree = shapely.STRtree(lines)
    n_cross = crossings_without_vertex(
        lines, coords[first], coords[last], tree=tree, ends_ids=ends_ids
    )
    stops = _t_junctions(lines, lengths, node_pts, tree, snap)
    whole = np.ones(n, dtype=bool)
    whole[stops[0]] = False
    widx = np.flatnonzero(whole)
    node_xy = np.column_stack([nx_, ny_])
    geometry = _whole_lines(
        lines[widx],
        coords,
        first[widx],
        last[widx],
        (node_xy[start_node[widx]], node_xy[end_node[widx]]),
    )
    u, v, src = start_node[widx], end_node[widx], widx
    if not whole.all():
        pu, pv, pgeom, psrc = _split_pieces(
            coords, (first, last), (start_node, end_node), lengths, stops, (nx_, ny_)
        )
        u, v = np.concatenate([u, pu]), np.concatenate([v, pv])
        geometry = np.concatenate([geometry, pgeom.astype(object)])
        src = np.concatenate([src, psrc])

    degree = np.bincount(np.concatenate([u, v]), minlength=n_nodes)
    dangling = np.flatnonzero(degree == 1)
    near_gap = 0
    if dangling.size:
        # A dangling end close to a line it does not belong to looks like a digitising gap.
        d_idx, l_idx = tree.query(node_pts[dangling], predicate="dwithin", distance=gap_hint)
        own = (start_node[l_idx] == dangling[d_idx]) | (end_node[l_idx] == dangling[d_idx])
        near_gap = int(np.unique(d_idx[~own]).size)
    return Topology(
        x=nx_,
        y=ny_,
        u=u.astype("int64"),
        v=v.astype("int64"),
        geometry=geometry,
        src=src.astype("int64"),
        n_split=int(np.unique(stops[0]).size),
        n_cross=n_cross,
        dangling=dangling,
        near_gap=near_gap,
    )
