"""Find the columns that matter in a planner's table, in Chinese or English.

Headers are compared after lower-casing and removing spaces, underscores and brackets, so
``" 经度(GCJ-02) "`` is a longitude column and ``"Pop_60"`` an elderly one. Exact names win over
names that merely contain a keyword; the caller can override every choice by keyword.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo.errors import ColumnNotFoundError
from geo.messages import msg

__all__ = [
    "HOW_TO_NAME",
    "ROLES",
    "SHARE_HEADER",
    "ColumnMapping",
    "detect_columns",
    "header_multiplier",
    "norm_header",
    "parse_amount",
    "parse_numbers",
    "parse_pairs",
    "parse_wkt",
    "require_coordinates",
]

#: Roles a column can play, in the order they are assigned (earlier roles claim columns first).
ROLES: tuple[str, ...] = (
    "coord",
    "wkt",
    "lon",
    "lat",
    "id",
    "elderly",
    # Before "population": "0-14岁人口" contains 人口 but is a subgroup, not the residents.
    "infants",
    "children",
    "population",
    "community",
    "category",
    "capacity",
    "name",
)

# Exact (normalised) header names per role.
_EXACT: dict[str, tuple[str, ...]] = {
    "coord": (
        "经纬度",
        "坐标",
        "location",
        "lnglat",
        "lonlat",
        "coordinates",
        "coordinate",
        "经纬度坐标",
        "坐标经纬度",
        "位置坐标",
        "gps坐标",
        "latlng",
        "latlon",
        "lng,lat",
        "xy",
    ),
    "wkt": ("wkt", "geometry", "geom", "thegeom", "shape", "几何", "空间信息", "geometrywkt"),
    "lon": (
        "lon",
        "lng",
        "long",
        "longitude",
        "x",
        "经度",
        "东经",
        "经度坐标",
        "x坐标",
        "坐标x",
        "pointx",
        "gcjlng",
        "gcjlon",
        "bdlng",
        "bdlon",
        "wgslng",
        "wgslon",
        "wgs84lng",
        "wgs84lon",
        "经度值",
        "中心经度",
    ),
    "lat": (
        "lat",
        "latitude",
        "y",
        "纬度",
        "北纬",
        "纬度坐标",
        "y坐标",
        "坐标y",
        "pointy",
        "gcjlat",
        "bdlat",
        "wgslat",
        "wgs84lat",
        "纬度值",
        "中心纬度",
    ),
    "id": (
        "id",
        "编号",
        "代码",
        "编码",
        "序号",
        "fid",
        "objectid",
        "osmid",
        "uid",
        "poiid",
        "设施编号",
        "设施id",
        "设施代码",
        "no",
        "number",
        "facilityid",
        "demandid",
    ),
    "elderly": (
        "老年人口",
        "60岁以上",
        "60岁以上人口",
        "60岁及以上",
        "60岁及以上人口",
        "elderly",
        "pop60",
        "pop60plus",
        "老人",
        "老年人",
        "老年人数",
        "老年人口数",
        "65岁以上",
        "65岁以上人口",
        "aged60",
        "elderlypopulation",
    ),
    "infants": (
        "03岁",
        "03岁人口",
        "0~3岁",
        "0~3岁人口",
        "0至3岁",
        "0至3岁人口",
        "婴幼儿",
        "婴幼儿人口",
        "3岁以下",
        "3岁以下人口",
        "infants",
        "pop03",
        "under3",
        "aged03",
    ),
    "children": (
        "014岁",
        "014岁人口",
        "0~14岁",
        "0~14岁人口",
        "0至14岁",
        "0至14岁人口",
        "儿童",
        "儿童人口",
        "少儿",
        "少儿人口",
        "14岁以下",
        "14岁以下人口",
        "15岁以下",
        "15岁以下人口",
        "children",
        "pop014",
        "under15",
        "aged014",
    ),
    "population": (
        "常住人口",
        "常住人口数",
        "人口",
        "居住人口",
        "population",
        "pop",
        "人口数",
        "总人口",
        "人数",
        "居民人数",
        "poptotal",
        "totalpop",
        "户籍人口",
        "户籍人口数",
        "居民",
    ),
    "community": (
        "社区",
        "小区",
        "community",
        "居委会",
        "社区名称",
        "小区名称",
        "居住区",
        "所属社区",
        "社区居委会",
        "neighbourhood",
        "neighborhood",
        "小区名",
        "社区名",
        "居民区",
    ),
    "category": (
        "类型",
        "类别",
        "category",
        "type",
        "设施类型",
        "设施类别",
        "分类",
        "种类",
        "kind",
        "class",
        "设施种类",
        "服务类型",
        "设施分类",
        "amenity",
    ),
    "capacity": (
        "床位",
        "座位",
        "托位",
        "泊位",
        "capacity",
        "容量",
        "规模",
        "床位数",
        "座位数",
        "托位数",
        "泊位数",
        "车位",
        "车位数",
        "餐位",
        "餐位数",
        "桩数",
        "充电桩数",
        "服务规模",
    ),
    "name": (
        "名称",
        "name",
        "设施名称",
        "单位名称",
        "机构名称",
        "站点名称",
        "名字",
        "标题",
        "title",
        "poi名称",
        "poiname",
        "点位名称",
        "场所名称",
        "项目名称",
        "服务点名称",
        "地点名称",
    ),
}

# Keywords a header may contain (checked after the exact pass, same role order).
_CONTAINS: dict[str, str] = {
    "coord": r"经纬度|坐标$",
    "wkt": r"wkt",
    "lon": r"经度|longitude|^lng|^lon(?!g?lat)|^x坐标|坐标x",
    "lat": r"(?<!经)纬度|latitude|^lat(?!lng|lon)|^y坐标|坐标y",
    # "街道代码", "所属区划代码" are codes of something else, not ids of the rows.
    "id": r"编号|^id$|id$",
    "elderly": r"老年|老人|60岁|65岁|elderly|pop60|aged60",
    "infants": r"(?<![0-9])0[~至到]?3岁|婴幼儿|(?<![0-9])3岁以下|infant|pop03|under3|aged03",
    "children": r"(?<![0-9])0[~至到]?14岁|儿童|少儿|1[45]岁以下|child|pop014|under15|aged014",
    "population": r"人口|population|^pop",
    "community": r"社区|小区|居委|community|neighbou?rhood",
    "category": r"类型|类别|分类|category",
    "capacity": r"床位|座位|托位|泊位|车位|餐位|容量|规模|capacity",
    "name": r"名称|name",
}

# How to name each role's column, for error messages.
HOW_TO_NAME: dict[str, str] = {
    "lon": "经度 / lon / lng / longitude / x",
    "lat": "纬度 / lat / latitude / y",
    "coord": "经纬度 / 坐标 / location (values like 118.78,32.04)",
    "wkt": "wkt / geometry (values like POINT (118.78 32.04))",
    "name": "名称 / name",
    "category": "类型 / 类别 / category",
    "capacity": "床位 / 座位 / 托位 / 泊位 / capacity",
    "id": "编号 / id / 代码",
    "population": "人口 / 常住人口 / population",
    "elderly": "老年人口 / 60岁以上 / elderly",
    "infants": "0-3岁人口 / 婴幼儿 / infants",
    "children": "0-14岁人口 / 儿童 / children",
    "community": "社区 / 小区 / community",
}

_NUM = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_PAIR_SPLIT = re.compile(r"\s*[,，;；/|\s]\s*")


@dataclass(frozen=True)
class ColumnMapping:
    """The columns a user chose, by role; ``None`` leaves a role to detection.

    Attributes
    ----------
    lon, lat
        Longitude and latitude (or projected x, y) columns.
    coord
        One column of coordinate pairs (``118.78,32.04``).
    wkt
        One column of WKT geometries.
    id
        Identifier column; ``""`` switches id detection off (ids are then made from the rows).
    name, category, capacity
        Facility name, category and capacity columns.
    population, elderly, children, infants, community
        Demand columns: residents, aged 60+, aged 0–14, aged 0–3 and the community name.
    """

    lon: str | None = None
    lat: str | None = None
    coord: str | None = None
    wkt: str | None = None
    id: str | None = None
    name: str | None = None
    category: str | None = None
    capacity: str | None = None
    population: str | None = None
    elderly: str | None = None
    children: str | None = None
    infants: str | None = None
    community: str | None = None

    @property
    def ids_off(self) -> bool:
        """Whether id detection is switched off (``id=""``)."""
        return self.id == ""

    def overrides(self, roles: Iterable[str]) -> dict[str, str | None]:
        """Role → chosen column of ``roles`` for :func:`detect_columns` (``""``: none)."""
        return {role: getattr(self, role) or None for role in roles}


def norm_header(name: Any) -> str:
    """Lower-case a header and drop spaces, underscores, hyphens, dots and brackets."""
    text = str(name).strip().lower()
    return re.sub(r"[\s_\-.:：（）()\[\]【】°/\\]+", "", text)


def _header_base(name: Any) -> str:
    # The header without a bracketed note, e.g. "经度(GCJ-02)" -> "经度".
    text = re.sub(r"[（(\[【][^）)\]】]*[）)\]】]", "", str(name)).strip().lower()
    return re.sub(r"[\s_\-.:：°/\\]+", "", text)


def _resolve_override(columns: list[str], wanted: str, role: str, label: str) -> str:
    if wanted in columns:
        return wanted
    target = norm_header(wanted)
    for c in columns:
        if norm_header(c) == target:
            return c
    error = msg(
        "loaders.columns.no_such_column",
        file=label,
        column=repr(wanted),
        role=role,
        columns=str(columns),
    )
    raise ColumnNotFoundError(error)


def detect_columns(
    columns: Iterable[Any],
    *,
    frame: pd.DataFrame | None = None,
    roles: Iterable[str] = ROLES,
    overrides: dict[str, str | None] | None = None,
    label: str = "table",
) -> dict[str, str | None]:
    """Assign columns to roles (``lon``, ``lat``, ``name``, ``population`` ...).

    Parameters
    ----------
    columns
        The table's headers.
    frame
        The table itself; when given, candidate coordinate columns are checked against their
        values (a "坐标" column must hold pairs, a "经度" column numbers).
    roles
        Roles to look for (see :data:`ROLES`).
    overrides
        Role → column chosen by the caller; these win and must exist.
    label
        File name for messages.

    Returns
    -------
    dict
        Role → column name, or ``None`` when not found.
    """
    cols = [str(c) for c in columns]
    roles = [r for r in ROLES if r in set(roles)]
    out: dict[str, str | None] = dict.fromkeys(roles)
    taken: set[str] = set()
    for role, wanted in (overrides or {}).items():
        if wanted is not None and role in out:
            chosen = _resolve_override(cols, str(wanted), role, label)
            out[role] = chosen
            taken.add(chosen)
    normed = {c: norm_header(c) for c in cols}
    based = {c: _header_base(c) for c in cols}

    def usable(role: str, col: str) -> bool:
        if frame is None or col not in frame:
            return True
        values = frame[col].dropna()
        if values.empty:
            return role not in ("coord", "lon", "lat", "wkt")
        if role == "coord":
            _, _, bad = parse_pairs(values)
            return bool((~bad).mean() >= 0.5)
        if role in ("lon", "lat"):
            _, bad = parse_numbers(values)
            return bool((~bad).mean() >= 0.5)
        if role == "wkt":
            _, bad = parse_wkt(values)
            return bool((~bad).mean() >= 0.5)
        return True

    for stage in ("exact", "contains"):
        for role in roles:
            if out[role] is not None:
                continue
            candidates = list(cols)
            if stage == "exact" and role == "population":
                # 常住人口 (residents) before 户籍人口 (registered): the tuple's order.
                rank = {name: i for i, name in enumerate(_EXACT[role])}
                candidates.sort(key=lambda c: rank.get(normed[c], rank.get(based[c], len(rank))))
            for c in candidates:
                if c in taken:
                    continue
                if stage == "exact":
                    hit = normed[c] in _EXACT[role] or based[c] in _EXACT[role]
                else:
                    hit = re.search(_CONTAINS[role], normed[c]) is not None
                if hit and role in _COUNT_ROLES and SHARE_HEADER.search(str(c).lower()):
                    hit = False  # a share, not a head count
                if hit and usable(role, c):
                    out[role] = c
                    taken.add(c)
                    break
    return out


def require_coordinates(
    detected: dict[str, str | None], columns: Iterable[Any], *, label: str
) -> str:
    """Return how coordinates are given (``"lonlat"``, ``"coord"`` or ``"wkt"``) or raise.

    Raises
    ------
    ColumnNotFoundError
        No coordinate column, naming the columns found and how to name them.
    """
    if detected.get("lon") and detected.get("lat"):
        return "lonlat"
    if detected.get("coord"):
        return "coord"
    if detected.get("wkt"):
        return "wkt"
    cols = [str(c) for c in columns]
    half: str = ""
    if detected.get("lon") or detected.get("lat"):
        have = "lon" if detected.get("lon") else "lat"
        axis = msg("loaders.columns.axis_lon") if have == "lon" else msg("loaders.columns.axis_lat")
        half = msg("loaders.columns.only_one_axis", axis=axis, column=repr(detected[have]))
    error = msg(
        "loaders.columns.no_coordinates",
        file=label,
        columns=str(cols),
        half=half,
        lon=HOW_TO_NAME["lon"],
        lat=HOW_TO_NAME["lat"],
        coord=HOW_TO_NAME["coord"],
        wkt=HOW_TO_NAME["wkt"],
    )
    raise ColumnNotFoundError(error)


def _as_series(values: pd.Series | np.ndarray | list[Any]) -> pd.Series:
    return values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)


def _missing(v: Any) -> bool:
    """An empty cell as read: ``None`` or a float NaN."""
    return v is None or (isinstance(v, float) and np.isnan(v))


#: A plain decimal number (ASCII digits only, no exponent, no separators).
_PLAIN_DECIMAL = r"\s*[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)\s*"


def _parse_cells(
    values: pd.Series | np.ndarray | list[Any], number: Callable[[str], float]
) -> tuple[np.ndarray, np.ndarray]:
    """Numbers as they are, ``number(text)`` for other non-empty cells (ValueError: bad).

    ``number`` gets the cell with full-width characters folded and returns NaN when nothing is
    left after its own clean-up (an empty cell, not a bad one).
    """
    s = _as_series(values)
    out = np.full(len(s), np.nan)
    bad = np.zeros(len(s), dtype=bool)
    if len(s) == 0:
        return out, bad
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        # A column the table reader already made numeric (every cell a number or blank): the
        # per-cell path would give the same floats, through a string round trip per cell.
        return s.to_numpy(dtype="float64", na_value=np.nan), bad
    # Fast path for the cells most tables are made of — plain decimals such as "118.78" or 1500
    # — which every ``number`` reads as float() does; only the rest goes through the loop.
    text = s.astype("string")
    plain = text.str.fullmatch(_PLAIN_DECIMAL, na=False).to_numpy(dtype=bool)
    if plain.any():
        out[plain] = pd.to_numeric(text[plain].str.strip()).to_numpy(dtype="float64")
    rest = np.flatnonzero(~plain)
    cells = s.to_numpy(dtype=object)
    for i, v in zip(rest.tolist(), cells[rest].tolist(), strict=True):
        if _missing(v):
            continue
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
            out[i] = float(v)
            continue
        text = _fullwidth(str(v))
        if not text.strip():
            continue
        try:
            out[i] = number(text)
        except ValueError:
            bad[i] = True
    return out, bad


# Hemisphere marks around a coordinate: "东经118.78", "118.78°E", "N 32.04", "32.04北纬".
_HEMISPHERE = re.compile(
    r"^\s*(东经|北纬|西经|南纬|[东西南北]|[ENWSenws](?![0-9.]*[ENWSenws]))?\s*"
    r"([-+]?(?:\d+\.?\d*|\.\d+))\s*[°度]?\s*(东经|北纬|西经|南纬|[ENWSenws东西南北])?\s*$"
)


def _plain_number(text: str) -> float:
    text = text.strip().rstrip("°度").strip()
    if not text:
        return float("nan")
    try:
        return float(text)
    except ValueError:
        m = _HEMISPHERE.match(text)
        if m is None or (m.group(1) and m.group(3)):
            raise
        mark = (m.group(1) or m.group(3) or "").upper()
        value = float(m.group(2))
        return -value if mark in {"W", "S", "西", "南", "西经", "南纬"} else value


# Digit groups written with a space ("12 345"), thin space or no-break space.
_SPACE_GROUPS = re.compile(r"(?<=\d)[ \u00a0\u2009\u202f](?=\d{3}(?!\d))")

# Chinese magnitude words right after a number: "1.2万" is 12,000 people.
_MAGNITUDES = {"万": 1e4, "千": 1e3, "亿": 1e8}


def _first_number(text: str) -> float:
    text = _SPACE_GROUPS.sub("", text.replace(",", "")).strip()
    if not text:
        return float("nan")
    m = _NUM.search(text)
    if m is None:
        raise ValueError(text)  # caught by _parse_cells: the cell is marked bad
    value = float(m.group(0))
    unit = text[m.end() :].lstrip()[:1]
    return value * _MAGNITUDES.get(unit, 1.0)


def header_multiplier(header: Any) -> float:
    """The magnitude a header gives its values: 1e4 for ``"常住人口(万人)"``, else 1.

    Only a magnitude in brackets or directly before 人/户 counts (``"万人"``, ``"（千人）"``), so
    names that merely contain the character are not scaled.
    """
    text = _fullwidth(str(header))
    m = re.search(r"[(\[（【]\s*([万千])\s*[人户]?\s*[)\]）】]|([万千])[人户]", text)
    if m is None:
        return 1.0
    return _MAGNITUDES[m.group(1) or m.group(2)]


#: Roles whose column holds a count (a share column must not be taken for one).
_COUNT_ROLES = frozenset({"population", "elderly", "infants", "children", "capacity"})

#: Headers that hold a share or rate, never a head count (e.g. "60岁以上人口占比(%)").
SHARE_HEADER = re.compile(r"占比|比例|比重|百分比|[率%％]|share|ratio|percent|pct|rate")


def parse_numbers(values: pd.Series | np.ndarray | list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Parse numbers leniently (``"118.78°"``, ``" 32.04 "``, full-width digits).

    Returns
    -------
    tuple of numpy.ndarray
        Float values (NaN where missing or bad) and a mask of non-empty cells that are not numbers.
    """
    return _parse_cells(values, _plain_number)


def parse_amount(values: pd.Series | np.ndarray | list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Parse counts such as ``"50"``, ``"50张"``, ``"约 1,200 人"``: the first number in the cell.

    Returns
    -------
    tuple of numpy.ndarray
        Float values (NaN where empty or no number) and a mask of non-empty cells with no number.
    """
    return _parse_cells(values, _first_number)


def parse_pairs(
    values: pd.Series | np.ndarray | list[Any],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse combined coordinates (``"118.78,32.04"``, ``"118.78 32.04"``, ``"118.78，32.04"``).

    Returns
    -------
    tuple of numpy.ndarray
        First and second numbers (in the order written) and a mask of non-empty bad cells.
    """
    s = _as_series(values)
    a = np.full(len(s), np.nan)
    b = np.full(len(s), np.nan)
    bad = np.zeros(len(s), dtype=bool)
    for i, v in enumerate(s.tolist()):
        if _missing(v):
            continue
        text = _fullwidth(str(v)).strip().strip("()[]（）【】 ")
        if not text:
            continue
        parts = [p for p in _PAIR_SPLIT.split(text) if p]
        if len(parts) != 2:
            bad[i] = True
            continue
        try:
            a[i], b[i] = float(parts[0].rstrip("°度")), float(parts[1].rstrip("°度"))
        except ValueError:
            bad[i] = True
    return a, b, bad


def parse_wkt(values: pd.Series | np.ndarray | list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Parse WKT (also ``SRID=4326;POINT (...)``) into shapely geometries.

    Returns
    -------
    tuple of numpy.ndarray
        Geometries (``None`` where missing or unreadable) and a mask of non-empty cells that are
        not readable, empty geometries included.
    """
    s = _as_series(values)
    text = np.array(
        [
            None
            if _missing(v) or not str(v).strip()
            else re.sub(r"^\s*SRID=\d+;", "", str(v), flags=re.IGNORECASE).strip()
            for v in s.tolist()
        ],
        dtype=object,
    )
    present = np.array([t is not None for t in text], dtype=bool)
    geoms = shapely.from_wkt(text, on_invalid="ignore")
    ok = present & ~shapely.is_missing(geoms)
    ok[ok] = ~shapely.is_empty(geoms[ok])
    out = np.array(geoms, dtype=object, copy=True)
    out[~ok] = None
    return out, present & ~ok


def _fullwidth(text: str) -> str:
    # Full-width digits and punctuation typed with a Chinese IME.
    return text.translate(str.maketrans("０１２３４５６７８９．－＋，", "0123456789.-+,"))
