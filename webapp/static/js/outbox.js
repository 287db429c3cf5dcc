// Outbox: requests that wait in IndexedDB until the server has them (pages and the service worker).
//
// Why our own ~300 lines and not a library: the parts a library would give (a promise wrapper over
// IndexedDB, as idb-keyval does) are ~30 lines here; what the field app needs (ordered replay,
// results of one request feeding the next, refusals kept with the server's reason, one user's
// items never sent in another's session) no small library does, and Workbox's BackgroundSync
// queue cannot chain requests nor tell a refusal from a network error the way we need.
//
// API (window.Outbox in a page, self.Outbox in the service worker):
//
//   Outbox.submit({url, method, json, fields, files, idempotencyKey, label, kind, saveAs})
//     Stores the request, then sends everything waiting, in order. Resolves with the item:
//     {id, status: "sent" | "refused" | "queued", result (the server's JSON), reason, ...}.
//     - json: an object sent as application/json; or fields: {name: value} sent as multipart
//       form data with files: [{name, blob, filename}] (photos are kept as Blobs).
//     - idempotencyKey: added as `idempotency_key` to the JSON body or the form (unless the
//       caller put it there) and as the Idempotency-Key header; a replay sends the same key.
//     - saveAs: a name under which the answer is kept, so a later request can use it:
//       "{{name.field}}" in a later url, JSON string or form field is replaced by that field of
//       the answer (a photo's id in the report that follows it, a patrol's id in its points).
//       If the request that should give the answer was refused, the later one is refused too.
//     - label, kind: what the page shows for the item (kind: report, photo, diary, patrol-start,
//       patrol-points, patrol-stop, or any word a new page picks).
//   Outbox.enqueue(same options) -> id once stored (sending starts in the background).
//   Outbox.drain() -> sends what waits (one sender at a time across tabs and the worker).
//   Outbox.list() -> this user's items, oldest first; Outbox.pending() -> how many wait.
//   Outbox.dismiss(id) -> forget a sent or refused item.
//   Outbox.setContext({user, token}) -> who is logged in and their CSRF token (each page does it).
//   Outbox.onChange(fn) -> fn() whenever an item changes here, in another tab or in the worker.
//
// Fates: a 2xx answer = sent; any other 4xx = refused (kept with the server's reason, not
// retried); no answer (offline), 408, 429, 5xx = stays queued and the queue stops there, so
// order is kept. Not logged in (401, a redirect to the log-in page, a stale CSRF token) also
// keeps the item queued: it goes once the worker has logged in again.
(function (root) {
  "use strict";
  var DB_NAME = "gridmgmt-outbox", DB_VERSION = 1, CHANNEL = "gridmgmt-outbox", SYNC_TAG = "gridmgmt-outbox";
  var KEEP_SENT_MS = 7 * 864e5, KEEP_REFUSED_MS = 30 * 864e5;
  var PLACEHOLDER = /\{\{([^{}]+?)\.([A-Za-z_]+)\}\}/g;
  var dbPromise = null, listeners = [], localDrain = null;
  var channel = typeof BroadcastChannel !== "undefined" ? new BroadcastChannel(CHANNEL) : null;
  if (channel) channel.onmessage = function () { fire(); };

  function promised(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function open() {
    if (!dbPromise) {
      var request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = function () {
        var db = request.result;
        db.createObjectStore("items", { keyPath: "id", autoIncrement: true });
        db.createObjectStore("refs", { keyPath: "name" });
        db.createObjectStore("meta", { keyPath: "name" });
      };
      dbPromise = promised(request);
    }
    return dbPromise;
  }
  // run fn(stores...) in one transaction; resolves with fn's result once it has committed
  function tx(names, mode, fn) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(names, mode), out;
        t.oncomplete = function () { resolve(out); };
        t.onerror = t.onabort = function () { reject(t.error); };
        Promise.resolve(fn.apply(null, names.map(function (n) { return t.objectStore(n); })))
          .then(function (v) { out = v; }, function (e) { try { t.abort(); } catch (x) { /* done */ } reject(e); });
      });
    });
  }
  function getMeta(name) {
    return tx(["meta"], "readonly", function (m) { return promised(m.get(name)); })
      .then(function (row) { return row ? row.value : null; });
  }
  function allItems() {
    return tx(["items"], "readonly", function (s) { return promised(s.getAll()); });
  }
  function fire() { listeners.forEach(function (fn) { try { fn(); } catch (e) { /* a listener's own */ } }); }
  function changed() { if (channel) channel.postMessage("changed"); fire(); }

  function setContext(ctx) {
    return tx(["meta"], "readwrite", function (m) {
      if (ctx.user) m.put({ name: "user", value: String(ctx.user) });
      if (ctx.token) m.put({ name: "token", value: String(ctx.token) });
    }).then(fire);  // another user's items are not this page's to show
  }

  function enqueue(opts) {
    if (!opts || !opts.url) return Promise.reject(new Error("Outbox.submit needs a url"));
    return getMeta("user").then(function (user) {
      var item = {
        url: opts.url, method: (opts.method || "POST").toUpperCase(),
        json: opts.json === undefined ? null : opts.json,
        fields: opts.fields || null,
        files: (opts.files || []).map(function (f) {
          return { name: f.name, blob: f.blob, filename: f.filename || (f.blob && f.blob.name) || "file" };
        }),
        idempotencyKey: opts.idempotencyKey || null, saveAs: opts.saveAs || null,
        label: opts.label || opts.url, kind: opts.kind || "request",
        user: user, status: "queued", reason: null, result: null, lastError: null,
        attempts: 0, createdAt: Date.now(), sentAt: null
      };
      return tx(["items"], "readwrite", function (s) { return promised(s.add(item)); });
    }).then(function (id) { changed(); requestSync(); return id; });
  }

  function submit(opts) {
    return enqueue(opts).then(function (id) {
      return drain().then(function () {
        return tx(["items"], "readonly", function (s) { return promised(s.get(id)); });
      });
    });
  }

  function requestSync() {
    var nav = root.navigator;
    if (!nav || !nav.serviceWorker || !root.document) return;  // pages only
    nav.serviceWorker.getRegistration().then(function (reg) {
      if (reg && reg.sync) return reg.sync.register(SYNC_TAG);
    }).catch(function () { /* no Background Sync: `online` and page loads replay */ });
  }

  // ---- replay ----
  function drain() {
    var locks = root.navigator && root.navigator.locks;
    if (locks) return locks.request("gridmgmt-outbox", function () { return drainNow(); });
    if (!localDrain) localDrain = drainNow().then(function (r) { localDrain = null; return r; },
      function (e) { localDrain = null; throw e; });
    return localDrain;
  }

  // send the user's queued items oldest first; stop at the first that must wait
  function drainNow() {
    return Promise.all([getMeta("user"), getMeta("token"), allItems()]).then(function (got) {
      var user = got[0], token = got[1];
      var queue = got[2].filter(function (i) { return i.status === "queued" && i.user === user; });
      var waiting = false;
      function next(k) {
        if (k >= queue.length) return prune();
        return sendOne(queue[k], token).then(function (outcome) {
          if (outcome === "wait") { waiting = true; return prune(); }
          return next(k + 1);
        });
      }
      return next(0).then(function () { return { waiting: waiting }; });
    });
  }

  function resolveRefs(value, refs) {
    if (typeof value === "string") {
      return value.replace(PLACEHOLDER, function (m, name, field) {
        if (!refs[name]) throw { missing: name };
        var v = refs[name][field];
        if (v === undefined || v === null) throw { missing: name };
        return String(v);
      });
    }
    if (Array.isArray(value)) return value.map(function (v) { return resolveRefs(v, refs); });
    if (value && typeof value === "object" && !(value instanceof Blob)) {
      var out = {};
      Object.keys(value).forEach(function (k) { out[k] = resolveRefs(value[k], refs); });
      return out;
    }
    return value;
  }

  function refsFor(item) {
    var names = {};
    JSON.stringify([item.url, item.json, item.fields]).replace(PLACEHOLDER, function (m, name) { names[name] = true; });
    var list = Object.keys(names);
    if (!list.length) return Promise.resolve({});
    return tx(["refs"], "readonly", function (s) {
      return Promise.all(list.map(function (n) { return promised(s.get(n)); }));
    }).then(function (rows) {
      var refs = {};
      rows.forEach(function (r) { if (r) refs[r.name] = r.value; });
      return refs;
    });
  }

  function update(item, changes) {
    Object.keys(changes).forEach(function (k) { item[k] = changes[k]; });
    return tx(["items"], "readwrite", function (s) { return promised(s.put(item)); }).then(changed);
  }

  function refuse(item, reason) {
    return update(item, { status: "refused", reason: reason, sentAt: Date.now(), attempts: item.attempts + 1 })
      .then(function () { return "refused"; });
  }

  function sendOne(item, token) {
    return refsFor(item).then(function (refs) {
      var url, json, fields;
      try {
        url = resolveRefs(item.url, refs); json = resolveRefs(item.json, refs); fields = resolveRefs(item.fields, refs);
      } catch (e) {
        if (!e || !e.missing) throw e;
        return allItems().then(function (items) {
          var producer = items.filter(function (i) { return i.saveAs === e.missing; })[0];
          return refuse(item, producer && producer.status === "refused"
            ? "前一步被拒绝（" + producer.label + "）: " + producer.reason
            : "前一步的结果不在手机上（" + e.missing + "）");
        });
      }
      var headers = { "Accept": "application/json" }, body = null;
      if (token) headers["X-CSRFToken"] = token;
      headers["X-Outbox-User"] = encodeURIComponent(item.user);  // the server refuses it in anyone else's session
      if (item.idempotencyKey) headers["Idempotency-Key"] = item.idempotencyKey;
      if (item.json !== null) {
        if (item.idempotencyKey && json && typeof json === "object" && !Array.isArray(json) && !("idempotency_key" in json)) {
          json.idempotency_key = item.idempotencyKey;
        }
        headers["Content-Type"] = "application/json";
        body = JSON.stringify(json);
      } else if (fields || item.files.length) {
        body = new FormData();
        Object.keys(fields || {}).forEach(function (k) { body.append(k, fields[k]); });
        if (item.idempotencyKey && !(fields && "idempotency_key" in fields)) body.append("idempotency_key", item.idempotencyKey);
        item.files.forEach(function (f) { body.append(f.name, f.blob, f.filename); });
      }
      return fetch(url, { method: item.method, headers: headers, body: body, credentials: "same-origin", redirect: "manual" })
        .then(function (response) {
          if (response.type === "opaqueredirect" || response.status === 401) {
            return update(item, { lastError: "login", attempts: item.attempts + 1 }).then(function () { return "wait"; });
          }
          return response.text().then(function (text) {
            var answer = null;
            try { answer = text ? JSON.parse(text) : null; } catch (e) { answer = null; }
            var reason = (answer && (answer.error || answer.description)) || text.slice(0, 200) || String(response.status);
            if (response.ok) return sent(item, answer);
            if (response.status === 400 && /CSRF|表单已失效|form has expired/.test(reason)) {
              return update(item, { lastError: "login", attempts: item.attempts + 1 }).then(function () { return "wait"; });
            }
            if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
              return refuse(item, reason);
            }
            return update(item, { lastError: "server " + response.status, attempts: item.attempts + 1 })
              .then(function () { return "wait"; });
          });
        }, function () {
          return update(item, { lastError: "network", attempts: item.attempts + 1 }).then(function () { return "wait"; });
        });
    });
  }

  function sent(item, answer) {
    item.status = "sent"; item.result = answer; item.sentAt = Date.now(); item.attempts += 1; item.lastError = null;
    item.files = item.files.map(function (f) { return { name: f.name, filename: f.filename, blob: null }; });  // the server has it
    return tx(["items", "refs"], "readwrite", function (s, r) {
      s.put(item);
      if (item.saveAs && answer) r.put({ name: item.saveAs, value: answer, at: Date.now() });
    }).then(changed).then(function () { return "sent"; });
  }

  // sent items are shown for a week, refusals for a month; answers other items may still need stay
  function prune() {
    var now = Date.now();
    return tx(["items", "refs"], "readwrite", function (s, r) {
      return promised(s.getAll()).then(function (items) {
        var waiting = items.some(function (i) { return i.status === "queued"; });
        items.forEach(function (i) {
          var age = now - (i.sentAt || i.createdAt);
          if ((i.status === "sent" && age > KEEP_SENT_MS) || (i.status === "refused" && age > KEEP_REFUSED_MS)) s.delete(i.id);
        });
        if (!waiting) {
          return promised(r.getAll()).then(function (refs) {
            refs.forEach(function (x) { if (now - x.at > KEEP_SENT_MS) r.delete(x.name); });
          });
        }
      });
    });
  }

  function list() {
    return Promise.all([getMeta("user"), allItems()]).then(function (got) {
      return got[1].filter(function (i) { return i.user === got[0]; });
    });
  }
  function pending() {
    return list().then(function (items) { return items.filter(function (i) { return i.status === "queued"; }).length; });
  }
  function dismiss(id) {
    return tx(["items"], "readwrite", function (s) {
      return promised(s.get(id)).then(function (i) { if (i && i.status !== "queued") s.delete(id); });
    }).then(changed);
  }
  function onChange(fn) { listeners.push(fn); }

  function newKey() {
    if (root.crypto && root.crypto.randomUUID) return root.crypto.randomUUID();
    var a = new Uint8Array(16); root.crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  root.Outbox = {
    submit: submit, enqueue: enqueue, drain: drain, list: list, pending: pending, dismiss: dismiss,
    setContext: setContext, onChange: onChange, newKey: newKey, SYNC_TAG: SYNC_TAG
  };

  // pages: replay when the connection returns and on every load (no Background Sync everywhere)
  if (root.document) {
    root.addEventListener("online", function () { drain(); });
    var meta = root.document.querySelector("meta[name=csrf-token]");
    var who = root.document.querySelector("meta[name=gm-user]");
    if (meta && who && who.content) setContext({ user: who.content, token: meta.content }).then(drain);
  }
})(typeof self !== "undefined" ? self : this);
