// 房屋台账 on 走访: open a building (tap on the map or search), confirm or correct its households.
// Submits through window.Outbox (the offline outbox, kind "household") when the page has it, else
// with fetch; every submission carries an Idempotency-Key, kept across retries of the same values
// and stored with a queued item, so a replay never writes twice. Text from data goes into the page with textContent, never as HTML.
(function () {
  "use strict";
  var EN = {
    "加载失败": "Could not load", "未找到": "Nothing found", "户": "households", "人": "people",
    "网格": "Grid", "请填写户数": "Enter the households", "更正户数或人口时请填写说明": "Add a note when correcting the counts",
    "人口少于户数：每户至少一人": "Population below households: every household has at least one person",
    "正在提交…": "Submitting…", "已记录": "Recorded", "已确认": "Confirmed", "户数": "Households", "人口": "Population",
    "合计": "total", "网络错误，请重试（不会重复记录）": "Network error; try again (it will not be recorded twice)",
    "提交失败": "Submission failed", "已存入待发送，恢复网络后自动提交": "Queued: it is sent when the connection returns",
    "暂无核实记录": "No visits recorded yet", "确认": "confirmed", "更正": "corrected", "巡查": "patrol",
    "此前已记录（未重复写入）": "Recorded before (not written twice)", "无地址": "no address", "未命名建筑": "Unnamed building",
    "不在任何网格内": "in no grid", "范围": "band", "离线：来源待联网后显示": "offline: source shown when online"
  };
  var lang = document.documentElement.lang === "en" ? "en" : "zh";
  function t(s) { return lang === "en" && EN[s] ? EN[s] : s; }
  var csrf = document.querySelector("meta[name=csrf-token]").content;
  var mapEl = document.getElementById("bmap");
  var band = JSON.parse(document.getElementById("visit-band").textContent);
  var card = document.getElementById("building-card");
  var form = document.getElementById("visit-form");
  var status = document.getElementById("v-status");
  var households = document.getElementById("v-households"), population = document.getElementById("v-population");
  var note = document.getElementById("v-note");
  var current = null, attempt = null;  // the open building; the last submitted values and their key

  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined && text !== null) e.textContent = text; return e; }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    });
  }
  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var a = new Uint8Array(16); crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }
  function when(iso) {
    if (!iso) return "";
    return new Date(iso).toLocaleString(lang === "en" ? "en-GB" : "zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
  }

  // ---- map: own grids strong, buildings tappable ----
  var map = L.map(mapEl, { zoomControl: true, preferCanvas: false, minZoom: 3, maxZoom: 20, tap: true }).setView([31, 117.8], 16);
  var mine = JSON.parse(mapEl.dataset.mine || "[]");
  var grids = L.geoJSON(null, { interactive: false, style: function (f) {
    var own = !mine.length || mine.indexOf(f.properties.code) >= 0;
    return own ? { color: "#8e1b12", weight: 2, fillColor: "#fde0dc", fillOpacity: 0.2 }
               : { color: "#9aa0a6", weight: 1, fillOpacity: 0.05, dashArray: "4 3" };
  } }).addTo(map);
  var buildings = L.geoJSON(null, {
    style: function (f) {
      var on = current && f.properties.building_id === current.building_id;
      return { color: on ? "#0b63c5" : "#555", weight: on ? 3 : 1, fillColor: on ? "#9ec5fe" : "#fff", fillOpacity: 0.85 };
    },
    onEachFeature: function (f, layer) {
      layer.on("click", function () { openBuilding(f.properties.building_id, f.properties); });
    }
  }).addTo(map);
  function load() {
    var b = map.getBounds();
    var q = "?bbox=" + [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); }).join(",") + "&zoom=" + map.getZoom();
    getJSON("/api/v1/geo/grids" + q).then(function (fc) { grids.clearLayers(); grids.addData(fc); }).catch(function () {});
    getJSON("/api/v1/geo/buildings" + q).then(function (fc) { buildings.clearLayers(); buildings.addData(fc); }).catch(function () {});
  }
  map.on("moveend", load);
  var bbox = JSON.parse(mapEl.dataset.bbox || "null");
  if (bbox) map.fitBounds([[bbox[1], bbox[0]], [bbox[3], bbox[2]]], { padding: [8, 8], maxZoom: 18 });
  if (map.getZoom() < 15) map.setZoom(15);
  load();

  // ---- search by address or name ----
  var search = document.getElementById("building-search"), results = document.getElementById("search-results");
  var timer = null;
  search.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var q = search.value.trim();
      results.textContent = "";
      if (!q) { results.hidden = true; return; }
      getJSON("/api/v1/buildings?q=" + encodeURIComponent(q)).then(function (found) {
        results.textContent = "";
        if (!found.length) results.appendChild(el("li", "empty muted", t("未找到")));
        found.forEach(function (b) {
          var li = el("li", "item");
          li.dataset.id = b.building_id;
          li.appendChild(el("b", "", b.name || t("未命名建筑")));
          li.appendChild(el("div", "meta", (b.address || t("无地址")) + " · " + b.households + " " + t("户")));
          li.addEventListener("click", function () { results.hidden = true; openBuilding(b.building_id); });
          results.appendChild(li);
        });
        results.hidden = false;
      }).catch(function () { results.appendChild(el("li", "empty muted", t("加载失败"))); results.hidden = false; });
    }, 250);
  });

  // ---- the building's card ----
  function show(b) {
    current = b; attempt = null;
    document.getElementById("b-name").textContent = b.name || t("未命名建筑");
    document.getElementById("b-address").textContent = b.address || t("无地址");
    document.getElementById("b-grid").textContent = b.grid_code || t("不在任何网格内");
    document.getElementById("b-id").textContent = b.building_id;
    document.getElementById("b-households").textContent = b.households;
    document.getElementById("b-population").textContent = b.population;
    document.getElementById("b-source").textContent = b.source_label;
    var conf = document.getElementById("b-confidence");
    conf.textContent = b.confidence_label; conf.className = "badge " + (b.households_confidence || "");
    buildings.setStyle(buildings.options.style);
  }
  function historyItem(c) {
    var li = el("li", "item change");
    var head = el("div", "row between");
    head.appendChild(el("span", "delta", t("户数") + " " + c.households_before + " → " + c.households));
    head.appendChild(el("span", "badge " + (c.confirmed ? "high" : "medium"), c.confirmed ? t("确认") : t("更正")));
    li.appendChild(head);
    if (c.population !== null && c.population !== undefined) li.appendChild(el("div", "", t("人口") + " " + c.population_before + " → " + c.population));
    var meta = [when(c.created_at)];
    if (c.username) meta.push(c.username);
    if (c.patrol_id) meta.push(t("巡查") + " #" + c.patrol_id);
    li.appendChild(el("div", "meta", meta.join(" · ")));
    if (c.note) li.appendChild(el("div", "desc", c.note));
    return li;
  }
  function showHistory(changes) {
    var list = document.getElementById("b-history"); list.textContent = "";
    if (!changes.length) list.appendChild(el("li", "empty muted", t("暂无核实记录")));
    changes.forEach(function (c) { list.appendChild(historyItem(c)); });
  }
  function opened(b, changes) {
    show(b); showHistory(changes);
    households.value = b.households; population.value = ""; note.value = "";
    status.textContent = ""; status.className = "status";
    document.getElementById("v-result").hidden = true;
    card.hidden = false;
    card.scrollIntoView({ behavior: "smooth", block: "start" });
  }
  // ``known``: the map feature's properties, enough to confirm or correct with no signal
  // (the outbox sends the change later; the card's source and history wait for the connection)
  function openBuilding(id, known) {
    return getJSON("/api/v1/buildings/" + encodeURIComponent(id)).then(function (b) {
      opened(b, b.changes || []);
    }).catch(function () {
      if (!known) { status.textContent = t("加载失败"); return; }
      opened({ building_id: id, name: known.name, households: known.households, population: "–",
        grid_code: known.grid_code, source_label: t("离线：来源待联网后显示"), confidence_label: "" }, []);
    });
  }

  // ---- submission ----
  function fail(msg) { status.textContent = msg; status.className = "status error"; }
  function viaFetch(url, fields, key) {
    return fetch(url, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Idempotency-Key": key, Accept: "application/json" },
      body: JSON.stringify(fields) })
      .then(function (r) { return r.json().catch(function () { return {}; }).then(function (b) { return { ok: r.ok, status: r.status, body: b }; }); });
  }
  // Outbox.submit (static/js/outbox.js) resolves with the stored item: status "sent" (result: the
  // server's JSON), "refused" (reason: the server's why) or "queued" (no signal: sent later, in
  // order, with the same Idempotency-Key; this page shows the answer if it is still open then)
  function viaOutbox(url, fields, key) {
    var name = current.name || current.building_id;
    return window.Outbox.submit({ url: url, method: "POST", json: fields, idempotencyKey: key,
      label: name + " " + fields.households + t("户"), kind: "household" })
      .then(function (item) {
        if (item.status === "sent") return { ok: true, body: item.result };
        if (item.status === "refused") return { ok: false, body: { error: item.reason } };
        watched[item.id] = current.building_id;
        return { queued: true };
      });
  }
  // changes queued offline (this visit or before a reload): when one goes through, the open
  // building's card, its grid's total and the history show the server's answer
  var watched = {};  // outbox item id -> building id
  function followQueued() {
    if (!Object.keys(watched).length) return;
    window.Outbox.list().then(function (items) {
      items.forEach(function (i) {
        if (!(i.id in watched) || i.status === "queued") return;
        var buildingId = watched[i.id];
        delete watched[i.id];
        if (!current || current.building_id !== buildingId) return;
        if (i.status === "sent" && i.result && i.result.change) done(i.result);
        else if (i.status === "refused") fail(t("提交失败") + ": " + i.reason);
      });
    });
  }
  if (window.Outbox) {
    window.Outbox.list().then(function (items) {
      items.forEach(function (i) {
        var m = i.kind === "household" && i.status === "queued" && /\/api\/v1\/buildings\/([^/]+)\/households$/.exec(i.url);
        if (m) watched[i.id] = decodeURIComponent(m[1]);
      });
    });
    window.Outbox.onChange(followQueued);
  }
  function submit(fields) {
    if (!current) return;
    var changed = Number(fields.households) !== Number(current.households) ||
      (fields.population !== null && Number(fields.population) !== Number(current.population));
    if (fields.households === "" || fields.households === null) return fail(t("请填写户数"));
    if (fields.population !== null && Number(fields.population) < Number(fields.households)) return fail(t("人口少于户数：每户至少一人"));
    if (changed && !fields.note) return fail(t("更正户数或人口时请填写说明"));
    var signature = JSON.stringify([current.building_id, fields]);
    if (!attempt || attempt.signature !== signature) attempt = { signature: signature, key: newKey() };
    var url = "/api/v1/buildings/" + encodeURIComponent(current.building_id) + "/households";
    var buttons = form.querySelectorAll("button"); buttons.forEach(function (b) { b.disabled = true; });
    status.textContent = t("正在提交…"); status.className = "status";
    (window.Outbox && typeof window.Outbox.submit === "function" ? viaOutbox : viaFetch)(url, fields, attempt.key)
      .then(function (r) {
        if (r.queued) { status.textContent = t("已存入待发送，恢复网络后自动提交"); status.className = "status"; return; }
        if (!r.ok) throw new Error((r.body && r.body.error) || r.status);
        if (!r.body || !r.body.change) throw new Error(t("提交失败"));
        done(r.body);
      }).catch(function (e) {
        fail(e instanceof TypeError ? t("网络错误，请重试（不会重复记录）") : t("提交失败") + ": " + e.message);
      }).then(function () { buttons.forEach(function (b) { b.disabled = false; }); });
  }
  function done(answer) {
    attempt = null;
    var c = answer.change;
    show(answer.building);
    status.textContent = ""; status.className = "status";
    var box = document.getElementById("v-result"); box.textContent = "";
    box.appendChild(el("h2", "", (answer.confirmed ? t("已确认") : t("已记录")) + ": " + t("户数") + " " + c.households_before + " → " + c.households));
    if (answer.replayed) box.appendChild(el("p", "muted", t("此前已记录（未重复写入）")));
    if (answer.grid) {
      var g = answer.grid, p = el("p", "grid-total");
      p.appendChild(el("span", "", t("网格") + " " + g.code + " " + t("合计") + " "));
      p.appendChild(el("b", "num", String(g.households)));
      p.appendChild(el("span", "", " " + t("户") + " "));
      p.appendChild(el("span", "band " + g.band_status, g.band_label));
      p.appendChild(el("span", "muted", " (" + t("范围") + " " + g.band[0] + "–" + g.band[1] + ")"));
      box.appendChild(p);
    }
    box.hidden = false;
    var list = document.getElementById("b-history"), empty = list.querySelector(".empty");
    if (empty) empty.remove();
    if (!answer.replayed) list.insertBefore(historyItem(c), list.firstChild);
    households.value = answer.building.households; population.value = ""; note.value = "";
  }
  function value(input) { var v = input.value.trim(); return v === "" ? null : v; }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    submit({ households: value(households) === null ? "" : value(households), population: value(population), note: note.value.trim() });
  });
  document.getElementById("v-confirm").addEventListener("click", function () {
    if (!current) return;
    households.value = current.households; population.value = "";
    submit({ households: String(current.households), population: null, note: note.value.trim() });
  });
  window.buildingsPage = { map: map, open: openBuilding };
})();
