"""The facility taxonomy: one source of truth for categories.

Read from ``data/categories.toml``. Each category has Chinese and English names, synonyms used to
map users' category strings, OSM tag filters, a default criterion, a colour, an icon and the
planning standard (with its verification status) the default comes from.

The living-circle evaluation adds, per category, the tiers it belongs to (:class:`Tier`, e.g. the
5-, 10- and 15-minute circles of GB 50180-2018) with per-tier thresholds
(:class:`TierThreshold`), whether it is a basic-provision or a quality-improvement item of
TD/T 1062-2021, the population subgroup it is judged on, and an optional supply target
(:class:`SupplyTarget`). Every default carries its source label ([V], [S] or [M]).
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
from geo.messages import msg

__all__ = [
    "ITEMS",
    "PERSONS_PER_HOUSEHOLD",
    "SUBGROUP_COLUMNS",
    "TARGET_PER",
    "Category",
    "Criterion",
    "SupplyTarget",
    "Tier",
    "TierThreshold",
    "categories",
    "get_category",
    "get_tier",
    "load_taxonomy",
    "load_tiers",
    "match_category",
    "source_label",
    "tiers",
]


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
            raise ConfigError(
                msg(
                    "geo.taxonomy.one_threshold",
                    minutes=repr(self.minutes),
                    metres=repr(self.metres),
                )
            )
        if self.profile not in settings.speed_profiles and self.speed_mps is None:
            raise ConfigError(
                msg(
                    "geo.taxonomy.unknown_profile",
                    profile=repr(self.profile),
                    profiles=sorted(settings.speed_profiles),
                )
            )
        value = self.minutes if self.minutes is not None else self.metres
        if value is None or not value > 0:
            raise ConfigError(msg("geo.taxonomy.threshold_not_positive", got=repr(value)))
        if self.speed_mps is not None and not self.speed_mps > 0:
            raise ConfigError(msg("geo.taxonomy.speed_not_positive", got=repr(self.speed_mps)))

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
        """Human-readable label in ``lang``, e.g. ``15 min walk (elderly, 0.9 m/s)``."""
        if self.minutes is not None:
            # A cycling speed makes it a ride whatever the network mode says: the label names
            # the way of travelling the speed belongs to, never "walk" at 4 m/s.
            if self.mode == "bike" or self.profile == "cycling":
                return msg("geo.taxonomy.label_ride", minutes=self.minutes, speed=self.speed).text(
                    lang
                )
            if self.mode == "drive":
                return msg("geo.taxonomy.label_drive", minutes=self.minutes, speed=self.speed).text(
                    lang
                )
            names = (
                settings.speed_profile_names_zh if lang == "zh" else settings.speed_profile_names_en
            )
            prof = names.get(self.profile, self.profile)
            return msg(
                "geo.taxonomy.label_walk", minutes=self.minutes, profile=prof, speed=self.speed
            ).text(lang)
        return msg("geo.taxonomy.label_metres", metres=self.metres).text(lang)

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
            raise ConfigError(msg("geo.taxonomy.criterion_keys", unknown=sorted(unknown)))
        for key in ("minutes", "metres", "speed_mps"):
            if values[key] is not None and not isinstance(values[key], int | float):
                try:
                    values[key] = float(values[key])
                except (TypeError, ValueError):
                    raise ConfigError(
                        msg("geo.taxonomy.not_a_number", key=key, got=repr(values[key]))
                    ) from None
        return Criterion(**values)


#: Item kinds of TD/T 1062-2021: basic provision and quality improvement.
ITEMS: tuple[str, ...] = ("basic", "quality")

#: Population subgroups a category can be judged on, and the demand column each one reads.
SUBGROUP_COLUMNS: dict[str, str] = {
    "all": "population",
    "elderly": "elderly",
    "children": "children",
    "infants": "infants",
}

#: Denominators a supply target may be given per, as residents per unit (households use
#: ``persons_per_household``).
TARGET_PER: tuple[str, ...] = ("1000 residents", "100 households", "1 resident")

_LABEL = re.compile(r"\[([VSM])\]")


def source_label(text: str) -> str:
    """The first source label (``"[V]"``, ``"[S]"`` or ``"[M]"``) in a source text, else ``""``."""
    m = _LABEL.search(str(text))
    return f"[{m.group(1)}]" if m else ""


@dataclass(frozen=True)
class Tier:
    """One living-circle tier (residential block, 5-, 10- or 15-minute circle).

    ``threshold_m`` is the default walking network distance of the tier, ``minutes`` its
    walking-time form; ``status`` the source label of the threshold.
    """

    key: str
    name_zh: str
    name_en: str
    threshold_m: float
    minutes: float
    residents: str = ""
    source: str = ""
    status: str = ""

    def __post_init__(self) -> None:
        if not (self.threshold_m > 0 and self.minutes > 0):
            raise ConfigError(
                msg(
                    "geo.taxonomy.tier_not_positive",
                    key=self.key,
                    threshold=repr(self.threshold_m),
                    minutes=repr(self.minutes),
                )
            )

    def name(self, lang: str = "zh") -> str:
        """Name in the interface language."""
        return self.name_zh if lang == "zh" else self.name_en


@dataclass(frozen=True)
class TierThreshold:
    """A category's own threshold at one tier, where a standard names one.

    Exactly one of ``metres`` and ``minutes`` is set; minutes are walked at ``profile`` (or
    ``speed_mps``).
    """

    metres: float | None = None
    minutes: float | None = None
    profile: str = "general"
    speed_mps: float | None = None
    source: str = ""
    status: str = ""

    def __post_init__(self) -> None:
        # Criterion validates the same combination and says what is wrong.
        self.criterion()

    def criterion(self) -> Criterion:
        """The threshold as a :class:`Criterion` (walk)."""
        return Criterion(
            mode="walk",
            minutes=self.minutes,
            metres=self.metres,
            profile=self.profile,
            speed_mps=self.speed_mps,
        )

    @property
    def threshold_m(self) -> float:
        """Network distance in metres."""
        return self.criterion().threshold_m


@dataclass(frozen=True)
class SupplyTarget:
    """A supply standard, e.g. 4.5 childcare places per 1000 residents [V].

    ``per`` is one of :data:`TARGET_PER`.
    """

    value: float
    unit: str = ""
    per: str = "1000 residents"
    source: str = ""
    status: str = ""

    def __post_init__(self) -> None:
        if self.per not in TARGET_PER:
            raise ConfigError(msg("geo.taxonomy.bad_per", allowed=TARGET_PER, got=repr(self.per)))
        if not (isinstance(self.value, int | float) and self.value > 0):
            raise ConfigError(msg("geo.taxonomy.bad_target", got=repr(self.value)))

    def per_1000_residents(self, persons_per_household: float | None = None) -> float:
        """The target as capacity per 1000 residents.

        Per 100 households is per ``100 * persons_per_household`` residents (default
        :data:`PERSONS_PER_HOUSEHOLD`).
        """
        if self.per == "1000 residents":
            return float(self.value)
        if self.per == "1 resident":
            return float(self.value) * 1000.0
        pph = float(
            PERSONS_PER_HOUSEHOLD if persons_per_household is None else persons_per_household
        )
        if not pph > 0:
            raise ConfigError(msg("geo.taxonomy.bad_household", got=repr(pph)))
        return float(self.value) * 1000.0 / (100.0 * pph)

    def label(self) -> str:
        """E.g. ``4.5 places per 1000 residents [V]`` (the unit as the taxonomy writes it)."""
        return f"{self.value:g} {self.unit} per {self.per} {self.status}".replace("  ", " ").strip()


#: Average household size, 2020 (seventh) census: 2.62 persons [V]. Used to turn "per 100
#: households" targets into per-1000-resident ones when no household count is given.
PERSONS_PER_HOUSEHOLD = 2.62


@dataclass(frozen=True)
class Category:
    """One facility category of the taxonomy.

    The living-circle fields: ``tiers`` (tier keys; the first is the tier the item is judged
    at), ``tier_overrides`` (tier key → :class:`TierThreshold` where a standard gives the
    category its own threshold), ``item`` (``"basic"`` | ``"quality"``) with ``item_source``
    and ``item_status``, ``subgroup`` (a key of :data:`SUBGROUP_COLUMNS`) and ``target``.
    """

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
    tiers: tuple[str, ...] = ()
    tier_overrides: dict[str, TierThreshold] = field(default_factory=dict)
    item: str = "quality"
    item_source: str = ""
    item_status: str = ""
    subgroup: str = "all"
    target: SupplyTarget | None = None

    def name(self, lang: str = "zh") -> str:
        """Name in the interface language."""
        return self.name_zh if lang == "zh" else self.name_en

    @property
    def item_tier(self) -> str | None:
        """The tier the basic/quality item is judged at (the first of ``tiers``), or ``None``."""
        return self.tiers[0] if self.tiers else None

    def tier_threshold(self, tier: Tier) -> tuple[float, str, str]:
        """The category's threshold at ``tier``: metres, source text and source label."""
        over = self.tier_overrides.get(tier.key)
        if over is not None:
            return over.threshold_m, over.source, over.status
        return float(tier.threshold_m), tier.source, tier.status


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-/（）()·,，、]+", "", str(text)).lower()


def _tier_threshold(key: str, tier: str, raw: Any) -> TierThreshold:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return TierThreshold(metres=float(raw))
    if not isinstance(raw, dict):
        raise ConfigError(msg("geo.taxonomy.bad_override", key=repr(key), tier=tier, got=repr(raw)))
    unknown = set(raw) - {"metres", "minutes", "profile", "speed", "source", "status"}
    if unknown:
        raise ConfigError(
            msg("geo.taxonomy.override_keys", key=repr(key), tier=tier, unknown=sorted(unknown))
        )
    source = str(raw.get("source", ""))
    return TierThreshold(
        metres=raw.get("metres"),
        minutes=raw.get("minutes"),
        profile=raw.get("profile", "general"),
        speed_mps=raw.get("speed"),
        source=source,
        status=str(raw.get("status") or source_label(source)),
    )


def _living_circle_fields(
    key: str, entry: dict[str, Any], tiers: dict[str, Tier]
) -> dict[str, Any]:
    tier_keys = tuple(entry.get("tiers", ()))
    unknown = [t for t in tier_keys if t not in tiers]
    if unknown:
        raise ConfigError(
            msg("geo.taxonomy.unknown_tiers", key=repr(key), unknown=unknown, known=list(tiers))
        )
    overrides = {
        str(t): _tier_threshold(key, str(t), raw)
        for t, raw in dict(entry.get("tier_overrides", {})).items()
    }
    stray = sorted(set(overrides) - set(tier_keys))
    if stray:
        raise ConfigError(
            msg("geo.taxonomy.stray_override", key=repr(key), stray=stray, tiers=list(tier_keys))
        )
    item = entry.get("item", "quality")
    if item not in ITEMS:
        raise ConfigError(msg("geo.taxonomy.bad_item", key=repr(key), items=ITEMS, got=repr(item)))
    subgroup = entry.get("subgroup", "all")
    if subgroup not in SUBGROUP_COLUMNS:
        raise ConfigError(
            msg(
                "geo.taxonomy.bad_subgroup",
                key=repr(key),
                allowed=list(SUBGROUP_COLUMNS),
                got=repr(subgroup),
            )
        )
    target = None
    if entry.get("target") is not None:
        raw = dict(entry["target"])
        source = str(raw.get("source", ""))
        target = SupplyTarget(
            value=raw.get("value", 0),
            unit=str(raw.get("unit", "")),
            per=str(raw.get("per", "1000 residents")),
            source=source,
            status=str(raw.get("status") or source_label(source)),
        )
    item_source = str(entry.get("item_source", ""))
    return {
        "tiers": tier_keys,
        "tier_overrides": overrides,
        "item": item,
        "item_source": item_source,
        "item_status": str(entry.get("item_status") or source_label(item_source)),
        "subgroup": subgroup,
        "target": target,
    }


def _load_tiers(raw: dict[str, Any]) -> dict[str, Tier]:
    out: dict[str, Tier] = {}
    for key, entry in dict(raw.get("tiers", {})).items():
        source = str(entry.get("source", ""))
        try:
            out[key] = Tier(
                key=key,
                name_zh=entry["name_zh"],
                name_en=entry["name_en"],
                threshold_m=float(entry["threshold_m"]),
                minutes=float(entry["minutes"]),
                residents=str(entry.get("residents", "")),
                source=source,
                status=str(entry.get("status") or source_label(source)),
            )
        except KeyError as exc:
            raise ConfigError(
                msg("geo.taxonomy.tier_missing", key=repr(key), missing=repr(exc.args[0]))
            ) from None
    return out


@cache
def load_tiers(path: Path | None = None) -> dict[str, Tier]:
    """Load the living-circle tiers (``[tiers.<key>]``) from ``data/categories.toml``.

    Returns
    -------
    dict
        :class:`Tier` by key, in file order (``block``, ``min5``, ``min10``, ``min15``).
    """
    path = path or settings.data_folder / "categories.toml"
    with open(path, "rb") as fh:
        return _load_tiers(tomllib.load(fh))


def tiers() -> dict[str, Tier]:
    """The bundled tiers (cached; never mutate them)."""
    return load_tiers()


def get_tier(key: str) -> Tier:
    """One tier by key, raising a helpful error for unknown keys."""
    known = tiers()
    if key in known:
        return known[key]
    raise ConfigError(msg("geo.taxonomy.unknown_tier", key=repr(key), known=", ".join(known)))


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
    tier_table = _load_tiers(raw)
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
            **_living_circle_fields(key, entry, tier_table),
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
    raise CategoryError(msg("geo.taxonomy.unknown_category", key=repr(key), known=", ".join(tax)))


def match_category(text: str) -> str | None:
    """Map a user's category string (Chinese or English, key, name or synonym) to a key.

    Exact matches on key, names and synonyms win; then a synonym contained in the text (the
    longest first, so a community health service centre beats plain "health"). Returns ``None``
    when nothing matches.
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
