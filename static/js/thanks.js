// Thanks page: ask every half second whether the webhook has confirmed the payment, then
// reload to show the confirmation. Without JavaScript a <noscript> refresh does the same.
(function () {
  "use strict";
  var box = document.querySelector("[data-thanks-poll]");
  if (!box) return;
  var url = box.getAttribute("data-thanks-poll");
  var tries = 0;
  function ask() {
    tries += 1;
    fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && data.confirmed) { window.location.reload(); return; }
        // Slow down after a minute: Stripe may be retrying for a while.
        setTimeout(ask, tries < 120 ? 500 : 5000);
      })
      .catch(function () { setTimeout(ask, 5000); });
  }
  setTimeout(ask, 300);
})();
