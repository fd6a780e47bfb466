// Draws a storage unit's temperature chart with Plotly from the page's JSON data
// (<script type="application/json" id="chart-data">): no inline script, so the CSP holds.
// The readings, the allowed range (dashed lines) and the excursions (shaded) come from the
// server; times are already the reader's wall-clock times.
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("chart-data");
    var target = document.getElementById("temperature-chart");
    if (!source || !target || typeof window.Plotly === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var traces = data.series.map(function (s) {
      return {
        type: "scatter",
        mode: "lines+markers",
        marker: { size: 3 },
        name: s.sensor + (s.downsampled ? " (min/max per interval)" : ""),
        x: s.x,
        y: s.y,
        hovertemplate: "%{x}<br>%{y} °C<extra>" + s.sensor + "</extra>"
      };
    });
    var shapes = [];
    [["low", data.low], ["high", data.high]].forEach(function (limit) {
      shapes.push({
        type: "line", xref: "paper", x0: 0, x1: 1, yref: "y", y0: limit[1], y1: limit[1],
        line: { color: "#b42318", width: 1.5, dash: "dash" }
      });
    });
    data.excursions.forEach(function (e) {
      shapes.push({
        type: "rect", xref: "x", x0: e.start, x1: e.end, yref: "paper", y0: 0, y1: 1,
        fillcolor: e.ongoing ? "#f79009" : "#d92d20", opacity: 0.18, line: { width: 0 },
        layer: "below"
      });
    });
    var annotations = [
      { xref: "paper", x: 1, xanchor: "right", y: data.high, yanchor: "bottom", showarrow: false,
        text: "high limit " + data.high + " °C", font: { size: 11, color: "#b42318" } },
      { xref: "paper", x: 1, xanchor: "right", y: data.low, yanchor: "top", showarrow: false,
        text: "low limit " + data.low + " °C", font: { size: 11, color: "#b42318" } }
    ];
    var layout = {
      title: { text: data.title },
      xaxis: { title: { text: "Time (" + data.zone + ")" }, range: [data.start, data.end] },
      yaxis: { title: { text: "°C" } },
      shapes: shapes,
      annotations: annotations,
      hovermode: "x",
      showlegend: true,
      legend: { orientation: "h" },
      margin: { t: 48, r: 16, b: 56, l: 64 }
    };
    window.Plotly.newPlot(target, traces, layout, {
      responsive: true,
      displaylogo: false
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
