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
    // hot spots (issue #9)
    "事件热点": "Incident hot spots", "事件率(每千户)": "Incidents per 1,000 households",
    "热点 (99%)": "Hot spot (99%)", "热点 (95%)": "Hot spot (95%)", "热点 (90%)": "Hot spot (90%)",
    "不显著": "Not significant", "冷点 (90%)": "Cold spot (90%)", "冷点 (95%)": "Cold spot (95%)",
    "冷点 (99%)": "Cold spot (99%)", "无住户": "No households"
  };
  var lang = (document.getElementById("map") || document.body).dataset.lang || "zh";
  window.t = function (s) { return lang === "en" && EN[s] ? EN[s] : s; };
})();
