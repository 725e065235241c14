"""Headless runs: a TOML configuration in, summary tables and a GeoPackage out.

``python cli.py run CONFIG.toml --out DIR`` and ``python cli.py run --demo --out DIR`` call
:func:`load_config`, :func:`run` and :func:`write_outputs`. Every key is documented in the README
("Config reference"). Relative paths in a configuration are relative to the file's folder.
"""

from __future__ import annotations

import json
import logging
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo import settings
from geo.errors import ConfigError, InputDataError
from geo.taxonomy import Criterion, categories, get_category

logger = logging.getLogger(__name__)

ProgressFn = Callable[[str, float], None]

_SECTIONS = {"title", "network", "demand", "facilities", "criteria", "analysis", "siting", "demo"}
_NETWORK_KEYS = {"file", "place", "bbox", "mode", "study_area", "keep_largest"}
_DEMAND_KEYS = {
    "file",
    "type",
    "population",
    "elderly",
    "community",
    "crs",
    "total_population",
    "lon",
    "lat",
    "sheet",
}
_FACILITY_KEYS = {
    "file",
    "osm",
    "category",
    "crs",
    "name",
    "lon",
    "lat",
    "coords",
    "wkt",
    "category_column",
    "capacity",
    "id",
    "sheet",
}
_ANALYSIS_KEYS = {
    "categories",
    "search_engine",
    "rings_minutes",
    "service_areas",
    "snap_tolerance_m",
    "gaps",
    "completeness",
    "fca",
}
_SITING_KEYS = {
    "category",
    "model",
    "k",
    "target",
    "candidates",
    "weight",
    "time_limit_s",
    "spacing_m",
}


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

    def path(self, value: str) -> Path:
        """Resolve a path from the configuration relative to its file."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.base / p)


def _check_keys(section: str, table: dict[str, Any], allowed: set[str], *, where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        msg = (
            f"{where}: unknown key(s) {unknown} in [{section}]; allowed keys are "
            f"{sorted(allowed)} (see the README's config reference)"
        )
        raise ConfigError(msg)


def parse_config(raw: dict[str, Any], *, base: Path, where: str = "config") -> RunConfig:
    """Validate a configuration dictionary (as read from TOML).

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
    """
    _check_keys("top level", raw, _SECTIONS, where=where)
    cfg = RunConfig(base=base, title=str(raw.get("title", "")))
    demo = raw.get("demo")
    if demo is not None:
        cfg.demo = demo if isinstance(demo, str) else "synthetic"
    net = dict(raw.get("network", {}))
    _check_keys("network", net, _NETWORK_KEYS, where=where)
    if cfg.demo is None and sum(k in net for k in ("file", "place", "bbox")) != 1:
        msg = (
            f"{where}: [network] needs exactly one of file, place or bbox, got "
            f"{sorted(k for k in ('file', 'place', 'bbox') if k in net) or 'none'}"
        )
        raise ConfigError(msg)
    mode = net.setdefault("mode", "walk")
    if mode not in {"walk", "bike", "drive"}:
        msg = f"{where}: [network] mode must be walk, bike or drive, got {mode!r}"
        raise ConfigError(msg)
    cfg.network = net
    dem = dict(raw.get("demand", {}))
    _check_keys("demand", dem, _DEMAND_KEYS, where=where)
    dem.setdefault("type", "table")
    if dem["type"] not in {"table", "buildings", "grid"}:
        msg = f"{where}: [demand] type must be table, buildings or grid, got {dem['type']!r}"
        raise ConfigError(msg)
    if cfg.demo is None and dem["type"] == "table" and "file" not in dem:
        msg = f'{where}: [demand] needs file = "population.csv" (or type = buildings/grid)'
        raise ConfigError(msg)
    if dem["type"] in {"buildings", "grid"} and "total_population" not in dem:
        msg = f"{where}: [demand] type = {dem['type']!r} needs total_population = <residents>"
        raise ConfigError(msg)
    dem["crs"] = _check_crs(dem.get("crs", "wgs84"), f"{where}: [demand]")
    cfg.demand = dem
    facs = raw.get("facilities", [])
    if isinstance(facs, dict):
        facs = [facs]
    for i, fac in enumerate(facs, start=1):
        _check_keys(f"[facilities] #{i}", fac, _FACILITY_KEYS, where=where)
        if "file" not in fac and not fac.get("osm"):
            msg = f'{where}: [[facilities]] #{i} needs file = "..." or osm = true'
            raise ConfigError(msg)
        if "category" in fac:
            get_category(fac["category"])
        # No crs: "not declared"; the datum is then detected from the street network.
        fac["crs"] = (
            _check_crs(fac["crs"], f"{where}: [[facilities]] #{i}") if "crs" in fac else None
        )
    cfg.facilities = list(facs)
    if cfg.demo is None and not cfg.facilities:
        msg = f"{where}: no [[facilities]] table; add at least one facility file"
        raise ConfigError(msg)
    for key, over in dict(raw.get("criteria", {})).items():
        base_crit = get_category(key).criterion
        if not isinstance(over, dict):
            msg = f"{where}: [criteria.{key}] must be a table such as minutes = 15"
            raise ConfigError(msg)
        try:
            cfg.criteria[key] = base_crit.with_overrides(**over)
        except ConfigError as exc:
            msg = f"{where}: [criteria.{key}] {exc}"
            raise ConfigError(msg) from exc
    ana = dict(raw.get("analysis", {}))
    _check_keys("analysis", ana, _ANALYSIS_KEYS, where=where)
    for key in ana.get("categories", []) or []:
        get_category(key)
    engine = ana.get("search_engine", "auto")
    if engine not in ("auto", "bucket", "scipy"):
        msg = (
            f'{where}: [analysis] search_engine = {engine!r}; use "auto" (default), "bucket" '
            'or "scipy" (all give the same distances)'
        )
        raise ConfigError(msg)
    cfg.analysis = ana
    if "siting" in raw:
        sit = dict(raw["siting"])
        _check_keys("siting", sit, _SITING_KEYS, where=where)
        if "category" not in sit:
            msg = f'{where}: [siting] needs category = "<taxonomy key>"'
            raise ConfigError(msg)
        get_category(sit["category"])
        model = sit.setdefault("model", "mclp")
        if model not in {"mclp", "lscp", "pmedian", "capacitated"}:
            msg = (
                f"{where}: [siting] model must be mclp, lscp, pmedian or capacitated, got {model!r}"
            )
            raise ConfigError(msg)
        if model == "lscp":
            sit.setdefault("target", 0.95)
            if not 0 < float(sit["target"]) <= 1:
                msg = f"{where}: [siting] target is a share between 0 and 1, got {sit['target']!r}"
                raise ConfigError(msg)
        else:
            sit.setdefault("k", 3)
            if int(sit["k"]) < 1:
                msg = f"{where}: [siting] k must be at least 1, got {sit['k']!r}"
                raise ConfigError(msg)
        sit.setdefault("candidates", "generate")
        cfg.siting = sit
    return cfg


def _check_crs(value: Any, where: str) -> str:
    """A datum (wgs84/gcj02/bd09) or a projected CRS pyproj knows, e.g. "EPSG:4549"."""
    import pyproj

    from geo.datum import normalise_datum

    crs = str(value).strip()
    key = normalise_datum(crs)
    if key is not None:  # "wgs84", "GCJ-02", "amap"… as the loaders accept them
        return key

    try:
        pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError:
        msg = (
            f"{where} crs must be wgs84, gcj02 or bd09, or a coordinate reference system such as "
            f'"EPSG:4549" (CGCS2000 3-degree zone, metres), got {value!r}'
        )
        raise ConfigError(msg) from None
    return crs


def load_config(path: str | Path) -> RunConfig:
    """Read and validate a TOML configuration file."""
    path = Path(path)
    if not path.is_file():
        msg = f"config: file {str(path)!r} not found; give the path to a .toml file"
        raise ConfigError(msg)
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        msg = f"config: {path} is not valid TOML ({exc}); check quotes and brackets"
        raise ConfigError(msg) from exc
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
    #: Per facility file whose crs was not declared: declared/used/reason (run.json "datum").
    datum: dict[str, dict[str, Any]] = field(default_factory=dict)


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
        self._current, self._since = name, now
        logger.info("[%6.1fs] %s", now - self.t0, name)
        if self.progress:
            self.progress(name, fraction)

    def total(self) -> float:
        """Seconds since the run started."""
        return time.perf_counter() - self.t0


def _load_inputs(
    cfg: RunConfig, timer: _Timer, *, datums: dict[str, dict[str, Any]] | None = None
) -> tuple[Any, Any, Any, list[Any], str, bool, str]:
    validation: list[Any] = []
    if cfg.demo:
        from geo.demo import load_demo

        timer.step(f"载入示范数据 / loading demo '{cfg.demo}'", 0.05)
        demo = load_demo(cfg.demo)
        label = demo.label_zh if cfg.demo else ""
        return (
            demo.network,
            demo.demand,
            demo.facilities,
            validation,
            label,
            demo.synthetic,
            demo.attribution,
        )
    from geo.roads import load_network

    timer.step("载入路网 / loading network", 0.05)
    net_cfg = cfg.network
    study_area = None
    if "study_area" in net_cfg:
        study_area = gpd.read_file(cfg.path(net_cfg["study_area"])).to_crs(4326).union_all()
    if "file" in net_cfg:
        source: Any = cfg.path(net_cfg["file"])
    elif "place" in net_cfg:
        source = str(net_cfg["place"])
    else:
        source = tuple(float(v) for v in net_cfg["bbox"])
    network = load_network(
        source,
        mode=net_cfg["mode"],
        study_area=study_area,
        keep_largest=net_cfg.get("keep_largest"),
    )
    timer.step("载入设施 / loading facilities", 0.15)
    frames = []
    for fac in cfg.facilities:
        if fac.get("osm"):
            from geo.osm_features import facilities_from_osm

            cats = [fac["category"]] if "category" in fac else None
            frames.append(facilities_from_osm(source, categories=cats, study_area=study_area))
            continue
        from geo.facilities import load_facilities

        crs = fac["crs"]
        if crs is None:
            crs = _detect_facility_datum(cfg, fac, network, datums)
        gdf, report = load_facilities(
            cfg.path(fac["file"]),
            sheet=fac.get("sheet"),
            category=fac.get("category"),
            crs=crs,
            name_col=fac.get("name"),
            lon_col=fac.get("lon"),
            lat_col=fac.get("lat"),
            coord_col=fac.get("coords"),
            wkt_col=fac.get("wkt"),
            category_col=fac.get("category_column"),
            capacity_col=fac.get("capacity"),
            id_col=fac.get("id"),
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
    timer.step("载入人口 / loading demand", 0.25)
    dem = cfg.demand
    if dem["type"] == "table":
        from geo.demand import demand_from_table

        demand, report = demand_from_table(
            cfg.path(dem["file"]),
            population_col=dem.get("population"),
            elderly_col=dem.get("elderly"),
            community_col=dem.get("community"),
            crs=dem["crs"],
            lon_col=dem.get("lon"),
            lat_col=dem.get("lat"),
            sheet=dem.get("sheet"),
        )
        validation.append(report)
    elif dem["type"] == "buildings":
        from geo.demand import demand_from_buildings
        from geo.osm_features import buildings_from_osm

        buildings = buildings_from_osm(source, study_area=study_area)
        demand, report = demand_from_buildings(
            buildings, total_population=float(dem["total_population"])
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
    for rep in validation:
        # The terminal shows what the app's validation box would: a planner runs this too.
        for text in rep.warnings:
            logger.warning("%s: %s", rep.source, text)
        if getattr(rep, "suggestion", None):
            logger.warning("%s: %s", rep.source, rep.suggestion)
    return network, demand, facilities, validation, cfg.title, False, "© OpenStreetMap contributors"


def _detect_facility_datum(
    cfg: RunConfig, fac: dict[str, Any], network: Any, datums: dict[str, dict[str, Any]] | None
) -> str:
    """The datum of a facility file whose crs was not declared, from the street-network fit."""
    from geo.facilities import detect_datum, load_facilities

    # Read as WGS-84 without conversion: the points are then the raw coordinates.
    probe, _ = load_facilities(
        cfg.path(fac["file"]),
        sheet=fac.get("sheet"),
        category=fac.get("category"),
        crs="wgs84",
        name_col=fac.get("name"),
        lon_col=fac.get("lon"),
        lat_col=fac.get("lat"),
        coord_col=fac.get("coords"),
        wkt_col=fac.get("wkt"),
        category_col=fac.get("category_column"),
        capacity_col=fac.get("capacity"),
        id_col=fac.get("id"),
    )
    choice = detect_datum(probe, network)
    name = Path(str(fac["file"])).name
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
    from coverage.analysis import analyse
    from coverage.completeness import completeness
    from coverage.gaps import find_gaps
    from coverage.service_areas import service_areas

    timer = _Timer(progress)
    datums: dict[str, dict[str, Any]] = {}
    network, demand, facilities, validation, label, synthetic, attribution = _load_inputs(
        cfg, timer, datums=datums
    )
    ana = cfg.analysis
    cats = ana.get("categories") or [k for k in categories() if (facilities["category"] == k).any()]
    if not cats:
        msg = "run: no facility of any known category was loaded; check the facility files"
        raise ConfigError(msg)
    timer.step("计算网络距离与覆盖 / network distances and coverage", 0.35)
    demand_label = (
        f"[demand] {Path(str(cfg.demand['file'])).name}"
        if cfg.demand.get("file") and not cfg.demo
        else "[demand]"
    )
    try:
        result = analyse(
            network,
            demand,
            facilities,
            categories=cats,
            criteria={k: v for k, v in cfg.criteria.items() if k in cats},
            tolerance_m=ana.get("snap_tolerance_m"),
            engine=ana.get("search_engine"),
        )
    except InputDataError as exc:
        # Name the file: the core only knows "demand".
        raise type(exc)(f"{demand_label}: {exc}") from exc
    _check_result(result, demand_label)
    areas = None
    if ana.get("service_areas", True):
        timer.step("生成服务范围 / service areas", 0.55)
        rings = ana.get("rings_minutes")
        frames = []
        for key in cats:
            crit = result.criteria[key]
            thresholds = [crit.threshold_m]
            if rings:
                thresholds = sorted(
                    {float(m) * 60 * crit.speed for m in rings} | {crit.threshold_m}
                )
            frames.append(service_areas(network, result, category=key, thresholds_m=thresholds))
        areas = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326)
    timer.step("识别覆盖缺口 / gaps", 0.7)
    gaps = gpd.GeoDataFrame(
        pd.concat([find_gaps(result, category=k) for k in cats], ignore_index=True), crs=4326
    )
    timer.step("设施完备度 / completeness", 0.8)
    per_point, per_community = completeness(result, categories=cats)
    siting = None
    if cfg.siting:
        from coverage.siting import suggest_sites

        sit = cfg.siting
        timer.step(f"选址优化 / siting ({sit['model']})", 0.85)
        candidates: Any = sit["candidates"]
        if candidates != "generate":
            from geo.facilities import load_facilities

            candidates, report = load_facilities(
                cfg.path(candidates), category=sit["category"], crs="wgs84"
            )
            validation.append(report)
        siting = suggest_sites(
            network,
            demand,
            facilities,
            category=sit["category"],
            model=sit["model"],
            k=sit.get("k"),
            target=sit.get("target"),
            candidates=candidates,
            criterion=cfg.criteria.get(sit["category"]),
            weight=sit.get("weight", "population"),
            time_limit_s=sit.get("time_limit_s"),
            spacing_m=sit.get("spacing_m"),
            baseline=result,
        )
    timer.step("完成 / done", 1.0)
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
        label=label,
        synthetic=synthetic,
        attribution=attribution,
        timings=timer.timings,
        datum=datums,
    )


def _gpkg_safe(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        if out[col].dtype == bool:
            out[col] = out[col].astype("int8")
        elif out[col].dtype == object:
            out[col] = out[col].map(
                lambda v: v if v is None or isinstance(v, str | int | float) else str(v)
            )
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


def write_outputs(res: RunResult, out_dir: str | Path) -> dict[str, Path]:
    """Write ``summary.csv``, ``results.gpkg`` and the sibling tables into ``out_dir``.

    Returns
    -------
    dict
        Output name to path.
    """
    from coverage.distance import resolve_engine

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    summary = res.coverage.summary.copy()
    summary.to_csv(out / "summary.csv", index=False, encoding="utf-8-sig")
    written["summary"] = out / "summary.csv"
    gpkg = out / "results.gpkg"
    if gpkg.exists():
        gpkg.unlink()
    layers: dict[str, gpd.GeoDataFrame | None] = {
        "demand": res.coverage.demand,
        "facilities": res.coverage.facilities,
        "service_areas": res.service_areas,
        "gaps": res.gaps,
    }
    if res.siting is not None:
        layers["sites"] = res.siting.sites
    for name, layer in layers.items():
        if layer is None:
            continue
        _gpkg_safe(layer).to_file(gpkg, layer=name, driver="GPKG", engine="pyogrio")
    written["results"] = gpkg
    if res.community_table is not None:
        _tidy_populations(res.community_table).to_csv(
            out / "communities.csv", index=False, encoding="utf-8-sig"
        )
        written["communities"] = out / "communities.csv"
    if res.gaps is not None:
        _tidy_populations(pd.DataFrame(res.gaps.drop(columns="geometry"))).to_csv(
            out / "gaps.csv", index=False, encoding="utf-8-sig"
        )
        written["gaps"] = out / "gaps.csv"
    if res.siting is not None:
        sites = pd.DataFrame(res.siting.sites.drop(columns="geometry"))
        sites.to_csv(out / "sites.csv", index=False, encoding="utf-8-sig")
        written["sites"] = out / "sites.csv"
        res.siting.curve.to_csv(out / "siting_curve.csv", index=False, encoding="utf-8-sig")
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
        sol.to_csv(out / "siting_summary.csv", index=False, encoding="utf-8-sig")
        written["siting_summary"] = out / "siting_summary.csv"
    if res.validation:
        frames = []
        for rep in res.validation:
            frame = rep.rejected.copy()
            frame.insert(0, "source", rep.source)
            frames.append(frame)
        pd.concat(frames, ignore_index=True).to_csv(
            out / "rejected_rows.csv", index=False, encoding="utf-8-sig"
        )
        written["rejected_rows"] = out / "rejected_rows.csv"
    meta = {
        "created": datetime.now().astimezone().isoformat(timespec="seconds"),
        "title": res.config.title or res.label,
        "synthetic_demo": res.synthetic,
        "attribution": res.attribution,
        "network": res.network.report.summary("en"),
        "search_engine": resolve_engine(res.network, res.config.analysis.get("search_engine")),
        "criteria": {k: c.label("en") for k, c in res.coverage.criteria.items()},
        "timings_s": {k: round(v, 3) for k, v in res.timings.items()},
        "parameters": _run_parameters(res),
        "datum": res.datum,
        "status": {str(r.category): str(r.status) for r in res.coverage.summary.itertuples()},
    }
    (out / "run.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), "utf-8")
    written["run"] = out / "run.json"
    return written
