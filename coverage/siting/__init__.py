"""Site suggestions: candidates, coverage matrices, exact models (HiGHS) and explanations.

``suggest_sites`` is the one high-level entry point (used by the CLI ``[siting]`` table and the
app); the array-level models in :mod:`coverage.siting.models` follow spopt's pattern of a plain
coverage/cost matrix entry point that the GeoDataFrame layer builds and delegates to.
"""

from coverage.siting.candidates import (
    as_candidates,
    candidates_from_file,
    combine,
    generate_candidates,
)
from coverage.siting.explain import (
    SiteSearch,
    SitingResult,
    coverage_curve,
    explain_sites,
    suggest_sites,
)
from coverage.siting.matrix import SitingMatrices, build_matrices
from coverage.siting.models import MODELS, ModelSolution, capacitated, lscp, mclp, pmedian, solve

__all__ = [
    "MODELS",
    "ModelSolution",
    "SiteSearch",
    "SitingMatrices",
    "SitingResult",
    "as_candidates",
    "build_matrices",
    "candidates_from_file",
    "capacitated",
    "combine",
    "coverage_curve",
    "explain_sites",
    "generate_candidates",
    "lscp",
    "mclp",
    "pmedian",
    "solve",
    "suggest_sites",
]
