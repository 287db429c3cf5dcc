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
    "事件": "Incident", "状态": "State", "超期": "Overdue", "是": "yes"
  };
  var lang = (document.getElementById("map") || document.body).dataset.lang || "zh";
  window.t = function (s) { return lang === "en" && EN[s] ? EN[s] : s; };
})();
