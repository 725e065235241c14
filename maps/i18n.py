"""Interface and report strings: lookups in the message catalogue (:mod:`geo.messages`).

The texts live in ``data/locale/<locale>/LC_MESSAGES/{maps,ui,study}.po``; this module is the
lookup API the maps, the exports and the app use. :func:`t` returns one text by code
(``t("maps.layer_gaps", "zh")``); :func:`heading` returns the header of a result column
(``coverage_rate``, or a per-category column such as ``fitness_coverage_rate``, whose text is
built from the taxonomy's category name and the field's own text).
"""

from __future__ import annotations

import logging
from typing import Any

from geo.messages import catalogue, text
from geo.taxonomy import categories

logger = logging.getLogger(__name__)

__all__ = [
    "LANGUAGES",
    "PER_CATEGORY_FIELDS",
    "category_name",
    "code_of",
    "criterion_column",
    "has",
    "heading",
    "t",
]

#: Supported interface languages.
LANGUAGES: tuple[str, ...] = ("zh", "en")

#: Per-category columns are ``<category key>_<field>`` (coverage.analysis adds them to the demand
#: frame, maps.export_tables to the per-community table); each gets a header built from the
#: taxonomy name and the field's own text, e.g. ``fitness_coverage_rate`` → "健身 · 人口覆盖率".
PER_CATEGORY_FIELDS: tuple[str, ...] = (
    "covered_population",
    "coverage_rate",
    "covered",
    "distance_m",
    "minutes",
    "facility_id",
    "facility_name",
    "euclid_m",
    "detour",
)

#: Catalogue domains a key may already start with (anything else is a pre-catalogue key).
_DOMAINS = frozenset({"maps", "ui", "study", "whatif", "geo", "coverage", "loaders", "engine"})


def has(code: str) -> bool:
    """Whether ``code`` has a text in the catalogue (English, the fallback language)."""
    return code in catalogue("en")


def code_of(key: str) -> str:
    """The catalogue code of ``key``: a code stays itself; a pre-catalogue key gets its domain.

    Before the catalogue, page keys (``"data.rows"``) lived in ``ui.labels`` and shared keys
    (``"layer_gaps"``) in ``maps.i18n``; they became ``ui.data.rows`` and ``maps.layer_gaps``.
    Every lookup in this code base names its full code (tests/test_i18n.py); the mapping stays
    so that a key from before the catalogue still resolves.
    """
    if key.split(".", 1)[0] in _DOMAINS:
        return key
    for domain in ("ui", "maps"):
        if has(f"{domain}.{key}"):
            return f"{domain}.{key}"
    return key


def t(key: str, lang: str = "zh", /, **fields: Any) -> str:
    """Return the text of ``key`` in ``lang``, formatted with ``fields``.

    Parameters
    ----------
    key
        A catalogue code (``"maps.site_label"``); a pre-catalogue key is mapped by
        :func:`code_of`.
    lang
        ``"zh"`` or ``"en"``.
    **fields
        Values for ``str.format`` fields in the text (``t("maps.site_label", "zh", n=1200)``).

    Returns
    -------
    str
        The text; the key itself (and a logged warning) when the key is unknown, so a missing
        string shows up on screen instead of crashing a page.
    """
    code = code_of(key)
    if not has(code):
        logger.warning("i18n: no string for key %r", key)
        return key
    return text(code, lang, **fields)


def _per_category(column: str, lang: str) -> str | None:
    """The header of a ``<category>_<field>`` column, or None when ``column`` is not one."""
    for cat_key, cat in categories().items():
        field = column.removeprefix(f"{cat_key}_")
        if field != column and field in PER_CATEGORY_FIELDS:
            name = cat.short_zh if lang == "zh" else cat.name_en
            return text("maps.per_category", lang, category=name, field=t(f"maps.{field}", lang))
    return None


def heading(column: str, lang: str = "zh") -> str:
    """The header of result column ``column`` in ``lang``.

    Parameters
    ----------
    column
        A column name of the result tables (``"coverage_rate"``, ``"fitness_distance_m"``).
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        The catalogue text ``maps.<column>``, the generated per-category header, or the column
        name itself (with a logged warning) when neither exists.
    """
    if has(f"maps.{column}"):
        return text(f"maps.{column}", lang)
    generated = _per_category(column, lang)
    if generated is not None:
        return generated
    logger.warning("i18n: no string for key %r", column)
    return column


def criterion_column(summary: Any, lang: str) -> str:
    """The summary column holding criteria in ``lang`` (``criterion_en`` in English, if there)."""
    return "criterion_en" if lang == "en" and "criterion_en" in summary.columns else "criterion"


def category_name(key: str, lang: str = "zh") -> str:
    """Display name of a taxonomy category, or the key itself when it is not in the taxonomy."""
    cat = categories().get(key)
    return cat.name(lang) if cat is not None else str(key)
