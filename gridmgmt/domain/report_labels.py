"""Chinese headers (with English) for the columns of reports and exports.

Spreadsheets for offices get Chinese headers; GIS formats keep the English
field names (a Shapefile allows 10 characters), documented here.
"""

from __future__ import annotations

from functools import lru_cache

#: levels a 考核 table groups incidents by
LEVELS = ("street", "community", "grid", "worker", "department")
#: the columns of the workload table shown in reports (CLI and web page alike)
WORKLOAD_COLUMNS = (
    "code",
    "kind",
    "households",
    "population",
    "buildings",
    "facilities",
    "incidents",
    "incidents_per_1000",
    "overdue",
    "mean_handling_hours",
    "workload_index",
    "far_above_neighbours",
    "compliance",
    "mean_building_share",
    "diary_entries",
    "volunteers",
    "volunteer_report_rate",
)
#: the columns of the 考核 (KPI) table shown in reports (CLI and web page alike)
ASSESSMENT_COLUMNS = (
    "rank",
    "score",
    "score_change",
    "reported",
    "due",
    "closed",
    "close_rate",
    "on_time_rate",
    "rework_rate",
    "rated",
    "satisfaction_rate",
    "overdue",
    "mean_handling_hours",
)
#: the columns of the patrol report, in order (CLI and web page alike)
PATROL_REPORT_COLUMNS = (
    "code",
    "workers",
    "working_days",
    "patrol_days",
    "compliance",
    "patrols",
    "mean_building_share",
    "mean_road_share",
    "anomalies",
    "diary_entries",
    "incidents_on_patrol",
    "volunteers",
    "volunteer_report_rate",
)

FACILITY_LABELS = {
    "school": "中小学",
    "kindergarten": "幼儿园",
    "university": "高校",
    "hospital": "医院",
    "clinic": "卫生服务站",
    "market": "市场",
    "government": "机关单位",
    "police": "派出所",
    "park": "公园",
    "community_centre": "社区服务中心",
    "elderly_care": "养老机构",
    "sports": "体育设施",
    "culture": "文化设施",
    "property_management": "物业",
    "other": "其他设施",
}

LABELS = {
    # grids, buildings, facilities, incidents
    "code": "网格编码",
    "kind": "网格类型",
    "community_code": "社区编码",
    "grid_code": "网格编码",
    "flag": "标记",
    "version": "版本",
    "building_id": "建筑编号",
    "building_type": "建筑类型",
    "floors": "层数",
    "households_source": "户数来源",
    "households_confidence": "户数可信度",
    "addr_street": "路名",
    "addr_housenumber": "门牌号",
    "compound_id": "小区编号",
    "name": "名称",
    "facility_id": "设施编号",
    "category": "类别",
    "number": "事件编号",
    "source": "来源",
    "category_code": "事件类别",
    "description": "问题描述",
    "urgent": "紧急",
    "state": "状态",
    "reporter": "上报人",
    "department": "处置部门",
    "address": "地址",
    "created_at": "上报时间",
    "deadline_at": "处置期限",
    "n_buildings": "建筑数",
    # workload
    "households": "户数",
    "population": "人口",
    "buildings": "建筑数",
    "facilities": "设施数",
    "incidents": "事件数",
    "incidents_per_1000": "每千户事件数",
    "overdue": "超期数",
    "mean_handling_hours": "平均处置时长(h)",
    "workload_index": "工作量指数",
    "neighbour_index": "相邻网格平均指数",
    "far_above_neighbours": "远高于相邻网格",
    # patrols (gridmgmt.domain.patrols)
    "workers": "网格员",
    "working_days": "工作日",
    "patrol_days": "巡查天数",
    "compliance": "巡查达标率",
    "patrols": "巡查次数",
    "valid_patrols": "有效巡查",
    "mean_building_share": "平均建筑覆盖率",
    "mean_road_share": "平均道路覆盖率",
    "mean_duration_min": "平均时长(分钟)",
    "anomalies": "异常",
    "diary_entries": "民情日记",
    "incidents_on_patrol": "巡查发现事件",
    "patrolled": "已巡查",
    "day": "日期",
    "duration_min": "时长(分钟)",
    "length_m": "里程(米)",
    "inside_share": "网格内时间占比",
    "building_share": "建筑覆盖率",
    "road_share": "道路覆盖率",
    "jumps": "轨迹跳变",
    "stationary_min": "最长停留(分钟)",
    "started_at": "开始时间",
    "ended_at": "结束时间",
    # KPIs (gridmgmt.domain.incidents.kpi)
    "reported": "上报数",
    "registered": "立案数",
    "register_rate": "立案率",
    "due": "应结案数",
    "closed": "结案数",
    "close_rate": "结案率",
    "closed_on_time": "按期结案数",
    "on_time_rate": "按期结案率",
    "handled": "处置数",
    "reworked": "返工数",
    "rework_rate": "返工率",
    "suspended": "挂账数",
    "rated": "回访评价数",
    "satisfied": "满意数",
    "satisfaction_rate": "满意率",
    # 楼栋长/信息员 (gridmgmt.domain.volunteers)
    "volunteers": "信息员数",
    "volunteer_days": "应报人天",
    "volunteer_days_reported": "已报人天",
    "volunteer_report_rate": "信息员报告率",
    "score": "考核得分",
    "rank": "排名",
    "street": "街道",
    "community": "社区",
    "grid": "网格",
    "worker": "上报人",
    "all": "合计",
}
RATES = (
    "register_rate",
    "close_rate",
    "on_time_rate",
    "rework_rate",
    "satisfaction_rate",
    "volunteer_report_rate",
)


@lru_cache(maxsize=1)
def _names() -> tuple[dict, dict]:
    from gridmgmt.domain.incidents.categories import load_categories
    from gridmgmt.domain.incidents.workflow import load_workflow

    categories = {c.code: c.name for c in load_categories()}
    states = {k: s.label_zh for k, s in load_workflow().states.items()}
    return categories, states


def label(column: str) -> str:
    """The Chinese header of a report column (the column name itself when unknown)."""
    if column in LABELS:
        return LABELS[column]
    categories, states = _names()
    for suffix, base in (("_prev", "上期"), ("_change", "环比变化")):
        if column.endswith(suffix) and column[: -len(suffix)] in LABELS:
            return f"{LABELS[column[: -len(suffix)]]}({base})"
    if column.startswith("facilities_"):
        key = column.removeprefix("facilities_")
        return f"设施·{FACILITY_LABELS.get(key, key)}"
    if column.startswith("incidents_"):
        key = column.removeprefix("incidents_")
        return f"事件·{categories.get(key, key)}"
    if column.startswith("diary_"):
        return f"民情日记·{column.removeprefix('diary_')}"
    if column.startswith("state_"):
        key = column.removeprefix("state_")
        return f"状态·{states.get(key, key)}"
    return column
