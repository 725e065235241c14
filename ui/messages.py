# ruff: noqa: E501  (a message table reads best one message per line)
"""Loader messages (warnings, rejected-row reasons, errors) in the planner's language.

The loaders in :mod:`geo` write English for logs, the CLI and support requests, with hints for
programmers ("pass category=…"). A planner on the Data page reads them here instead: each known
message is matched by a pattern and rewritten in the interface language, pointing at the form's
own controls. Messages already written in both languages ("中文 / English" on one line, or on
two lines) keep the half of the session language. Anything unknown keeps its text, minus the
programming hints, so it can never be worse than the original.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from geo.errors import CoverageToolError

# (pattern, Chinese, English); the named groups fill the templates. Order matters: first match.
_MESSAGES: tuple[tuple[str, str, str], ...] = (
    # rejected-row reasons
    (r"longitude is not a number", "经度不是数字", "longitude is not a number"),
    (r"latitude is not a number", "纬度不是数字", "latitude is not a number"),
    (r"coordinates are missing", "缺少坐标", "coordinates are missing"),
    (r"coordinates are 0,0 \(probably missing\)", "坐标为 0,0（可能缺失）", "coordinates are 0,0 (probably missing)"),
    (r"coordinates out of range.*", "坐标超出范围（经度 −180..180，纬度 −90..90）", "coordinates out of range (longitude −180..180, latitude −90..90)"),
    (r"outside the study area", "位于研究范围之外", "outside the study area"),
    (r"not a coordinate pair like 118\.78,32\.04", "不是“118.78,32.04”这样的坐标对", "not a coordinate pair like 118.78,32.04"),
    (r"unreadable geometry \(WKT\)", "几何（WKT）无法读取", "unreadable geometry (WKT)"),
    (r"the (?:feature|building) has no geometry", "缺少几何图形", "no geometry"),
    (r"not a polygon \(a building footprint is needed\)", "不是面（需要建筑轮廓）", "not a polygon (a building footprint is needed)"),
    (r"cannot be transformed from (?P<crs>.+) to WGS-84.*", "无法从 {crs} 转换到 WGS-84（超出该坐标系的范围？）", "cannot be converted from {crs} to WGS-84 (outside that system's area?)"),
    (r"population is not a number", "人口不是数字", "population is not a number"),
    (r"population is missing", "缺少人口", "population is missing"),
    (r"population is negative", "人口为负数", "population is negative"),
    (r"category is empty", "类别为空", "category is empty"),
    (r"duplicate id '?(?P<id>.*?)'? \(first at row (?P<row>\d+)\)", "编号“{id}”重复（首次出现在第 {row} 行）", "id “{id}” repeats (first at row {row})"),
    (r"duplicate id.*", "编号重复", "duplicate id"),
    (r"unknown category '?(?P<value>.*?)'?; known categories: .*", "无法识别的类别“{value}”（可识别的类别见“设施类别”下拉框）", "unknown category “{value}” (the known ones are listed under Facility category)"),
    (r"unknown category.*", "无法识别的类别", "unknown category"),
    (r"no category column and the name matches no category.*", "没有类别列，名称也对应不到任何类别：请在上方选择类别列或设施类别", "no category column and the name matches no category: choose a category column or a facility category above"),
    # warnings
    (r"'(?P<col>.+)' repeats numbers, so it is not used as the id; ids (?P<p>\w*)<row> were given", "“{col}”列的序号有重复，未用作设施编号；已按行号编号（{p}+行号）", "the numbers in “{col}” repeat, so they are not used as ids; rows were numbered {p}+row"),
    (r"(?P<n>\d+) rows have no id in '(?P<col>.+)'; ids (?P<p>\w*)<row> were given \(rows (?P<rows>.+)\)", "{n} 行在“{col}”列中没有编号，已按行号编号（第 {rows} 行）", "{n} rows have no id in “{col}”; they were numbered by row (rows {rows})"),
    (r"no category column; categories were inferred from the names in '(?P<col>.+)'.*", "没有类别列：已根据“{col}”列的名称推断类别。如需指定，请在上方选择类别列或设施类别。", "No category column: categories were inferred from the names in “{col}”. To set them, choose a category column or a facility category above."),
    (r"capacity column '(?P<col>.+)' has no number in rows (?P<rows>.+); left unknown", "容量列“{col}”第 {rows} 行不是数字，容量记为未知", "the capacity column “{col}” has no number in rows {rows}; capacity left unknown"),
    (r"capacity column '(?P<col>.+)' is negative in rows (?P<rows>.+); left unknown", "容量列“{col}”第 {rows} 行为负数，容量记为未知", "the capacity column “{col}” is negative in rows {rows}; capacity left unknown"),
    (r"(?P<n>\d+) lines/polygons were turned into points.*", "{n} 个线或面已转换为其内部的代表点", "{n} lines or polygons were turned into a point inside each"),
    (r"(?P<label>.+) has no CRS \(\.prj\); its coordinates were read as (?P<crs>.+)", "{label} 没有坐标系信息（.prj），已按 {crs} 读取坐标", "{label} has no coordinate system (.prj); its coordinates were read as {crs}"),
    (r"(?P<label>.+) is in (?P<file>.+); its coordinates were read as (?P<crs>.+) as requested", "{label} 标注的坐标系为 {file}，已按所选的 {crs} 读取", "{label} says it is in {file}; its coordinates were read as {crs}, as chosen"),
    (r"(?P<label>.+) has its own CRS (?P<file>.+); crs=.* was ignored", "{label} 自带坐标系 {file}，已按文件的坐标系读取（所选坐标系未使用）", "{label} has its own coordinate system {file}; it was used instead of the one chosen"),
    (r"longitude and latitude were swapped in every row.*", "所有行的经纬度写反了，已自动对调", "longitude and latitude were swapped in every row; they were exchanged"),
    (r"longitude and latitude were swapped in rows (?P<rows>.+); they were exchanged", "第 {rows} 行的经纬度写反了，已自动对调", "longitude and latitude were swapped in rows {rows}; they were exchanged"),
    (r"the column names suggest (?P<named>\w+) coordinates but they were read as (?P<key>\w+).*", "列名表明坐标是 {named_zh}，但按 {key_zh} 读取：如确为 {named_zh}，请在“坐标系”中选择它", "the column names suggest {named_en} coordinates but they were read as {key_en}: if they are {named_en}, choose it under Coordinate system"),
    (r"no 'building' column: every footprint was taken as residential", "没有“building”列：所有建筑均按住宅计", "no “building” column: every footprint was taken as residential"),
    (r"(?P<n>\d+) non-residential buildings were left out \((?P<top>.*)\).*", "已排除 {n} 栋非住宅建筑（{top}）", "{n} non-residential buildings were left out ({top})"),
    (r"no 'levels' column: (?P<lv>[\d.]+) storeys assumed everywhere", "没有层数列：全部按 {lv} 层计", "no storey column: {lv} storeys assumed everywhere"),
    (r"(?P<n>\d+) buildings have no usable storey count; (?P<lv>[\d.]+) assumed", "{n} 栋建筑没有可用的层数，按 {lv} 层计", "{n} buildings have no usable storey count; {lv} assumed"),
    (r"'(?P<col>.+)' is in units of (?P<scale>[\d,]+) people; values multiplied", "“{col}”以 {scale} 人为单位，已换算为人数", "“{col}” is in units of {scale} people; values were converted"),
    (r"60\+ population in '(?P<col>.+)' is not a number in rows (?P<rows>.+); left unknown", "“{col}”列第 {rows} 行的 60 岁以上人口不是数字，记为未知", "the 60+ population in “{col}” is not a number in rows {rows}; left unknown"),
    (r"60\+ population exceeds the population in rows (?P<rows>.+)", "第 {rows} 行的 60 岁以上人口超过总人口", "the 60+ population exceeds the population in rows {rows}"),
    (r"populations scaled by (?P<f>[\d.]+) to total (?P<total>[\d.e+]+)", "人口已按比例 {f} 缩放，总数为 {total}", "populations were scaled by {f} to a total of {total}"),
    (r"no residential land given: the population was spread over the area", "未提供居住用地：人口按整个范围平均分布", "no residential land given: the population was spread over the area"),
    # errors (after the file name and a colon)
    (r"no category column \(.*?\) among \[(?P<cols>.*?)\] and no name column.*", "没有类别列（类型 / 类别 / category），也没有可推断类别的名称列（现有列：{cols}）。请在上方“设施类别”中选择一个类别，或在文件中增加类别列。", "no category column (类型 / 类别 / category) and no name column to infer it from (columns: {cols}). Choose a facility category above, or add a category column to the file."),
    (r"column '(?P<col>.+)' repeats values in (?P<n>\d+) of (?P<total>\d+) rows, so it is not an id column.*", "“{col}”列在 {total} 行中有 {n} 行重复，不能作为编号列。请给文件增加一列唯一编号，或改掉该列的列名。", "“{col}” repeats values in {n} of {total} rows, so it is not an id column. Add a column of unique ids, or rename this column."),
    (r"the coordinates look like projected metres \(e\.g\. (?P<x>[\d.-]+), (?P<y>[\d.-]+)\).*", "坐标看起来是投影坐标（米，例如 {x}, {y}），不是经纬度。请先在 GIS 软件中转换为经纬度（WGS-84 / GCJ-02 / BD-09）再上传。", "the coordinates look like projected metres (e.g. {x}, {y}), not longitude/latitude degrees. Convert them to longitude/latitude (WGS-84, GCJ-02 or BD-09) in a GIS first."),
    (r"the file is empty.*", "文件是空的。请选择带表头和数据行的文件。", "the file is empty. Choose a file with a header row and data rows."),
    (r"the file has no data \(only blank cells\).*", "文件没有数据（只有空白单元格）。请添加表头和数据行。", "the file has no data (only blank cells). Add a header row and data rows."),
    (r"the file has a header \(row (?P<row>\d+)\) but no data rows\.?", "文件有表头（第 {row} 行）但没有数据行。", "the file has a header (row {row}) but no data rows."),
)  # fmt: skip

_COMPILED = tuple((re.compile(p + r"\Z", re.DOTALL), zh, en) for p, zh, en in _MESSAGES)

_DATUMS = {
    "wgs84": ("WGS-84（GPS、天地图）", "WGS-84 (GPS, Tianditu)"),
    "gcj02": ("GCJ-02（高德、腾讯）", "GCJ-02 (Amap, Tencent)"),
    "bd09": ("BD-09（百度）", "BD-09 (Baidu)"),
}

# Programming hints the loaders add for script users; meaningless on a form.
_HINTS = re.compile(
    r"\s*(?:[;,(]\s*)?(?:\bpass|\bor pass|\btry another)\b[^.;)]*?\w+=[^.;)]*[.;)]?", re.IGNORECASE
)
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _fill(template: str, groups: dict[str, Any]) -> str:
    values = {k: (v or "").strip() for k, v in groups.items()}
    for key in ("named", "key"):
        if key in values:
            zh, en = _DATUMS.get(values[key], (values[key], values[key]))
            values[f"{key}_zh"], values[f"{key}_en"] = zh, en
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return template


def _half(text: str, lang: str) -> str | None:
    """The half of a bilingual message in ``lang`` (None when it is not bilingual)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) == 2 and bool(_CJK.search(lines[0])) != bool(_CJK.search(lines[1])):
        zh, en = (lines[0], lines[1]) if _CJK.search(lines[0]) else (lines[1], lines[0])
        return zh if lang == "zh" else en
    if " / " in text:
        left, _, right = text.partition(" / ")
        if _CJK.search(left) and not _CJK.search(right):
            return left if lang == "zh" else right
    return None


def plain(text: Any, *, lang: str) -> str:
    """One loader message in the interface language, with no programming hints.

    Parameters
    ----------
    text
        A warning, a rejected-row reason or an error message of the loaders; an error's message
        may start with the file name and a colon, which is kept.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        The known message rewritten in ``lang``; else the half of a bilingual message in
        ``lang``; else the original without its ``pass xxx=`` hints.
    """
    text = str(text).strip()
    candidates = [("", text)]
    head, sep, rest = text.partition(": ")
    if sep and rest and len(head) <= 120:
        # Errors start with the input's name: "设施.csv: the file is empty. …".
        candidates.append((f"{head}：" if lang == "zh" else f"{head}: ", rest))
    for prefix, body in candidates:
        for pattern, zh, en in _COMPILED:
            m = pattern.match(body)
            if m:
                return prefix + _fill(zh if lang == "zh" else en, m.groupdict())
    half = _half(text, lang)
    if half is not None:
        # The English half may still carry a hint for script users.
        return half if lang == "zh" else plain(half, lang="en")
    return plain_english(text)


@contextmanager
def planner_errors(*, lang: str) -> Iterator[None]:
    """Re-raise our loaders' errors with their message in ``lang`` (same class, for the labels).

    Used inside :func:`ui.errors.guard`, which then shows the rewritten message.
    """
    try:
        yield
    except CoverageToolError as exc:
        text = plain(str(exc), lang=lang)
        if text == str(exc):
            raise
        try:
            new = type(exc)(text)
        except TypeError:  # a class with its own constructor: keep the original
            raise exc from None
        raise new from exc


def plain_english(text: str) -> str:
    """``text`` without the loaders' hints for script users (``pass category=…``)."""
    out = _HINTS.sub("", text).strip()
    return out if out else text
