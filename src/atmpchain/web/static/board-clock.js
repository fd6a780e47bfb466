// The day board's countdowns move on without reloading the page (a reload wiped what someone had
// half typed). Progressive enhancement: without this script the board shows the times as of
// loading and a refresh link. The server's "now" sets the clock, so a wrong clock on the tablet
// does not shift the countdowns; the words match the server's ("in 1 h 05 min", "12 min ago").
(function () {
  "use strict";

  function describe(seconds) {
    var minutes = Math.floor(Math.abs(seconds) / 60);
    var text = minutes < 60
      ? minutes + " min"
      : Math.floor(minutes / 60) + " h " + String(minutes % 60).padStart(2, "0") + " min";
    return seconds >= 0 ? "in " + text : text + " ago";
  }

  function start() {
    var clock = document.querySelector("[data-testid=board-clock]");
    if (!clock) {
      return;
    }
    var skew = Date.parse(clock.getAttribute("data-now")) - Date.now();
    var note = clock.querySelector("[data-testid=live-note]");
    if (note) {
      note.hidden = false;
    }

    function tick() {
      var now = Date.now() + skew;
      document.querySelectorAll("[data-countdown]").forEach(function (el) {
        var seconds = Math.trunc((Date.parse(el.getAttribute("data-countdown")) - now) / 1000);
        var text = describe(seconds);
        if (el.textContent !== text) {
          el.textContent = text;
        }
        var cell = el.closest(".countdown");
        if (cell) {
          cell.classList.toggle("overdue", seconds < 0);
        }
      });
    }

    tick();
    window.setInterval(tick, 15000);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
