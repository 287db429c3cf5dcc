// The grid rebalancing page: select buildings/小区 or grids on the map, check the change live,
// save it as a proposal; show a proposal's diff (old vs new boundaries, moved buildings).
// Every text taken from data goes into the page with textContent, never as HTML.
(function () {
  "use strict";
  var el = document.getElementById("rb-map");
  if (!el || !el.dataset.community) return;
  var t = window.t;
  var community = el.dataset.community;
  var BAND = [Number(el.dataset.bandMin), Number(el.dataset.bandMax)];
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var base = "/rebalance/api/";

  var map = L.map(el, { zoomControl: true, minZoom: 3, maxZoom: 21 }).setView([31, 117.8], 15);
  L.control.scale({ imperial: false }).addTo(map);

  var state = null;           // the 社区 as loaded: grids, buildings, neighbours, version
  var op = null;              // "move" | "split" | "merge"
  var selected = [];          // building ids (move) or grid codes (split/merge)
  var gridLayer = null, buildingLayer = null, overlay = L.layerGroup().addTo(map);
  var buildingPaths = {}, gridPaths = {};
  var lastPreview = null;

  function $(id) { return document.getElementById(id); }
  function node(tag, text, cls) {
    var n = document.createElement(tag);
    if (text !== undefined && text !== null) n.textContent = String(text);
    if (cls) n.className = cls;
    return n;
  }
  function hh(n) { var u = t("户"); return (n || 0) + (u === "户" ? "" : " ") + u; }
  // Text from data (building names, codes) goes into tooltips as a text node, never as HTML.
  function textNode(text) { var span = document.createElement("span"); span.textContent = text; return span; }
  function inBand(h) { return h >= BAND[0] && h <= BAND[1]; }
  function colour(p) {
    if (p.kind === "unit") return "#9e9ac8";
    var h = p.households || 0;
    if (h < BAND[0]) return "#fdae6b";
    if (h > BAND[1]) return "#e6550d";
    return "#74c476";
  }
  function request(method, url, body) {
    var opts = { method: method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.headers["X-CSRFToken"] = csrf;
      opts.body = JSON.stringify(body);
    }
    return fetch(url, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) throw new Error(data.error || (t("加载失败") + " (" + r.status + ")"));
        return data;
      });
    });
  }

  // ---- drawing ----
  function drawState() {
    if (gridLayer) map.removeLayer(gridLayer);
    if (buildingLayer) map.removeLayer(buildingLayer);
    gridPaths = {}; buildingPaths = {};
    gridLayer = L.geoJSON(state.grids, {
      style: function (f) {
        return { color: "#08306b", weight: 2, fillColor: colour(f.properties), fillOpacity: 0.35 };
      },
      onEachFeature: function (f, layer) {
        gridPaths[f.properties.code] = layer;
        layer.bindTooltip(textNode(f.properties.code.slice(-3) + " · " + hh(f.properties.households)),
          { permanent: true, direction: "center", className: "rb-label" });
        layer.on("click", function () { onGridClick(f.properties.code); });
        layer.on("add", function () { mark(layer, "grid", f.properties.code); });
      }
    }).addTo(map);
    buildingLayer = L.geoJSON(state.buildings, {
      style: function () { return { color: "#444", weight: 1, fillColor: "#bdbdbd", fillOpacity: 0.9 }; },
      onEachFeature: function (f, layer) {
        buildingPaths[f.properties.building_id] = layer;
        layer.bindTooltip(textNode((f.properties.name || f.properties.building_id) + " · " + hh(f.properties.households)));
        layer.on("click", function (e) { L.DomEvent.stopPropagation(e); onBuildingClick(f.properties); });
        layer.on("add", function () { mark(layer, "building", f.properties.building_id); });
      }
    }).addTo(map);
    Object.keys(gridPaths).forEach(function (c) { mark(gridPaths[c], "grid", c); });
    Object.keys(buildingPaths).forEach(function (b) { mark(buildingPaths[b], "building", b); });
    var b = gridLayer.getBounds();
    if (b.isValid()) map.fitBounds(b, { padding: [20, 20] });
  }
  function mark(layer, kind, id) {  // stable hooks for tests and assistive tech
    var e = layer.getElement && layer.getElement();
    if (e) { e.setAttribute("data-" + kind, id); e.setAttribute("aria-label", id); }
  }
  function buildingsById() {
    var out = {};
    state.buildings.features.forEach(function (f) { out[f.properties.building_id] = f.properties; });
    return out;
  }

  // ---- selection ----
  function setOp(name) {
    op = name; selected = []; lastPreview = null;
    document.querySelectorAll(".rb-op").forEach(function (b) { b.classList.toggle("active", b.dataset.op === name); });
    $("rb-hint").textContent = {
      move: t("点击要移动的建筑（或勾选“选中整个小区”后点击小区内任一建筑），再选择相邻网格"),
      split: t("点击要拆分的网格"),
      merge: t("点击两个相邻网格")
    }[name];
    refresh();
  }
  function onBuildingClick(p) {
    if (op !== "move") return;
    var ids = [p.building_id];
    if ($("rb-whole-compound").checked && p.compound_id) {
      ids = state.buildings.features.filter(function (f) {
        return f.properties.compound_id === p.compound_id;
      }).map(function (f) { return f.properties.building_id; });
    }
    var on = selected.indexOf(p.building_id) < 0;
    ids.forEach(function (id) {
      var i = selected.indexOf(id);
      if (on && i < 0) selected.push(id);
      if (!on && i >= 0) selected.splice(i, 1);
    });
    refresh();
  }
  function onGridClick(code) {
    if (op === "split") selected = [code];
    else if (op === "merge") {
      var i = selected.indexOf(code);
      if (i >= 0) selected.splice(i, 1); else selected.push(code);
    } else return;
    refresh();
  }
  function sourceGrids() {
    var by = buildingsById(), codes = {};
    selected.forEach(function (id) { if (by[id]) codes[by[id].grid_code] = true; });
    return Object.keys(codes);
  }
  function targets() {
    var from = sourceGrids(), out = {};
    from.forEach(function (c) { (state.neighbours[c] || []).forEach(function (n) { out[n] = true; }); });
    from.forEach(function (c) { delete out[c]; });
    return Object.keys(out).sort();
  }
  function refresh() {
    Object.keys(buildingPaths).forEach(function (id) {
      var on = op === "move" && selected.indexOf(id) >= 0;
      buildingPaths[id].setStyle({ fillColor: on ? "#2171b5" : "#bdbdbd", color: on ? "#08306b" : "#444", weight: on ? 2 : 1 });
    });
    Object.keys(gridPaths).forEach(function (c) {
      var on = op !== "move" && selected.indexOf(c) >= 0;
      gridPaths[c].setStyle({ weight: on ? 4 : 2, color: on ? "#2171b5" : "#08306b" });
    });
    var sel = $("rb-selection");
    sel.textContent = "";
    if (selected.length) {
      var by = buildingsById(), total = 0;
      if (op === "move") selected.forEach(function (id) { total += (by[id] && by[id].households) || 0; });
      sel.appendChild(node("span", op === "move"
        ? t("已选建筑") + " " + selected.length + " · " + total + " " + t("户") + " (" + sourceGrids().join(", ") + ")"
        : t("已选网格") + " " + selected.join(", ")));
    }
    var label = $("rb-target-label"), select = $("rb-target");
    label.hidden = op !== "move" || !selected.length;
    if (!label.hidden) {
      var keep = select.value, opts = targets();
      select.textContent = "";
      opts.forEach(function (c) { var o = node("option", c); o.value = c; select.appendChild(o); });
      if (opts.indexOf(keep) >= 0) select.value = keep;
    }
    check();
  }
  function body() {
    var b = { op: op, base_version: state.version };
    if (op === "move") { b.building_ids = selected.slice(); b.to_code = $("rb-target").value; }
    if (op === "split") b.code = selected[0];
    if (op === "merge") b.codes = selected.slice();
    return b;
  }
  function ready() {
    if (op === "move") return selected.length > 0 && !!$("rb-target").value;
    if (op === "split") return selected.length === 1;
    if (op === "merge") return selected.length >= 2;
    return false;
  }

  // ---- live check ----
  var pending = 0;
  function check() {
    var box = $("rb-check");
    $("rb-save").disabled = true;
    overlay.clearLayers();
    box.textContent = "";
    lastPreview = null;
    if (!ready()) return;
    var mine = ++pending;
    box.appendChild(node("p", t("检查中…"), "rb-muted"));
    request("POST", base + community + "/preview", body()).then(function (data) {
      if (mine !== pending) return;
      lastPreview = data;
      box.textContent = "";
      box.appendChild(totalsTable(data.totals));
      violations(box, data.violations);
      L.geoJSON(data.grids, { style: { color: "#cb181d", weight: 2, dashArray: "6 4", fill: false }, interactive: false }).addTo(overlay);
      $("rb-save").disabled = false;
    }).catch(function (err) {
      if (mine !== pending) return;
      box.textContent = "";
      box.appendChild(node("p", err.message, "rb-bad"));
    });
  }
  function totalsTable(totals) {
    var table = node("table"), head = node("tr");
    [t("网格"), t("调整前"), t("调整后"), ""].forEach(function (h) { head.appendChild(node("th", h)); });
    table.appendChild(head);
    totals.forEach(function (row) {
      if (row.before === row.after) return;
      var tr = node("tr");
      tr.className = "rb-total";
      tr.setAttribute("data-code", row.code);
      tr.appendChild(node("td", row.code));
      tr.appendChild(node("td", row.before === null || row.before === undefined ? "—" : row.before));
      tr.appendChild(node("td", row.after === null || row.after === undefined ? t("撤销") : row.after));
      var ok = row.after === null || row.after === undefined || inBand(row.after);
      tr.appendChild(node("td", ok ? "✓" : t("超出范围"), ok ? "rb-ok" : "rb-bad"));
      table.appendChild(tr);
    });
    return table;
  }
  function violations(box, list) {
    if (!list || !list.length) { box.appendChild(node("p", t("无户数或连通性问题"), "rb-ok")); return; }
    var ul = node("ul", null, "rb-violations");
    list.forEach(function (v) { ul.appendChild(node("li", v)); });
    box.appendChild(ul);
  }

  $("rb-save").addEventListener("click", function () {
    if (!ready() || !lastPreview) return;
    $("rb-save").disabled = true;
    request("POST", base + community + "/proposals", body()).then(function (data) {
      window.location.href = data.url;
    }).catch(function (err) {
      $("rb-check").appendChild(node("p", err.message, "rb-bad"));
    });
  });
  $("rb-clear").addEventListener("click", function () { selected = []; refresh(); });
  document.querySelectorAll(".rb-op").forEach(function (b) {
    b.addEventListener("click", function () { setOp(b.dataset.op); });
  });
  $("rb-target").addEventListener("change", check);

  // ---- a proposal's diff ----
  function showProposal(id) {
    request("GET", base + "proposals/" + id).then(function (data) {
      overlay.clearLayers();
      L.geoJSON(data.base_grids, { style: { color: "#636363", weight: 2, dashArray: "4 4", fill: false }, interactive: false }).addTo(overlay);
      L.geoJSON(data.grids, { style: { color: "#cb181d", weight: 3, fill: false }, interactive: false }).addTo(overlay);
      var moved = {};
      data.moves.forEach(function (m) { moved[m.building_id] = m; });
      Object.keys(buildingPaths).forEach(function (bid) {
        buildingPaths[bid].setStyle(moved[bid] ? { fillColor: "#fd8d3c", color: "#a63603", weight: 2 } : { fillColor: "#bdbdbd", color: "#444", weight: 1 });
      });
      var box = $("rb-diff");
      box.hidden = false;
      box.textContent = "";
      var p = data.proposal;
      box.appendChild(node("h3", t("方案") + " #" + p.id + " · " + (p.summary || "")));
      box.appendChild(node("p", t("基于版本") + " " + p.base_version + " · " + p.author, "rb-muted"));
      box.appendChild(totalsTable(p.totals || []));
      violations(box, (p.report && p.report.violations) || []);
      if (data.moves.length) {
        var table = node("table"), head = node("tr");
        [t("建筑"), t("户数"), t("原网格"), t("新网格")].forEach(function (h) { head.appendChild(node("th", h)); });
        table.appendChild(head);
        data.moves.slice(0, 200).forEach(function (m) {
          var tr = node("tr");
          tr.className = "rb-move";
          [m.building_id, m.households, m.from_code, m.to_code].forEach(function (v) { tr.appendChild(node("td", v)); });
          table.appendChild(tr);
        });
        box.appendChild(node("h3", t("移动的建筑") + " (" + data.moves.length + ")"));
        box.appendChild(table);
      }
      if (p.report && p.report.text) box.appendChild(node("pre", p.report.text));
      var b = L.geoJSON(data.grids).getBounds();
      if (b.isValid()) map.fitBounds(b, { padding: [20, 20] });
    }).catch(function (err) { $("rb-diff").hidden = false; $("rb-diff").textContent = err.message; });
  }
  document.querySelectorAll(".rb-show").forEach(function (b) {
    b.addEventListener("click", function () { showProposal(b.dataset.id); });
  });

  request("GET", base + community + "/state").then(function (data) {
    state = data;
    drawState();
    el.setAttribute("data-loaded", "1");
    if (el.dataset.shown) showProposal(el.dataset.shown);
  }).catch(function (err) {
    el.textContent = err.message;
  });
})();
