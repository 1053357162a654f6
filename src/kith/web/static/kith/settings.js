/* Settings pages: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  // Custom field form: show "Choices" only for select types and "Currency code" only for currency.
  function bindFieldType(select) {
    var form = select.form;
    if (!form) return;
    function update() {
      form.querySelectorAll("[data-for-types]").forEach(function (el) {
        var types = el.getAttribute("data-for-types").split(/\s+/);
        var show = types.indexOf(select.value) !== -1 || el.classList.contains("has-error");
        el.hidden = !show;
      });
    }
    select.addEventListener("change", update);
    update();
  }

  function copyText(input) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(input.value);
    }
    return new Promise(function (resolve, reject) {
      input.focus();
      input.select();
      // Fallback for plain-http installs, where the async clipboard API is unavailable.
      if (document.execCommand && document.execCommand("copy")) resolve();
      else reject(new Error("copy failed"));
    });
  }

  // "Copy" buttons next to a read-only input (the new token's secret).
  function bindCopy(button) {
    var id = button.getAttribute("data-copy");
    var input = document.getElementById(id);
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (!input) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      copyText(input).then(
        function () {
          button.textContent = "Copied";
          if (status) status.textContent = "Copied to the clipboard.";
        },
        function () {
          input.focus();
          input.select();
          if (status) status.textContent = "Press Ctrl+C (⌘C on a Mac) to copy the selected token.";
        }
      );
    });
  }

  function init() {
    document.querySelectorAll("select[data-field-type]").forEach(bindFieldType);
    document.querySelectorAll("[data-copy]").forEach(bindCopy);
    document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
    var summary = document.querySelector("[data-focus-on-load]");
    if (summary) summary.focus();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
