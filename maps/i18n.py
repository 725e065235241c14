"""Interface and report strings in Chinese and English.

One dict of strings keyed by a stable name, each with ``zh`` and ``en`` text, and :func:`t` to
look one up. The maps, the exports and the app all read their labels here, so a wording change is
made once. Add new keys freely; keep both languages filled in.
"""

from __future__ import annotations

import logging
from typing import Any

from geo.taxonomy import categories

logger = logging.getLogger(__name__)

#: Supported interface languages.
LANGUAGES: tuple[str, ...] = ("zh", "en")

#: Strings by key, then by language. Values may hold ``str.format`` fields such as ``{n}``.
STRINGS: dict[str, dict[str, str]] = {
    # --- product -----------------------------------------------------------------------------
    "app_title": {"zh": "十五分钟生活圈设施覆盖评估", "en": "15-minute living-circle coverage"},
    "synthetic_demo": {"zh": "合成示范数据", "en": "synthetic demo data"},
    "synthetic_stamp": {
        "zh": "合成示范数据 / synthetic demo data",
        "en": "synthetic demo data / 合成示范数据",
    },
    # --- map layers ----------------------------------------------------------------------------
    "layer_facilities": {"zh": "设施 · {name}", "en": "Facilities · {name}"},
    "layer_service_areas": {"zh": "服务范围 · {name}", "en": "Service area · {name}"},
    "layer_gaps": {"zh": "覆盖缺口", "en": "Coverage gaps"},
    "layer_demand": {"zh": "居民分布（密度）", "en": "Residents (density)"},
    "layer_off_network": {"zh": "远离路网的居民点", "en": "Residents off the network"},
    "snap_distance_m": {"zh": "距最近道路（米）", "en": "Distance to nearest street (m)"},
    "layer_sites": {"zh": "建议新增选址", "en": "Proposed sites"},
    "layer_network": {"zh": "路网", "en": "Street network"},
    "layer_water": {"zh": "河流水系", "en": "Rivers and water"},
    "basemap_osm": {"zh": "OpenStreetMap 底图", "en": "OpenStreetMap"},
    "basemap_amap": {"zh": "高德地图", "en": "Amap (高德)"},
    "basemap_tianditu": {"zh": "天地图", "en": "Tianditu (天地图)"},
    "basemap_tianditu_labels": {"zh": "天地图注记", "en": "Tianditu labels"},
    "basemap_none": {"zh": "路网底图（离线）", "en": "Street network (offline)"},
    # --- legend --------------------------------------------------------------------------------
    "legend_title": {"zh": "图例", "en": "Legend"},
    "legend_facilities": {"zh": "设施", "en": "Facilities"},
    "legend_service_areas": {"zh": "服务范围（步行路网）", "en": "Service areas (walking network)"},
    "legend_gaps": {"zh": "缺口：未覆盖居民（人）", "en": "Gaps: uncovered residents"},
    "legend_demand": {"zh": "居民密度", "en": "Resident density"},
    "legend_sites": {"zh": "建议选址（新增覆盖人数）", "en": "Proposed site (residents added)"},
    "legend_network": {"zh": "路网", "en": "Street network"},
    "legend_water": {"zh": "河流水系（步行需绕行桥梁）", "en": "Water (walks detour to bridges)"},
    "legend_demand_points": {"zh": "居民点（按人口）", "en": "Residents (by population)"},
    "minutes_short": {"zh": "{m:g} 分钟", "en": "{m:g} min"},
    "metres_short": {"zh": "{m:,.0f} 米", "en": "{m:,.0f} m"},
    "north": {"zh": "北", "en": "N"},
    "scale": {"zh": "比例尺", "en": "Scale"},
    "site_label": {"zh": "+{n:,.0f} 人", "en": "+{n:,.0f} residents"},
    # --- popups and table headers --------------------------------------------------------------
    "name": {"zh": "名称", "en": "Name"},
    "category": {"zh": "类别", "en": "Category"},
    "category_key": {"zh": "类别代码", "en": "Category key"},
    "capacity": {"zh": "容量", "en": "Capacity"},
    "source": {"zh": "来源", "en": "Source"},
    "facility_id": {"zh": "设施编号", "en": "Facility ID"},
    "threshold": {"zh": "标准", "en": "Threshold"},
    "threshold_m": {"zh": "路网距离阈值（米）", "en": "Network threshold (m)"},
    "minutes": {"zh": "步行时间（分钟）", "en": "Walking time (min)"},
    "area_km2": {"zh": "面积（平方公里）", "en": "Area (km²)"},
    "rank": {"zh": "排序", "en": "Rank"},
    "gap_id": {"zh": "缺口编号", "en": "Gap ID"},
    "uncovered_population": {"zh": "未覆盖人口", "en": "Uncovered residents"},
    "uncovered_elderly": {"zh": "未覆盖老年人口", "en": "Uncovered elderly"},
    "n_points": {"zh": "居民点数", "en": "Demand points"},
    "nearest_facility_m": {
        "zh": "最近设施路网距离中位数（米）",
        "en": "Median distance to the nearest facility (network m)",
    },
    "nearest_facility_max_m": {
        "zh": "最近设施路网距离最大值（米）",
        "en": "Largest distance to the nearest facility (network m)",
    },
    "communities": {"zh": "涉及社区", "en": "Communities"},
    "n_communities": {"zh": "涉及社区数", "en": "Number of communities"},
    "covered_communities": {"zh": "覆盖社区数", "en": "Communities covered"},
    "n_facilities_snapped": {"zh": "已接入路网设施数", "en": "Facilities on the network"},
    "criterion_en": {"zh": "覆盖标准（英文）", "en": "Criterion (English)"},
    "candidate_id": {"zh": "候选点编号", "en": "Candidate ID"},
    "added_elderly": {"zh": "新增覆盖老年人口", "en": "Elderly added"},
    "minutes_saved": {"zh": "节省步行时间（人·分钟）", "en": "Walking time saved (person-minutes)"},
    "param_basemap": {"zh": "底图", "en": "Basemap"},
    "default": {"zh": "标准默认", "en": "default"},
    "param_data": {"zh": "数据", "en": "Data"},
    "param_date": {"zh": "导出日期", "en": "Exported on"},
    "param_siting": {"zh": "选址模型", "en": "Siting model"},
    "area_m2": {"zh": "面积（平方米）", "en": "Area (m²)"},
    "added_population": {"zh": "新增覆盖人口", "en": "Residents added"},
    "cumulative_population": {"zh": "累计新增覆盖人口", "en": "Cumulative residents added"},
    "cumulative_coverage_rate": {
        "zh": "新增至此处后的人口覆盖率",
        "en": "Coverage rate with the sites up to this one",
    },
    "lon": {"zh": "经度", "en": "Longitude"},
    "lat": {"zh": "纬度", "en": "Latitude"},
    "unknown": {"zh": "未知", "en": "unknown"},
    "not_reached": {"zh": "不可达", "en": "not reached"},
    # summary table (CONTRACTS.md, coverage summary)
    "name_zh": {"zh": "类别", "en": "Category (zh)"},
    "name_en": {"zh": "类别（英文）", "en": "Category"},
    "criterion": {"zh": "覆盖标准", "en": "Criterion"},
    "speed_mps": {"zh": "步速（米/秒）", "en": "Speed (m/s)"},
    "n_facilities": {"zh": "设施数", "en": "Facilities"},
    "population": {"zh": "人口", "en": "Residents"},
    "covered_population": {"zh": "覆盖人口", "en": "Covered residents"},
    "coverage_rate": {"zh": "人口覆盖率", "en": "Coverage rate"},
    "coverage_rate_reachable": {
        "zh": "有路网居民覆盖率",
        "en": "Coverage rate of residents with a street",
    },
    "off_network_population": {"zh": "远离路网人口", "en": "Residents off the network"},
    "off_network_share": {"zh": "远离路网人口占比", "en": "Share of residents off the network"},
    "status": {"zh": "结果状态", "en": "Status"},
    "elderly_population": {"zh": "老年人口", "en": "Elderly residents"},
    "covered_elderly": {"zh": "覆盖老年人口", "en": "Covered elderly"},
    "elderly_coverage_rate": {"zh": "老年人口覆盖率", "en": "Elderly coverage rate"},
    "covered_points": {"zh": "覆盖居民点数", "en": "Covered points"},
    "median_minutes": {"zh": "最近设施步行时间中位数（分钟）", "en": "Median time (min)"},
    "p85_minutes": {"zh": "最近设施步行时间85分位（分钟）", "en": "85th percentile time (min)"},
    "buffer_coverage_rate": {
        "zh": "直线缓冲区覆盖率（对比）",
        "en": "Straight-line buffer rate (comparison)",
    },
    "community": {"zh": "社区", "en": "Community"},
    "score": {"zh": "设施完备度", "en": "Completeness score"},
    "complete_population": {"zh": "设施齐全人口", "en": "Residents with the full set"},
    "complete_share": {"zh": "设施齐全人口占比", "en": "Share with the full set"},
    "elderly": {"zh": "老年人口", "en": "Elderly"},
    # per-category column fields (see PER_CATEGORY_FIELDS)
    "covered": {"zh": "是否覆盖", "en": "Covered"},
    "distance_m": {"zh": "最近设施路网距离（米）", "en": "Nearest facility (network m)"},
    "facility_name": {"zh": "最近设施名称", "en": "Nearest facility"},
    "euclid_m": {"zh": "最近设施直线距离（米）", "en": "Nearest facility (straight m)"},
    "detour": {"zh": "绕行系数", "en": "Detour ratio"},
    "parameter": {"zh": "参数", "en": "Parameter"},
    "value": {"zh": "取值", "en": "Value"},
    # --- exports -------------------------------------------------------------------------------
    "sheet_summary": {"zh": "汇总", "en": "Summary"},
    "sheet_communities": {"zh": "社区", "en": "Communities"},
    "sheet_gaps": {"zh": "缺口", "en": "Gaps"},
    "sheet_sites": {"zh": "建议选址", "en": "Proposed sites"},
    "sheet_parameters": {"zh": "参数", "en": "Parameters"},
    # --- living-circle evaluation (tiers, 达标, 千人指标) --------------------------------------
    "sheet_tiers": {"zh": "分级覆盖", "en": "Tiers"},
    "sheet_compliance": {"zh": "达标", "en": "Compliance"},
    "sheet_supply": {"zh": "千人指标", "en": "Supply per 1000"},
    "tier_name": {"zh": "生活圈层级", "en": "Living-circle tier"},
    "children_coverage_rate": {"zh": "儿童覆盖率", "en": "Children coverage rate"},
    "infants_coverage_rate": {"zh": "婴幼儿覆盖率", "en": "Infant coverage rate"},
    "subgroup": {"zh": "评价人群", "en": "Judged on"},
    "subgroup_coverage_rate": {"zh": "评价人群覆盖率", "en": "Judged group's rate"},
    "subgroup_all": {"zh": "全体居民", "en": "All residents"},
    "subgroup_elderly": {"zh": "老年人", "en": "Elderly"},
    "subgroup_children": {"zh": "儿童", "en": "Children"},
    "subgroup_infants": {"zh": "婴幼儿", "en": "Infants"},
    "standard_status": {"zh": "标准标签", "en": "Standard label"},
    "standard_source": {"zh": "依据标准", "en": "Standard"},
    "compliant": {"zh": "是否达标", "en": "Meets the standard"},
    "basic_score": {"zh": "基础保障类得分", "en": "Basic-items score"},
    "quality_score": {"zh": "品质提升类得分", "en": "Quality-items score"},
    "n_basic": {"zh": "基础保障类项数", "en": "Basic items"},
    "n_basic_reached": {"zh": "达到的基础保障类项数", "en": "Basic items reached"},
    "lacks": {"zh": "缺少的设施", "en": "Lacks"},
    "residents": {"zh": "居民", "en": "Residents"},
    "per_1000": {"zh": "千人指标", "en": "Per 1000 residents"},
    "reachable_per_1000": {"zh": "步行可达千人指标", "en": "Reachable per 1000"},
    "target_per_1000": {"zh": "千人指标目标", "en": "Target per 1000"},
    "meets_target": {"zh": "是否达到目标", "en": "Target met"},
    "eval_compliant_yes": {"zh": "达标", "en": "meets"},
    "eval_compliant_no": {"zh": "不达标", "en": "does not meet"},
    "eval_lacks_nothing": {"zh": "无", "en": "nothing"},
    "eval_met": {"zh": "达到", "en": "met"},
    "eval_not_met": {"zh": "未达到", "en": "not met"},
    "eval_no_target": {"zh": "无目标或无容量数据", "en": "no target or no capacities"},
    "eval_district": {"zh": "全区", "en": "Whole district"},
    "eval_chapter": {"zh": "生活圈评估", "en": "Living-circle evaluation"},
    "eval_tier_matrix": {
        "zh": "分级覆盖率（类别 × 生活圈层级）",
        "en": "Coverage by tier (category × tier)",
    },
    "eval_compliance": {
        "zh": "社区达标情况（最欠缺者在前）",
        "en": "Compliance by community (least served first)",
    },
    "eval_supply": {
        "zh": "千人指标与目标（全区）",
        "en": "Supply per 1000 residents against targets (district)",
    },
    "eval_subgroups": {"zh": "重点人群覆盖率", "en": "Coverage of the elderly and children"},
    "eval_labels_note": {
        "zh": "标签：[V] 依据原文；[S] 二手来源（论文、地方规划）；[M] 广泛引用但未核对原文。"
        "单元格：覆盖率 · 距离阈值 标签。",
        "en": "Labels: [V] read in a source text; [S] secondary source (paper, local plan); "
        "[M] widely quoted, not verified against the official text. Cells: coverage rate · "
        "threshold label.",
    },
    "report_title": {
        "zh": "十五分钟生活圈设施覆盖评估报告",
        "en": "15-minute living-circle coverage report",
    },
    "report_date": {"zh": "日期：{date}", "en": "Date: {date}"},
    "report_area": {"zh": "评估范围：{area}", "en": "Study area: {area}"},
    "report_map": {"zh": "覆盖分析图", "en": "Coverage map"},
    "report_kpis": {"zh": "分类覆盖指标", "en": "Coverage by category"},
    "report_gaps": {"zh": "主要覆盖缺口", "en": "Largest coverage gaps"},
    "report_communities": {
        "zh": "社区设施完备度（最低的前若干个）",
        "en": "Community completeness (least complete first)",
    },
    "report_sites": {"zh": "建议新增选址", "en": "Proposed sites"},
    "report_parameters": {"zh": "参数与数据来源", "en": "Parameters and data sources"},
    "report_sources": {"zh": "数据来源", "en": "Data sources"},
    "report_method": {
        "zh": "方法：按步行路网距离（非直线缓冲区）判断覆盖；覆盖率按人口加权。",
        "en": "Method: coverage judged by walking network distance (not straight-line buffers); "
        "rates are population-weighted.",
    },
    "report_legend": {"zh": "图例", "en": "Legend"},
    "report_continued": {"zh": "{title}（续）", "en": "{title} (continued)"},
    # code-written ``source`` values of facilities and candidate sites
    "source_generated": {"zh": "自动生成候选点", "en": "generated candidate"},
    "source_candidates": {"zh": "候选点文件", "en": "candidate file"},
    "source_osm": {"zh": "OpenStreetMap", "en": "OpenStreetMap"},
    "source_demo": {"zh": "示范数据", "en": "demo data"},
    "source_edit": {"zh": "手动添加", "en": "added by hand"},
    "legend_gap_classes": {"zh": "缺口未覆盖居民（人）", "en": "Gap: uncovered residents"},
    "cjk_font_missing": {
        "zh": "未找到中文字体，图件使用英文标注",
        "en": "No CJK font found; the map image uses English labels",
    },
}


#: Per-category columns are ``<category key>_<field>`` (coverage.analysis adds them to the demand
#: frame, maps.export_tables to the per-community table); each gets a string built from the
#: taxonomy name and the field's own string, e.g. ``fitness_coverage_rate`` → "健身 · 人口覆盖率".
PER_CATEGORY_FIELDS: tuple[str, ...] = (
    "covered_population",
    "coverage_rate",
    "covered",
    "distance_m",
    "minutes",
    "facility_id",
    "facility_name",
    "euclid_m",
    "detour",
)


def _per_category(key: str) -> dict[str, str] | None:
    """The string of a ``<category>_<field>`` column, or None when ``key`` is not one."""
    for cat_key, cat in categories().items():
        field = key.removeprefix(f"{cat_key}_")
        if field != key and field in PER_CATEGORY_FIELDS:
            return {
                "zh": f"{cat.short_zh} · {STRINGS[field]['zh']}",
                "en": f"{cat.name_en} · {STRINGS[field]['en']}",
            }
    return None


def _add_per_category_strings() -> None:
    for cat_key in categories():
        for field in PER_CATEGORY_FIELDS:
            key = f"{cat_key}_{field}"
            entry = _per_category(key)
            if key not in STRINGS and entry is not None:
                STRINGS[key] = entry


def t(key: str, lang: str = "zh", /, **fields: Any) -> str:
    """Return the string ``key`` in ``lang``, formatted with ``fields``.

    Parameters
    ----------
    key
        A key of :data:`STRINGS`.
    lang
        ``"zh"`` or ``"en"``; anything else falls back to Chinese.
    **fields
        Values for ``str.format`` fields in the string (``t("site_label", "zh", n=1200)``).

    Returns
    -------
    str
        The text; the key itself (and a logged warning) when the key is unknown, so a missing
        string shows up on screen instead of crashing a page.
    """
    entry = STRINGS.get(key)
    if entry is None:
        # A category loaded after import (a custom taxonomy) still gets its column strings.
        entry = _per_category(key)
        if entry is not None:
            STRINGS[key] = entry
    if entry is None:
        logger.warning("i18n: no string for key %r", key)
        return key
    text = entry.get(lang) or entry.get("zh") or key
    return text.format(**fields) if fields else text


def criterion_column(summary: Any, lang: str) -> str:
    """The summary column holding criteria in ``lang`` (``criterion_en`` in English, if there)."""
    return "criterion_en" if lang == "en" and "criterion_en" in summary.columns else "criterion"


def category_name(key: str, lang: str = "zh") -> str:
    """Display name of a taxonomy category, or the key itself when it is not in the taxonomy."""
    cat = categories().get(key)
    return cat.name(lang) if cat is not None else str(key)


_add_per_category_strings()
