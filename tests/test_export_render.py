"""Meeting exports as a reader gets them: written by ``cli.py run --report``, equal to the app's,
rendered (LibreOffice, poppler) and checked for what a meeting would notice.

Rendered pages and slides are kept under ``test-artifacts/`` (gitignored; CI keeps them).
"""

from __future__ import annotations

import io
import itertools
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import openpyxl
import pptx
import pypdf
import pytest
from PIL import Image
from pptx.util import Emu

import cli
from maps import export_report
from maps.export_format import fmt_coord, fmt_rate, fmt_value, in_language
from maps.export_static import footer_lines, gap_classes
from maps.i18n import heading, t

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
UNDER_CI = os.environ.get("CI", "").lower() == "true"

#: English or internal values that must not reach a Chinese export (word-bounded).
LEAKS = re.compile(
    r"\b(none|None|nan|NaN|inf|generated|what-if|row|demo:\w+|gen-\d+)\b"
    r"|\b[a-z]+(?:_[a-z]+)*-\d{3}\b"  # gap ids as keys: parking-001, elderly_canteen-002
)

#: The synthetic-data stamp is bilingual on purpose (a demo figure is never taken for real).
STAMP = t("maps.synthetic_stamp", "zh")


def tool(name: str) -> str:
    """Path of a system tool the render checks need; CI must have it (scripts/setup_env.sh)."""
    path = shutil.which(name)
    if path is None:
        if UNDER_CI:
            pytest.fail(f"{name} is missing under CI; scripts/setup_env.sh --dev installs it")
        pytest.skip(f"{name} not installed (apt-get install poppler-utils libreoffice-impress)")
    return path


def run_cli(out: Path, *args: str) -> dict[str, Path]:
    assert cli.main(["-q", "run", "--demo", "--out", str(out), *args]) == 0
    return {p.suffix.lstrip("."): p for p in out.glob("coverage_*")}


@pytest.fixture(scope="module")
def zh_files(tmp_path_factory) -> dict[str, Path]:
    """Every report format of the demo (with its siting run), in Chinese."""
    return run_cli(tmp_path_factory.mktemp("zh"), "--report", "all")


@pytest.fixture(scope="module")
def en_files(tmp_path_factory) -> dict[str, Path]:
    """The English workbook and reports of the demo without siting (as the app without a run)."""
    return run_cli(
        tmp_path_factory.mktemp("en"), "--no-siting", "--report", "xlsx,pdf,pptx", "--lang", "en"
    )


# --- §2: the CLI writes the app's files ----------------------------------------------------------


def test_report_all_writes_every_file_readable(zh_files):
    assert set(zh_files) == {"html", "png", "xlsx", "pdf", "pptx"}
    assert all(p.stat().st_size > 1000 for p in zh_files.values())
    assert zh_files["html"].read_bytes().lstrip().startswith(b"<!DOCTYPE html>")
    with Image.open(zh_files["png"]) as im:
        assert im.size == (1500, 1200)
    assert len(pypdf.PdfReader(zh_files["pdf"]).pages) >= 3
    assert len(pptx.Presentation(str(zh_files["pptx"])).slides) >= 6
    wb = openpyxl.load_workbook(zh_files["xlsx"])
    assert wb.sheetnames == [
        "汇总",
        "社区",
        "缺口",
        "建议选址",
        "分级覆盖",
        "达标",
        "千人指标",
        "参数",
    ]
    assert wb["建议选址"].max_row == 4  # the demo's three proposed sites


def test_report_rejects_an_unknown_format_before_running(tmp_path, capsys):
    code = cli.main(["run", "--demo", "--out", str(tmp_path), "--report", "html,docx"])
    assert code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "docx" in err and "html, png, xlsx" in err
    assert not list(tmp_path.iterdir())  # nothing ran


def sheets(data: bytes) -> dict[str, list[tuple]]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb}


def test_cli_xlsx_equals_the_apps_table_by_table(en_files):
    from maps.export_bundle import build_xlsx
    from ui import exports, state

    ds = state.demo_dataset("synthetic")
    choice = state.CriteriaChoice(categories=state.present_categories(ds))
    bundle = exports.Bundle(ds, choice, "elderly_canteen", "title", "en", None)
    app = sheets(build_xlsx(bundle.inputs))
    ours = sheets(en_files["xlsx"].read_bytes())
    assert list(app) == list(ours) == ["Summary", "Communities", "Gaps", "Proposed sites",
                                       "Tiers", "Compliance", "Supply per 1000",
                                       "Parameters"]  # fmt: skip
    for name in app:
        assert len(app[name]) == len(ours[name]), name
        # The same computation on the same data: equal to the last digit, not approximately.
        assert app[name] == ours[name], name


# --- §3: fit for a meeting -----------------------------------------------------------------------


def test_xlsx_coordinates_show_six_decimals(zh_files):
    wb = openpyxl.load_workbook(zh_files["xlsx"])
    for sheet in ("缺口", "建议选址"):
        ws = wb[sheet]
        header = [c.value for c in ws[1]]
        for name in ("经度", "纬度"):
            cell = ws.cell(2, header.index(name) + 1)
            assert cell.number_format == "0.000000", (sheet, name)
            assert 20 < cell.value < 130  # full precision kept in the cell


def pptx_texts(path: Path) -> list[str]:
    out = []
    for slide in pptx.Presentation(str(path)).slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                out.append(shape.text_frame.text)
            if shape.has_table:
                out += [c.text for row in shape.table.rows for c in row.cells]
    return out


def html_texts(path: Path) -> list[str]:
    """What a reader sees of the HTML map besides the data: title, legend and title boxes."""
    import json

    page = path.read_text("utf-8")
    texts = re.findall(r"<title>(.*?)</title>", page)
    for blob in re.findall(r"\.innerHTML = (\".*?\");\n", page):
        texts.append(re.sub(r"<[^>]+>", " ", json.loads(blob)))
    assert len(texts) >= 3  # title, legend, map title box
    return texts


def test_no_english_or_internal_values_in_chinese_exports(zh_files):
    texts: dict[str, list[str]] = {
        "xlsx": [
            str(v)
            for ws in openpyxl.load_workbook(zh_files["xlsx"])
            for row in ws.iter_rows(values_only=True)
            for v in row
            if v is not None
        ],
        "pdf": [p.extract_text() for p in pypdf.PdfReader(zh_files["pdf"]).pages],
        "pptx": pptx_texts(zh_files["pptx"]),
        "html": html_texts(zh_files["html"]),
    }
    for fmt, values in texts.items():
        leaks = {m.group(0) for v in values for m in LEAKS.finditer(v.replace(STAMP, ""))}
        assert not leaks, f"{fmt}: {sorted(leaks)}"
    params = [r for r in openpyxl.load_workbook(zh_files["xlsx"])["参数"].iter_rows(
        values_only=True) if r[0] == "数据来源"]  # fmt: skip
    assert len(params) == 1 and "Synthetic" not in params[0][1]
    assert "停车-001" in " ".join(texts["pdf"])  # gap ids read like the map's


def test_numbers_one_way_everywhere(zh_files):
    assert fmt_value("population", 146444.0) == "146,444"
    assert fmt_value("coverage_rate", 0.3716) == fmt_rate(0.3716) == "37.2%"
    assert fmt_value("lon", 117.25434035) == fmt_coord(117.25434035) == "117.254340"
    assert fmt_value("coverage_rate", None) == "–"
    pdf = " ".join(p.extract_text() for p in pypdf.PdfReader(zh_files["pdf"]).pages)
    slides = " ".join(pptx_texts(zh_files["pptx"]))
    for text in (pdf, slides):
        assert "146,444" in text and "37.2%" in text
        assert re.search(r"\b1\d\d\.\d{6}\b", text) and re.search(r"\b3\d\.\d{6}\b", text)


# --- PPTX ----------------------------------------------------------------------------------------


def render_slides(path: Path, out: Path) -> list[Path]:
    soffice = tool("soffice")
    pdftoppm = tool("pdftoppm")
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob(f"{path.stem}*"):
        old.unlink()
    subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(out),
                    str(path)], check=True, capture_output=True, timeout=300)  # fmt: skip
    pdf = out / f"{path.stem}.pdf"
    subprocess.run([pdftoppm, "-r", "60", "-png", str(pdf), str(out / path.stem)], check=True,
                   timeout=300)  # fmt: skip
    return sorted(out.glob(f"{path.stem}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pptx_shapes_fit_and_long_tables_continue(lang, zh_files, en_files):
    path = (zh_files if lang == "zh" else en_files)["pptx"]
    prs = pptx.Presentation(str(path))
    sw, sh = prs.slide_width, prs.slide_height
    footer = export_report.PPTX_FOOTER_TOP
    kpi_rows: list[str] = []
    for n, slide in enumerate(prs.slides, start=1):
        for shape in slide.shapes:
            box = (shape.left, shape.top, shape.left + shape.width, shape.top + shape.height)
            assert box[0] >= 0 and box[1] >= 0 and box[2] <= sw and box[3] <= sh, (n, box)
            if shape.has_table:
                rows = sum(r.height for r in shape.table.rows)
                assert shape.top + rows <= footer, f"slide {n}: table reaches the footer"
                assert sum(c.width for c in shape.table.columns) <= sw - shape.left
                heading = slide.shapes[0].text_frame.text
                if heading.startswith(t("maps.report_kpis", lang)):
                    kpi_rows += [r.cells[0].text for r in list(shape.table.rows)[1:]]
                    assert shape.table.cell(0, 0).text == t(
                        "maps.category", lang
                    )  # header repeated
            elif shape.top >= footer:
                assert shape.has_text_frame and shape.text_frame.text == t(
                    "maps.synthetic_stamp", lang
                )
    assert len(kpi_rows) == 10, kpi_rows  # every category, on as many slides as needed


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pptx_rendered_by_libreoffice_keeps_tables_off_the_footer(lang, zh_files, en_files):
    path = (zh_files if lang == "zh" else en_files)["pptx"]
    pngs = render_slides(path, ARTIFACTS / "slides")
    prs = pptx.Presentation(str(path))
    assert len(pngs) == len(prs.slides)
    for png, _slide in zip(pngs, prs.slides, strict=True):
        with Image.open(png) as im:
            px = np.asarray(im.convert("L"), dtype=float)
        h, w = px.shape
        scale = w / prs.slide_width
        # The footer band right of the stamp is blank: a table whose rows grew past their
        # planned height would paint its cells there.
        top = int(export_report.PPTX_FOOTER_TOP * scale) + 2
        left = int(Emu(int(prs.slide_width * 0.66)) * scale)
        band = px[top : h - 2, left : w - 2]
        assert band.min() > 200, f"{png.name}: something drawn in the footer band"


# --- PDF -----------------------------------------------------------------------------------------


def test_pdf_headers_whole_words_and_no_orphan_headings(en_files, zh_files):
    reader = pypdf.PdfReader(en_files["pdf"])
    text = "\n".join(p.extract_text() for p in reader.pages)
    for col in export_report.KPI_COLUMNS:
        for word in re.findall(r"[A-Za-z]{4,}", heading(col, "en")):
            assert re.search(rf"\b{word}\b", text), f"header word {word!r} broken"
    headings = {t(k, lang) for lang in ("zh", "en") for k in (
        "maps.report_kpis", "maps.report_legend", "maps.report_communities", "maps.report_gaps",
        "maps.report_sites", "maps.report_parameters")}  # fmt: skip
    for path in (en_files["pdf"], zh_files["pdf"]):
        for n, page in enumerate(pypdf.PdfReader(path).pages, start=1):
            lines = [x.strip() for x in page.extract_text().splitlines() if x.strip()]
            # The page footer (title · date · stamp, page number) is drawn first.
            body = [x for x in lines[2:] if x]
            assert body and body[-1] not in headings, f"{path.name} p.{n} ends with a heading"


def test_pdf_pages_are_not_nearly_empty(zh_files, en_files):
    pdftoppm = tool("pdftoppm")
    out = ARTIFACTS / "pdf"
    out.mkdir(parents=True, exist_ok=True)
    for path in (zh_files["pdf"], en_files["pdf"]):
        for old in out.glob(f"{path.stem}*"):
            old.unlink()
        subprocess.run([pdftoppm, "-r", "40", "-png", str(path), str(out / path.stem)],
                       check=True, timeout=300)  # fmt: skip
        pages = sorted(out.glob(f"{path.stem}-*.png"))
        assert len(pages) == len(pypdf.PdfReader(path).pages)
        for png in pages:
            with Image.open(png) as im:
                px = np.asarray(im.convert("L"))
            h = px.shape[0]
            inked = np.nonzero((px[: int(h * 0.92)] < 200).any(axis=1))[0]  # above the footer
            filled = (inked.max() - inked.min()) / h if len(inked) else 0.0
            assert filled > 0.3, f"{png.name} is nearly empty ({filled:.0%} used)"


# --- map furniture -------------------------------------------------------------------------------


def test_gap_ramp_classes_cover_the_values_in_round_steps():
    classes = gap_classes(21_827.0)
    assert classes[0][0] == 0 and classes[-1][1] == 21_827.0
    assert all(a[1] == b[0] for a, b in itertools.pairwise(classes))
    assert [hi for _, hi in classes[:-1]] == [10_000.0, 20_000.0]
    assert 2 <= len(gap_classes(999.0)) <= 5


def test_footer_lines_keep_every_part_whole():
    parts = ["合成示范区（虚构数据，非真实）", "步行15分钟（老年人 0.9 m/s）", "2026-12-03",
             "Synthetic demo district generated from seed 20181201 — invented, not real data",
             "© OpenStreetMap contributors"] * 3  # fmt: skip
    lines = footer_lines(" · ".join(parts), width=80)
    assert len(lines) > 3  # more than the three lines the image used to cut at
    joined = " · ".join(lines)
    for part in parts[:5]:
        assert part in joined or all(w in joined for w in part.split())


def test_bilingual_attribution_keeps_the_language_half():
    text = "合成示范区：按随机种子 1 生成的虚构数据 / Synthetic demo district from seed 1"
    assert in_language(text, "zh") == "合成示范区：按随机种子 1 生成的虚构数据"
    assert in_language(text, "en") == "Synthetic demo district from seed 1"
    assert in_language("© OpenStreetMap contributors", "zh") == "© OpenStreetMap contributors"


def test_reports_are_part_of_the_whole_or_absent_outputs(tmp_path, monkeypatch):
    import maps.export_bundle

    def broken(*_args, **_kwargs):
        raise OSError(28, "No space left on device", "report.pdf")

    out = tmp_path / "o"
    monkeypatch.setattr(maps.export_bundle, "write_run_reports", broken)
    assert (
        cli.main(["-q", "run", "--demo", "--no-siting", "--out", str(out), "--report", "pdf"]) == 1
    )
    # The failed report left no folder that looks complete.
    assert not (out / "run.json").exists() and not (out / "summary.csv").exists()
