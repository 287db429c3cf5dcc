// The field app's service worker, served as /sw.js (scope: the whole app) by webapp/pwa.py, which
// puts self.GM_VERSION and self.GM_PRECACHE (the app shell: worker pages, their JS/CSS, Leaflet,
// icons) in front of this file.
//
// - install: the shell is cached (pages best effort: they need a session);
// - worker pages (GM_PAGES): network first, the cached copy when there is no signal; other pages
//   answer "当前离线" with links to those when there is none;
// - /static and /vendor: cache first (a new version of the app renames the shell cache);
// - the worker's grids and buildings GeoJSON and the 房屋台账 cards opened (GM_DATA): network
//   first, cached for offline use;
// - POST /logout: the cached pages and data of this user are dropped;
// - sync (Background Sync): the outbox is replayed (static/js/outbox.js).
/* global Outbox */
"use strict";
importScripts(self.GM_OUTBOX);

var SHELL = "gm-shell-" + self.GM_VERSION, PAGES = "gm-pages", DATA = "gm-data";
var NETWORK_TIMEOUT_MS = 4000;

function isPage(path) { return self.GM_PAGES.indexOf(path) >= 0; }
function isData(path) { return self.GM_DATA.some(function (p) { return path.indexOf(p) === 0; }); }

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) {
    var assets = self.GM_PRECACHE.filter(function (u) { return !isPage(u); });
    return cache.addAll(assets).then(function () {
      return caches.open(PAGES).then(function (pages) {
        return Promise.all(self.GM_PAGES.map(function (u) {
          return fetch(u, { credentials: "same-origin", redirect: "manual" }).then(function (r) {
            if (r.ok && r.type === "basic") return pages.put(u, r);
          }).catch(function () { /* offline at install: cached on the next visit */ });
        }));
      });
    });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("gm-shell-") === 0 && k !== SHELL; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function timeout(promise, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
    promise.then(function (v) { clearTimeout(timer); resolve(v); }, function (e) { clearTimeout(timer); reject(e); });
  });
}

// network first; a good answer refreshes the cache, no answer falls back to it
function networkFirst(request, cacheName, key) {
  return timeout(fetch(request), NETWORK_TIMEOUT_MS).then(function (response) {
    if (response.ok && !response.redirected && response.type === "basic") {
      var copy = response.clone();
      caches.open(cacheName).then(function (c) { return c.put(key || request, copy); });
    }
    return response;
  }, function () {
    return caches.open(cacheName).then(function (c) {
      return c.match(key || request).then(function (hit) {
        return hit || c.match(key || request, { ignoreSearch: true });
      });
    }).then(function (hit) { return hit || offlineAnswer(request); });
  });
}

function offlineAnswer(request) {
  if (request.mode === "navigate") {
    var html = "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\">" +
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>离线</title>" +
      "<body style=\"font:16px sans-serif;padding:24px\"><h1>当前离线</h1><p>此页面需要网络。可离线使用：</p>" +
      "<p><a href=\"/report\">上报事件</a> · <a href=\"/patrol\">巡查与民情日记</a> · " +
      "<a href=\"/buildings\">房屋台账</a></p></body></html>";
    return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
  }
  return new Response(JSON.stringify({ error: "离线：无缓存数据 (offline, nothing cached)" }),
    { status: 503, headers: { "Content-Type": "application/json" } });
}

self.addEventListener("fetch", function (event) {
  var request = event.request, url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === "/logout") {
    // another person may log in on this phone next: their pages and data are not this user's
    event.waitUntil(Promise.all([caches.delete(PAGES), caches.delete(DATA)]));
    return;
  }
  if (request.method !== "GET") return;
  if (request.mode === "navigate" && isPage(url.pathname)) {
    // one cached copy per page: ?lang= and paging fall back to it offline
    event.respondWith(networkFirst(request, PAGES, url.search ? null : url.pathname));
  } else if (request.mode === "navigate") {
    // other pages are not kept; without signal they say so, with links to the pages that work
    event.respondWith(fetch(request).catch(function () { return offlineAnswer(request); }));
  } else if (isData(url.pathname)) {
    event.respondWith(networkFirst(request, DATA));
  } else if (url.pathname.indexOf("/static/") === 0 || url.pathname.indexOf("/vendor/") === 0 ||
             url.pathname.indexOf("/icons/") === 0) {
    event.respondWith(caches.match(request, { ignoreSearch: true }).then(function (hit) {
      return hit || fetch(request).then(function (response) {
        if (response.ok) {
          var copy = response.clone();
          caches.open(SHELL).then(function (c) { return c.put(request, copy); });
        }
        return response;
      });
    }));
  }
});

self.addEventListener("sync", function (event) {
  if (event.tag !== Outbox.SYNC_TAG) return;
  // still waiting (no signal): a rejection makes the browser try the sync again later
  event.waitUntil(Outbox.drain().then(function (r) {
    if (r && r.waiting) throw new Error("outbox still waiting");
  }));
});

self.addEventListener("message", function (event) {
  if (event.data === "drain") event.waitUntil(Outbox.drain());
});
