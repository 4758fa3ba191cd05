/* The portal's one script, and an optional one: every page works without it.

   On a narrow screen a table wider than its box scrolls sideways inside that box (portal.css). A
   keyboard reaches such a box only if it can take the focus, so a box that does scroll becomes
   focusable (named by its table's caption), and stops being so when the window grows. */
(function () {
  "use strict";

  function scrollBoxes() {
    return document.querySelectorAll("main table, main .matrix-scroll");
  }

  function markScrolling() {
    scrollBoxes().forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      var marked = box.hasAttribute("data-scroll-focus");
      if (scrolls && !marked && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("data-scroll-focus", "");
        if (box.tagName !== "TABLE") {
          var caption = box.querySelector("caption");
          box.setAttribute("role", "region");
          box.setAttribute("aria-label", caption ? caption.textContent.trim() : "Table");
        }
      } else if (!scrolls && marked) {
        box.removeAttribute("tabindex");
        box.removeAttribute("data-scroll-focus");
        if (box.tagName !== "TABLE") {
          box.removeAttribute("role");
          box.removeAttribute("aria-label");
        }
      }
    });
  }

  var pending = null;
  function later() {
    if (pending === null) {
      pending = window.requestAnimationFrame(function () { pending = null; markScrolling(); });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", markScrolling);
  } else {
    markScrolling();
  }
  window.addEventListener("resize", later);
})();
