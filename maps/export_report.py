"""Meeting reports: a PDF (reportlab) and a PPTX deck (python-pptx).

Both carry the title, date, study area, the map image (:func:`maps.export_static.render_png`),
the KPI table per category, the largest gaps and proposed sites, and the parameters and data
sources stamped on them. When the data is the synthetic demo, every page says so
("合成示范数据 / synthetic demo data") so a demo figure is never mistaken for a real district.

Chinese text in the PDF is set in an installed TrueType CJK font, embedded (subset) in the file so
that it prints the same on every machine (:func:`pdf_font`: ``settings.pdf_font_file`` first,
then SimHei/YaHei/SimSun on Windows, WenQuanYi/AR PL on Linux, Heiti/Arial Unicode on macOS).
OpenType CJK fonts with PostScript outlines (Noto/Source Han .otf/.ttc) cannot be embedded by
reportlab; with no usable font the PDF falls back to reportlab's built-in CID font
``STSong-Light``, which is not embedded (the PDF reader supplies the glyphs).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Required, TypedDict, Unpack

import pandas as pd
from PIL import Image as PILImage
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import PP_ALIGN
from pptx.util import Inches, Pt
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    Image,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from geo import settings
from geo.taxonomy import categories as taxonomy
from maps.export_edits import edits_report_table, edits_title
from maps.export_format import fmt_coord, fmt_count, fmt_decimal, fmt_value
from maps.export_tables import (
    compliance_ranked,
    display_width,
    gap_label,
    localise_cells,
    parameters_table,
    subgroup_rates,
    supply_judged,
    tier_matrix,
)
from maps.i18n import criterion_column, heading, t

__all__ = [
    "KPI_COLUMNS",
    "PDF_CJK_FONT",
    "PDF_EMBEDDED_FONT",
    "PDF_FONT_FILES",
    "PPTX_FOOTER_TOP",
    "ReportInputs",
    "evaluation_chapter",
    "kpi_table",
    "pdf_font",
    "report_pdf",
    "report_pptx",
    "used_criteria",
]

logger = logging.getLogger(__name__)

#: reportlab's built-in Chinese CID font (Adobe-GB1; no font file needed, not embedded).
PDF_CJK_FONT = "STSong-Light"

#: TrueType CJK font files tried in order for embedding (Windows, Linux, macOS).
PDF_FONT_FILES: tuple[str, ...] = (
    "C:/Windows/Fonts/simhei.ttf",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/msyh.ttf",
    "C:/Windows/Fonts/simsun.ttc",
    "C:/Windows/Fonts/Deng.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "/System/Library/Fonts/STHeiti Light.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "/System/Library/Fonts/Supplemental/Arial Unicode.ttf",
)

#: Characters an embedded font must have: the report mixes Chinese, digits and Latin text.
PDF_FONT_PROBE = "中文覆盖率（）：、0123456789.%ABCXYZabcxyz"

#: Name under which the embedded CJK font is registered with reportlab.
PDF_EMBEDDED_FONT = "LCC-CJK"

#: KPI columns shown from ``CoverageResult.summary`` (when present), in order.
KPI_COLUMNS: tuple[str, ...] = (
    "criterion",
    "n_facilities",
    "population",
    "covered_population",
    "coverage_rate",
    "coverage_rate_reachable",
    "off_network_share",
    "elderly_coverage_rate",
    "median_minutes",
    "p85_minutes",
    "buffer_coverage_rate",
)

#: Gaps and sites listed in a report (the largest first).
REPORT_TOP_N = 10

#: Room (mm) a section heading needs below it to start there: the heading, the table's header
#: row and about three rows; with less the section starts on the next page.
REPORT_KEEP_HEIGHT_MM = 40.0


def _fmt(col: str, value: Any) -> str:
    # One rule for every export (maps.export_format), so the slides read like the workbook.
    return fmt_value(col, value)


def kpi_table(summary: pd.DataFrame, *, lang: str = "zh") -> pd.DataFrame:
    """The KPI table as display strings: category name plus :data:`KPI_COLUMNS` present."""
    tax = taxonomy()
    name_col = "name_zh" if lang == "zh" else "name_en"
    names = [
        row.get(name_col)
        or (tax[row["category"]].name(lang) if row.get("category") in tax else row.get("category"))
        for _, row in summary.iterrows()
    ]
    if "status" in summary.columns:
        # An invalid category's rate is a statement about the input: say so next to its name.
        names = [
            t("maps.report.invalid_mark", lang, name=n) if str(st) != "ok" else n
            for n, st in zip(names, summary["status"], strict=True)
        ]
    out = pd.DataFrame({t("maps.category", lang): names})
    for col in KPI_COLUMNS:
        if col in summary.columns:
            src = criterion_column(summary, lang) if col == "criterion" else col
            out[heading(col, lang)] = [_fmt(col, v) for v in summary[src]]
    return out


def used_criteria(summary: pd.DataFrame, cats: Sequence[str], lang: str) -> list[str]:
    """The criterion each category was analysed with, and the standard's default when it differs.

    The legend cites the standards; a planner who changed a threshold must not see the default
    printed next to numbers computed with another one.
    """
    tax = taxonomy()
    col = criterion_column(summary, lang)
    used = dict(zip(summary["category"].astype(str), summary.get(col, pd.Series()), strict=False))
    out = []
    for c in cats:
        default = tax[c].criterion.label(lang)
        text = str(used.get(c) or default)
        if text != default:
            text = t("maps.report.default_criterion", lang, used=text, default=default)
        out.append(text)
    return out


def _community_table(communities: pd.DataFrame | None, lang: str) -> pd.DataFrame | None:
    if communities is None or len(communities) == 0:
        return None
    tax = taxonomy()
    c = pd.DataFrame(communities).head(REPORT_TOP_N)
    wanted = ["community", "population", "score", "complete_share"]
    wanted += [col for col in c.columns if col.endswith("_coverage_rate")]
    out = pd.DataFrame(index=c.index)
    # Every category (the table is sized to its content); category columns hold coverage rates.
    for col in [w for w in wanted if w in c.columns]:
        key = col.removesuffix("_coverage_rate")
        if col.endswith("_coverage_rate") and key in tax:
            name = tax[key].short_zh if lang == "zh" else tax[key].name_en
            label = t("maps.report.category_rate", lang, category=name)
        else:
            label = heading(col, lang)
        out[label] = [_fmt(col, v) for v in c[col]]
    return out.reset_index(drop=True)


def _gap_table(gaps: pd.DataFrame | None, lang: str) -> pd.DataFrame | None:
    if gaps is None or len(gaps) == 0:
        return None
    tax = taxonomy()
    g = pd.DataFrame(gaps).sort_values("uncovered_population", ascending=False).head(REPORT_TOP_N)
    # The gap's own id (category-rank), as in the workbook and on the map, not a new number.
    ids = (
        pd.Series([gap_label(v, lang) for v in g["gap_id"]])
        if "gap_id" in g.columns
        else pd.Series(range(1, len(g) + 1))
    )
    out = pd.DataFrame(
        {
            t("maps.gap_id", lang): ids.to_numpy(),
            t("maps.category", lang): [
                tax[k].name(lang) if k in tax else k for k in g["category"].astype(str)
            ],
            t("maps.uncovered_population", lang): [fmt_count(v) for v in g["uncovered_population"]],
        }
    )
    if "nearest_facility_m" in g.columns:
        out[t("maps.nearest_facility_m", lang)] = [fmt_count(v) for v in g["nearest_facility_m"]]
    if "communities" in g.columns:
        out[t("maps.communities", lang)] = [
            "、".join(map(str, v)) if isinstance(v, list | tuple) else str(v)
            for v in g["communities"]
        ]
    return out


def _site_table(sites: pd.DataFrame | None, lang: str) -> pd.DataFrame | None:
    if sites is None or len(sites) == 0:
        return None
    s = pd.DataFrame(sites).head(REPORT_TOP_N)
    tax = taxonomy()
    out = pd.DataFrame(
        {
            t("maps.rank", lang): s["rank"] if "rank" in s.columns else range(1, len(s) + 1),
            t("maps.name", lang): s["name"].astype(str) if "name" in s.columns else "",
            t("maps.added_population", lang): [fmt_count(v) for v in s["added_population"]],
        }
    )
    if "category" in s.columns:
        out.insert(
            1,
            t("maps.category", lang),
            [tax[k].name(lang) if k in tax else k for k in s["category"].astype(str)],
        )
    if {"lon", "lat"} <= set(s.columns):
        out[t("maps.lon", lang)] = [fmt_coord(v) for v in s["lon"]]
        out[t("maps.lat", lang)] = [fmt_coord(v) for v in s["lat"]]
    return out


def _eval_cell(col: str, value: Any) -> str:
    if col.endswith("per_1000"):
        return fmt_value(col, value) if pd.isna(value) else fmt_decimal(value, 1)
    if col.endswith("_score"):
        return fmt_value(col, value) if pd.isna(value) else fmt_decimal(value, 2)
    return _fmt(col, value)


def _display(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    out = pd.DataFrame(
        {heading(c, lang): [_eval_cell(c, v) for v in frame[c]] for c in frame.columns}
    )
    return out.reset_index(drop=True)


def evaluation_chapter(
    evaluation: Mapping[str, pd.DataFrame] | None, *, lang: str
) -> list[tuple[str, pd.DataFrame]]:
    """The report's evaluation chapter: (title, table of display strings) in reading order.

    The tier matrix (rate · threshold and the standard's label per cell), the subgroup rates,
    the compliance of the :data:`REPORT_TOP_N` least-served communities with what each lacks,
    and the district's supply per 1,000 residents against the targets with their sources.
    Empty when ``evaluation`` (``RunResult.evaluation``) is missing.
    """
    if not evaluation or evaluation.get("tiers") is None or len(evaluation["tiers"]) == 0:
        return []
    out: list[tuple[str, pd.DataFrame]] = []
    _rates, cells = tier_matrix(evaluation["tiers"], lang=lang)
    out.append((t("maps.eval_tier_matrix", lang), cells.reset_index()))
    out.append(
        (
            t("maps.eval_subgroups", lang),
            _display(subgroup_rates(evaluation["tiers"], lang=lang), lang),
        )
    )
    ranked = compliance_ranked(
        evaluation.get("least_served"),  # type: ignore[arg-type]
        evaluation.get("compliance"),
        lang=lang,
    )
    if len(ranked):
        keep = ["rank", "community", "population", "compliant", "basic_score", "lacks"]
        ranked = ranked[[c for c in keep if c in ranked.columns]].head(REPORT_TOP_N)
        out.append((t("maps.eval_compliance", lang), _display(ranked, lang)))
    supply = supply_judged(evaluation.get("supply"), lang=lang, district_only=True)  # type: ignore[arg-type]
    if len(supply):
        keep = ["category", "per_1000", "reachable_per_1000", "target_per_1000", "meets_target",
                "standard_source"]  # fmt: skip
        out.append((t("maps.eval_supply", lang), _display(supply[keep], lang)))
    return out


class ReportInputs(TypedDict, total=False):
    """What a report shows: the keyword arguments of :func:`report_pdf` and :func:`report_pptx`.

    Attributes
    ----------
    png
        The map image (e.g. :func:`maps.export_static.render_png`), legend included. Required.
    summary
        ``CoverageResult.summary``. Required.
    communities
        Per-community completeness (PDF only; the largest :data:`REPORT_TOP_N` are listed).
    gaps, sites
        Gaps and proposed sites (the largest :data:`REPORT_TOP_N` are listed).
    parameters, sources
        Run parameters and data sources, stamped on the last page.
    title, area
        Report title (default "十五分钟生活圈设施覆盖评估报告") and study-area name.
    synthetic
        The data is the synthetic demo: every page is stamped "合成示范数据 / synthetic demo data".
    lang
        ``"zh"`` (default) or ``"en"``.
    date
        Report date; today by default.
    evaluation
        ``RunResult.evaluation``: adds the living-circle evaluation chapter
        (:func:`evaluation_chapter`).
    network_edits
        Report of the network what-ifs: listed with kind, name and length
        (:mod:`maps.export_edits`).
    """

    png: Required[bytes]
    summary: Required[pd.DataFrame]
    communities: pd.DataFrame | None
    gaps: pd.DataFrame | None
    sites: pd.DataFrame | None
    parameters: Mapping[str, Any] | pd.DataFrame | None
    sources: Sequence[str]
    title: str | None
    area: str
    synthetic: bool
    lang: str
    date: dt.date | None
    evaluation: Mapping[str, pd.DataFrame] | None
    network_edits: pd.DataFrame | None


@dataclass(frozen=True)
class _Prepared:
    """A report's content prepared once, for either format (tables as display strings)."""

    lang: str
    txt: dict[str, str]
    png: bytes
    png_size: tuple[int, int]
    summary: pd.DataFrame
    kpis: pd.DataFrame
    communities: pd.DataFrame | None
    gaps: pd.DataFrame | None
    sites: pd.DataFrame | None
    parameters: pd.DataFrame
    evaluation: list[tuple[str, pd.DataFrame]]
    network_edits: pd.DataFrame | None = None


def _prepare(inputs: ReportInputs) -> _Prepared:
    lang = inputs.get("lang", "zh")
    day = (inputs.get("date") or dt.date.today()).isoformat()
    area = inputs.get("area", "")
    txt = {
        "title": inputs.get("title") or t("maps.report_title", lang),
        "date": t("maps.report_date", lang, date=day),
        "area": t("maps.report_area", lang, area=area) if area else "",
        "stamp": t("maps.synthetic_stamp", lang) if inputs.get("synthetic", False) else "",
        "method": t("maps.report_method", lang),
    }
    png = inputs["png"]
    with PILImage.open(io.BytesIO(png)) as im:
        size = im.size
    params = parameters_table(
        inputs.get("parameters"), sources=inputs.get("sources", ()), lang=lang
    )
    params.columns = [t("maps.parameter", lang), t("maps.value", lang)]
    # Message cells (statuses, reasons) in the report's language before any formatting.
    summary = localise_cells(inputs["summary"], lang)
    params = localise_cells(params, lang)
    frames = {k: inputs.get(k) for k in ("communities", "gaps", "sites")}
    local = {k: None if f is None else localise_cells(f, lang) for k, f in frames.items()}
    evaluation = inputs.get("evaluation")
    if evaluation:
        evaluation = {
            k: localise_cells(v, lang) if isinstance(v, pd.DataFrame) else v
            for k, v in evaluation.items()
        }
    return _Prepared(
        lang=lang,
        txt=txt,
        png=png,
        png_size=size,
        summary=summary,
        kpis=kpi_table(summary, lang=lang),
        communities=_community_table(local["communities"], lang),
        gaps=_gap_table(local["gaps"], lang),
        sites=_site_table(local["sites"], lang),
        parameters=params,
        evaluation=evaluation_chapter(evaluation, lang=lang),
        network_edits=edits_report_table(inputs.get("network_edits"), lang=lang),
    )


def _words(text: Any) -> list[str]:
    """Runs that must not break across lines: Latin words and numbers.

    Chinese may break between any two characters.
    """
    return [w for w in re.split(r"[\s\u2e80-\u9fff\uff00-\uffef]+", str(text)) if w]


def _written(data: bytes, path: str | Path | None) -> bytes:
    if path is not None:
        Path(path).write_bytes(data)
    return data


# --- PDF -----------------------------------------------------------------------------------------


def _font_candidates() -> list[Path]:
    """Font files to try for the PDF, the configured one first."""
    files = [settings.pdf_font_file] if settings.pdf_font_file else []
    return [Path(f) for f in (*files, *PDF_FONT_FILES)]


@cache
def pdf_font() -> tuple[str, Path | None]:
    """The font the PDF report sets Chinese in, and the file embedded (``None``: not embedded).

    The first of ``settings.pdf_font_file`` and :data:`PDF_FONT_FILES` that exists, is TrueType
    (reportlab cannot embed PostScript-outline OpenType) and has Chinese glyphs is registered and
    embedded as a subset; otherwise the built-in ``STSong-Light`` CID font is used. A font must
    have the Latin letters and digits too (:data:`PDF_FONT_PROBE`): reportlab does not fall back
    per character.
    """
    for path in _font_candidates():
        if not path.is_file():
            continue
        try:
            font = TTFont(PDF_EMBEDDED_FONT, str(path), subfontIndex=0)
        except (TTFError, OSError, ValueError) as exc:
            logger.info("PDF font %s cannot be embedded (%s); trying the next one", path, exc)
            continue
        if any(ord(ch) not in font.face.charToGlyph for ch in PDF_FONT_PROBE):
            # e.g. Droid Sans Fallback: Chinese only, digits would print as blanks.
            logger.info("PDF font %s lacks Chinese or Latin glyphs; trying the next one", path)
            continue
        pdfmetrics.registerFont(font)
        logger.info("PDF reports embed the Chinese font %s", path)
        return PDF_EMBEDDED_FONT, path
    if settings.pdf_font_file:
        logger.warning(
            "settings.pdf_font_file %s is not an embeddable TrueType font with Chinese glyphs",
            settings.pdf_font_file,
        )
    if PDF_CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_CJK_FONT))
    logger.info("no embeddable Chinese TrueType font found; the PDF uses %s", PDF_CJK_FONT)
    return PDF_CJK_FONT, None


def report_pdf(path: str | Path | None = None, **inputs: Unpack[ReportInputs]) -> bytes:
    """Build the PDF report (A4 landscape): map page, KPI page(s), parameters page.

    Parameters
    ----------
    path
        Where to write; ``None`` only returns the bytes.
    **inputs
        What the report shows (:class:`ReportInputs`): ``png`` and ``summary`` are required;
        ``communities``, ``gaps``, ``sites``, ``parameters``, ``sources``, ``title``, ``area``,
        ``synthetic``, ``lang`` and ``date`` are optional.

    Returns
    -------
    bytes
        The PDF file.
    """
    rep = _prepare(inputs)
    txt = rep.txt
    kit = _PdfKit.make()
    story = _pdf_front(rep, kit) + _pdf_back(rep, kit)
    footer = "  ·  ".join(x for x in (txt["title"], txt["date"], txt["stamp"]) if x)

    def on_page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(kit.font, 7)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(15 * mm, 8 * mm, footer)
        canvas.drawRightString(kit.page_w - 15 * mm, 8 * mm, str(doc.page))
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=landscape(A4), leftMargin=15 * mm, rightMargin=15 * mm,
        topMargin=12 * mm, bottomMargin=14 * mm, title=txt["title"], author="",
        subject=txt["stamp"] or txt["method"],
    )  # fmt: skip
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return _written(buf.getvalue(), path)


@dataclass(frozen=True)
class _PdfKit:
    """The PDF's font, paragraph styles and frame size, and its table and section builders."""

    font: str
    body: ParagraphStyle
    cell: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle
    stamp: ParagraphStyle
    page_w: float
    page_h: float
    frame_w: float

    @classmethod
    def make(cls) -> _PdfKit:
        """Styles in the report font (a CJK one when installed), A4 landscape with 15 mm sides."""
        font, _ = pdf_font()
        base = getSampleStyleSheet()
        body = ParagraphStyle("lcc_body", parent=base["BodyText"], fontName=font, fontSize=9,
                              leading=13)  # fmt: skip
        page_w, page_h = landscape(A4)
        return cls(
            font=font,
            body=body,
            cell=ParagraphStyle("lcc_cell", parent=body, fontSize=8, leading=10),
            h1=ParagraphStyle("lcc_h1", parent=base["Title"], fontName=font, fontSize=18,
                              leading=24),
            h2=ParagraphStyle("lcc_h2", parent=base["Heading2"], fontName=font, fontSize=12,
                              leading=16),
            stamp=ParagraphStyle("lcc_stamp", parent=body, textColor=colors.HexColor("#c0392b"),
                                 fontSize=11, alignment=TA_CENTER),
            page_w=page_w,
            page_h=page_h,
            frame_w=page_w - 30 * mm,
        )  # fmt: skip

    @staticmethod
    def esc(text: Any) -> str:
        """``text`` safe for a Paragraph, which reads a little XML markup."""
        return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def _text_w(self, text: str, size: float) -> float:
        return float(pdfmetrics.stringWidth(text, self.font, size))

    def _widths(self, df: pd.DataFrame) -> tuple[list[float], ParagraphStyle]:
        """Column widths and cell style for ``df`` to fit the frame without breaking words."""
        pad = 12.0  # reportlab's cell padding (6 pt each side)
        frame_w = self.frame_w
        # Every column at least as wide as its longest word (headers never break inside a
        # word: "Facilit ies"), the rest shared by content so numbers stay on one line.
        for size in (8.0, 7.0, 6.0):
            cells = [[str(c), *map(str, df[c].head(200))] for c in df.columns]
            mins = [
                pad + max([self._text_w(w, size) for v in col for w in _words(v)] + [4 * size])
                for col in cells
            ]
            if sum(mins) <= frame_w:
                break
        style = ParagraphStyle(f"lcc_cell_{size:g}", parent=self.cell, fontSize=size,
                               leading=size * 1.25)  # fmt: skip
        needs = [
            max([display_width(str(col[0])) / 2, 4]
                + [display_width(v) for v in col[1:]])
            for col in cells
        ]  # fmt: skip
        free = max(frame_w - sum(mins), 0.0)
        widths = [m + free * n / sum(needs) for m, n in zip(mins, needs, strict=True)]
        if sum(widths) > frame_w:
            widths = [w * frame_w / sum(widths) for w in widths]
        return widths, style

    def table(self, df: pd.DataFrame, widths: Sequence[float] | None = None) -> Table:
        """``df`` as a table with a repeated, shaded header row."""
        style = self.cell
        if widths is None and len(df.columns):
            widths, style = self._widths(df)
        esc = self.esc
        data = [[Paragraph(esc(c), style) for c in df.columns]]
        data += [[Paragraph(esc(v), style) for v in row] for row in df.itertuples(index=False)]
        tbl = Table(data, colWidths=widths, repeatRows=1)
        tbl.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        return tbl

    def section(self, title: str, tbl: Table) -> list[Flowable]:
        """A heading and its table, kept together at a page foot."""
        # A heading never stands alone at a page foot: it starts a new page unless the heading,
        # the table's header and a few rows fit below it (the table then splits, header repeated).
        return [CondPageBreak(REPORT_KEEP_HEIGHT_MM * mm), Paragraph(self.esc(title), self.h2), tbl]


def _pdf_front(rep: _Prepared, kit: _PdfKit) -> list[Flowable]:
    """Title, stamp, date and area, method, the map, the KPIs and the standards legend."""
    lang, txt, esc = rep.lang, rep.txt, kit.esc
    story: list[Flowable] = [Paragraph(esc(txt["title"]), kit.h1)]
    if txt["stamp"]:
        story.append(Paragraph(esc(txt["stamp"]), kit.stamp))
    meta = "　".join(esc(x) for x in (txt["date"], txt["area"]) if x)
    story += [Paragraph(meta, kit.body), Paragraph(esc(txt["method"]), kit.body)]
    story.append(Spacer(1, 4 * mm))
    iw, ih = rep.png_size
    img_h = min(kit.page_h - 75 * mm, kit.frame_w * ih / iw)
    story += [
        Paragraph(esc(t("maps.report_map", lang)), kit.h2),
        Image(io.BytesIO(rep.png), width=img_h * iw / ih, height=img_h),
        PageBreak(),
        *kit.section(t("maps.report_kpis", lang), kit.table(rep.kpis)),
    ]
    tax = taxonomy()
    cats = [c for c in rep.summary.get("category", pd.Series(dtype=str)).astype(str) if c in tax]
    if cats:
        story.append(Spacer(1, 3 * mm))
        legend = pd.DataFrame(
            {
                t("maps.category", lang): [tax[c].name(lang) for c in cats],
                t("maps.threshold", lang): used_criteria(rep.summary, cats, lang),
                t("maps.source", lang): [tax[c].standard for c in cats],
            }
        )
        legend_tbl = kit.table(legend)
        legend_tbl.setStyle(
            TableStyle(
                [("LINEBEFORE", (0, i + 1), (0, i + 1), 6, colors.HexColor(tax[c].color))
                 for i, c in enumerate(cats)]
            )
        )  # fmt: skip
        story += kit.section(t("maps.report_legend", lang), legend_tbl)
    return story


def _pdf_back(rep: _Prepared, kit: _PdfKit) -> list[Flowable]:
    """Communities, gaps, sites, the evaluation chapter and the parameters."""
    lang = rep.lang
    story: list[Flowable] = []
    extra = {
        "maps.report_communities": rep.communities,
        "maps.report_gaps": rep.gaps,
        "maps.report_sites": rep.sites,
    }
    for key, frame in extra.items():
        if frame is not None:
            story += [Spacer(1, 3 * mm), *kit.section(t(key, lang), kit.table(frame))]
    if rep.network_edits is not None:
        edits = kit.table(rep.network_edits)
        story += [Spacer(1, 3 * mm), *kit.section(edits_title(lang), edits)]
    if rep.evaluation:
        # The chapter starts a page only when its heading and first table would not fit.
        story += [Spacer(1, 6 * mm), CondPageBreak(2 * REPORT_KEEP_HEIGHT_MM * mm)]
        story += [Paragraph(kit.esc(t("maps.eval_chapter", lang)), kit.h1)]
        story.append(Paragraph(kit.esc(t("maps.eval_labels_note", lang)), kit.body))
        for title, frame in rep.evaluation:
            story += [Spacer(1, 3 * mm), *kit.section(title, kit.table(frame))]
    widths = [70 * mm, kit.frame_w - 70 * mm]
    story += [
        Spacer(1, 3 * mm),
        *kit.section(t("maps.report_parameters", lang), kit.table(rep.parameters, widths=widths)),
    ]
    return story


# --- PPTX ----------------------------------------------------------------------------------------

#: Slide layout (EMU): side margin, top of tables (under the heading), top of the footer band
#: (the synthetic-data stamp) on a 13.333 × 7.5 in slide; tables end above the footer.
PPTX_MARGIN = Inches(0.4)
PPTX_TABLE_TOP = Inches(1.0)
PPTX_FOOTER_TOP = Inches(7.5) - Inches(0.55)

#: Table text size (pt).
PPTX_TABLE_PT = 12

#: Cell margins python-pptx leaves by default (left+right, top+bottom), in EMU.
_CELL_PAD_W = Inches(0.2)
_CELL_PAD_H = Inches(0.1)


def _text_width_emu(text: str, size_pt: float) -> int:
    # CJK characters are one em wide; Latin letters and digits up to 0.62 em in the fonts
    # LibreOffice and PowerPoint substitute (measured on LibreOffice renders of the demo deck).
    wide = sum(1 for ch in text if ord(ch) > 0x2E80)
    return int((wide + 0.62 * (len(text) - wide)) * Pt(size_pt))


def _pptx_column_widths(df: pd.DataFrame, total: int, size_pt: float) -> list[int]:
    """Column widths that fit the longest word of each column and share the rest by content."""
    cols = [[str(c), *map(str, df[c].head(200))] for c in df.columns]
    mins = [
        _CELL_PAD_W
        + max([_text_width_emu(w, size_pt) for v in col for w in _words(v)] + [0])
        + int(2 * Pt(size_pt))
        for col in cols
    ]
    # Headers may wrap onto two lines; values should not wrap.
    needs = [max([display_width(col[0]) / 2, *(display_width(v) for v in col[1:])]) + 4
             for col in cols]  # fmt: skip
    free = max(total - sum(mins), 0)
    widths = [m + free * n // sum(needs) for m, n in zip(mins, needs, strict=True)]
    scale = min(1.0, total / max(sum(widths), 1))
    return [int(w * scale) for w in widths]


def _pptx_row_height(cells: Sequence[str], widths: Sequence[int], size_pt: float) -> int:
    """Height a row needs when each cell's text wraps in its column."""
    lines = 1
    for text, w in zip(cells, widths, strict=True):
        room = max(int((w - _CELL_PAD_W) * 0.9), 1)
        n = 0
        for para in str(text).split("\n"):
            n += max(1, -(-_text_width_emu(para, size_pt) // room))
        lines = max(lines, n)
    # 1.4: CJK fallback fonts have a taller line than the nominal 1.2 (LibreOffice renders).
    return int(lines * Pt(size_pt) * 1.4 + _CELL_PAD_H)


def report_pptx(path: str | Path | None = None, **inputs: Unpack[ReportInputs]) -> bytes:
    """Build a 16:9 deck: title, map, KPI table, gaps (if any), sites (if any), parameters.

    ``communities`` is accepted for symmetry with :func:`report_pdf` and not shown (a slide
    cannot hold a district's communities legibly; the XLSX has them).

    Parameters
    ----------
    path
        Where to write; ``None`` only returns the bytes.
    **inputs
        As in :func:`report_pdf` (:class:`ReportInputs`). When ``synthetic`` is set, every
        slide carries the "合成示范数据 / synthetic demo data" stamp.

    Returns
    -------
    bytes
        The PPTX file.
    """
    rep = _prepare(inputs)
    lang = rep.lang
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    _pptx_title_slide(prs, rep.txt)
    _pptx_map_slide(prs, rep)
    # 3. KPIs, 4. gaps, 5. sites, 6. parameters and sources
    tables = [(t("maps.report_kpis", lang), rep.kpis)]
    if rep.gaps is not None:
        tables.append((t("maps.report_gaps", lang), rep.gaps))
    if rep.sites is not None:
        tables.append((t("maps.report_sites", lang), rep.sites))
    if rep.network_edits is not None:
        tables.append((edits_title(lang), rep.network_edits))
    tables += [(f"{t('maps.eval_chapter', lang)} · {title}", f) for title, f in rep.evaluation]
    tables.append((t("maps.report_parameters", lang), rep.parameters))
    for name, frame in tables:
        _pptx_table_slides(prs, name, frame, lang=lang, stamp=rep.txt["stamp"])
    buf = io.BytesIO()
    prs.save(buf)
    return _written(buf.getvalue(), path)


def _pptx_stamp(slide: Any, stamp: str) -> None:
    """The synthetic-data stamp in the footer band (nothing when ``stamp`` is empty)."""
    if not stamp:
        return
    box = slide.shapes.add_textbox(PPTX_MARGIN, PPTX_FOOTER_TOP, Inches(8), Inches(0.4))
    run = box.text_frame.paragraphs[0].add_run()
    run.text = stamp
    run.font.size = Pt(12)
    run.font.bold = True
    run.font.color.rgb = RGBColor(0xC0, 0x39, 0x2B)


def _pptx_heading(slide: Any, text: str, slide_w: int) -> None:
    box = slide.shapes.add_textbox(Inches(0.4), Inches(0.2), slide_w - Inches(0.8), Inches(0.7))
    run = box.text_frame.paragraphs[0].add_run()
    run.text = text
    run.font.size = Pt(26)
    run.font.bold = True


def _pptx_title_slide(prs: Any, txt: Mapping[str, str]) -> None:
    """Title, area, date and method in own text boxes across the 16:9 slide.

    The default template's title layout is laid out for 4:3 and would sit off-centre.
    """
    sw = prs.slide_width
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    box = slide.shapes.add_textbox(Inches(0.8), Inches(2.2), sw - Inches(1.6), Inches(1.4))
    frame = box.text_frame
    frame.word_wrap = True
    run = frame.paragraphs[0].add_run()
    run.text = txt["title"]
    run.font.size = Pt(36)
    run.font.bold = True
    frame.paragraphs[0].alignment = PP_ALIGN.CENTER
    box = slide.shapes.add_textbox(Inches(0.8), Inches(3.8), sw - Inches(1.6), Inches(2.0))
    frame = box.text_frame
    frame.word_wrap = True
    for k, line in enumerate(x for x in (txt["area"], txt["date"], txt["method"]) if x):
        para = frame.paragraphs[0] if k == 0 else frame.add_paragraph()
        para.alignment = PP_ALIGN.CENTER
        run = para.add_run()
        run.text = line
        run.font.size = Pt(18)
    _pptx_stamp(slide, txt["stamp"])


def _pptx_map_slide(prs: Any, rep: _Prepared) -> None:
    """The map PNG (it carries its legend, scale bar and north arrow), as large as fits."""
    sw, sh = prs.slide_width, prs.slide_height
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    _pptx_heading(slide, t("maps.report_map", rep.lang), sw)
    iw, ih = rep.png_size
    max_w, max_h = sw - Inches(0.8), sh - Inches(1.6)
    scale = min(max_w / iw, max_h / ih)
    w, h = int(iw * scale), int(ih * scale)
    slide.shapes.add_picture(io.BytesIO(rep.png), int((sw - w) / 2), Inches(0.95), w, h)
    _pptx_stamp(slide, rep.txt["stamp"])


def _pptx_pages(heights: Sequence[int]) -> list[list[int]]:
    """Row indices (after the header) per slide, each slide's rows fitting under the header."""
    room = PPTX_FOOTER_TOP - PPTX_TABLE_TOP
    pages: list[list[int]] = [[]]
    used = heights[0]
    for i, h in enumerate(heights[1:]):
        if pages[-1] and used + h > room:
            pages.append([])
            used = heights[0]
        pages[-1].append(i)
        used += h
    return pages


def _pptx_table_slides(prs: Any, name: str, df: pd.DataFrame, *, lang: str, stamp: str) -> None:
    """``df`` on as many slides as it needs, the header repeated on each.

    Rows are sized for their wrapped text (PowerPoint and LibreOffice grow a row to fit its
    text, whatever height the file says), and a table taller than the room between the heading
    and the footer continues on the next slide under a repeated header.
    """
    size = PPTX_TABLE_PT
    width = prs.slide_width - 2 * PPTX_MARGIN
    widths = _pptx_column_widths(df, int(width), size)
    header = [str(c) for c in df.columns]
    rows = [[str(v) for v in r] for r in df.itertuples(index=False)]
    heights = [_pptx_row_height(r, widths, size) for r in [header, *rows]]
    for k, page in enumerate(_pptx_pages(heights)):
        slide = prs.slides.add_slide(prs.slide_layouts[6])
        title = name if k == 0 else t("maps.report_continued", lang, title=name)
        _pptx_heading(slide, title, prs.slide_width)
        height = heights[0] + sum(heights[i + 1] for i in page)
        shape = slide.shapes.add_table(len(page) + 1, len(header), PPTX_MARGIN,
                                       PPTX_TABLE_TOP, int(width), height)  # fmt: skip
        tbl = shape.table
        for j, w in enumerate(widths):
            tbl.columns[j].width = w
        tbl.rows[0].height = heights[0]
        for i, row in enumerate(page, start=1):
            tbl.rows[i].height = heights[row + 1]
        for j, col in enumerate(header):
            tbl.cell(0, j).text = col
        for i, row in enumerate(page, start=1):
            for j, v in enumerate(rows[row]):
                tbl.cell(i, j).text = v
        for i in range(len(page) + 1):
            for j in range(len(header)):
                frame = tbl.cell(i, j).text_frame
                frame.word_wrap = True
                for p in frame.paragraphs:
                    for r in p.runs:
                        r.font.size = Pt(size)
        _pptx_stamp(slide, stamp)
