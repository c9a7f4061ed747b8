// Palazzo progressive enhancement. Everything works without this file.
// Loaded with `defer` from our own origin (CSP: no inline scripts).
(function () {
  "use strict";
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
