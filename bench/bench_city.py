"""City-scale end-to-end benchmark (not a test): ``.venv/bin/python bench/bench_city.py``.

Builds a prefecture-city-sized case once (cached under ``bench/.cache/``): a jittered street
lattice of ``--side``² nodes (default 1000² = 1,000,000) written as a GeoPackage centreline layer
(one line per block edge, ~2M lines), 10,000 facilities in ten categories and 1,000,000 demand
points as CSV. Then runs ``cli.py run`` on it in a subprocess, with service areas off and on,
and reads the per-step durations from ``run.json`` (writing the outputs included) and the
child's peak memory from ``getrusage``; steps with a bare reference get their ratio to it. The
bare references run in this process on the same files: reading the layer with pyogrio (Arrow),
the CSV with pyarrow, and one scipy multi-source Dijkstra per category on the lattice. Results:
``bench/results_city.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.taxonomy import categories  # noqa: E402

logger = logging.getLogger("bench_city")
ORIGIN = (500_000.0, 3_500_000.0)
CRS = "EPSG:32650"


#: Step of run.json (a part of its name) → the bare reference it is compared with.
STEP_REFERENCES = {
    "loading network": "read network layer (pyogrio Arrow)",
    "loading demand": "read demand CSV (pyarrow)",
    "network distances": "one scipy multi-source search per category (10)",
}


def build_case(side: int, n_fac: int, n_dem: int, folder: Path, *, seed: int = 1) -> Path:
    """Write the network, facilities, demand and config; returns the config path."""
    import geopandas as gpd
    import pandas as pd
    import pyproj
    import shapely

    folder.mkdir(parents=True, exist_ok=True)
    cfg = folder / "city.toml"
    if cfg.exists():
        return cfg
    rng = np.random.default_rng(seed)
    spacing = 100.0
    i, j = np.meshgrid(np.arange(side), np.arange(side), indexing="xy")
    x = ORIGIN[0] + i.ravel() * spacing + rng.uniform(-20, 20, side * side)
    y = ORIGIN[1] + j.ravel() * spacing + rng.uniform(-20, 20, side * side)
    idx = np.arange(side * side).reshape(side, side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    # Drop 3 % of the blocks' edges so the streets are not a perfect grid.
    keep = rng.uniform(size=u.size) > 0.03
    u, v = u[keep], v[keep]
    lines = shapely.linestrings(
        np.stack([np.column_stack([x[u], y[u]]), np.column_stack([x[v], y[v]])], axis=1)
    )
    gdf = gpd.GeoDataFrame({"highway": np.full(lines.size, "residential")}, geometry=lines, crs=CRS)
    gdf.to_file(folder / "roads.gpkg", driver="GPKG", engine="pyogrio", use_arrow=True)
    to_ll = pyproj.Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    extent = (side - 1) * spacing
    keys = list(categories())[:10]
    fx = ORIGIN[0] + rng.uniform(0, extent, n_fac)
    fy = ORIGIN[1] + rng.uniform(0, extent, n_fac)
    flon, flat = to_ll.transform(fx, fy)
    pd.DataFrame(
        {
            "名称": [f"设施{k}" for k in range(n_fac)],
            "类型": [keys[k % len(keys)] for k in range(n_fac)],
            "经度": np.round(flon, 7),
            "纬度": np.round(flat, 7),
        }
    ).to_csv(folder / "facilities.csv", index=False)
    dx = ORIGIN[0] + rng.uniform(0, extent, n_dem)
    dy = ORIGIN[1] + rng.uniform(0, extent, n_dem)
    dlon, dlat = to_ll.transform(dx, dy)
    pd.DataFrame(
        {
            "lon": np.round(dlon, 7),
            "lat": np.round(dlat, 7),
            "population": rng.integers(5, 200, n_dem),
        }
    ).to_csv(folder / "demand.csv", index=False)
    cfg.write_text(
        "\n".join(
            [
                'title = "City benchmark"',
                "[network]",
                'file = "roads.gpkg"',
                'mode = "walk"',
                "[demand]",
                'type = "table"',
                'file = "demand.csv"',
                'population = "population"',
                "[[facilities]]",
                'file = "facilities.csv"',
                'category_column = "类型"',
                "[analysis]",
                "service_areas = false",
                "",
            ]
        ),
        "utf-8",
    )
    (folder / "city_areas.toml").write_text(
        cfg.read_text("utf-8").replace("service_areas = false", "service_areas = true"), "utf-8"
    )
    return cfg


def run_cli(cfg: Path, out: Path) -> dict:
    """Run the CLI in a child process; wall time, peak RSS and the step table of run.json."""
    if out.exists():
        shutil.rmtree(out)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "-q", "run", str(cfg), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        raise SystemExit(f"cli.py failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    meta = json.loads((out / "run.json").read_text("utf-8"))
    return {
        "wall_s": wall,
        "peak_gb": max(peak_kb, before) / 1024**2,
        "steps": meta.get("timings_s", {}),
    }


def references(folder: Path) -> dict[str, float]:
    """Bare references on the same files, in this process."""
    import pyarrow.csv as pacsv
    import pyogrio
    import shapely
    from scipy import sparse
    from scipy.sparse import csgraph

    out: dict[str, float] = {}
    t0 = time.perf_counter()
    _, table = pyogrio.read_arrow(folder / "roads.gpkg")
    out["read network layer (pyogrio Arrow)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    pacsv.read_csv(folder / "demand.csv")
    out["read demand CSV (pyarrow)"] = time.perf_counter() - t0
    geoms = shapely.from_wkb(
        np.asarray(table.column("geom" if "geom" in table.column_names else table.column_names[-1]))
    )
    coords = shapely.get_coordinates(geoms).reshape(-1, 2, 2)
    ends = np.round(coords.reshape(-1, 2), 3)
    uniq, inv = np.unique(ends, axis=0, return_inverse=True)
    inv = inv.reshape(-1, 2)
    w = np.hypot(*(coords[:, 1] - coords[:, 0]).T)
    n = uniq.shape[0]
    g = sparse.csr_matrix(
        (np.r_[w, w], (np.r_[inv[:, 0], inv[:, 1]], np.r_[inv[:, 1], inv[:, 0]])), shape=(n, n)
    )
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    for _ in range(10):
        src = rng.choice(n, 1000, replace=False)
        csgraph.dijkstra(g, directed=False, indices=src, min_only=True)
    out["one scipy multi-source search per category (10)"] = time.perf_counter() - t0
    return out


def main() -> int:
    """Build (once), run and report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--side", type=int, default=1000, help="lattice side (nodes = side²)")
    parser.add_argument("--facilities", type=int, default=10_000)
    parser.add_argument("--demand", type=int, default=1_000_000)
    parser.add_argument("--areas", action="store_true", help="also run with service areas on")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    folder = ROOT / "bench" / ".cache" / f"city_{args.side}_{args.facilities}_{args.demand}"
    t0 = time.perf_counter()
    cfg = build_case(args.side, args.facilities, args.demand, folder)
    logger.info("case ready in %.0f s: %s", time.perf_counter() - t0, folder)
    refs = references(folder)
    runs = {"service areas off": run_cli(cfg, folder / "out")}
    if args.areas:
        runs["service areas on"] = run_cli(folder / "city_areas.toml", folder / "out_areas")
    lines = [
        f"# City benchmark ({args.side**2:,} nodes, {args.facilities:,} facilities, "
        f"{args.demand:,} demand points)",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on this project's machine "
        "(2 cores, 24 GB). `.venv/bin/python bench/bench_city.py"
        + (" --areas" if args.areas else "")
        + "`.",
        "",
    ]
    for label, r in runs.items():
        lines += [
            f"## {label}: {r['wall_s']:.0f} s end to end, peak {r['peak_gb']:.2f} GB",
            "",
            "| step | seconds | bare reference | ratio |",
            "|---|---:|---|---:|",
        ]
        for k, v in r["steps"].items():
            ref = next((name for key, name in STEP_REFERENCES.items() if key in k), None)
            if ref is None or ref not in refs:
                lines.append(f"| {k} | {v:.1f} | | |")
            else:
                lines.append(f"| {k} | {v:.1f} | {ref} | {v / refs[ref]:.0f}× |")
        lines.append("")
    lines += [
        "## Bare references (same files, this process)",
        "",
        "| reference | seconds |",
        "|---|---:|",
    ]
    lines += [f"| {k} | {v:.1f} |" for k, v in refs.items()]
    text = "\n".join(lines) + "\n"
    (ROOT / "bench" / "results_city.md").write_text(text, "utf-8")
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
