// The role editor's "All of <area>" boxes, kept in step with the area's capabilities.
// Optional: without this script the server ticks every capability of an area whose box is sent.
(function () {
  "use strict";
  document.querySelectorAll("fieldset[data-area]").forEach(function (area) {
    var whole = area.querySelector("input[data-whole-area]");
    if (!whole) {
      return;
    }
    var items = Array.prototype.slice.call(area.querySelectorAll("input[type=checkbox]:not([data-whole-area])"));
    function sync() {
      whole.checked = items.length > 0 && items.every(function (item) { return item.checked; });
    }
    whole.addEventListener("change", function () {
      items.forEach(function (item) { item.checked = whole.checked; });
    });
    items.forEach(function (item) { item.addEventListener("change", sync); });
    sync();
  });
})();
