// Supporter page: keep the fee and the button's words exact as the reader changes the choice.
// The page works without this file; it only makes the button say exactly what will happen.
(function () {
  "use strict";
  var form = document.querySelector(".support-form");
  if (!form) return;
  var exponent = Number(form.dataset.exponent);
  var symbol = form.dataset.symbol;
  var rate = Number(form.dataset.feeRate);
  var fixed = Number(form.dataset.feeFixed);
  var interval = form.dataset.interval;
  var custom = form.querySelector("#custom_amount");
  var cover = form.querySelector("input[name=cover_fee]");
  var feeOut = form.querySelector("[data-fee]");
  var labelOut = form.querySelector("[data-label]");

  function toMinor(text) {
    text = String(text || "").trim().replace(/,/g, "");
    if (!/^\d+(\.\d+)?$/.test(text)) return null;
    var parts = text.split(".");
    var decimals = parts[1] || "";
    if (decimals.length > exponent) return null;
    while (decimals.length < exponent) decimals += "0";
    return Number(parts[0]) * Math.pow(10, exponent) + Number(decimals || 0);
  }

  function format(minor) {
    var scale = Math.pow(10, exponent);
    var whole = Math.floor(minor / scale);
    var rest = minor % scale;
    var text = symbol + whole.toLocaleString("en-US");
    if (rest) text += "." + String(rest).padStart(exponent, "0");
    return text;
  }

  function fee(net) {
    // Same rule as donations/support/options.py: gross = ceil((net + fixed) / (1 - rate)).
    return Math.ceil(((net + fixed) * 1000) / (1000 - rate)) - net;
  }

  function chosen() {
    var radio = form.querySelector("input[name=amount]:checked");
    if (!radio) return null;
    return toMinor(radio.value === "custom" ? custom.value : radio.value);
  }

  function update() {
    var net = chosen();
    if (net === null || net <= 0) {
      labelOut.textContent = interval === "once" ? "Give once" : "Join";
      return;
    }
    var extra = fee(net);
    feeOut.textContent = format(extra);
    var gross = net + (cover.checked ? extra : 0);
    labelOut.textContent =
      interval === "once" ? "Give " + format(gross) + " once" : "Join for " + format(gross) + " / " + interval;
  }

  custom.addEventListener("focus", function () {
    form.querySelector("input[name=amount][value=custom]").checked = true;
    update();
  });
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
