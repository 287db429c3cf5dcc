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
  var targetChoices = [];     // grids the selected buildings may move into (from the server)
  var target = "";            // the grid picked on the map (never preselected)
  var targetAsk = 0;

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
    var base0 = baseTotals();
    gridLayer = L.geoJSON(state.grids, {
      style: function (f) {
        return { color: "#08306b", weight: 2, fillColor: colour(f.properties), fillOpacity: 0.35 };
      },
      onEachFeature: function (f, layer) {
        gridPaths[f.properties.code] = layer;
        var own = base0[f.properties.code];
        layer.bindTooltip(labelNode(f.properties.code, own, own),
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
  // a grid's map label: its short code and households, "before → after" while a change is edited
  function labelNode(code, before, after) {
    var span = document.createElement("span");
    span.setAttribute("data-label", code);
    span.setAttribute("data-households", after === null ? "" : String(after));
    if (after === null) span.textContent = code.slice(-3) + " · " + t("撤销");
    else if (before === after) span.textContent = code.slice(-3) + " · " + hh(after);
    else {
      span.textContent = code.slice(-3) + " · " + before + " → " + hh(after);
      span.className = inBand(after) ? "rb-label-changed" : "rb-label-changed rb-label-out";
    }
    return span;
  }
  // households per grid after the change being edited: the server's check when it has answered,
  // otherwise counted here from the selection (as Districtr does), so labels follow every click
  // households per grid as the engine counts them (the sum of its buildings), as the check's "before"
  function baseTotals() {
    var out = {};
    state.grids.features.forEach(function (f) { out[f.properties.code] = 0; });
    state.buildings.features.forEach(function (f) {
      if (f.properties.grid_code in out) out[f.properties.grid_code] += f.properties.households || 0;
    });
    return out;
  }
  function editedTotals() {
    var after = baseTotals();
    if (lastPreview) {
      lastPreview.totals.forEach(function (row) {
        if (row.code in after || row.after !== null) after[row.code] = row.after === undefined ? null : row.after;
      });
      return after;
    }
    if (op === "move" && selected.length) {
      var by = buildingsById();
      selected.forEach(function (id) {
        var b = by[id];
        if (!b) return;
        if (b.grid_code in after) after[b.grid_code] -= b.households || 0;
        if (target && target !== b.grid_code) after[target] += b.households || 0;
      });
    }
    return after;
  }
  function updateLabels() {
    if (!state) return;
    var after = editedTotals(), before = baseTotals();
    state.grids.features.forEach(function (f) {
      var code = f.properties.code, layer = gridPaths[code];
      if (!layer) return;
      var value = code in after ? after[code] : before[code];
      layer.setTooltipContent(labelNode(code, before[code], value));
    });
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
    op = name; selected = []; lastPreview = null; target = ""; targetChoices = [];
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
    loadTargets();
  }
  // the grids adjacent to the selected buildings, asked of the server (the move's own rule)
  function loadTargets() {
    var mine = ++targetAsk;
    targetChoices = [];
    if (!selected.length) { target = ""; refresh(); return; }
    refresh();
    $("rb-target-hint").textContent = t("查找相邻网格…");
    request("POST", base + community + "/targets", { building_ids: selected.slice() }).then(function (data) {
      if (mine !== targetAsk) return;
      targetChoices = data.targets || [];
      if (targetChoices.indexOf(target) < 0) target = "";
      refresh();
    }).catch(function (err) {
      if (mine !== targetAsk) return;
      target = ""; refresh();
      $("rb-target-hint").textContent = err.message;
    });
  }
  function setTarget(code) {
    if (targetChoices.indexOf(code) < 0) return;
    target = code;
    refresh();
  }
  function onGridClick(code) {
    if (op === "move") { setTarget(code); return; }
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
  function refresh() {
    Object.keys(buildingPaths).forEach(function (id) {
      var on = op === "move" && selected.indexOf(id) >= 0;
      buildingPaths[id].setStyle({ fillColor: on ? "#2171b5" : "#bdbdbd", color: on ? "#08306b" : "#444", weight: on ? 2 : 1 });
    });
    var picking = op === "move" && selected.length > 0;
    Object.keys(gridPaths).forEach(function (c) {
      var on = op !== "move" && selected.indexOf(c) >= 0;
      var offered = picking && targetChoices.indexOf(c) >= 0, chosen = picking && c === target;
      gridPaths[c].setStyle({
        weight: on || chosen ? 4 : offered ? 3 : 2,
        color: chosen ? "#006d2c" : offered ? "#31a354" : on ? "#2171b5" : "#08306b",
        dashArray: offered && !chosen ? "6 4" : null,
        fillOpacity: picking && !offered && sourceGrids().indexOf(c) < 0 ? 0.15 : 0.35
      });
      var e = gridPaths[c].getElement && gridPaths[c].getElement();
      if (e) {
        e.classList.toggle("rb-offered", offered);
        e.classList.toggle("rb-chosen", chosen);
      }
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
    label.hidden = !picking;
    if (!label.hidden) {
      select.textContent = "";
      var none = node("option", t("在地图上选择")); none.value = ""; select.appendChild(none);
      targetChoices.forEach(function (c) { var o = node("option", c); o.value = c; select.appendChild(o); });
      select.value = target;
      $("rb-target-hint").textContent = targetChoices.length
        ? t("点击地图上绿色虚线标出的相邻网格")
        : t("所选建筑没有可移入的相邻网格");
    }
    lastPreview = null;
    updateLabels();
    check();
  }
  function body() {
    var b = { op: op, base_version: state.version };
    if (op === "move") { b.building_ids = selected.slice(); b.to_code = target; }
    if (op === "split") b.code = selected[0];
    if (op === "merge") b.codes = selected.slice();
    return b;
  }
  function ready() {
    if (op === "move") return selected.length > 0 && !!target;
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
      updateLabels();
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
  $("rb-clear").addEventListener("click", function () { selected = []; target = ""; targetChoices = []; refresh(); });
  document.querySelectorAll(".rb-op").forEach(function (b) {
    b.addEventListener("click", function () { setOp(b.dataset.op); });
  });
  $("rb-target").addEventListener("change", function () { setTarget($("rb-target").value); if (!$("rb-target").value) { target = ""; refresh(); } });

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

  // ---- confirmations: 批准 / 驳回 / 回退 name the proposal, who changes 网格员 and the version ----
  var NEXT = el.dataset.nextVersion, CURRENT = el.dataset.version;
  function movesByPair(moves, reverse) {
    var pairs = {}, order = [];
    moves.forEach(function (m) {
      var from = reverse ? m.to_code : m.from_code, to = reverse ? m.from_code : m.to_code;
      var key = from + "→" + to;
      if (!pairs[key]) { pairs[key] = { from: from, to: to, buildings: 0, households: 0 }; order.push(key); }
      pairs[key].buildings += 1;
      pairs[key].households += m.households || 0;
    });
    return order.map(function (k) { return pairs[k]; });
  }
  function changeList(moves, reverse) {
    var box = document.createDocumentFragment(), total = 0;
    var pairs = movesByPair(moves, reverse);
    pairs.forEach(function (p) { total += p.households; });
    box.appendChild(node("p", total + " " + t("户改换网格员") + " (" + moves.length + " " + t("栋") + ")", "rb-confirm-households"));
    if (pairs.length) {
      var ul = node("ul", null, "rb-confirm-moves");
      pairs.slice(0, 12).forEach(function (p) {
        var li = node("li", p.from + " → " + p.to + ": " + p.buildings + " " + t("栋") + " / " + hh(p.households));
        li.setAttribute("data-from", p.from); li.setAttribute("data-to", p.to);
        ul.appendChild(li);
      });
      if (pairs.length > 12) ul.appendChild(node("li", "…"));
      box.appendChild(ul);
    }
    return box;
  }
  function confirmText(form, data) {
    var action = form.dataset.action, body = document.createDocumentFragment();
    var p = data && data.proposal, moves = (data && data.moves) || [];
    var title;
    if (action === "rollback") {
      title = t("回退") + " v" + form.dataset.undone + " → v" + form.dataset.restored;
      body.appendChild(node("p", t("恢复网格版本") + " v" + form.dataset.restored + t("，撤销版本") + " v" + form.dataset.undone));
      if (data) body.appendChild(changeList(moves, true));
      else body.appendChild(node("p", t("建筑按占地归入恢复版本的网格"), "rb-muted"));
      body.appendChild(node("p", t("将写入网格版本") + " v" + NEXT, "rb-confirm-version"));
      return { title: title, body: body, ok: t("确认回退") };
    }
    title = (action === "approve" ? t("批准") : t("驳回")) + " " + t("方案") + " #" + p.id + " · " + form.dataset.kind;
    body.appendChild(node("p", (p.summary || "") + " · " + p.author + " · " + t("基于版本") + " v" + p.base_version, "rb-muted"));
    if (action === "approve") {
      body.appendChild(changeList(moves, false));
      if (String(p.base_version) !== String(CURRENT)) {
        body.appendChild(node("p", t("该方案基于旧版本，批准时将被标记为已被取代"), "rb-bad"));
      }
      body.appendChild(node("p", t("将写入网格版本") + " v" + NEXT, "rb-confirm-version"));
      return { title: title, body: body, ok: t("确认批准") };
    }
    body.appendChild(changeList(moves, false));
    body.appendChild(node("p", t("驳回后这些住户不改换网格员，不写入新的网格版本（仍为") + " v" + CURRENT + t("）"), "rb-confirm-version"));
    return { title: title, body: body, ok: t("确认驳回") };
  }
  var dialog = $("rb-confirm-dialog"), asking = null;
  function ask(form) {
    var id = form.dataset.id;
    var load = id ? request("GET", base + "proposals/" + id) : Promise.resolve(null);
    return load.then(function (data) {
      var text = confirmText(form, data);
      $("rb-confirm-title").textContent = text.title;
      var box = $("rb-confirm-body"); box.textContent = ""; box.appendChild(text.body);
      $("rb-confirm-ok").textContent = text.ok;
      $("rb-confirm-note-label").hidden = form.dataset.action !== "reject";
      $("rb-confirm-note").value = "";
      dialog.returnValue = "";
      asking = form;
      dialog.showModal();
      dialog.setAttribute("data-action", form.dataset.action);
    });
  }
  if (dialog) {
    dialog.addEventListener("close", function () {
      var form = asking; asking = null;
      dialog.removeAttribute("data-action");
      if (!form || dialog.returnValue !== "ok") return;  // dismissed: nothing happens
      if (form.dataset.action === "reject") form.elements.note.value = $("rb-confirm-note").value;
      form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      form.submit();
    });
    document.querySelectorAll("form.rb-confirm").forEach(function (form) {
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        ask(form).catch(function (err) { window.alert(err.message); });
      });
    });
  }

  request("GET", base + community + "/state").then(function (data) {
    state = data;
    drawState();
    el.setAttribute("data-loaded", "1");
    if (el.dataset.shown) showProposal(el.dataset.shown);
  }).catch(function (err) {
    el.textContent = err.message;
  });
})();
