"""Interface strings of the app pages (Chinese first, English second).

``maps.i18n.t`` is the shared dictionary; these are the page-only strings it does not hold.
:func:`ui.widgets.tr` looks a key up in ``maps.i18n`` first and falls back to this table, so the
pages work whichever module defines a label.
"""

from __future__ import annotations

LABELS: dict[str, tuple[str, str]] = {
    # app and navigation
    "app.title": ("十五分钟生活圈设施覆盖评估", "15-minute living-circle coverage"),
    "app.language": ("语言 Language", "Language 语言"),
    "app.dataset": ("当前数据", "Current data"),
    "app.synthetic_badge": (
        "合成示范区：虚构数据，仅供演示",
        "Synthetic demo district: made-up data for demonstration only",
    ),
    "map.basemap": ("底图", "Basemap"),
    "page.data": ("数据", "Data"),
    "page.coverage": ("覆盖", "Coverage"),
    "page.gaps": ("缺口", "Gaps"),
    "page.sites": ("选址", "Sites"),
    "page.compare": ("方案比较", "Compare"),
    "page.export": ("导出", "Export"),
    "page.evaluation": ("评估", "Evaluation"),
    # evaluation page
    "eval.matrix": ("分级覆盖率（类别 × 生活圈层级）", "Coverage by tier (category × tier)"),
    "eval.no_tiers": ("所选类别没有生活圈层级。", "The chosen categories have no tiers."),
    "eval.subgroups": ("重点人群覆盖率", "Coverage of the elderly and children"),
    "eval.subgroups.note": (
        "按各类别的评价层级计算；“–”表示需求数据中没有该人群的人数。",
        "At each category's item tier; “–” means the demand data has no counts of that group.",
    ),
    "eval.compliance": ("社区达标情况", "Compliance by community"),
    "eval.n_compliant": ("达标社区", "Communities meeting the standard"),
    "eval.resident_share": ("达标社区居民占比", "Residents in compliant communities"),
    "eval.items": ("评价项（基础保障 + 品质提升）", "Items (basic + quality)"),
    "eval.no_communities": (
        "需求数据没有社区信息，无法按社区评价达标情况。",
        "The demand data has no communities, so compliance by community cannot be judged.",
    ),
    "eval.map_legend": (
        "绿色：达标；红色：不达标（基础保障类设施均在评价层级阈值内可达）。",
        "Green: meets the standard; red: does not (every basic item reachable at its tier).",
    ),
    "eval.least_served": (
        "最欠缺的社区及缺少的设施",
        "Least-served communities and what they lack",
    ),
    "eval.supply": (
        "千人指标与目标（全区）",
        "Supply per 1000 residents against targets (district)",
    ),
    "eval.no_supply": ("没有供给数据。", "No supply figures."),
    "eval.supply.by_community": ("各社区千人指标", "Supply per 1000 residents by community"),
    # siting weight
    "sites.weight": ("需求权重", "Demand weight"),
    "sites.weight.population": ("未覆盖居民", "Uncovered residents"),
    "sites.weight.unmet_supply": ("未满足的供给", "Unmet supply"),
    "sites.weight.help": (
        "“未满足的供给”按每个居民点缺少的千人指标份额加权：可达供给越少，权重越大。"
        "无设施可达的居民点按全部居民计，因此最大覆盖模型的结果与“未覆盖居民”相同；"
        "在 p-中位和容量约束模型中，可达但供给不足的居民点也会被计入。",
        "“Unmet supply” weights each point by the share of its supply target it cannot reach. "
        "Points with no facility in reach weigh all their residents, so maximal covering gives "
        "the same sites as “uncovered residents”; p-median and capacitated models also count "
        "points in reach of too little supply.",
    ),
    "sites.weight.no_target": (
        "{name} 没有千人指标目标或容量数据，按未覆盖居民选址。",
        "{name} has no supply target or capacities; siting weighs uncovered residents.",
    ),
    # errors
    "error.unexpected": (
        "出现了意外错误（已记录在日志中）。请检查输入数据后重试；如仍失败，请把日志发给维护人员。",
        "Something unexpected went wrong (details are in the log). Check the input and try again; "
        "if it still fails, send the log to the maintainers.",
    ),
    "error.kind.ColumnNotFoundError": ("找不到所需的列", "A needed column was not found"),
    "error.kind.EncodingDetectionError": ("无法识别文件编码", "The file's encoding is unknown"),
    "error.kind.CoordinateError": ("坐标有误", "Coordinates are wrong"),
    "error.kind.GeometryError": ("几何图形无法读取", "Geometry cannot be read"),
    "error.kind.DuplicateIdError": ("编号重复", "Ids repeat"),
    "error.kind.CategoryError": ("设施类别无法识别", "Unknown facility category"),
    "error.kind.InputDataError": ("输入数据有误", "The input data has a problem"),
    "error.kind.NetworkFormatError": ("路网文件无法读取", "The network file cannot be read"),
    "error.kind.EmptyNetworkError": ("路网为空", "The network is empty"),
    "error.kind.OfflineError": ("无法联网获取数据", "Cannot reach the online source"),
    "error.kind.NetworkError": ("路网有误", "The network has a problem"),
    "error.kind.ConfigError": ("设置有误", "A setting is wrong"),
    "error.kind.SolverError": ("选址求解出错", "The siting solver failed"),
    "error.detail": ("{kind}。详细信息：{detail}", "{kind}: {detail}"),
    "error.missing_module": (
        "该功能所需的模块尚未安装或尚未完成：{module}",
        "A module this feature needs is not available yet: {module}",
    ),
    # data page
    "data.area": ("研究区域与路网", "Study area and street network"),
    "data.source": ("路网来源", "Network source"),
    "data.src.synthetic": (
        "合成示范区（内置，离线）",
        "Synthetic demo district (built in, offline)",
    ),
    "data.src.helsinki": ("赫尔辛基 OSM 示例（离线）", "Helsinki OSM demo (offline)"),
    "data.src.place": ("地名（需联网）", "Place name (needs internet)"),
    "data.src.upload": ("上传路网文件", "Upload a network file"),
    "data.load": ("载入", "Load"),
    "data.place": ("地名，例如：上海市徐汇区天平路街道", "Place name, e.g. Kamppi, Helsinki"),
    "data.network_file": (
        "路网文件（.osm、.osm.pbf、.graphml，或压缩的 SHP/GPKG 道路中心线 .zip/.gpkg）",
        "Network file (.osm, .osm.pbf, .graphml, or zipped SHP / GPKG centrelines .zip/.gpkg)",
    ),
    "data.mode": ("出行方式", "Travel mode"),
    "data.mode.walk": ("步行", "Walk"),
    "data.mode.bike": ("骑行", "Bike"),
    "data.loading": ("正在载入路网…", "Loading the network…"),
    "data.loading_facilities": ("正在读取并校验设施…", "Reading and checking the facilities…"),
    "data.loaded": ("已载入：{label}", "Loaded: {label}"),
    "data.summary": (
        "节点 {nodes:,} · 路段 {edges:,} · 设施 {facilities:,} · 需求点 {demand:,} · "
        "人口 {pop:,.0f}",
        "{nodes:,} nodes · {edges:,} edges · {facilities:,} facilities · "
        "{demand:,} demand points · {pop:,.0f} residents",
    ),
    "data.facilities": ("设施", "Facilities"),
    "data.facility_file": (
        "上传设施表（CSV / XLSX / GeoJSON / SHP.zip / GPKG）",
        "Upload facilities (CSV / XLSX / GeoJSON / zipped SHP / GPKG)",
    ),
    "data.rows": ("{n:,} 行", "{n:,} rows"),
    "data.preview": ("预览（前 20 行）", "Preview (first 20 rows)"),
    "data.mapping": ("列对应关系", "Column mapping"),
    "data.col.lon": ("经度列", "Longitude column"),
    "data.col.lat": ("纬度列", "Latitude column"),
    "data.col.name": ("名称列", "Name column"),
    "data.col.category": ("类别列", "Category column"),
    "data.col.capacity": ("容量列", "Capacity column"),
    "data.col.none": ("（无）", "(none)"),
    "data.crs": ("坐标系", "Coordinate system"),
    "data.crs.wgs84": ("WGS-84（GPS、天地图、OSM）", "WGS-84 (GPS, Tianditu, OSM)"),
    "data.crs.gcj02": ("GCJ-02（高德、腾讯）", "GCJ-02 (Amap, Tencent)"),
    "data.crs.bd09": ("BD-09（百度）", "BD-09 (Baidu)"),
    "data.category": ("设施类别", "Facility category"),
    "data.category.from_column": ("按类别列识别", "From the category column"),
    "data.category.from_names": ("按名称推断类别", "Inferred from the names"),
    "data.how": ("替换还是追加", "Replace or add"),
    "data.replace": ("替换全部现有设施", "Replace all existing facilities"),
    "data.replace_categories": (
        "替换文件中这些类别的设施（保留其他类别）",
        "Replace facilities of the file's categories (keep the others)",
    ),
    "data.clears_scenarios": (
        "应用新数据会清除已保存的方案和试算选址；需要保留请先在“方案比较”页导出方案文件。",
        "Applying new data clears the saved scenarios and trial sites; export them on the "
        "Compare page first to keep them.",
    ),
    "data.add": ("追加到现有设施", "Add to existing facilities"),
    "data.apply_facilities": ("使用这些设施", "Use these facilities"),
    "data.validation": ("校验报告", "Validation report"),
    "data.validation.summary": (
        "读取 {n_read} 行，可用 {n_ok} 行，拒绝 {n_rej} 行；编码 {encoding}；坐标系 {crs}",
        "Read {n_read} rows, {n_ok} usable, {n_rej} rejected; encoding {encoding}; CRS {crs}",
    ),
    "data.rejected": ("被拒绝的行", "Rejected rows"),
    "data.facilities_applied": ("已使用 {n} 个设施。", "Using {n} facilities."),
    "data.demand": ("需求（居民）", "Demand (residents)"),
    "data.demand.source": ("需求来源", "Demand source"),
    "data.demand.keep": ("保留当前需求点", "Keep the current demand points"),
    "data.demand.buildings": ("建筑 + 总人口", "Buildings with a total population"),
    "data.demand.table": ("小区/社区人口表", "Community table"),
    "data.demand.grid": ("均匀网格", "Regular grid"),
    "data.demand.file": ("上传文件", "Upload a file"),
    "data.demand.total": ("总人口", "Total population"),
    "data.total.help": (
        "载入路网后，先把这些人口按网格均匀分布在路网范围内作为临时需求；在下方“需求”中可改用"
        "建筑、社区人口表或网格。",
        "After loading the network, this many residents are first spread evenly on a grid over "
        "it as a stand-in demand; switch to buildings, a community table or a grid under Demand "
        "below.",
    ),
    "data.demand.cell": ("网格边长（米）", "Grid cell (metres)"),
    "data.demand.apply": ("使用该需求", "Use this demand"),
    "data.demand.applied": (
        "已使用 {n} 个需求点，共 {pop:,.0f} 人。",
        "Using {n} demand points, {pop:,.0f} residents.",
    ),
    "data.attribution": ("数据来源：{text}", "Data: {text}"),
    # coverage page
    "cov.categories": ("设施类别", "Categories"),
    "cov.criterion": ("覆盖标准", "Coverage criterion"),
    "cov.selected": ("已选 {n} / {total} 类", "{n} of {total} categories selected"),
    "cov.crit.default": ("按类别默认标准", "Category defaults"),
    # Minutes at the chosen speed: a walk, or a ride with the cycling profile.
    "cov.crit.minutes": ("出行时间", "Travel time"),
    "cov.crit.metres": ("路网距离", "Network distance"),
    "cov.minutes": ("分钟", "Minutes"),
    "cov.metres": ("米", "Metres"),
    "cov.profile": ("速度", "Speed profile"),
    "cov.computing": ("正在计算路网覆盖…", "Computing network coverage…"),
    "cov.kpi": ("覆盖指标", "Coverage indicators"),
    "cov.map_category": ("地图显示类别", "Category on the map"),
    "cov.no_categories": ("请至少选择一个类别。", "Pick at least one category."),
    "cov.unsnapped": (
        "{n} 个点距离路网超过容差，无法到达任何设施，计为未覆盖（见下表）。",
        "{n} points are farther from the network than the tolerance: they reach no facility and "
        "count as not covered (below).",
    ),
    "cov.rate": ("人口覆盖率", "Population coverage"),
    "cov.rate_reachable": ("有路网居民覆盖率", "Coverage of residents with a street"),
    "cov.off_network": ("远离路网人口", "Residents off the network"),
    "cov.off_network_warning": (
        "{share:.1%} 的居民（{pop:,.0f} 人）距最近道路超过 {tol:.0f} 米，计为未覆盖；"
        "有路网居民覆盖率不计这些居民。地图上以灰色圆点显示。请检查路网范围或人口坐标。",
        "{share:.1%} of residents ({pop:,.0f}) are more than {tol:.0f} m from any street and count "
        "as not covered; the rate of residents with a street leaves them out. The map shows them "
        "as grey dots. Check the network extent or the demand coordinates.",
    ),
    "cov.invalid": (
        "{name}：结果无效，覆盖率不可信。{status}",
        "{name}: the result is invalid, its rate cannot be trusted. {status}",
    ),
    "cov.status": ("结果状态", "Status"),
    "cov.covered": ("覆盖人口", "Covered residents"),
    "cov.uncovered": ("未覆盖人口", "Uncovered residents"),
    "cov.median": ("中位出行时间（分）", "Median time (min)"),
    "cov.p85": ("85% 出行时间（分）", "P85 time (min)"),
    "cov.buffer": ("直线缓冲覆盖率（对照）", "Straight-line buffer coverage (comparison)"),
    "cov.facilities": ("设施数", "Facilities"),
    "cov.category": ("类别", "Category"),
    "cov.criterion_col": ("标准", "Criterion"),
    "cov.elderly_rate": ("老年人覆盖率", "Elderly coverage"),
    "cov.map": ("覆盖地图", "Coverage map"),
    "cov.buffer_note": (
        "直线缓冲会高估覆盖：河流、铁路和围墙让实际步行距离更长。",
        "Straight-line buffers overstate coverage: rivers, rail and walls make real walks longer.",
    ),
    # gaps
    "gaps.category": ("类别", "Category"),
    "gaps.none": ("该类别没有覆盖缺口。", "No coverage gaps for this category."),
    "gaps.list": (
        "缺口排序（点选一行，地图将定位到该缺口）",
        "Ranked gaps (select a row to zoom the map)",
    ),
    "gaps.rank": ("排名", "Rank"),
    "gaps.uncovered": ("未覆盖人口", "Uncovered residents"),
    "gaps.elderly": ("未覆盖老年人", "Uncovered elderly"),
    "gaps.points": ("需求点", "Points"),
    "gaps.nearest": ("最近设施（米）", "Nearest facility (m)"),
    "gaps.communities": ("涉及社区", "Communities"),
    "gaps.area": ("面积（公顷）", "Area (ha)"),
    "gaps.selected": (
        "已定位到缺口 {rank}：{pop:,.0f} 人未覆盖",
        "Gap {rank}: {pop:,.0f} uncovered residents",
    ),
    # sites
    "sites.category": ("类别", "Category"),
    "sites.model": ("模型", "Model"),
    "sites.model.mclp": (
        "最大覆盖（MCLP）：新增 k 个点覆盖最多居民",
        "Maximal covering (MCLP): k sites, most residents",
    ),
    "sites.model.lscp": (
        "集合覆盖（LSCP）：达到目标的最少点数",
        "Set covering (LSCP): fewest sites for a target",
    ),
    "sites.model.pmedian": (
        "p-中位：k 个点使步行时间最短",
        "p-median: k sites, least walking time",
    ),
    "sites.model.capacitated": (
        "带容量覆盖：每点服务人数有上限",
        "Capacitated coverage: each site serves at most its capacity",
    ),
    "sites.k": ("新增点数 k", "Number of new sites k"),
    "sites.target": ("目标覆盖率", "Target coverage"),
    "sites.capacity": ("每个新点的容量（人）", "Capacity of each new site (residents)"),
    "sites.candidates": ("候选点", "Candidate sites"),
    "sites.cand.generate": ("自动生成（缺口内路网节点）", "Generate (street nodes in the gaps)"),
    "sites.cand.upload": ("上传候选点文件", "Upload candidate sites"),
    "sites.cand.both": ("两者都用", "Both"),
    "sites.cand_file": (
        "候选点文件（与设施表格式相同）",
        "Candidate file (same format as facilities)",
    ),
    "sites.run": ("计算选址", "Suggest sites"),
    "sites.running": ("正在求解选址模型…", "Solving the siting model…"),
    "sites.result": ("建议新增设施", "Proposed sites"),
    "sites.status": (
        "求解状态：{status}；方法：{method}；相对间隙：{gap}",
        "Status: {status}; method: {method}; gap: {gap}",
    ),
    "sites.curve": (
        "累计覆盖率曲线（新增点数 → 覆盖率）",
        "Cumulative coverage (sites added → coverage)",
    ),
    "sites.curve.k": ("新增点数", "Sites added"),
    "sites.curve.rate": ("人口覆盖率 %", "Population coverage %"),
    "sites.curve.covered": ("覆盖人口", "Residents covered"),
    "sites.curve.method": ("求解方式", "How it was found"),
    "sites.curve.existing": ("现状", "existing facilities"),
    "sites.curve.greedy": ("贪心（逐个加点）", "greedy (one site at a time)"),
    "sites.curve.exact": ("精确最优", "exact optimum"),
    "sites.curve.limited": ("精确求解（达到时限）", "exact solve (time limit)"),
    "sites.curve.note": (
        "每个点数取已知最好的方案：能精确求解时为最优解，否则为贪心解。",
        "For each number of sites, the best known plan: the exact optimum where it was solved, "
        "else the greedy one.",
    ),
    "sites.msg.proposed": (
        "建议新增 {n} 处设施，新增覆盖 {pop:,.0f} 人。",
        "{n} sites proposed, newly covering {pop:,.0f} residents.",
    ),
    "sites.msg.pmedian": (
        "建议新增 {n} 处设施，居民步行时间共节省 {minutes:,.0f} 人·分钟。",
        "{n} sites proposed, saving residents {minutes:,.0f} person-minutes of walking.",
    ),
    "sites.msg.short": (
        "要求 {k} 处，但只有 {n} 处能{what}；其余的不会带来任何改善，因此未列出。",
        "Only {n} of the {k} requested sites {what}; the others would add no one, so they are "
        "not proposed.",
    ),
    "sites.msg.what.add": ("新增覆盖人口", "add anyone"),
    "sites.msg.what.shorten": ("缩短居民步行时间", "shorten anyone's walk"),
    "sites.msg.what.serve": ("服务到居民", "serve anyone"),
    "sites.msg.lscp": (
        "需新增 {n} 处设施才能达到目标（可达居民的 {target:.0%}）；新增后人口覆盖率为 {rate:.1%}。",
        "{n} new sites reach the target ({target:.0%} of the residents that can be reached); "
        "population coverage after them: {rate:.1%}.",
    ),
    "sites.msg.lscp_none": (
        "现有设施已达到目标覆盖率，无需新增设施。",
        "Existing facilities already reach the target; no new site is needed.",
    ),
    "sites.msg.none": (
        "没有候选点能新增覆盖（已无未覆盖居民，或没有可用候选点）。",
        "No candidate site could add anyone (nobody is uncovered, or there are no candidates).",
    ),
    "sites.msg.unreachable": (
        "{n} 个需求点（{pop:,.0f} 人）离所有候选点和现有设施都超出服务范围。",
        "{n} demand points ({pop:,.0f} residents) are out of reach of every candidate and "
        "existing facility.",
    ),
    "sites.msg.dropped": (
        "{n} 个候选点离最近道路超过 {m:,.0f} 米，未参与计算。",
        "{n} candidates are farther than {m:,.0f} m from any street and were not considered.",
    ),
    "sites.msg.no_capacity": (
        "候选点都没有容量数据，容量约束覆盖与最大覆盖结果相同。",
        "No candidate has a capacity, so capacitated covering equals maximal covering.",
    ),
    "sites.st.optimal": ("最优", "optimal"),
    "sites.st.time-limit": ("达到时限", "time limit reached"),
    "sites.st.greedy-fallback": ("启发式结果", "heuristic fallback"),
    "sites.st.trivial": ("无需求解（有用候选点不多于 k）", "trivial (every useful candidate fits)"),
    "sites.st.no candidates": ("无候选点", "no candidates"),
    "sites.method.HiGHS MILP": ("HiGHS 整数规划", "HiGHS MILP"),
    "sites.method.greedy": ("贪心", "greedy"),
    "sites.method.greedy + interchange": ("贪心 + 交换改进", "greedy + interchange"),
    "sites.method.Lagrangian": ("拉格朗日界", "Lagrangian bound"),
    "sites.method.Lagrangian bound": ("拉格朗日界", "Lagrangian bound"),
    "sites.method.all useful candidates": ("全部有用候选点", "all useful candidates"),
    "sites.added": ("+{n:,.0f} 人", "+{n:,.0f} residents"),
    "sites.trial_name": ("试加点 {i}", "Trial site {i}"),
    "widget.choose": ("请选择", "Choose"),
    "sites.click_hint": (
        "在地图上点击任意位置即可试加一个设施，立即看到覆盖变化。",
        "Click anywhere on the map to try a new facility there and see the effect at once.",
    ),
    "sites.whatif": ("试加设施的效果", "Effect of the trial facilities"),
    "sites.whatif.remove": ("试关闭现有设施（可多选）", "Try closing existing facilities"),
    "sites.whatif.clear": ("清除试加设施", "Clear trial facilities"),
    "sites.whatif.save": ("保存为方案", "Save as a scenario"),
    "sites.save_proposed": ("把建议点保存为方案", "Save the proposed sites as a scenario"),
    "sites.scenario_name": ("方案名称", "Scenario name"),
    "sites.saved": ("已保存方案「{name}」。", "Saved scenario “{name}”."),
    "sites.rank": ("序号", "Rank"),
    "sites.lon": ("经度", "Longitude"),
    "sites.lat": ("纬度", "Latitude"),
    "sites.gain": ("新增覆盖人口", "Residents newly covered"),
    "sites.gain_elderly": ("新增覆盖老年人", "Elderly newly covered"),
    "sites.minutes_saved": ("节省步行时间（人·分钟）", "Walking time saved (person-minutes)"),
    # compare
    "cmp.none": (
        "还没有方案。请在「选址」页保存建议点或试加的设施。",
        "No scenarios yet. Save proposed or trial sites on the Sites page.",
    ),
    "cmp.pick": ("比较的方案", "Scenarios to compare"),
    "data.place_empty": (
        "请先输入地名，例如“瑶海区, 合肥市”。",
        "Type a place name first, e.g. “Yaohai District, Hefei”.",
    ),
    "rej.row": ("行号", "Row"),
    "rej.column": ("列", "Column"),
    "rej.value": ("取值", "Value"),
    "rej.reason": ("原因", "Reason"),
    "cov.unsnapped.kind": ("类型", "Kind"),
    "cov.unsnapped.kind.facility": ("设施", "Facility"),
    "cov.unsnapped.kind.demand": ("需求点", "Demand point"),
    "cov.unsnapped.id": ("编号", "Id"),
    "cov.unsnapped.name": ("名称", "Name"),
    "cov.unsnapped.distance": ("到最近道路（米）", "To the nearest street (m)"),
    "cov.profile.help": (
        "步行时间标准按所选速度把分钟换算成路网距离；路网距离标准与速度无关。",
        "Walking-time criteria turn minutes into network distance at this speed; a distance "
        "criterion does not depend on speed.",
    ),
    "sites.proposed_name": ("建议点 {i}", "Proposed site {i}"),
    "sites.scenario_from_run": ("{model} 新增 {k} 处", "{model}: {k} new sites"),
    "sites.scenario_default": ("方案 {n}", "Scenario {n}"),
    "sites.whatif_default": ("试算方案", "What-if"),
    "cmp.pick_one": (
        "请至少选择一个方案进行比较。",
        "Pick at least one scenario to compare.",
    ),
    "cmp.table": ("各类别覆盖变化", "Coverage change per category"),
    "cmp.areas": ("新增覆盖 / 失去覆盖区域", "Newly covered / lost areas"),
    "cmp.baseline": ("现状", "Baseline"),
    "cmp.scenario": ("方案", "Scenario"),
    "cmp.download": ("下载方案文件（JSON）", "Download the scenarios (JSON)"),
    "cmp.upload": ("载入方案文件（JSON）", "Load scenarios (JSON)"),
    "cmp.loaded": ("已载入方案：{names}", "Loaded scenarios: {names}"),
    "cmp.facilities": ("设施数", "Facilities"),
    "cmp.before": ("现状覆盖率 %", "Coverage before %"),
    "cmp.after": ("方案覆盖率 %", "Coverage after %"),
    "cmp.delta": ("变化（百分点）", "Change (points)"),
    "cmp.median_before": ("现状中位时间（分）", "Median before (min)"),
    "cmp.median_after": ("方案中位时间（分）", "Median after (min)"),
    "cmp.gained": ("新增覆盖人口", "Newly covered residents"),
    "cmp.lost": ("失去覆盖人口", "Residents losing coverage"),
    "cmp.delete": ("删除方案", "Delete scenario"),
    # export
    "exp.title": ("报告标题", "Report title"),
    "exp.html": ("离线 HTML 地图", "Standalone HTML map"),
    "exp.png": ("PNG 地图图片", "PNG map image"),
    "exp.xlsx": ("Excel 汇总表", "Excel tables"),
    "exp.gpkg": ("GeoPackage 图层", "GeoPackage layers"),
    "exp.pdf": ("PDF 报告", "PDF report"),
    "exp.pptx": ("PPTX 演示文稿", "PPTX slides"),
    "exp.prepare": ("生成导出文件", "Prepare the files"),
    "exp.preparing": ("正在生成 {what}…", "Preparing {what}…"),
    "exp.ready": ("文件已生成，点击下载。", "Files are ready to download."),
    "exp.failed": ("{what} 生成失败：{error}", "{what} failed: {error}"),
}


def label(key: str, lang: str) -> str | None:
    """Return the page string for ``key`` in ``lang`` ("zh" or "en"), or None when unknown."""
    pair = LABELS.get(key)
    if pair is None:
        return None
    return pair[1] if lang == "en" else pair[0]
