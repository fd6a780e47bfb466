// Draws the experiment and cost charts with Plotly. Each chart's figure (data and layout) is
// built on the server and sits in the page as JSON (<script type="application/json"
// class="chart-figure" data-target="...">): no inline script, so the CSP holds. Without
// JavaScript the page shows the same chart as server-drawn SVG (in <noscript>).
(function () {
  "use strict";

  function draw() {
    if (typeof window.Plotly === "undefined") {
      return;
    }
    document.querySelectorAll("script.chart-figure").forEach(function (source) {
      var target = document.getElementById(source.getAttribute("data-target"));
      if (!target) {
        return;
      }
      var figure = JSON.parse(source.textContent);
      window.Plotly.newPlot(target, figure.data, figure.layout, {
        responsive: true,
        displaylogo: false
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
