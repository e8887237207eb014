// Small progressive enhancements; every page works without JavaScript.
(function () {
  "use strict";

  // Show only the decision field that the chosen action needs.
  var form = document.getElementById("decision-form");
  if (form) {
    var sync = function () {
      var checked = form.querySelector('input[name="action"]:checked');
      var action = checked ? checked.value : "";
      form.querySelectorAll("[data-for-action]").forEach(function (el) {
        el.hidden = el.getAttribute("data-for-action") !== action;
      });
    };
    form.addEventListener("change", sync);
    sync();
  }

  // Overdue rows and open alerts: refresh the queue every minute so deadlines stay honest, but
  // never while the officer is typing in a filter.
  var queue = document.getElementById("alert-queue");
  if (queue) {
    setInterval(function () {
      var active = document.activeElement;
      if (active && (active.tagName === "INPUT" || active.tagName === "SELECT")) return;
      window.location.reload();
    }, 60000);
  }
})();
