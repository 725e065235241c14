"""The candidate × demand matrices every siting model runs on, from network distances.

One exact origin–destination search (:func:`coverage.distance.od_matrix`, a batched
multi-source Dijkstra with the walk to the street included at both ends) gives the network
distance from every candidate to every demand point within a reach. From it:

* ``cover``: candidate covers point when the distance is within the category's threshold
  (``d <= T + COVER_TOL_M``, the same rule as :func:`coverage.analysis.analyse`);
* ``cost_minutes``: walking minutes for p-median, for pairs within the reach;
* ``covered``: points the existing facilities of the category already cover (a fixed vector:
  existing facilities are never variables), and ``base_minutes``, each point's time to its
  nearest existing facility, capped at the reach so the objective stays finite.

For p-median the reach is ``threshold × settings.siting_pmedian_reach_factor``; a point farther
than that from every facility counts as "reach minutes" away (planners compare walks inside and
around the living circle, not 40-minute walks). The coverage models need only the threshold.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from coverage.distance import COVER_TOL_M, od_matrix
from coverage.snap import Snap
from geo.errors import SolverError
from geo.messages import msg
from geo.network import Network
from geo.taxonomy import Criterion

logger = logging.getLogger(__name__)

__all__ = ["SitingMatrices", "build_matrices"]


@dataclass(frozen=True)
class SitingMatrices:
    """Network distances between candidates and demand, and the existing facilities' coverage.

    Attributes
    ----------
    distance
        CSR ``(n_candidates, n_demand)`` metres for pairs within ``reach_m``; a zero distance is
        stored as a tiny positive value (:data:`coverage.distance.OD_ZERO_M`).
    existing_m
        ``(n_demand,)`` metres to the nearest existing facility of the category (``inf`` when
        none reaches).
    threshold_m, reach_m, speed_mps
        The category's threshold, the matrix's reach (≥ threshold) and the walking speed.
    """

    distance: sparse.csr_matrix
    existing_m: np.ndarray
    threshold_m: float
    reach_m: float
    speed_mps: float

    @property
    def cover(self) -> sparse.csr_matrix:
        """Candidate × demand 0/1 matrix: within the threshold."""
        m = self.distance.copy()
        m.data = (m.data <= self.threshold_m + COVER_TOL_M).astype("float64")
        m.eliminate_zeros()
        return m

    @property
    def covered(self) -> np.ndarray:
        """Points already covered by the existing facilities."""
        return self.existing_m <= self.threshold_m + COVER_TOL_M

    @property
    def cost_minutes(self) -> sparse.csr_matrix:
        """Candidate × demand walking minutes within the reach (explicit entries kept)."""
        d = self.distance
        return sparse.csr_matrix(
            (d.data / self.speed_mps / 60.0, d.indices, d.indptr), shape=d.shape
        )

    @property
    def base_minutes(self) -> np.ndarray:
        """Each point's minutes to its nearest existing facility, capped at the reach."""
        return np.minimum(self.existing_m, self.reach_m) / self.speed_mps / 60.0

    def minutes(self, metres: np.ndarray) -> np.ndarray:
        """Metres to walking minutes at this matrix's speed."""
        return np.asarray(metres, dtype="float64") / self.speed_mps / 60.0


def build_matrices(
    network: Network,
    candidates: Snap,
    demand: Snap,
    existing_m: np.ndarray,
    *,
    criterion: Criterion,
    reach_m: float | None = None,
    progress: object = None,
) -> SitingMatrices:
    """Build the siting matrices from snapped candidates and demand.

    Parameters
    ----------
    network
        The street network.
    candidates, demand
        Snapped candidate sites and demand points (unsnapped ones get no entries).
    existing_m
        Each demand point's network distance to the nearest existing facility of the category
        (``result.demand[f"{category}_distance_m"]``).
    criterion
        The category's criterion (threshold and speed).
    reach_m
        Largest distance kept in the matrix; default the threshold.
    progress
        Optional ``callable(step, fraction)`` passed to the OD search.

    Returns
    -------
    SitingMatrices
    """
    t = criterion.threshold_m
    reach = t if reach_m is None else max(float(reach_m), t)
    existing = np.asarray(existing_m, dtype="float64")
    if existing.shape != (len(demand),):
        raise SolverError(
            msg("coverage.siting.existing_shape", shape=existing.shape, n=len(demand))
        )
    dist = od_matrix(network, candidates, demand, limit_m=reach, progress=progress)
    logger.info(
        "siting matrix: %d candidates × %d demand points, %d pairs within %.0f m",
        dist.shape[0],
        dist.shape[1],
        dist.nnz,
        reach,
    )
    return SitingMatrices(
        distance=dist,
        existing_m=existing,
        threshold_m=float(t),
        reach_m=float(reach),
        speed_mps=float(criterion.speed),
    )
