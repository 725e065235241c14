"""One MILP solved with HiGHS: build, warm start, time limit, interrupt, outcome.

The siting models (:mod:`coverage.siting.models`) formulate their MILPs as column-wise sparse
matrices and hand them to :func:`solve_milp`, which returns a :class:`MilpOutcome` saying what
HiGHS found (``"optimal"``, ``"time-limit"`` or HiGHS's own status text), with its gap and bound.

HiGHS stays silent: its output is switched off before its first call (see :class:`QuietHighs`),
so the CLI and the app print only their own lines; the outcome of each solve is logged through
:mod:`logging` instead.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import highspy
import numpy as np
from scipy import sparse

from geo import settings
from geo.errors import SolverError
from geo.messages import msg

logger = logging.getLogger(__name__)

__all__ = ["MilpOutcome", "QuietHighs", "solve_milp"]

#: HiGHS model statuses that mean "stopped early": the incumbent (if any) is shown with its gap.
_STOPPED = (
    highspy.HighsModelStatus.kTimeLimit,
    highspy.HighsModelStatus.kInterrupt,
    highspy.HighsModelStatus.kSolutionLimit,
    highspy.HighsModelStatus.kIterationLimit,
)


class QuietHighs(highspy.Highs):
    """``highspy.Highs`` with its console output off from the very first call.

    HiGHS writes its banner ("Running HiGHS ... Copyright ...") to stdout on the first call of
    a process made while ``output_flag`` is on, and highspy's constructor makes such a call
    (``enableCallbacks``) before a caller can set any option. Switching the flag off at the
    start of ``enableCallbacks`` puts it before that call, so nothing is printed.
    """

    def enableCallbacks(self) -> None:  # noqa: N802 (highspy's name)
        """Switch output off, then enable highspy's callbacks as usual."""
        self.setOptionValue("output_flag", False)
        super().enableCallbacks()


@dataclass(frozen=True)
class MilpOutcome:
    """What HiGHS found for one MILP.

    Attributes
    ----------
    x
        Column values of the best solution found (``None`` when HiGHS found none).
    status
        ``"optimal"``, ``"time-limit"`` (stopped early, by time, interrupt or limit) or HiGHS's
        own model status text.
    gap
        Relative MIP gap of ``x`` (0 when optimal, NaN without a solution).
    objective
        Objective value of ``x`` (NaN without a solution).
    bound
        HiGHS's dual bound on the objective.
    runtime
        Seconds spent solving.
    """

    x: np.ndarray | None
    status: str
    gap: float
    objective: float
    bound: float
    runtime: float


def _time_limit(time_limit_s: float | None) -> float:
    return float(settings.solver_time_limit_s if time_limit_s is None else time_limit_s)


def _run(h: highspy.Highs, limit: float) -> float:
    """Solve in highspy's thread, interrupting it when it overruns ``limit``; seconds taken."""
    t0 = time.perf_counter()
    # HiGHS checks its time limit only now and then inside an interior-point solve (measured:
    # 98 s on a 35 s limit); solve in highspy's thread and interrupt it if it overruns.
    h.HandleUserInterrupt = True
    h.startSolve()
    finished, _ = h.wait(limit * 1.05 + 1.0)
    if not finished:
        logger.info("HiGHS overran its %.1f s limit; interrupting it", limit)
        h.cancelSolve()
        while not h.wait(0.1)[0]:
            pass
    return time.perf_counter() - t0


def _outcome(h: highspy.Highs, runtime: float) -> MilpOutcome:
    """Read the status, best solution, gap and bound after a solve."""
    ms = h.getModelStatus()
    info = h.getInfo()
    has_sol = info.primal_solution_status == highspy.kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value) if has_sol else None
    if ms == highspy.HighsModelStatus.kOptimal:
        label = "optimal"
    elif ms in _STOPPED:
        label = "time-limit"
    else:
        label = h.modelStatusToString(ms)
    gap = float(info.mip_gap) if has_sol else float("nan")
    if label == "optimal":
        gap = max(0.0, gap) if np.isfinite(gap) else 0.0
    objective = float(info.objective_function_value) if has_sol else float("nan")
    return MilpOutcome(x, label, gap, objective, float(info.mip_dual_bound), runtime)


def solve_milp(
    *,
    cost: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    integrality: np.ndarray,
    matrix: sparse.spmatrix | sparse.sparray,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    maximize: bool,
    time_limit_s: float | None,
    mip_gap: float | None,
    start: np.ndarray | None,
    options: dict[str, str | float | bool] | None = None,
) -> MilpOutcome:
    """Solve one MILP with HiGHS (column-wise matrix, warm start, time limit).

    Parameters
    ----------
    cost, lower, upper, integrality
        Per column: objective coefficient, bounds and HiGHS integrality (1 = integer).
    matrix
        Constraint matrix (rows × columns).
    row_lower, row_upper
        Row bounds; ``±inf`` for a free side.
    maximize
        Maximise the objective (else minimise).
    time_limit_s, mip_gap
        HiGHS limits; default ``settings.solver_time_limit_s`` and ``settings.solver_mip_gap``.
        A solve that overruns the limit by more than 5 % + 1 s is interrupted.
    start
        Warm start (a feasible value per column), or ``None``.
    options
        Extra HiGHS options (e.g. ``{"mip_lp_solver": "ipm"}``).

    Returns
    -------
    MilpOutcome
        The best solution found and how good it is.

    Raises
    ------
    SolverError
        When HiGHS rejects the model.
    """
    limit = _time_limit(time_limit_s)
    h = QuietHighs()
    h.setOptionValue("time_limit", limit)
    h.setOptionValue("mip_rel_gap", float(settings.solver_mip_gap if mip_gap is None else mip_gap))
    for key, value in (options or {}).items():
        h.setOptionValue(key, value)
    a = sparse.csc_matrix(matrix)
    a.sort_indices()
    inf = highspy.kHighsInf
    status = h.passModel(
        int(a.shape[1]),
        int(a.shape[0]),
        int(a.nnz),
        1,  # column-wise
        -1 if maximize else 1,
        0.0,
        np.asarray(cost, dtype="float64"),
        np.asarray(lower, dtype="float64"),
        np.asarray(upper, dtype="float64"),
        np.where(np.isfinite(row_lower), row_lower, -inf).astype("float64"),
        np.where(np.isfinite(row_upper), row_upper, inf).astype("float64"),
        a.indptr.astype("int32"),
        a.indices.astype("int32"),
        a.data.astype("float64"),
        np.asarray(integrality, dtype="int32"),
    )
    if status == highspy.HighsStatus.kError:
        raise SolverError(msg("coverage.siting.highs_rejected"))
    if start is not None:
        idx = np.arange(start.size, dtype="int32")
        h.setSolution(int(start.size), idx, np.asarray(start, dtype="float64"))
    outcome = _outcome(h, _run(h, limit))
    # DEBUG, not INFO: the coverage curve solves a dozen models and the CLI shows INFO lines.
    logger.debug(
        "HiGHS: %s in %.2f s (%d columns, %d rows; objective %.6g, bound %.6g, gap %.3g)",
        outcome.status,
        outcome.runtime,
        len(cost),
        len(row_lower),
        outcome.objective,
        outcome.bound,
        outcome.gap,
    )
    return outcome
