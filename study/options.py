"""Typed option objects of a study: the coverage criteria and the siting request.

Both are frozen and hashable, because the app keys its caches on them; the CLI builds the same
objects from a configuration, so a run and a session that ask the same thing share one meaning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from coverage.siting.explain import SiteSearch

__all__ = ["CriteriaChoice", "SitingParams"]


@dataclass(frozen=True)
class CriteriaChoice:
    """The coverage settings of an analysis (hashable: it is a cache key).

    ``kind`` is ``"default"`` (each category's taxonomy criterion), ``"minutes"`` or ``"metres"``.
    ``profile`` overrides the speed profile of minute-based criteria; ``""`` keeps each
    category's own. ``overrides`` gives whole criteria per category (a configuration's
    ``[criteria.<key>]``); they win over ``kind`` and ``profile`` for their categories.
    """

    categories: tuple[str, ...]
    kind: str = "default"
    minutes: float = 15.0
    metres: float = 3000.0
    profile: str = ""
    overrides: tuple[tuple[str, Any], ...] = ()

    def criteria(self) -> dict[str, Any]:
        """Criterion per category key."""
        from geo.taxonomy import get_category

        given = dict(self.overrides)
        out: dict[str, Any] = {}
        for key in self.categories:
            if key in given:
                out[key] = given[key]
                continue
            base = get_category(key).criterion
            if self.kind == "minutes":
                crit = base.with_overrides(minutes=self.minutes)
            elif self.kind == "metres":
                crit = base.with_overrides(metres=self.metres)
            else:
                crit = base
            if self.profile and crit.minutes is not None:
                crit = crit.with_overrides(profile=self.profile)
            out[key] = crit
        return out

    def effective(self) -> tuple[tuple[str, Any], ...]:
        """The criteria that decide coverage, per category, as a hashable key.

        Two choices with the same effective criteria give the same results even when their
        widget history differs (a distance typed and then switched back to the defaults, say),
        so results are matched on this and not on the raw fields.
        """
        return tuple(self.criteria().items())


@dataclass(frozen=True)
class SitingParams:
    """What the planner asked of the siting model (hashable: it is a cache key).

    ``k`` is used by every model but ``"lscp"``, ``target`` only by ``"lscp"``. ``candidates``
    is ``"generate"`` (street nodes in and around the gaps), ``"upload"`` (the planner's own
    sites) or ``"both"``. ``capacity`` fills unknown candidate capacities of the
    capacitated model (0 leaves them unknown). ``weight``, ``time_limit_s`` and ``spacing_m``
    are passed to :func:`coverage.siting.suggest_sites` (None: its defaults).
    """

    category: str
    model: str = "mclp"
    k: int | None = 3
    target: float | None = 0.95
    capacity: float = 0.0
    candidates: str = "generate"  # generate | upload | both
    weight: str = "population"
    time_limit_s: float | None = None
    spacing_m: float | None = None

    def search(self, *, weight: str | None = None) -> SiteSearch:
        """The model request for :func:`coverage.siting.suggest_sites` (``weight`` overrides)."""
        lscp = self.model == "lscp"
        return SiteSearch(
            model=self.model,
            k=None if lscp else self.k,
            target=self.target if lscp else None,
            weight=weight or self.weight,
            time_limit_s=self.time_limit_s,
            spacing_m=self.spacing_m,
        )
