// 巡查报表: the period's tracks; overlapping translucent lines show where patrols go most
// (a heat of coverage), anomalous tracks in red.
(function () {
  "use strict";
  var fc = JSON.parse(document.getElementById("tracks").textContent);
  var map = L.map("track-map", { preferCanvas: true }).setView([31, 117.8], 14);
  var layer = L.geoJSON(fc, { interactive: false, style: function (f) {
    return f.properties.anomalies ? { color: "#c62828", weight: 3, opacity: 0.8, dashArray: "6 4" }
      : { color: "#1565c0", weight: 4, opacity: 0.12 }; } }).addTo(map);
  if (fc.features.length) map.fitBounds(layer.getBounds(), { padding: [20, 20] });
})();
