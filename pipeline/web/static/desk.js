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
