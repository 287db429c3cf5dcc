// 报表: load the heavy tables after the page (with a spinner and the seconds spent), and fetch
// exports with progress (generation, then bytes received) before handing them to the browser.
(function () {
  "use strict";
  var box = document.getElementById("report-tables");
  if (box && box.getAttribute("aria-busy") === "true") {
    var started = Date.now(), elapsed = document.getElementById("report-elapsed");
    var tick = window.setInterval(function () {
      if (elapsed) elapsed.textContent = ((Date.now() - started) / 1000).toFixed(1) + " s";
    }, 200);
    var load = function () {
      fetch(box.dataset.src, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (r) {
          return r.text().then(function (text) {
            if (!r.ok) throw new Error(r.status + "");
            return text;
          });
        })
        .then(function (html) {
          // the fragment is our own template's output (escaped by Jinja), from our own origin
          var doc = new DOMParser().parseFromString(html, "text/html");
          var tables = doc.getElementById("report-tables-loaded");
          box.textContent = "";
          if (tables) box.appendChild(document.importNode(tables, true));
          box.setAttribute("aria-busy", "false");
          box.setAttribute("data-seconds", ((Date.now() - started) / 1000).toFixed(2));
        })
        .catch(function (err) {
          box.setAttribute("aria-busy", "false");
          box.textContent = "";
          var p = document.createElement("p");
          p.className = "error";
          p.textContent = box.dataset.textFailed + " (" + err.message + ") ";
          var again = document.createElement("button");
          again.type = "button"; again.className = "btn"; again.textContent = box.dataset.textRetry;
          again.addEventListener("click", function () { window.location.reload(); });
          p.appendChild(again);
          box.appendChild(p);
        })
        .then(function () { window.clearInterval(tick); });
    };
    load();
  }

  var downloads = document.getElementById("downloads");
  if (!downloads || !window.fetch || !window.URL || !URL.createObjectURL) return;
  var status = document.getElementById("export-status");
  var text = status.querySelector(".text"), bar = status.querySelector("progress");
  var busy = false;
  function filename(response, fallback) {
    var m = /filename\*=UTF-8''([^;]+)|filename="?([^";]+)"?/i.exec(response.headers.get("Content-Disposition") || "");
    return m ? decodeURIComponent(m[1] || m[2]) : fallback;
  }
  function read(response, total) {
    if (!response.body || !response.body.getReader) return response.blob();
    var reader = response.body.getReader(), chunks = [], got = 0;
    function pump() {
      return reader.read().then(function (part) {
        if (part.done) return new Blob(chunks, { type: response.headers.get("Content-Type") || "" });
        chunks.push(part.value); got += part.value.length;
        if (total) { bar.max = total; bar.value = got; }
        return pump();
      });
    }
    return pump();
  }
  downloads.querySelectorAll("a.export").forEach(function (link) {
    link.addEventListener("click", function (e) {
      e.preventDefault();
      if (busy) return;
      busy = true;
      var name = link.dataset.name;
      status.hidden = false; status.className = "export-status";
      bar.removeAttribute("value"); bar.removeAttribute("max");  // indeterminate while it is made
      text.textContent = downloads.dataset.textMaking + " " + name + "…";
      var started = Date.now();
      fetch(link.href, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) {
          return r.text().then(function (body) {
            var doc = new DOMParser().parseFromString(body, "text/html");
            var why = doc.querySelector(".error-detail, main p");
            throw new Error(r.status + (why ? ": " + why.textContent.trim() : ""));
          });
        }
        var total = Number(r.headers.get("Content-Length")) || 0;
        return read(r, total).then(function (blob) { return { blob: blob, name: filename(r, name) }; });
      }).then(function (got) {
        var url = URL.createObjectURL(got.blob), a = document.createElement("a");
        a.href = url; a.download = got.name; document.body.appendChild(a); a.click(); a.remove();
        window.setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
        text.textContent = downloads.dataset.textDone + " " + got.name + " (" + ((Date.now() - started) / 1000).toFixed(1) + " s)";
        status.className = "export-status done";
        bar.max = 1; bar.value = 1;
      }).catch(function (err) {
        text.textContent = downloads.dataset.textFailed + ": " + name + " (" + err.message + ")";
        status.className = "export-status failed";
      }).then(function () { busy = false; });
    });
  });
})();
