// Vector tiles for large areas: grids, buildings and open incidents drawn from
// /tiles/{layer}/{z}/{x}/{y}.mvt (Leaflet.VectorGrid) instead of GeoJSON, when the page says so
// (data-vector-tiles="1"). map.js then leaves those three layers to this file; roads and
// facilities stay GeoJSON.
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
  }, 12, true);  // below zoom 12 a grid is a few pixels: the 社区 outlines show the city
  var buildings = tiled("buildings", function () {
    return { color: "#525252", weight: 0.6, fill: true, fillColor: "#fafafa", fillOpacity: 0.85 };
  }, 15, false);  // not interactive: clicks reach the grid below (its card lists the buildings)
  // open incidents above the map's own canvas, drawn as the GeoJSON layer draws them; the pane
  // lets clicks through (found below, as grids are)
  map.createPane("incidentTiles");
  map.getPane("incidentTiles").style.zIndex = 450;
  map.getPane("incidentTiles").style.pointerEvents = "none";
  var incidents = L.vectorGrid.protobuf("/tiles/incidents/{z}/{x}/{y}.mvt", {
    pane: "incidentTiles", rendererFactory: L.canvas.tile, interactive: false, minZoom: 12, maxNativeZoom: 18,
    fetchOptions: { credentials: "same-origin" },
    vectorTileLayerStyles: { incidents: function (p) {
      return { radius: 5, color: p.overdue ? "#000" : "#fff", weight: p.overdue ? 2 : 1, fill: true,
        fillColor: gm.stateColours[p.state] || "#1f78b4", fillOpacity: 0.95 };
    } },
    getFeatureId: function (f) { return f.properties.id; }
  });
  grids.on("click", function (e) { if (e.layer.properties.code) gm.showCard(e.layer.properties.code); });
  // the map's own canvas (GeoJSON layers, overlay pane) lies above the tile pane and takes the
  // clicks; where it hits nothing the map fires "click": find the feature under it in the loaded tile
  function featureAt(layer, latlng) {
    var z = layer._tileZoom;
    if (z === undefined || !map.hasLayer(layer)) return null;
    var size = layer.getTileSize(), at = map.project(latlng, z);
    var key = Math.floor(at.x / size.x) + ":" + Math.floor(at.y / size.y) + ":" + z;
    var renderer = layer._vectorTiles && layer._vectorTiles[key];
    if (!renderer || !renderer._layers || !renderer._map) return null;  // an empty tile: not drawn
    var point = map.latLngToLayerPoint(latlng).subtract(renderer.getOffset()), hit = null;
    Object.keys(renderer._layers).forEach(function (id) {
      var f = renderer._layers[id];
      if (f._containsPoint && f._containsPoint(point)) hit = f.properties;
    });
    return hit;
  }
  map.on("click", function (e) {
    var incident = featureAt(incidents, e.latlng);
    if (incident) {
      L.popup().setLatLng(e.latlng).setContent(gm.tooltipNode([[t("事件"), incident.number],
        [t("状态"), incident.state], [t("超期"), incident.overdue ? t("是") : null]])).openOn(map);
      return;
    }
    var p = featureAt(grids, e.latlng);
    if (p && p.code) gm.showCard(p.code);
  });
  grids.addTo(map);
  buildings.addTo(map);
  incidents.addTo(map);
  gm.layers.gridTiles = grids;
  gm.layers.buildingTiles = buildings;
  gm.layers.incidentTiles = incidents;
  var overlays = {};
  overlays[t("网格") + " (" + t("矢量切片") + ")"] = grids;
  overlays[t("建筑") + " (" + t("矢量切片") + ")"] = buildings;
  overlays[t("事件") + " (" + t("矢量切片") + ")"] = incidents;
  L.control.layers(null, overlays, { collapsed: true }).addTo(map);
})();
