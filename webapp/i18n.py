"""Chinese UI (zh-CN, the default) with English available.

Source strings in templates and code are the Chinese texts; ``_()`` returns
the English text when the request's language is English. The language
comes from ``?lang=zh|en`` (remembered in a cookie), then the cookie, then
the browser's Accept-Language, defaulting to Chinese. Times are shown in
Asia/Shanghai.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import g, request

from gridmgmt.core.periods import SHANGHAI
from webapp.resident_text import EN as RESIDENT_EN

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
COOKIE = "lang"

EN: dict[str, str] = {
    "网格化管理平台": "Grid Management Platform",
    "地图": "Map",
    "登录": "Log in",
    "退出": "Log out",
    "用户名": "Username",
    "密码": "Password",
    "用户名或密码错误": "Wrong username or password",
    "请先登录": "Please log in first",
    "登录尝试过多，请稍后再试": "Too many login attempts; try again later",
    "无权访问": "Access denied",
    "未找到": "Not found",
    "概览": "Overview",
    "责任网格": "Grids",
    "社区": "Community",
    "街道": "Sub-district",
    "区": "District",
    "建筑": "Buildings",
    "道路": "Roads",
    "设施": "Facilities",
    "事件": "Incidents",
    "户数": "Households",
    "建筑数": "Buildings",
    "网格编码": "Grid code",
    "类型": "Kind",
    "居民区网格": "Residential grid",
    "单位网格": "Unit grid",
    "网格员": "Grid worker",
    "待处理事件": "Open incidents",
    "超期事件": "Overdue incidents",
    "搜索网格编码、建筑或地址": "Search grid code, building or address",
    "按户数着色": "Colour by households",
    "按待处理事件着色": "Colour by open incidents",
    "图例": "Legend",
    "全部": "All",
    "语言": "Language",
    "标记": "Flag",
    "无": "None",
    "户": "households",
    # --- grid rebalancing: proposals, approval, history ---
    "网格调整": "Grid adjustment",
    "当前网格版本": "Current grid version",
    "户数范围": "Household band",
    "调整网格": "Adjust grids",
    "移动建筑": "Move buildings",
    "拆分网格": "Split grid",
    "合并网格": "Merge grids",
    "选择一种操作，然后在地图上点击建筑或网格": "Choose an operation, then click buildings or grids on the map",
    "选中整个小区": "Select the whole compound",
    "移入网格": "Move into grid",
    "保存为方案": "Save as proposal",
    "清除选择": "Clear selection",
    "自动平衡（生成方案）": "Auto-rebalance (as a proposal)",
    "不拆分小区（可能留有超出范围的网格）": "Keep compounds whole (grids may stay out of band)",
    "调整方案": "Proposals",
    "暂无方案": "No proposals yet",
    "状态": "Status",
    "提交人": "Author",
    "移动": "Moved",
    "栋": "buildings",
    "基于版本": "Based on version",
    "查看": "Show",
    "批准": "Approve",
    "驳回": "Reject",
    "自动": "Automatic",
    "拆分": "Split",
    "合并": "Merge",
    "回退": "Rollback",
    "待审批": "Pending",
    "已批准": "Approved",
    "已驳回": "Rejected",
    "已过期": "Superseded",
    "已被取代": "Superseded",
    "驳回理由（可选）": "Reason for rejecting (optional)",
    "取消": "Cancel",
    "版本历史": "Version history",
    "版本": "Version",
    "生效": "Valid",
    "网格数": "Grids",
    "来源": "Source",
    "当前": "current",
    "划分": "Partition",
    "回退到上一版本": "Roll back to the previous version",
    "打开": "Open",
    "已生成调整方案": "Proposal created",
    "无法批准": "Cannot approve",
    "已批准，新网格版本": "Approved; new grid version",
    "已驳回方案": "Rejected proposal",
    "已回退，新网格版本": "Rolled back; new grid version",
    "按当前版本重做": "Redo on the current version",
    "以下账号仍绑定已撤销的网格": "These accounts are still bound to the retired grid",
    "已按当前版本重做方案": "Proposal redone on the current version",
    # --- work pages: grid worker pages, dispatch desk, department page ---
    "上报事件": "Report incident",
    "我的任务": "My tasks",
    "调度台": "Dispatch desk",
    "部门处置": "Department cases",
    "位置": "Location",
    "使用当前位置": "Use my location",
    "点击地图选择事件位置": "Tap the map where the incident is",
    "大类": "Main category",
    "小类": "Sub-category",
    "请选择": "Choose",
    "请先选择大类": "Choose a main category first",
    "问题描述": "Description",
    "例如：小区东门垃圾堆放": "e.g. rubbish piled at the east gate",
    "地址": "Address",
    "紧急": "Urgent",
    "照片": "Photo",
    "现场照片": "On-site photo",
    "提交": "Submit",
    "我的上报": "My reports",
    "暂无上报": "No reports yet",
    "网格": "Grid",
    "待分配": "Unassigned",
    "待核查": "To verify",
    "期限": "Due",
    "说明": "Note",
    "（不通过时必填）": "(required when failing)",
    "核查通过": "Verification passed",
    "核查不通过": "Verification failed",
    "暂无待核查事件": "Nothing to verify",
    "待立案": "To register",
    "待派遣": "To dispatch",
    "延期申请": "Extension requests",
    "待结案": "To close",
    "全部在办": "All open",
    "超期": "Overdue",
    "临期": "Due soon",
    "类别": "Category",
    "部门": "Department",
    "从": "From",
    "至": "To",
    "筛选": "Filter",
    "清除": "Clear",
    "共": "Total",
    "件": "cases",
    "显示前": "showing first",
    "编号": "Number",
    "上报时间": "Reported at",
    "描述": "Description",
    "没有符合条件的事件": "No incidents match",
    "暂无待处置案件": "No cases to handle",
    "上报人": "Reporter",
    "处置部门": "Department",
    "操作": "Actions",
    "当前没有可执行的操作": "Nothing you can do at this stage",
    "办理记录": "History",
    "时间": "Time",
    "操作人": "By",
    "角色": "Role",
    "状态变化": "State change",
    "已完成": "Done",
    "操作未完成": "Not done",
    "照片不能超过 10 MB": "Photos must be at most 10 MB",
    "照片必须是 JPEG 或 PNG 图片": "Photos must be JPEG or PNG images",
    "该事件已被他人处理，请刷新后重试": "Someone else changed this incident; reload and try again",
    "系统管理员": "Administrator",
    "街道网格化管理中心": "Supervisor",
    "职能部门": "Department handler",
    "分析员": "Analyst",
    "处置时限": "Time to handle",
    # --- 调度台: time left, order, auto-refresh, 批量派遣 ---
    "剩余": "Due in",
    "小时": "h",
    "剩余/超期": "Time left",
    "排序": "Order",
    "每 30 秒自动刷新": "refreshes every 30 s",
    "件新事件，点击刷新": "new cases; click to reload",
    "自动刷新失败": "Auto-refresh failed",
    "批量派遣": "Dispatch selected",
    "件已选": "selected",
    "全选待派遣": "Select all to dispatch",
    "已派遣": "Dispatched",
    "未派遣": "Not dispatched",
    "请先勾选待派遣的事件": "Tick the cases to dispatch first",
    "请选择部门": "Choose a department",
    "当前状态不能派遣": "cannot be dispatched in its current state",
    "无权派遣": "not allowed to dispatch",
    "缺少必填项": "something required is missing",
    # --- report tables: 报表, workload, 考核, downloads ---
    "报表": "Reports",
    "考核层级": "Assessment level",
    "查询": "Show",
    "不含": "end excluded",
    "下载": "Downloads",
    "全部图层": "All layers",
    "考核指标": "Assessment KPIs",
    "工作量": "Workload",
    "网格工作量": "Workload per grid",
    "工作量指数": "Workload index",
    "权重": "weight",
    "指标": "measure",
    "区域平均": "area mean",
    "人口": "Population",
    "设施数": "Facilities",
    "事件数": "Incidents",
    "每千户事件数": "Incidents per 1,000 households",
    "超期数": "Overdue",
    "平均处置时长(h)": "Mean handling time (h)",
    "远高于相邻网格": "Far above neighbours",
    "相邻网格平均指数": "Neighbours' mean index",
    "是": "yes",
    "考核": "Assessment",
    "得分": "Score",
    "考核得分": "Score",
    "考核得分(环比变化)": "Score change",
    "排名": "Rank",
    "上报数": "Reported",
    "立案数": "Registered",
    "应结案数": "Due",
    "结案数": "Closed",
    "结案率": "Closed share",
    "按期结案率": "On-time share",
    "返工率": "Rework share",
    "环比：与上一等长周期比较": "Change: against the previous period of the same length",
    "该区域没有网格": "No grids in this area",
    "该时段没有事件": "No incidents in this period",
    "报表加载失败": "The report failed to load",
    "重试": "Retry",
    "正在计算工作量和考核报表…": "Computing the workload and assessment tables…",
    "显示报表": "Show the tables",
    "正在生成": "Making",
    "已下载": "Downloaded",
    "导出失败": "Export failed",
    # --- patrols: 巡查, 民情日记, patrol report ---
    "巡查": "Patrol",
    "巡查报表": "Patrol report",
    "开始巡查": "Start patrol",
    "结束巡查": "End patrol",
    "未在巡查": "Not patrolling",
    "个位置已上传": "positions sent",
    "个待上传": "waiting",
    "民情日记": "Residents' diary",
    "日期": "Date",
    "建筑编号（可选）": "Building id (optional)",
    "内容": "Text",
    "记入日记": "Add to diary",
    "近7天没有日记": "No diary entries in the last 7 days",
    "近7天巡查": "Patrols in the last 7 days",
    "已结束": "finished",
    "巡查中": "in progress",
    "分钟": "min",
    "暂无巡查": "No patrols yet",
    "没有网格": "No grids",
    "走访": "Visit",
    "调解": "Mediation",
    "宣传": "Publicity",
    "信息收集": "Information gathering",
    "应急": "Emergency",
    "其他": "Other",
    "工作日": "Working days",
    "巡查天数": "Patrol days",
    "巡查达标率": "Compliance",
    "巡查次数": "Patrols",
    "平均建筑覆盖率": "Mean building coverage",
    "平均道路覆盖率": "Mean road coverage",
    "异常": "Anomalies",
    "巡查发现事件": "Incidents found on patrol",
    # 房屋台账 on 走访 (webapp/household_visits.py), the supervisor's 户数变动
    "房屋台账": "Building ledger",
    "户数变动": "Household changes",
    "走访核实户数": "households confirmed on visits",
    "按地址或楼名查找": "Find by address or building name",
    "例如：长江路 12号 或 3号楼": "e.g. 长江路 12号 or 3号楼",
    "点击地图上的建筑打开台账": "Tap a building on the map to open its record",
    "（选填）": "(optional)",
    "（更正时必填）": "(required when correcting)",
    "例如：3单元新入住两户": "e.g. two new households in stairwell 3",
    "确认无误": "Confirm as is",
    "提交更正": "Submit correction",
    "核实记录": "Visit records",
    "走访核实的房屋台账": "building ledger confirmed on visits",
    "时间范围": "Period",
    "近": "last",
    "天": "days",
    "合计": "Total",
    "该网格已超出户数范围，请生成调整方案": "This grid left the household band: make a rebalance proposal",
    "生成调整方案": "Make a proposal",
    "打开网格调整": "Open grid adjustment",
    "确认": "confirmed",
    "这段时间没有走访核实的户数变动": "No household changes from visits in this period",
    "未找到该建筑": "No such building",
    "搜索内容过长": "Search text too long",
    "请求内容须为 JSON 对象或表单": "The request body must be a JSON object or a form",
    "只能确认本人网格内的建筑": "You can only confirm buildings in your own grids",
    "请填写户数": "Enter the households",
    "户数须为不小于 0 的整数": "Households must be a whole number of at least 0",
    "人口须为不小于 0 的整数": "Population must be a whole number of at least 0",
    "户数超出合理范围（0–5000）": "Households out of range (0–5000)",
    "人口超出合理范围（0–20000）": "Population out of range (0–20000)",
    "人口少于户数：每户至少一人": "Population below households: every household has at least one person",
    "更正户数或人口时请填写说明": "Add a note when correcting the counts",
    "说明须为文字": "The note must be text",
    "说明不超过 1000 字": "The note may have at most 1000 characters",
    "缺少幂等键（Idempotency-Key），请刷新页面后重试": "Missing Idempotency-Key; reload the page and try again",
    "幂等键不超过 100 个字符": "The idempotency key may have at most 100 characters",
    "该幂等键已用于另一次提交，请刷新页面后重试": "This idempotency key was used for another submission; reload and try again",
    # --- OGC API landing page (HTML) ---
    "网格化管理 OGC API – Features 数据服务": "Grid management OGC API – Features",
    "本平台的责任网格、建筑、设施和事件以 OGC API – Features 标准提供，可在 QGIS、GDAL/OGR、ArcGIS 等软件中直接加载。数据按您的账号权限提供。": "This platform serves its grids, buildings, facilities and incidents through the OGC API – Features standard: QGIS, GDAL/OGR, ArcGIS and others load them directly. You see what your account may see.",
    "如何连接": "How to connect",
    "服务地址": "Service address",
    "QGIS：图层 → 添加图层 → 添加 WFS / OGC API – Features 图层，新建连接并填入上面的地址。": "QGIS: Layer → Add Layer → Add WFS / OGC API – Features Layer, make a new connection with the address above.",
    "程序访问请在请求头中带上 X-API-Key（由管理员用 gridmgmt apikey add 创建）。": "Programs send an X-API-Key header (an administrator creates keys with gridmgmt apikey add).",
    "数据集": "Collections",
    "名称": "Name",
    "数据": "Data",
    "元数据": "Metadata",
    "要素": "Features",
    "链接": "Links",
    "本页 (JSON)": "This page (JSON)",
    "接口定义 (OpenAPI 3.0)": "API definition (OpenAPI 3.0)",
    "符合的标准类": "Conformance classes",
    "数据集列表 (JSON)": "Collections (JSON)",
    # error pages
    "请求有误": "Bad request",
    "不支持此操作": "Method not allowed",
    "数据已被他人修改": "Changed meanwhile by someone else",
    "上传内容过大": "Upload too large",
    "不支持的文件类型": "Unsupported file type",
    "请求过于频繁，请稍后再试": "Too many requests; try again later",
    "服务器出错": "Server error",
    "返回": "Back",
    "表单已失效，请刷新页面后重试": "The form has expired; reload the page and try again",
    # the worker's field app (offline outbox, bottom navigation, 我的上报 pages)
    "待发送": "Waiting to send",
    "上一页": "Previous",
    "下一页": "Next",
    "网格员导航": "Grid worker navigation",
    "上报": "Report",
    "任务": "Tasks",
    "房屋": "Buildings",
}


def current_language() -> str:
    """The request's language code (``zh`` or ``en``)."""
    if "lang" in g:
        return g.lang
    lang = request.args.get("lang") or request.cookies.get(COOKIE)
    if lang not in LANGUAGES:
        lang = request.accept_languages.best_match(["zh-CN", "zh", "en"], default="zh-CN")
        lang = "en" if lang and lang.startswith("en") else DEFAULT_LANGUAGE
    g.lang = lang
    return lang


EN.update({k: v for k, v in RESIDENT_EN.items() if k not in EN})


def gettext(text: str) -> str:
    """``text`` (Chinese) in the request's language."""
    if current_language() == "en":
        return EN.get(text, text)
    return text


def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Format an aware datetime in Asia/Shanghai (naive values are taken as UTC); "" for none.

    Tables from the store mark a missing time (a closed case without a
    deadline) as NaT, which is not None but not equal to itself either.
    """
    if value is None or value != value:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(SHANGHAI).strftime(fmt)


def init_app(app) -> None:
    """Register ``_``, ``lang`` and the ``localtime`` filter; remember ``?lang=``."""
    app.jinja_env.globals["_"] = gettext
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.filters["localtime"] = localtime

    @app.after_request
    def _remember_language(response):
        lang = request.args.get("lang")
        if lang in LANGUAGES:
            response.set_cookie(COOKIE, lang, max_age=365 * 86400, samesite="Lax")
        response.headers.setdefault(
            "Content-Language", "en" if current_language() == "en" else "zh-CN"
        )
        return response
