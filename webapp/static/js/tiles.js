// Vector tiles for large areas: grids and buildings drawn from /tiles/{layer}/{z}/{x}/{y}.mvt
// (Leaflet.VectorGrid) instead of GeoJSON, when the page says so (data-vector-tiles="1").
// map.js then leaves those two layers to this file; incidents, roads and facilities stay GeoJSON.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || el.dataset.vectorTiles !== "1" || !window.gridmap || !L.vectorGrid) return;
  var t = window.t, gm = window.gridmap, map = gm.map;
  var BAND = [Number(el.dataset.bandMin), Number(el.dataset.bandMax)];
  // VectorGrid 1.3's canvas renderer calls L.DomEvent.fakeStop, which Leaflet 1.8 removed
  if (!L.DomEvent.fakeStop) L.DomEvent.fakeStop = function (e) { e._stopped = true; };

  function gridFill(p) {
    if (p.kind === "unit") return "#969696";
    if (p.households < BAND[0]) return "#6baed6";
    if (p.households > BAND[1]) return "#de2d26";
    return "#74c476";
  }
  function tiled(name, style, minZoom, interactive) {
    var styles = {};
    styles[name] = style;
    return L.vectorGrid.protobuf("/tiles/" + name + "/{z}/{x}/{y}.mvt", {
      rendererFactory: L.canvas.tile, interactive: interactive, minZoom: minZoom, maxNativeZoom: 18,
      vectorTileLayerStyles: styles, fetchOptions: { credentials: "same-origin" },
      getFeatureId: function (f) { return f.properties.code || f.properties.building_id; }
    });
  }
  var grids = tiled("grids", function (p) {
    return { color: "#08519c", weight: 1, fill: true, fillColor: gridFill(p), fillOpacity: 0.45 };
  }, 8, true);
  var buildings = tiled("buildings", function () {
    return { color: "#525252", weight: 0.6, fill: true, fillColor: "#fafafa", fillOpacity: 0.85 };
  }, 15, false);  // not interactive: clicks reach the grid below (its card lists the buildings)
  grids.on("click", function (e) { if (e.layer.properties.code) gm.showCard(e.layer.properties.code); });
  // the map's own canvas (GeoJSON layers, overlay pane) lies above the tile pane and takes the
  // clicks; where it hits nothing the map fires "click": find the grid under it in the loaded tile
  function gridAt(latlng) {
    var z = grids._tileZoom;
    if (z === undefined || !map.hasLayer(grids)) return null;
    var size = grids.getTileSize(), at = map.project(latlng, z);
    var key = Math.floor(at.x / size.x) + ":" + Math.floor(at.y / size.y) + ":" + z;
    var renderer = grids._vectorTiles && grids._vectorTiles[key];
    if (!renderer || !renderer._layers) return null;
    var point = map.latLngToLayerPoint(latlng).subtract(renderer.getOffset()), hit = null;
    Object.keys(renderer._layers).forEach(function (id) {
      var f = renderer._layers[id];
      if (f._containsPoint && f._containsPoint(point)) hit = f.properties;
    });
    return hit;
  }
  map.on("click", function (e) {
    var p = gridAt(e.latlng);
    if (p && p.code) gm.showCard(p.code);
  });
  grids.addTo(map);
  buildings.addTo(map);
  gm.layers.gridTiles = grids;
  gm.layers.buildingTiles = buildings;
  var overlays = {};
  overlays[t("网格") + " (" + t("矢量切片") + ")"] = grids;
  overlays[t("建筑") + " (" + t("矢量切片") + ")"] = buildings;
  L.control.layers(null, overlays, { collapsed: true }).addTo(map);
})();
