// Small improvements for the desk; every page works without this script.

// POST `fields` as a form (the CSRF token among them) and read the JSON answer; rejects
// on an HTTP error. Used by the inbox and the edition editor below.
function eudigestPost(url, fields) {
  "use strict";
  var data = new FormData();
  Object.keys(fields).forEach(function (k) { data.append(k, String(fields[k])); });
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
    var all = {
      csrf_token: form.querySelector('input[name="csrf_token"]').value,
      back: form.querySelector('input[name="back"]').value,
    };
    Object.keys(fields).forEach(function (k) { all[k] = fields[k]; });
    return eudigestPost(url, all);
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
  // "Später" is stored: the row leaves the list until tomorrow ("Später (n)" shows it).
  function later(tr) {
    var button = tr.querySelector("button.row-later");
    if (!button) return;
    var next = rows()[rows().indexOf(tr) + 1];
    post(button.getAttribute("formaction"), { action: button.value }).then(function (answer) {
      tr.hidden = true;
      tr.classList.add("later");
      say(answer.message + " Rückgängig mit u.");
      if (next) focusRow(next);
    }).catch(function () {
      say("Das hat nicht geklappt; bitte die Seite neu laden.");
    });
  }
  function undo() {
    var button = form.querySelector("button.undo");
    post(button.getAttribute("formaction"), {}).then(function (answer) {
      Object.keys(answer.restored).forEach(function (id) {
        var tr = form.querySelector('tr[data-item="' + id + '"]');
        if (!tr) return;
        tr.hidden = false;
        tr.classList.remove("later");
        setStatus(tr, answer.restored[id]);
      });
      say(answer.message);
    }).catch(function () {
      say("Rückgängig hat nicht geklappt; bitte die Seite neu laden.");
    });
  }

  form.querySelectorAll("button.keys-help").forEach(function (b) {
    b.hidden = false;
  });
  // The bulk bar posts with fetch and changes the chosen rows in place.
  function bulk(button) {
    var data = new FormData(form);
    data.append("action", button.value);
    fetch(form.getAttribute("action"), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (!response.ok) throw new Error(answer.message || "HTTP " + response.status);
        return answer;
      });
    }).then(function (answer) {
      answer.ids.forEach(function (id) {
        var tr = form.querySelector('tr[data-item="' + id + '"]');
        if (!tr) return;
        if (answer.status) setStatus(tr, answer.status);
        if (button.value === "later") { tr.hidden = true; tr.classList.add("later"); }
        var chips = tr.querySelector("span.topics");
        if (chips && answer.chips && answer.chips[id] !== undefined) chips.innerHTML = answer.chips[id];
        var box = tr.querySelector('input[name="item_id"]');
        if (box) box.checked = false;
      });
      updateCount();
      say(answer.message + (answer.ids.length ? " Rückgängig mit u." : ""));
    }).catch(function (error) {
      say(error && error.message && error.message.indexOf("HTTP") !== 0 ? error.message
        : "Das hat nicht geklappt; bitte die Seite neu laden.");
    });
  }
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
      event.preventDefault();
      focusRow(tr);
      later(tr);
    } else if (!tr && button.name === "action" && button.closest("fieldset.bulk-actions")) {
      event.preventDefault();
      bulk(button);
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

// The edition editor: drag and drop (the browser's own HTML drag and drop, no library)
// of sections (by their title) and of items (within a section, onto another item or a
// section's title). A drop moves the element at once and posts the new place to the
// same endpoints as the ↑/↓ buttons, which stay as the keyboard way; without this
// script only the buttons are there.
(function () {
  "use strict";
  var root = document.querySelector(".sortable-edition");
  if (!root || !("draggable" in document.createElement("span"))) return;
  var csrf = root.getAttribute("data-csrf");
  var hint = root.querySelector(".drag-hint");
  if (hint) hint.hidden = false;
  var live = document.createElement("p");
  live.className = "visually-hidden";
  live.setAttribute("aria-live", "polite");
  root.appendChild(live);
  var dragged = null;
  var marked = null;

  function sections() {
    return Array.prototype.slice.call(root.querySelectorAll("section[data-section]"));
  }
  function mark(el) {
    if (marked === el) return;
    if (marked) marked.classList.remove("drop-target");
    marked = el;
    if (el) el.classList.add("drop-target");
  }
  function send(url, fields) {
    var all = { csrf_token: csrf };
    Object.keys(fields).forEach(function (k) { all[k] = fields[k]; });
    eudigestPost(url, all).then(function (answer) {
      live.textContent = answer.message;
    }).catch(function () {
      live.textContent = "Verschieben hat nicht geklappt; die Seite wird neu geladen.";
      window.location.reload();
    });
  }
  function refresh() {
    var all = sections();
    all.forEach(function (sec, i) {
      var up = sec.querySelector('.section-move button[value="-1"]');
      var down = sec.querySelector('.section-move button[value="1"]');
      if (up) up.disabled = i === 0;
      if (down) down.disabled = i === all.length - 1;
      var lis = sec.querySelectorAll("li[data-item]");
      Array.prototype.forEach.call(lis, function (li, j) {
        var u = li.querySelector('button[name="delta"][value="-1"]');
        var d = li.querySelector('button[name="delta"][value="1"]');
        if (u) u.disabled = j === 0;
        if (d) d.disabled = j === lis.length - 1;
      });
      var count = sec.querySelector("h3 small");
      if (count) count.textContent = "(" + lis.length + ")";
      var empty = sec.querySelector("p.empty");
      if (empty) empty.hidden = lis.length > 0;
    });
  }
  function start(el, event) {
    dragged = el;
    el.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", el.id);
  }

  sections().forEach(function (sec) {
    var handle = sec.querySelector("h3");
    handle.draggable = true;
    handle.addEventListener("dragstart", function (event) { start(sec, event); });
  });
  root.querySelectorAll("li[data-item][data-move-url]").forEach(function (li) {
    var handle = li.querySelector(".edition-item");
    handle.draggable = true;
    handle.addEventListener("dragstart", function (event) {
      event.stopPropagation();
      start(li, event);
    });
  });
  root.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    mark(null);
  });
  function target(event) {
    if (!dragged || !event.target.closest) return null;
    if (dragged.matches("section")) return event.target.closest("section[data-section]");
    return event.target.closest("li[data-item]") || event.target.closest("section[data-section]");
  }
  root.addEventListener("dragover", function (event) {
    var t = target(event);
    if (!t || t === dragged || t.contains(dragged) && t.matches("li")) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    mark(t);
  });
  root.addEventListener("drop", function (event) {
    var t = target(event);
    var moving = dragged;
    mark(null);
    if (!t || !moving || t === moving) return;
    event.preventDefault();
    var from, to, list;
    if (moving.matches("section")) {
      var all = sections();
      from = all.indexOf(moving);
      to = all.indexOf(t);
      t.parentNode.insertBefore(moving, from < to ? t.nextSibling : t);
      send(moving.getAttribute("data-move-url"), { position: to });
    } else {
      var section = t.closest("section[data-section]");
      if (t.matches("li")) {
        list = t.parentNode;
        from = Array.prototype.indexOf.call(list.children, moving);
        to = Array.prototype.indexOf.call(list.children, t);
        list.insertBefore(moving, from >= 0 && from < to ? t.nextSibling : t);
      } else {
        list = section.querySelector("ol.edition-items");
        if (!list) {
          list = document.createElement("ol");
          list.className = "edition-items";
          section.appendChild(list);
        }
        list.appendChild(moving);
      }
      send(moving.getAttribute("data-move-url"), {
        section_id: section.getAttribute("data-section"),
        position: Array.prototype.indexOf.call(list.children, moving),
      });
    }
    refresh();
  });
})();
