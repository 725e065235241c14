"""Centreline loading benchmark (not a test): ``.venv/bin/python bench/bench_network_load.py``.

Times :func:`geo.roads.load_network_file` (GPKG centrelines → topology → network, the path the
CLI and the app use) on the city lattice of ``bench_city.py`` (``--side``, cached under
``bench/.cache/``) and on CAD-style layers, where one line runs through ten junctions and the
streets meet at shared interior vertices (built here once, also cached). Prints wall and CPU
seconds (CPU is what the machine's other work cannot inflate), node and edge counts and the
total length, so a change can be checked for an identical graph as well as for speed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

logger = logging.getLogger("bench_network_load")
CACHE = ROOT / "bench" / ".cache"


def cad_case(side: int, run: int = 10) -> Path:
    """A jittered ``side``² lattice drawn as lines through ``run`` junctions each (GPKG)."""
    import geopandas as gpd
    import shapely

    path = CACHE / f"cad_{side}_{run}.gpkg"
    if path.exists():
        return path
    rng = np.random.default_rng(2)
    x = 500_000 + np.arange(side)[None, :] * 100.0 + rng.uniform(-20, 20, (side, side))
    y = 3_500_000 + np.arange(side)[:, None] * 100.0 + rng.uniform(-20, 20, (side, side))
    lines = []
    for s in range(0, side - 1, run):
        sl = slice(s, min(s + run, side - 1) + 1)
        lines += [shapely.linestrings(np.column_stack([x[j, sl], y[j, sl]])) for j in range(side)]
        lines += [shapely.linestrings(np.column_stack([x[sl, i], y[sl, i]])) for i in range(side)]
    CACHE.mkdir(parents=True, exist_ok=True)
    gpd.GeoDataFrame(
        {"highway": ["residential"] * len(lines)}, geometry=lines, crs="EPSG:32650"
    ).to_file(path, driver="GPKG", engine="pyogrio")
    return path


def measure(path: Path, mode: str) -> dict[str, float]:
    """Load once; wall and CPU seconds and what came out."""
    from geo.roads import load_network_file

    t0, c0 = time.perf_counter(), time.process_time()
    net = load_network_file(path, mode=mode)
    return {
        "wall_s": time.perf_counter() - t0,
        "cpu_s": time.process_time() - c0,
        "nodes": net.n_nodes,
        "edges": net.n_edges,
        "length_m": float(net.length.sum()),
    }


def main() -> int:
    """Build the cases (once) and time each."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--side", type=int, default=1000, help="city lattice side (nodes = side²)")
    parser.add_argument("--mode", default="walk")
    parser.add_argument("--cad", type=int, nargs="*", default=[200, 400], help="CAD lattice sides")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    found = sorted(CACHE.glob(f"city_{args.side}_*/roads.gpkg"))
    if found:
        city = found[0]
    else:
        from bench.bench_city import build_case

        cfg = build_case(args.side, 10, 10, CACHE / f"city_{args.side}_10_10")
        city = cfg.parent / "roads.gpkg"
    cases = [(f"city {args.side}²", city)]
    cases += [(f"CAD {side}²", cad_case(side)) for side in args.cad]
    print(f"| case ({args.mode}) | wall s | CPU s | nodes | edges | total length m |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, path in cases:
        r = measure(path, args.mode)
        print(
            f"| {name} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['nodes']:,} | {r['edges']:,} "
            f"| {r['length_m']:,.3f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
