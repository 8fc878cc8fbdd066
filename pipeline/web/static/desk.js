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

// The inbox at the speed of triage: per-row actions without a reload, the keyboard
// (j/k move, a accept, r reject, e into the newest draft, s later, x select, o/Enter open,
// u undo, ? keys),
// a bulk bar that counts, and the filters folded on a phone. Without this script every
// button is an ordinary form submit.
(function () {
  "use strict";
  var form = document.querySelector("form.bulk");
  if (!form) return;
  var live = document.querySelector("p.summary");
  var countLabel = form.querySelector(".selected-count");
  var help = document.getElementById("keys");
  var filters = document.getElementById("filters");
  if (filters && window.matchMedia("(max-width: 40em)").matches) filters.open = false;

  function rows() {
    return Array.prototype.filter.call(form.querySelectorAll("tr[data-item]"), function (tr) {
      return !tr.hidden && tr.offsetParent !== null;
    });
  }
  var current = null;
  function focusRow(tr) {
    if (!tr) return;
    if (current) current.classList.remove("current");
    current = tr;
    tr.classList.add("current");
    tr.setAttribute("tabindex", "-1");
    tr.focus({ preventScroll: true });
    tr.scrollIntoView({ block: "nearest" });
  }
  function move(step) {
    var list = rows();
    var i = list.indexOf(current);
    focusRow(list[Math.max(0, Math.min(list.length - 1, i + step))] || list[0]);
  }
  function say(text) {
    if (live) live.textContent = text;
  }
  function updateCount() {
    var n = form.querySelectorAll('input[name="item_id"]:checked').length;
    if (countLabel) countLabel.textContent = n ? "(" + n + " ausgewählt)" : "(keine ausgewählt)";
    form.classList.toggle("has-selection", n > 0);
  }
  function post(url, fields) {
    var data = new FormData();
    data.append("csrf_token", form.querySelector('input[name="csrf_token"]').value);
    data.append("back", form.querySelector('input[name="back"]').value);
    Object.keys(fields).forEach(function (k) { data.append(k, fields[k]); });
    return fetch(url, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    });
  }
  function setStatus(tr, status) {
    tr.dataset.status = status;
    tr.className = tr.className.replace(/status-\w+/, "status-" + status);
    tr.classList.add("triaged");
  }
  function triage(tr, action) {
    var url = tr.querySelector(action === "edition" ? "button.row-edition"
      : "button.row-accept, button.row-reject");
    url = url ? url.getAttribute("formaction") : null;
    if (!url) return;
    var next = rows()[rows().indexOf(tr) + 1];
    post(url, { action: action }).then(function (answer) {
      setStatus(tr, answer.status);
      say(answer.message + " Rückgängig mit u.");
      if (current === tr && next) focusRow(next);
    }).catch(function () {
      say("Das hat nicht geklappt; bitte die Seite neu laden.");
    });
  }
  function later(tr) {
    var next = rows()[rows().indexOf(tr) + 1];
    tr.parentNode.appendChild(tr);
    tr.classList.add("later");
    say("Später: ans Ende der Liste gestellt.");
    if (next) focusRow(next);
  }
  function undo() {
    var button = form.querySelector("button.undo");
    post(button.getAttribute("formaction"), {}).then(function (answer) {
      Object.keys(answer.restored).forEach(function (id) {
        var tr = form.querySelector('tr[data-item="' + id + '"]');
        if (tr) setStatus(tr, answer.restored[id]);
      });
      say(answer.message);
    }).catch(function () {
      say("Rückgängig hat nicht geklappt; bitte die Seite neu laden.");
    });
  }

  form.querySelectorAll("button.row-later, button.keys-help").forEach(function (b) {
    b.hidden = false;
  });
  form.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) return;
    var tr = button.closest("tr[data-item]");
    if (tr && (button.classList.contains("row-accept") || button.classList.contains("row-reject") ||
               button.classList.contains("row-edition"))) {
      event.preventDefault();
      focusRow(tr);
      triage(tr, button.value);
    } else if (tr && button.classList.contains("row-later")) {
      later(tr);
    } else if (button.classList.contains("undo")) {
      event.preventDefault();
      undo();
    } else if (button.classList.contains("keys-help") && help) {
      help.showModal();
    }
  });
  form.addEventListener("change", updateCount);
  updateCount();

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target.closest("input, select, textarea, dialog, [contenteditable]") &&
        !(target.type === "checkbox" && event.key !== "Enter")) return;
    if (target.closest("button, a") && event.key === "Enter") return;
    var key = event.key;
    if (!current && ["a", "r", "e", "s", "x", "o"].indexOf(key) >= 0) move(0);
    if (key === "?") {
      if (help) help.showModal();
    } else if (key === "j") {
      move(1);
    } else if (key === "k") {
      move(-1);
    } else if (key === "u") {
      undo();
    } else if (!current && key === "Enter") {
      return;
    } else if (key === "a") {
      triage(current, "accept");
    } else if (key === "r") {
      triage(current, "reject");
    } else if (key === "e") {
      triage(current, "edition");
    } else if (key === "s") {
      later(current);
    } else if (key === "x") {
      var box = current.querySelector('input[name="item_id"]');
      box.checked = !box.checked;
      updateCount();
    } else if (key === "o" || key === "Enter") {
      window.location.href = current.querySelector("td.title a").href;
    } else {
      return;
    }
    event.preventDefault();
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
