"""Number and text formatting shared by every meeting export (XLSX, PDF, PPTX, PNG, HTML).

One place decides how a count, a rate, a distance or a coordinate reads, so the workbook, the
report and the slides never show the same value two ways. Spreadsheet cells keep their full
precision and get an Excel number format (:func:`excel_format`); the other exports show text
(:func:`fmt_value`).
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = [
    "COORD_DECIMALS",
    "excel_format",
    "fmt_coord",
    "fmt_count",
    "fmt_decimal",
    "fmt_rate",
    "fmt_value",
    "in_language",
    "is_coord",
    "is_missing",
    "is_rate",
]

#: Decimals of longitude/latitude everywhere (6 decimals ≈ 0.1 m).
COORD_DECIMALS = 6

#: Columns holding coordinates (shown with :data:`COORD_DECIMALS` decimals).
COORD_COLUMNS: frozenset[str] = frozenset({"lon", "lat", "x", "y", "longitude", "latitude"})

#: Shown for a missing value (NaN, None, unreachable).
MISSING = "–"

EXCEL_RATE = "0.0%"
EXCEL_COUNT = "#,##0"
EXCEL_DECIMAL = "#,##0.0"
EXCEL_COORD = "0." + "0" * COORD_DECIMALS


def is_rate(col: str) -> bool:
    """A share 0..1 shown as a percentage (``coverage_rate``, ``complete_share``...)."""
    return str(col).endswith(("rate", "share")) or str(col) == "coverage_rate_reachable"


def is_coord(col: str) -> bool:
    """A longitude or latitude column."""
    return str(col) in COORD_COLUMNS


def is_missing(value: Any) -> bool:
    """None, NaN or an infinity (unreached)."""
    if value is None:
        return True
    try:
        return isinstance(value, float | int) and not math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def fmt_count(value: Any) -> str:
    """A count with thousands separators: ``146,444``."""
    return MISSING if is_missing(value) else f"{float(value):,.0f}"


def fmt_rate(value: Any) -> str:
    """A share as a percentage with its unit: ``37.2%``."""
    return MISSING if is_missing(value) else f"{float(value):.1%}"


def fmt_decimal(value: Any, digits: int = 1) -> str:
    """A measured value (minutes, scores) with grouped thousands: ``1,315.3``."""
    return MISSING if is_missing(value) else f"{float(value):,.{digits}f}"


def fmt_coord(value: Any) -> str:
    """A longitude/latitude with :data:`COORD_DECIMALS` decimals: ``117.230472``."""
    return MISSING if is_missing(value) else f"{float(value):.{COORD_DECIMALS}f}"


def fmt_value(col: str, value: Any) -> str:
    """Display text of one table cell by its column name (the rule every export follows)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if isinstance(value, bool):
        return str(value)
    col = str(col)
    if is_rate(col):
        return fmt_rate(value)
    if is_coord(col):
        return fmt_coord(value)
    if col == "score":
        return fmt_decimal(value, 2)
    if col.endswith("minutes"):
        return fmt_decimal(value, 1)
    if isinstance(value, float | int):
        return fmt_count(value)
    return str(value)


def excel_format(col: str, *, numeric: bool, integral: bool) -> str | None:
    """Excel number format of a column (display only: cells keep full precision)."""
    if is_rate(col):
        return EXCEL_RATE
    if not numeric:
        return None
    if is_coord(col):
        return EXCEL_COORD
    return EXCEL_COUNT if integral else EXCEL_DECIMAL


_CJK = re.compile(r"[\u2e80-\u9fff\uff00-\uffef]")


def in_language(text: str, lang: str) -> str:
    """The ``lang`` half of a bilingual ``"中文 / English"`` text; other text unchanged.

    Demo attributions and stamps come as one bilingual line; a Chinese report should not carry
    an English half sentence (and an English one not a Chinese half).
    """
    parts = [p.strip() for p in str(text).split(" / ")]
    if len(parts) != 2:
        return str(text)
    zh = [p for p in parts if _CJK.search(p)]
    en = [p for p in parts if not _CJK.search(p)]
    if len(zh) != 1 or len(en) != 1:
        return str(text)
    return zh[0] if lang == "zh" else en[0]
