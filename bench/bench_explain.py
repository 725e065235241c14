"""The siting explanation's searches: per-site limits against the previous single limit.

``suggest_sites`` explains the proposed sites with one network search per site (the minutes each
saves count every resident it brings closer). The searches used to stop at the farthest
resident's current walk — unlimited as soon as one resident had no reachable facility (always
so for a category with no existing facility). They now stop per site at the largest current walk
among the points the site may bring closer (``coverage.siting.explain._site_minutes``). This
bench times both on bench_siting's lattice (LSCP, target 1.0) and checks that the sites tables
are identical.

Run: ``.venv/bin/python bench/bench_explain.py [--existing 0] [--nx 500 --demand 100000]``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage.analysis import analyse
from coverage.distance import nearest_from, point_distance
from coverage.siting import explain, generate_candidates
from coverage.siting.matrix import SitingMatrices, build_matrices
from coverage.siting.models import ModelSolution, solve
from coverage.snap import Snap, snap_points
from geo import settings
from geo.network import Network, lattice_network

CAT = "elderly_canteen"
logger = logging.getLogger("bench_explain")


def single_limit(
    network: Network,
    sol: ModelSolution,
    mats: SitingMatrices,
    c_snap: Snap,
    d_snap: Snap,
) -> dict[int, np.ndarray]:
    """The previous rule: every search stops at the farthest current walk (inf if any is inf)."""
    base = np.asarray(mats.existing_m)[d_snap.ok]
    limit = float(base.max()) if base.size and np.isfinite(base).all() else np.inf
    out = {}
    for i in sol.selected.tolist():
        one = c_snap.subset(np.array([i]))
        node_d, node_s = nearest_from(network, one, limit_m=limit)
        dist, _ = point_distance(network, node_d, node_s, d_snap, sources=one)
        out[int(i)] = mats.minutes(dist)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--nx", type=int, default=500)
    p.add_argument("--demand", type=int, default=100_000)
    p.add_argument("--existing", type=int, default=60)
    p.add_argument("--candidates", type=int, default=2000)
    p.add_argument("--time-limit", type=float, default=15.0)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    rng = np.random.default_rng(42)
    net = lattice_network(args.nx, args.nx, spacing=40.0)
    span = (args.nx - 1) * 40.0

    def points(n: int) -> gpd.GeoSeries:
        xy = shapely.points(
            net.x.min() + rng.uniform(0, span, n), net.y.min() + rng.uniform(0, span, n)
        )
        return gpd.GeoSeries(xy, crs=net.crs).to_crs(4326)

    pop = np.round(rng.lognormal(4.5, 0.8, args.demand))
    demand = gpd.GeoDataFrame(
        {
            "demand_id": [f"d{i}" for i in range(args.demand)],
            "population": pop,
            "elderly": np.round(pop * 0.2),
            "community": [f"c{i % 400}" for i in range(args.demand)],
            "kind": "building",
        },
        geometry=points(args.demand).values,
        crs=4326,
    )
    fac = gpd.GeoDataFrame(
        {
            "facility_id": [f"f{i}" for i in range(args.existing)],
            "name": "",
            "category": CAT,
            "capacity": np.nan,
            "source": "bench",
        },
        geometry=points(args.existing).values,
        crs=4326,
    )
    base = analyse(net, demand, fac, categories=[CAT])
    cand = generate_candidates(net, base, category=CAT, spacing_m=160.0)
    if len(cand) > args.candidates:
        keep = np.sort(rng.choice(len(cand), size=args.candidates, replace=False))
        cand = cand.iloc[keep].reset_index(drop=True)
    c_snap, d_snap = snap_points(net, cand), base.demand_snap
    assert d_snap is not None
    crit = base.criteria[CAT]
    mats = build_matrices(
        net,
        c_snap,
        d_snap,
        base.demand[f"{CAT}_distance_m"].to_numpy(),
        criterion=crit,
        reach_m=crit.threshold_m * settings.siting_pmedian_reach_factor,
    )
    w = base.demand["population"].to_numpy(dtype="float64")
    sol = solve(
        "lscp", cover=mats.cover, weight=w, covered=mats.covered, time_limit_s=args.time_limit
    )
    dem = pd.DataFrame(base.demand.drop(columns="geometry"))
    runs = {"single limit": single_limit, "per-site limits": explain._site_minutes}
    times: dict[str, list[float]] = {name: [] for name in runs}
    tables = {}
    for _ in range(args.repeats):
        for name, fn in runs.items():
            t = time.perf_counter()
            minutes = fn(net, sol, mats, c_snap, d_snap)
            times[name].append(time.perf_counter() - t)
            tables[name] = explain.explain_sites(sol, mats, cand, dem, site_minutes=minutes)
    same = tables["single limit"].equals(tables["per-site limits"])
    print(
        f"lattice {args.nx}×{args.nx} ({net.n_nodes:,} nodes), {args.demand:,} demand points, "
        f"{args.existing} existing, {len(cand):,} candidates; LSCP target 1.0: "
        f"{sol.selected.size} sites ({sol.label})"
    )
    for name, values in times.items():
        print(f"{name}: {' '.join(f'{v:.2f}' for v in values)} s (best {min(values):.2f} s)")
    print(f"identical sites tables: {same}")


if __name__ == "__main__":
    main()
