"""Spreadsheet exports that cannot attack their reader (CSV/formula injection).

Names, communities and raw cells come from users' files. Excel and WPS read a CSV cell that starts
with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before one) as a formula, and a
formula such as ``=cmd|' /C calc'!A0`` can start programs (DDE). Every CSV and XLSX this tool
writes goes through this module: in CSV such text gets a leading apostrophe (what Excel itself
does to keep text as text); in XLSX the cell is stored as a string with Excel's quote prefix
(openpyxl would otherwise store text starting with ``=`` as a live formula). Numbers stay numbers
and text that is just a number (``"-12.5"``) is left alone: it cannot run anything.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: First characters that make a spreadsheet read a cell as a formula.
__all__ = [
    "FORMULA_PREFIXES",
    "cell_value",
    "gpkg_safe",
    "harden_worksheet",
    "is_formula_like",
    "neutralise",
    "neutralise_frame",
    "write_csv",
]

FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")

_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?")


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet could take ``text`` for a formula (a plain number is not one)."""
    return text.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.fullmatch(text)


def neutralise(value: Any) -> Any:
    """``value`` with a leading apostrophe when it is formula-like text; anything else as is."""
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names cannot act as formulas."""
    out = frame.copy()
    for col in out.columns:
        values = out[col]
        if pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
            out[col] = values.map(neutralise)
    out.columns = [neutralise(c) for c in out.columns]
    return out


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as UTF-8 CSV with a BOM (Excel opens it in Chinese), neutralised.

    Parameters
    ----------
    frame
        The table; its index is not written.
    path
        The ``.csv`` file.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = Path(path)
    neutralise_frame(frame).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def harden_worksheet(ws: Any) -> int:
    """Turn every formula-like cell of an openpyxl worksheet into a plain text cell.

    Parameters
    ----------
    ws
        An ``openpyxl`` worksheet whose values were written as data (we never write formulas).

    Returns
    -------
    int
        Number of cells changed.
    """
    changed = 0
    for row in ws.iter_rows():
        for cell in row:
            value = cell.value
            if not isinstance(value, str):
                continue
            if cell.data_type == "f" or is_formula_like(value):
                cell.data_type = "s"
                # Excel's own marker for "typed with an apostrophe": stays text when edited.
                cell.quotePrefix = True
                changed += 1
    return changed


def cell_value(v: Any) -> Any:
    """``v`` as one table cell (the one rule for GeoPackage and XLSX).

    Lists (communities a gap touches) read as 南苑、北苑, mappings as ``key=value; …``; anything
    else is returned unchanged.
    """
    if isinstance(v, list | tuple | set | np.ndarray):
        return "、".join(str(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k}={x}" for k, x in v.items())
    return v


def _gpkg_value(v: Any) -> Any:
    v = cell_value(v)
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and math.isinf(v):
        return None
    return v if v is None or isinstance(v, str | int | float) else str(v)


def gpkg_safe(gdf: Any) -> Any:
    """A copy whose columns GeoPackage can store: bools as int8, mixed objects as text.

    Unreached distances (``inf``) are stored as NULL: GIS tools do not read infinities back.
    The one rule for every GeoPackage this tool writes (run outputs, app exports, projects).
    """
    out = gdf.copy()
    geom = getattr(out, "geometry", None)
    geom_name = geom.name if geom is not None else None
    for col in out.columns:
        if col == geom_name:
            continue
        if out[col].dtype == bool:
            out[col] = out[col].astype("int8")
        elif out[col].dtype == object:
            out[col] = out[col].map(_gpkg_value)
        elif pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].replace([float("inf"), float("-inf")], float("nan"))
    return out
