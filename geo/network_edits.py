"""Network what-ifs: add a walkable link (a footbridge, an opened gate) or close streets.

Edits are applied in order to a copy of a :class:`~geo.network.Network` and give a new one; the
original is never changed, so the app can keep its cached network and compare.

* ``add``: a new link along a polyline. Each end joins the network at the nearest point of the
  nearest street within ``join_m``; that street is split there (a new node), so the link is
  reachable from both directions of the street. Streets the link crosses on the way are *not*
  joined: a footbridge passes over them.
* ``close``: every street stretch that runs along the polyline within ``tolerance_m`` is removed
  (a closed road, a demolished bridge). A street that only crosses the polyline is kept: a stretch
  counts when it runs along the line (its ends project onto the line at least
  ``settings.edit_close_alignment`` of its length apart). The closure zone has flat ends, so it
  stops where the line stops; a stretch ending within twice the tolerance of a junction takes
  the rest of the street to that junction too, so no stubs of a few metres are left.

Hand-written because no kept library edits a CSR street network with exact split lengths; the
topology is rebuilt with :func:`geo.network.build_network` (the one way networks are made).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyproj
import shapely
from shapely.geometry import LineString, Point
from shapely.ops import substring

from geo import settings
from geo.datum import normalise_datum, to_wgs84
from geo.errors import NetworkError
from geo.messages import msg
from geo.network import WGS84, Network, build_network

logger = logging.getLogger(__name__)

__all__ = ["NetworkEdit", "NetworkEditError", "apply_network_edits", "edits_from_config"]

ACTIONS = ("add", "close")


class NetworkEditError(NetworkError, ValueError):
    """A network edit cannot be applied (too far from any street, closes nothing, bad coords)."""


@dataclass(frozen=True)
class NetworkEdit:
    """One edit of the street network.

    Attributes
    ----------
    action
        ``"add"`` (a new walkable link) or ``"close"`` (remove the streets along the line).
    coords
        The polyline as ``(lon, lat)`` pairs in ``crs``; at least two points.
    name
        A label for reports (e.g. "riverside footbridge").
    mode
        Travel mode the edit applies to (``walk``, ``bike``, ``drive``); ``None`` for every mode.
    join_m
        ``add``: how far each end may be from a street (metres).
    tolerance_m
        ``close``: how far from the line a street may run and still be closed (metres).
    crs
        Datum of ``coords``: ``wgs84`` (default), ``gcj02`` or ``bd09``.
    """

    action: str
    coords: tuple[tuple[float, float], ...]
    name: str = ""
    mode: str | None = None
    join_m: float = field(default_factory=lambda: settings.edit_join_m)
    tolerance_m: float = field(default_factory=lambda: settings.edit_close_tolerance_m)
    crs: str = "wgs84"

    def __post_init__(self) -> None:
        where = (
            msg("geo.network_edits.where_named", name=self.name)
            if self.name
            else msg("geo.network_edits.where")
        )
        if self.action not in ACTIONS:
            raise NetworkEditError(
                msg("geo.network_edits.bad_action", where=where, got=repr(self.action))
            )
        pts = np.asarray(self.coords, dtype="float64") if len(self.coords) else np.zeros((0, 2))
        if pts.ndim != 2 or pts.shape[1] != 2 or pts.shape[0] < 2:
            raise NetworkEditError(
                msg("geo.network_edits.few_coords", where=where, got=repr(list(self.coords)))
            )
        if not np.isfinite(pts).all():
            raise NetworkEditError(
                msg("geo.network_edits.nan_coords", where=where, got=repr(list(self.coords)))
            )
        if (np.abs(pts[:, 0]) > 180).any() or (np.abs(pts[:, 1]) > 90).any():
            raise NetworkEditError(
                msg("geo.network_edits.not_degrees", where=where, got=repr(list(self.coords)))
            )
        for key in ("join_m", "tolerance_m"):
            value = getattr(self, key)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise NetworkEditError(
                    msg("geo.network_edits.bad_distance", where=where, key=key, got=repr(value))
                )
        if normalise_datum(self.crs) is None:
            raise NetworkEditError(
                msg("geo.network_edits.bad_crs", where=where, got=repr(self.crs))
            )
        if self.mode is not None and self.mode not in ("walk", "bike", "drive"):
            raise NetworkEditError(
                msg("geo.network_edits.bad_mode", where=where, got=repr(self.mode))
            )

    def label(self, index: int) -> str:
        """How messages name this edit: its number (1-based) and name."""
        if self.name:
            return msg("geo.network_edits.label_named", index=index, name=self.name)
        return msg("geo.network_edits.label", index=index)


def edits_from_config(tables: list[dict[str, Any]]) -> list[NetworkEdit]:
    """Edits from ``[[network_edits]]`` tables (keys as :class:`NetworkEdit`'s fields).

    Raises
    ------
    NetworkEditError
        When a table has unknown keys or bad values (the message names the edit).
    """
    known = set(NetworkEdit.__dataclass_fields__)
    edits = []
    for i, table in enumerate(tables, start=1):
        unknown = sorted(set(table) - known)
        if unknown:
            raise NetworkEditError(
                msg("geo.network_edits.unknown_keys", i=i, unknown=unknown, known=sorted(known))
            )
        try:
            coords = tuple((float(p[0]), float(p[1])) for p in table.get("coords", ()))
        except (TypeError, ValueError, IndexError):
            raise NetworkEditError(
                msg("geo.network_edits.bad_coords", i=i, got=repr(table.get("coords")))
            ) from None
        try:
            edits.append(NetworkEdit(**{**table, "coords": coords}))
        except NetworkEditError as exc:
            raise NetworkEditError(
                msg("geo.network_edits.in_table", i=i, reason=exc.args[0])
            ) from None
    return edits


class _Editable:
    """Mutable copies of a network's arrays while edits are applied."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.x = list(net.x)
        self.y = list(net.y)
        self.node_ids = list(net.node_ids)
        self.u = list(net.u)
        self.v = list(net.v)
        self.length = list(net.length)
        self.geometry = list(net.geometry)
        self.attrs = {k: list(a) for k, a in net.edge_attrs.items()}
        self.alive = [True] * len(self.u)
        self._next_id = min(int(np.min(net.node_ids)), 0) - 1 if net.n_nodes else -1
        # New nodes at the same place are one node (twins of one-way pairs are cut alike).
        self._at: dict[tuple[float, float], int] = {}

    def node_at(self, pt: Point) -> int:
        key = (round(pt.x, 3), round(pt.y, 3))
        if key in self._at:
            return self._at[key]
        self.x.append(pt.x)
        self.y.append(pt.y)
        self.node_ids.append(self._next_id)
        self._next_id -= 1
        self._at[key] = len(self.x) - 1
        return self._at[key]

    def add_edge(self, a: int, b: int, geom: LineString, length: float, like: int | None) -> int:
        self.u.append(a)
        self.v.append(b)
        self.geometry.append(geom)
        self.length.append(length)
        self.alive.append(True)
        for key, values in self.attrs.items():
            values.append(values[like] if like is not None else _new_link_attr(key, values, length))
        return len(self.u) - 1

    def tree(self) -> tuple[shapely.STRtree, np.ndarray]:
        idx = np.flatnonzero(self.alive)
        return shapely.STRtree(np.asarray(self.geometry, dtype=object)[idx]), idx

    def keep_pieces(self, e: int, intervals: list[tuple[float, float]]) -> int:
        """Replace edge ``e`` by the parts of it outside ``intervals`` (metres along it).

        Returns the number of removed stretches.
        """
        geom = self.geometry[e]
        total = float(geom.length)
        scale = self.length[e] / total if total > 0 else 1.0
        kept: list[tuple[float, float]] = []
        pos = 0.0
        for a, b in intervals:
            if a > pos:
                kept.append((pos, a))
            pos = max(pos, b)
        if pos < total:
            kept.append((pos, total))
        self.alive[e] = False
        for a, b in kept:
            if b - a <= 1e-6:
                continue
            start = self.u[e] if a <= 0 else self.node_at(shapely.line_interpolate_point(geom, a))
            end = self.v[e] if b >= total else self.node_at(shapely.line_interpolate_point(geom, b))
            piece = substring(geom, a, b) if (a > 0 or b < total) else geom
            self.add_edge(start, end, piece, (b - a) * scale, like=e)
        return len(intervals)

    def split(self, e: int, along: float) -> int:
        """Split edge ``e`` (and its reverse twin) at ``along`` metres; return the node there."""
        geom = self.geometry[e]
        total = float(geom.length)
        if along <= 1e-3:
            return self.u[e]
        if along >= total - 1e-3:
            return self.v[e]
        p = self.node_at(shapely.line_interpolate_point(geom, along))
        for t in [e, *self._twins(e)]:
            g = self.geometry[t]
            at = along if t == e else float(g.length) - along
            scale = self.length[t] / float(g.length) if g.length > 0 else 1.0
            self.alive[t] = False
            a_geom = substring(g, 0.0, at)
            b_geom = substring(g, at, float(g.length))
            self.add_edge(self.u[t], p, a_geom, at * scale, like=t)
            self.add_edge(p, self.v[t], b_geom, (float(g.length) - at) * scale, like=t)
        return p

    def _twins(self, e: int) -> list[int]:
        if not self.net.directed:
            return []
        g = self.geometry[e]
        u, v = np.asarray(self.u), np.asarray(self.v)
        cands = np.flatnonzero((u == self.v[e]) & (v == self.u[e]))
        return [
            int(t)
            for t in cands
            if self.alive[t]
            and t != e
            and shapely.equals_exact(self.geometry[t], g.reverse(), tolerance=1e-6)
        ]

    def build(self, notes: tuple[str, ...]) -> Network:
        idx = np.flatnonzero(self.alive)
        net = self.net
        return build_network(
            x=np.asarray(self.x),
            y=np.asarray(self.y),
            u=np.asarray(self.u)[idx],
            v=np.asarray(self.v)[idx],
            crs=net.crs,
            mode=net.mode,
            directed=net.directed,
            length=np.asarray(self.length, dtype="float64")[idx],
            geometry=np.asarray(self.geometry, dtype=object)[idx],
            node_ids=np.asarray(self.node_ids),
            edge_attrs={k: np.asarray(vals)[idx] for k, vals in self.attrs.items()},
            source=msg("geo.network_edits.edited", source=net.report.source),
            # A closure may cut a part off: its residents must show as cut off, not vanish.
            keep_largest=False,
            notes=(*net.report.notes, *notes),
        )


def _new_link_attr(key: str, values: list[Any], length: float) -> Any:
    """Attribute of an added link, from what the column holds elsewhere."""
    if key == "highway":
        return "footway"
    sample = values[0] if values else ""
    if isinstance(sample, str | np.str_):
        return ""
    if key == "speed_kph":
        return float(np.nanmedian(np.asarray(values, dtype="float64")))
    if key == "travel_time_s":
        speeds = np.asarray(values, dtype="float64")
        return float(length / max(np.nanmedian(speeds), 1e-9)) if speeds.size else np.nan
    if isinstance(sample, bool | np.bool_):
        return False
    return np.nan


def _projected_line(net: Network, edit: NetworkEdit) -> LineString:
    pts = np.asarray(edit.coords, dtype="float64")
    lon, lat = to_wgs84(pts[:, 0], pts[:, 1], crs=edit.crs)
    tr = pyproj.Transformer.from_crs(WGS84, net.crs, always_xy=True)
    x, y = tr.transform(lon, lat)
    return LineString(np.column_stack([x, y]))


def _join(ed: _Editable, pt: Point, edit: NetworkEdit, which: str, label: str) -> tuple[int, Point]:
    tree, idx = ed.tree()
    hit, dist = tree.query_nearest(pt, max_distance=edit.join_m, return_distance=True)
    if hit.size == 0:
        _, far = tree.query_nearest(pt, return_distance=True)
        nearest = (
            msg("geo.network_edits.metres", m=float(far[0]))
            if far.size
            else msg("geo.network_edits.no_street")
        )
        raise NetworkEditError(
            msg(
                "geo.network_edits.too_far",
                label=label,
                which=msg(
                    "geo.network_edits.start" if which == "start" else "geo.network_edits.end"
                ),
                nearest=nearest,
                join_m=edit.join_m,
            )
        )
    # Ties: the lowest edge index, so that the same edit always joins the same street.
    e = int(idx[int(hit[np.argmin(dist)])])
    geom = ed.geometry[e]
    along = float(shapely.line_locate_point(geom, pt))
    foot = shapely.line_interpolate_point(geom, along)
    return ed.split(e, along), foot


def _add(ed: _Editable, edit: NetworkEdit, label: str) -> dict[str, Any]:
    line = _projected_line(ed.net, edit)
    coords = np.asarray(line.coords)
    a, foot_a = _join(ed, Point(coords[0]), edit, "start", label)
    b, foot_b = _join(ed, Point(coords[-1]), edit, "end", label)
    if a == b:
        raise NetworkEditError(msg("geo.network_edits.same_point", label=label))
    path = [(foot_a.x, foot_a.y), *map(tuple, coords), (foot_b.x, foot_b.y)]
    # Drop repeated points (an end drawn exactly on the street).
    clean = [path[0]] + [p for p, q in zip(path[1:], path[:-1], strict=True) if p != q]
    geom = LineString(clean)
    length = float(geom.length)
    ed.add_edge(a, b, geom, length, like=None)
    if ed.net.directed:
        ed.add_edge(b, a, geom.reverse(), length, like=None)
    _set_name(ed, edit)
    return {"length_m": length, "n_edges": 1}


def _set_name(ed: _Editable, edit: NetworkEdit) -> None:
    if "name" in ed.attrs and edit.name:
        n = 2 if ed.net.directed else 1
        for i in range(1, n + 1):
            ed.attrs["name"][-i] = edit.name


def _close(ed: _Editable, edit: NetworkEdit, label: str) -> dict[str, Any]:
    line = _projected_line(ed.net, edit)
    tol = float(edit.tolerance_m)
    # Flat ends: the closure stops where the line stops, not a tolerance beyond it.
    zone = line.buffer(tol, cap_style="flat")
    tree, idx = ed.tree()
    closed_m = 0.0
    pieces = 0
    for e in sorted(int(idx[i]) for i in tree.query(zone, predicate="intersects")):
        intervals = _stretches_along(ed.geometry[e], line, zone, tol)
        if intervals:
            closed_m += sum(b - a for a, b in intervals) * (
                ed.length[e] / max(float(ed.geometry[e].length), 1e-9)
            )
            pieces += ed.keep_pieces(e, intervals)
    if pieces == 0:
        raise NetworkEditError(msg("geo.network_edits.nothing_closed", label=label, tol=tol))
    if ed.net.directed:
        closed_m /= 2 if closed_m else 1  # both directions of a two-way street were counted
    return {"length_m": closed_m, "n_edges": pieces}


def _stretches_along(
    geom: LineString, line: LineString, zone: Any, tol: float
) -> list[tuple[float, float]]:
    """Intervals (metres along ``geom``) of the stretches of ``geom`` that run along ``line``."""
    inside = geom.intersection(zone)
    parts = [g for g in getattr(inside, "geoms", [inside]) if g.geom_type == "LineString"]
    total = float(geom.length)
    out = []
    for part in parts:
        if part.is_empty or part.length <= tol:
            continue
        ends = shapely.get_coordinates(part)[[0, -1]]
        along_line = abs(line.project(Point(ends[1])) - line.project(Point(ends[0])))
        if along_line < settings.edit_close_alignment * part.length:
            continue  # crosses the line rather than running along it
        a = float(geom.project(Point(ends[0])))
        b = float(geom.project(Point(ends[1])))
        a, b = min(a, b), max(a, b)
        # A stretch ending near the street's end takes the end too: no stubs of a few metres.
        a = 0.0 if a <= 2 * tol + 1e-6 else a
        b = total if b >= total - 2 * tol - 1e-6 else b
        out.append((a, b))
    out.sort()
    merged: list[tuple[float, float]] = []
    for a, b in out:
        if merged and a <= merged[-1][1] + 1e-6:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def apply_network_edits(
    network: Network, edits: list[NetworkEdit] | tuple[NetworkEdit, ...]
) -> tuple[Network, pd.DataFrame]:
    """Apply edits in order and return the edited network and a report of each edit.

    Parameters
    ----------
    network
        The network to edit (not changed).
    edits
        The edits, applied in order (a later edit sees the earlier ones).

    Returns
    -------
    network
        A new network.
    report
        One row per edit: ``edit`` (1-based), ``action``, ``name``, ``length_m`` (the added link,
        or the street length closed), ``n_edges`` (links added or stretches removed),
        ``applied`` (False when the edit is for another travel mode), ``note``.

    Raises
    ------
    NetworkEditError
        When an edit cannot be applied; the message names the edit.
    """
    if not edits:
        return network, _report([])
    ed = _Editable(network)
    rows = []
    notes = []
    for i, edit in enumerate(edits, start=1):
        label = edit.label(i)
        row: dict[str, Any] = {"edit": i, "action": edit.action, "name": edit.name}
        if edit.mode is not None and edit.mode != network.mode:
            rows.append(
                {
                    **row,
                    "length_m": 0.0,
                    "n_edges": 0,
                    "applied": False,
                    "note": msg("geo.network_edits.other_mode"),
                }
            )
            continue
        done = _add(ed, edit, label) if edit.action == "add" else _close(ed, edit, label)
        rows.append({**row, **done, "applied": True, "note": ""})
        done_code = (
            "geo.network_edits.added" if edit.action == "add" else "geo.network_edits.closed"
        )
        notes.append(msg(done_code, label=label, m=done["length_m"]))
        logger.info("%s", notes[-1])
    if not any(r["applied"] for r in rows):
        return network, _report(rows)
    return ed.build(tuple(notes)), _report(rows)


def _report(rows: list[dict[str, Any]]) -> pd.DataFrame:
    cols = ["edit", "action", "name", "length_m", "n_edges", "applied", "note"]
    return pd.DataFrame(rows, columns=cols)
