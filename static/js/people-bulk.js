/* The people page's bulk forms, made nicer when scripts run (the page works without):
   - rows ticked on one page stay ticked on the others of the same search (sessionStorage), and
     their ids are sent with the form in one field, "carried";
   - a box in the table's head ticks every row of the page; a line says how many are ticked;
   - "Clear the selection" forgets them.
   The server reads the ids again inside the workspace: a carried id is a choice, never a right. */
(function () {
  "use strict";

  function load(key) {
    try {
      var stored = JSON.parse(window.sessionStorage.getItem(key) || "[]");
      return new Set(Array.isArray(stored) ? stored.map(String) : []);
    } catch (error) {
      return new Set();
    }
  }

  function setUp(form) {
    var key = form.getAttribute("data-bulk-key");
    var boxes = Array.prototype.slice.call(
      document.querySelectorAll('input[type="checkbox"][form="' + form.id + '"]')
    );
    if (!key || !boxes.length || !window.sessionStorage) {
      return;
    }
    var chosen = load(key);
    var onPage = new Set(boxes.map(function (box) { return box.value; }));

    var status = document.createElement("p");
    status.className = "muted bulk-count";
    // Announced politely, without the status role that the page's messages carry.
    status.setAttribute("aria-live", "polite");
    var clear = document.createElement("button");
    clear.type = "button";
    clear.className = "link";
    clear.textContent = "Clear the selection";
    form.insertBefore(status, form.querySelector("fieldset"));
    form.insertBefore(clear, form.querySelector("fieldset"));

    var head = boxes[0].closest("table").querySelector("thead th.select");
    var all = document.createElement("input");
    all.type = "checkbox";
    all.setAttribute("aria-label", "Select every row on this page");
    if (head) {
      head.appendChild(all);
    }

    function show() {
      var elsewhere = 0;
      chosen.forEach(function (id) { if (!onPage.has(id)) { elsewhere += 1; } });
      status.textContent = chosen.size
        ? chosen.size + " selected" + (elsewhere ? " (" + elsewhere + " on other pages)" : "")
        : "";
      clear.hidden = !chosen.size;
      all.checked = boxes.every(function (box) { return box.checked; });
    }

    function save() {
      window.sessionStorage.setItem(key, JSON.stringify(Array.from(chosen)));
      show();
    }

    boxes.forEach(function (box) {
      box.checked = box.checked || chosen.has(box.value);
      if (box.checked) { chosen.add(box.value); }
      box.addEventListener("change", function () {
        if (box.checked) { chosen.add(box.value); } else { chosen.delete(box.value); }
        save();
      });
    });
    all.addEventListener("change", function () {
      boxes.forEach(function (box) {
        box.checked = all.checked;
        if (all.checked) { chosen.add(box.value); } else { chosen.delete(box.value); }
      });
      save();
    });
    clear.addEventListener("click", function () {
      chosen.clear();
      boxes.forEach(function (box) { box.checked = false; });
      save();
    });
    form.addEventListener("submit", function () {
      var carried = form.querySelector('input[name="carried"]');
      if (!carried) {
        carried = document.createElement("input");
        carried.type = "hidden";
        carried.name = "carried";
        form.appendChild(carried);
      }
      carried.value = Array.from(chosen).filter(function (id) { return !onPage.has(id); }).join(",");
      window.sessionStorage.removeItem(key);
    });
    show();
  }

  document.querySelectorAll("form[data-bulk-key]").forEach(setUp);
}());
