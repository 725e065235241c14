"""Per-session state and the cached calls into the core.

This is the only module with Streamlit caching decorators. Rules that keep sessions apart and
reruns cheap:

* everything that belongs to one browser session lives in ``st.session_state`` (the current
  :class:`Dataset`, the criteria, scenarios, trial sites, the language);
* shared, expensive and immutable objects (demo networks, analysis results, maps) are cached with
  ``st.cache_resource`` keyed on *content* (a demo name, a file digest, the criteria tuple). The
  core is pure, so sharing them is safe as long as nobody writes into them: callers copy before
  changing a frame;
* small frames and bytes (parsed uploads, exports) go through ``st.cache_data``, which hands each
  caller its own copy.

Core modules are imported inside the functions so a page that does not need a module still works
while that module is missing, and so the error shown names the module.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo import settings
from geo.errors import CoverageToolError
from geo.network import Network
from study import service
from study.model import Study, demo_study, digest, frame_token

# Re-exported: pages and tests use them as ``state.CriteriaChoice`` and so on.
from study.options import CriteriaChoice, SitingParams

logger = logging.getLogger(__name__)

# Session-state keys (one place, so pages and tests agree).
LANG = "lang"
DATASET = "dataset"
CRITERIA = "criteria"
SCENARIOS = "scenarios"
TRIAL_SITES = "trial_sites"
SITING = "siting"
SITING_CANDIDATES = "siting_candidates"  # how many candidates the last siting run was given
SELECTED_GAP = "selected_gap"
MAP_CATEGORY = "map_category"

WGS84 = "EPSG:4326"


#: The session's study; the typed bundle lives in the service (``study.model.Study``).
Dataset = Study


# --------------------------------------------------------------------------------------------
# Session state
# --------------------------------------------------------------------------------------------


def init() -> None:
    """Put the per-session defaults into ``st.session_state`` (idempotent)."""
    ss = st.session_state
    ss.setdefault(SCENARIOS, {})
    ss.setdefault(TRIAL_SITES, [])


def lang() -> str:
    """Interface language of this session: "zh" or "en"."""
    value = st.session_state.get(LANG) or settings.default_language
    return "en" if value == "en" else "zh"


def dataset() -> Dataset:
    """The session's dataset; the synthetic demo until the planner loads something else."""
    ds = st.session_state.get(DATASET)
    if ds is None:
        ds = demo_dataset("synthetic")
        st.session_state[DATASET] = ds
    return ds


def set_dataset(ds: Dataset) -> None:
    """Make ``ds`` the session's dataset and drop everything computed from the previous one."""
    st.session_state[DATASET] = ds
    for key in (SITING, SELECTED_GAP, CRITERIA, MAP_CATEGORY):
        st.session_state.pop(key, None)
    # Widgets of the other pages are reseeded from the new data's defaults.
    for key in [k for k in st.session_state if isinstance(k, str)]:
        if key.startswith(("cov_", "gaps_", "sites_", "cmp_", "exp_", "trial_")):
            del st.session_state[key]
    st.session_state[SCENARIOS] = {}
    st.session_state[TRIAL_SITES] = []
    st.session_state.pop("trial_removed", None)


def criteria_choice() -> CriteriaChoice:
    """The session's coverage settings (all categories with facilities, taxonomy defaults)."""
    choice = st.session_state.get(CRITERIA)
    ds = dataset()
    if choice is None:
        choice = CriteriaChoice(categories=present_categories(ds))
        st.session_state[CRITERIA] = choice
    return choice


def set_criteria_choice(choice: CriteriaChoice) -> None:
    """Store the coverage settings."""
    st.session_state[CRITERIA] = choice


def siting_run(ds: Dataset, choice: CriteriaChoice) -> tuple[SitingParams, Any] | None:
    """The session's last siting run when it still belongs to ``ds`` and ``choice``.

    A run belongs to the data and the *effective* criteria it was made for: changing a criterion
    and changing it back keeps the run.
    """
    run = st.session_state.get(SITING)
    if not run:
        return None
    params, result, data_key, run_choice = run[:4]
    if data_key != ds.key or run_choice.effective() != choice.effective():
        return None
    return params, result


def present_categories(ds: Dataset) -> tuple[str, ...]:
    """Taxonomy keys that have at least one facility, in taxonomy order."""
    from geo.taxonomy import categories

    have = set(ds.facilities["category"].astype(str)) if len(ds.facilities) else set()
    return tuple(k for k in categories() if k in have)


# --------------------------------------------------------------------------------------------
# Cached loaders (shared across sessions, keyed on content)
# --------------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=4)
def _demo(name: str) -> Study:
    return demo_study(name)


def demo_dataset(name: str) -> Dataset:
    """The embedded demo ``name`` ("synthetic" or "helsinki") as a dataset (shared)."""
    return _demo(name)


def _suffix(filename: str) -> str:
    name = filename.lower()
    for suffix in (".osm.pbf", ".osm", ".pbf", ".graphml", ".zip", ".gpkg", ".geojson"):
        if name.endswith(suffix):
            return suffix
    return Path(name).suffix or ".osm"


@st.cache_resource(show_spinner=False, max_entries=8)
def _network_from_bytes(token: str, filename: str, mode: str, _data: bytes) -> tuple[Network, Any]:
    from geo.roads import load_network_file

    with tempfile.TemporaryDirectory(prefix="lcc-upload-") as tmp:
        path = Path(tmp) / f"network{_suffix(filename)}"
        path.write_bytes(_data)
        logger.info("loading uploaded network %s (%d bytes, %s)", filename, len(_data), mode)
        try:
            network = load_network_file(path, mode=mode)
        except CoverageToolError as exc:
            # Name the planner's file, not the temporary copy.
            from ui.errors import renamed

            raise renamed(exc, {str(path): filename, path.name: filename}) from exc
        facilities = None
        if _suffix(filename) in (".osm", ".osm.pbf", ".pbf"):
            # An OSM extract also holds the facilities; read them from the same file.
            from geo.osm_features import facilities_from_osm

            try:
                facilities = facilities_from_osm(path)
            except Exception as exc:
                logger.warning("no facilities read from %s: %s", filename, exc)
    return network, facilities


def network_from_upload(filename: str, data: bytes, *, mode: str) -> tuple[Network, Any]:
    """Load an uploaded network file (cached on its content and the mode).

    Returns the network and, for OSM extracts, the facilities tagged in the file (else None).
    """
    return _network_from_bytes(digest(data), filename, mode, data)


@st.cache_resource(show_spinner=False, max_entries=8)
def _network_from_place(place: str, mode: str) -> Network:
    from geo.roads import load_network_place

    return load_network_place(place, mode=mode)


def network_from_place(place: str, *, mode: str) -> Network:
    """Download (or read from the disk cache) the network of a place name."""
    return _network_from_place(place.strip(), mode)


@st.cache_data(show_spinner=False, max_entries=16)
def read_upload_table(token: str, filename: str, _data: bytes) -> tuple[pd.DataFrame, Any]:
    """Read an uploaded table (encoding detected by the core) for preview and column mapping.

    Returns the frame (geometry as text for GIS files) and the reader's ``TableInfo``.
    """
    from geo.tables import read_table

    frame, info = read_table(_data, name=filename)
    frame = pd.DataFrame(frame)
    if "geometry" in frame:
        frame["geometry"] = frame["geometry"].astype(str).str.slice(0, 60)
    return frame, info


@st.cache_data(show_spinner=False, max_entries=16)
def load_facilities_upload(
    token: str,
    filename: str,
    options: tuple[tuple[str, Any], ...],
    network_key: str,
    _data: bytes,
    _network: Network | None = None,
) -> tuple[gpd.GeoDataFrame, Any]:
    """Run the facility loader on an uploaded file with the chosen mapping and CRS.

    With ``_network`` the loader also checks which datum (WGS-84 / GCJ-02 / BD-09) fits the
    streets best and suggests a switch in the report.
    """
    from geo.facilities import load_facilities

    return load_facilities(_data, name=filename, network=_network, **dict(options))


# --------------------------------------------------------------------------------------------
# Cached analysis (shared, immutable results)
# --------------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=24)
def _analysis(data_key: str, choice: CriteriaChoice, _ds: Dataset) -> Any:
    return service.analyse(_ds, choice)


def analysis(ds: Dataset, choice: CriteriaChoice) -> Any:
    """Coverage result of ``ds`` under ``choice`` (computed once per content, then shared)."""
    return _analysis(ds.key, choice, ds)


@st.cache_resource(show_spinner=False, max_entries=48)
def _gaps(data_key: str, choice: CriteriaChoice, category: str, _result: Any) -> gpd.GeoDataFrame:
    return service.gaps(_result, category=category)


def gaps(ds: Dataset, choice: CriteriaChoice, category: str) -> gpd.GeoDataFrame:
    """Ranked gaps of one category (shared; copy before changing)."""
    return _gaps(ds.key, choice, category, analysis(ds, choice))


@st.cache_resource(show_spinner=False, max_entries=64)
def _service_areas(
    result_key: str,
    choice: CriteriaChoice,
    category: str,
    kinds: tuple[str, ...],
    _ds: Dataset,
    _result: Any,
) -> gpd.GeoDataFrame:
    crit = choice.criteria()[category]
    return service.service_areas(
        _ds, _result, category=category, thresholds_m=[crit.threshold_m], kinds=kinds
    )


def service_areas(
    ds: Dataset,
    choice: CriteriaChoice,
    category: str,
    edits: tuple[Any, ...] = (),
    *,
    kinds: tuple[str, ...] = ("dissolved",),
) -> gpd.GeoDataFrame:
    """Service areas of one category at its threshold, with ``edits`` applied (shared).

    The maps draw the dissolved area only (the default); per-facility and nearest-split areas
    cost about 4x more (0.9 s vs 0.2 s at 3 km on the demo) and are built for exports.
    """
    if edits:
        applied = scenario_result(ds, choice, edits, name="what-if")
        key = f"{ds.key}|edits={edits_token(edits)}"
        return _service_areas(key, choice, category, kinds, ds, applied.result)
    return _service_areas(ds.key, choice, category, kinds, ds, analysis(ds, choice))


def edits_token(edits: tuple[Any, ...]) -> str:
    """Content token of a list of scenario edits."""
    import json

    text = json.dumps([e.to_dict() for e in edits], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@st.cache_resource(show_spinner=False, max_entries=32)
def _scenario(
    data_key: str, choice: CriteriaChoice, token: str, name: str, _ds: Dataset, _edits: Any
) -> Any:
    return service.apply_edits(analysis(_ds, choice), _ds, _edits, name=name)


def scenario_result(
    ds: Dataset, choice: CriteriaChoice, edits: tuple[Any, ...], *, name: str
) -> Any:
    """``ScenarioResult`` of ``edits`` on the baseline (incremental, cached, shared)."""
    return _scenario(ds.key, choice, edits_token(edits), name, ds, tuple(edits))


def cached(name: str, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    """Memoise ``build()`` under ``(name, key)`` for all sessions (for maps and similar)."""
    return _memo(name, key, build)


@st.cache_resource(show_spinner=False, max_entries=64)
def _memo(name: str, key: tuple[Any, ...], _build: Callable[[], Any]) -> Any:
    return _build()


# --------------------------------------------------------------------------------------------
# Siting (cached on the dataset, criteria, model parameters and candidate file)
# --------------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=16)
def _siting_candidates(
    data_key: str,
    choice: CriteriaChoice,
    params: SitingParams,
    cand_token: str,
    _ds: Dataset,
    _uploaded: gpd.GeoDataFrame | None,
) -> gpd.GeoDataFrame:
    return service.siting_candidates(_ds, analysis(_ds, choice), params, _uploaded)


@st.cache_resource(show_spinner=False, max_entries=16)
def _siting(
    data_key: str,
    choice: CriteriaChoice,
    params: SitingParams,
    cand_token: str,
    _ds: Dataset,
    _uploaded: gpd.GeoDataFrame | None,
) -> Any:
    baseline = analysis(_ds, choice)
    candidates = _siting_candidates(data_key, choice, params, cand_token, _ds, _uploaded)
    return service.suggest_sites(_ds, baseline, params, candidates=candidates)


def siting_candidates(
    ds: Dataset,
    choice: CriteriaChoice,
    params: SitingParams,
    uploaded: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """The candidate sites handed to the siting model for ``params`` (shared; do not change)."""
    token = frame_token(uploaded) if uploaded is not None else ""
    return _siting_candidates(ds.key, choice, params, token, ds, uploaded)


def siting(
    ds: Dataset,
    choice: CriteriaChoice,
    params: SitingParams,
    uploaded: gpd.GeoDataFrame | None = None,
) -> Any:
    """Suggested sites (``SitingResult``) for ``params`` (shared; copy before changing)."""
    token = frame_token(uploaded) if uploaded is not None else ""
    return _siting(ds.key, choice, params, token, ds, uploaded)


# --------------------------------------------------------------------------------------------
# Living-circle evaluation (tiers, basic/quality compliance, supply per 1,000; issue 12 §6)
# --------------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=16)
def _evaluation(data_key: str, choice: CriteriaChoice, _ds: Dataset) -> dict[str, Any]:
    from coverage.compliance import compliance
    from coverage.supply import supply_table
    from coverage.tiers import tier_table

    result = analysis(_ds, choice)
    comp = compliance(result)
    return {
        "tiers": tier_table(result),
        # As the CLI (study.pipeline._evaluation) places facilities, so the app's and the
        # CLI's workbooks are equal: by the facility/demand community, not the polygons.
        "supply": supply_table(_ds.network, result),
        "compliance": comp.per_group,
        "compliance_summary": comp.summary,
        "least_served": comp.least_served,
    }


def evaluation(ds: Dataset, choice: CriteriaChoice) -> dict[str, Any]:
    """Tier table, compliance and supply of ``ds`` under ``choice`` (shared; copy to change).

    The keys are those of ``RunResult.evaluation`` (``tiers``, ``supply``, ``compliance``,
    ``compliance_summary``, ``least_served``), so the app and the CLI show the same tables.
    """
    return _evaluation(ds.key, choice, ds)


@st.cache_resource(show_spinner=False, max_entries=16)
def _tiers(data_key: str, choice: CriteriaChoice, _ds: Dataset) -> pd.DataFrame:
    from coverage.tiers import tier_table

    return tier_table(analysis(_ds, choice))


def tiers(ds: Dataset, choice: CriteriaChoice) -> pd.DataFrame:
    """The tier table alone (shared; copy to change): the Coverage page's matrix needs no more.

    Computing compliance and supply as well (``evaluation``) costs a third of a second on the
    demo, which a planner waits for after every network edit drawn on the Coverage map.
    """
    return _tiers(ds.key, choice, ds)


@st.cache_resource(show_spinner=False, max_entries=16)
def _unmet_weights(data_key: str, choice: CriteriaChoice, category: str, _ds: Dataset) -> Any:
    from coverage.supply import unmet_supply_weights

    return unmet_supply_weights(_ds.network, analysis(_ds, choice), category=category)


def unmet_weights(ds: Dataset, choice: CriteriaChoice, category: str) -> pd.Series:
    """Residents per demand point weighted by the unmet supply of ``category`` (shared)."""
    return _unmet_weights(ds.key, choice, category, ds)


@st.cache_resource(show_spinner=False, max_entries=16)
def _siting_weighted(
    data_key: str,
    choice: CriteriaChoice,
    params: SitingParams,
    cand_token: str,
    weight: str,
    _ds: Dataset,
    _uploaded: gpd.GeoDataFrame | None,
) -> Any:
    from coverage.siting import suggest_sites

    baseline = analysis(_ds, choice)
    candidates = _siting_candidates(data_key, choice, params, cand_token, _ds, _uploaded)
    demand = _ds.demand.copy()
    # The weight column travels by demand id into the model (coverage.siting.explain).
    demand["unmet_supply"] = unmet_weights(_ds, choice, params.category).to_numpy()
    return suggest_sites(
        _ds.network,
        demand,
        _ds.facilities,
        category=params.category,
        # The same request as the unweighted path (limits, spacing), with its own weight.
        search=params.search(weight=weight),
        candidates=candidates,
        baseline=baseline,
    )


def siting_weighted(
    ds: Dataset,
    choice: CriteriaChoice,
    params: SitingParams,
    uploaded: gpd.GeoDataFrame | None = None,
    *,
    weight: str = "population",
) -> Any:
    """:func:`siting` with the demand weighted by ``weight`` ("population" | "unmet_supply").

    ``"population"`` is :func:`siting` itself (the same cached result); ``"unmet_supply"``
    weights each demand point by the residents whose supply target is not reachable.
    """
    if weight == "population":
        return siting(ds, choice, params, uploaded)
    token = frame_token(uploaded) if uploaded is not None else ""
    return _siting_weighted(ds.key, choice, params, token, weight, ds, uploaded)


# Network what-ifs and project files (issue 13). Kept in their own functions at the end so the
# study-service restructuring of this module merges cleanly.
# --------------------------------------------------------------------------------------------

NETWORK_EDITS = "network_edits"  # (base network, base token, edits, edited token)


@st.cache_resource(show_spinner=False, max_entries=8)
def _edited_network(base_token: str, token: str, _network: Network, _edits: Any) -> Any:
    from geo.network_edits import apply_network_edits

    return apply_network_edits(_network, list(_edits))


def network_edits_token(edits: tuple[Any, ...]) -> str:
    """Content token of network edits (``NetworkEdit`` dataclasses)."""
    import dataclasses
    import json

    text = json.dumps([dataclasses.asdict(e) for e in edits], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _network_edit_record(ds: Dataset) -> tuple[Network, str, tuple[Any, ...]]:
    """The base network, its token and the live edits of ``ds``'s network.

    The record belongs to the network it produced: once another network is loaded (its token
    differs) the edits are stale, and the dataset's network is the base.
    """
    token = dict(ds.parts).get("network", ds.key)
    rec = st.session_state.get(NETWORK_EDITS)
    if rec is not None and rec[3] == token:
        return rec[0], rec[1], tuple(rec[2])
    return ds.network, token, ()


def network_edits() -> tuple[Any, ...]:
    """The network edits applied to the session's network (in order)."""
    return _network_edit_record(dataset())[2]


def base_network() -> Network:
    """The session's network before its network edits."""
    return _network_edit_record(dataset())[0]


def network_edit_report() -> pd.DataFrame | None:
    """The report of :func:`geo.network_edits.apply_network_edits` for the live edits."""
    base, base_token, edits = _network_edit_record(dataset())
    if not edits:
        return None
    return _edited_network(base_token, network_edits_token(edits), base, edits)[1]


def set_network_edits(edits: tuple[Any, ...] | list[Any]) -> Dataset:
    """Replace the session network by the base network with ``edits`` applied (in order).

    Criteria, scenarios and trial sites are kept (they do not depend on the streets); the siting
    run and the picked gap are dropped because they were computed on the old streets.

    Raises
    ------
    geo.network_edits.NetworkEditError
        When an edit cannot be applied (the session is left as it was).
    """
    ds = dataset()
    base, base_token, _ = _network_edit_record(ds)
    edits = tuple(edits)
    if edits:
        network, _ = _edited_network(base_token, network_edits_token(edits), base, edits)
        token = f"{base_token}+net={network_edits_token(edits)}"
    else:
        network, token = base, base_token
    new = ds.with_part("network", token, network=network)
    st.session_state[NETWORK_EDITS] = (base, base_token, edits, token) if edits else None
    st.session_state[DATASET] = new
    for key in (SITING, SELECTED_GAP):
        st.session_state.pop(key, None)
    return new


def project_meta(
    ds: Dataset,
    *,
    choice: CriteriaChoice,
    scenarios: list[Any],
    edits: tuple[Any, ...],
    language: str,
) -> dict[str, Any]:
    """The metadata a project file keeps besides the layers (JSON-safe)."""
    import dataclasses

    from coverage.scenarios import FILE_VERSION

    return {
        "title": ds.label,
        "label": ds.label,
        "label_en": ds.label_en,
        "synthetic": ds.synthetic,
        "attribution": ds.attribution,
        "sources": list(ds.sources),
        "criteria_choice": dataclasses.asdict(choice),
        # The JSON the Compare page saves (coverage.scenarios.save_scenarios).
        "scenarios": {"version": FILE_VERSION, "scenarios": [s.to_dict() for s in scenarios]},
        "network_edits": [dataclasses.asdict(e) for e in edits],
        # The network saved is the one before the edits; they are applied again on opening.
        "network_is_base": True,
        "language": language,
    }


def project_file(ds: Dataset, *, network: Network, meta: dict[str, Any]) -> bytes:
    """The bytes of a project file (``*.lcc.gpkg``) of ``ds`` with ``network`` and ``meta``.

    Reads no session state, so ``st.download_button`` can call it on its own thread.
    """
    from study.project import save_project

    with tempfile.TemporaryDirectory(prefix="lcc-project-") as tmp:
        path = save_project(
            Path(tmp) / "study.lcc.gpkg",
            network=network,
            facilities=ds.facilities,
            demand=ds.demand,
            boundary=ds.boundary,
            communities=ds.communities,
            meta=meta,
        )
        return path.read_bytes()


def project_download() -> Callable[[], bytes]:
    """A no-argument function that writes the session's study as a project file.

    The session is read now (data, criteria, scenarios, network edits, language); the file is
    written only when the planner clicks the download button.
    """
    ds = dataset()
    base, _, edits = _network_edit_record(ds)
    meta = project_meta(
        ds,
        choice=criteria_choice(),
        scenarios=list(dict(st.session_state.get(SCENARIOS, {})).values()),
        edits=edits,
        language=lang(),
    )
    return lambda: project_file(ds, network=base, meta=meta)


def open_project_bytes(data: bytes, *, filename: str = "project.lcc.gpkg") -> Dataset:
    """Make an uploaded project file the session's study (data, criteria, scenarios, edits).

    Raises
    ------
    study.project.ProjectError
        When the file is not a project file or of another version (the message names it).
    """
    from coverage.scenarios import Scenario
    from geo.network_edits import edits_from_config
    from study.project import ProjectError, open_project

    with tempfile.TemporaryDirectory(prefix="lcc-project-") as tmp:
        path = Path(tmp) / (Path(filename).name or "project.lcc.gpkg")
        path.write_bytes(data)
        try:
            proj = open_project(path)
        except ProjectError as exc:
            from ui.errors import renamed

            raise renamed(exc, {str(path): path.name}) from exc
    meta = proj.meta
    token = digest(data)
    ds = Dataset(
        label=str(meta.get("label") or meta.get("title") or Path(filename).name),
        label_en=str(meta.get("label_en") or ""),
        network=proj.network,
        facilities=proj.facilities,
        demand=proj.demand,
        boundary=proj.boundary,
        communities=proj.communities,
        synthetic=bool(meta.get("synthetic", False)),
        attribution=str(meta.get("attribution") or ""),
        parts=(
            ("network", f"project:{token}"),
            ("facilities", f"project:{token}"),
            ("demand", f"project:{token}"),
        ),
        sources=(f"project:{Path(filename).name}",),
    )
    set_dataset(ds)
    raw = meta.get("criteria_choice")
    if raw:
        set_criteria_choice(
            CriteriaChoice(
                categories=tuple(raw.get("categories", ())),
                kind=str(raw.get("kind", "default")),
                minutes=float(raw.get("minutes", 15.0)),
                metres=float(raw.get("metres", 3000.0)),
                profile=str(raw.get("profile", "")),
            )
        )
    scen = (meta.get("scenarios") or {}).get("scenarios", [])
    st.session_state[SCENARIOS] = {s.name: s for s in (Scenario.from_dict(item) for item in scen)}
    if meta.get("language") in ("zh", "en"):
        st.session_state[LANG] = meta["language"]
    edits = edits_from_config(list(meta.get("network_edits") or []))
    if edits and meta.get("network_is_base"):
        # A CLI run saves the network with its edits already applied: they are a record only.
        ds = set_network_edits(tuple(edits))
    return ds
