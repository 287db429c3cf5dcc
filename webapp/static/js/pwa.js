// Registers the field app's service worker (/sw.js, scope: the whole app) on the worker's pages.
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function (reg) {
    window.gmServiceWorker = reg;
  }).catch(function (e) { if (window.console) console.warn("service worker:", e); });
})();
