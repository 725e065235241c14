"""Project files: a whole study in one GeoPackage (``*.lcc.gpkg``) that opens exactly as saved.

Layers (GeoPackage is SQLite; GIS software opens every layer):

* ``lcc_nodes`` (points, the network's projected CRS) with ``node_id`` and the exact ``x``/``y``;
* ``lcc_edges`` (lines, same CRS) with ``u``, ``v``, ``length`` and the edge attributes;
* ``facilities``, ``demand`` and optional ``candidates``, ``boundary``, ``communities`` (WGS-84);
* ``lcc_project``: an attributes table of JSON values — the format version, the network's mode,
  direction and report, and whatever the caller keeps (parameters, scenarios, network edits,
  provenance).

The network is restored with :func:`geo.network.build_network` from the saved arrays (which are
already clean, so nothing is merged or dropped again), and every other layer with its column
types, so a study run from a project file gives the numbers of the run that saved it.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import InputDataError
from geo.messages import msg
from geo.network import Network, NetworkReport, build_network
from geo.safe_cells import gpkg_safe

logger = logging.getLogger(__name__)

__all__ = ["FORMAT_VERSION", "Project", "ProjectError", "open_project", "save_project"]

#: Version of the project file layout; files of another major version are refused by name.
FORMAT_VERSION = "1.0"
_META = "lcc_project"
_FRAMES = ("facilities", "demand", "candidates", "boundary", "communities")


class ProjectError(InputDataError):
    """A project file cannot be opened (not ours, damaged, or from an incompatible version)."""


@dataclass(frozen=True)
class Project:
    """What a project file holds."""

    network: Network
    facilities: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame | None = None
    boundary: gpd.GeoDataFrame | None = None
    communities: gpd.GeoDataFrame | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def _dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return {c: str(t) for c, t in frame.dtypes.items() if c != "geometry"}


def save_project(
    path: str | Path,
    *,
    network: Network,
    facilities: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write a project file (replacing ``path``; written beside it first, then renamed).

    Parameters
    ----------
    path
        The file to write (``*.lcc.gpkg`` by convention).
    network, facilities, demand, candidates, boundary, communities
        The study's layers.
    meta
        JSON-serialisable values to keep (parameters, scenarios, network edits, provenance).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial.gpkg")  # GDAL wants the .gpkg suffix
    tmp.unlink(missing_ok=True)
    nodes = gpd.GeoDataFrame(
        {"node_id": np.asarray(network.node_ids), "x": network.x, "y": network.y},
        geometry=shapely.points(network.x, network.y),
        crs=network.crs,
    )
    edges = gpd.GeoDataFrame(
        {"u": network.u, "v": network.v, "length": network.length, **network.edge_attrs},
        geometry=list(network.geometry),
        crs=network.crs,
    )
    layers: dict[str, gpd.GeoDataFrame | None] = {
        "lcc_nodes": nodes,
        "lcc_edges": edges,
        "facilities": facilities,
        "demand": demand,
        "candidates": candidates,
        "boundary": boundary,
        "communities": communities,
    }
    dtypes = {}
    for name, layer in layers.items():
        if layer is None:
            continue
        dtypes[name] = _dtypes(layer)
        gpkg_safe(layer).to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
    report = network.report
    body = {
        "format": "lcc-project",
        "version": FORMAT_VERSION,
        "saved": datetime.now().astimezone().isoformat(timespec="seconds"),
        "network": {
            "crs": network.crs,
            "mode": network.mode,
            "directed": bool(network.directed),
            "report": {k: getattr(report, k) for k in report.__dataclass_fields__},
        },
        "dtypes": dtypes,
        "meta": meta or {},
    }
    with sqlite3.connect(tmp) as con:
        con.execute(f"CREATE TABLE {_META} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        con.executemany(
            f"INSERT INTO {_META} VALUES (?, ?)",
            [(k, json.dumps(v, ensure_ascii=False, default=str)) for k, v in body.items()],
        )
        # Registered as an attributes table, so GIS software lists it too.
        con.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier) "
            f"VALUES ('{_META}', 'attributes', '{_META}')"
        )
    tmp.replace(path)
    logger.info("project saved: %s", path)
    return path


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
            rows = con.execute(f"SELECT key, value FROM {_META}").fetchall()
    except sqlite3.DatabaseError as exc:
        raise ProjectError(msg("study.project.not_sqlite", file=path.name, detail=exc)) from exc
    return {k: json.loads(v) for k, v in rows}


def open_project(path: str | Path) -> Project:
    """Open a project file.

    Raises
    ------
    ProjectError
        When the file is missing, not a project file, or from an incompatible version (the
        message names the version found).
    """
    path = Path(path)
    if not path.is_file():
        raise ProjectError(msg("study.project.not_found", path=path))
    body = _read_meta(path)
    version = str(body.get("version", "?"))
    if body.get("format") != "lcc-project":
        raise ProjectError(msg("study.project.no_marker", file=path.name))
    if version.split(".")[0] != FORMAT_VERSION.split(".")[0]:
        major = FORMAT_VERSION.split(".")[0]
        raise ProjectError(
            msg("study.project.version", file=path.name, version=version, major=major)
        )
    dtypes: dict[str, dict[str, str]] = body.get("dtypes", {})
    frames: dict[str, gpd.GeoDataFrame | None] = {}
    for name in ("lcc_nodes", "lcc_edges", *_FRAMES):
        if name not in dtypes:
            frames[name] = None
            continue
        try:
            layer = gpd.read_file(path, layer=name, engine="pyogrio")
        except Exception as exc:  # pyogrio raises several GDAL error types
            raise ProjectError(
                msg("study.project.layer_unreadable", file=path.name, layer=name, detail=exc)
            ) from exc
        frames[name] = _restore_types(layer, dtypes[name])
    net_meta = body["network"]
    nodes, edges = frames["lcc_nodes"], frames["lcc_edges"]
    if nodes is None or edges is None:
        raise ProjectError(msg("study.project.no_network", file=path.name))
    attrs = {
        c: edges[c].to_numpy()
        for c in edges.columns
        if c not in ("u", "v", "length", edges.geometry.name)
    }
    network = build_network(
        x=nodes["x"].to_numpy(dtype="float64"),
        y=nodes["y"].to_numpy(dtype="float64"),
        u=edges["u"].to_numpy(dtype="int64"),
        v=edges["v"].to_numpy(dtype="int64"),
        crs=net_meta["crs"],
        mode=net_meta["mode"],
        directed=bool(net_meta["directed"]),
        length=edges["length"].to_numpy(dtype="float64"),
        geometry=edges.geometry.to_numpy(),
        node_ids=nodes["node_id"].to_numpy(),
        edge_attrs=attrs,
        keep_largest=False,
    )
    saved_report = net_meta.get("report") or {}
    fields = NetworkReport.__dataclass_fields__
    network = network.with_report(
        **{k: (tuple(v) if k == "notes" else v) for k, v in saved_report.items() if k in fields}
    )
    facilities, demand = frames["facilities"], frames["demand"]
    if facilities is None or demand is None:
        raise ProjectError(msg("study.project.no_inputs", file=path.name))
    return Project(
        network=network,
        facilities=facilities,
        demand=demand,
        candidates=frames["candidates"],
        boundary=frames["boundary"],
        communities=frames["communities"],
        meta=dict(body.get("meta", {})),
    )


def _restore_types(layer: gpd.GeoDataFrame, dtypes: dict[str, str]) -> gpd.GeoDataFrame:
    out = layer.copy()
    for col, dtype in dtypes.items():
        if col not in out.columns:
            continue
        if dtype == "bool":
            out[col] = out[col].astype(bool)
        elif dtype == "object":
            out[col] = out[col].astype(object).where(out[col].notna(), None)
        else:
            try:
                out[col] = out[col].astype(dtype)
            except (TypeError, ValueError):
                logger.debug("column %s kept as %s (saved as %s)", col, out[col].dtype, dtype)
    return out
