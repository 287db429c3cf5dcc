// UI strings of the map scripts: Chinese by default, English when the page is English.
(function () {
  "use strict";
  var EN = {
    "区": "District", "街道": "Sub-district", "社区": "Community", "网格": "Grid",
    "网格编码": "Grid code", "类型": "Kind", "户数": "Households", "建筑数": "Buildings",
    "网格员": "Grid worker", "居民区网格": "Residential grid", "单位网格": "Unit grid",
    "待处理事件": "Open incidents", "超期事件": "Overdue incidents", "版本": "Version",
    "标记": "Flag", "无": "None", "未分配": "Unassigned", "关闭": "Close",
    "少于": "Fewer than", "多于": "More than", "户": "households",
    "放大查看建筑": "Zoom in to see buildings", "建筑": "Building", "设施": "Facility",
    "道路": "Road", "名称": "Name", "类别": "Category", "楼层": "Floors", "加载失败": "Failed to load",
    "事件": "Incident", "状态": "State", "超期": "Overdue", "是": "yes",
    // grid rebalancing
    "原网格": "From grid", "新网格": "To grid", "已选建筑": "Selected buildings",
    "已选网格": "Selected grids", "户数": "Households", "撤销": "retired", "方案": "Proposal",
    "无户数或连通性问题": "No household-band or contiguity problems", "检查中…": "Checking…",
    "点击两个相邻网格": "Click two adjacent grids", "点击要拆分的网格": "Click the grid to split",
    "点击要移动的建筑（或勾选“选中整个小区”后点击小区内任一建筑），再选择相邻网格":
      "Click the buildings to move (or tick “whole compound” and click any of its buildings), then choose an adjacent grid",
    "移动的建筑": "Moved buildings", "调整前": "Before", "调整后": "After", "超出范围": "out of band",
    "基于版本": "Based on version",
    "户改换网格员": "households change grid worker", "栋": "buildings", "批准": "Approve", "驳回": "Reject",
    "回退": "Roll back", "恢复网格版本": "Restores grid version", "，撤销版本": ", undoes version",
    "建筑按占地归入恢复版本的网格": "Buildings go to the restored grid holding most of their footprint",
    "将写入网格版本": "Will write grid version", "确认回退": "Roll back", "确认批准": "Approve", "确认驳回": "Reject",
    "该方案基于旧版本，批准时将被标记为已被取代": "This proposal is based on an older version: approving marks it superseded",
    "驳回后这些住户不改换网格员，不写入新的网格版本（仍为": "Rejected: these households keep their grid worker, no new grid version is written (stays", "）": ")",
    "查找相邻网格…": "Finding adjacent grids…", "在地图上选择": "Pick on the map",
    "点击地图上绿色虚线标出的相邻网格": "Click one of the adjacent grids outlined in dashed green on the map",
    "所选建筑没有可移入的相邻网格": "No adjacent grid can take the selected buildings",
    "矢量切片": "vector tiles",
    // hot spots
    "事件热点": "Incident hot spots", "事件率(每千户)": "Incidents per 1,000 households",
    "热点 (99%)": "Hot spot (99%)", "热点 (95%)": "Hot spot (95%)", "热点 (90%)": "Hot spot (90%)",
    "不显著": "Not significant", "冷点 (90%)": "Cold spot (90%)", "冷点 (95%)": "Cold spot (95%)",
    "冷点 (99%)": "Cold spot (99%)", "无住户": "No households", "近30天": "last 30 days"
  };
  var lang = (document.querySelector("[data-lang]") || document.body).dataset.lang || "zh";
  window.t = function (s) { return lang === "en" && EN[s] ? EN[s] : s; };
})();
