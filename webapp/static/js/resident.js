// 我要反映问题: the residents' report page. Place by map tap or GPS, 大类 → 小类, photo,
// optional phone/e-mail; a proof-of-work answer to the server's signed challenge; one
// idempotency key per report so a retry is never a second report. Text from data goes
// into the page with textContent, never as HTML.
(function () {
  "use strict";
  var form = document.getElementById("resident-form");
  if (!form) return;
  var msg = JSON.parse(document.getElementById("messages").textContent);
  var tree = JSON.parse(document.getElementById("categories").textContent);
  var csrf = document.querySelector("meta[name=csrf-token]").content;
  var mapEl = document.getElementById("pick-map");
  var status = document.getElementById("status"), locText = document.getElementById("loc-text");
  var major = document.getElementById("major"), minor = document.getElementById("minor");
  var point = null, marker = null;

  // ---- SHA-256 (ASCII input) for the proof-of-work; works without a secure context ----
  var K = [0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2];
  var W = new Array(64);
  function sha256(text) {
    var len = text.length, n = ((len + 9 + 63) >> 6) << 4, w = new Array(n), i, j, t;
    for (i = 0; i < n; i++) w[i] = 0;
    for (i = 0; i < len; i++) w[i >> 2] |= text.charCodeAt(i) << (24 - (i % 4) * 8);
    w[len >> 2] |= 0x80 << (24 - (len % 4) * 8);
    w[n - 1] = len * 8;
    var H = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    for (j = 0; j < n; j += 16) {
      for (t = 0; t < 64; t++) {
        if (t < 16) { W[t] = w[j + t] | 0; continue; }
        var a = W[t - 15], b = W[t - 2];
        var s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
        var s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
        W[t] = (W[t - 16] + s0 + W[t - 7] + s1) | 0;
      }
      var A = H[0], B = H[1], C = H[2], D = H[3], E = H[4], F = H[5], G = H[6], X = H[7];
      for (t = 0; t < 64; t++) {
        var S1 = ((E >>> 6) | (E << 26)) ^ ((E >>> 11) | (E << 21)) ^ ((E >>> 25) | (E << 7));
        var t1 = (X + S1 + ((E & F) ^ (~E & G)) + K[t] + W[t]) | 0;
        var S0 = ((A >>> 2) | (A << 30)) ^ ((A >>> 13) | (A << 19)) ^ ((A >>> 22) | (A << 10));
        var t2 = (S0 + ((A & B) ^ (A & C) ^ (B & C))) | 0;
        X = G; G = F; F = E; E = (D + t1) | 0; D = C; C = B; B = A; A = (t1 + t2) | 0;
      }
      H[0] = (H[0] + A) | 0; H[1] = (H[1] + B) | 0; H[2] = (H[2] + C) | 0; H[3] = (H[3] + D) | 0;
      H[4] = (H[4] + E) | 0; H[5] = (H[5] + F) | 0; H[6] = (H[6] + G) | 0; H[7] = (H[7] + X) | 0;
    }
    return H;
  }
  window.gmSha256 = sha256;  // exposed for the browser test's check against the server
  // the smallest n whose sha256("<token>:<n>") starts with `bits` zero bits, in slices
  function work(token, bits) {
    return new Promise(function (resolve) {
      var n = 0;
      (function slice() {
        for (var end = n + 20000; n < end; n++) {
          if ((sha256(token + ":" + n)[0] >>> (32 - bits)) === 0) return resolve(n);
        }
        setTimeout(slice, 0);
      })();
    });
  }

  // ---- device id (kept on the phone) and one idempotency key per report ----
  function randomId() {
    var a = new Uint8Array(16); crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  var device = localStorage.getItem("gm-device") || randomId();
  localStorage.setItem("gm-device", device);
  var key = sessionStorage.getItem("gm-resident-key") || randomId();
  sessionStorage.setItem("gm-resident-key", key);

  // ---- map: grid outlines for context, a tap places the point ----
  var map = L.map(mapEl, { zoomControl: true, minZoom: 3, maxZoom: 20 }).setView([31, 117.8], 15);
  var grids = L.geoJSON(null, { interactive: false,
    style: function () { return { color: "#8e1b12", weight: 1.5, fillColor: "#fde0dc", fillOpacity: 0.2 }; } }).addTo(map);
  function load() {
    var b = map.getBounds();
    var q = "?bbox=" + [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) {
      return Math.max(-180, Math.min(180, v)).toFixed(6); }).join(",") + "&zoom=" + map.getZoom();
    fetch(mapEl.dataset.grids + q).then(function (r) { return r.json(); })
      .then(function (fc) { grids.clearLayers(); grids.addData(fc); }).catch(function () {});
  }
  map.on("moveend", load);
  var bbox = JSON.parse(mapEl.dataset.bbox || "null");
  if (bbox) map.fitBounds([[bbox[1], bbox[0]], [bbox[3], bbox[2]]], { padding: [8, 8] }); else load();
  function setPoint(lon, lat, how) {
    point = [lon, lat];
    var ll = L.latLng(lat, lon);
    if (marker) marker.setLatLng(ll);
    else marker = L.circleMarker(ll, { radius: 10, color: "#fff", weight: 3, fillColor: "#0b63c5", fillOpacity: 1 }).addTo(map);
    locText.textContent = msg.picked + " " + lon.toFixed(5) + ", " + lat.toFixed(5) + (how ? " (" + how + ")" : "");
    locText.className = "ok";
  }
  map.on("click", function (e) { setPoint(e.latlng.lng, e.latlng.lat, ""); });
  window.residentPage = { map: map };  // for the browser tests: where a tap lands
  document.getElementById("gps").addEventListener("click", function () {
    if (!navigator.geolocation) { locText.textContent = msg.no_gps; return; }
    locText.textContent = msg.locating;
    navigator.geolocation.getCurrentPosition(function (pos) {
      setPoint(pos.coords.longitude, pos.coords.latitude, "GPS ±" + Math.round(pos.coords.accuracy) + "m");
      map.setView([pos.coords.latitude, pos.coords.longitude], Math.max(map.getZoom(), 17));
    }, function () { locText.textContent = msg.no_gps; }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
  });

  // ---- 大类 → 小类 ----
  function option(value, label) { var o = document.createElement("option"); o.value = value; o.textContent = label; return o; }
  tree.forEach(function (m) { major.appendChild(option(m.code, m.name)); });
  major.addEventListener("change", function () {
    minor.textContent = "";
    var m = tree.filter(function (x) { return x.code === major.value; })[0];
    minor.appendChild(option("", m ? msg.choose : msg.choose_major));
    if (m) m.minors.forEach(function (c) { minor.appendChild(option(c.code, c.name)); });
    minor.disabled = !m;
  });

  // ---- submission ----
  function fail(text) { status.textContent = text; status.className = "status error"; }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var description = document.getElementById("description").value.trim();
    if (!point) return fail(msg.need_place);
    if (!minor.value) return fail(msg.need_category);
    if (!description) return fail(msg.need_text);
    var button = document.getElementById("submit"); button.disabled = true;
    status.className = "status"; status.textContent = msg.working;
    // volunteers are logged in: their page asks for no challenge
    var challenge = form.dataset.challenge
      ? fetch(form.dataset.challenge, { cache: "no-store" }).then(function (r) { return r.json(); })
      : Promise.resolve({ token: "", bits: 0 });
    challenge.then(function (c) {
      return (c.token ? work(c.token, c.bits) : Promise.resolve("")).then(function (answer) {
        status.textContent = msg.sending;
        var data = new FormData(form);
        data.set("lon", point[0]); data.set("lat", point[1]);
        data.set("device", device); data.set("idempotency_key", key);
        data.set("challenge", c.token); data.set("answer", answer);
        var f = document.getElementById("photo").files[0];
        if (!f) data.delete("photo");
        return fetch(form.dataset.submit, { method: "POST", headers: { "X-CSRFToken": csrf }, body: data });
      });
    }).then(function (r) {
      return r.json().catch(function () { return { error: String(r.status) }; }).then(function (b) {
        if (!r.ok) throw new Error(b.error || r.status);
        done(b);
      });
    }).catch(function (e) {
      fail(e instanceof TypeError ? msg.network : msg.failed + ": " + e.message);
    }).then(function () { button.disabled = false; });
  });
  function done(b) {
    sessionStorage.removeItem("gm-resident-key");
    key = randomId(); sessionStorage.setItem("gm-resident-key", key);
    document.getElementById("r-number").textContent = b.number;
    document.getElementById("r-code").textContent = b.code;
    if (b.follow) document.getElementById("r-link").href = b.follow;
    document.getElementById("result").hidden = false;
    form.hidden = true;
    status.textContent = "";
  }
})();
