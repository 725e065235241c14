"""Run-level services around a configuration: project files, database sinks, point queries.

``cli.py`` and the app call these; they compose :mod:`study.pipeline` (loading and the whole
run) with :mod:`study.project`, :mod:`geo.postgis` and :mod:`coverage.point_query`.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.errors import ConfigError
from geo.messages import msg
from geo.taxonomy import Criterion, categories
from study.pipeline import RunConfig, RunResult, _load_inputs, _Timer
from study.project import Project, open_project, save_project

logger = logging.getLogger(__name__)

__all__ = ["project_config", "query_config", "save_run_project", "write_sink"]


def save_run_project(result: RunResult, path: str | Path) -> Path:
    """Save a run's inputs and parameters as a project file that reruns to the same numbers.

    The network saved is the one the run used (network edits already applied; the edits are
    kept in the metadata for the record).
    """
    cfg = result.config
    if result.inputs is None:
        raise ConfigError(msg("study.runs.no_inputs"))
    demand, facilities = result.inputs
    candidates = None
    if result.siting is not None and cfg.siting and cfg.siting.get("candidates") != "generate":
        candidates = result.siting.candidates
    meta = {
        "title": cfg.title,
        "label": result.label,
        "synthetic": result.synthetic,
        "attribution": result.attribution,
        "criteria": {k: dataclasses.asdict(c) for k, c in cfg.criteria.items()},
        "analysis": cfg.analysis,
        "siting": cfg.siting,
        "network_edits": [dataclasses.asdict(e) for e in cfg.network_edits],
        "provenance": {
            "config_folder": str(cfg.base),
            "demo": cfg.demo,
            "network": result.network.report.summary("en"),
        },
    }
    return save_project(
        path,
        network=result.network,
        facilities=facilities,
        demand=demand,
        candidates=candidates,
        meta=meta,
    )


def project_config(path: str | Path) -> RunConfig:
    """A run configuration that reads a project file's layers and parameters."""
    path = Path(path)
    proj: Project = open_project(path)
    meta = proj.meta
    cfg = RunConfig(base=path.resolve().parent, title=str(meta.get("title", "")))
    cfg.criteria = {k: Criterion(**v) for k, v in (meta.get("criteria") or {}).items()}
    cfg.analysis = dict(meta.get("analysis") or {})
    cfg.siting = dict(meta["siting"]) if meta.get("siting") else None
    cfg.project = proj
    return cfg


def write_sink(result: RunResult, url: str) -> list[str]:
    """Write a run's layers as PostGIS tables (replacing the previous run's, in one transaction)."""
    from geo.postgis import write_postgis_layers

    cov = result.coverage
    layers: dict[str, pd.DataFrame | None] = {
        "demand": cov.demand,
        "facilities": cov.facilities,
        "service_areas": result.service_areas,
        "gaps": result.gaps,
        "sites": result.siting.sites if result.siting is not None else None,
        "summary": cov.summary,
        "communities": result.community_table,
    }
    return write_postgis_layers(url, layers)


def query_config(cfg: RunConfig, *, lon: float, lat: float, crs: str = "wgs84") -> Any:
    """Load a configuration's data, analyse it and answer a point query (see query_point)."""
    from coverage.analysis import analyse
    from coverage.point_query import query_point

    network, demand, facilities, *_ = _load_inputs(cfg, _Timer(None))
    present = set(facilities["category"].astype(str))
    cats = cfg.analysis.get("categories") or [k for k in categories() if k in present]
    result = analyse(
        network,
        demand,
        facilities,
        categories=cats,
        criteria={k: v for k, v in cfg.criteria.items() if k in cats},
        tolerance_m=cfg.analysis.get("snap_tolerance_m"),
    )
    return query_point(network, result, lon=lon, lat=lat, crs=crs)


def query_table(answer: Any, *, lang: str = "zh") -> pd.DataFrame:
    """The point query as a plain table for the terminal or a CSV."""
    table: gpd.GeoDataFrame = answer.table
    name = "name_zh" if lang == "zh" else "name_en"
    out = pd.DataFrame(
        {
            "category": table["category"],
            "name": table[name],
            "nearest": table["facility_name"].fillna("—"),
            "distance_m": table["distance_m"].round(0),
            "minutes": table["minutes"].round(1),
            "criterion": table["criterion"],
            "covered": table["covered"],
        }
    )
    return out
