/* Deals: the board's drag and drop and keyboard moves, the lost-reason dialog, the deal page's stage bar
 * and the deal form's stage-dependent lost reason. Loaded with defer; no inline scripts (strict CSP).
 *
 * Moves POST to the card's data-move-url (plus the board's filters as the query string, so the server
 * answers with the column headers as the board shows them) with the CSRF token from <body hx-headers>.
 * A card moves at once; if the server refuses, it goes back where it was and the error is shown.
 */
(function () {
  "use strict";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function board() { return document.querySelector("[data-board]"); }

  function columnFor(stageId) {
    var b = board();
    return b ? b.querySelector('[data-column][data-stage-id="' + stageId + '"]') : null;
  }

  function showMessage(text, isError) {
    var box = document.getElementById("board-message");
    if (!box) {
      var toast = document.getElementById("toast");
      if (toast) {
        toast.textContent = text;
        toast.hidden = false;
        setTimeout(function () { toast.hidden = true; }, 6000);
      }
      return;
    }
    box.textContent = text;
    box.classList.toggle("is-error", !!isError);
    box.classList.toggle("is-success", !isError);
    box.hidden = false;
    clearTimeout(showMessage.timer);
    showMessage.timer = setTimeout(function () { box.hidden = true; }, isError ? 10000 : 4000);
  }

  /* ---------- lost reason dialog ---------- */

  function askReason(dealName, done) {
    var dialog = document.getElementById("lost-dialog");
    if (!dialog || typeof dialog.showModal !== "function") {
      var typed = window.prompt("Why was " + dealName + " lost?");
      done(typed && typed.trim() ? typed.trim() : null);
      return;
    }
    var form = dialog.querySelector("[data-lost-form]");
    var input = dialog.querySelector("#lost-reason-input");
    var error = dialog.querySelector("#lost-reason-error");
    var label = dialog.querySelector("[data-lost-deal]");
    var cancelBtn = dialog.querySelector("[data-lost-cancel]");
    var finished = false;
    if (label) label.textContent = dealName;
    input.value = "";
    input.removeAttribute("aria-invalid");
    error.hidden = true;

    function finish(value) {
      if (finished) return;
      finished = true;
      form.removeEventListener("submit", onSubmit);
      cancelBtn.removeEventListener("click", onCancel);
      dialog.removeEventListener("cancel", onCancel);
      if (dialog.open) dialog.close();
      done(value);
    }
    function onSubmit(e) {
      e.preventDefault();
      var value = input.value.trim();
      if (!value) {
        error.textContent = "Say why the deal was lost.";
        error.hidden = false;
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", "lost-reason-error");
        input.focus();
        return;
      }
      finish(value);
    }
    function onCancel(e) {
      if (e) e.preventDefault();
      finish(null);
    }
    form.addEventListener("submit", onSubmit);
    cancelBtn.addEventListener("click", onCancel);
    dialog.addEventListener("cancel", onCancel);
    dialog.showModal();
    input.focus();
  }

  /* ---------- moving a card ---------- */

  function listOf(column) { return column.querySelector("[data-dropzone]"); }

  function placeAtTop(card, column) {
    var list = listOf(column);
    var first = list.querySelector(".deal-card, .board-more, .board-empty");
    list.insertBefore(card, first);
  }

  function updateHeaders(data) {
    var columns = data.columns || {};
    Object.keys(columns).forEach(function (sid) {
      var col = columnFor(sid);
      if (!col) return;
      var c = columns[sid];
      var set = function (key, value) {
        var el = col.querySelector('[data-stat="' + key + '"]');
        if (el) el.textContent = value;
      };
      set("count", c.count_label);
      set("total", c.total);
      set("weighted", c.weighted);
    });
    var summary = data.summary || {};
    Object.keys(summary).forEach(function (key) {
      var el = document.querySelector('[data-summary="' + key + '"]');
      if (el) el.textContent = summary[key];
    });
  }

  function syncCardSelect(card, stageId) {
    var select = card.querySelector("select[name=stage_id]");
    if (select) select.value = String(stageId);
  }

  function moveCard(card, column, options) {
    options = options || {};
    var fromStage = card.dataset.stageId;
    var toStage = column.dataset.stageId;
    if (String(fromStage) === String(toStage)) {
      if (options.restore) options.restore();
      return;
    }
    var name = card.dataset.dealName || "this deal";
    if (column.dataset.stageKind === "lost" && options.lostReason === undefined) {
      askReason(name, function (reason) {
        if (reason === null) {
          if (options.restore) options.restore();
          syncCardSelect(card, fromStage);
          if (options.focus) {
            // Back to the stage control, still open, to pick another stage.
            var select = card.querySelector("details[open] select[name=stage_id]");
            if (select) select.focus(); else focusCard(card);
          }
          return;
        }
        options.lostReason = reason;
        moveCard(card, column, options);
      });
      return;
    }
    var origin = { parent: card.parentNode, next: card.nextSibling };
    if (options.origin) origin = options.origin;
    placeAtTop(card, column);
    card.dataset.stageId = toStage;
    card.classList.add("is-saving");
    card.setAttribute("aria-busy", "true");
    var details = card.querySelector("details[open]");
    if (details) details.open = false;

    var body = new FormData();
    body.append("stage_id", toStage);
    if (options.lostReason !== undefined) body.append("lost_reason", options.lostReason);
    var b = board();
    var query = b && b.dataset.filterQuery ? "?" + b.dataset.filterQuery : "";

    function fail(message) {
      card.dataset.stageId = fromStage;
      if (origin.parent) origin.parent.insertBefore(card, origin.next && origin.next.parentNode === origin.parent ? origin.next : null);
      syncCardSelect(card, fromStage);
      card.classList.add("is-error");
      setTimeout(function () { card.classList.remove("is-error"); }, 2500);
      showMessage(name + " was not moved: " + message, true);
      if (options.focus) focusCard(card);
    }

    fetch(card.dataset.moveUrl + query, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json", "X-Requested-With": "fetch" }
    }).then(function (resp) {
      return resp.json().catch(function () { return { ok: false, message: "The server answered " + resp.status + "." }; })
        .then(function (data) { return { status: resp.status, data: data }; });
    }).then(function (result) {
      card.classList.remove("is-saving");
      card.removeAttribute("aria-busy");
      if (result.status === 200 && result.data.ok) {
        syncCardSelect(card, toStage);
        updateHeaders(result.data);
        showMessage(result.data.message, false);
        if (options.focus) focusCard(card);
      } else {
        fail(result.data.message || "Something went wrong (" + result.status + ").");
      }
    }).catch(function () {
      card.classList.remove("is-saving");
      card.removeAttribute("aria-busy");
      fail("the server can’t be reached. Check your connection and try again.");
    });
  }

  function focusCard(card) {
    var summary = card.querySelector(".deal-card-move summary");
    var target = summary || card.querySelector("a");
    if (target) target.focus();
  }

  /* ---------- drag and drop ---------- */

  var dragged = null;
  var dragOrigin = null;

  document.addEventListener("dragstart", function (e) {
    var card = e.target.closest && e.target.closest(".deal-card[draggable=true]");
    if (!card || !board()) return;
    dragged = card;
    dragOrigin = { parent: card.parentNode, next: card.nextSibling };
    card.classList.add("is-dragging");
    e.dataTransfer.effectAllowed = "move";
    try { e.dataTransfer.setData("text/plain", card.dataset.dealId); } catch (err) { /* old browsers */ }
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("is-dragging");
    document.querySelectorAll(".board-column.is-drop-target").forEach(function (c) { c.classList.remove("is-drop-target"); });
    dragged = null;
  });

  document.addEventListener("dragover", function (e) {
    if (!dragged) return;
    var column = e.target.closest && e.target.closest("[data-column]");
    if (!column) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".board-column.is-drop-target").forEach(function (c) {
      if (c !== column) c.classList.remove("is-drop-target");
    });
    if (column.dataset.stageId !== dragged.dataset.stageId) column.classList.add("is-drop-target");
  });

  document.addEventListener("drop", function (e) {
    if (!dragged) return;
    var column = e.target.closest && e.target.closest("[data-column]");
    if (!column) return;
    e.preventDefault();
    column.classList.remove("is-drop-target");
    var card = dragged;
    var origin = dragOrigin;
    dragged = null;
    card.classList.remove("is-dragging");
    moveCard(card, column, { origin: origin });
  });

  /* ---------- keyboard: "Move to…" on each card ---------- */

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.matches && form.matches("[data-move-form]")) {
      var card = form.closest(".deal-card");
      var select = form.querySelector("select[name=stage_id]");
      var column = select ? columnFor(select.value) : null;
      if (!card || !column || !window.fetch) return;  // the plain form post still works
      e.preventDefault();
      if (String(select.value) === String(card.dataset.stageId)) {
        var d = card.querySelector("details[open]");
        if (d) d.open = false;
        focusCard(card);
        return;
      }
      moveCard(card, column, { focus: true });
      return;
    }
    // The deal page's stage bar: a lost stage asks for the reason first.
    if (form.matches && form.matches("[data-stage-form][data-needs-reason]") && !form.dataset.reasonGiven) {
      e.preventDefault();
      var title = document.querySelector("h1");
      askReason(title ? title.textContent.trim() : "this deal", function (reason) {
        if (reason === null) return;
        var input = form.querySelector("input[name=lost_reason]");
        if (!input) {
          input = document.createElement("input");
          input.type = "hidden";
          input.name = "lost_reason";
          form.appendChild(input);
        }
        input.value = reason;
        form.dataset.reasonGiven = "1";
        form.submit();
      });
    }
  });

  /* ---------- menus: one open at a time, closed by a click outside or Escape ---------- */

  document.addEventListener("click", function (e) {
    document.querySelectorAll("details.menu[open], details.deal-card-move[open]").forEach(function (d) {
      if (!d.contains(e.target)) d.open = false;
    });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    var open = document.activeElement && document.activeElement.closest &&
      document.activeElement.closest("details.menu[open], details.deal-card-move[open]");
    if (open) {
      open.open = false;
      var s = open.querySelector("summary");
      if (s) s.focus();
    }
  });

  /* ---------- the deal form: the lost reason shows for a lost stage ---------- */

  function syncLostReason(root) {
    var select = (root || document).querySelector("[data-stage-select]") || document.querySelector("[data-stage-select]");
    var reason = document.querySelector("[data-lost-reason]");
    if (!select || !reason) return;
    var option = select.options[select.selectedIndex];
    var lost = option && option.getAttribute("data-kind") === "lost";
    var field = reason.closest(".field");
    var hasError = field && field.classList.contains("has-error");
    if (field) field.hidden = !lost && !hasError && !reason.value;
  }

  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("[data-stage-select]")) syncLostReason();
  });
  document.addEventListener("htmx:afterSwap", function () { syncLostReason(); });
  document.addEventListener("DOMContentLoaded", function () { syncLostReason(); });
})();
