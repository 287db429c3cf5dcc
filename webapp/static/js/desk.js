// 调度台: poll for new cases every 30 s (badge + live queue counts) and 批量派遣 of the ticked cases.
// Texts come from the page (data-text-*), already in its language; data goes in with textContent.
(function () {
  "use strict";
  var POLL_MS = 30000;
  var live = document.getElementById("desk-live");
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");

  // ---- auto-refresh: counts of every queue and a badge for cases newer than the page ----
  if (live) {
    var since = Number(live.dataset.since) || 0;
    var badge = document.getElementById("desk-new");
    var poll = function () {
      var url = live.dataset.url + (live.dataset.url.indexOf("?") < 0 ? "?" : "&") + "since=" + since;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) {
          Object.keys(data.counts).forEach(function (name) {
            var b = document.querySelector("#queue-" + name + " b");
            if (b) b.textContent = String(data.counts[name]);
          });
          if (data.new_count > 0) {
            badge.textContent = data.new_count + " " + live.dataset.textNew;
            badge.hidden = false;
            badge.setAttribute("data-new", String(data.new_count));
          }
          live.setAttribute("data-polled", String(Date.now()));
        })
        .catch(function () {
          var note = document.getElementById("desk-refreshed");
          if (note) note.textContent = live.dataset.textFailed;
        });
    };
    window.setInterval(poll, Number(live.dataset.interval) || POLL_MS);
    live.addEventListener("poll", poll);  // lets a test (or a future button) poll now
  }

  // ---- 批量派遣 ----
  var form = document.getElementById("bulk-dispatch");
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input.pick-case"));
  if (!form || !boxes.length) return;
  form.hidden = false;
  var all = document.getElementById("pick-all");
  var count = document.getElementById("bulk-count");
  var results = document.getElementById("bulk-results");
  function ticked() { return boxes.filter(function (b) { return b.checked && !b.disabled; }); }
  function update() { count.textContent = String(ticked().length); }
  boxes.forEach(function (b) { b.addEventListener("change", update); });
  all.addEventListener("change", function () {
    boxes.forEach(function (b) { if (!b.disabled) b.checked = all.checked; });
    update();
  });
  function say(text, cls) {
    var li = document.createElement("li");
    li.textContent = text;
    if (cls) li.className = cls;
    results.appendChild(li);
    return li;
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    results.textContent = "";
    var picked = ticked(), department = form.elements.department.value;
    if (!picked.length) { say(form.dataset.textNone, "refused"); return; }
    if (!department) { say(form.dataset.textNodept, "refused"); return; }
    var button = document.getElementById("bulk-submit");
    button.disabled = true;
    var byId = {};
    picked.forEach(function (b) { byId[b.value] = b; });
    fetch(form.dataset.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({
        department: department,
        cases: picked.map(function (b) { return { id: Number(b.value), version: Number(b.dataset.version) }; })
      })
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) throw new Error(data.error || String(r.status));
        return data;
      });
    }).then(function (data) {
      data.results.forEach(function (res) {
        var box = byId[String(res.id)];
        var number = res.number || (box && box.dataset.number) || ("#" + res.id);
        var li = say(number + ": " + (res.ok ? form.dataset.textDone + " → " + data.department : form.dataset.textRefused + " (" + res.text + ")"),
          res.ok ? "ok" : "refused");
        li.setAttribute("data-id", String(res.id));
        if (res.ok && box) {
          box.checked = false; box.disabled = true;
          var row = box.closest("tr");
          if (row) row.classList.add("row-dispatched");
        }
      });
      update();
    }).catch(function (err) {
      say(form.dataset.textFailed + ": " + err.message, "refused");
    }).then(function () { button.disabled = false; });
  });
})();
