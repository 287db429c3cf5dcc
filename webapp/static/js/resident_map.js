// 各网格待办问题: grid outlines coloured by their count of open problems (no text, no points).
(function () {
  "use strict";
  var el = document.getElementById("open-map");
  if (!el) return;
  var map = L.map(el, { minZoom: 3, maxZoom: 20 }).setView([31, 117.8], 14);
  function colour(n) { return n >= 5 ? "#b00020" : n >= 2 ? "#e67e22" : n >= 1 ? "#f1c40f" : "#cfd8dc"; }
  var layer = L.geoJSON(null, {
    style: function (f) { return { color: "#555", weight: 1, fillColor: colour(f.properties.open), fillOpacity: 0.5 }; },
    onEachFeature: function (f, l) {
      var span = document.createElement("span");
      span.textContent = String(f.properties.code).slice(-3) + ": " + f.properties.open;
      l.bindTooltip(span, { permanent: map.getZoom() >= 15, direction: "center", className: "gridlabel" });
    }
  }).addTo(map);
  function load() {
    var b = map.getBounds();
    var q = "?bbox=" + [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) {
      return Math.max(-180, Math.min(180, v)).toFixed(6); }).join(",") + "&zoom=" + map.getZoom();
    fetch(el.dataset.grids + q).then(function (r) { return r.json(); })
      .then(function (fc) { layer.clearLayers(); layer.addData(fc); }).catch(function () {});
  }
  map.on("moveend", load);
  var bbox = JSON.parse(el.dataset.bbox || "null");
  if (bbox) map.fitBounds([[bbox[1], bbox[0]], [bbox[3], bbox[2]]], { padding: [8, 8] }); else load();
})();
