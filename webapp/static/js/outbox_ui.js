// 待发送 N and each outbox item's fate (已发送 / 被拒绝: reason), on the worker's pages.
// Text from the server goes in with textContent, never as HTML.
(function () {
  "use strict";
  if (!window.Outbox) return;
  function t(s) { return window.tw ? window.tw(s) : s; }
  var KINDS = { report: "上报事件", photo: "照片", diary: "民情日记", "patrol-start": "开始巡查",
                "patrol-points": "巡查位置", "patrol-stop": "结束巡查", household: "房屋台账" };
  var badges = document.querySelectorAll("[data-outbox-count]");
  var panel = document.getElementById("outbox");

  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
  function time(ms) { var d = new Date(ms); return (d.getMonth() + 1) + "-" + d.getDate() + " " + String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0"); }

  function render() {
    return Outbox.list().then(function (items) {
      // a photo travels with its report: counted and listed as part of it
      items = items.filter(function (i) { return i.kind !== "photo" || i.status === "refused"; });
      var waiting = items.filter(function (i) { return i.status === "queued"; });
      Array.prototype.forEach.call(badges, function (b) { b.textContent = waiting.length; b.hidden = !waiting.length; });
      if (!panel) return;
      panel.hidden = !items.length;
      panel.querySelector(".outbox-count").textContent = waiting.length;
      var login = waiting.some(function (i) { return i.lastError === "login"; });
      var note = panel.querySelector(".outbox-note");
      note.textContent = login ? t("登录已失效：请重新登录，之后自动发送") :
        (waiting.length ? (navigator.onLine ? t("正在发送…") : t("离线：联网后自动发送")) : "");
      var list = panel.querySelector(".outbox-items"); list.textContent = "";
      items.slice().reverse().slice(0, 30).forEach(function (i) {
        var li = el("li", "outbox-item o-" + i.status); li.dataset.kind = i.kind; li.dataset.status = i.status;
        li.appendChild(el("b", "", t(KINDS[i.kind] || i.kind)));
        li.appendChild(el("span", "olabel", " " + i.label + " "));
        var fate = i.status === "sent" ? t("已发送") : i.status === "refused" ? t("被拒绝") + ": " + (i.reason || "") : t("待发送");
        li.appendChild(el("span", "fate", fate));
        li.appendChild(el("span", "muted otime", " · " + time(i.sentAt || i.createdAt)));
        if (i.status !== "queued") {
          var x = el("button", "link dismiss", "×"); x.type = "button"; x.title = t("移除");
          x.setAttribute("aria-label", t("移除"));
          x.addEventListener("click", function () { Outbox.dismiss(i.id); });
          li.appendChild(x);
        }
        list.appendChild(li);
      });
    });
  }
  Outbox.onChange(render);
  window.addEventListener("online", render);
  window.addEventListener("offline", render);
  render();
  window.outboxUI = { render: render };
})();
