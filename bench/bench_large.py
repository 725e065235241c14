"""City-scale end-to-end benchmark (not a test): ``.venv/bin/python bench/bench_large.py``.

Generates a jittered street lattice (500 × 500 = 250,000 nodes, 100 m blocks, as a GeoPackage of
centrelines), a demand CSV of 2,000,000 WGS-84 points (uniform residents plus dense compounds,
with population, elderly and community columns) and three facility CSVs, then runs
``python cli.py run CONFIG --out DIR`` in a subprocess. It records:

* the wall time of every pipeline step (``run.json`` ``timings_s``; the output writing, which is
  not a pipeline step, from the time stamps of the CLI's log lines);
* the child's peak RSS (``resource.getrusage(RUSAGE_CHILDREN)``) and, per step, the largest RSS
  seen by a ``psutil`` sampler every 0.2 s;
* bare references in this process: ``pandas.read_csv`` of the same demand CSV, and one scipy
  ``csgraph.dijkstra`` multi-source search (``min_only``) on the same lattice from the facility
  nodes of one category; the gaps step is given as a ratio to both.

The results are printed and written to ``bench/results_large.md``. Inputs are cached in
``--work`` (default ``/tmp/lcc_bench_large``) so a second run does not regenerate them.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import re
import resource
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import psutil
import shapely
from pyproj import Transformer
from scipy import sparse
from scipy.sparse import csgraph

ROOT = Path(__file__).resolve().parents[1]
logger = logging.getLogger("bench_large")

CRS = "EPSG:32650"
X0, Y0 = 500_000.0, 3_500_000.0
# Facilities per category over 2,500 km²: sparse enough that about half of the residents or more
# are uncovered, so the gaps step has city-sized clusters to trace.
CATEGORIES = {"market": 2500, "health_station": 400, "childcare": 4000}


def _lattice(side: int, spacing: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    i, j = np.meshgrid(np.arange(side), np.arange(side), indexing="xy")
    x = X0 + i.ravel() * spacing + rng.uniform(-0.2, 0.2, side * side) * spacing
    y = Y0 + j.ravel() * spacing + rng.uniform(-0.2, 0.2, side * side) * spacing
    idx = np.arange(side * side).reshape(side, side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    return np.column_stack([x, y]), u, v


def make_inputs(work: Path, *, points: int, side: int, seed: int) -> Path:
    """Write the network, demand and facility files and a config into ``work``; return it."""
    work.mkdir(parents=True, exist_ok=True)
    cfg = work / f"large_{points}_{side}.toml"
    if cfg.exists():
        return cfg
    rng = np.random.default_rng(seed)
    spacing = 100.0
    xy, u, v = _lattice(side, spacing, seed)
    lines = shapely.linestrings(np.stack([xy[u], xy[v]], axis=1))
    net_path = work / f"streets_{side}.gpkg"
    gpd.GeoDataFrame({"highway": ["residential"] * len(lines)}, geometry=lines, crs=CRS).to_file(
        net_path, layer="streets", driver="GPKG", engine="pyogrio"
    )
    extent = (side - 1) * spacing
    to_wgs = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    # 60 % spread over the city, 40 % in 4,000 compounds of ~60 m spread.
    n_uni = int(points * 0.6)
    px = rng.uniform(0, extent, n_uni)
    py = rng.uniform(0, extent, n_uni)
    centres = rng.uniform(0, extent, (4000, 2))
    which = rng.integers(0, len(centres), points - n_uni)
    cx = np.clip(centres[which, 0] + rng.normal(0, 60, which.size), 0, extent)
    cy = np.clip(centres[which, 1] + rng.normal(0, 60, which.size), 0, extent)
    px, py = np.concatenate([px, cx]), np.concatenate([py, cy])
    lon, lat = to_wgs.transform(X0 + px, Y0 + py)
    pop = rng.integers(1, 60, points)
    community = (px // 1500).astype(int) * 100 + (py // 1500).astype(int)
    dem = pd.DataFrame(
        {
            "id": np.arange(points),
            "lon": np.round(lon, 7),
            "lat": np.round(lat, 7),
            "population": pop,
            "elderly": (pop * rng.uniform(0.1, 0.3, points)).round(),
            "community": [f"社区{c:05d}" for c in community],
        }
    )
    dem_path = work / f"demand_{points}.csv"
    dem.to_csv(dem_path, index=False)
    fac_blocks = []
    for key, n in CATEGORIES.items():
        fx, fy = rng.uniform(0, extent, n), rng.uniform(0, extent, n)
        flon, flat = to_wgs.transform(X0 + fx, Y0 + fy)
        path = work / f"fac_{key}_{side}.csv"
        pd.DataFrame(
            {
                "名称": [f"{key}{i}" for i in range(n)],
                "lon": np.round(flon, 7),
                "lat": np.round(flat, 7),
            }
        ).to_csv(path, index=False)
        fac_blocks.append(f'[[facilities]]\nfile = "{path.name}"\ncategory = "{key}"\n')
    cfg.write_text(
        f'title = "bench large"\n\n[network]\nfile = "{net_path.name}"\nmode = "walk"\n\n'
        f'[demand]\ntype = "table"\nfile = "{dem_path.name}"\npopulation = "population"\n'
        f'elderly = "elderly"\ncommunity = "community"\n\n' + "\n".join(fac_blocks),
        "utf-8",
    )
    return cfg


_STEP = re.compile(r"^\[\s*([\d.]+)s\] (.+)$")


def run_cli(cfg: Path, out: Path) -> dict[str, object]:
    """Run the CLI in a subprocess; wall time, peak RSS, per-step RSS and the log."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "run", str(cfg), "--out", str(out)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    current = ["start-up (imports)"]
    step_rss: dict[str, float] = {}
    done = threading.Event()

    def sample() -> None:
        ps = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                rss = ps.memory_info().rss / 1e9
            except psutil.Error:
                return
            step_rss[current[0]] = max(step_rss.get(current[0], 0.0), rss)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    log: list[str] = []
    marks: list[tuple[float, str]] = []
    assert proc.stderr is not None
    for line in proc.stderr:
        line = line.rstrip("\n")
        log.append(line)
        logger.info("  cli: %s", line)
        now = time.perf_counter() - t0
        m = _STEP.match(line)
        if m:
            current[0] = m.group(2)
            marks.append((now, m.group(2)))
        elif current[0].startswith("完成") and not line.startswith("wrote"):
            # The first line after "done" comes after write_outputs.
            current[0] = "writing outputs"
            marks.append((now, "after writing"))
    rc = proc.wait()
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6  # KiB → GB
    if rc != 0:
        tail = "\n".join(log[-30:])
        msg = f"cli.py run exited {rc}:\n{tail}"
        raise RuntimeError(msg)
    meta = json.loads((out / "run.json").read_text("utf-8"))
    done_at = next((t for t, name in marks if name.startswith("完成")), None)
    written_at = next((t for t, name in marks if name == "after writing"), None)
    writing = (written_at - done_at) if done_at is not None and written_at is not None else None
    return {
        "wall_s": wall,
        "peak_rss_gb": peak,
        "step_rss_gb": step_rss,
        "timings_s": meta["timings_s"],
        "writing_s": writing,
        "log": log,
    }


def references(cfg: Path, *, side: int, seed: int) -> dict[str, float]:
    """Bare operations on the same inputs in this process (seconds, best of 2)."""
    work = cfg.parent
    dem_path = next(work.glob("demand_*.csv"))
    t_csv = []
    for _ in range(2):
        t = time.perf_counter()
        pd.read_csv(dem_path)
        t_csv.append(time.perf_counter() - t)
    xy, u, v = _lattice(side, 100.0, seed)
    w = np.hypot(*(xy[u] - xy[v]).T)
    n = len(xy)
    graph = sparse.csr_matrix((np.r_[w, w], (np.r_[u, v], np.r_[v, u])), shape=(n, n))
    fac = pd.read_csv(work / f"fac_market_{side}.csv")
    to_utm = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    fx, fy = to_utm.transform(fac["lon"].to_numpy(), fac["lat"].to_numpy())
    src = np.unique(np.rint((fy - Y0) / 100.0).astype(int) * side + np.rint((fx - X0) / 100.0))
    src = np.clip(src, 0, n - 1).astype(int)
    t_dij = []
    for _ in range(2):
        t = time.perf_counter()
        csgraph.dijkstra(graph, directed=False, indices=src, min_only=True)
        t_dij.append(time.perf_counter() - t)
    return {"read_csv_s": min(t_csv), "dijkstra_s": min(t_dij)}


def compare_gaps(n: int, *, seed: int, link: float = 250.0) -> dict[str, float]:
    """The former gap clustering and polygons against the new ones on ``n`` uncovered points.

    Former: ``cKDTree.query_pairs`` + ``connected_components``; per cluster ``union_all`` of
    32-gon discs (thinned to a ``link / 8`` grid above 2,000 points). New:
    :func:`coverage.gaps.single_link_labels` and the per-cluster polygons of ``find_gaps``.
    """
    sys.path.insert(0, str(ROOT))
    from scipy.spatial import cKDTree

    from coverage import gaps as new

    rng = np.random.default_rng(seed)
    extent = 20_000.0 * math.sqrt(n / 250_000)
    n_uni = int(n * 0.6)
    centres = rng.uniform(0, extent, (max(1, n // 500), 2))
    which = rng.integers(0, len(centres), n - n_uni)
    x = np.r_[rng.uniform(0, extent, n_uni), centres[which, 0] + rng.normal(0, 60, which.size)]
    y = np.r_[rng.uniform(0, extent, n_uni), centres[which, 1] + rng.normal(0, 60, which.size)]
    out: dict[str, float] = {"n": float(n)}
    t = time.perf_counter()
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(r=link, output_type="ndarray")
    adj = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    k_old, lab_old = csgraph.connected_components(adj, directed=False)
    out["old_cluster_s"] = time.perf_counter() - t
    out["old_pairs"] = float(len(pairs))
    del pairs, adj
    t = time.perf_counter()
    lab = new.single_link_labels(x, y, link)
    out["new_cluster_s"] = time.perf_counter() - t
    out["same_clusters"] = float(np.array_equal(lab, lab_old))
    order = np.argsort(lab, kind="stable")
    bounds = np.r_[0, np.cumsum(np.bincount(lab))]
    groups = [order[bounds[c] : bounds[c + 1]] for c in range(len(bounds) - 1)]
    t = time.perf_counter()
    area_new = sum(new._disc_union(x[g], y[g], link / 2).area for g in groups)
    out["new_polygons_s"] = time.perf_counter() - t
    t = time.perf_counter()
    area_old = 0.0
    for g in groups:
        px, py = x[g], y[g]
        if g.size > 2000:
            cell = link / 8.0
            keys = np.unique(np.column_stack([np.round(px / cell), np.round(py / cell)]), axis=0)
            px, py = keys[:, 0] * cell, keys[:, 1] * cell
        poly = shapely.union_all(shapely.buffer(shapely.points(px, py), link / 2, quad_segs=8))
        area_old += poly.area
    out["old_polygons_s"] = time.perf_counter() - t
    out["area_ratio"] = area_new / area_old
    out["clusters"] = float(k_old)
    return out


def report(res: dict[str, object], ref: dict[str, float], *, points: int, side: int) -> str:
    """The results as Markdown."""
    timings: dict[str, float] = res["timings_s"]  # type: ignore[assignment]
    step_rss: dict[str, float] = res["step_rss_gb"]  # type: ignore[assignment]
    gaps = next(v for k, v in timings.items() if "gaps" in k)
    load = float(os.getloadavg()[0])
    lines = [
        "# City-scale end-to-end run",
        "",
        f"`bench/bench_large.py`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average "
        f"{load:.1f} at the end (2 cores shared with other work). Jittered lattice "
        f"{side} × {side} ({side * side:,} nodes), {points:,} demand points (CSV, WGS-84), "
        f"facilities {', '.join(f'{k} {n}' for k, n in CATEGORIES.items())}; "
        "`python cli.py run CONFIG --out DIR` in a subprocess.",
        "",
        f"**Wall time {res['wall_s']:.1f} s, peak RSS {res['peak_rss_gb']:.2f} GB.**",
        "",
        "| step | seconds | largest RSS seen (GB) |",
        "|---|---:|---:|",
    ]
    lines.append(f"| start-up (imports) | | {step_rss.get('start-up (imports)', 0):.2f} |")
    for name, sec in timings.items():
        lines.append(f"| {name} | {sec:.1f} | {step_rss.get(name, float('nan')):.2f} |")
    if res["writing_s"] is not None:
        w = float(res["writing_s"])  # type: ignore[arg-type]
        lines.append(
            f"| writing outputs (GeoPackage, CSVs) | {w:.1f} | "
            f"{step_rss.get('writing outputs', float('nan')):.2f} |"
        )
    lines += [
        "",
        "Bare references in the benchmark process (best of 2):",
        "",
        "| reference | seconds | gaps step ÷ reference |",
        "|---|---:|---:|",
        f"| `pandas.read_csv` of the demand CSV | {ref['read_csv_s']:.2f} | "
        f"{gaps / ref['read_csv_s']:.1f}× |",
        f"| scipy `csgraph.dijkstra`, multi-source `min_only`, one category | "
        f"{ref['dijkstra_s']:.2f} | {gaps / ref['dijkstra_s']:.1f}× |",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    """Generate, run, measure, write ``bench/results_large.md``."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=2_000_000)
    ap.add_argument("--side", type=int, default=500)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=Path("/tmp/lcc_bench_large"))
    ap.add_argument("--results", type=Path, default=ROOT / "bench" / "results_large.md")
    ap.add_argument(
        "--compare-gaps",
        type=int,
        default=0,
        metavar="N",
        help="only compare the former and new gap clustering and polygons on N points",
    )
    args = ap.parse_args()
    if args.compare_gaps:
        cmp = compare_gaps(args.compare_gaps, seed=args.seed)
        sys.stdout.write(json.dumps(cmp, indent=1) + "\n")
        return
    t = time.perf_counter()
    cfg = make_inputs(args.work, points=args.points, side=args.side, seed=args.seed)
    logger.info("inputs ready in %.1f s: %s", time.perf_counter() - t, cfg)
    res = run_cli(cfg, args.work / f"out_{args.points}")
    ref = references(cfg, side=args.side, seed=args.seed)
    text = report(res, ref, points=args.points, side=args.side)
    sys.stdout.write(text + "\n")
    args.results.write_text(text, "utf-8")


if __name__ == "__main__":
    main()
