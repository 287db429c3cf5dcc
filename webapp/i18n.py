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

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
COOKIE = "lang"
SHANGHAI = ZoneInfo("Asia/Shanghai")

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
    # --- grid rebalancing (issue #7): proposals, approval, history ---
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


def gettext(text: str) -> str:
    """``text`` (Chinese) in the request's language."""
    if current_language() == "en":
        return EN.get(text, text)
    return text


def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Format an aware datetime in Asia/Shanghai (naive values are taken as UTC)."""
    if value is None:
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
