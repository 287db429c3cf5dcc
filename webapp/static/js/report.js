// 上报事件: location by GPS or a tap on the map, 大类 → 小类, photo, idempotent submission.
// Text from data goes into the page with textContent, never as HTML.
(function () {
  "use strict";
  var t = window.tw;
  var form = document.getElementById("report-form");
  var mapEl = document.getElementById("pick-map");
  var status = document.getElementById("status");
  var locText = document.getElementById("loc-text");
  var major = document.getElementById("major"), minor = document.getElementById("minor");
  var photo = document.getElementById("photo"), preview = document.getElementById("preview");
  var tree = JSON.parse(document.getElementById("categories").textContent);
  var point = null, marker = null;

  // ---- map: grid outlines for context, a tap places the marker ----
  var map = L.map(mapEl, { zoomControl: true, preferCanvas: true, minZoom: 3, maxZoom: 20, tap: true }).setView([31, 117.8], 15);
  map.createPane("pick").style.zIndex = 700;  // the chosen point stays above grid labels
  var mine = JSON.parse(mapEl.dataset.mine || "[]");  // a worker's own grids stand out
  var grids = L.geoJSON(null, { interactive: false,
    style: function (f) {
      var own = !mine.length || mine.indexOf(f.properties.code) >= 0;
      return own ? { color: "#8e1b12", weight: 2, fillColor: "#fde0dc", fillOpacity: 0.3 }
                 : { color: "#9aa0a6", weight: 1, fillColor: "#e9ecef", fillOpacity: 0.2, dashArray: "4 3" };
    } }).addTo(map);
  var buildings = L.geoJSON(null, { interactive: false,
    style: function () { return { color: "#777", weight: 0.6, fillColor: "#fff", fillOpacity: 0.8 }; } }).addTo(map);
  var labels = L.layerGroup().addTo(map);
  function ok(r) { if (!r.ok) throw new Error(r.status); return r.json(); }
  function load() {
    var b = map.getBounds();
    // codes come from data: a text node, never HTML
    function textNode(text) { var span = document.createElement("span"); span.textContent = text; return span; }
    var q = "?bbox=" + [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); }).join(",") + "&zoom=" + map.getZoom();
    fetch("/api/v1/geo/grids" + q, { credentials: "same-origin" }).then(ok).then(function (fc) {
      grids.clearLayers(); grids.addData(fc); labels.clearLayers();
      if (map.getZoom() >= 16) grids.eachLayer(function (l) {
        labels.addLayer(L.tooltip({ permanent: true, direction: "center", className: "gridlabel" })
          .setLatLng(l.getBounds().getCenter()).setContent(textNode(String(l.feature.properties.code).slice(-3))));
      });
    }).catch(function () { /* offline and not cached: the map keeps what it has */ });
    fetch("/api/v1/geo/buildings" + q, { credentials: "same-origin" }).then(ok).then(function (fc) {
      buildings.clearLayers(); buildings.addData(fc);
    }).catch(function () { /* offline and not cached: the map keeps what it has */ });
  }
  map.on("moveend", load);
  var bbox = JSON.parse(mapEl.dataset.bbox || "null");
  if (bbox) map.fitBounds([[bbox[1], bbox[0]], [bbox[3], bbox[2]]], { padding: [8, 8] }); else load();

  function setPoint(lon, lat, how) {
    point = [lon, lat];
    var ll = L.latLng(lat, lon);
    if (marker) marker.setLatLng(ll);
    else marker = L.circleMarker(ll, { pane: "pick", radius: 10, color: "#fff", weight: 3, fillColor: "#0b63c5", fillOpacity: 1 }).addTo(map);
    locText.textContent = t("已选位置") + " " + lon.toFixed(6) + ", " + lat.toFixed(6) + (how ? " (" + how + ")" : "");
    locText.className = "ok";
  }
  map.on("click", function (e) { setPoint(e.latlng.lng, e.latlng.lat, ""); });
  document.getElementById("gps").addEventListener("click", function () {
    if (!navigator.geolocation) { locText.textContent = t("当前设备不支持定位"); return; }
    locText.textContent = t("定位中…");
    navigator.geolocation.getCurrentPosition(function (pos) {
      setPoint(pos.coords.longitude, pos.coords.latitude, "GPS ±" + Math.round(pos.coords.accuracy) + "m");
      map.setView([pos.coords.latitude, pos.coords.longitude], Math.max(map.getZoom(), 17));
    }, function () { locText.textContent = t("无法获取位置"); }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
  });

  // ---- 大类 → 小类 ----
  function option(value, label) { var o = document.createElement("option"); o.value = value; o.textContent = label; return o; }
  tree.forEach(function (m) { major.appendChild(option(m.code, m.code + " " + m.name + " · " + m.family)); });
  // a grid worker on patrol photographs what the category asks for (the API checks it too)
  function needsPhoto(c) { return !!(c && c.photo && form.dataset.role === "worker"); }
  function selected() {
    var m = tree.filter(function (x) { return x.code === major.value; })[0];
    return m ? m.minors.filter(function (c) { return c.code === minor.value; })[0] : null;
  }
  major.addEventListener("change", function () {
    minor.textContent = "";
    var m = tree.filter(function (x) { return x.code === major.value; })[0];
    minor.appendChild(option("", m ? t("请选择") : t("请先选择大类")));
    if (m) m.minors.forEach(function (c) { minor.appendChild(option(c.code, c.code + " " + c.name)); });
    minor.disabled = !m;
    document.getElementById("photo-req").hidden = true;
  });
  minor.addEventListener("change", function () {
    var c = selected(); document.getElementById("photo-req").hidden = !needsPhoto(c);
  });
  photo.addEventListener("change", function () {
    var f = photo.files[0];
    if (f) { preview.src = URL.createObjectURL(f); preview.hidden = false; } else preview.hidden = true;
  });

  // ---- submission through the outbox: stored on the phone first, sent now or when the signal returns.
  // The photo and the report are two queued requests; the report names the photo by the id the
  // upload answers ("{{photo:KEY.id}}"), and carries one idempotency key, so a replay stores it once.
  function fail(msg) { status.textContent = msg; status.className = "status error"; }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var c = selected();
    var description = document.getElementById("description").value.trim();
    if (!point) return fail(t("请先选择位置"));
    if (!c) return fail(t("请选择小类"));
    if (!description) return fail(t("请填写问题描述"));
    var f = photo.files[0];
    if (needsPhoto(c) && !f) return fail(t("该类别需要现场照片"));
    var button = document.getElementById("submit"); button.disabled = true;
    status.className = "status"; status.textContent = t("正在提交…");
    var key = Outbox.newKey(), label = description.slice(0, 40);
    var stored = Promise.resolve();
    if (f) {
      stored = Outbox.enqueue({ url: "/api/v1/photos", fields: {}, files: [{ name: "photo", blob: f, filename: f.name }],
        saveAs: "photo:" + key, kind: "photo", label: label });
    }
    var report = {
      category_code: c.code, description: description, lon: point[0], lat: point[1],
      address: document.getElementById("address").value.trim() || null,
      urgent: document.getElementById("urgent").checked,
      photo_ids: f ? ["{{photo:" + key + ".id}}"] : []
    };
    stored.then(function () {
      return Outbox.submit({ url: "/api/v1/incidents", json: report, idempotencyKey: key, kind: "report", label: label });
    }).then(function (item) {
      if (item.status === "sent") done(item.result);
      else if (item.status === "refused") fail(t("提交失败") + ": " + item.reason);
      else queued(item, report);
    }).catch(function (e) {
      fail(t("无法保存到手机") + ": " + (e && e.message ? e.message : e));
    }).then(function () { button.disabled = false; });
  });

  function clearForm() {
    form.reset(); preview.hidden = true; minor.disabled = true; document.getElementById("photo-req").hidden = true;
  }
  // saved on the phone: shown in 我的上报 as 待发送 until the outbox has sent it
  function queued(item, report) {
    status.textContent = t("已保存在手机上，联网后自动发送（不会重复上报）"); status.className = "status ok";
    var list = document.getElementById("mine"), empty = document.getElementById("mine-empty");
    if (empty) empty.remove();
    var li = el("li", "item pending"); li.dataset.outboxId = item.id;
    li.appendChild(el("span", "pending-badge", t("待发送")));
    li.appendChild(el("div", "desc", report.description));
    list.insertBefore(li, list.firstChild);
    clearForm();
  }
  Outbox.onChange(function () {
    var pending = document.querySelectorAll("#mine li[data-outbox-id]");
    if (!pending.length) return;
    Outbox.list().then(function (items) {
      Array.prototype.forEach.call(pending, function (li) {
        var item = items.filter(function (i) { return String(i.id) === li.dataset.outboxId; })[0];
        if (!item || item.status === "queued") return;
        var badge = li.querySelector(".pending-badge");
        if (item.status === "sent" && item.result) {
          badge.textContent = item.result.number; badge.className = "num";
          li.appendChild(el("div", "meta", t("网格") + " " + (item.result.grid_code || t("待分配"))));
        } else { badge.textContent = t("被拒绝") + ": " + (item.reason || ""); badge.className = "badge error"; }
        li.removeAttribute("data-outbox-id");
      });
    });
  });

  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
  function done(inc) {
    status.textContent = ""; status.className = "status";
    var box = document.getElementById("result"); box.textContent = "";
    box.appendChild(el("h2", "ok", t("上报成功")));
    var num = el("p"); num.appendChild(el("span", "label", t("事件编号") + " ")); num.appendChild(el("b", "num", inc.number)); box.appendChild(num);
    var grid = el("p", "grid-line");
    if (inc.grid_code) { grid.appendChild(el("span", "label", t("所在网格") + " ")); grid.appendChild(el("b", "", inc.grid_code)); }
    else grid.appendChild(el("span", "badge unassigned", t("不在任何网格内，已进入待分配队列")));
    box.appendChild(grid);
    var link = el("a", "btn", t("查看详情")); link.href = "/cases/" + inc.id; box.appendChild(link);
    box.hidden = false;
    box.className = "card result " + (inc.grid_code ? "in-grid" : "unassigned");
    // the new report on top of 我的上报
    var list = document.getElementById("mine"), empty = document.getElementById("mine-empty");
    if (empty) empty.remove();
    var li = el("li", "item"); li.dataset.number = inc.number;
    var a = el("a"); a.href = "/cases/" + inc.id; a.appendChild(el("b", "num", inc.number)); li.appendChild(a);
    li.appendChild(el("span", "state s-reported", t("上报")));
    li.appendChild(el("div", "meta", t("网格") + " " + (inc.grid_code || t("待分配"))));
    li.appendChild(el("div", "desc", inc.description));
    list.insertBefore(li, list.firstChild);
    clearForm();
    box.scrollIntoView({ behavior: "smooth", block: "start" });
  }
  window.reportPage = { map: map, setPoint: setPoint };
})();
