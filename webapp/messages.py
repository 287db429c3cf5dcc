"""Messages of the core, domain and store shown on pages, in the page's language.

The engine and the store speak English (``"building(s) B1 not adjacent to
grid 340705001001002"``, ``"superseded by grid version 2"``) and stay free
of UI text. Pages show them through :func:`translate`: each known message
shape is matched by a pattern and rendered from its Chinese template, or
from its English one when the page is English. A message of no known shape
is shown as it came (English), never dropped. Patrol anomaly codes
(``jumps,mostly_outside``) become labels through :func:`anomaly_labels`.
"""

from __future__ import annotations

import re

from webapp.i18n import current_language

#: (pattern, Chinese template, English template); groups fill ``{0}``, ``{1}``...
#: English templates restate the message so the same words are used everywhere.
PATTERNS: list[tuple[re.Pattern, str, str]] = [
    (re.compile(p), zh, en)
    for p, zh, en in [
        # building moves (gridmgmt.core.rebalance.manual, gridmgmt.domain.rebalancing)
        (
            r"^(?:move: )?building\(s\) (.+) not adjacent to grid (\S+)$",
            "建筑 {0} 与网格 {1} 不相邻",
            "building(s) {0} not adjacent to grid {1}",
        ),
        (
            r"^move: building\(s\) (.+) are not in (.+)$",
            "建筑 {0} 不在{1}",
            "building(s) {0} are not in {1}",
        ),
        (
            r"^(move|split): grid (\S*) is not a current grid of (.+)$",
            "网格 {1} 不是{2}的当前网格",
            "grid {1} is not a current grid of {2}",
        ),
        (
            r"^move: choose at least one building$",
            "请至少选择一栋建筑",
            "choose at least one building",
        ),
        (
            r"^move: choose the grid to move into on the map$",
            "请在地图上选择要移入的网格",
            "choose the grid to move into on the map",
        ),
        (r"^no buildings to move$", "请至少选择一栋建筑", "choose at least one building"),
        (r"^unknown building id\(s\): (.+)$", "未知建筑编号：{0}", "unknown building id(s): {0}"),
        (r"^unknown grid code (\S*)$", "未知网格编码 {0}", "unknown grid code {0}"),
        (r"^grid (\S+) is locked$", "网格 {0} 已锁定", "grid {0} is locked"),
        (
            r"^the buildings are already in grid (\S+)$",
            "所选建筑已在网格 {0} 中",
            "the buildings are already in grid {0}",
        ),
        (
            r"^grid (\S+) has fewer than two buildings: nothing to split$",
            "网格 {0} 少于两栋建筑，无法拆分",
            "grid {0} has fewer than two buildings: nothing to split",
        ),
        (
            r"^grid (\S+) cannot be split: its buildings form one atom$",
            "网格 {0} 无法拆分：其建筑不可再分",
            "grid {0} cannot be split: its buildings form one atom",
        ),
        (
            r"^merge: choose two or more current grids of (.+), got (.*)$",
            "请选择{0}的两个或更多当前网格",
            "choose two or more current grids of {0}",
        ),
        (
            r"^a merge needs at least two grid codes$",
            "合并至少需要两个网格",
            "a merge needs at least two grid codes",
        ),
        (
            r"^cannot merge grids of different kinds \((.+)\)$",
            "不能合并不同类型的网格（{0}）",
            "cannot merge grids of different kinds ({0})",
        ),
        (
            r"^grids not adjacent: (.+) do not border (\S+)$",
            "网格不相邻：{0} 与 {1} 没有共同边界",
            "grids not adjacent: {0} do not border {1}",
        ),
        # violations of a draft (gridmgmt.core.rebalance.assemble)
        (
            r"^(\S+): (\d+) households, below the band (\d+)–(\d+)$",
            "{0}：{1} 户，低于范围 {2}–{3}",
            "{0}: {1} households, below the band {2}–{3}",
        ),
        (
            r"^(\S+): (\d+) households, above the band (\d+)–(\d+)$",
            "{0}：{1} 户，高于范围 {2}–{3}",
            "{0}: {1} households, above the band {2}–{3}",
        ),
        (
            r"^(\S+): not contiguous \((\d+) parts\)$",
            "{0}：不连通（{1} 块）",
            "{0}: not contiguous ({1} parts)",
        ),
        (
            r"^compound (.+) split between grids (.+)$",
            "小区 {0} 被拆分到网格 {1}",
            "compound {0} split between grids {1}",
        ),
        # what a change says about itself (report lines, summaries)
        (
            r"^manual: (\d+) building\(s\), (\d+) households, moved to (\S+) from (.+)$",
            "手动：{0} 栋建筑、{1} 户由 {3} 移入 {2}",
            "manual: {0} building(s), {1} households, moved to {2} from {3}",
        ),
        (
            r"^manual: (\S+) \((\d+) households\) split into (\d+) \+ (\d+)$",
            "手动：{0}（{1} 户）拆分为 {2} + {3} 户",
            "manual: {0} ({1} households) split into {2} + {3}",
        ),
        (
            r"^manual: (.+) merged into (\S+) \((\d+) households\)$",
            "手动：{0} 合并为 {1}（{2} 户）",
            "manual: {0} merged into {1} ({2} households)",
        ),
        (
            r"^(auto|move|split|merge|rollback): (\d+) buildings, (\d+) households moved$",
            "{kind}：移动 {1} 栋建筑、{2} 户",
            "{0}: {1} buildings, {2} households moved",
        ),
        (
            r"^rollback of (.+) to grid version (\d+)$",
            "{0}回退到网格版本 {1}",
            "rollback of {0} to grid version {1}",
        ),
        # decisions (gridmgmt.store.proposals, gridmgmt.domain.rebalancing)
        (
            r"^superseded by grid version (\d+) \(proposal (\d+)\)$",
            "已被网格版本 {0} 取代（方案 #{1}）",
            "superseded by grid version {0} (proposal {1})",
        ),
        (
            r"^superseded by grid version (\d+)$",
            "已被网格版本 {0} 取代",
            "superseded by grid version {0}",
        ),
        (r"^restores version (\d+)$", "恢复网格版本 {0}", "restores version {0}"),
        (
            r"^grid proposal (\d+) was made on version (\d+) of 社区 (\S+), which is now at grid "
            r"version (\d+); make the change again on the new version$",
            "方案 #{0} 基于社区 {2} 的网格版本 {1}，该社区现为版本 {3}：请在新版本上重新调整",
            "proposal {0} was made on version {1} of 社区 {2}, which is now at grid version {3}; "
            "make the change again on the new version",
        ),
        (
            r"^grid proposal (\d+) is (\w+), not pending$",
            "方案 #{0} {status}，不是待审批",
            "proposal {0} is {1}, not pending",
        ),
        (
            r"^grid proposal (\d+) is (\w+); only superseded ones are redone$",
            "方案 #{0} {status}：只有已被取代的方案可以重做",
            "proposal {0} is {1}; only superseded ones are redone",
        ),
        (
            r"^grid proposal (\d+) moves buildings to several grids$",
            "方案 #{0} 把建筑移入多个网格，无法重做",
            "proposal {0} moves buildings to several grids",
        ),
        (
            r"^grid proposal (\d+) does not split one grid$",
            "方案 #{0} 不是拆分一个网格",
            "proposal {0} does not split one grid",
        ),
        (
            r"^a (\w+) proposal is not redone; roll back again instead$",
            "回退方案不能重做，请再次回退",
            "a {0} proposal is not redone; roll back again instead",
        ),
        (
            r"^社区 (.+) is now at grid version (\d+), not (\d+); reload the page$",
            "社区 {0} 现为网格版本 {1}（不是 {2}），请刷新页面",
            "社区 {0} is now at grid version {1}, not {2}; reload the page",
        ),
        (
            r"^社区 (.+) has no grid version before (\d+)$",
            "社区 {0} 在版本 {1} 之前没有网格版本",
            "社区 {0} has no grid version before {1}",
        ),
        (
            r"^社区 (.+): cannot roll back to version (\d+); earlier versions are (.+)$",
            "社区 {0} 不能回退到版本 {1}；更早的版本：{2}",
            "社区 {0}: cannot roll back to version {1}; earlier versions are {2}",
        ),
        (
            r"^社区 (.+) \((\d+)\) has no grids: run `gridmgmt partition --community` first$",
            "社区 {0}（{1}）还没有网格：请先运行 gridmgmt partition --community",
            "社区 {0} ({1}) has no grids: run `gridmgmt partition --community` first",
        ),
        (r"^no grid proposal (\d+)$", "没有方案 #{0}", "no grid proposal {0}"),
        (r"^expected a JSON object$", "请求应为 JSON 对象", "expected a JSON object"),
        (
            r"^op must be one of (.+)$",
            "操作必须是 {0} 之一",
            "op must be one of {0}",
        ),
    ]
]

#: proposal kinds and statuses named inside messages
KINDS = {"auto": "自动", "move": "移动", "split": "拆分", "merge": "合并", "rollback": "回退"}
STATUSES = {
    "pending": "待审批",
    "approved": "已批准",
    "rejected": "已驳回",
    "superseded": "已被取代",
}
#: patrol anomaly codes (gridmgmt.core.patrol.ANOMALIES) -> (中文, English)
ANOMALIES = {
    "jumps": ("轨迹跳变", "track jumps"),
    "long_stationary": ("长时间停留", "long stationary"),
    "mostly_outside": ("多在网格外", "mostly outside the grid"),
}


def translate(message: str | None, lang: str | None = None) -> str:
    """``message`` (English, from the core or store) in the page's language.

    Parameters
    ----------
    message : str or None
        The message as raised or stored; None gives "".
    lang : str, optional
        ``zh`` or ``en``; default the request's language.

    Returns
    -------
    str
        The Chinese rendering of a known message shape on Chinese pages; the
        message itself otherwise (unknown shapes are never dropped).
    """
    if not message:
        return ""
    text = str(message)
    lang = lang or current_language()
    for pattern, zh, en in PATTERNS:
        match = pattern.match(text)
        if match is None:
            continue
        groups = match.groups()
        if lang == "en":
            return en.format(*groups)
        first, second = (groups + ("", ""))[:2]
        return zh.format(
            *groups,
            kind=KINDS.get(first, first),
            status=STATUSES.get(second, second),
        )
    return text


def translate_lines(text: str | None, lang: str | None = None) -> str:
    """A multi-line report, each line translated (``! `` marks of violations kept)."""
    out = []
    for line in (text or "").splitlines():
        mark = "! " if line.startswith("! ") else ""
        out.append(mark + translate(line[len(mark) :], lang))
    return "\n".join(out)


def anomaly_labels(codes: str | list | tuple | None, lang: str | None = None) -> str:
    """``"jumps,mostly_outside"`` (or a list of codes) as labels: ``轨迹跳变、多在网格外``."""
    if not codes:
        return ""
    items = codes.split(",") if isinstance(codes, str) else list(codes)
    english = (lang or current_language()) == "en"
    labels = [
        ANOMALIES[c.strip()][1 if english else 0] if c.strip() in ANOMALIES else c.strip()
        for c in items
        if c.strip()
    ]
    return (", " if english else "、").join(labels)


def init_app(app) -> None:
    """Register the ``translate`` and ``anomalies`` template filters."""
    app.jinja_env.filters["translate"] = translate
    app.jinja_env.filters["anomalies"] = anomaly_labels
