"""The network what-ifs of an export: kind, name and length, for the reports and the workbook.

The PDF and PPTX reports list them in a table (display strings), and the workbook gets a sheet
with the lengths as numbers. Input is the report of :func:`geo.network_edits.apply_network_edits`
(``action``, ``name``, ``length_m``, ``applied``…), which the app and the CLI both keep.
"""

from __future__ import annotations

import logging

import pandas as pd

from geo.messages import text

logger = logging.getLogger(__name__)

__all__ = ["edits_report_table", "edits_sheet", "edits_table", "edits_title"]


def edits_title(lang: str) -> str:
    """Heading of the edits' table and name of the workbook sheet."""
    return text("whatif.export.title", lang)


def edits_table(report: pd.DataFrame | None, *, lang: str) -> pd.DataFrame | None:
    """One row per network edit: number, kind, name and length (m); None when there are none.

    Parameters
    ----------
    report
        The report of :func:`geo.network_edits.apply_network_edits`.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    pandas.DataFrame or None
        Headers in ``lang``; ``length`` in metres as a float (rounded to 1 m). An edit for
        another travel mode (not applied) says so in a note column.
    """
    if report is None or len(report) == 0:
        return None
    kinds = [text(f"whatif.export.{a}", lang) for a in report["action"].astype(str)]
    names = ["" if pd.isna(v) else str(v) for v in report["name"]]
    out = pd.DataFrame(
        {
            text("whatif.export.number", lang): range(1, len(report) + 1),
            text("whatif.export.kind", lang): kinds,
            text("whatif.export.name", lang): names,
            text("whatif.export.length", lang): report["length_m"].astype("float64").round(0),
        }
    )
    applied = report["applied"] if "applied" in report.columns else pd.Series(True, report.index)
    if not applied.astype(bool).all():
        out[text("whatif.export.note", lang)] = [
            "" if ok else text("whatif.export.other_mode", lang) for ok in applied.astype(bool)
        ]
    return out


def edits_report_table(report: pd.DataFrame | None, *, lang: str) -> pd.DataFrame | None:
    """:func:`edits_table` as display strings for the PDF and PPTX reports."""
    table = edits_table(report, lang=lang)
    if table is None:
        return None
    length = text("whatif.export.length", lang)
    shown = table.astype(object)
    shown[length] = [f"{v:,.0f}" for v in table[length]]
    return shown.astype(str)


def edits_sheet(report: pd.DataFrame | None, *, lang: str) -> dict[str, pd.DataFrame]:
    """The workbook's network-edit sheet, ``{name: table}``; empty when there are no edits."""
    table = edits_table(report, lang=lang)
    return {} if table is None else {edits_title(lang): table}
