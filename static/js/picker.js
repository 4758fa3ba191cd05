// Search as you type in the portal's pickers (kernel/pickers.py). Optional: without this file a
// picker is a plain GET form whose "Find" button reloads the page with the matches. Here, typing
// fetches the same page with ?picker=<name>, which answers with the server-rendered list alone,
// and puts it in place of the list on the page. Loaded as a static file: the CSP allows no inline
// script.
(function () {
  "use strict";
  if (window.portalPickers) {
    return; // a page with two pickers includes this file twice
  }
  window.portalPickers = true;

  function enhance(form) {
    var list = document.getElementById(form.getAttribute("data-picker-results"));
    var box = form.querySelector('input[type="search"]');
    if (!list || !box) {
      return;
    }
    var timer = null;
    var latest = 0;

    function refresh() {
      var params = new URLSearchParams(new FormData(form));
      params.set("picker", form.getAttribute("data-picker"));
      var target = new URL(form.action, window.location.href);
      target.search = params.toString();
      target.hash = "";
      var ticket = ++latest;
      fetch(target.toString(), {
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      })
        .then(function (response) {
          return response.ok ? response.text() : Promise.reject(response.status);
        })
        .then(function (html) {
          if (ticket !== latest) {
            return; // an answer to an older search arrived late
          }
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(list.id);
          if (fresh) {
            list.innerHTML = fresh.innerHTML;
          }
        })
        .catch(function () {
          // The "Find" button still works.
        });
    }

    box.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 250);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-picker]").forEach(enhance);
  });
})();
