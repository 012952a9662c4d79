// Supporter forms (the /support page and the support box): keep the fee and the button's words
// exact as the reader changes the choice. The forms work without this file: the server
// charges a typed amount whenever there is one, so the script only mirrors that rule.
// Moving the keyboard focus never changes the choice; only clicking or typing does.
(function () {
  "use strict";

  function setUp(form) {
    var exponent = Number(form.dataset.exponent);
    var symbol = form.dataset.symbol;
    var rate = Number(form.dataset.feeRate || 0); // basis points: 1.5 % is 150
    var fixed = Number(form.dataset.feeFixed || 0);
    var custom = form.querySelector("input[name=custom_amount]");
    var customRadio = form.querySelector("input[name=amount][value=custom]");
    var cover = form.querySelector("input[name=cover_fee]");
    var feeOut = form.querySelector("[data-fee]");
    var labelOut = form.querySelector("[data-label]");

    // The server's rule (donations/money.py parse_major): commas only between groups of
    // three digits ("1,250"); "12,50" is a decimal comma, which the server refuses, so no
    // price is shown for it (a label of €1,250 would be 100 times what the reader meant).
    var GROUPED = /^(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$/;
    function toMinor(text) {
      text = String(text || "").trim();
      if (!GROUPED.test(text)) return null;
      text = text.replace(/,/g, "");
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
      return Math.ceil(((net + fixed) * 10000) / (10000 - rate)) - net;
    }

    function interval() {
      var radio = form.querySelector("input[name=interval]:checked");
      return radio ? radio.value : form.querySelector("input[name=interval]").value;
    }

    function presetRadio() {
      return (
        form.querySelector("input[name=amount]:checked") ||
        form.querySelector("input[name=preset_" + interval() + "]:checked")
      );
    }

    function chosen() {
      // As the server: a typed amount wins; else the checked preset of this interval.
      if (custom.value.trim()) return toMinor(custom.value);
      var radio = presetRadio();
      if (!radio || radio.value === "custom") return null;
      return toMinor(radio.value);
    }

    function update() {
      var every = interval();
      var net = chosen();
      if (net === null || net <= 0) {
        labelOut.textContent = every === "once" ? "Enter an amount to give" : "Enter an amount to join";
        return;
      }
      var extra = fee(net);
      if (feeOut) feeOut.textContent = format(extra);
      var gross = net + (cover && cover.checked ? extra : 0);
      labelOut.textContent =
        every === "once" ? "Give " + format(gross) + " once" : "Join for " + format(gross) + " / " + every;
    }

    form.addEventListener("change", function (event) {
      var target = event.target;
      // Picking a preset means that amount: forget a typed one, which would otherwise win.
      if (target.type === "radio" && /^(amount|preset_)/.test(target.name) && target.value !== "custom") {
        custom.value = "";
      }
      update();
    });
    custom.addEventListener("input", function () {
      if (customRadio && custom.value.trim()) customRadio.checked = true;
      update();
    });
    form.addEventListener("input", update);
    // /support's frequency tabs: go straight to the page for that frequency, the typed amount
    // (and the fee choice) kept. Without this, the tab posts the form and the server does it.
    var switchUrl = form.dataset.switchUrl;
    form.addEventListener("click", function (event) {
      var tab = event.target.closest ? event.target.closest("button[name=switch]") : null;
      if (!tab || !switchUrl) return;
      event.preventDefault();
      var query = new URLSearchParams({ interval: tab.value });
      ["currency", "custom_amount", "article"].forEach(function (name) {
        var field = form.querySelector("input[name=" + name + "]");
        if (field && field.value.trim()) query.set(name, field.value.trim());
      });
      if (cover && cover.checked) query.set("cover_fee", "1");
      window.location.assign(switchUrl + "?" + query.toString());
    });
    update();
  }

  Array.prototype.forEach.call(document.querySelectorAll(".support-form"), setUp);

  // A refused choice came back from POST /support/checkout: give the page a GET address that
  // shows the same message, so a reload never posts the form again.
  var refused = document.querySelector("[data-replace-url]");
  if (refused && window.history && history.replaceState) {
    history.replaceState(null, "", refused.getAttribute("data-replace-url"));
  }
})();
