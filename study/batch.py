"""Many districts in one run: ``python cli.py batch CONFIG.toml --out DIR``.

Each district is exactly a ``cli.py run`` of the same configuration with two keys set: the
network (and facilities) of the district plus a halo around it (``[network] study_area``), and
the residents inside the district only (``[demand] within``). So residents near a border reach
facilities across it, and results are reported only for residents inside. The districts run on
Dask distributed (:mod:`study.batch_runner`); each writes ``DIR/<district>/`` as ``cli.py run``
would, and the batch adds ``districts_summary.csv``, ``districts.gpkg`` and a province map.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from geo.errors import ConfigError
from geo.messages import msg
from geo.network import utm_crs_for
from geo.taxonomy import categories
from study.batch_runner import BatchTask, Ledger, run_tasks
from study.pipeline import load_config, run, write_outputs

logger = logging.getLogger(__name__)

__all__ = ["district_tasks", "run_batch", "run_district"]

AREAS = ".areas"


def _folder_key(name: str, used: set[str]) -> str:
    """A folder name for a district: its name with unsafe characters replaced, made unique."""
    base = re.sub(r"[\\/:*?\"<>|\s]+", "_", name).strip("._") or "district"
    key, n = base, 2
    while key in used:
        key, n = f"{base}_{n}", n + 1
    used.add(key)
    return key


def default_halo_m(cfg: Any) -> float:
    """The largest threshold in use: residents near a border reach facilities that far across."""
    keys = cfg.analysis.get("categories") or list(categories())
    crits = {k: cfg.criteria.get(k, categories()[k].criterion) for k in keys}
    return max(c.threshold_m for c in crits.values())


def district_tasks(config_path: str | Path, out: Path) -> tuple[list[BatchTask], gpd.GeoDataFrame]:
    """One task per district of ``[batch] districts``, with its halo polygon."""
    config_path = Path(config_path).resolve()
    cfg = load_config(config_path)
    if not cfg.batch:
        raise ConfigError(msg("study.batch.no_table", file=config_path.name))
    path = cfg.path(cfg.batch["districts"])
    try:
        districts = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several GDAL error types
        raise ConfigError(msg("study.batch.unreadable", file=path.name, detail=exc)) from exc
    name_col = cfg.batch.get("name_column", "name")
    code_col = cfg.batch.get("code_column")
    for col, key in ((name_col, "name_column"), (code_col, "code_column")):
        if col is not None and col not in districts.columns:
            columns = [c for c in districts.columns if c != districts.geometry.name]
            raise ConfigError(
                msg("study.batch.no_column", key=key, file=path.name, column=col, columns=columns)
            )
    if districts.crs is None:
        districts = districts.set_crs(4326)
    districts = districts.to_crs(4326)
    polys = districts.geometry.to_numpy()
    ok = shapely.get_type_id(polys) >= 3  # polygons and multipolygons
    if not ok.all():
        raise ConfigError(msg("study.batch.not_polygons", file=path.name, n=int((~ok).sum())))
    halo = float(cfg.batch.get("halo_m", default_halo_m(cfg)))
    tasks: list[BatchTask] = []
    used: set[str] = set()
    for i, row in enumerate(districts.itertuples(index=False)):
        name = str(getattr(row, name_col))
        code = str(getattr(row, code_col)) if code_col else ""
        poly = shapely.make_valid(polys[i])
        centre = poly.representative_point()
        utm = utm_crs_for(centre.x, centre.y)
        grown = gpd.GeoSeries([poly], crs=4326).to_crs(utm).buffer(halo).to_crs(4326).iloc[0]
        key = _folder_key(name, used)
        tasks.append(
            BatchTask(
                key=key,
                name=name,
                code=code,
                payload={
                    "config": str(config_path),
                    "key": key,
                    "name": name,
                    "code": code,
                    "district": shapely.to_wkt(poly),
                    "halo": shapely.to_wkt(grown),
                    "halo_m": halo,
                    "out": str(out),
                },
            )
        )
    districts = districts.assign(_key=[t.key for t in tasks])
    return tasks, districts


def _polygon_file(folder: Path, name: str, wkt: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.geojson"
    gpd.GeoDataFrame(geometry=[shapely.from_wkt(wkt)], crs=4326).to_file(path, driver="GeoJSON")
    return path


def district_config(payload: dict[str, Any]) -> Any:
    """The ``cli.py run`` configuration of one district (its halo and its residents)."""
    cfg = load_config(payload["config"])
    areas = Path(payload["out"]) / AREAS
    halo = _polygon_file(areas, f"{payload['key']}_halo", payload["halo"])
    inside = _polygon_file(areas, f"{payload['key']}_district", payload["district"])
    cfg.network = {**cfg.network, "study_area": str(halo)}
    cfg.demand = {**cfg.demand, "within": str(inside)}
    cfg.batch = None
    cfg.title = cfg.title or payload["name"]
    return cfg


def run_district(payload: dict[str, Any]) -> dict[str, Any]:
    """Run one district (on a Dask worker) and return its summary rows."""
    cfg = district_config(payload)
    result = run(cfg)
    write_outputs(result, Path(payload["out"]) / payload["key"])
    summary = result.coverage.summary
    return {"summary": json.loads(summary.to_json(orient="records", force_ascii=False))}


def run_batch(
    config_path: str | Path,
    out: str | Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    force: bool = False,
    on_progress: Callable[[str], None] | None = None,
) -> Ledger:
    """Run every district of a configuration and write the province-level outputs."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tasks, districts = district_tasks(config_path, out)
    ledger = run_tasks(
        tasks,
        run_district,
        out=out,
        scheduler=scheduler,
        workers=workers,
        force=force,
        on_progress=on_progress,
    )
    _province_outputs(out, ledger, districts, tasks)
    return ledger


def _province_outputs(
    out: Path, ledger: Ledger, districts: gpd.GeoDataFrame, tasks: list[BatchTask]
) -> None:
    from geo.safe_cells import write_csv

    rows = []
    for t in tasks:
        entry = ledger.districts.get(t.key, {})
        for rec in entry.get("summary", []) if entry.get("status") == "done" else []:
            rows.append({"district": t.name, "district_code": t.code, "folder": t.key, **rec})
    table = pd.DataFrame(rows)
    write_csv(table, out / "districts_summary.csv")
    status = {t.key: ledger.districts.get(t.key, {}).get("status", "not run") for t in tasks}
    layer = districts.assign(
        district=[t.name for t in tasks],
        district_code=[t.code for t in tasks],
        status=[status[t.key] for t in tasks],
    )
    if len(table):
        wide = table.pivot_table(
            index="folder", columns="category", values="coverage_rate", aggfunc="first"
        )
        wide.columns = [f"{c}_coverage_rate" for c in wide.columns]
        layer = layer.merge(wide, left_on="_key", right_index=True, how="left")
    layer = layer.drop(columns="_key")
    gpkg = out / "districts.gpkg"
    gpkg.unlink(missing_ok=True)
    layer.to_file(gpkg, layer="districts", driver="GPKG", engine="pyogrio")
    from maps.province import province_map

    province_map(layer, out)
