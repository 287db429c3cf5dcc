// The grid map: layers fetched by bbox and zoom, drill-down breadcrumbs, grid cards, search.
// Every text taken from data is put into the page with textContent, never as HTML.
(function () {
  "use strict";
  var el = document.getElementById("map");
  var t = window.t;
  var BAND = [Number(el.dataset.bandMin), Number(el.dataset.bandMax)];  // from the server's settings

  // ---- coordinate shift for GCJ-02 base maps (our data is WGS84) ----
  function outOfChina(lng, lat) { return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271; }
  function tLat(x, y) {
    var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
    r += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
    return r;
  }
  function tLng(x, y) {
    var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
    r += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
    return r;
  }
  function wgs84ToGcj02(lng, lat) {
    if (outOfChina(lng, lat)) return [lng, lat];
    var a = 6378245.0, ee = 0.00669342162296594323;
    var dLat = tLat(lng - 105, lat - 35), dLng = tLng(lng - 105, lat - 35);
    var radLat = lat / 180 * Math.PI, magic = 1 - ee * Math.sin(radLat) * Math.sin(radLat);
    var sq = Math.sqrt(magic);
    dLat = (dLat * 180) / ((a * (1 - ee)) / (magic * sq) * Math.PI);
    dLng = (dLng * 180) / (a / sq * Math.cos(radLat) * Math.PI);
    return [lng + dLng, lat + dLat];
  }
  function gcj02ToWgs84(lng, lat) {  // fixed-point inverse
    var w = [lng, lat];
    for (var i = 0; i < 10; i++) { var g = wgs84ToGcj02(w[0], w[1]); w = [w[0] - (g[0] - lng), w[1] - (g[1] - lat)]; }
    return w;
  }
  var shifted = el.dataset.tileUrl && el.dataset.tileCrs === "gcj02";
  function toMap(c) { var p = shifted ? wgs84ToGcj02(c[0], c[1]) : c; return L.latLng(p[1], p[0]); }
  function fromMap(ll) { return shifted ? gcj02ToWgs84(ll.lng, ll.lat) : [ll.lng, ll.lat]; }

  var map = L.map(el, { zoomControl: true, preferCanvas: true, minZoom: 3, maxZoom: 20 }).setView([31, 117.8], 13);
  if (el.dataset.tileUrl) {
    L.tileLayer(el.dataset.tileUrl, { maxZoom: 20, attribution: el.dataset.tileAttribution || "" }).addTo(map);
  }
  L.control.scale({ imperial: false }).addTo(map);

  // ---- styles ----
  function mix(a, b, f) {
    var pa = [1, 3, 5].map(function (i) { return parseInt(a.substr(i, 2), 16); });
    var pb = [1, 3, 5].map(function (i) { return parseInt(b.substr(i, 2), 16); });
    return "#" + pa.map(function (v, i) { return Math.round(v + (pb[i] - v) * f).toString(16).padStart(2, "0"); }).join("");
  }
  var colourBy = "households";
  function gridColour(p) {
    if (colourBy === "incidents") {
      var n = p.open_incidents || 0;
      return n === 0 ? "#f7f7f7" : mix("#fee0d2", "#a50f15", Math.min(n / 10, 1));
    }
    if (p.kind === "unit") return "#969696";
    if (p.households < BAND[0]) return "#6baed6";
    if (p.households > BAND[1]) return "#de2d26";
    return mix("#c7e9c0", "#31a354", (p.households - BAND[0]) / (BAND[1] - BAND[0]));
  }
  var FACILITY = { school: "#1f78b4", kindergarten: "#a6cee3", university: "#1f78b4", hospital: "#e31a1c",
    clinic: "#fb9a99", market: "#ff7f00", government: "#6a3d9a", police: "#333399", park: "#33a02c" };

  function tooltipNode(rows) {
    var div = document.createElement("div");
    rows.forEach(function (r) {
      if (r[1] === null || r[1] === undefined || r[1] === "") return;
      var line = document.createElement("div");
      var b = document.createElement("b"); b.textContent = r[0] + " ";
      line.appendChild(b); line.appendChild(document.createTextNode(String(r[1])));
      div.appendChild(line);
    });
    return div;
  }

  var selected = null;
  var layers = {
    communities: L.geoJSON(null, { coordsToLatLng: toMap, interactive: false,
      style: function () { return { color: "#08306b", weight: 3, fill: false }; } }),
    grids: L.geoJSON(null, { coordsToLatLng: toMap,
      style: function (f) {
        var sel = selected === f.properties.code;
        return { color: sel ? "#ffd400" : "#252525", weight: sel ? 4 : 1.2, fillColor: gridColour(f.properties), fillOpacity: 0.5 };
      },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(function () {
          return tooltipNode([[t("网格编码"), f.properties.code], [t("户数"), f.properties.households]]);
        }, { sticky: true });
        layer.on("click", function () { showCard(f.properties.code); });
      } }),
    roads: L.geoJSON(null, { coordsToLatLng: toMap, interactive: false,
      style: function (f) { var major = ["primary", "secondary", "trunk"].indexOf(f.properties.road_class) >= 0;
        return { color: "#9e9e9e", weight: major ? 3 : 1.2 }; } }),
    buildings: L.geoJSON(null, { coordsToLatLng: toMap,
      style: function () { return { color: "#525252", weight: 0.6, fillColor: "#fafafa", fillOpacity: 0.85 }; },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(function () {
          return tooltipNode([[t("建筑"), f.properties.name || f.properties.building_id], [t("户数"), f.properties.households],
            [t("楼层"), f.properties.floors]]);
        });
      } }),
    facilities: L.geoJSON(null, { coordsToLatLng: toMap,
      pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 6, color: "#000", weight: 1,
        fillColor: FACILITY[f.properties.category] || "#ffff33", fillOpacity: 0.95 }); },
      style: function (f) { return { color: FACILITY[f.properties.category] || "#777", weight: 1, fillOpacity: 0.15 }; },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(function () { return tooltipNode([[t("设施"), f.properties.name], [t("类别"), f.properties.category]]); });
      } })
  };
  var STATE_COLOURS = { reported: "#ff7f00", registered: "#fdbf6f", dispatched: "#e31a1c", in_progress: "#e31a1c",
    extension_requested: "#e31a1c", handled: "#6a3d9a", verified: "#33a02c", suspended: "#999999" };
  layers.incidents = L.geoJSON(null, { coordsToLatLng: toMap,
    pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 5, color: f.properties.overdue ? "#000" : "#fff",
      weight: f.properties.overdue ? 2 : 1, fillColor: STATE_COLOURS[f.properties.state] || "#1f78b4", fillOpacity: 0.95 }); },
    onEachFeature: function (f, layer) {
      layer.bindTooltip(function () { return tooltipNode([[t("事件"), f.properties.number], [t("类别"), f.properties.category],
        [t("状态"), f.properties.state], [t("超期"), f.properties.overdue ? t("是") : null]]); });
    } });
  var order = ["communities", "grids", "roads", "buildings", "facilities", "incidents"];
  var TILED = ["grids", "buildings", "incidents"];
  order.forEach(function (k) { layers[k].addTo(map); });
  var overlays = {};
  overlays[t("社区")] = layers.communities; overlays[t("网格")] = layers.grids; overlays[t("道路")] = layers.roads;
  overlays[t("建筑")] = layers.buildings; overlays[t("设施")] = layers.facilities; overlays[t("事件")] = layers.incidents;
  // ---- incident hot spots (Gi*, last 30 days), off until switched on in the layer control ----
  var HOT = { hot_99: "#b2182b", hot_95: "#ef8a62", hot_90: "#fddbc7", not_significant: "#f0f0f0",
    cold_90: "#d1e5f0", cold_95: "#67a9cf", cold_99: "#2166ac", no_households: "#bdbdbd" };
  var HOT_LABEL = { hot_99: "热点 (99%)", hot_95: "热点 (95%)", hot_90: "热点 (90%)", not_significant: "不显著",
    cold_90: "冷点 (90%)", cold_95: "冷点 (95%)", cold_99: "冷点 (99%)", no_households: "无住户" };
  layers.hotspots = L.geoJSON(null, { coordsToLatLng: toMap,
    style: function (f) { return { color: "#555", weight: 1, fillColor: HOT[f.properties.hotspot] || "#fff", fillOpacity: 0.7 }; },
    onEachFeature: function (f, layer) {
      layer.bindTooltip(function () {
        var p = f.properties;
        return tooltipNode([[t("网格编码"), p.code], [t("事件热点"), t(HOT_LABEL[p.hotspot] || p.hotspot)],
          [t("事件率(每千户)"), p.rate === null ? "-" : p.rate.toFixed(1)]]);
      }, { sticky: true });
    } });
  overlays[t("事件热点")] = layers.hotspots;
  // the hot spot legend: shown with the layer, gone with it
  var hotLegend = L.control({ position: "bottomright" });
  hotLegend.onAdd = function () {
    var box = L.DomUtil.create("div", "legend hotspot-legend");
    box.id = "hotspot-legend";
    var title = document.createElement("b");
    title.textContent = t("事件热点") + " (Gi*, " + t("近30天") + ")";
    box.appendChild(title);
    Object.keys(HOT).forEach(function (k) {
      var line = document.createElement("div"), sw = document.createElement("span");
      sw.className = "swatch"; sw.style.background = HOT[k];
      line.setAttribute("data-hotspot", k);
      line.appendChild(sw); line.appendChild(document.createTextNode(t(HOT_LABEL[k]))); box.appendChild(line);
    });
    return box;
  };
  map.on("overlayremove", function (e) { if (e.layer === layers.hotspots) hotLegend.remove(); });
  // the platform's days are Asia/Shanghai days (as the server reads from/to), not UTC ones:
  // between 00:00 and 08:00 in China the UTC date is still yesterday's
  function isoDay(d) { return d.toLocaleDateString("en-CA", { timeZone: "Asia/Shanghai" }); }
  map.on("overlayadd", function (e) {
    if (e.layer !== layers.hotspots) return;
    hotLegend.addTo(map);
    var to = new Date(Date.now() + 86400000), from = new Date(Date.now() - 30 * 86400000);
    fetch("/api/v1/stats/hotspots?from=" + isoDay(from) + "&to=" + isoDay(to), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (fc) { layers.hotspots.clearLayers(); layers.hotspots.addData(fc); layers.hotspots.bringToFront(); layers.incidents.bringToFront(); })
      .catch(function (err) { console.warn(t("加载失败"), "hotspots", err); });
  });
  L.control.layers(null, overlays, { collapsed: true }).addTo(map);

  function bboxParam() {
    var b = map.getBounds();
    var sw = fromMap(b.getSouthWest()), ne = fromMap(b.getNorthEast());
    return [sw[0], sw[1], ne[0], ne[1]].map(function (v) { return v.toFixed(6); }).join(",");
  }
  var controller = null;
  function refresh() {
    if (controller) controller.abort();
    controller = new AbortController();
    var q = "?bbox=" + bboxParam() + "&zoom=" + map.getZoom();
    order.forEach(function (name) {
      if (el.dataset.vectorTiles === "1" && TILED.indexOf(name) >= 0) return;  // tiles.js draws them
      fetch("/api/v1/geo/" + name + q, { signal: controller.signal, credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (fc) { layers[name].clearLayers(); layers[name].addData(fc); layers.facilities.bringToFront(); layers.incidents.bringToFront(); })
        .catch(function (e) { if (e.name !== "AbortError") console.warn(t("加载失败"), name, e); });
    });
    updateBreadcrumbs();
  }
  map.on("moveend", refresh);

  // ---- drill-down breadcrumbs: 区 → 街道 → 社区 → 网格 ----
  var tree = [];
  var home = JSON.parse(document.getElementById("map").dataset.home || "null");
  function ownCommunity(cm) { return home && home.communities.indexOf(cm.code) >= 0 ? 1 : 0; }
  function fit(b) { if (b) map.fitBounds(L.latLngBounds(toMap([b[0], b[1]]), toMap([b[2], b[3]])), { padding: [12, 12] }); }
  function crumb(label, bbox) {
    var a = document.createElement("a"); a.href = "#"; a.textContent = label;
    a.addEventListener("click", function (ev) { ev.preventDefault(); fit(bbox); });
    return a;
  }
  function contains(b, p) { return b && p[0] >= b[0] && p[0] <= b[2] && p[1] >= b[1] && p[1] <= b[3]; }
  function updateBreadcrumbs() {
    var nav = document.getElementById("breadcrumbs");
    nav.textContent = "";
    var c = fromMap(map.getCenter());
    var parts = [];
    tree.forEach(function (d) {
      parts = [[t("区") + " " + d.name, d.bbox]];
      d.children.forEach(function (s) {
        if (!contains(s.bbox, c) && d.children.length > 1) return;
        parts.push([s.name, s.bbox]);
        var here = s.children.filter(function (cm) { return contains(cm.bbox, c); });
        if (home) here.sort(function (a, b) { return ownCommunity(b) - ownCommunity(a); });  // a worker's own 社区 first
        if (here.length && map.getZoom() >= 14) parts.push([here[0].name, here[0].bbox]);
      });
    });
    if (selected) parts.push([selected, null]);
    parts.forEach(function (p, i) {
      if (i) nav.appendChild(document.createTextNode(" › "));
      nav.appendChild(p[1] ? crumb(p[0], p[1]) : document.createTextNode(p[0]));
    });
  }

  // ---- grid card ----
  function showCard(code) {
    selected = code; layers.grids.setStyle(layers.grids.options.style); updateBreadcrumbs();
    fetch("/api/v1/grids/" + encodeURIComponent(code), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (c) {
        var card = document.getElementById("card");
        card.textContent = "";
        var h = document.createElement("h2"); h.textContent = c.code; card.appendChild(h);
        card.appendChild(tooltipNode([
          [t("类型"), c.kind === "unit" ? t("单位网格") : t("居民区网格")],
          [t("户数"), c.households], [t("建筑数"), c.n_buildings],
          [t("网格员"), (c.workers || []).join("、") || t("未分配")],
          [t("待处理事件"), c.open_incidents === undefined ? null : c.open_incidents],
          [t("超期事件"), c.overdue_incidents === undefined ? null : c.overdue_incidents],
          [t("标记"), c.flag], [t("版本"), c.version]]));
        var close = document.createElement("button"); close.type = "button"; close.className = "link"; close.textContent = t("关闭");
        close.addEventListener("click", function () { card.hidden = true; selected = null; layers.grids.setStyle(layers.grids.options.style); updateBreadcrumbs(); });
        card.appendChild(close);
        card.hidden = false;
      });
  }

  // ---- search ----
  var search = document.getElementById("search"), results = document.getElementById("search-results"), timer = null;
  search.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var q = search.value.trim();
      if (q.length < 2) { results.hidden = true; return; }
      fetch("/api/v1/search?q=" + encodeURIComponent(q), { credentials: "same-origin" }).then(function (r) { return r.json(); })
        .then(function (items) {
          results.textContent = "";
          items.forEach(function (it) {
            var li = document.createElement("li"); li.textContent = it.label; li.tabIndex = 0;
            li.addEventListener("click", function () { results.hidden = true; fit(it.bbox); if (it.type === "grid") showCard(it.label); });
            results.appendChild(li);
          });
          results.hidden = items.length === 0;
        });
    }, 250);
  });

  // ---- legend ----
  function legend() {
    var box = document.getElementById("legend"); box.textContent = "";
    var rows = colourBy === "households"
      ? [["#6baed6", t("少于") + " " + BAND[0] + " " + t("户")], ["#7fc97f", BAND[0] + "–" + BAND[1] + " " + t("户")],
         ["#de2d26", t("多于") + " " + BAND[1] + " " + t("户")], ["#969696", t("单位网格")]]
      : [["#f7f7f7", "0"], ["#fc9272", "1–5"], ["#a50f15", "10+"]];
    rows.forEach(function (r) {
      var line = document.createElement("div"), sw = document.createElement("span");
      sw.className = "swatch"; sw.style.background = r[0];
      line.appendChild(sw); line.appendChild(document.createTextNode(r[1])); box.appendChild(line);
    });
  }
  document.getElementById("colour-by").addEventListener("change", function (e) {
    colourBy = e.target.value; layers.grids.setStyle(layers.grids.options.style); legend();
  });
  legend();

  fetch("/api/v1/areas", { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (areas) {
    tree = areas;
    if (home) fit(home.bbox);  // a grid worker's map opens on their own grids
    else if (areas.length && areas[0].bbox) fit(areas[0].children.length ? areas[0].children[0].bbox : areas[0].bbox);
    else refresh();
  });

  window.gridmap = { map: map, layers: layers, refresh: refresh, toMap: toMap, fromMap: fromMap, showCard: showCard,
    tooltipNode: tooltipNode, stateColours: STATE_COLOURS };
})();
