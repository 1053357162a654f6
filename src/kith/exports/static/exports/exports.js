// The export form sends the list's current query: filters and sorting change the address bar through
// htmx (hx-push-url) without reloading the page, so read it when the form is submitted.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form || form.id !== "export-form") return;
  var query = form.querySelector("[data-export-query]");
  if (query) query.value = window.location.search.replace(/^\?/, "");
  var menu = document.getElementById("export-menu");
  if (menu) menu.open = false;
}, true);
