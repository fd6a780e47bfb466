// Draws the plan's Gantt chart with Plotly from the page's JSON data
// (<script type="application/json" id="gantt-data">): no inline script, so the CSP holds.
// One horizontal bar per booked step on its lane (cabinet, device or person); times are the
// reader's wall-clock times, computed by the server.
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("gantt-data");
    var target = document.getElementById("gantt-chart");
    if (!source || !target || typeof window.Plotly === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var lanes = Array.from(new Set(data.bars.map(function (b) { return b.lane; }))).sort();
    var trace = {
      type: "bar",
      orientation: "h",
      y: data.bars.map(function (b) { return b.lane; }),
      base: data.bars.map(function (b) { return b.start; }),
      x: data.bars.map(function (b) { return b.ms; }),
      text: data.bars.map(function (b) { return b.batch; }),
      customdata: data.bars.map(function (b) { return [b.batch, b.step, b.start, b.end]; }),
      hovertemplate: "%{customdata[0]}: %{customdata[1]}<br>%{customdata[2]} to %{customdata[3]}<extra></extra>",
      marker: { color: "#2e6f9e" }
    };
    var layout = {
      title: { text: data.title },
      barmode: "overlay",
      xaxis: { type: "date", title: { text: "Time (" + data.zone + ")" } },
      yaxis: { categoryorder: "array", categoryarray: lanes.slice().reverse(), automargin: true },
      height: Math.max(300, 22 * lanes.length + 120),
      margin: { t: 48, r: 16, b: 56, l: 120 },
      showlegend: false
    };
    window.Plotly.newPlot(target, [trace], layout, { responsive: true, displaylogo: false });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
