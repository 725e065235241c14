"""Headless runs: a TOML configuration in, summary tables and a GeoPackage out.

``python cli.py run CONFIG.toml --out DIR`` and ``python cli.py run --demo --out DIR`` call
:func:`load_config`, :func:`run` and :func:`write_outputs`. Every key is documented in the README
("Config reference"). Relative paths in a configuration are relative to the file's folder.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
import tomllib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo import settings
from geo.columns import ColumnMapping
from geo.errors import ConfigError, InputDataError, UsageError
from geo.messages import Message, msg
from geo.safe_cells import gpkg_safe, write_csv
from geo.taxonomy import Criterion, categories, get_category
from study import service
from study.model import Study, demo_study, frame_token, network_token
from study.options import CriteriaChoice, SitingParams

logger = logging.getLogger(__name__)

ProgressFn = Callable[[str, float], None]

#: Service-area kinds a run writes unless ``[analysis] facility_areas = true``.
KINDS_RUN = ("dissolved", "nearest")
#: Categories whose service areas are built at the same time.
AREA_THREADS = 2


@dataclass
class RunConfig:
    """A validated run configuration (see the README's config reference)."""

    base: Path
    title: str = ""
    demo: str | None = None
    network: dict[str, Any] = field(default_factory=dict)
    demand: dict[str, Any] = field(default_factory=dict)
    facilities: list[dict[str, Any]] = field(default_factory=list)
    criteria: dict[str, Criterion] = field(default_factory=dict)
    analysis: dict[str, Any] = field(default_factory=dict)
    siting: dict[str, Any] | None = None
    network_edits: list[Any] = field(default_factory=list)
    database: dict[str, Any] | None = None
    batch: dict[str, Any] | None = None
    evaluation: dict[str, Any] = field(default_factory=dict)
    #: ``[output]``: ``format`` of the map layers (``"gpkg"`` or ``"parquet"``).
    output: dict[str, Any] = field(default_factory=dict)
    #: A project file's layers (``study.project.Project``) when the run reads one.
    project: Any = None

    def path(self, value: str) -> Path:
        """Resolve a path from the configuration relative to its file."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.base / p)

    def source(self, entry: dict[str, Any]) -> Any:
        """What a ``[demand]`` or ``[[facilities]]`` entry reads.

        A file path, a database URL, or the rows of its ``sql`` query against
        ``[database] url``.
        """
        from geo.postgis import is_database_url, read_postgis_layer

        if entry.get("sql"):
            assert self.database is not None  # the schema requires [database] for sql
            return read_postgis_layer(self.database["url"], sql=entry["sql"])
        value = entry["file"]
        return value if is_database_url(value) else self.path(value)


def parse_config(raw: dict[str, Any], *, base: Path, where: str = "config") -> RunConfig:
    """Validate a configuration dictionary (as read from TOML) before any work.

    The schema is :class:`study.config.ConfigFile`; every problem is reported at once, each
    naming its key path, and files the configuration names must exist.

    Parameters
    ----------
    raw
        The TOML content.
    base
        Folder that relative paths are resolved against.
    where
        Name of the configuration for messages (normally the file path).

    Returns
    -------
    RunConfig

    Raises
    ------
    ConfigError
        With every problem found, separated by "; ".
    """
    from study.config import validate_config

    model, problems = validate_config(raw)
    if model is None:
        raise ConfigError(_problems(where, problems))
    cfg = RunConfig(base=base, title=model.title, demo=model.demo_name)
    cfg.network = model.network.model_dump(exclude_none=True)
    cfg.demand = model.demand.model_dump(exclude_none=True)
    cfg.facilities = [fac.model_dump(exclude_none=True) for fac in model.facilities]
    cfg.analysis = model.analysis.model_dump(exclude_none=True)
    for key, over in model.criteria.items():
        base_crit = get_category(key).criterion
        try:
            cfg.criteria[key] = base_crit.with_overrides(**over.model_dump(exclude_none=True))
        except ConfigError as exc:
            problems.append(msg("study.pipeline.criteria_problem", key=key, problem=exc))
    if model.siting is not None:
        sit = model.siting.model_dump(exclude_none=True)
        if sit["model"] == "lscp":
            sit.setdefault("target", 0.95)
        else:
            sit.setdefault("k", 3)
        cfg.siting = sit
    from geo.network_edits import edits_from_config

    cfg.network_edits = edits_from_config(model.network_edits)
    cfg.database = model.database.model_dump() if model.database else None
    cfg.batch = model.batch.model_dump(exclude_none=True) if model.batch else None
    cfg.evaluation = model.evaluation.model_dump(exclude_none=True) if model.evaluation else {}
    cfg.output = model.output.model_dump(exclude_none=True)
    problems += _missing_files(cfg)
    if problems:
        raise ConfigError(_problems(where, problems))
    return cfg


def _problems(where: str, problems: list[str]) -> str:
    if len(problems) == 1:
        return msg("study.pipeline.config_problem", where=where, problem=problems[0])
    # Messages among them render in the reader's language (joined per language); pydantic's
    # problems are English text.
    listed = any(isinstance(p, Message) for p in problems)
    joined: list[str] | str = problems if listed else "; ".join(problems)
    return msg("study.pipeline.config_problems", where=where, n=len(problems), problems=joined)


def _missing_files(cfg: RunConfig) -> list[str]:
    """Files the configuration names that do not exist, each named by its key."""
    from geo.postgis import is_database_url

    paths: list[tuple[str, str]] = []
    for key in ("file", "study_area"):
        if key in cfg.network:
            paths.append((f"[network] {key}", cfg.network[key]))
    if "file" in cfg.demand and cfg.demand.get("type", "table") in ("table", "raster"):
        paths.append(("[demand] file", cfg.demand["file"]))
    if "within" in cfg.demand:
        paths.append(("[demand] within", cfg.demand["within"]))
    if cfg.batch:
        paths.append(("[batch] districts", cfg.batch["districts"]))
    several = len(cfg.facilities) > 1
    for i, fac in enumerate(cfg.facilities, start=1):
        if "file" in fac and not fac.get("osm"):
            paths.append((f"[[facilities]]{f' #{i}' if several else ''} file", fac["file"]))
    if cfg.siting and cfg.siting["candidates"] != "generate":
        paths.append(("[siting] candidates", cfg.siting["candidates"]))
    return [
        msg("study.pipeline.file_not_found", key=key, path=str(cfg.path(value)))
        for key, value in paths
        if not is_database_url(value) and not cfg.path(value).exists()
    ]


def load_config(path: str | Path) -> RunConfig:
    """Read and validate a TOML configuration file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(msg("study.pipeline.config_not_found", path=str(path)))
    try:
        # utf-8-sig: Windows editors save a byte-order mark that TOML does not allow.
        raw = tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(msg("study.pipeline.config_not_toml", path=path, detail=exc)) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            msg("study.pipeline.config_not_utf8", path=path, detail=exc.reason)
        ) from exc
    return parse_config(raw, base=path.resolve().parent, where=str(path))


def demo_config(name: str = "synthetic", *, siting: bool = True) -> RunConfig:
    """The configuration of the embedded demo (optionally with a siting run)."""
    raw: dict[str, Any] = {"demo": name, "title": ""}
    if siting:
        raw["siting"] = {"category": "elderly_canteen", "model": "mclp", "k": 3}
    return parse_config(raw, base=settings.project_root, where=f"demo:{name}")


@dataclass
class RunResult:
    """Everything a run produced."""

    config: RunConfig
    network: Any
    coverage: Any
    service_areas: gpd.GeoDataFrame | None
    gaps: gpd.GeoDataFrame | None
    completeness: pd.DataFrame | None
    community_table: pd.DataFrame | None
    siting: Any
    validation: list[Any]
    label: str
    synthetic: bool
    attribution: str
    timings: dict[str, float]
    #: The demand and facilities as loaded (before any result column), for project files.
    inputs: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame] | None = None
    #: The living-circle evaluation: ``tiers``, ``supply``, ``compliance`` (per community),
    #: ``compliance_summary`` and ``least_served`` tables.
    evaluation: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: Per facility file whose crs was not declared: declared/used/reason (run.json "datum").
    datum: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The study the run analysed (inputs, provenance and cache tokens).
    study: Study | None = None


class _Timer:
    """Logs each step as it starts and records how long each one took (seconds)."""

    def __init__(self, progress: ProgressFn | None) -> None:
        self.progress = progress
        self.t0 = time.perf_counter()
        self.timings: dict[str, float] = {}
        self._current: str | None = None
        self._since = self.t0

    def step(self, name: str, fraction: float) -> None:
        now = time.perf_counter()
        if self._current is not None:
            self.timings[self._current] = now - self._since
        # run.json keeps its bilingual step names ("载入路网 / loading network").
        key = f"{name.text('zh')} / {name}" if isinstance(name, Message) else name
        self._current, self._since = key, now
        logger.info("[%6.1fs] %s", now - self.t0, name)
        if self.progress:
            self.progress(name, fraction)

    def total(self) -> float:
        """Seconds since the run started."""
        return time.perf_counter() - self.t0


def _edited(
    network: Any, cfg: RunConfig, timer: _Timer, provenance: dict[str, Any] | None = None
) -> Any:
    """The network with the configuration's ``[[network_edits]]`` applied (in order)."""
    if not cfg.network_edits:
        return network
    from geo.network_edits import apply_network_edits

    timer.step(msg("study.pipeline.step_network_edits"), 0.1)
    edited, report = apply_network_edits(network, cfg.network_edits)
    if provenance is not None:
        provenance["network_edits"] = report
    for row in report.itertuples():
        logger.info(
            "network edit #%d %s %s: %s (%.0f m)",
            row.edit,
            row.action,
            row.name,
            "applied" if row.applied else "not for this mode",
            row.length_m,
        )
    return edited


def _within(demand: gpd.GeoDataFrame, cfg: RunConfig) -> gpd.GeoDataFrame:
    """Demand points inside ``[demand] within`` (a district), when given."""
    if "within" not in cfg.demand:
        return demand
    from geo.facilities import study_area_polygon

    path = cfg.path(cfg.demand["within"])
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several GDAL error types
        raise ConfigError(
            msg("study.pipeline.within_unreadable", file=path.name, detail=exc)
        ) from exc
    area = study_area_polygon(frame, label=f"[demand] within ({path.name})")
    inside = demand.geometry.within(area) | demand.geometry.touches(area)
    logger.info("[demand] within: %d of %d demand points inside", int(inside.sum()), len(demand))
    return demand[inside.to_numpy()].reset_index(drop=True)


def _load_inputs(
    cfg: RunConfig,
    timer: _Timer,
    *,
    datums: dict[str, dict[str, Any]] | None = None,
    provenance: dict[str, Any] | None = None,
) -> tuple[Any, Any, Any, list[Any], str, bool, str]:
    validation: list[Any] = []
    if cfg.project is not None:
        proj = cfg.project
        timer.step(msg("study.pipeline.step_project"), 0.05)
        meta = proj.meta
        return (
            proj.network,
            proj.demand,
            proj.facilities,
            validation,
            str(meta.get("label", "")),
            bool(meta.get("synthetic", False)),
            str(meta.get("attribution", "")),
        )
    if cfg.demo:
        from study.demo import load_demo

        timer.step(msg("study.pipeline.step_demo", demo=cfg.demo), 0.05)
        demo = load_demo(cfg.demo)
        label = demo.label_zh if cfg.demo else ""
        return (
            _edited(demo.network, cfg, timer, provenance),
            demo.demand,
            demo.facilities,
            validation,
            label,
            demo.synthetic,
            demo.attribution,
        )
    from geo.roads import load_network_bbox, load_network_file, load_network_place

    timer.step(msg("study.pipeline.step_network"), 0.05)
    net_cfg = cfg.network
    study_area = None
    if "study_area" in net_cfg:
        from geo.roads import read_study_area

        study_area = read_study_area(cfg.path(net_cfg["study_area"]))
    options: dict[str, Any] = {
        "mode": net_cfg["mode"],
        "study_area": study_area,
        "keep_largest": net_cfg.get("keep_largest"),
    }
    # Each key has its own loader: a [network] file is never sent to the geocoder.
    if "file" in net_cfg:
        source: Any = cfg.path(net_cfg["file"])
        network = load_network_file(source, **options)
    elif "place" in net_cfg:
        source = str(net_cfg["place"])
        network = load_network_place(source, **options)
    else:
        west, south, east, north = (float(v) for v in net_cfg["bbox"])
        source = (west, south, east, north)
        network = load_network_bbox(source, **options)
    network = _edited(network, cfg, timer, provenance)
    timer.step(msg("study.pipeline.step_facilities"), 0.15)
    frames = []
    for fac in cfg.facilities:
        if fac.get("osm"):
            from geo.osm_features import facilities_from_osm

            cats = [fac["category"]] if "category" in fac else None
            frames.append(facilities_from_osm(source, categories=cats, study_area=study_area))
            continue
        from geo.facilities import load_facilities

        crs = fac.get("crs")
        if crs is None:
            crs = _detect_facility_datum(cfg, fac, network, datums)
        gdf, report = load_facilities(
            cfg.source(fac),
            columns=_facility_columns(fac),
            sheet=fac.get("sheet"),
            category=fac.get("category"),
            crs=crs,
            study_area=study_area,
            network=network,
        )
        validation.append(report)
        frames.append(gdf)
    facilities = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326)
    if facilities["facility_id"].duplicated().any():
        # Ids are unique within a file; make them unique across files.
        facilities["facility_id"] = [
            f"{i}:{fid}" for i, fid in enumerate(facilities["facility_id"], start=1)
        ]
    timer.step(msg("study.pipeline.step_demand"), 0.25)
    dem = cfg.demand
    if dem["type"] == "table":
        from geo.demand import demand_from_table

        demand, report = demand_from_table(
            cfg.source(dem),
            columns=ColumnMapping(
                population=dem.get("population"),
                elderly=dem.get("elderly"),
                community=dem.get("community"),
                lon=dem.get("lon"),
                lat=dem.get("lat"),
            ),
            crs=dem["crs"],
            sheet=dem.get("sheet"),
        )
        validation.append(report)
    elif dem["type"] == "raster":
        from geo.raster import demand_from_raster

        homes = None
        if dem.get("buildings"):
            from geo.demand import classify_buildings
            from geo.osm_features import buildings_from_osm, land_areas_from_osm

            # Cells are spread over homes only (the same rules as buildings-based demand).
            footprints = buildings_from_osm(source, study_area=study_area)
            verdict = classify_buildings(
                footprints,
                areas=land_areas_from_osm(source, study_area=study_area),
                residential_only=dem.get("residential_only"),
                include_building=dem.get("include_building") or (),
                exclude_building=dem.get("exclude_building") or (),
                yes_weight=dem.get("yes_weight"),
            )
            homes = footprints[verdict["weight"].to_numpy() > 0]
        demand, report = demand_from_raster(
            cfg.path(dem["file"]), buildings=homes, study_area=study_area
        )
        validation.append(report)
    elif dem["type"] == "buildings":
        from geo.demand import demand_from_buildings
        from geo.osm_features import buildings_from_osm, land_areas_from_osm

        buildings = buildings_from_osm(source, study_area=study_area)
        demand, report = demand_from_buildings(
            buildings,
            total_population=float(dem["total_population"]),
            residential_only=dem.get("residential_only"),
            include_building=dem.get("include_building", ()),
            exclude_building=dem.get("exclude_building", ()),
            yes_weight=dem.get("yes_weight"),
            areas=land_areas_from_osm(source, study_area=study_area),
        )
        validation.append(report)
    else:
        from geo.demand import demand_grid

        area = study_area
        if area is None:
            area = (
                gpd.GeoSeries([network.edges_gdf().union_all().convex_hull], crs=network.crs)
                .to_crs(4326)
                .iloc[0]
            )
        demand, report = demand_grid(area, total_population=float(dem["total_population"]))
        validation.append(report)
    demand = _within(demand, cfg)
    for rep in validation:
        # The terminal shows what the app's validation box would: a planner runs this too.
        for text in rep.warnings:
            logger.warning("%s: %s", rep.source, text)
        if getattr(rep, "suggestion", None):
            logger.warning("%s: %s", rep.source, rep.suggestion)
    return network, demand, facilities, validation, cfg.title, False, "© OpenStreetMap contributors"


def study_from_config(cfg: RunConfig, *, progress: ProgressFn | None = None) -> Study:
    """Load the study a configuration describes (network, edits, facilities, demand).

    Parameters
    ----------
    cfg
        A validated configuration.
    progress
        Optional callback ``(step, fraction)``.

    Returns
    -------
    Study
    """
    return _study_from_config(cfg, _Timer(progress))


def _study_from_config(cfg: RunConfig, timer: _Timer) -> Study:
    datums: dict[str, dict[str, Any]] = {}
    provenance: dict[str, Any] = {}
    network, demand, facilities, validation, label, synthetic, attribution = _load_inputs(
        cfg, timer, datums=datums, provenance=provenance
    )
    boundary = communities = water = None
    extra: dict[str, Any] = {}
    label_en = ""
    if cfg.demo:
        demo = demo_study(cfg.demo)
        boundary, communities, water = demo.boundary, demo.communities, demo.water
        extra, label_en = dict(demo.extra), demo.label_en
    sources = []
    if cfg.demo:
        sources.append(f"demo:{cfg.demo}")
    else:
        sources += [Path(str(f["file"])).name for f in cfg.facilities if f.get("file")]
        if cfg.demand.get("file"):
            sources.append(Path(str(cfg.demand["file"])).name)
    return Study(
        label=label,
        label_en=label_en,
        network=network,
        facilities=facilities,
        demand=demand,
        boundary=boundary,
        communities=communities,
        synthetic=bool(synthetic),
        attribution=str(attribution or ""),
        parts=(
            ("network", network_token(network)),
            ("facilities", frame_token(facilities)),
            ("demand", frame_token(demand)),
        ),
        sources=tuple(sources),
        water=water,
        extra=extra,
        criteria=dict(cfg.criteria),
        validation=tuple(validation),
        datums=datums,
        network_edits=provenance.get("network_edits"),
    )


def _facility_columns(fac: dict[str, Any]) -> ColumnMapping:
    """The column choices of a ``[[facilities]]`` entry (config keys → loader roles)."""
    return ColumnMapping(
        name=fac.get("name"),
        lon=fac.get("lon"),
        lat=fac.get("lat"),
        coord=fac.get("coords"),
        wkt=fac.get("wkt"),
        category=fac.get("category_column"),
        capacity=fac.get("capacity"),
        id=fac.get("id"),
    )


def _detect_facility_datum(
    cfg: RunConfig, fac: dict[str, Any], network: Any, datums: dict[str, dict[str, Any]] | None
) -> str:
    """The datum of a facility file whose crs was not declared, from the street-network fit."""
    from geo.facilities import detect_datum, load_facilities

    # Read as WGS-84 without conversion: the points are then the raw coordinates.
    probe, _ = load_facilities(
        cfg.source(fac),
        columns=_facility_columns(fac),
        sheet=fac.get("sheet"),
        category=fac.get("category"),
        crs="wgs84",
    )
    choice = detect_datum(probe, network)
    name = Path(str(fac["file"])).name if "file" in fac else "[[facilities]] sql"
    # A warning either way: the user should declare the crs.
    logger.warning("%s: %s", name, choice.reason)
    if datums is not None:
        datums[name] = choice.as_dict()
    return choice.used


def _check_result(result: Any, demand_label: str) -> None:
    """Log what was not counted and which categories are invalid (the CLI decides the exit)."""
    summary = result.summary
    if len(summary):
        share = float(summary["off_network_share"].iloc[0])
        if share > settings.off_network_warn_share:
            logger.warning(
                "%s: %.1f %% of residents (%s) are farther than %g m from any street and count "
                "as not covered; coverage among residents with a street is shown as "
                "coverage_rate_reachable (demand points with snapped = 0 in results.gpkg)",
                demand_label,
                100 * share,
                f"{float(summary['off_network_population'].iloc[0]):,.0f}",
                result.tolerance_m,
            )
    for row in summary.itertuples():
        if str(row.status) != "ok":
            logger.error("%s: %s", row.category, row.status)


def run(cfg: RunConfig, *, progress: ProgressFn | None = None) -> RunResult:
    """Run the whole analysis of a configuration.

    Parameters
    ----------
    cfg
        A validated configuration.
    progress
        Optional callback ``(step, fraction)``.

    Returns
    -------
    RunResult
    """
    timer = _Timer(progress)
    study = _study_from_config(cfg, timer)
    network, demand, facilities = study.network, study.demand, study.facilities
    validation = list(study.validation)
    ana = cfg.analysis
    cats = ana.get("categories") or [k for k in categories() if (facilities["category"] == k).any()]
    if not cats:
        raise ConfigError(msg("study.pipeline.no_facilities"))
    choice = CriteriaChoice(
        categories=tuple(cats),
        overrides=tuple((k, v) for k, v in cfg.criteria.items() if k in cats),
    )
    timer.step(msg("study.pipeline.step_coverage"), 0.35)
    demand_label = (
        f"[demand] {Path(str(cfg.demand['file'])).name}"
        if cfg.demand.get("file") and not cfg.demo
        else "[demand]"
    )
    try:
        result = service.analyse(
            study,
            choice,
            tolerance_m=ana.get("snap_tolerance_m"),
            engine=ana.get("search_engine"),
        )
    except InputDataError as exc:
        # Name the file: the core only knows "demand".
        raise type(exc)(f"{demand_label}: {exc}") from exc
    _check_result(result, demand_label)
    areas = None
    if ana.get("service_areas", True):
        timer.step(msg("study.pipeline.step_service_areas"), 0.55)
        areas = _service_areas(study, result, cats, ana)
    timer.step(msg("study.pipeline.step_gaps"), 0.7)
    gaps = gpd.GeoDataFrame(
        pd.concat([service.gaps(result, category=k) for k in cats], ignore_index=True), crs=4326
    )
    timer.step(msg("study.pipeline.step_completeness"), 0.8)
    per_point, per_community = service.completeness(result, choice)
    timer.step(msg("study.pipeline.step_evaluation"), 0.82)
    evaluation = _evaluation(result, network, cfg)
    # communities.csv carries the evaluation too; the reports keep the compact table.
    evaluation["communities"] = _with_evaluation(per_community, evaluation)
    siting = None
    if cfg.siting:
        params = siting_params(cfg)
        timer.step(msg("study.pipeline.step_siting", model=params.model), 0.85)
        candidates: Any = None
        if cfg.project is not None and cfg.project.candidates is not None:
            candidates = cfg.project.candidates  # the candidates the saved run used
        elif cfg.siting["candidates"] != "generate":
            from geo.facilities import load_facilities

            candidates, report = load_facilities(
                cfg.path(cfg.siting["candidates"]), category=params.category, crs="wgs84"
            )
            validation.append(report)
        siting = service.suggest_sites(study, result, params, candidates=candidates)
    timer.step(msg("study.pipeline.step_done"), 1.0)
    return RunResult(
        config=cfg,
        network=network,
        coverage=result,
        service_areas=areas,
        gaps=gaps,
        completeness=per_point,
        community_table=per_community,
        siting=siting,
        validation=validation,
        label=study.label,
        synthetic=study.synthetic,
        attribution=study.attribution,
        timings=timer.timings,
        inputs=(demand, facilities),
        evaluation=evaluation,
        datum=dict(study.datums),
        study=study,
    )


def _service_areas(
    study: Study, result: Any, cats: list[str], ana: dict[str, Any]
) -> gpd.GeoDataFrame:
    """Dissolved and nearest-facility areas of every category (per facility only when asked).

    Each facility's own area costs one search and one polygon per facility and threshold, and
    the maps draw the dissolved ones, so ``[analysis] facility_areas = true`` asks for them.
    """
    rings = ana.get("rings_minutes")
    kinds = ("facility", "dissolved", "nearest") if ana.get("facility_areas") else KINDS_RUN

    def one(key: str) -> gpd.GeoDataFrame:
        crit = result.criteria[key]
        thresholds = [crit.threshold_m]
        if rings:
            thresholds = sorted({float(m) * 60 * crit.speed for m in rings} | {crit.threshold_m})
        return service.service_areas(
            study, result, category=key, thresholds_m=thresholds, kinds=kinds
        )

    # Two categories at a time: one category's dissolved union (one long GEOS call) overlaps
    # with the other's per-facility unions, so both cores stay busy. Order is kept.
    workers = max(1, min(AREA_THREADS, len(cats), os.cpu_count() or 1))
    if workers == 1:
        frames = [one(key) for key in cats]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            frames = list(pool.map(one, cats))
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326)


def siting_params(cfg: RunConfig) -> SitingParams:
    """The ``[siting]`` table of a configuration as :class:`~study.options.SitingParams`."""
    sit = cfg.siting
    if not sit:
        raise ConfigError(msg("study.pipeline.no_siting"))
    return SitingParams(
        category=sit["category"],
        model=sit["model"],
        k=sit.get("k"),
        target=sit.get("target"),
        candidates="generate" if sit["candidates"] == "generate" else "upload",
        weight=sit.get("weight", "population"),
        time_limit_s=sit.get("time_limit_s"),
        spacing_m=sit.get("spacing_m"),
    )


def _evaluation(result: Any, network: Any, cfg: RunConfig) -> dict[str, pd.DataFrame]:
    """Tiers, basic/quality compliance and supply per 1,000 residents (GB 50180, TD/T 1062)."""
    from coverage.compliance import compliance
    from coverage.supply import supply_table
    from coverage.tiers import tier_by_community, tier_table, tier_wide

    ev = cfg.evaluation
    common: dict[str, Any] = {"tiers": ev.get("tiers"), "overrides": ev.get("overrides")}
    comp = compliance(
        result, items=ev.get("items"), min_share=float(ev.get("min_share", 1.0)), **common
    )
    out = {
        "tiers": tier_table(result, **common),
        "supply": supply_table(network, result, **common),
        "compliance": comp.per_group,
        "compliance_summary": comp.summary,
        "least_served": comp.least_served,
    }
    if result.demand["community"].astype(str).str.len().gt(0).any():
        out["tiers_by_community"] = tier_wide(tier_by_community(result, **common))
    return out


def _with_evaluation(per_community: pd.DataFrame, ev: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """communities.csv: completeness plus 达标, the basic/quality items and the tier rates."""
    if per_community is None or "community" not in per_community.columns:
        return per_community
    out = per_community
    comp = ev.get("compliance")
    if comp is not None and "community" in comp.columns:
        keep = [
            "community",
            "compliant",
            "basic_reached",
            "basic_missing",
            "quality_reached",
            "quality_missing",
            "basic_score",
            "quality_score",
        ]
        out = out.merge(comp[[c for c in keep if c in comp.columns]], on="community", how="left")
    wide = ev.get("tiers_by_community")
    if wide is not None and "community" in wide.columns:
        new = [c for c in wide.columns if c == "community" or c not in out.columns]
        out = out.merge(wide[new], on="community", how="left")
    return out


def _tidy_populations(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with resident counts free of float noise (149999.99999999997 → 150000.0)."""
    from coverage.summary import POPULATION_DECIMALS

    out = frame.copy()
    for col in out.columns:
        if ("population" in col or "elderly" in col) and pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(POPULATION_DECIMALS)
    return out


def _run_parameters(res: RunResult) -> dict[str, Any]:
    """The settings a run used, for run.json: enough to reproduce or audit its numbers."""
    ana = res.config.analysis
    return {
        "analysis": dict(ana),
        "siting": dict(res.config.siting) if res.config.siting else None,
        "snap_tolerance_m": ana.get("snap_tolerance_m", settings.snap_tolerance_m),
        "gap_cluster_distance_m": settings.gap_cluster_distance_m,
        "service_area_buffer_m": settings.service_area_buffer_m,
        "criteria_detail": {
            k: {"threshold_m": c.threshold_m, "minutes": c.threshold_minutes, "speed_mps": c.speed}
            for k, c in res.coverage.criteria.items()
        },
    }


#: Name of the writing step in ``run.json``'s ``timings_s``.
WRITING_STEP = "{} / {}".format(
    msg("study.pipeline.step_writing").text("zh"), msg("study.pipeline.step_writing")
)

#: The map layers a run writes, as ``<name>.parquet`` with ``[output] format = "parquet"``.
LAYERS = ("demand", "facilities", "service_areas", "gaps", "sites")


def _write_layers(res: RunResult, out: Path) -> dict[str, Path]:
    """The map layers: ``results.gpkg`` (one layer each) or one GeoParquet file per layer.

    Both go through Arrow (pyogrio ``use_arrow=True``, pyarrow for Parquet), several times
    faster than row-by-row writing on a city's demand layer, with the same column rules
    (:func:`gpkg_safe`) so that a layer reads the same in either format.
    """
    layers: dict[str, gpd.GeoDataFrame | None] = {
        "demand": res.coverage.demand,
        "facilities": res.coverage.facilities,
        "service_areas": res.service_areas,
        "gaps": res.gaps,
        "sites": res.siting.sites if res.siting is not None else None,
    }
    if res.config.output.get("format", "gpkg") == "parquet":
        written: dict[str, Path] = {}
        for name, layer in layers.items():
            if layer is not None:
                gpkg_safe(layer).to_parquet(out / f"{name}.parquet", index=False)
                written[f"{name}_layer"] = out / f"{name}.parquet"
        return written
    gpkg = out / "results.gpkg"
    for name, layer in layers.items():
        if layer is not None:
            gpkg_safe(layer).to_file(
                gpkg, layer=name, driver="GPKG", engine="pyogrio", use_arrow=True
            )
    return {"results": gpkg}


def _write_files(
    res: RunResult, out: Path, *, extra: Callable[[Path], dict[str, Path]] | None = None
) -> dict[str, Path]:
    """Write every output into the (new, empty) folder ``out``; ``run.json`` last."""
    from coverage.distance import resolve_engine

    started = time.perf_counter()
    written: dict[str, Path] = {}
    summary = _tidy_populations(res.coverage.summary.copy())
    write_csv(summary, out / "summary.csv")
    written["summary"] = out / "summary.csv"
    written.update(_write_layers(res, out))
    if res.community_table is not None:
        write_csv(
            _tidy_populations(res.evaluation.get("communities", res.community_table)),
            out / "communities.csv",
        )
        written["communities"] = out / "communities.csv"
    if res.gaps is not None:
        write_csv(
            _tidy_populations(pd.DataFrame(res.gaps.drop(columns="geometry"))), out / "gaps.csv"
        )
        written["gaps"] = out / "gaps.csv"
    for name in ("tiers", "supply", "least_served"):
        table = res.evaluation.get(name)
        if table is not None:
            write_csv(table, out / f"{name}.csv")
            written[name] = out / f"{name}.csv"
    if res.siting is not None:
        sites = pd.DataFrame(res.siting.sites.drop(columns="geometry"))
        write_csv(sites, out / "sites.csv")
        written["sites"] = out / "sites.csv"
        write_csv(res.siting.curve, out / "siting_curve.csv")
        written["siting_curve"] = out / "siting_curve.csv"
        sol = pd.DataFrame(
            [
                {
                    "category": res.config.siting["category"] if res.config.siting else "",
                    "model": res.config.siting["model"] if res.config.siting else "",
                    "status": res.siting.status,
                    "method": res.siting.method,
                    "gap": res.siting.gap,
                    # The same number under a name that cannot be taken for a coverage gap.
                    "mip_gap": res.siting.gap,
                    "objective": res.siting.objective,
                    "n_sites": len(res.siting.sites),
                    "message": res.siting.message,
                }
            ]
        )
        write_csv(sol, out / "siting_summary.csv")
        written["siting_summary"] = out / "siting_summary.csv"
    if res.validation:
        frames = []
        for rep in res.validation:
            frame = rep.rejected.copy()
            frame.insert(0, "source", rep.source)
            frames.append(frame)
        write_csv(pd.concat(frames, ignore_index=True), out / "rejected_rows.csv")
        written["rejected_rows"] = out / "rejected_rows.csv"
    if extra is not None:
        written.update(extra(out))
    meta = {
        "created": datetime.now().astimezone().isoformat(timespec="seconds"),
        "title": res.config.title or res.label,
        "synthetic_demo": res.synthetic,
        "attribution": res.attribution,
        "network": res.network.report.summary("en"),
        "search_engine": resolve_engine(res.network, res.config.analysis.get("search_engine")),
        "criteria": {k: c.label("en") for k, c in res.coverage.criteria.items()},
        "timings_s": {
            **{k: round(v, 3) for k, v in res.timings.items()},
            # Everything above written; run.json itself takes milliseconds.
            WRITING_STEP: round(time.perf_counter() - started, 3),
        },
        "parameters": _run_parameters(res),
        "datum": res.datum,
        "status": {str(r.category): str(r.status) for r in res.coverage.summary.itertuples()},
        # Written last: a folder whose run.json says complete holds every output of one run.
        "complete": True,
    }
    (out / "run.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), "utf-8")
    written["run"] = out / "run.json"
    return written


#: Every file a run may leave in its output folder (a folder holding only these is ours).
OUTPUT_FILES: frozenset[str] = frozenset(
    {
        "summary.csv",
        "results.gpkg",
        *(f"{name}.parquet" for name in LAYERS),
        "communities.csv",
        "gaps.csv",
        "sites.csv",
        "siting_curve.csv",
        "siting_summary.csv",
        "rejected_rows.csv",
        "run.json",
        "error.log",
    }
)


def output_folder_problem(out_dir: str | Path) -> str | None:
    """Why ``out_dir`` cannot take a run's outputs, or None when it can.

    It can when it does not exist, is empty, or looks like an output folder of this tool (it
    holds ``run.json``, or only files a run writes): its previous outputs are then replaced as a
    whole. A file, or a folder holding anything else, is never touched.
    """
    out = Path(out_dir)
    if out.is_file() or (out.exists() and not out.is_dir()):
        return msg("study.pipeline.out_is_file", path=str(out))
    if not out.is_dir():
        return None
    names = sorted(p.name for p in out.iterdir())
    if not names or "run.json" in names or set(names) <= OUTPUT_FILES:
        return None
    others = [n for n in names if n not in OUTPUT_FILES]
    shown = ", ".join(others[:3]) + (", …" if len(others) > 3 else "")
    return msg("study.pipeline.out_not_ours", path=str(out), shown=shown)


def check_output_folder(out_dir: str | Path) -> Path:
    """Raise :class:`UsageError` unless ``out_dir`` can take a run's outputs (see above)."""
    problem = output_folder_problem(out_dir)
    if problem:
        raise UsageError(problem)
    return Path(out_dir)


def write_outputs(
    res: RunResult,
    out_dir: str | Path,
    *,
    extra: Callable[[Path], dict[str, Path]] | None = None,
) -> dict[str, Path]:
    """Write ``summary.csv``, ``results.gpkg`` and the sibling tables into ``out_dir``.

    Outputs are whole or absent: they are written into a temporary folder beside ``out_dir``
    that replaces it (and so every previous output in it) only once everything, ``run.json``
    last, is written. A run that fails or is killed leaves the previous folder as it was.

    Parameters
    ----------
    res
        The run's results.
    out_dir
        Output folder: new, empty, or a previous output folder (see
        :func:`output_folder_problem`).
    extra
        Writes more files (e.g. the meeting reports) into the folder it is given, before
        ``run.json``, so they are part of the same whole-or-absent folder.

    Returns
    -------
    dict
        Output name to its path inside ``out_dir``.

    Raises
    ------
    UsageError
        ``out_dir`` is a file or a folder that is not ours.
    """
    out = check_output_folder(out_dir).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    for stale in out.parent.glob(f".{out.name}.partial-*"):
        # Left by a killed run into the same folder; never complete, safe to drop.
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp's 0700 would hide the outputs from colleagues
    old: Path | None = None
    try:
        written = _write_files(res, tmp, extra=extra)
        if out.exists():
            old = out.parent / f".{out.name}.old-{tmp.name.rsplit('-', 1)[-1]}"
            out.rename(old)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and old.exists() and not out.exists():
            old.rename(out)  # the swap failed half-way: put the previous outputs back
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return {name: out / path.name for name, path in written.items()}
