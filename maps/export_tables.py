"""Tables for meetings (XLSX with Chinese headers) and every layer for GIS users (GeoPackage).

The workbook has one sheet each for the summary per category (汇总), the per-community table
(社区), the gaps (缺口), the proposed sites (建议选址) and the parameters and data sources (参数).
The GeoPackage holds facilities, demand, service areas, gaps, sites and the street network as
layers that QGIS/ArcGIS open directly.
"""

from __future__ import annotations

import io
import logging
import math
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from openpyxl.utils import get_column_letter

from geo.errors import InputDataError
from geo.taxonomy import categories as taxonomy
from maps.i18n import STRINGS, t

logger = logging.getLogger(__name__)

#: GeoPackage layer names in write order.
GPKG_LAYERS: tuple[str, ...] = (
    "facilities",
    "demand",
    "service_areas",
    "gaps",
    "sites",
    "network",
    "boundary",
    "water",
)


def _headers(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    tax = taxonomy()
    names: dict[Any, str] = {}
    if "category" in df.columns:
        if "name_zh" in df.columns or "name_en" in df.columns:
            names["category"] = t("category_key", lang)
        else:
            # Planners read names, not keys.
            df = df.assign(
                category=[tax[k].name(lang) if k in tax else k for k in df["category"].astype(str)]
            )
    for col in df.columns:
        key = str(col)
        if col in names:
            continue
        if key in STRINGS:
            names[col] = t(key, lang)
            continue
        # Per-category demand columns: "<category>_<field>" → "助餐 · 覆盖".
        for cat_key, cat in tax.items():
            if key.startswith(cat_key + "_"):
                rest = key[len(cat_key) + 1 :]
                label = t(rest, lang) if rest in STRINGS else rest
                names[col] = f"{cat.short_zh if lang == 'zh' else cat.name_en} · {label}"
                break
    return df.rename(columns=names)


def _plain(df: pd.DataFrame | gpd.GeoDataFrame) -> pd.DataFrame:
    """A copy without geometry (with lon/lat of a representative point) and Excel-safe values."""
    out = pd.DataFrame(df).copy()
    if isinstance(df, gpd.GeoDataFrame) and df.geometry.name in out.columns:
        geom = df.geometry
        if geom.notna().any():
            pts = df.to_crs("EPSG:4326").geometry.representative_point() if df.crs else geom
            if "lon" not in out.columns:
                out["lon"] = pts.x.round(6)
                out["lat"] = pts.y.round(6)
        out = out.drop(columns=[df.geometry.name])
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(_scalar)
        elif pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].replace([np.inf, -np.inf], np.nan)
    return out


def _scalar(value: Any) -> Any:
    if isinstance(value, list | tuple | set | np.ndarray):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    return value


def community_table(
    demand: gpd.GeoDataFrame | pd.DataFrame, *, categories: Sequence[str] | None = None
) -> pd.DataFrame:
    """Residents and covered residents per community from an analysed demand frame.

    Parameters
    ----------
    demand
        ``CoverageResult.demand``: ``community``, ``population`` and ``<category>_covered``.
    categories
        Category keys; every category with a ``_covered`` column by default.

    Returns
    -------
    pandas.DataFrame
        One row per community (``""`` shown as "未知"): ``community, population`` and per
        category ``<key>_covered_population`` and ``<key>_coverage_rate``.
    """
    if "population" not in demand.columns:
        msg = f"demand: no 'population' column; got {list(demand.columns)}"
        raise InputDataError(msg)
    df = pd.DataFrame(demand).copy()
    if "community" not in df.columns:
        df["community"] = ""
    df["community"] = df["community"].fillna("").astype(str).replace("", t("unknown", "zh"))
    keys = categories or [k for k in taxonomy() if f"{k}_covered" in df.columns]
    agg: dict[str, pd.Series] = {"population": df.groupby("community")["population"].sum()}
    for key in keys:
        covered = df["population"].where(df[f"{key}_covered"].astype(bool), 0.0)
        agg[f"{key}_covered_population"] = covered.groupby(df["community"]).sum()
    out = pd.DataFrame(agg)
    for key in keys:
        pop = out["population"].replace(0, np.nan)
        out[f"{key}_coverage_rate"] = (out[f"{key}_covered_population"] / pop).fillna(0.0)
    return out.reset_index()


def parameters_table(
    parameters: Mapping[str, Any] | pd.DataFrame | None,
    *,
    sources: Sequence[str] = (),
    lang: str = "zh",
) -> pd.DataFrame:
    """Parameters and data sources as a two-column table (parameter, value)."""
    if isinstance(parameters, pd.DataFrame):
        rows = [tuple(r) for r in parameters.iloc[:, :2].itertuples(index=False)]
    else:
        rows = [(str(k), _scalar(v)) for k, v in (parameters or {}).items()]
    rows += [(t("report_sources", lang), s) for s in sources]
    return pd.DataFrame(rows, columns=["parameter", "value"])


def display_width(text: str) -> int:
    """Width in Excel character units: CJK and full-width characters take two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _cell_text(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:,.1f}"
    return str(value)


def _number_format(values: pd.Series, *, rate: bool) -> str | None:
    """Excel display format: rates in %, counts grouped, other numbers to one decimal.

    Only the display changes; the cells keep their full precision for further work.
    """
    if rate:
        return "0.0%"
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return None
    finite = values[np.isfinite(values.astype("float64"))]
    if len(finite) and (finite % 1 == 0).all():
        return "#,##0"
    return "#,##0.0"


def write_xlsx(
    path: str | Path | None = None,
    *,
    summary: pd.DataFrame,
    communities: pd.DataFrame | None = None,
    gaps: gpd.GeoDataFrame | pd.DataFrame | None = None,
    sites: gpd.GeoDataFrame | pd.DataFrame | None = None,
    parameters: Mapping[str, Any] | pd.DataFrame | None = None,
    sources: Sequence[str] = (),
    lang: str = "zh",
) -> bytes:
    """Write the meeting workbook (five sheets, headers in ``lang``).

    Parameters
    ----------
    path
        Where to write; ``None`` only returns the bytes (for a download button).
    summary
        ``CoverageResult.summary``: one row per category.
    communities
        Per-community table (``coverage.completeness`` or :func:`community_table`); the sheet is
        written empty (headers only) when ``None``.
    gaps, sites
        Gaps and proposed sites; geometry is replaced by ``lon``/``lat`` columns.
    parameters
        Run parameters (criteria, speeds, tolerance...) as a mapping or a two-column table.
    sources
        Data sources (files, OSM extract date, "合成示范数据"...), one per line.
    lang
        Language of sheet names and headers; Chinese by default.

    Returns
    -------
    bytes
        The XLSX file.
    """
    if sites is not None and "coverage_rate" in sites.columns:
        # In the sites table the rate is the cumulative one after adding each site.
        sites = sites.rename(columns={"coverage_rate": "cumulative_coverage_rate"})
    sheets = {
        t("sheet_summary", lang): summary,
        t("sheet_communities", lang): communities if communities is not None else pd.DataFrame(),
        t("sheet_gaps", lang): gaps if gaps is not None else pd.DataFrame(),
        t("sheet_sites", lang): sites if sites is not None else pd.DataFrame(),
        t("sheet_parameters", lang): parameters_table(parameters, sources=sources, lang=lang),
    }
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            plain = _plain(frame)
            rate_cols = [
                i
                for i, c in enumerate(plain.columns)
                if str(c).endswith(("rate", "share")) or str(c) == "coverage_rate_reachable"
            ]
            _headers(plain, lang).to_excel(writer, sheet_name=name, index=False)
            ws = writer.sheets[name]
            ws.freeze_panes = "A2"
            for i, col in enumerate(plain.columns, start=1):
                # Wide enough for the header and the values (CJK characters count double).
                texts = [str(ws.cell(1, i).value), *plain[col].head(500).map(_cell_text)]
                width = max(display_width(x) for x in texts) + 2
                ws.column_dimensions[get_column_letter(i)].width = min(max(width, 8), 60)
                fmt = _number_format(plain[col], rate=i - 1 in rate_cols)
                if fmt:
                    for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                        cell.number_format = fmt
    data = buf.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data


def _gpkg_safe(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        if out[col].dtype == object:
            out[col] = out[col].map(lambda v: _scalar(v) if not _is_missing(v) else None)
        elif pd.api.types.is_float_dtype(out[col]):
            # Unreached (inf) is stored as NULL: GIS tools do not read infinities back.
            out[col] = out[col].replace([np.inf, -np.inf], np.nan)
    return out


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def write_gpkg(
    path: str | Path,
    *,
    facilities: gpd.GeoDataFrame | None = None,
    demand: gpd.GeoDataFrame | None = None,
    service_areas: gpd.GeoDataFrame | None = None,
    gaps: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | pd.DataFrame | None = None,
    network_edges: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    water: gpd.GeoDataFrame | None = None,
) -> Path:
    """Write every given layer into one GeoPackage (WGS-84), replacing an existing file.

    Parameters
    ----------
    path
        The ``.gpkg`` file.
    facilities, demand, service_areas, gaps, sites, network_edges, boundary, water
        The layers (CONTRACTS.md; ``water``: the map's rivers and lakes, as the app's layers
        give them); ``None`` or empty ones are skipped. ``sites`` without a
        geometry get points from ``lon``/``lat``. ``network_edges`` becomes layer ``network``.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    InputDataError
        No layer was given.
    """
    path = Path(path)
    if sites is not None and len(sites) and not isinstance(sites, gpd.GeoDataFrame):
        sites = gpd.GeoDataFrame(
            sites, geometry=gpd.points_from_xy(sites["lon"], sites["lat"]), crs="EPSG:4326"
        )
    layers = {
        "facilities": facilities,
        "demand": demand,
        "service_areas": service_areas,
        "gaps": gaps,
        "sites": sites,
        "network": network_edges,
        "boundary": boundary,
        "water": water,
    }
    todo = {k: v for k, v in layers.items() if v is not None and len(v) > 0}
    if not todo:
        msg = "GeoPackage export: every layer is empty or missing; pass at least facilities"
        raise InputDataError(msg)
    if path.exists():
        path.unlink()
    for name, gdf in todo.items():
        g = gdf if gdf.crs is not None else gdf.set_crs("EPSG:4326")
        pyogrio.write_dataframe(_gpkg_safe(g.to_crs("EPSG:4326")), path, layer=name, driver="GPKG")
    logger.info("GeoPackage %s: layers %s", path, list(todo))
    return path


def gpkg_bytes(**layers: Any) -> bytes:
    """:func:`write_gpkg` into a temporary file and return its bytes (for a download button)."""
    with tempfile.TemporaryDirectory() as tmp:
        return write_gpkg(Path(tmp) / "coverage.gpkg", **layers).read_bytes()
