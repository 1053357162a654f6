/* Lead pages: the running first-response clock, copy buttons, the convert page's optional parts.
 * Loaded with defer; no inline scripts (strict CSP). Everything works without it, only less live. */
(function () {
  "use strict";

  function durationText(ms) {
    var seconds = Math.max(0, Math.floor(ms / 1000));
    var days = Math.floor(seconds / 86400);
    var hours = Math.floor((seconds % 86400) / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    if (days) return hours && days < 7 ? days + " d " + hours + " h" : days + " d";
    if (hours) return minutes ? hours + " h " + minutes + " min" : hours + " h";
    if (minutes) return minutes + " min";
    return "under a minute";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-clock-since]").forEach(function (el) {
      var since = Date.parse(el.getAttribute("data-clock-since"));
      if (isNaN(since)) return;
      var elapsed = now - since;
      var text = el.querySelector("[data-clock-text]");
      if (text) text.textContent = durationText(elapsed);
      var limit = parseInt(el.getAttribute("data-clock-limit"), 10);
      if (!isNaN(limit) && elapsed > limit * 60000 && !el.classList.contains("waiting-overdue")) {
        el.classList.remove("waiting-running");
        el.classList.add("waiting-overdue");
        var flag = el.querySelector(".waiting-flag");
        if (flag) {
          flag.textContent = "Overdue";
          flag.classList.remove("visually-hidden");
        }
      }
    });
  }

  function copy(button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target) return;
    var status = document.querySelector("[data-copy-status]");
    function done(ok) {
      if (status) status.textContent = ok ? "Copied to the clipboard." : "Select the text and copy it with Ctrl+C.";
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(target.value).then(function () { done(true); }, function () { done(false); });
    } else {
      target.focus();
      target.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      done(ok);
    }
  }

  function syncConvert() {
    var deal = document.querySelector("[data-deal-section] input[type=checkbox]");
    var fields = document.querySelector("[data-deal-fields]");
    if (deal && fields) fields.classList.toggle("is-off", !deal.checked);
    var other = document.querySelector("input[name=company_mode][value=other]");
    var pick = document.querySelector(".company-pick");
    if (other && pick) pick.hidden = !other.checked && !pick.querySelector(".field-error");
  }

  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-copy]");
    if (button) copy(button);
  });
  document.addEventListener("change", function (e) {
    if (e.target && (e.target.name === "create_deal" || e.target.name === "company_mode")) syncConvert();
  });
  document.addEventListener("DOMContentLoaded", function () {
    syncConvert();
    tick();
    setInterval(tick, 30000);
  });
})();
