// 巡查: record the phone's positions during a patrol. Fixes get a sequence number and wait in
// localStorage until the server has them, so a dropped connection loses nothing and a resent
// batch is stored once. The state survives a reload of the page.
(function () {
  "use strict";
  var t = window.tw;
  var KEY = "gridmgmt.patrol";
  var BATCH = 200, RETRY_MS = 5000;
  var csrf = document.querySelector("meta[name=csrf-token]").content;
  var card = document.getElementById("patrol-card");
  var startBtn = document.getElementById("start"), stopBtn = document.getElementById("stop");
  var statusEl = document.getElementById("patrol-status");
  var sentEl = document.getElementById("sent"), queuedEl = document.getElementById("queued");
  var onlineEl = document.getElementById("online-state"), measuresEl = document.getElementById("measures");
  var watch = null, sending = false;

  function load() {
    try { return JSON.parse(localStorage.getItem(KEY)) || null; } catch (e) { return null; }
  }
  function save(s) { if (s) localStorage.setItem(KEY, JSON.stringify(s)); else localStorage.removeItem(KEY); }
  var state = load();  // {id, seq, queue: [...], sent, stopping}

  // ---- map: own grids and the track so far ----
  var map = L.map("patrol-map", { preferCanvas: true, minZoom: 3, maxZoom: 20 }).setView([31, 117.8], 15);
  var bbox = JSON.parse(card.dataset.bbox || "null");
  if (bbox) map.fitBounds([[bbox[1], bbox[0]], [bbox[3], bbox[2]]]);
  var mine = JSON.parse(card.dataset.mine || "[]");
  var grids = L.geoJSON(null, { interactive: false, style: function (f) {
    return mine.indexOf(f.properties.code) >= 0 ? { color: "#8e1b12", weight: 2, fillOpacity: 0.1 }
      : { color: "#9aa0a6", weight: 1, fillOpacity: 0.05, dashArray: "4 3" }; } }).addTo(map);
  if (bbox) fetch("/api/v1/geo/grids?bbox=" + bbox.join(",") + "&zoom=16", { credentials: "same-origin" })
    .then(function (r) { return r.json(); }).then(function (fc) { grids.addData(fc); });
  var line = L.polyline([], { color: "#1565c0", weight: 4 }).addTo(map);

  function show() {
    queuedEl.textContent = state ? state.queue.length : 0;
    sentEl.textContent = state ? state.sent : 0;
    onlineEl.textContent = navigator.onLine ? t("在线") : t("离线，位置暂存在手机上");
    startBtn.disabled = !!state; stopBtn.disabled = !state || state.stopping;
    if (state) statusEl.textContent = state.stopping ? t("正在结束巡查…") : t("巡查中");
  }

  function post(url, body) {
    return fetch(url, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body || {}) }).then(function (r) {
        return r.json().then(function (j) { if (!r.ok) throw new Error(j.error || r.status); return j; });
      });
  }

  // send what waits, a batch at a time; what fails stays queued for the next try
  function flush() {
    if (!state || sending || !state.queue.length) return Promise.resolve(state && finishIfAsked());
    sending = true;
    var batch = state.queue.slice(0, BATCH);
    return post("/api/v1/patrols/" + state.id + "/points", { points: batch }).then(function () {
      var done = {}; batch.forEach(function (p) { done[p.seq] = true; });
      state.queue = state.queue.filter(function (p) { return !done[p.seq]; });
      state.sent += batch.length; save(state); sending = false; show();
      return flush();
    }, function () { sending = false; show(); });
  }

  function finishIfAsked() {
    if (!state || !state.stopping || state.queue.length) return;
    return post("/api/v1/patrols/" + state.id + "/stop").then(function (j) {
      var m = j.measures || {};
      measuresEl.hidden = false;
      measuresEl.textContent = t("巡查已结束") + ": " + Math.round(m.duration_min || 0) + " " + t("分钟") + ", " +
        ((m.length_m || 0) / 1000).toFixed(2) + " km, " + t("网格内") + " " + Math.round((m.inside_share || 0) * 100) + "%, " +
        t("经过建筑") + " " + (m.buildings_passed || 0) + "/" + (m.buildings_total || 0) +
        (m.anomalies ? " · " + t("异常") + ": " + m.anomalies : "");
      measuresEl.dataset.points = m.points;
      if (watch !== null) navigator.geolocation.clearWatch(watch);
      watch = null; state = null; save(null); statusEl.textContent = t("未在巡查"); show();
    }, function () { show(); });
  }

  function record(pos) {
    if (!state || state.stopping) return;
    state.queue.push({ seq: state.seq++, t: new Date(pos.timestamp || Date.now()).toISOString(),
      lon: pos.coords.longitude, lat: pos.coords.latitude, accuracy: pos.coords.accuracy });
    save(state); line.addLatLng([pos.coords.latitude, pos.coords.longitude]); show();
    if (state.queue.length >= 5 || navigator.onLine) flush();
  }

  function track() {
    if (!navigator.geolocation) { statusEl.textContent = t("当前设备不支持定位"); return; }
    watch = navigator.geolocation.watchPosition(record, function () {
      statusEl.textContent = t("无法获取位置");
    }, { enableHighAccuracy: true, maximumAge: 0 });
  }

  startBtn.addEventListener("click", function () {
    startBtn.disabled = true;
    post("/api/v1/patrols").then(function (j) {
      state = { id: j.id, seq: 0, queue: [], sent: 0, stopping: false }; save(state); show(); track();
    }, function (e) { startBtn.disabled = false; statusEl.textContent = t("无法开始巡查") + ": " + e.message; });
  });
  stopBtn.addEventListener("click", function () {
    if (!state) return;
    state.stopping = true; save(state); show(); flush();
  });
  window.addEventListener("online", function () { show(); flush(); });
  window.addEventListener("offline", show);
  setInterval(flush, RETRY_MS);
  if (state) { track(); flush(); }  // a reload in the middle of a patrol carries on
  show();
  window.patrolPage = { state: function () { return state; }, flush: flush };
})();
