"""The facility taxonomy: one source of truth for categories.

Read from ``data/categories.toml``. Each category has Chinese and English names, synonyms used to
map users' category strings, OSM tag filters, a default criterion, a colour, an icon and the
planning standard (with its verification status) the default comes from.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from geo import settings
from geo.errors import CategoryError, ConfigError


@dataclass(frozen=True)
class Criterion:
    """How "covered" is judged for one category.

    Exactly one of ``minutes`` and ``metres`` is set. ``threshold_m`` is the network distance
    that counts as covered, from the minutes and the speed of ``profile`` when minutes are given.
    """

    mode: str = "walk"
    minutes: float | None = 15.0
    metres: float | None = None
    profile: str = "general"
    speed_mps: float | None = None

    def __post_init__(self) -> None:
        if (self.minutes is None) == (self.metres is None):
            msg = (
                f"criterion: give exactly one of minutes and metres, got minutes={self.minutes!r}, "
                f"metres={self.metres!r}"
            )
            raise ConfigError(msg)
        if self.profile not in settings.speed_profiles and self.speed_mps is None:
            msg = (
                f"criterion: unknown speed profile {self.profile!r}; use one of "
                f"{sorted(settings.speed_profiles)} or give speed (metres per second)"
            )
            raise ConfigError(msg)
        value = self.minutes if self.minutes is not None else self.metres
        if value is None or not value > 0:
            msg = f"criterion: the threshold must be positive, got {value!r}"
            raise ConfigError(msg)
        if self.speed_mps is not None and not self.speed_mps > 0:
            msg = f"criterion: speed must be positive metres per second, got {self.speed_mps!r}"
            raise ConfigError(msg)

    @property
    def speed(self) -> float:
        """Travel speed in metres per second."""
        if self.speed_mps is not None:
            return float(self.speed_mps)
        return float(settings.speed_profiles[self.profile])

    @property
    def threshold_m(self) -> float:
        """Network distance in metres that counts as covered."""
        if self.metres is not None:
            return float(self.metres)
        assert self.minutes is not None
        return float(self.minutes) * 60.0 * self.speed

    @property
    def threshold_minutes(self) -> float:
        """Threshold expressed in minutes at this criterion's speed."""
        if self.minutes is not None:
            return float(self.minutes)
        return self.threshold_m / self.speed / 60.0

    def label(self, lang: str = "zh") -> str:
        """Human-readable label, e.g. ``步行15分钟（老年人 0.9 m/s）``, ``骑行10分钟（4 m/s）``."""
        if self.minutes is not None:
            # A cycling speed makes it a ride whatever the network mode says: the label names
            # the way of travelling the speed belongs to, never "walk" at 4 m/s.
            if self.mode == "bike" or self.profile == "cycling":
                if lang == "zh":
                    return f"骑行{self.minutes:g}分钟（{self.speed:g} m/s）"
                return f"{self.minutes:g} min ride ({self.speed:g} m/s)"
            if self.mode == "drive":
                if lang == "zh":
                    return f"驾车{self.minutes:g}分钟（{self.speed:g} m/s）"
                return f"{self.minutes:g} min drive ({self.speed:g} m/s)"
            if lang == "zh":
                prof = settings.speed_profile_names_zh.get(self.profile, self.profile)
                return f"步行{self.minutes:g}分钟（{prof} {self.speed:g} m/s）"
            prof = settings.speed_profile_names_en.get(self.profile, self.profile)
            return f"{self.minutes:g} min walk ({prof}, {self.speed:g} m/s)"
        if lang == "zh":
            return f"路网距离 {self.metres:g} 米"
        return f"{self.metres:g} m network distance"

    def with_overrides(self, **overrides: Any) -> Criterion:
        """Return a new criterion with some fields replaced.

        ``minutes`` clears ``metres`` and the other way round; ``speed`` is an alias of
        ``speed_mps``.
        """
        values: dict[str, Any] = {
            "mode": self.mode,
            "minutes": self.minutes,
            "metres": self.metres,
            "profile": self.profile,
            "speed_mps": self.speed_mps,
        }
        if "speed" in overrides:
            overrides["speed_mps"] = overrides.pop("speed")
        if overrides.get("minutes") is not None:
            values["metres"] = None
        if overrides.get("metres") is not None:
            values["minutes"] = None
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(values) - {"mode", "minutes", "metres", "profile", "speed_mps"}
        if unknown:
            msg = f"criterion: unknown keys {sorted(unknown)}; use minutes, metres, profile, speed"
            raise ConfigError(msg)
        for key in ("minutes", "metres", "speed_mps"):
            if values[key] is not None and not isinstance(values[key], int | float):
                try:
                    values[key] = float(values[key])
                except (TypeError, ValueError):
                    msg = f"criterion: {key} must be a number, got {values[key]!r}"
                    raise ConfigError(msg) from None
        return Criterion(**values)


@dataclass(frozen=True)
class Category:
    """One facility category of the taxonomy."""

    key: str
    name_zh: str
    name_en: str
    short_zh: str
    synonyms: tuple[str, ...]
    color: str
    icon: str
    glyph: str
    criterion: Criterion
    level: str
    standard: str
    status: str
    capacity_unit: str
    osm: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def name(self, lang: str = "zh") -> str:
        """Name in the interface language."""
        return self.name_zh if lang == "zh" else self.name_en


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-/（）()·,，、]+", "", str(text)).lower()


@cache
def load_taxonomy(path: Path | None = None) -> dict[str, Category]:
    """Load the taxonomy from ``data/categories.toml``.

    Parameters
    ----------
    path
        Another TOML file of the same shape; the bundled one by default.

    Returns
    -------
    dict
        Categories by stable key, in file order.
    """
    path = path or settings.data_folder / "categories.toml"
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    out: dict[str, Category] = {}
    for key, entry in raw["categories"].items():
        crit = dict(entry["criterion"])
        out[key] = Category(
            key=key,
            name_zh=entry["name_zh"],
            name_en=entry["name_en"],
            short_zh=entry["short_zh"],
            synonyms=tuple(entry.get("synonyms", ())),
            color=entry["color"],
            icon=entry["icon"],
            glyph=entry["glyph"],
            criterion=Criterion(
                mode=crit.get("mode", "walk"),
                minutes=crit.get("minutes"),
                metres=crit.get("metres"),
                profile=crit.get("profile", "general"),
            ),
            level=entry["level"],
            standard=entry["standard"],
            status=entry["status"],
            capacity_unit=entry.get("capacity_unit", ""),
            osm=tuple(entry.get("osm", ())),
        )
    return out


def categories() -> dict[str, Category]:
    """The bundled taxonomy (cached; never mutate it)."""
    return load_taxonomy()


def get_category(key: str) -> Category:
    """Return one category by stable key, raising a helpful error for unknown keys."""
    tax = categories()
    if key in tax:
        return tax[key]
    msg = f"category: unknown key {key!r}; known keys are {', '.join(tax)}"
    raise CategoryError(msg)


def match_category(text: str) -> str | None:
    """Map a user's category string (Chinese or English, key, name or synonym) to a key.

    Exact matches on key, names and synonyms win; then a synonym contained in the text (the
    longest first, so "社区卫生服务中心" beats "卫生"). Returns ``None`` when nothing matches.
    """
    if text is None:
        return None
    t = _norm(text)
    if not t:
        return None
    tax = categories()
    table: list[tuple[str, str]] = []
    for key, cat in tax.items():
        for s in (key, cat.name_zh, cat.name_en, cat.short_zh, *cat.synonyms):
            table.append((_norm(s), key))
    for s, key in table:
        if s == t:
            return key
    for s, key in sorted(table, key=lambda p: -len(p[0])):
        if len(s) >= 2 and s in t:
            return key
    return None
