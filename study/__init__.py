"""The study service: one Streamlit-free way to load, analyse, site, edit and write a study.

Used alike by ``cli.py``, the app (through ``ui/``, which only adds caching and session state) and
batch runs over many districts::

    from study import analyse, demo_study, CriteriaChoice

    s = demo_study("synthetic")
    result = analyse(s, CriteriaChoice(categories=("elderly_canteen",)))

A configuration goes ``load_config`` → ``study_from_config`` → ``analyse`` / ``gaps`` /
``service_areas`` / ``suggest_sites`` (``run`` composes them) → ``write_outputs`` /
``write_reports``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from study.model import Study, demo_study
from study.options import CriteriaChoice, SitingParams
from study.pipeline import (
    RunConfig,
    RunResult,
    demo_config,
    load_config,
    run,
    siting_params,
    study_from_config,
    write_outputs,
)
from study.service import (
    analyse,
    apply_edits,
    completeness,
    gaps,
    service_areas,
    siting_candidates,
    suggest_sites,
)

__all__ = [
    "CriteriaChoice",
    "RunConfig",
    "RunResult",
    "SitingParams",
    "Study",
    "analyse",
    "apply_edits",
    "completeness",
    "demo_config",
    "demo_study",
    "gaps",
    "load_config",
    "run",
    "service_areas",
    "siting_candidates",
    "siting_params",
    "study_from_config",
    "suggest_sites",
    "write_outputs",
    "write_reports",
]


def write_reports(
    res: RunResult, out_dir: str | Path, *, formats: str | list[str], lang: str = "zh"
) -> dict[str, Path]:
    """Write a run's reports (the app's Export page files: HTML, PNG, XLSX, GPKG, PDF, PPTX).

    See :func:`maps.export_bundle.write_run_reports`.
    """
    from maps.export_bundle import write_run_reports

    written: dict[str, Any] = write_run_reports(res, out_dir, formats=formats, lang=lang)
    return written
