"""The analysis steps of a study, shared by the CLI and the app.

Each function takes a :class:`~study.model.Study` (or a result computed from one) and typed
options, and returns what ``coverage/`` returns. They are pure and uncached: the app adds
``st.cache_*`` on top in ``ui/state.py``, the CLI composes them in :func:`study.pipeline.run`.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd

from study.model import Study
from study.options import CriteriaChoice, SitingParams

__all__ = [
    "analyse",
    "apply_edits",
    "completeness",
    "gaps",
    "service_areas",
    "siting_candidates",
    "suggest_sites",
]


def analyse(
    study: Study,
    choice: CriteriaChoice,
    *,
    tolerance_m: float | None = None,
    engine: str | None = None,
) -> Any:
    """Coverage of ``study`` under ``choice`` (a :class:`coverage.analysis.CoverageResult`).

    Parameters
    ----------
    study
        The study to analyse.
    choice
        Categories and criteria.
    tolerance_m
        Snap tolerance (None: ``settings``).
    engine
        Search engine (None: ``settings``).

    Returns
    -------
    CoverageResult
    """
    from coverage.analysis import analyse as _analyse

    return _analyse(
        study.network,
        study.demand,
        study.facilities,
        categories=list(choice.categories),
        criteria=choice.criteria(),
        tolerance_m=tolerance_m,
        engine=engine,
    )


def gaps(result: Any, *, category: str) -> gpd.GeoDataFrame:
    """Ranked gaps of one category of a coverage result (see :func:`coverage.gaps.find_gaps`)."""
    from coverage.gaps import find_gaps

    return find_gaps(result, category=category)


def completeness(result: Any, choice: CriteriaChoice) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-point and per-community completeness of the chosen categories.

    See :func:`coverage.completeness.completeness`; the per-community table is the compact
    one the reports and the app's exports show.
    """
    from coverage.completeness import completeness as _completeness

    return _completeness(result, categories=list(choice.categories))


def service_areas(
    study: Study,
    result: Any,
    *,
    category: str,
    thresholds_m: list[float] | None = None,
    kinds: tuple[str, ...] | None = None,
) -> gpd.GeoDataFrame:
    """Service areas of one category (at its criterion's threshold unless ``thresholds_m``).

    Parameters
    ----------
    study
        The study ``result`` was computed on (its network).
    result
        A coverage or scenario result.
    category
        Category key.
    thresholds_m
        Distances in metres (default: the category's criterion threshold).
    kinds
        Which areas (default: those of :func:`coverage.service_areas.service_areas`).

    Returns
    -------
    geopandas.GeoDataFrame
    """
    from coverage.service_areas import service_areas as _service_areas

    if thresholds_m is None:
        thresholds_m = [result.criteria[category].threshold_m]
    options: dict[str, Any] = {} if kinds is None else {"kinds": kinds}
    return _service_areas(
        study.network, result, category=category, thresholds_m=thresholds_m, **options
    )


def apply_edits(baseline: Any, study: Study, edits: tuple[Any, ...], *, name: str) -> Any:
    """A what-if scenario: ``edits`` applied to the baseline (incremental).

    See :func:`coverage.scenarios.apply_edits`; returns its ``ScenarioResult``.
    """
    from coverage.scenarios import apply_edits as _apply_edits

    return _apply_edits(baseline, study.network, edits, name=name)


def siting_candidates(
    study: Study,
    baseline: Any,
    params: SitingParams,
    uploaded: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """The candidate sites handed to the siting model for ``params``.

    Generated street nodes (``params.candidates`` "generate" or "both", or no upload), the
    uploaded sites ("upload" or "both"), or both combined; the capacitated model fills unknown
    capacities with ``params.capacity``.
    """
    from coverage.siting.candidates import as_candidates, combine, generate_candidates

    frames = []
    if params.candidates in ("generate", "both") or uploaded is None:
        frames.append(
            generate_candidates(
                study.network, baseline, category=params.category, spacing_m=params.spacing_m
            )
        )
    if params.candidates in ("upload", "both") and uploaded is not None:
        frames.append(as_candidates(uploaded, source="upload"))
    candidates = combine(*frames) if len(frames) > 1 else frames[0]
    if params.model == "capacitated" and params.capacity > 0:
        # Candidates without a known capacity get the one the planner typed.
        candidates = candidates.copy()
        cap = pd.to_numeric(candidates["capacity"], errors="coerce")
        candidates["capacity"] = cap.fillna(params.capacity)
    return candidates


def suggest_sites(
    study: Study,
    baseline: Any,
    params: SitingParams,
    *,
    candidates: gpd.GeoDataFrame | None = None,
) -> Any:
    """Suggested new sites (a ``SitingResult``) for ``params`` on the baseline coverage.

    Parameters
    ----------
    study
        The study ``baseline`` was computed on.
    baseline
        Its coverage result (must include ``params.category``).
    params
        Model, k / target, weight and limits.
    candidates
        The candidate sites (default: :func:`siting_candidates` of ``params``).

    Returns
    -------
    SitingResult
    """
    from coverage.siting import suggest_sites as _suggest_sites

    if candidates is None:
        candidates = siting_candidates(study, baseline, params)
    return _suggest_sites(
        study.network,
        study.demand,
        study.facilities,
        category=params.category,
        search=params.search(),
        candidates=candidates,
        baseline=baseline,
    )
