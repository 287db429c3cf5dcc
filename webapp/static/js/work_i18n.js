// UI strings of the worker pages (report.js, patrol.js, outbox_ui.js): Chinese by default, English when the page is English.
(function () {
  "use strict";
  var EN = {
    "请选择": "Choose", "请先选择大类": "Choose a main category first", "定位中…": "Locating…",
    "无法获取位置": "Could not get the location", "已选位置": "Location", "请先选择位置": "Choose the location first",
    "请选择小类": "Choose a sub-category", "请填写问题描述": "Describe the problem", "该类别需要现场照片": "This category needs a photo",
    "正在上传照片…": "Uploading photo…", "正在提交…": "Submitting…", "提交失败": "Submission failed",
    "网络错误，请重试（不会重复上报）": "Network error; try again (it will not be reported twice)",
    "上报成功": "Reported", "事件编号": "Incident number", "所在网格": "Grid",
    "不在任何网格内，已进入待分配队列": "Outside every grid: sent to the unassigned queue",
    "查看详情": "Details", "上报": "Reported", "网格": "Grid", "待分配": "Unassigned", "继续上报": "Report another",
    "当前设备不支持定位": "This device cannot report its location",
    "在线": "online", "离线，位置暂存在手机上": "offline: positions wait on the phone",
    "正在结束巡查…": "Finishing the patrol…", "巡查中": "Patrolling", "巡查已结束": "Patrol finished",
    "分钟": "min", "网格内": "in own grids", "经过建筑": "buildings passed", "异常": "anomalies",
    "未在巡查": "Not patrolling", "无法开始巡查": "Could not start the patrol",
    "已保存在手机上，联网后自动发送（不会重复上报）": "Saved on the phone; sent when the signal returns (never twice)",
    "已保存在手机上，联网后自动发送": "Saved on the phone; sent when the signal returns",
    "无法保存到手机": "Could not save on the phone", "待发送": "waiting", "已发送": "sent", "被拒绝": "refused",
    "移除": "Remove", "正在发送…": "Sending…", "离线：联网后自动发送": "Offline: sent when the signal returns",
    "登录已失效：请重新登录，之后自动发送": "Logged out: log in again and it is sent",
    "上报事件": "Report", "照片": "Photo", "民情日记": "Diary", "开始巡查": "Patrol start",
    "巡查位置": "Patrol positions", "结束巡查": "Patrol end", "个位置": "positions",
    "结束巡查失败": "Could not finish the patrol", "巡查已结束，结果待上传": "Patrol finished; results wait to be sent",
    "离线，开始记录待发送": "offline, the start waits to be sent", "请填写内容": "Write the text",
    "未记入": "Not recorded", "已记入民情日记": "Recorded in the diary", "房屋台账": "Building ledger"
  };
  var lang = document.documentElement.lang === "en" ? "en" : "zh";
  window.tw = function (s) { return lang === "en" && EN[s] ? EN[s] : s; };
})();
