/* Activities UI behaviour. Loaded with defer; no inline scripts (strict CSP).
 * Sections are owned by different helpers; edit only your own section, add yours in a new marked section.
 * Copy buttons (data-copy) and data-select-on-focus on settings pages are handled by kith/settings.js.
 */

/* ===== timeline, logging, comments and @mentions (act_ui) =====
 *  - select[data-picker-add="related|attendees"] (a kith.js combobox) adds a chip with a hidden input to the
 *    enclosing [data-picker]; [data-picker-remove] removes one.
 *  - [data-close-slot] empties the inline form slot (Cancel of an inline form).
 *  - An inline form loaded into #activity-form-slot gets the focus.
 *  - textarea[data-mentions="<lookup url>"]: typing "@" opens a colleague picker that inserts "@email".
 */
(function () {
  "use strict";

  var SLOT_ID = "activity-form-slot";

  function debounce(fn, ms) {
    var t;
    return function () {
      var args = arguments, self = this;
      clearTimeout(t);
      t = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  /* ---------- related records / attendees pickers ---------- */

  function addChip(select) {
    var value = select.value;
    if (!value) return;
    var picker = select.closest("[data-picker]");
    if (!picker) return;
    var name = select.getAttribute("data-picker-add");
    var chips = picker.querySelector("[data-picker-chips]");
    var opt = select.options[select.selectedIndex];
    var label = opt ? opt.text : value;
    var exists = Array.prototype.some.call(chips.querySelectorAll("input[type=hidden]"), function (i) {
      return i.value === value;
    });
    if (!exists) {
      var li = document.createElement("li");
      li.className = "chip picker-chip";
      var kind = document.createElement("span");
      kind.className = "picker-kind";
      var k = value.split(":")[0];
      kind.textContent = { contact: "Contact", company: "Company", lead: "Lead", deal: "Deal", user: "User" }[k] || k;
      var text = document.createElement("span");
      text.className = "chip-label";
      text.textContent = label;
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "chip-remove";
      remove.setAttribute("data-picker-remove", "");
      remove.setAttribute("aria-label", "Remove " + label);
      remove.textContent = "×";
      li.appendChild(kind);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(text);
      li.appendChild(input);
      li.appendChild(remove);
      chips.appendChild(li);
    }
    select.value = "";
    var combo = select.parentNode.querySelector("input[role=combobox]");
    if (combo) {
      combo.value = "";
      combo.focus();
    }
  }

  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t && t.matches && t.matches("select[data-picker-add]")) addChip(t);
  });

  document.addEventListener("click", function (e) {
    var remove = e.target.closest && e.target.closest("[data-picker-remove]");
    if (remove) {
      e.preventDefault();
      var picker = remove.closest("[data-picker]");
      remove.closest("li").remove();
      var combo = picker && picker.querySelector("input[role=combobox]");
      if (combo) combo.focus();
      return;
    }
    var close = e.target.closest && e.target.closest("[data-close-slot]");
    if (close) {
      var slot = document.getElementById(SLOT_ID);
      if (slot && slot.contains(close)) {
        e.preventDefault();
        slot.innerHTML = "";
        var first = document.querySelector(".tl-actions a, .tl-actions button");
        if (first) first.focus();
      }
    }
  });

  document.addEventListener("htmx:afterSwap", function (e) {
    var target = e.detail && e.detail.target;
    if (target && target.id === SLOT_ID) {
      var field = target.querySelector(
        "input:not([type=hidden]):not([disabled]), textarea, select:not([hidden])"
      );
      var invalid = target.querySelector("[aria-invalid=true]");
      if (invalid) field = invalid.tagName === "SELECT" && invalid.hidden ? field : invalid;
      if (field) field.focus();
    }
  });

  /* ---------- @mentions ---------- */

  function wireMentions(ta) {
    if (ta.dataset.mentionsWired) return;
    ta.dataset.mentionsWired = "1";
    var url = ta.getAttribute("data-mentions");
    if (!url || url === "1") url = "/activities/lookup/users/";
    var wrap = ta.parentNode;
    if (!wrap.classList.contains("mention-field")) {
      wrap = document.createElement("div");
      wrap.className = "mention-field";
      ta.parentNode.insertBefore(wrap, ta);
      wrap.appendChild(ta);
    }
    var listId = (ta.id || "mention") + "-mentions";
    var list = document.createElement("ul");
    list.className = "mention-list";
    list.id = listId;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Mention a colleague");
    list.hidden = true;
    wrap.appendChild(list);
    ta.setAttribute("aria-autocomplete", "list");
    ta.setAttribute("aria-controls", listId);
    ta.setAttribute("aria-expanded", "false");

    var items = [], active = -1, seq = 0;

    function context() {
      var pos = ta.selectionStart;
      if (pos !== ta.selectionEnd) return null;
      var before = ta.value.slice(0, pos);
      var m = /(^|[\s(\[{>,;])@([^\s@]{0,60})$/.exec(before);
      return m ? { start: pos - m[2].length - 1, end: pos, q: m[2] } : null;
    }

    function close() {
      list.hidden = true;
      ta.setAttribute("aria-expanded", "false");
      ta.removeAttribute("aria-activedescendant");
      active = -1;
      items = [];
    }

    function highlight(i) {
      active = i;
      Array.prototype.forEach.call(list.children, function (li, j) {
        var on = j === i;
        li.classList.toggle("is-active", on);
        li.setAttribute("aria-selected", on ? "true" : "false");
      });
      if (i >= 0 && list.children[i]) ta.setAttribute("aria-activedescendant", list.children[i].id);
      else ta.removeAttribute("aria-activedescendant");
    }

    function choose(item) {
      var ctx = context();
      if (!ctx) { close(); return; }
      var insert = "@" + item.id + " ";
      ta.value = ta.value.slice(0, ctx.start) + insert + ta.value.slice(ctx.end);
      var caret = ctx.start + insert.length;
      ta.setSelectionRange(caret, caret);
      close();
      ta.focus();
      ta.dispatchEvent(new Event("input", { bubbles: true }));
    }

    function render(results) {
      items = results;
      list.innerHTML = "";
      if (!results.length) { close(); return; }
      results.forEach(function (r, i) {
        var li = document.createElement("li");
        li.id = listId + "-" + i;
        li.className = "mention-option";
        li.setAttribute("role", "option");
        var name = document.createElement("span");
        name.className = "mention-name";
        name.textContent = r.label;
        var hint = document.createElement("span");
        hint.className = "mention-hint";
        hint.textContent = r.hint;
        li.appendChild(name);
        li.appendChild(hint);
        li.addEventListener("mousedown", function (ev) { ev.preventDefault(); });
        li.addEventListener("click", function () { choose(r); });
        list.appendChild(li);
      });
      list.hidden = false;
      ta.setAttribute("aria-expanded", "true");
      highlight(0);
    }

    var lookup = debounce(function () {
      var ctx = context();
      if (!ctx) { close(); return; }
      var mine = ++seq;
      fetch(url + "?q=" + encodeURIComponent(ctx.q), {
        headers: { Accept: "application/json" }, credentials: "same-origin"
      }).then(function (resp) { return resp.ok ? resp.json() : { results: [] }; })
        .then(function (data) {
          if (mine !== seq || document.activeElement !== ta || !context()) return;
          render(data.results || []);
        })
        .catch(function () { close(); });
    }, 120);

    ta.addEventListener("input", function () {
      if (context()) lookup(); else close();
    });
    ta.addEventListener("keydown", function (e) {
      if (list.hidden || !items.length) return;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        var n = e.key === "ArrowDown" ? (active + 1) % items.length : (active <= 0 ? items.length - 1 : active - 1);
        highlight(n);
      } else if (e.key === "Enter" || e.key === "Tab") {
        if (active >= 0 && items[active]) {
          e.preventDefault();
          choose(items[active]);
        }
      } else if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        close();
      }
    });
    ta.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  function init(root) {
    root = root || document;
    if (root.matches && root.matches("textarea[data-mentions]")) wireMentions(root);
    if (root.querySelectorAll) root.querySelectorAll("textarea[data-mentions]").forEach(wireMentions);
  }

  document.addEventListener("htmx:load", function (e) { init(e.target); });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
})();
/* ===== end timeline (act_ui) ===== */

/* ===== tasks (act_tasks): the task form's "Every N days" field shows only for that repeat rule ===== */
(function () {
  "use strict";

  function bindRepeat(select) {
    if (select.dataset.taskRepeatWired) return;
    select.dataset.taskRepeatWired = "1";
    var form = select.form;
    var every = form && form.querySelector("[data-task-every]");
    if (!every) return;
    function update() {
      every.hidden = !(select.value === "every_n_days" || every.querySelector(".has-error"));
    }
    select.addEventListener("change", update);
    update();
  }

  function init(root) {
    (root || document).querySelectorAll("select[data-task-repeat]").forEach(bindRepeat);
  }

  document.addEventListener("htmx:load", function (e) { init(e.target); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { init(document); });
  else init(document);
})();
/* ===== end tasks (act_tasks) ===== */
