/* Kith web UI behaviour. Loaded with defer; no inline scripts anywhere (strict CSP).
 *
 *  - "/" or Ctrl-K / Cmd-K focuses the global search; its dropdown gets arrow-key navigation.
 *  - <select data-combobox data-lookup="/companies/lookup/"> becomes a searchable combobox.
 *  - [data-dialog-open="id"] opens a <dialog> (the button's form is the no-JS fallback).
 *  - htmx GET requests drop empty parameters so pushed URLs stay short.
 */
(function () {
  "use strict";

  function isEditable(el) {
    if (!el) return false;
    var tag = el.tagName;
    return el.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  function debounce(fn, ms) {
    var t;
    return function () {
      var args = arguments, self = this;
      clearTimeout(t);
      t = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  /* ---------- global search ---------- */

  function searchInput() { return document.getElementById("global-search-input"); }
  function searchBox() { return document.getElementById("global-search-results"); }

  function searchOptions() {
    var box = searchBox();
    return box ? Array.prototype.slice.call(box.querySelectorAll("[role=option]")) : [];
  }

  function setActive(options, index) {
    var input = searchInput();
    options.forEach(function (opt, i) {
      var on = i === index;
      opt.classList.toggle("is-active", on);
      opt.setAttribute("aria-selected", on ? "true" : "false");
      if (on) opt.scrollIntoView({ block: "nearest" });
    });
    if (index >= 0 && options[index]) input.setAttribute("aria-activedescendant", options[index].id);
    else input.removeAttribute("aria-activedescendant");
  }

  function activeIndex(options) {
    for (var i = 0; i < options.length; i++) if (options[i].classList.contains("is-active")) return i;
    return -1;
  }

  function openSearch(open) {
    var box = searchBox(), input = searchInput();
    if (!box || !input) return;
    var show = open && box.innerHTML.trim() !== "" && input.value.trim() !== "";
    box.hidden = !show;
    input.setAttribute("aria-expanded", show ? "true" : "false");
    if (!show) input.removeAttribute("aria-activedescendant");
  }

  function focusSearch() {
    var input = searchInput();
    if (!input) return;
    input.focus();
    input.select();
  }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented) return;
    var k = e.key;
    if ((e.ctrlKey || e.metaKey) && !e.altKey && (k === "k" || k === "K")) {
      e.preventDefault();
      focusSearch();
      return;
    }
    if (k === "/" && !e.ctrlKey && !e.metaKey && !e.altKey && !isEditable(e.target)) {
      e.preventDefault();
      focusSearch();
    }
  });

  function wireGlobalSearch() {
    var input = searchInput();
    if (!input || input.dataset.wired) return;
    input.dataset.wired = "1";
    var form = input.form;

    input.addEventListener("keydown", function (e) {
      var options = searchOptions();
      var box = searchBox();
      var i = activeIndex(options);
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        if (!options.length) return;
        e.preventDefault();
        if (box.hidden) openSearch(true);
        var next = e.key === "ArrowDown" ? (i + 1) % options.length : (i <= 0 ? options.length - 1 : i - 1);
        setActive(options, next);
      } else if (e.key === "Enter") {
        if (i >= 0 && !box.hidden) {
          e.preventDefault();
          window.location.assign(options[i].getAttribute("href"));
        }
      } else if (e.key === "Escape") {
        if (!box.hidden) {
          e.preventDefault();
          openSearch(false);
        } else {
          input.blur();
        }
      }
    });
    input.addEventListener("input", function () {
      if (input.value.trim() === "") openSearch(false);
    });
    input.addEventListener("focus", function () { openSearch(true); });
    form.addEventListener("focusout", function () {
      setTimeout(function () {
        if (!form.contains(document.activeElement)) openSearch(false);
      }, 120);
    });
    document.addEventListener("click", function (e) {
      if (!form.contains(e.target)) openSearch(false);
    });
    searchBox().addEventListener("mousemove", function (e) {
      var opt = e.target.closest && e.target.closest("[role=option]");
      if (!opt) return;
      var options = searchOptions();
      var idx = options.indexOf(opt);
      if (idx !== activeIndex(options)) setActive(options, idx);
    });
  }

  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.target && e.target.id === "global-search-results") {
      var input = searchInput();
      setActive(searchOptions(), -1);
      openSearch(document.activeElement === input);
    }
  });

  /* ---------- combobox (searchable select) ---------- */

  function enhanceCombobox(select) {
    if (select.dataset.enhanced) return;
    select.dataset.enhanced = "1";
    var url = select.dataset.lookup || "/companies/lookup/";
    var id = select.id;
    var listId = id + "-listbox";
    var wrap = document.createElement("div");
    wrap.className = "combobox";
    var input = document.createElement("input");
    input.type = "text";
    input.id = id;
    input.autocomplete = "off";
    input.spellcheck = false;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    input.placeholder = select.dataset.placeholder || "Search companies…";
    ["aria-describedby", "aria-invalid", "aria-required"].forEach(function (a) {
      if (select.hasAttribute(a)) input.setAttribute(a, select.getAttribute(a));
    });
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "combobox-list";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    select.id = id + "-select";
    select.hidden = true;
    select.tabIndex = -1;
    select.setAttribute("aria-hidden", "true");
    select.parentNode.insertBefore(wrap, select);
    wrap.appendChild(input);
    wrap.appendChild(list);
    wrap.appendChild(select);

    // Non-numeric options ("none" = No company) are offered too; "" is the empty choice.
    var specials = Array.prototype.filter.call(select.options, function (o) {
      return o.value !== "" && !/^\d+$/.test(o.value);
    }).map(function (o) { return { id: o.value, label: o.text, hint: "" }; });

    function selectedLabel() {
      var o = select.options[select.selectedIndex];
      return o && o.value !== "" ? o.text : "";
    }
    input.value = selectedLabel();

    var items = [], active = -1, seq = 0;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(i) {
      active = i;
      Array.prototype.forEach.call(list.children, function (li, j) {
        li.classList.toggle("is-active", j === i);
      });
      if (i >= 0 && list.children[i]) {
        input.setAttribute("aria-activedescendant", list.children[i].id);
        list.children[i].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function render(results) {
      items = results;
      list.innerHTML = "";
      if (!results.length) {
        var empty = document.createElement("li");
        empty.className = "combobox-empty";
        empty.setAttribute("role", "option");
        empty.setAttribute("aria-disabled", "true");
        empty.id = listId + "-empty";
        empty.textContent = "No matches";
        list.appendChild(empty);
      }
      results.forEach(function (r, i) {
        var li = document.createElement("li");
        li.id = listId + "-" + i;
        li.className = "combobox-option";
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", String(select.value === String(r.id)));
        var label = document.createElement("span");
        label.textContent = r.label;
        li.appendChild(label);
        if (r.hint) {
          var hint = document.createElement("span");
          hint.className = "combobox-hint";
          hint.textContent = r.hint;
          li.appendChild(hint);
        }
        li.addEventListener("mousedown", function (e) { e.preventDefault(); });
        li.addEventListener("click", function () { choose(r); });
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(results.length ? 0 : -1);
    }

    function choose(r) {
      var value = String(r.id);
      var opt = Array.prototype.find.call(select.options, function (o) { return o.value === value; });
      if (!opt) {
        opt = new Option(r.label, value);
        select.add(opt);
      }
      select.value = value;
      input.value = r.label;
      close();
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }

    var fetchResults = debounce(function () {
      var q = input.value.trim();
      var mine = ++seq;
      fetch(url + "?q=" + encodeURIComponent(q), {
        headers: { Accept: "application/json" }, credentials: "same-origin"
      }).then(function (resp) { return resp.ok ? resp.json() : { results: [] }; })
        .then(function (data) {
          if (mine !== seq || document.activeElement !== input) return;
          var lower = q.toLowerCase();
          var extra = specials.filter(function (s) { return !q || s.label.toLowerCase().indexOf(lower) !== -1; });
          render(extra.concat(data.results || []));
        })
        .catch(function () { /* offline: keep the current choice */ });
    }, 150);

    input.addEventListener("input", fetchResults);
    input.addEventListener("focus", fetchResults);
    input.addEventListener("change", function (e) { e.stopPropagation(); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (list.hidden) { fetchResults(); return; }
        if (!items.length) return;
        var n = e.key === "ArrowDown" ? (active + 1) % items.length : (active <= 0 ? items.length - 1 : active - 1);
        highlight(n);
      } else if (e.key === "Enter") {
        if (!list.hidden && active >= 0 && items[active]) {
          e.preventDefault();
          choose(items[active]);
        }
      } else if (e.key === "Escape") {
        if (!list.hidden) { e.preventDefault(); e.stopPropagation(); close(); }
      }
    });
    input.addEventListener("blur", function () {
      setTimeout(function () {
        close();
        if (input.value.trim() === "") {
          if (select.value !== "") {
            select.value = "";
            select.dispatchEvent(new Event("change", { bubbles: true }));
          }
        } else {
          input.value = selectedLabel();
        }
      }, 150);
    });
  }

  /* ---------- dialogs, messages, error summaries ---------- */

  document.addEventListener("click", function (e) {
    var opener = e.target.closest && e.target.closest("[data-dialog-open]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-dialog-open"));
      if (dialog && typeof dialog.showModal === "function") {
        e.preventDefault();
        dialog.showModal();
        var cancel = dialog.querySelector("[data-dialog-close]");
        if (cancel) cancel.focus();
      }
      return;
    }
    var closer = e.target.closest && e.target.closest("[data-dialog-close]");
    if (closer) {
      var d = closer.closest("dialog");
      if (d) d.close();
      return;
    }
    var dismiss = e.target.closest && e.target.closest("[data-dismiss]");
    if (dismiss) {
      var msg = dismiss.closest(".message");
      if (msg) msg.remove();
      return;
    }
    // A click outside an open filter panel closes it.
    document.querySelectorAll("details.filter-panel[open]").forEach(function (panel) {
      if (!panel.contains(e.target) && !e.target.closest(".combobox-list")) panel.open = false;
    });
  });

  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape" || e.defaultPrevented) return;
    var panel = document.querySelector("details.filter-panel[open]");
    if (panel && panel.contains(document.activeElement)) {
      panel.open = false;
      panel.querySelector("summary").focus();
    }
  });

  /* ---------- htmx integration ---------- */

  document.addEventListener("htmx:configRequest", function (e) {
    if (e.detail.verb !== "get" || !e.detail.formData) return;
    var fd = e.detail.formData;
    var keep = [];
    fd.forEach(function (value, key) {
      if (typeof value !== "string" || value.trim() !== "") keep.push([key, value]);
    });
    var keys = [];
    fd.forEach(function (_v, key) { if (keys.indexOf(key) === -1) keys.push(key); });
    keys.forEach(function (key) { fd.delete(key); });
    keep.forEach(function (pair) { fd.append(pair[0], pair[1]); });
  });

  function toast(text) {
    var el = document.getElementById("toast");
    if (!el) return;
    el.textContent = text;
    el.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { el.hidden = true; }, 5000);
  }

  document.addEventListener("htmx:responseError", function (e) {
    var status = e.detail.xhr ? e.detail.xhr.status : 0;
    if (status === 401 || status === 403) toast("You are signed out or not allowed to do this. Reload the page.");
    else toast("Something went wrong (" + status + "). Please try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("The server can’t be reached. Check your connection and try again.");
  });

  function init(root) {
    root = root || document;
    wireGlobalSearch();
    root.querySelectorAll("select[data-combobox]").forEach(enhanceCombobox);
  }

  document.addEventListener("htmx:load", function (e) { init(e.target); });
  document.addEventListener("DOMContentLoaded", function () {
    init(document);
    var summary = document.getElementById("error-summary") || document.querySelector("[data-focus-on-load]");
    if (summary) summary.focus();
  });
})();
