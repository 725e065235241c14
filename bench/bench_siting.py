"""Siting benchmark: coverage matrix and every model at 2,000 candidates × 100,000 demand points.

Network: a synthetic lattice (default 500 × 500 nodes at 40 m, i.e. 250,000 nodes over
20 km × 20 km — labelled as such in the output; a real district of this size was not available
offline). Demand: 100,000 random points with log-normal residents (20 % elderly). Existing
elderly canteens: 60 random points. Candidates: street nodes generated in and around the gaps
(``generate_candidates``), a seeded sample of 2,000 of them.

Also measures what-if edit latency (add, remove, move a facility) on the demo districts
(``study.demo.load_demo("synthetic" | "helsinki")``) and on the benchmark lattice, against a full
re-analysis.

Run: ``/work/venv/bin/python bench/bench_siting.py [--time-limit 60]`` (writes
``bench/results_siting.md``; ``--help`` lists the sizes).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

# Run from anywhere: the project root holds the coverage/ and geo/ packages.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import geopandas as gpd
import numpy as np
import shapely

from coverage.analysis import analyse
from coverage.scenarios import Edit, apply_edits
from coverage.siting import SiteSearch, generate_candidates, models, suggest_sites
from coverage.siting.explain import coverage_curve
from coverage.siting.greedy import greedy_cover
from coverage.siting.highs import QuietHighs
from coverage.siting.matrix import build_matrices
from coverage.snap import snap_points
from geo import settings
from geo.network import lattice_network

CAT = "elderly_canteen"
logger = logging.getLogger("bench_siting")


def _points(net, x, y) -> gpd.GeoSeries:
    return gpd.GeoSeries(shapely.points(x, y), crs=net.crs).to_crs(4326)


def siting_bench(args: argparse.Namespace) -> tuple[list[list[str]], dict[str, str], tuple]:
    rng = np.random.default_rng(42)
    info: dict[str, str] = {}
    t = time.perf_counter()
    net = lattice_network(args.nx, args.nx, spacing=args.spacing)
    info["network"] = (
        f"synthetic lattice {args.nx}×{args.nx} = {net.n_nodes:,} nodes, {net.n_edges:,} edges, "
        f"{args.spacing:g} m spacing ({(args.nx - 1) * args.spacing / 1000:g} km square)"
    )
    span = (args.nx - 1) * args.spacing
    x0, y0 = net.x.min(), net.y.min()
    dx, dy = rng.uniform(0, span, args.demand), rng.uniform(0, span, args.demand)
    pop = np.round(rng.lognormal(4.5, 0.8, args.demand))
    demand = gpd.GeoDataFrame(
        {
            "demand_id": [f"d{i}" for i in range(args.demand)],
            "population": pop,
            "elderly": np.round(pop * 0.2),
            "community": [
                f"社区{int(a // 1000)}-{int(b // 1000)}" for a, b in zip(dx, dy, strict=True)
            ],
            "kind": "building",
        },
        geometry=_points(net, x0 + dx, y0 + dy).values,
        crs=4326,
    )
    fx, fy = rng.uniform(0, span, args.existing), rng.uniform(0, span, args.existing)
    facilities = gpd.GeoDataFrame(
        {
            "facility_id": [f"f{i}" for i in range(args.existing)],
            "name": [f"食堂{i}" for i in range(args.existing)],
            "category": CAT,
            "capacity": np.nan,
            "source": "bench",
        },
        geometry=_points(net, x0 + fx, y0 + fy).values,
        crs=4326,
    )
    info["build inputs"] = f"{time.perf_counter() - t:.1f} s"
    rows: list[list[str]] = []

    t = time.perf_counter()
    base = analyse(net, demand, facilities, categories=[CAT])
    t_base = time.perf_counter() - t
    crit = base.criteria[CAT]
    s = base.summary.iloc[0]
    info["baseline"] = (
        f"{args.existing} existing canteens, threshold {crit.threshold_m:.0f} m "
        f"({crit.label('en')}), coverage {s['coverage_rate']:.1%}"
    )
    rows.append(["baseline coverage (analyse, 1 category)", f"{t_base:.2f}", "", "", ""])

    t = time.perf_counter()
    cand = generate_candidates(net, base, category=CAT, spacing_m=args.cand_spacing)
    n_gen = len(cand)
    if len(cand) > args.candidates:
        keep = np.sort(rng.choice(len(cand), size=args.candidates, replace=False))
        cand = cand.iloc[keep].reset_index(drop=True)
    t_cand = time.perf_counter() - t
    rows.append(
        [
            "generate candidates",
            f"{t_cand:.2f}",
            f"{n_gen:,} generated at {args.cand_spacing:g} m, {len(cand):,} sampled",
            "",
            "",
        ]
    )

    t = time.perf_counter()
    c_snap = snap_points(net, cand)
    reach = crit.threshold_m * settings.siting_pmedian_reach_factor
    mats = build_matrices(
        net,
        c_snap,
        base.demand_snap,
        base.demand[f"{CAT}_distance_m"].to_numpy(),
        criterion=crit,
        reach_m=reach,
    )
    t_mat = time.perf_counter() - t
    cover = mats.cover
    rows.append(
        [
            f"coverage + cost matrix ({len(cand):,} × {args.demand:,}, reach {reach:.0f} m)",
            f"{t_mat:.2f}",
            f"{mats.distance.nnz:,} pairs within reach, {cover.nnz:,} within threshold",
            "",
            "",
        ]
    )
    pop_w = base.demand["population"].to_numpy(dtype="float64")
    cap = rng.choice([300.0, 600.0, 1200.0, np.nan], size=len(cand))
    runs = [
        ("mclp", {"k": args.k}),
        ("lscp", {"target": 0.9}),
        ("lscp", {"target": 1.0}),
        ("pmedian", {"k": args.k}),
        ("capacitated", {"k": args.k}),
    ]
    for model, extra in runs:
        t = time.perf_counter()
        sol = models.solve(
            model,
            cover=cover,
            cost=mats.cost_minutes,
            weight=pop_w,
            covered=mats.covered,
            base_cost=mats.base_minutes,
            capacity=cap,
            time_limit_s=args.time_limit,
            **extra,
        )
        wall = time.perf_counter() - t
        label = ", ".join(f"{k}={v}" for k, v in extra.items())
        if model == "lscp":
            obj = f"{int(sol.objective)} sites (greedy {int(sol.greedy_objective)})"
        elif model == "pmedian":
            obj = f"{sol.objective:,.0f} person-min (greedy {sol.greedy_objective:,.0f})"
        else:
            obj = f"{sol.objective:,.0f} residents (greedy {sol.greedy_objective:,.0f})"
        gap = "" if not np.isfinite(sol.gap) else f"{sol.gap * 100:.3f} %"
        rows.append(
            [
                f"{model} ({label}); "
                + (
                    f"MILP {sol.n_vars:,} vars × {sol.n_rows:,} rows"
                    if sol.n_vars
                    else f"MILP not built, {sol.method}"
                ),
                f"{wall:.2f} (HiGHS {sol.solve_s:.2f})" if sol.n_vars else f"{wall:.2f}",
                obj,
                sol.label,
                gap,
            ]
        )
        logger.info("%s %s: %.2f s, %s, gap %s", model, label, wall, sol.label, gap)
    t = time.perf_counter()
    path = greedy_cover(cover, pop_w, k=args.k, covered=mats.covered)
    rows.append(
        [
            f"greedy MCLP alone (k={args.k})",
            f"{time.perf_counter() - t:.2f}",
            f"{path.objective:,.0f} residents",
            "",
            "",
        ]
    )
    t = time.perf_counter()
    curve = coverage_curve(mats, base.demand, k_max=settings.siting_curve_max_k)
    rows.append(
        [
            f"coverage curve k=1..{settings.siting_curve_max_k}",
            f"{time.perf_counter() - t:.2f}",
            ", ".join(sorted(set(curve["method"]))),
            "",
            "",
        ]
    )
    t = time.perf_counter()
    res = suggest_sites(
        net,
        demand,
        facilities,
        category=CAT,
        search=SiteSearch(model="mclp", k=args.k, time_limit_s=args.time_limit),
        candidates=cand,
        baseline=base,
    )
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in res.timings.items())
    rows.append(
        [
            f"suggest_sites end to end (mclp k={args.k}, baseline reused)",
            f"{time.perf_counter() - t:.2f}",
            f"{len(res.sites)} sites, +{res.sites['added_population'].sum():,.0f} residents; "
            f"{steps}",
            res.status,
            "" if not np.isfinite(res.gap) else f"{res.gap * 100:.3f} %",
        ]
    )
    return rows, info, (net, demand, facilities)


def whatif_rows(
    label: str, net, demand, facilities, *, repeats: int, category: str = "health_station"
) -> list[list[str]]:
    """Latency of add / remove / move / edit+inverse against a full analysis of ``label``."""
    t = time.perf_counter()
    base = analyse(net, demand, facilities)
    t_full = time.perf_counter() - t
    fac = base.facilities
    mine = fac[fac["category"] == category]
    victim = mine.iloc[0]["facility_id"]
    other = mine.iloc[1].geometry
    ext = demand.geometry.iloc[len(demand) // 2]
    edits = {
        f"add one {category}": [
            Edit.add(category=category, lon=ext.x, lat=ext.y, facility_id="bench-new")
        ],
        f"remove one {category}": [Edit.remove(victim)],
        f"move one {category}": [Edit.move(victim, lon=other.x, lat=other.y)],
        "edit + its inverse": [Edit.remove(victim), Edit.remove(victim).inverse(fac)],
    }
    rows = [
        [
            label,
            f"full analyse ({net.n_nodes:,} nodes, {len(demand):,} demand, {len(fac)} "
            f"facilities, {len(base.categories)} categories)",
            f"{t_full * 1000:.0f}",
            "",
        ]
    ]
    for name, ed in edits.items():
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            sc = apply_edits(base, net, ed)
            times.append(time.perf_counter() - t)
        kinds = ", ".join(f"{v}" for v in sc.changed.values() if v != "unchanged") or "none"
        rows.append([label, name, f"{statistics.median(times) * 1000:.1f}", kinds])
    return rows


def whatif_bench(repeats: int, big: tuple | None = None) -> list[list[str]]:
    from study.demo import load_demo

    rows = []
    for name in ("synthetic", "helsinki"):
        demo = load_demo(name)
        rows += whatif_rows(
            f"demo {name}", demo.network, demo.demand, demo.facilities, repeats=repeats
        )
    if big is not None:
        net, demand, facilities = big
        rows += whatif_rows(
            "bench lattice",
            net,
            demand,
            facilities,
            repeats=max(1, repeats // 3),
            category=CAT,
        )
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--nx", type=int, default=500)
    p.add_argument("--spacing", type=float, default=40.0)
    p.add_argument("--demand", type=int, default=100_000)
    p.add_argument("--existing", type=int, default=60)
    p.add_argument("--candidates", type=int, default=2000)
    p.add_argument("--cand-spacing", type=float, default=160.0)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--time-limit", type=float, default=60.0)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--out", type=Path, default=Path(__file__).with_name("results_siting.md"))
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    rows, info, big = siting_bench(args)
    what = whatif_bench(args.repeats, big)
    lines = [
        "# Siting benchmark",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on "
        f"{platform.processor() or platform.machine()} ({os.cpu_count()} cores), "
        f"Python {platform.python_version()}, HiGHS {QuietHighs().version()} via highspy; "
        f"time limit {args.time_limit:g} s per model, relative gap target "
        f"{settings.solver_mip_gap:g}.",
        "",
        *[f"- **{k}**: {v}" for k, v in info.items()],
        "",
        "| step | seconds | result | status | gap |",
        "|---|---|---|---|---|",
        *["| " + " | ".join(r) + " |" for r in rows],
        "",
        "## What-if edits",
        "",
        f"Median of {args.repeats} runs of `apply_edits` (milliseconds; the bench lattice "
        f"{max(1, args.repeats // 3)} runs), against one full `analyse` of the same data.",
        "",
        "| data | edit | ms | categories recomputed |",
        "|---|---|---|---|",
        *["| " + " | ".join(r) + " |" for r in what],
        "",
    ]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    logger.info("wrote %s", args.out)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
