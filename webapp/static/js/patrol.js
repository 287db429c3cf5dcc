// 巡查 and 民情日记 on the phone, with or without signal.
// 开始巡查 goes through the outbox (static/js/outbox.js) with an idempotency key, so the patrol runs
// on the phone at once and the server learns of it when the signal allows. Fixes get a sequence
// number and wait in localStorage; they are handed to the outbox in batches (at once when online,
// by BATCH or at 结束巡查 when offline), addressed to "the patrol this start creates"
// ({{patrol:KEY.id}}), so the outbox replays them after the start, in order, and the server stores
// each seq once. 结束巡查 is queued the same way with the time it was tapped. Diary entries are
// queued with their own key: a replay writes one entry. The state survives a reload of the page.
(function () {
  "use strict";
  var t = window.tw;
  var KEY = "gridmgmt.patrol";
  var BATCH = 200, RETRY_MS = 5000;
  var card = document.getElementById("patrol-card");
  var startBtn = document.getElementById("start"), stopBtn = document.getElementById("stop");
  var statusEl = document.getElementById("patrol-status");
  var sentEl = document.getElementById("sent"), queuedEl = document.getElementById("queued");
  var onlineEl = document.getElementById("online-state"), measuresEl = document.getElementById("measures");
  var watch = null, moving = false;

  function load() {
    try { return JSON.parse(localStorage.getItem(KEY)) || null; } catch (e) { return null; }
  }
  function save(s) { if (s) localStorage.setItem(KEY, JSON.stringify(s)); else localStorage.removeItem(KEY); }
  var state = load();  // {key, id, seq, queue: [...], startedAt, stopping}
  if (state && !state.key) state = null;  // a patrol of the app before the outbox: nothing to resume

  // ---- map: own grids and the track so far ----
  var map = L.map("patrol-map", { preferCanvas: true, minZoom: 3, maxZoom: 20 }).setView([31, 117.8], 15);
  var bbox = JSON.parse(card.dataset.bbox || "null");
  if (bbox) map.fitBounds([[bbox[1], bbox[0]], [bbox[3], bbox[2]]]);
  var mine = JSON.parse(card.dataset.mine || "[]");
  var grids = L.geoJSON(null, { interactive: false, style: function (f) {
    return mine.indexOf(f.properties.code) >= 0 ? { color: "#8e1b12", weight: 2, fillOpacity: 0.1 }
      : { color: "#9aa0a6", weight: 1, fillOpacity: 0.05, dashArray: "4 3" }; } }).addTo(map);
  if (bbox) fetch("/api/v1/geo/grids?bbox=" + bbox.join(",") + "&zoom=16", { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
    .then(function (fc) { grids.addData(fc); }).catch(function () { /* offline, not cached yet */ });
  var line = L.polyline([], { color: "#1565c0", weight: 4 }).addTo(map);

  // counts: fixes sent, and waiting (on the page or in the outbox), of the current patrol
  function show() {
    onlineEl.textContent = navigator.onLine ? t("在线") : t("离线，位置暂存在手机上");
    startBtn.disabled = !!state; stopBtn.disabled = !state || !!state.stopping;
    if (state) statusEl.textContent = state.stopping ? t("正在结束巡查…") : t("巡查中");
    var local = state ? state.queue.length : 0;
    if (!state) { sentEl.textContent = 0; queuedEl.textContent = 0; return; }
    var prefix = "/api/v1/patrols/{{patrol:" + state.key + ".id}}/points";
    Outbox.list().then(function (items) {
      var sent = 0, waiting = local;
      items.forEach(function (i) {
        if (i.url !== prefix || !i.json) return;
        if (i.status === "sent") sent += i.json.points.length;
        else if (i.status === "queued") waiting += i.json.points.length;
      });
      sentEl.textContent = sent; queuedEl.textContent = waiting;
    });
  }

  // hand waiting fixes to the outbox: all of them when online or asked to, else full batches only
  function flush(force) {
    if (!state || moving || !state.queue.length) return Promise.resolve();
    if (!force && !navigator.onLine && state.queue.length < BATCH) return Promise.resolve();
    moving = true;
    var batch = state.queue.slice(0, BATCH), patrol = state;
    return Outbox.enqueue({
      url: "/api/v1/patrols/{{patrol:" + patrol.key + ".id}}/points", json: { points: batch },
      idempotencyKey: patrol.key + ":" + batch[0].seq, kind: "patrol-points",
      label: batch.length + " " + t("个位置")
    }).then(function () {
      var done = {}; batch.forEach(function (p) { done[p.seq] = true; });
      patrol.queue = patrol.queue.filter(function (p) { return !done[p.seq]; });
      if (state === patrol) save(state);
      moving = false; show();
      return flush(force);
    }, function (e) { moving = false; statusEl.textContent = t("无法保存到手机") + ": " + e.message; })
      .then(function () { return Outbox.drain(); });
  }

  function showMeasures(m) {
    measuresEl.hidden = false;
    measuresEl.textContent = t("巡查已结束") + ": " + Math.round(m.duration_min || 0) + " " + t("分钟") + ", " +
      ((m.length_m || 0) / 1000).toFixed(2) + " km, " + t("网格内") + " " + Math.round((m.inside_share || 0) * 100) + "%, " +
      t("经过建筑") + " " + (m.buildings_passed || 0) + "/" + (m.buildings_total || 0) +
      (m.anomalies ? " · " + t("异常") + ": " + (m.anomaly_labels || m.anomalies) : "");
    measuresEl.dataset.points = m.points;
  }

  function finish() {
    var patrol = state;
    return flush(true).then(function () {
      return Outbox.submit({
        url: "/api/v1/patrols/{{patrol:" + patrol.key + ".id}}/stop", json: { ended_at: patrol.stoppedAt },
        idempotencyKey: patrol.key + ":stop", kind: "patrol-stop", label: t("结束巡查")
      });
    }).then(function (item) {
      state = null; save(null); show();
      if (item.status === "sent") { statusEl.textContent = t("未在巡查"); showMeasures(item.result.measures || {}); }
      else if (item.status === "refused") statusEl.textContent = t("结束巡查失败") + ": " + item.reason;
      else statusEl.textContent = t("巡查已结束，结果待上传");
    });
  }

  function record(pos) {
    if (!state || state.stopping) return;
    state.queue.push({ seq: state.seq++, t: new Date(pos.timestamp || Date.now()).toISOString(),
      lon: pos.coords.longitude, lat: pos.coords.latitude, accuracy: pos.coords.accuracy });
    save(state); line.addLatLng([pos.coords.latitude, pos.coords.longitude]); show();
    flush(false);
  }

  function track() {
    if (!navigator.geolocation) { statusEl.textContent = t("当前设备不支持定位"); return; }
    watch = navigator.geolocation.watchPosition(record, function () {
      statusEl.textContent = t("无法获取位置");
    }, { enableHighAccuracy: true, maximumAge: 0 });
  }
  function untrack() { if (watch !== null) navigator.geolocation.clearWatch(watch); watch = null; }

  startBtn.addEventListener("click", function () {
    startBtn.disabled = true;
    var patrol = { key: Outbox.newKey(), id: null, seq: 0, queue: [], startedAt: new Date().toISOString(), stopping: false };
    state = patrol; save(state); show(); track();  // the patrol runs on the phone from now on
    Outbox.submit({ url: "/api/v1/patrols", json: { started_at: patrol.startedAt }, idempotencyKey: patrol.key,
      saveAs: "patrol:" + patrol.key, kind: "patrol-start", label: t("开始巡查") })
      .then(function (item) {
        if (item.status === "sent") { patrol.id = item.result.id; if (state === patrol) save(state); show(); }
        else if (item.status === "refused") {
          untrack(); state = null; save(null); show();
          statusEl.textContent = t("无法开始巡查") + ": " + item.reason;
        } else statusEl.textContent = t("巡查中") + " · " + t("离线，开始记录待发送");
      }, function (e) {
        untrack(); state = null; save(null); show(); statusEl.textContent = t("无法开始巡查") + ": " + e.message;
      });
  });
  stopBtn.addEventListener("click", function () {
    if (!state) return;
    untrack();
    state.stopping = true; state.stoppedAt = new Date().toISOString(); save(state); show();
    finish();
  });
  // the id of a patrol started offline, once the outbox has sent the start
  Outbox.onChange(function () {
    if (state && state.id === null) Outbox.list().then(function (items) {
      items.forEach(function (i) {
        if (state && i.kind === "patrol-start" && i.idempotencyKey === state.key && i.status === "sent") {
          state.id = i.result.id; save(state);
        }
      });
    });
    show();
  });
  window.addEventListener("online", function () { show(); flush(true); });
  window.addEventListener("offline", show);
  // the page goes to the background (screen off, another app, closed): the fixes go to the outbox,
  // where the service worker's Background Sync can send them without the page
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") flush(true); });
  setInterval(function () { if (navigator.onLine) flush(true); }, RETRY_MS);
  if (state && state.stopping) finish();  // closed while finishing: finish now
  else if (state) { track(); flush(false); }  // a reload in the middle of a patrol carries on
  show();

  // ---- 民情日记: through the outbox, so an entry written without signal is kept and sent once ----
  var diaryForm = document.getElementById("diary-form"), diaryStatus = document.getElementById("diary-status");
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
  diaryForm.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var fields = {};
    new FormData(diaryForm).forEach(function (v, k) { if (k !== "csrf_token") fields[k] = v; });
    if (!String(fields.text || "").trim()) { diaryStatus.textContent = t("请填写内容"); diaryStatus.className = "status error"; return; }
    var button = diaryForm.querySelector("button[type=submit]"); button.disabled = true;
    var label = fields.kind + " · " + String(fields.text).slice(0, 30);
    Outbox.submit({ url: diaryForm.getAttribute("action"), fields: fields, idempotencyKey: Outbox.newKey(), kind: "diary", label: label })
      .then(function (item) {
        if (item.status === "refused") { diaryStatus.textContent = t("未记入") + ": " + item.reason; diaryStatus.className = "status error"; return; }
        var list = document.getElementById("diary-list"), empty = list.querySelector(".empty");
        if (empty) empty.remove();
        var li = el("li", "item"); li.appendChild(el("b", "", fields.day));
        li.appendChild(document.createTextNode(" · " + t(fields.kind) + " · " + fields.grid_code + " "));
        if (item.status === "queued") li.appendChild(el("span", "pending-badge", t("待发送")));
        li.appendChild(el("div", "desc", fields.text));
        list.insertBefore(li, list.firstChild);
        diaryStatus.textContent = item.status === "sent" ? t("已记入民情日记") : t("已保存在手机上，联网后自动发送");
        diaryStatus.className = "status ok";
        diaryForm.querySelector("textarea[name=text]").value = "";
        diaryForm.querySelector("input[name=building_id]").value = "";
      }, function (e) { diaryStatus.textContent = t("无法保存到手机") + ": " + e.message; diaryStatus.className = "status error"; })
      .then(function () { button.disabled = false; });
  });
  window.patrolPage = { state: function () { return state; }, flush: flush };
})();
