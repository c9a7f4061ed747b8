// Palazzo progressive enhancement. Everything works without this file.
// Loaded with `defer` from our own origin (CSP: no inline scripts).
(function () {
  "use strict";
  // Runs before the Bootstrap Italia bundle (both deferred, in this order):
  // stop video.js from injecting a <style> element, which the CSP forbids.
  window.VIDEOJS_NO_DYNAMIC_STYLE = true;
  // Prevent double submission of a form once it has been sent.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-palazzo-once")) {
      return;
    }
    if (form.getAttribute("data-palazzo-sent") === "1") {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-palazzo-sent", "1");
  });
})();
