"""Read the tables planners have: CSV/TXT in any Chinese encoding, XLSX, GeoJSON, SHP, GPKG.

:func:`read_table` returns a pandas ``DataFrame`` (text and Excel files) or a ``GeoDataFrame`` (GIS
files) plus a :class:`TableInfo`. The frame's index is the row number the user sees: the spreadsheet
row for CSV/XLSX (header = row 1, blank rows and title rows above the header counted), the 1-based
feature number for GIS files. Cell values of text files are strings; columns whose every value is a
plain number are converted to numbers (leading zeros, as in ids "007", keep a column as text).
"""

from __future__ import annotations

import csv
import io
import itertools
import logging
import re
import tempfile
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import (
    CoverageToolError,
    EncodingDetectionError,
    GeometryError,
    InputDataError,
)
from geo.messages import msg

logger = logging.getLogger(__name__)

__all__ = [
    "EXCEL_SUFFIXES",
    "GIS_SUFFIXES",
    "SUPPORTED",
    "TEXT_SUFFIXES",
    "Source",
    "TableInfo",
    "detect_encoding",
    "read_table",
    "zip_member",
]

TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
GIS_SUFFIXES = (".geojson", ".json", ".shp", ".zip", ".gpkg", ".parquet", ".geoparquet")
SUPPORTED = TEXT_SUFFIXES + EXCEL_SUFFIXES + GIS_SUFFIXES

# charset-normalizer names of the GBK family; all are decoded as GB18030, their superset.
_GBK_FAMILY = {"gb2312", "gbk", "gb18030", "hz", "cp936", "euc_cn"}

#: Rows scanned to find the header row under title lines.
_HEADER_SCAN_ROWS = 20

Source = str | Path | bytes | bytearray | IO[bytes] | Any


@dataclass
class TableInfo:
    """How a table was read.

    Attributes
    ----------
    name
        File name shown in messages (e.g. ``设施.csv``).
    format
        ``"csv"``, ``"xlsx"``, ``"geojson"``, ``"shp"``, ``"gpkg"``.
    encoding
        Text encoding used (CSV/TXT only).
    sheet
        Excel sheet or GIS layer read.
    crs
        CRS of a GIS file as a string (``None`` for tables or GIS files without one).
    header_row
        Spreadsheet row of the header (CSV/XLSX).
    n_rows
        Data rows read (blank rows excluded).
    notes
        Anything the reader decided (layer chosen among several, title rows skipped ...).
    """

    name: str
    format: str
    encoding: str | None = None
    sheet: str | None = None
    crs: str | None = None
    header_row: int | None = None
    n_rows: int = 0
    notes: list[str] = field(default_factory=list)


def read_table(
    source: Source,
    *,
    name: str | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
) -> tuple[pd.DataFrame, TableInfo]:
    """Read a table or GIS file into a (Geo)DataFrame.

    Parameters
    ----------
    source
        A path, raw ``bytes`` or a binary file object (e.g. a Streamlit ``UploadedFile``).
    name
        File name for bytes and file objects (its suffix picks the format); default the object's
        ``name`` attribute, or the path's name.
    sheet
        Excel sheet or GIS layer (name or 0-based index); default the first non-empty one.
    encoding
        Text encoding of CSV/TXT; default detected (UTF-8, UTF-8 with BOM, GB18030/GBK, ...).

    Returns
    -------
    tuple
        The frame (index = user-visible row number) and a :class:`TableInfo`.

    Raises
    ------
    InputDataError
        Empty file, unsupported format or no data rows.
    EncodingDetectionError
        A text file whose encoding cannot be determined (or that is binary).
    GeometryError
        A GIS file whose geometries cannot be read.
    """
    if isinstance(source, pd.DataFrame):
        return _from_frame(source, name or "table", "frame")
    from geo.postgis import is_database_url, read_postgis_layer, safe_url

    if isinstance(source, str) and is_database_url(source):
        return _from_frame(read_postgis_layer(source), name or safe_url(source), "postgis")
    try:
        return _read_file(source, name=name, sheet=sheet, encoding=encoding)
    except (CoverageToolError, MemoryError):
        raise
    except Exception as exc:
        # Last resort: the readers catch the common failures with specific messages; anything
        # a library still raises on a damaged file must not reach the planner as a traceback.
        label = name or Path(str(getattr(source, "name", "") or source)).name[:80]
        logger.warning("%s: unexpected %s while reading", label, type(exc).__name__, exc_info=exc)
        error = f"{type(exc).__name__}: {exc}"
        raise InputDataError(msg("loaders.tables.unreadable", file=label, error=error)) from exc


def _read_file(
    source: Source, *, name: str | None, sheet: str | int | None, encoding: str | None
) -> tuple[pd.DataFrame, TableInfo]:
    data, path, label = _open(source, name)
    suffix = Path(label).suffix.lower()
    if data is not None and not data.strip():
        raise InputDataError(msg("loaders.tables.empty_file", file=label))
    if path is not None and path.stat().st_size == 0:
        raise InputDataError(msg("loaders.tables.empty_bytes", file=label))
    if data is None:
        assert path is not None  # _open returns one of the two
        if suffix not in SUPPORTED:
            suffix = _sniff(path.read_bytes()[:4096], label)
        if suffix in TEXT_SUFFIXES + EXCEL_SUFFIXES:
            data = path.read_bytes()
        else:
            return _read_gis(path, label, suffix, sheet)
    elif suffix not in SUPPORTED:
        suffix = _sniff(data, label)
    if suffix in TEXT_SUFFIXES:
        if not data.strip():
            raise InputDataError(msg("loaders.tables.empty_file", file=label))
        return _read_text(data, label, encoding)
    if suffix in EXCEL_SUFFIXES:
        return _read_excel(data, label, sheet)
    # pyogrio needs sibling files (.shp + .dbf + .prj) and real suffixes: use a temp folder.
    with tempfile.TemporaryDirectory(prefix="lcc-upload-") as tmp:
        # An ASCII name with the detected suffix: GDAL picks the driver by suffix.
        tmp_path = Path(tmp) / f"upload{suffix}"
        tmp_path.write_bytes(data)
        return _read_gis(tmp_path, label, suffix, sheet)


def _open(source: Source, name: str | None) -> tuple[bytes | None, Path | None, str]:
    if isinstance(source, (str, Path)):
        path = Path(source)
        label = name or path.name
        if not path.exists():
            raise InputDataError(msg("loaders.tables.no_such_file", file=label, path=str(path)))
        if path.is_dir():
            raise InputDataError(msg("loaders.tables.is_folder", file=label))
        return None, path, label
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), None, name or "upload"
    if hasattr(source, "getvalue"):
        data = source.getvalue()
    elif hasattr(source, "read"):
        if hasattr(source, "seek"):
            source.seek(0)
        data = source.read()
    else:
        raise InputDataError(msg("loaders.tables.bad_source", kind=type(source).__name__))
    if isinstance(data, str):
        data = data.encode("utf-8")
    label = name or Path(str(getattr(source, "name", "") or "upload")).name
    return bytes(data), None, label


def _sniff(head: bytes, label: str) -> str:
    # Files without a known suffix: guess from the first bytes.
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(io.BytesIO(head)) as zf:
                names = zf.namelist()
        except zipfile.BadZipFile:
            names = []
        return ".xlsx" if any(n.startswith("xl/") for n in names) else ".zip"
    if head.startswith(b"SQLite format 3"):
        return ".gpkg"
    if head.startswith(b"PAR1"):
        return ".parquet"
    if head.lstrip().startswith(b"{"):
        return ".geojson"
    suffix = Path(label).suffix.lower()
    if suffix in (".xls", ".et"):
        raise InputDataError(msg("loaders.tables.old_excel", file=label, suffix=suffix))
    if suffix and suffix not in (".dat", ".text"):
        raise InputDataError(msg("loaders.tables.unknown_type", file=label, suffix=repr(suffix)))
    return ".csv"


# --------------------------------------------------------------------------- text files


def detect_encoding(raw: bytes, *, label: str = "file") -> str:
    """Return the text encoding of ``raw``: UTF-8 (with BOM), GB18030 for the GBK family, ...

    Raises
    ------
    EncodingDetectionError
        The bytes are binary or match no encoding.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if b"\x00" in raw[:8192]:
        raise EncodingDetectionError(msg("loaders.tables.binary", file=label))
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = list(from_bytes(raw))
    # Chinese files are GBK far more often than anything else that short samples resemble
    # (cp949, Shift-JIS); GB18030 is GBK's superset and decodes every GBK file.
    if any(m.encoding.lower() in _GBK_FAMILY for m in matches):
        return "gb18030"
    if matches:
        return matches[0].encoding
    raise EncodingDetectionError(msg("loaders.tables.unknown_encoding", file=label))


def _read_text(raw: bytes, label: str, encoding: str | None) -> tuple[pd.DataFrame, TableInfo]:
    enc = encoding or detect_encoding(raw, label=label)
    try:
        text = raw.decode(enc)
    except (UnicodeDecodeError, LookupError) as exc:
        error = msg("loaders.tables.cannot_decode", file=label, encoding=repr(enc), error=str(exc))
        raise EncodingDetectionError(error) from exc
    text = text.lstrip("\ufeff")
    bad = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\t\r\n")
    if bad > max(3, len(text[:20000]) // 100):
        raise EncodingDetectionError(
            msg("loaders.tables.control_characters", file=label, encoding=enc)
        )
    lines = text[:1_000_000].splitlines()  # the first lines, without splitting a big file
    if len(lines) <= _HEADER_SCAN_ROWS:
        lines = text.splitlines()
    sample = "\n".join(lines[:_HEADER_SCAN_ROWS])
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    # Without quotes and with no whitespace but line breaks, no cell has spaces to strip.
    padded = '"' in text or _INNER_SPACE.search(text) is not None
    typed = _fast_typed_frame(text, delimiter, padded=padded)
    if typed is not None:
        # A large plain table with its header on line 1 (a demand export): read as is.
        info = TableInfo(name=label, format="csv", encoding=enc, header_row=1, n_rows=len(typed))
        logger.info("%s: read %d rows (encoding %s, plain table)", label, len(typed), enc)
        return typed, info
    grid = _fast_grid(text, delimiter)
    if grid is None:
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        except csv.Error as exc:
            error = msg("loaders.tables.cannot_parse", file=label, error=str(exc))
            raise InputDataError(error) from exc
        # csv.reader rather than pandas: title lines above the header have fewer fields, which
        # pandas rejects; padding keeps every line, so row numbers match what the user sees.
        width = max((len(r) for r in rows), default=0)
        grid = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=object)
    frame, header_row, notes = _frame_from_grid(grid, label, strip=padded)
    info = TableInfo(
        name=label,
        format="csv",
        encoding=enc,
        header_row=header_row,
        n_rows=len(frame),
        notes=notes,
    )
    logger.info("%s: read %d rows (encoding %s, header row %d)", label, len(frame), enc, header_row)
    return frame, info


#: Whitespace other than line breaks (str.strip and re's \s agree on what whitespace is).
_INNER_SPACE = re.compile(r"[^\S\r\n]")


def _strip_texts(col: pd.Series) -> pd.Series:
    if col.dtype != object:
        return col
    stripped = col.str.strip()
    return stripped.where(stripped.notna(), col)


#: Text tables with more lines than this are parsed by pandas' C reader (the csv module builds a
#: Python list per row: a 2M-row demand CSV took minutes and GBs that way).
_FAST_CSV_LINES = 50_000


def _fast_grid(text: str, delimiter: str) -> pd.DataFrame | None:
    """All lines of a large text table as strings (blank cells ""), or None to use csv.reader.

    The same grid as the csv.reader path: one row per record (blank lines kept, so row numbers
    match), short rows padded. A row longer than the widest of the first lines falls back.
    """
    if text.count("\n", 0, 10_000_000) < _FAST_CSV_LINES:
        return None
    head = list(
        itertools.islice(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), 200)
    )
    width = max((len(r) for r in head), default=0)
    try:
        grid = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
            names=list(range(width)),
            dtype=object,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
        )
    except (pd.errors.ParserError, ValueError):
        return None
    # pandas reads a blank line as one row of NaN; the csv path reads it as a row of "".
    return grid.fillna("")


#: A cell that starts like an id with leading zeros ("007"): such columns stay text.
#: (Line 1, the header, is not data: a cell always follows a newline or a separator.)
_LEADING_ZERO = re.compile(r'[\n\t,;|][ \t"]*[+-]?0\d')


def _fast_typed_frame(text: str, delimiter: str, *, padded: bool) -> pd.DataFrame | None:
    """A large plain table read by pandas' C reader; None when anything is unusual.

    What the general path (:func:`_fast_grid` + :func:`_frame_from_grid`) makes of such a file,
    without a Python object per cell: the header on the first line (plain, distinct names), no
    blank line or column, no "007"-style cell; number columns as numbers and, when no cell can
    need stripping (not ``padded``), text columns as text. Any other file (title rows, padded
    text cells ...) returns None and takes the general path.
    """
    if text.count("\n", 0, 10_000_000) < _FAST_CSV_LINES or _LEADING_ZERO.search(text):
        return None
    first = text.split("\n", 1)[0].rstrip("\r")
    header = next(csv.reader([first], delimiter=delimiter), [])
    names = [h.strip() for h in header]
    if (
        len(names) < 2
        or len(set(names)) < len(names)
        or any(n != h or not n for n, h in zip(names, header, strict=True))
    ):
        return None
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=0,
            dtype=None,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
        )
    except (pd.errors.ParserError, ValueError):
        return None
    if list(frame.columns) != names or frame.empty:
        return None
    for col in frame.columns:
        typed = _typed_column(frame[col], padded=padded)
        if typed is None:
            return None
        frame[col] = typed
    if frame.isna().all(axis=1).any() or frame.isna().all(axis=0).any():
        return None  # a blank line or column: the general path drops it
    frame.index = pd.Index(np.arange(2, len(frame) + 2), name="row")
    return frame


def _typed_column(col: pd.Series, *, padded: bool) -> pd.Series | None:
    """A column of the C reader as :func:`_infer_numeric` types it (None: cannot say)."""
    if pd.api.types.is_bool_dtype(col.dtype):
        return None
    if pd.api.types.is_numeric_dtype(col.dtype):
        return col
    if padded or not pd.api.types.is_string_dtype(col.dtype):
        return None
    blank = (col == "").to_numpy(dtype=bool)
    cells = col[~blank]
    if cells.empty or not pd.to_numeric(cells.iloc[:200], errors="coerce").isna().any():
        # Numbers (with blanks) so far: the whole column decides, as the general path does.
        number = pd.to_numeric(cells, errors="coerce")
        if number.notna().all():
            return number.reindex(col.index) if blank.any() else number
    return col.where(~blank).astype("str")


def _frame_from_grid(
    grid: pd.DataFrame, label: str, *, strip: bool = True
) -> tuple[pd.DataFrame, int, list[str]]:
    """Find the header among title lines, name the columns and index rows as the user sees them.

    ``strip=False`` when no cell can have surrounding whitespace (a text file without any).
    """
    grid = grid.copy()
    grid.index = np.arange(1, len(grid) + 1)  # spreadsheet row numbers
    if strip:
        # Column-wise (vectorised) strip: a million-row CSV has millions of cells.
        # (.str.strip gives NaN for numbers in an Excel column: keep those cells as they were.)
        grid = grid.apply(_strip_texts)
    grid = grid.replace("", np.nan)
    grid = grid.dropna(axis=1, how="all")
    filled = grid.notna().sum(axis=1)
    nonblank = filled[filled > 0]
    if nonblank.empty:
        raise InputDataError(msg("loaders.tables.no_data", file=label))
    head = nonblank.head(_HEADER_SCAN_ROWS)
    # The header is the first row that fills most columns; lines above it are titles.
    header_row = int(head.index[np.argmax(head.to_numpy() >= max(2, 0.6 * head.max()))])
    notes: list[str] = []
    if header_row > int(nonblank.index[0]):
        notes.append(msg("loaders.tables.title_rows_skipped", row=header_row))
    header = grid.loc[header_row]
    names: list[str] = []
    for i, h in enumerate(header.tolist()):
        n = str(h).strip() if not _is_blank(h) else f"column_{i + 1}"
        if isinstance(h, float) and float(h).is_integer():
            n = str(int(h))
        base, k = n, 2
        while n in names:
            n = f"{base}_{k}"
            k += 1
        names.append(n)
    body = grid.loc[grid.index > header_row].copy()
    body.columns = names
    body = body.dropna(axis=0, how="all")
    body.index.name = "row"
    if body.empty:
        raise InputDataError(msg("loaders.tables.no_data_rows", file=label, row=header_row))
    return _infer_numeric(body), header_row, notes


def _text_column(vals: pd.Series, text: pd.Series) -> bool:
    """Whether a column's non-blank cells are all strings and the first ones not all numbers.

    Such a column stays text: checking every cell for a number (a million community names)
    would only confirm it.
    """
    if vals.dtype != object or pd.api.types.infer_dtype(vals, skipna=False) != "string":
        return False
    return bool(pd.to_numeric(text.iloc[:200], errors="coerce").isna().any())


def _is_blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v)


def _infer_numeric(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_numeric_dtype(s):
            continue
        vals = s.dropna()
        if vals.empty:
            continue
        text = vals.astype(str).str.strip()
        # Ids such as "007" must stay text.
        if text.str.match(r"^[+-]?0\d").any():
            continue
        if _text_column(vals, text):
            out[col] = s.astype("str")  # what the mapping below makes of cells all text
            continue
        num = pd.to_numeric(text, errors="coerce")
        if num.notna().all():
            # Blank cells become NaN (and the column float), as to_numeric of the column would.
            out[col] = num.reindex(s.index) if len(num) < len(s) else num
        elif s.dtype == object:
            out[col] = s.map(lambda v: v if _is_blank(v) or isinstance(v, str) else str(v))
    return out


# --------------------------------------------------------------------------- Excel


#: What a torn or damaged .xlsx raises inside openpyxl (zip, inflate and XML parse errors).
_TORN_XLSX: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    NotImplementedError,  # zipfile: a compression method it does not know (a flipped byte)
    EOFError,
    KeyError,
    OSError,
    ValueError,
    TypeError,
    IndexError,
    AttributeError,
    SyntaxError,  # xml.etree ParseError
)


def _read_excel(raw: bytes, label: str, sheet: str | int | None) -> tuple[pd.DataFrame, TableInfo]:
    import openpyxl

    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and data validation it does not read; irrelevant here.
            warnings.simplefilter("ignore", UserWarning)
            wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except _TORN_XLSX as exc:
        raise InputDataError(msg("loaders.tables.torn_xlsx", file=label, error=str(exc))) from exc
    try:
        grids: dict[str, list[tuple[Any, ...]]] = {}
        names = list(wb.sheetnames)
        if sheet is not None:
            chosen = names[sheet] if isinstance(sheet, int) and 0 <= sheet < len(names) else sheet
            if chosen not in names:
                error = msg(
                    "loaders.tables.no_sheet", file=label, sheet=repr(sheet), sheets=str(names)
                )
                raise InputDataError(error)
            targets = [str(chosen)]
        else:
            # Hidden sheets usually hold old or helper data: never pick one by default.
            targets = [n for n in names if getattr(wb[n], "sheet_state", "visible") == "visible"]
        for sh in targets:
            ws = wb[sh]
            # Files written by some tools carry a stale <dimension> tag; read_only mode trusts it
            # and would silently cut the table short.
            ws.reset_dimensions()
            try:
                # read_only mode inflates the sheet while iterating: a torn file fails here.
                rows = list(ws.iter_rows(values_only=True))
            except _TORN_XLSX as exc:
                error = msg(
                    "loaders.tables.damaged_sheet",
                    file=label,
                    sheet=repr(sh),
                    error=f"{type(exc).__name__}: {exc}",
                )
                raise InputDataError(error) from exc
            if any(any(not _is_blank(v) for v in r) for r in rows):
                grids[sh] = rows
    finally:
        wb.close()
    if not grids:
        raise InputDataError(msg("loaders.tables.empty_sheets", file=label, sheets=str(names)))
    first_error: InputDataError | None = None
    for sh, rows in grids.items():
        width = max(len(r) for r in rows)
        grid = pd.DataFrame([list(r) + [None] * (width - len(r)) for r in rows], dtype=object)
        try:
            frame, header_row, notes = _frame_from_grid(grid, f"{label} [{sh}]")
        except InputDataError as exc:
            # e.g. a 说明 (notes) sheet before the data: try the next sheet.
            first_error = first_error or exc
            continue
        break
    else:
        if len(grids) > 1:
            error = msg("loaders.tables.no_sheet_table", error=first_error, sheets=str(names))
            raise InputDataError(error) from first_error
        assert first_error is not None  # every sheet failed: the first one said why
        raise InputDataError(first_error.args[0]) from first_error
    if sheet is None and len(names) > 1:
        notes.append(msg("loaders.tables.sheet_read", sheet=repr(sh), sheets=str(names)))
    info = TableInfo(
        name=label, format="xlsx", sheet=sh, header_row=header_row, n_rows=len(frame), notes=notes
    )
    logger.info("%s: read %d rows from sheet %s", label, len(frame), sh)
    return frame, info


# --------------------------------------------------------------------------- GIS files


def _from_frame(frame: pd.DataFrame, label: str, fmt: str) -> tuple[pd.DataFrame, TableInfo]:
    """A frame handed over directly (a database query, a caller's table), numbered as rows."""
    if len(frame) == 0:
        raise InputDataError(msg("loaders.tables.no_rows", file=label))
    out = frame.copy()
    out.index = pd.RangeIndex(1, len(out) + 1, name="row")
    crs = None
    if isinstance(out, gpd.GeoDataFrame) and out.crs is not None:
        crs = out.crs.to_string()
    return out, TableInfo(name=label, format=fmt, crs=crs, n_rows=len(out))


def _read_parquet(path: Path, label: str) -> tuple[pd.DataFrame, TableInfo]:
    """GeoParquet (geometry + CRS from its metadata) or a plain Parquet table."""
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path).metadata or {}
        frame: pd.DataFrame = gpd.read_parquet(path) if b"geo" in meta else pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several error types for damaged files
        error = msg("loaders.tables.bad_parquet", file=label, error=f"{type(exc).__name__}: {exc}")
        raise InputDataError(error) from exc
    out, info = _from_frame(frame, label, "geoparquet" if b"geo" in meta else "parquet")
    logger.info("%s: read %d rows (%s)", label, len(out), info.format)
    return out, info


def _read_gis(
    path: Path, label: str, suffix: str, layer: str | int | None
) -> tuple[pd.DataFrame, TableInfo]:
    import pyogrio

    if suffix in (".parquet", ".geoparquet"):
        return _read_parquet(path, label)

    fmt = {".json": "geojson", ".geojson": "geojson", ".shp": "shp", ".gpkg": "gpkg"}.get(suffix)
    target = str(path)
    notes: list[str] = []
    if suffix == ".zip":
        target, fmt = zip_member(path, label, notes)
    try:
        layers = pyogrio.list_layers(target)
    except Exception as exc:  # pyogrio raises several GDAL error types
        kind = fmt or msg("loaders.tables.a_gis_file")
        error = msg("loaders.tables.cannot_open_gis", file=label, format=kind, error=str(exc))
        raise GeometryError(error) from exc
    names = [str(x[0]) for x in layers]
    chosen: str | None
    if layer is not None:
        chosen = names[layer] if isinstance(layer, int) and 0 <= layer < len(names) else str(layer)
        if chosen not in names:
            error = msg("loaders.tables.no_layer", file=label, layer=repr(layer), layers=str(names))
            raise InputDataError(error)
    else:
        chosen = names[0] if names else None
        if len(names) > 1:
            for nm in names:
                if pyogrio.read_info(target, layer=nm).get("features", 0) != 0:
                    chosen = nm
                    break
            notes.append(msg("loaders.tables.layer_read", layer=repr(chosen), layers=str(names)))
    try:
        gdf = gpd.read_file(target, layer=chosen, engine="pyogrio")
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}"
        error = msg("loaders.tables.unreadable_features", file=label, error=detail)
        raise GeometryError(error) from exc
    if len(gdf) == 0:
        raise InputDataError(msg("loaders.tables.empty_layer", file=label, layer=repr(chosen)))
    gdf.index = pd.RangeIndex(1, len(gdf) + 1, name="row")
    if not isinstance(gdf, gpd.GeoDataFrame):
        # A GPKG layer that is an attribute table: its coordinates, if any, are in columns.
        notes.append(msg("loaders.tables.attribute_layer", layer=repr(chosen)))
        frame = _infer_numeric(gdf.astype(object))
        info = TableInfo(name=label, format="table", sheet=chosen, n_rows=len(frame), notes=notes)
        logger.info("%s: read %d rows from attribute table %s", label, len(frame), chosen)
        return frame, info
    crs = gdf.crs.to_string() if gdf.crs is not None else None
    info = TableInfo(
        name=label,
        format=fmt or suffix.lstrip("."),
        sheet=chosen,
        crs=crs,
        n_rows=len(gdf),
        notes=notes,
    )
    logger.info("%s: read %d features (layer %s, crs %s)", label, len(gdf), chosen, crs)
    return gdf, info


def zip_member(path: Path, label: str, notes: list[str]) -> tuple[str, str]:
    """The GDAL path (/vsizip/...) and format of the GIS file inside a zip, wherever it sits."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = [n for n in zf.namelist() if not n.startswith("__MACOSX/")]
    except zipfile.BadZipFile as exc:
        raise InputDataError(msg("loaders.tables.bad_zip", file=label, error=str(exc))) from exc
    kinds = ((".shp", "shp"), (".gpkg", "gpkg"), (".geojson", "geojson"), (".json", "geojson"))
    for ext, fmt in kinds:
        found = sorted(n for n in members if n.lower().endswith(ext))
        if found:
            if len(found) > 1:
                notes.append(
                    msg(
                        "loaders.tables.zip_several",
                        n=len(found),
                        suffix=ext,
                        member=repr(found[0]),
                    )
                )
            if ext == ".shp":
                stem = found[0][: -len(ext)]
                missing = [
                    e
                    for e in (".dbf", ".shx")
                    if not any(m.lower() == (stem + e).lower() for m in members)
                ]
                if missing:
                    error = msg(
                        "loaders.tables.shp_incomplete",
                        file=label,
                        member=found[0],
                        missing=", ".join(missing),
                    )
                    raise GeometryError(error)
            return f"/vsizip/{path}/{found[0]}", fmt
    raise InputDataError(msg("loaders.tables.zip_no_gis", file=label, members=str(members[:10])))
