// Thanks page: ask whether the webhook has confirmed the payment, then reload to show the
// confirmation (or that the membership has ended since). The pause grows from half a second
// to half a minute, and after about five minutes the page stops asking and says what to do:
// a lost webhook must not keep a tab polling for good. Without JavaScript a bounded
// <noscript> refresh does the same.
(function () {
  "use strict";
  var box = document.querySelector("[data-thanks-poll]");
  if (!box) return;
  var url = box.getAttribute("data-thanks-poll");
  var started = Date.now();
  var LIMIT_MS = 5 * 60 * 1000;
  var pause = 500;
  function giveUp() {
    var waiting = document.querySelector("[data-thanks-waiting]");
    var slow = document.querySelector("[data-thanks-slow]");
    if (waiting) waiting.hidden = true;
    if (slow) slow.hidden = false;
  }
  function again() {
    if (Date.now() - started >= LIMIT_MS) { giveUp(); return; }
    // Half a second for the first 20 s (the usual case), then backing off to 30 s.
    if (Date.now() - started > 20000) pause = Math.min(pause * 2, 30000);
    setTimeout(ask, pause);
  }
  function ask() {
    fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && (data.confirmed || data.ended)) { window.location.reload(); return; }
        again();
      })
      .catch(again);
  }
  setTimeout(ask, 300);
})();
