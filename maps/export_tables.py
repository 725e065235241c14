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
import re
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
from geo.messages import Message, localise, msg
from geo.safe_cells import cell_value, gpkg_safe, harden_worksheet
from geo.taxonomy import categories as taxonomy
from maps.export_edits import edits_sheet
from maps.export_format import COORD_DECIMALS, excel_format, is_coord, is_rate
from maps.i18n import has, t

__all__ = [
    "EVALUATION_KEYS",
    "GPKG_LAYERS",
    "community_table",
    "compliance_ranked",
    "display_width",
    "evaluation_sheets",
    "gap_label",
    "gpkg_bytes",
    "localise_cells",
    "parameters_table",
    "rate_background",
    "readable",
    "subgroup_rates",
    "supply_judged",
    "tier_long",
    "tier_matrix",
    "write_gpkg",
    "write_xlsx",
]

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
            names["category"] = t("maps.category_key", lang)
        else:
            # Planners read names, not keys.
            df = df.assign(
                category=[tax[k].name(lang) if k in tax else k for k in df["category"].astype(str)]
            )
    for col in df.columns:
        key = str(col)
        if col in names:
            continue
        if has(f"maps.{key}"):
            names[col] = t(f"maps.{key}", lang)
            continue
        # Per-category demand columns: "<category>_<field>" → "助餐 · 覆盖".
        for cat_key, cat in tax.items():
            if key.startswith(cat_key + "_"):
                rest = key[len(cat_key) + 1 :]
                field = t(f"maps.{rest}", lang) if has(f"maps.{rest}") else rest
                name = cat.short_zh if lang == "zh" else cat.name_en
                names[col] = t("maps.per_category", lang, category=name, field=field)
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
            out[col] = out[col].map(cell_value)
        elif pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].replace([np.inf, -np.inf], np.nan)
    return out


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
        raise InputDataError(msg("maps.tables.no_population", columns=list(demand.columns)))
    df = pd.DataFrame(demand).copy()
    if "community" not in df.columns:
        df["community"] = ""
    df["community"] = df["community"].fillna("").astype(str).replace("", t("maps.unknown", "zh"))
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
        rows = [(str(k), cell_value(v)) for k, v in (parameters or {}).items()]
    rows += [(t("maps.report_sources", lang), s) for s in sources]
    return pd.DataFrame(rows, columns=["parameter", "value"])


def display_width(text: str) -> int:
    """Width in Excel character units: CJK and full-width characters take two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _cell_text(value: Any, digits: int = 1) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:,.{digits}f}"
    return "" if value is None else str(value)


def _number_format(values: pd.Series, *, rate: bool, column: str = "") -> str | None:
    """Excel display format of a column (:func:`maps.export_format.excel_format`).

    Rates in %, counts grouped, coordinates to six decimals, other numbers to one decimal.
    Only the display changes; the cells keep their full precision for further work.
    """
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    integral = False
    if numeric:
        finite = values[np.isfinite(values.astype("float64"))]
        integral = bool(len(finite) and (finite % 1 == 0).all())
    return excel_format("rate" if rate else column, numeric=numeric, integral=integral)


#: Columns a meeting reader does not need in either language (internal keys) and, per language,
#: the columns holding the other language's text.
_INTERNAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "zh": ("category_key", "name_en", "criterion_en"),
    "en": ("category_key", "name_zh"),
}

#: ``source`` values written by the code (not by users), shown by their meaning.
_SOURCE_VALUES: tuple[str, ...] = ("generated", "osm", "demo", "edit", "candidates")


def gap_label(gap_id: Any, lang: str) -> str:
    """A gap's id for readers: ``parking-003`` → "停车-003" in Chinese (same number as the map)."""
    text = str(gap_id)
    key, sep, number = text.rpartition("-")
    cats = taxonomy()
    if sep and key in cats and number.isdigit():
        return f"{cats[key].short_zh if lang == 'zh' else cats[key].name_en}-{number}"
    return text


def localise_cells(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``frame`` with every message cell (a rejected row's reason, a status) in ``lang``.

    Loaders and the analysis put :class:`geo.messages.Message` values in their tables; as text
    they are English, so a Chinese report renders them here. Other cells are left as they are.
    """

    def is_message(v: Any) -> bool:
        return isinstance(v, Message) or (
            isinstance(v, list | tuple) and any(isinstance(x, Message) for x in v)
        )

    cols = [
        c for c in frame.columns
        if frame[c].dtype == object and any(is_message(v) for v in frame[c])
    ]  # fmt: skip
    if not cols:
        return frame
    out = frame.copy()
    for c in cols:
        out[c] = [localise(v, lang) if is_message(v) else v for v in out[c]]
    return out


def readable(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A table with no internal tokens: ids, code-written sources and empty columns readable.

    Used by the workbook and the reports alike, so a reader sees the same values in both;
    message cells are rendered in ``lang`` (:func:`localise_cells`).
    """
    out = localise_cells(frame, lang).copy()
    if len(out) == 0:
        return out
    if "category" in out.columns and ("name_zh" in out.columns or "name_en" in out.columns):
        # The summary names each category already; its key is an internal token.
        out = out.drop(columns=["category"])
    out = out.drop(columns=[c for c in _INTERNAL_COLUMNS.get(lang, ()) if c in out.columns])
    if "gap_id" in out.columns:
        out["gap_id"] = [gap_label(v, lang) for v in out["gap_id"]]
    if "source" in out.columns:
        out["source"] = [
            t(f"maps.source_{v}", lang) if isinstance(v, str) and v in _SOURCE_VALUES else v
            for v in out["source"]
        ]
    if "candidate_id" in out.columns:
        out["candidate_id"] = [
            t("maps.tables.generated_candidate", lang, n=str(v)[4:])
            if str(v).startswith("gen-")
            else v
            for v in out["candidate_id"]
        ]
    # A column with no value at all (capacity unknown everywhere) says nothing in a meeting.
    empty = [
        c for c in out.columns
        if not (isinstance(out, gpd.GeoDataFrame) and c == out.geometry.name)
        and out[c].isna().all()
    ]  # fmt: skip
    return out.drop(columns=empty)


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
    evaluation: Mapping[str, pd.DataFrame] | None = None,
    network_edits: pd.DataFrame | None = None,
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
    evaluation
        ``RunResult.evaluation`` (``tiers``, ``supply``, ``compliance``, ``least_served``):
        adds the sheets 分级覆盖, 达标 and 千人指标 (:func:`evaluation_sheets`) before 参数.
    network_edits
        Report of the network what-ifs: adds the sheet 路网假设 (:mod:`maps.export_edits`).

    Returns
    -------
    bytes
        The XLSX file.
    """
    if sites is not None and "coverage_rate" in sites.columns:
        # In the sites table the rate is the cumulative one after adding each site.
        sites = sites.rename(columns={"coverage_rate": "cumulative_coverage_rate"})
    sheets = {
        t("maps.sheet_summary", lang): summary,
        t("maps.sheet_communities", lang): communities
        if communities is not None
        else pd.DataFrame(),
        t("maps.sheet_gaps", lang): gaps if gaps is not None else pd.DataFrame(),
        t("maps.sheet_sites", lang): sites if sites is not None else pd.DataFrame(),
    }
    if evaluation:
        sheets.update(evaluation_sheets(evaluation, lang=lang))
    sheets.update(edits_sheet(network_edits, lang=lang))
    sheets[t("maps.sheet_parameters", lang)] = parameters_table(
        parameters, sources=sources, lang=lang
    )
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            plain = _plain(readable(frame, lang) if isinstance(frame, pd.DataFrame) else frame)
            rate_cols = [i for i, c in enumerate(plain.columns) if is_rate(str(c))]
            _headers(plain, lang).to_excel(writer, sheet_name=name, index=False)
            ws = writer.sheets[name]
            # Names and communities come from users' files: never let one run as a formula.
            harden_worksheet(ws)
            ws.freeze_panes = "A2"
            for i, col in enumerate(plain.columns, start=1):
                # Wide enough for the header and the values (CJK characters count double).
                digits = COORD_DECIMALS if is_coord(str(col)) else 1
                values = [_cell_text(v, digits) for v in plain[col].head(500)]
                texts = [str(ws.cell(1, i).value), *values]
                width = max(display_width(x) for x in texts) + 2
                ws.column_dimensions[get_column_letter(i)].width = min(max(width, 8), 60)
                fmt = _number_format(plain[col], rate=i - 1 in rate_cols, column=str(col))
                if fmt:
                    for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                        cell.number_format = fmt
    data = buf.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data


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
        raise InputDataError(msg("maps.tables.gpkg_empty"))
    if path.exists():
        path.unlink()
    for name, gdf in todo.items():
        g = gdf if gdf.crs is not None else gdf.set_crs("EPSG:4326")
        pyogrio.write_dataframe(gpkg_safe(g.to_crs("EPSG:4326")), path, layer=name, driver="GPKG")
    logger.info("GeoPackage %s: layers %s", path, list(todo))
    return path


def gpkg_bytes(**layers: Any) -> bytes:
    """:func:`write_gpkg` into a temporary file and return its bytes (for a download button)."""
    with tempfile.TemporaryDirectory() as tmp:
        return write_gpkg(Path(tmp) / "coverage.gpkg", **layers).read_bytes()


# --------------------------------------------------------------------------------------------
# Living-circle evaluation (tiers, compliance, supply per 1,000): one formatting for the app's
# Evaluation page, the workbook sheets 分级覆盖/达标/千人指标 and the report chapter.
# --------------------------------------------------------------------------------------------

#: Keys of ``RunResult.evaluation`` the evaluation tables read.
EVALUATION_KEYS: tuple[str, ...] = ("tiers", "supply", "compliance", "least_served")

# A standard's citation keeps its code ("GB 50180-2018", "TD/T 1062-2021") and Chinese text; a
# segment with English words is left out of the Chinese reports (the label and threshold stay).
_CODE_TOKENS = re.compile(r"\b(?:GB|TD/T|T|GB/T|JGJ|CJJ|DB\d*)\b|\[[VSM]\]")
_ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")
_ZH_WORDS: tuple[tuple[str, str], ...] = (
    (" min)", " 分钟)"),
    ("per 1000 people", "每千人"),
    ("per person", "每人"),
    (" plan:", "规划："),
    ("by 2025", "（2025年）"),
    ("no national radius", "无国家标准半径"),
    ("no radius", "无半径"),
    (" m ", " 米 "),
    (" m²", " 平方米"),
    ("托位 places", "托位"),
    ("sports ground", "运动场地"),
)


def standard_text(source: Any, lang: str) -> str:
    """A standard's citation for readers in ``lang`` (Chinese: its Chinese segments only)."""
    missing = source is None or (isinstance(source, float) and math.isnan(source))
    text = "" if missing else str(source)
    if lang != "zh":
        return text
    for english, chinese in _ZH_WORDS:
        text = text.replace(english, chinese)
    kept = []
    for part in re.split(r"[;；]", text):
        part = part.strip()
        if part and not _ENGLISH_WORD.search(_CODE_TOKENS.sub("", part)):
            kept.append(part)
    return "；".join(kept)


def _tier_name(row: Mapping[str, Any], lang: str) -> str:
    return str(row["tier_name_en"] if lang == "en" else row["tier_name_zh"])


def _cat_name(key: Any, lang: str) -> str:
    cat = taxonomy().get(str(key))
    return cat.name(lang) if cat is not None else str(key)


def _tier_order(tiers: pd.DataFrame) -> list[str]:
    from geo.taxonomy import tiers as tier_defs

    known = list(tier_defs())
    used = list(dict.fromkeys(tiers["tier"].astype(str)))
    return [k for k in known if k in used] + [k for k in used if k not in known]


def tier_matrix(tiers: pd.DataFrame, *, lang: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The tier matrix: categories × tiers of ``tiers.csv``.

    Returns
    -------
    rates, cells
        ``rates`` holds the coverage rate (0..1, NaN where the category is not in a tier);
        ``cells`` the same cells as text, the rate with the threshold and the standard's label
        ("37.2% · 810 米 [V]"). Both are indexed by the category name, columns are tier names,
        ordered from the 15-minute circle down to the block.
    """
    if tiers is None or len(tiers) == 0:
        return pd.DataFrame(), pd.DataFrame()
    order = list(reversed(_tier_order(tiers)))
    names = {str(r["tier"]): _tier_name(r, lang) for _, r in tiers.iterrows()}
    cats = list(dict.fromkeys(tiers["category"].astype(str)))
    index = [_cat_name(c, lang) for c in cats]
    rates = pd.DataFrame(np.nan, index=index, columns=[names[k] for k in order], dtype="float64")
    cells = pd.DataFrame("", index=index, columns=rates.columns, dtype=object)
    unit = t("maps.tables.metres_unit", lang)
    for _, r in tiers.iterrows():
        row, col = _cat_name(r["category"], lang), names[str(r["tier"])]
        rate = float(r["coverage_rate"])
        rates.loc[row, col] = rate
        status = str(r.get("status") or "")
        rate_text = "—" if math.isnan(rate) else f"{rate:.1%}"
        cells.loc[row, col] = f"{rate_text} · {float(r['threshold_m']):.0f} {unit} {status}".strip()
    rates.index.name = cells.index.name = t("maps.category", lang)
    return rates, cells


def tier_long(tiers: pd.DataFrame, *, lang: str) -> pd.DataFrame:
    """``tiers.csv`` for readers: category and tier names, rates, subgroups and the standard."""
    if tiers is None or len(tiers) == 0:
        return pd.DataFrame()
    out = pd.DataFrame(
        {
            "category": [_cat_name(c, lang) for c in tiers["category"]],
            "tier_name": [_tier_name(r, lang) for _, r in tiers.iterrows()],
            "threshold_m": tiers["threshold_m"].to_numpy(),
            "minutes": tiers["minutes"].to_numpy(),
            "population": tiers["population"].to_numpy(),
            "covered_population": tiers["covered_population"].to_numpy(),
            "coverage_rate": tiers["coverage_rate"].to_numpy(),
            "elderly_coverage_rate": tiers["elderly_coverage_rate"].to_numpy(),
            "children_coverage_rate": tiers["children_coverage_rate"].to_numpy(),
            "infants_coverage_rate": tiers["infants_coverage_rate"].to_numpy(),
            "subgroup": [t(f"maps.subgroup_{s}", lang) for s in tiers["subgroup"].astype(str)],
            "subgroup_coverage_rate": tiers["subgroup_coverage_rate"].to_numpy(),
            "standard_status": tiers["status"].astype(str).to_numpy(),
            "standard_source": [standard_text(s, lang) for s in tiers["source"]],
        }
    )
    return out


def subgroup_rates(tiers: pd.DataFrame, *, lang: str) -> pd.DataFrame:
    """Coverage of all residents, the elderly and children per category at its item tier."""
    if tiers is None or len(tiers) == 0:
        return pd.DataFrame()
    first = tiers.drop_duplicates("category", keep="first")
    long = tier_long(first, lang=lang)
    keep = [
        "category",
        "tier_name",
        "coverage_rate",
        "elderly_coverage_rate",
        "children_coverage_rate",
        "subgroup",
        "subgroup_coverage_rate",
    ]
    return long[keep].reset_index(drop=True)


def compliance_ranked(
    least_served: pd.DataFrame, compliance: pd.DataFrame | None = None, *, lang: str
) -> pd.DataFrame:
    """达标 by community, least served first: rank, residents, 达标, scores and what it lacks."""
    if least_served is None or len(least_served) == 0:
        return pd.DataFrame()
    by = next(c for c in least_served.columns if c not in ("rank",))
    # Residents without a community ("" unknown) are no community to judge.
    least_served = least_served[least_served[by].astype(str).str.len() > 0]
    if len(least_served) == 0:
        return pd.DataFrame()
    out = least_served[["rank", by, "population", "compliant", "basic_score"]].copy()
    if compliance is not None and by in compliance.columns:
        extra = compliance[[by, "n_basic", "n_basic_reached", "quality_score"]]
        out = out.merge(extra, on=by, how="left")
    yes, no = t("maps.eval_compliant_yes", lang), t("maps.eval_compliant_no", lang)
    out["compliant"] = [yes if bool(v) else no for v in out["compliant"]]
    lacks = least_served["lacks_en" if lang == "en" else "lacks_zh"].fillna("").to_numpy()
    out["lacks"] = [v if v else t("maps.eval_lacks_nothing", lang) for v in lacks]
    return out.reset_index(drop=True)


def supply_judged(supply: pd.DataFrame, *, lang: str, district_only: bool = False) -> pd.DataFrame:
    """Supply per 1,000 residents against the targets (达到 / 未达到), with each target's source.

    ``district_only`` keeps the whole-district rows (the reports); the sheet has every row.
    """
    if supply is None or len(supply) == 0:
        return pd.DataFrame()
    district = supply["level"].astype(str) == "district"
    rows = supply[district] if district_only else supply
    met = {True: t("maps.eval_met", lang), False: t("maps.eval_not_met", lang)}
    judged = [
        t("maps.eval_no_target", lang) if pd.isna(v) else met[bool(v)] for v in rows["meets_target"]
    ]
    community = [
        t("maps.eval_district", lang) if level == "district" else c
        for c, level in zip(rows["community"].astype(str), rows["level"].astype(str), strict=True)
    ]
    out = pd.DataFrame(
        {
            "community": community,
            "category": [_cat_name(c, lang) for c in rows["category"]],
            "capacity": rows["capacity"].to_numpy(),
            "residents": rows["residents"].to_numpy(),
            "per_1000": rows["per_1000"].to_numpy(),
            "reachable_per_1000": rows["reachable_per_1000"].to_numpy(),
            "target_per_1000": rows["target_per_1000"].to_numpy(),
            "meets_target": judged,
            "n_facilities": rows["n_facilities"].to_numpy(),
            "standard_status": rows["target_status"].fillna("").astype(str).to_numpy(),
            "standard_source": [standard_text(s, lang) for s in rows["target_source"]],
        }
    )
    if district_only:
        out = out.drop(columns=["community"])
    return out.reset_index(drop=True)


def evaluation_sheets(evaluation: Mapping[str, pd.DataFrame], *, lang: str) -> dict[str, Any]:
    """The workbook's evaluation sheets: 分级覆盖 (tiers), 达标 (compliance), 千人指标 (supply)."""
    return {
        t("maps.sheet_tiers", lang): tier_long(evaluation.get("tiers"), lang=lang),  # type: ignore[arg-type]
        t("maps.sheet_compliance", lang): compliance_ranked(
            evaluation.get("least_served"),  # type: ignore[arg-type]
            evaluation.get("compliance"),
            lang=lang,
        ),
        t("maps.sheet_supply", lang): supply_judged(evaluation.get("supply"), lang=lang),  # type: ignore[arg-type]
    }


#: Rate colour stops (0, 0.5, 1): red, yellow, green, as the compliance map's 不达标 / 达标.
RATE_STOPS: tuple[tuple[int, int, int], ...] = (
    (0xF4, 0x6D, 0x43),
    (0xFE, 0xE0, 0x8B),
    (0x66, 0xBD, 0x63),
)


def rate_background(value: Any) -> str:
    """CSS background of a table cell holding a rate (0..1); ``""`` for a missing rate."""
    if value is None or not isinstance(value, int | float) or math.isnan(value):
        return ""
    x = min(max(float(value), 0.0), 1.0) * 2
    lo, hi = (RATE_STOPS[0], RATE_STOPS[1]) if x <= 1 else (RATE_STOPS[1], RATE_STOPS[2])
    f = x if x <= 1 else x - 1
    r, g, b = (round(a + (c - a) * f) for a, c in zip(lo, hi, strict=True))
    return f"background-color: #{r:02x}{g:02x}{b:02x}"
