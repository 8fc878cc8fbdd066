// Small improvements for the desk; every page works without this script.
(function () {
  "use strict";
  // "Select all" checkbox in the inbox table.
  document.querySelectorAll("input.select-all").forEach(function (box) {
    var table = box.closest("table");
    box.hidden = false;
    box.addEventListener("change", function () {
      table.querySelectorAll('tbody input[type="checkbox"][name="item_id"]').forEach(function (c) {
        c.checked = box.checked;
      });
    });
  });
  // Ask before destructive actions (buttons with data-confirm).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();

// Unsaved work: forms marked data-unsaved-warning ask before the page is left with
// changes not yet saved (the browser's own "Seite verlassen?" dialog). Submitting the
// form itself is not leaving it.
(function () {
  "use strict";
  var dirty = false;
  document.querySelectorAll("form[data-unsaved-warning]").forEach(function (form) {
    var mark = function () { dirty = true; };
    form.addEventListener("input", mark);
    form.addEventListener("change", mark);
    form.addEventListener("submit", function () { dirty = false; });
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
