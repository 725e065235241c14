"""What a loader accepted, rejected and guessed: :class:`ValidationReport` and row checks.

Every loader returns ``(GeoDataFrame, ValidationReport)``. Nothing is dropped silently: each row
that does not make it into the result is listed in ``report.rejected`` with its row number as the
user sees it in a spreadsheet (header = row 1; for GIS files the 1-based feature number), the
column, the offending value and the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geo.errors import InputDataError
from geo.messages import localise, msg, text

__all__ = [
    "MAX_ROWS_LISTED",
    "REJECTED_COLUMNS",
    "Rejections",
    "ValidationReport",
    "empty_rejected",
    "list_rows",
]

logger = logging.getLogger(__name__)

REJECTED_COLUMNS: tuple[str, ...] = ("row", "column", "value", "reason")

#: Rows listed by number in a warning before it says "and N more".
MAX_ROWS_LISTED = 10


def empty_rejected() -> pd.DataFrame:
    """An empty ``rejected`` table with the contract's columns."""
    return pd.DataFrame(
        {
            "row": pd.Series([], dtype="int64"),
            "column": pd.Series([], dtype=object),
            "value": pd.Series([], dtype=object),
            "reason": pd.Series([], dtype=object),
        }
    )


def list_rows(rows: Any, *, limit: int = MAX_ROWS_LISTED) -> str:
    """``"2, 5, 9"`` or ``"2, 5, 9 … (+12)"`` for messages."""
    rows = [int(r) for r in rows]
    text = ", ".join(str(r) for r in rows[:limit])
    if len(rows) > limit:
        text += f" … (+{len(rows) - limit})"
    return text


@dataclass
class ValidationReport:
    """The outcome of loading one input.

    Attributes
    ----------
    source
        The file name (or "buildings", "grid", ...) the rows came from.
    n_read
        Data rows (features) read.
    n_ok
        Rows in the result.
    rejected
        One row per rejected input row: ``row``, ``column``, ``value``, ``reason``.
    detected
        What was detected or chosen, e.g. ``{"lon": "经度", "encoding": "gb18030"}``.
    encoding
        Text encoding used for CSV/TXT files, else ``None``.
    crs_in
        The coordinate system of the input (``"wgs84"``, ``"gcj02"``, ``"bd09"``, ``"EPSG:..."``).
    warnings
        Things the planner should know (swapped axes, defaults used, ...).
    suggestion
        A hint such as "these points fit the network better as GCJ-02", or ``None``.
    """

    source: str
    n_read: int
    n_ok: int
    rejected: pd.DataFrame = field(default_factory=empty_rejected)
    detected: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    crs_in: str = "wgs84"
    warnings: list[str] = field(default_factory=list)
    suggestion: str | None = None

    @property
    def n_rejected(self) -> int:
        """Number of distinct rejected rows."""
        if self.rejected.empty:
            return 0
        return int(self.rejected["row"].nunique())

    @property
    def ok(self) -> bool:
        """True when every row was accepted and nothing needs attention."""
        return self.n_rejected == 0 and not self.warnings and self.suggestion is None

    def to_frame(self) -> pd.DataFrame:
        """The report as a two-column table (``item``, ``value``) for display and export.

        The rejected rows themselves are in :attr:`rejected`; this table summarises the rest
        (counts, detected columns, encoding, datum, warnings, suggestion).
        """
        items: list[tuple[str, str]] = [
            ("source", self.source),
            ("n_read", str(self.n_read)),
            ("n_ok", str(self.n_ok)),
            ("n_rejected", str(self.n_rejected)),
            ("encoding", self.encoding or ""),
            ("crs_in", self.crs_in),
        ]
        items += [(f"detected.{k}", str(v)) for k, v in self.detected.items()]
        items += [(f"warning.{i + 1}", w) for i, w in enumerate(self.warnings)]
        if self.suggestion:
            items.append(("suggestion", self.suggestion))
        return pd.DataFrame(items, columns=["item", "value"])

    def summary(self, lang: str = "zh") -> str:
        """A short paragraph for the planner, in Chinese (``"zh"``) or English."""

        def t(part: str, **params: Any) -> str:
            return text(f"loaders.validation.summary_{part}", lang, **params)

        # The first few reasons say more than counts by free-text reason would.
        first = self.rejected.drop_duplicates("row").head(3)
        out = t("read", source=self.source, n_read=self.n_read, n_ok=self.n_ok)
        if self.n_rejected:
            rows = [
                msg("loaders.validation.summary_row", row=r.row, reason=r.reason)
                for r in first.itertuples()
            ]
            more = t("more") if self.n_rejected > len(first) else ""
            out += t("rejected", n=self.n_rejected, rows=localise(rows, lang), more=more)
        if self.encoding:
            out += t("encoding", encoding=self.encoding)
        out += t("crs", crs=self.crs_in)
        cols = t("list_sep").join(f"{k}={v}" for k, v in self.detected.items())
        if cols:
            out += t("detected", columns=cols)
        out += t("stop")
        if self.warnings:
            notes = [msg("loaders.validation.note", note=w) for w in self.warnings]
            out += t("note", notes=localise(notes, lang))
        if self.suggestion:
            out += t("suggestion", suggestion=localise(self.suggestion, lang))
        return out


class Rejections:
    """Collects rejected rows while a loader works; each row is rejected once (first reason).

    Parameters
    ----------
    rows
        The user-visible row number of every input row, in input order.
    """

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = np.asarray(rows, dtype="int64")
        self.alive = np.ones(self.rows.shape[0], dtype=bool)
        self._records: list[dict[str, Any]] = []

    def reject(
        self,
        mask: np.ndarray,
        column: str,
        values: Any,
        reason: str | Callable[[int], str],
        *,
        error: type[InputDataError] = InputDataError,
    ) -> int:
        """Reject the still-alive rows where ``mask`` is true; return how many were new.

        ``values`` is an array aligned with the input (the offending values) or a scalar;
        ``reason`` a message, or a function of the input position giving each rejected row's
        (called for the rejected rows only); ``error`` the exception class that
        :meth:`raise_if_none_left` raises when this is the commonest reason.
        """
        mask = np.asarray(mask, dtype=bool) & self.alive
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            return 0
        vals = (
            np.asarray(values, dtype=object)
            if isinstance(values, (list, np.ndarray, pd.Series, pd.Index))
            else None
        )
        for i in idx.tolist():
            value = vals[i] if vals is not None else values
            if value is not None and not isinstance(value, str):
                value = "" if _isnan(value) else str(value)
            self._records.append(
                {
                    "row": int(self.rows[i]),
                    "column": column,
                    "value": "" if value is None else value,
                    "reason": reason(i) if callable(reason) else reason,
                    "error": error,
                }
            )
        self.alive[idx] = False
        return int(idx.size)

    def frame(self) -> pd.DataFrame:
        """The rejected rows, sorted by row number."""
        if not self._records:
            return empty_rejected()
        # Object columns built cell by cell: pandas would turn the reasons (messages) into
        # plain strings of its string dtype, losing their other languages.
        df = pd.DataFrame(
            {
                "row": pd.Series([r["row"] for r in self._records], dtype="int64"),
                "column": pd.Series([r["column"] for r in self._records], dtype=object),
                "value": pd.Series([r["value"] for r in self._records], dtype=object),
                "reason": pd.Series([r["reason"] for r in self._records], dtype=object),
            }
        )
        return df.sort_values("row", kind="stable").reset_index(drop=True)

    @property
    def n_alive(self) -> int:
        """Rows not rejected so far."""
        return int(self.alive.sum())

    def raise_if_none_left(self, label: str) -> None:
        """Raise the commonest rejection's error class when no row is left.

        The message names the file, counts the rows and quotes the first reasons.
        """
        if self.n_alive or not self._records:
            return
        errors = [r["error"] for r in self._records]
        error = max(set(errors), key=errors.count)
        first = [
            msg("loaders.validation.row_reason", row=r["row"], reason=r["reason"])
            for r in self._records[:3]
        ]
        more = " …" if len(self._records) > 3 else ""
        n = self.rows.shape[0]
        raise error(msg("loaders.validation.none_left", file=label, n=n, first=first, more=more))


def _isnan(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
