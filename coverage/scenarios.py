"""What-if edits and named scenarios: add, move or remove facilities and see the new coverage.

A :class:`Scenario` is a name and a list of edits (:class:`Edit`) on the baseline. Applying it
(:func:`apply_edits`) recomputes only what the edits can change:

* categories no edit touches keep their columns as they are;
* a category that only **gains** facilities gets one multi-source search from the new ones,
  limited to the farthest baseline node distance (no node farther than that can improve), and a
  minimum with the baseline node distances. This is exact: Dijkstra's distances are the minimum
  over paths of the same floating-point sums, so the minimum of two searches equals one search
  from all sources;
* a category that **loses or moves** a facility re-runs its one multi-source search (the same call
  as :func:`coverage.analysis.analyse`; on the demo district this takes milliseconds, and
  restricting it to the points that lost their nearest facility was not worth the complexity —
  see ``bench/bench_siting.py``).

Edits are composed on the baseline: applying edits to a :class:`ScenarioResult` appends them to
its edit list and re-applies everything to the original baseline, and edits that cancel (an add
followed by its removal, a move and its move back) leave those categories untouched. So an edit
followed by its inverse returns exactly the baseline.

:func:`compare` tabulates coverage before and after per scenario and category (residents newly
covered and newly lost); :func:`change_areas` draws where they live (small buffers around the
affected demand points, unioned). Scenarios save to and load from JSON (:func:`save_scenarios`,
:func:`load_scenarios`).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage.analysis import CoverageResult, category_columns
from coverage.distance import nearest_from, point_distance
from coverage.snap import Snap, snap_points
from coverage.summary import summarise
from geo import settings
from geo.errors import CoordinateError, DuplicateIdError, InputDataError
from geo.messages import msg
from geo.network import WGS84, Network
from geo.network_edits import NetworkEdit, edits_from_config
from geo.taxonomy import get_category

logger = logging.getLogger(__name__)

__all__ = [
    "EDIT_KINDS",
    "FILE_VERSION",
    "Edit",
    "Scenario",
    "ScenarioResult",
    "apply_edits",
    "change_areas",
    "compare",
    "load_scenarios",
    "save_scenarios",
]

EDIT_KINDS = ("add", "remove", "move")
FILE_VERSION = 1


@dataclass(frozen=True)
class Edit:
    """One change to the facilities: add, remove or move a facility.

    Build with :meth:`add`, :meth:`remove` or :meth:`move`.

    Attributes
    ----------
    kind
        ``"add"``, ``"remove"`` or ``"move"``.
    facility_id
        The facility concerned (new facilities get ``edit-<n>`` when none is given).
    category
        Taxonomy key (add).
    lon, lat
        WGS-84 position (add, move).
    name
        Display name (add).
    capacity
        Capacity (add; ``None`` when unknown).
    """

    kind: str
    facility_id: str | None = None
    category: str | None = None
    lon: float | None = None
    lat: float | None = None
    name: str = ""
    capacity: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in EDIT_KINDS:
            raise InputDataError(
                msg("coverage.scenarios.bad_kind", kinds=EDIT_KINDS, kind=repr(self.kind))
            )
        if self.kind in ("remove", "move") and not self.facility_id:
            if self.kind == "remove":
                raise InputDataError(msg("coverage.scenarios.remove_needs_id"))
            raise InputDataError(msg("coverage.scenarios.move_needs_id"))
        if self.kind in ("add", "move"):
            lon, lat = self.lon, self.lat
            if (
                lon is None
                or lat is None
                or not (math.isfinite(lon) and math.isfinite(lat))
                or not (-180 <= lon <= 180 and -90 <= lat <= 90)
            ):
                raise CoordinateError(
                    msg(
                        "coverage.scenarios.bad_lonlat",
                        kind=self.kind,
                        facility=self.facility_id or "",
                        lon=repr(lon),
                        lat=repr(lat),
                    )
                )
        if self.kind == "add":
            if not self.category:
                raise InputDataError(msg("coverage.scenarios.add_needs_category"))
            get_category(self.category)

    @classmethod
    def add(
        cls,
        *,
        category: str,
        lon: float,
        lat: float,
        name: str = "",
        facility_id: str | None = None,
        capacity: float | None = None,
    ) -> Edit:
        """Add a facility of ``category`` at ``lon``, ``lat`` (WGS-84)."""
        return cls(
            "add",
            facility_id=facility_id,
            category=category,
            lon=float(lon),
            lat=float(lat),
            name=name,
            capacity=None if capacity is None else float(capacity),
        )

    @classmethod
    def remove(cls, facility_id: str) -> Edit:
        """Remove facility ``facility_id``."""
        return cls("remove", facility_id=str(facility_id))

    @classmethod
    def move(cls, facility_id: str, *, lon: float, lat: float) -> Edit:
        """Move facility ``facility_id`` to ``lon``, ``lat`` (WGS-84)."""
        return cls("move", facility_id=str(facility_id), lon=float(lon), lat=float(lat))

    def inverse(self, facilities: gpd.GeoDataFrame) -> Edit:
        """The edit that undoes this one, given the facilities table *before* it.

        Parameters
        ----------
        facilities
            Facilities (WGS-84) as they were before this edit (for ``remove`` and ``move``,
            which need the facility's original position, category and name).

        Returns
        -------
        Edit
        """
        if self.kind == "add":
            if not self.facility_id:
                raise InputDataError(msg("coverage.scenarios.inverse_needs_id"))
            return Edit.remove(self.facility_id)
        row = _find(facilities, str(self.facility_id))
        pt = row.geometry
        if self.kind == "move":
            return Edit.move(str(self.facility_id), lon=pt.x, lat=pt.y)
        cap = row.get("capacity", np.nan)
        return Edit.add(
            category=str(row["category"]),
            lon=pt.x,
            lat=pt.y,
            name=str(row.get("name", "") or ""),
            facility_id=str(self.facility_id),
            capacity=None if cap is None or pd.isna(cap) else float(cap),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (unknown capacity and empty fields are left out)."""
        out: dict[str, Any] = {"kind": self.kind}
        for key in ("facility_id", "category", "lon", "lat"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.name:
            out["name"] = self.name
        if self.capacity is not None:
            out["capacity"] = self.capacity
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Edit:
        """Inverse of :meth:`to_dict`."""
        if not isinstance(data, dict) or "kind" not in data:
            raise InputDataError(msg("coverage.scenarios.edit_not_object", data=repr(data)))
        known = {"kind", "facility_id", "category", "lon", "lat", "name", "capacity"}
        extra = set(data) - known
        if extra:
            raise InputDataError(
                msg(
                    "coverage.scenarios.edit_unknown_keys", extra=sorted(extra), known=sorted(known)
                )
            )
        cap = data.get("capacity")
        return cls(
            str(data["kind"]),
            facility_id=None if data.get("facility_id") is None else str(data["facility_id"]),
            category=data.get("category"),
            lon=None if data.get("lon") is None else float(data["lon"]),
            lat=None if data.get("lat") is None else float(data["lat"]),
            name=str(data.get("name", "")),
            capacity=None if cap is None else float(cap),
        )


@dataclass(frozen=True)
class Scenario:
    """A named plan: facility edits on the baseline, and optionally street-network edits.

    ``network_edits`` (:class:`geo.network_edits.NetworkEdit`, e.g. a new bridge or closed
    streets) change the network the plan is computed on: the facility edits then apply to the
    coverage on the edited network (``study`` and ``ui`` do this; :meth:`apply` takes facility
    edits only).
    """

    name: str
    edits: tuple[Edit, ...] = ()
    description: str = ""
    network_edits: tuple[NetworkEdit, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "edits", tuple(self.edits))
        object.__setattr__(self, "network_edits", tuple(self.network_edits))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (``network_edits`` only when there are some, so old files read alike)."""
        out: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "edits": [e.to_dict() for e in self.edits],
        }
        if self.network_edits:
            out["network_edits"] = [
                {**asdict(e), "coords": [list(p) for p in e.coords]} for e in self.network_edits
            ]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scenario:
        """Inverse of :meth:`to_dict`."""
        if not isinstance(data, dict) or "name" not in data:
            raise InputDataError(msg("coverage.scenarios.scenario_not_object", data=repr(data)))
        return cls(
            name=str(data["name"]),
            edits=tuple(Edit.from_dict(e) for e in data.get("edits", [])),
            description=str(data.get("description", "")),
            network_edits=tuple(edits_from_config(list(data.get("network_edits") or []))),
        )

    def apply(self, baseline: CoverageResult, network: Network) -> ScenarioResult:
        """Apply this scenario's edits to ``baseline`` (see :func:`apply_edits`)."""
        return apply_edits(baseline, network, self.edits, name=self.name)


@dataclass(frozen=True, eq=False)
class ScenarioResult:
    """Coverage with a scenario's edits applied.

    Attributes
    ----------
    name
        Scenario name.
    baseline
        The original coverage result the edits apply to.
    edits
        All edits applied, in order.
    result
        The new coverage result (same shape as the baseline's).
    changed
        Category → ``"unchanged"``, ``"incremental"`` (additions only) or ``"recomputed"``.
    seconds
        Time taken to apply the edits.
    """

    name: str
    baseline: CoverageResult
    edits: tuple[Edit, ...]
    result: CoverageResult
    changed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def _find(facilities: gpd.GeoDataFrame, facility_id: str) -> pd.Series:
    hit = facilities.index[facilities["facility_id"].astype(str) == facility_id]
    if len(hit) == 0:
        sample = ", ".join(facilities["facility_id"].astype(str).head(5))
        raise InputDataError(
            msg(
                "coverage.scenarios.no_facility",
                facility=repr(facility_id),
                n=len(facilities),
                sample=sample,
            )
        )
    return facilities.loc[hit[0]]


def _state_from_edits(
    base: gpd.GeoDataFrame, edits: Sequence[Edit]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Apply edits to a list of facility records; baseline rows keep their order."""
    records: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    ids = base["facility_id"].astype(str).to_numpy()
    geoms = base.geometry.values
    cats = base["category"].astype(str).to_numpy()
    for i, fid in enumerate(ids):
        records[fid] = {"row": i, "geometry": geoms[i], "category": cats[i], "present": True}
        order.append(fid)
    n_new = 0
    for e in edits:
        if e.kind == "add":
            fid = e.facility_id
            if fid is None:
                n_new += 1
                fid = f"edit-{n_new}"
                while fid in records:
                    n_new += 1
                    fid = f"edit-{n_new}"
            rec = records.get(fid)
            if rec is not None and rec["present"]:
                raise DuplicateIdError(msg("coverage.scenarios.duplicate_id", facility=repr(fid)))
            new = {
                "row": rec["row"] if rec is not None else None,
                "geometry": shapely.Point(e.lon, e.lat),
                "category": e.category,
                "present": True,
                "name": e.name,
                "capacity": np.nan if e.capacity is None else e.capacity,
            }
            if rec is None:
                order.append(fid)
            records[fid] = new
        else:
            fid = str(e.facility_id)
            rec = records.get(fid)
            if rec is None or not rec["present"]:
                code = "coverage.scenarios.cannot_remove"
                if e.kind == "move":
                    code = "coverage.scenarios.cannot_move"
                raise InputDataError(msg(code, facility=repr(fid)))
            if e.kind == "remove":
                rec["present"] = False
            else:
                rec["geometry"] = shapely.Point(e.lon, e.lat)
    return [dict(records[f], facility_id=f) for f in order if records[f]["present"]], order


def _same_as_baseline(rec: dict[str, Any], base: dict[str, np.ndarray]) -> bool:
    """Whether a record is its baseline row, unchanged (``base``: arrays of the baseline)."""
    row = rec["row"]
    if row is None:
        return False
    if rec["category"] != base["category"][row]:
        return False
    if "name" in rec and rec["name"] != base["name"][row]:
        return False
    if "capacity" in rec:
        old, new = float(base["capacity"][row]), float(rec["capacity"])
        if not (old == new or (math.isnan(old) and math.isnan(new))):
            return False
    return bool(shapely.equals_exact(rec["geometry"], base["geometry"][row], tolerance=0.0))


def _concat_snaps(parts: list[Snap]) -> Snap:
    return Snap(
        edge=np.concatenate([p.edge for p in parts]),
        along_m=np.concatenate([p.along_m for p in parts]),
        offset_m=np.concatenate([p.offset_m for p in parts]),
        x=np.concatenate([p.x for p in parts]),
        y=np.concatenate([p.y for p in parts]),
    )


def apply_edits(
    baseline_result: CoverageResult | ScenarioResult,
    network: Network,
    edits: Iterable[Edit],
    *,
    name: str = "scenario",
) -> ScenarioResult:
    """Coverage after some edits, recomputing only what they can change.

    Parameters
    ----------
    baseline_result
        A coverage result (from :func:`coverage.analysis.analyse`) or an earlier
        :class:`ScenarioResult`, whose edits the new ones are appended to.
    network
        The network the baseline was computed on.
    edits
        Edits, applied in order.
    name
        Scenario name.

    Returns
    -------
    ScenarioResult
    """
    t0 = time.perf_counter()
    if isinstance(baseline_result, ScenarioResult):
        base = baseline_result.baseline
        all_edits = (*baseline_result.edits, *edits)
    else:
        base = baseline_result
        all_edits = tuple(edits)
    if base.crs and base.crs != network.crs:
        raise InputDataError(
            msg("coverage.scenarios.other_network", base_crs=base.crs, crs=network.crs)
        )
    if base.facility_snap is None or base.demand_snap is None:
        raise InputDataError(msg("coverage.scenarios.no_snaps"))
    edited = _edited_facilities(base, network, all_edits)
    dem, node_distance, node_source, changed = _recompute(base, network, edited)
    fac, f_snap = edited.facilities, edited.snap
    unchanged = all(v == "unchanged" for v in changed.values())
    if unchanged and len(fac) == len(base.facilities) and not edited.fresh:
        # Nothing changed (no edits, or edits that cancel): the baseline itself.
        result = base
    else:
        result = replace(
            base,
            demand=dem,
            summary=_merged_summary(base, dem, fac, f_snap, changed),
            facilities=fac,
            unsnapped=_unsnapped(base, fac, f_snap),
            node_distance=node_distance,
            node_source=node_source,
            facility_snap=f_snap,
        )
    seconds = time.perf_counter() - t0
    logger.info("scenario %s: %d edits in %.3f s (%s)", name, len(all_edits), seconds, changed)
    return ScenarioResult(
        name=name,
        baseline=base,
        edits=all_edits,
        result=result,
        changed=changed,
        seconds=seconds,
    )


@dataclass(frozen=True)
class _Edited:
    """The facilities after the edits.

    Attributes
    ----------
    facilities, snap
        The new table and its snap: the unchanged baseline rows first (by position), then the
        edited and new rows.
    n_kept
        Number of unchanged baseline rows.
    remap
        Baseline row → new row for the unchanged rows (-1 otherwise; one spare slot at the end).
    fresh
        Whether any row was edited or added.
    """

    facilities: gpd.GeoDataFrame
    snap: Snap
    n_kept: int
    remap: np.ndarray
    fresh: bool


def _edited_facilities(base: CoverageResult, network: Network, edits: Sequence[Edit]) -> _Edited:
    """The facilities after ``edits``: unchanged baseline rows kept with their snaps."""
    fac0 = base.facilities
    f_snap0 = base.facility_snap
    assert f_snap0 is not None
    recs, _ = _state_from_edits(fac0, edits)
    base_arrays = {
        "category": fac0["category"].astype(str).to_numpy(),
        "name": fac0["name"].astype(str).to_numpy(),
        "capacity": pd.to_numeric(fac0["capacity"], errors="coerce").to_numpy(dtype="float64")
        if "capacity" in fac0.columns
        else np.full(len(fac0), np.nan),
        "geometry": fac0.geometry.values,
    }
    same = [_same_as_baseline(r, base_arrays) for r in recs]
    old_rows = np.array([r["row"] if s else -1 for r, s in zip(recs, same, strict=True)])
    fresh = [r for r, s in zip(recs, same, strict=True) if not s]
    kept_rows = old_rows[old_rows >= 0]
    parts = []
    snaps = []
    if kept_rows.size:
        parts.append(fac0.iloc[kept_rows])
        snaps.append(f_snap0.subset(kept_rows))
    if fresh:
        new_fac = _fresh_frame(fresh, fac0)
        new_snap = snap_points(network, new_fac, tolerance_m=base.tolerance_m or None)
        new_fac["snapped"] = new_snap.ok
        new_fac["snap_distance_m"] = new_snap.offset_m
        parts.append(new_fac)
        snaps.append(new_snap)
    if parts:
        fac = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=WGS84)
    else:
        fac = fac0.iloc[:0].copy()
    f_snap = _concat_snaps(snaps) if snaps else f_snap0.subset(np.zeros(0, dtype="int64"))
    remap = np.full(len(fac0) + 1, -1, dtype="int64")
    remap[kept_rows] = np.arange(kept_rows.size)
    return _Edited(fac, f_snap, int(kept_rows.size), remap, bool(fresh))


def _fresh_frame(fresh: list[dict[str, Any]], fac0: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Edited and new facility rows (WGS-84); edited rows keep their other baseline values."""
    return gpd.GeoDataFrame(
        {
            "facility_id": [r["facility_id"] for r in fresh],
            "name": [
                r.get("name", str(fac0["name"].iloc[r["row"]]) if r["row"] is not None else "")
                for r in fresh
            ],
            "category": [r["category"] for r in fresh],
            "capacity": [
                r.get(
                    "capacity",
                    fac0["capacity"].iloc[r["row"]] if r["row"] is not None else np.nan,
                )
                for r in fresh
            ],
            "source": "edit",
        },
        geometry=[r["geometry"] for r in fresh],
        crs=WGS84,
    )


def _recompute(
    base: CoverageResult, network: Network, edited: _Edited
) -> tuple[gpd.GeoDataFrame, dict[str, np.ndarray], dict[str, np.ndarray], dict[str, str]]:
    """The demand columns and node searches of every category after the edits.

    Returns the demand, node distances and node sources per category, and per category
    ``"unchanged"``, ``"incremental"`` or ``"recomputed"``.
    """
    fac, f_snap, n_kept, remap = edited.facilities, edited.snap, edited.n_kept, edited.remap
    d_snap = base.demand_snap
    assert d_snap is not None
    dem = base.demand.copy()
    node_distance = dict(base.node_distance)
    node_source = dict(base.node_source)
    changed: dict[str, str] = {}
    fac_cat = fac["category"].astype(str).to_numpy()
    base_cat = base.facilities["category"].astype(str).to_numpy()
    for key in base.categories:
        rows = np.flatnonzero(fac_cat == key)
        kept = rows[rows < n_kept]
        added = rows[rows >= n_kept]
        n_base = int((base_cat == key).sum())
        if added.size == 0 and kept.size == n_base:
            changed[key] = "unchanged"
            ns = base.node_source[key]
            node_source[key] = np.where(ns >= 0, remap[np.maximum(ns, 0)], -1)
            continue
        sub = f_snap.subset(rows)
        if kept.size == n_base:
            nd, ns_local = _with_additions(base, network, edited, key, rows, added)
            changed[key] = "incremental"
        else:
            nd, ns_local = nearest_from(network, sub)
            changed[key] = "recomputed"
        dist, src = point_distance(network, nd, ns_local, d_snap, sources=sub)
        node_distance[key] = nd
        node_source[key] = (
            np.where(ns_local >= 0, rows[np.maximum(ns_local, 0)], -1) if rows.size else ns_local
        )
        cols = category_columns(key, base.criteria[key], rows, dist, src, fac, f_snap, d_snap)
        for col, values in cols.items():
            dem[col] = values
    return dem, node_distance, node_source, changed


def _with_additions(
    base: CoverageResult,
    network: Network,
    edited: _Edited,
    key: str,
    rows: np.ndarray,
    added: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Node distances and sources (indexes into ``rows``) when ``key`` only gains facilities.

    One search from the new facilities, merged with the baseline's.
    """
    local = np.full(len(edited.facilities) + 1, -1, dtype="int64")
    local[rows] = np.arange(rows.size)
    old_nd = base.node_distance[key]
    old_ns = base.node_source[key]
    old_local = np.where(old_ns >= 0, local[edited.remap[np.maximum(old_ns, 0)]], -1)
    finite = np.isfinite(old_nd)
    limit = float(old_nd.max()) if finite.all() else np.inf
    nd_add, ns_add = nearest_from(network, edited.snap.subset(added), limit_m=limit)
    better = nd_add < old_nd
    nd = np.where(better, nd_add, old_nd)
    ns_local = np.where(better, local[added[np.maximum(ns_add, 0)]], old_local)
    return nd, ns_local


def _merged_summary(
    base: CoverageResult,
    dem: gpd.GeoDataFrame,
    fac: gpd.GeoDataFrame,
    f_snap: Snap,
    changed: dict[str, str],
) -> pd.DataFrame:
    """The baseline summary with the rows of the changed categories computed again."""
    redo = {k: base.criteria[k] for k in base.categories if changed[k] != "unchanged"}
    summary = base.summary.copy()
    if not redo:
        return summary
    assert base.demand_snap is not None
    fresh_rows = summarise(dem, fac, redo, d_snap=base.demand_snap, f_snap=f_snap)
    keep_rows = summary[~summary["category"].isin(list(redo))]
    position = {c: i for i, c in enumerate(summary["category"])}
    merged = pd.concat([keep_rows, fresh_rows[summary.columns]], ignore_index=True)
    merged = merged.iloc[np.argsort(merged["category"].map(position).to_numpy())]
    return merged.reset_index(drop=True).astype(base.summary.dtypes.to_dict())


def _unsnapped(base: CoverageResult, fac: gpd.GeoDataFrame, f_snap: Snap) -> pd.DataFrame:
    """The baseline's unsnapped demand points and the facilities off the streets now."""
    unsnapped = base.unsnapped[base.unsnapped["kind"] == "demand"]
    far = ~f_snap.ok
    if not far.any():
        return unsnapped.reset_index(drop=True)
    return pd.concat(
        [
            unsnapped,
            pd.DataFrame(
                {
                    "kind": "facility",
                    "id": fac["facility_id"].astype(str).to_numpy()[far],
                    "distance_m": f_snap.offset_m[far],
                }
            ),
        ],
        ignore_index=True,
    )


def _as_result(item: CoverageResult | ScenarioResult) -> CoverageResult:
    return item.result if isinstance(item, ScenarioResult) else item


def compare(
    baseline: CoverageResult,
    scenarios: Sequence[ScenarioResult],
    *,
    categories: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Coverage before and after each scenario, per category.

    Parameters
    ----------
    baseline
        The baseline coverage result.
    scenarios
        Applied scenarios.
    categories
        Categories to report; default all of the baseline's.

    Returns
    -------
    pandas.DataFrame
        One row per scenario and category: ``scenario, category, name_zh, n_facilities_before,
        n_facilities_after, coverage_before, coverage_after, coverage_change,
        covered_population_before, covered_population_after, newly_covered_population,
        newly_lost_population, newly_covered_elderly, newly_lost_elderly, median_minutes_before,
        median_minutes_after``.
    """
    keys = list(categories or baseline.categories)
    pop = baseline.demand["population"].to_numpy(dtype="float64")
    eld = pd.to_numeric(baseline.demand["elderly"], errors="coerce").fillna(0.0).to_numpy()
    b_sum = baseline.summary.set_index("category")
    rows = []
    for sc in scenarios:
        res = _as_result(sc)
        s_sum = res.summary.set_index("category")
        for key in keys:
            before = baseline.demand[f"{key}_covered"].to_numpy(dtype=bool)
            after = res.demand[f"{key}_covered"].to_numpy(dtype=bool)
            gained, lost = after & ~before, before & ~after
            rows.append(
                {
                    "scenario": sc.name,
                    "category": key,
                    "name_zh": b_sum.loc[key, "name_zh"],
                    "n_facilities_before": int(b_sum.loc[key, "n_facilities"]),
                    "n_facilities_after": int(s_sum.loc[key, "n_facilities"]),
                    "coverage_before": float(b_sum.loc[key, "coverage_rate"]),
                    "coverage_after": float(s_sum.loc[key, "coverage_rate"]),
                    "coverage_change": float(s_sum.loc[key, "coverage_rate"])
                    - float(b_sum.loc[key, "coverage_rate"]),
                    "covered_population_before": float(pop[before].sum()),
                    "covered_population_after": float(pop[after].sum()),
                    "newly_covered_population": float(pop[gained].sum()),
                    "newly_lost_population": float(pop[lost].sum()),
                    "newly_covered_elderly": float(eld[gained].sum()),
                    "newly_lost_elderly": float(eld[lost].sum()),
                    "median_minutes_before": float(b_sum.loc[key, "median_minutes"]),
                    "median_minutes_after": float(s_sum.loc[key, "median_minutes"]),
                }
            )
    return pd.DataFrame(rows)


def change_areas(
    baseline: CoverageResult,
    scenarios: Sequence[ScenarioResult],
    *,
    categories: Sequence[str] | None = None,
    buffer_m: float | None = None,
) -> gpd.GeoDataFrame:
    """Where residents are newly covered or lost: unioned small buffers around their points.

    Parameters
    ----------
    baseline
        The baseline coverage result.
    scenarios
        Applied scenarios.
    categories
        Categories; default all of the baseline's.
    buffer_m
        Buffer radius; default ``settings.scenario_change_buffer_m``.

    Returns
    -------
    geopandas.GeoDataFrame
        WGS-84, one row per connected area: ``scenario, category, change`` ("gained" | "lost"),
        ``population, elderly, n_points, geometry``.
    """
    keys = list(categories or baseline.categories)
    r = float(settings.scenario_change_buffer_m if buffer_m is None else buffer_m)
    d_snap = baseline.demand_snap
    crs = baseline.crs
    if d_snap is None or not crs:
        raise InputDataError(msg("coverage.scenarios.change_areas_no_snaps"))
    pts = shapely.points(d_snap.x, d_snap.y)
    pop = baseline.demand["population"].to_numpy(dtype="float64")
    eld = pd.to_numeric(baseline.demand["elderly"], errors="coerce").fillna(0.0).to_numpy()
    out: list[dict[str, Any]] = []
    for sc in scenarios:
        res = _as_result(sc)
        for key in keys:
            before = baseline.demand[f"{key}_covered"].to_numpy(dtype=bool)
            after = res.demand[f"{key}_covered"].to_numpy(dtype=bool)
            for label, mask in (("gained", after & ~before), ("lost", before & ~after)):
                idx = np.flatnonzero(mask)
                if idx.size == 0:
                    continue
                union = shapely.union_all(shapely.buffer(pts[idx], r, quad_segs=4))
                parts = shapely.get_parts(union)
                tree = shapely.STRtree(parts)
                which = tree.query(pts[idx], predicate="within")
                part_of = np.full(idx.size, -1)
                part_of[which[0]] = which[1]
                for j, geom in enumerate(parts):
                    sel = idx[part_of == j]
                    out.append(
                        {
                            "scenario": sc.name,
                            "category": key,
                            "change": label,
                            "population": float(pop[sel].sum()),
                            "elderly": float(eld[sel].sum()),
                            "n_points": int(sel.size),
                            "geometry": geom,
                        }
                    )
    cols = ["scenario", "category", "change", "population", "elderly", "n_points"]
    if not out:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=WGS84)
    frame = gpd.GeoDataFrame(out, geometry="geometry", crs=crs)
    return frame.to_crs(WGS84)


def save_scenarios(scenarios: Sequence[Scenario], path: str | Path) -> Path:
    """Write scenarios to a JSON file (UTF-8, human-readable).

    Parameters
    ----------
    scenarios
        Scenarios to save.
    path
        Target file.

    Returns
    -------
    pathlib.Path
    """
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise DuplicateIdError(msg("coverage.scenarios.names_not_unique", names=names))
    payload = {"version": FILE_VERSION, "scenarios": [s.to_dict() for s in scenarios]}
    p = Path(path)
    p.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    return p


def load_scenarios(path: str | Path) -> list[Scenario]:
    """Read scenarios written by :func:`save_scenarios`.

    Parameters
    ----------
    path
        The JSON file.

    Returns
    -------
    list of Scenario
    """
    p = Path(path)
    try:
        payload = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputDataError(
            msg("coverage.scenarios.not_json", file=p.name, error=str(exc))
        ) from exc
    if not isinstance(payload, dict) or "scenarios" not in payload:
        raise InputDataError(msg("coverage.scenarios.no_scenarios", file=p.name))
    version = payload.get("version", FILE_VERSION)
    if version != FILE_VERSION:
        raise InputDataError(
            msg(
                "coverage.scenarios.bad_version",
                file=p.name,
                version=repr(version),
                supported=FILE_VERSION,
            )
        )
    return [Scenario.from_dict(s) for s in payload["scenarios"]]
