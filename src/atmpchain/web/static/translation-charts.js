// Draws the translation charts with Plotly from the page's JSON data
// (<script type="application/json" id="chart-data">): no inline script, so the CSP holds.
// "readiness": the weighted total and each category over time; "pareto": the FMEA's RPN bars,
// highest first, the cumulative share and the action threshold. Without script the page shows
// the server's SVG drawing of the same data.
(function () {
  "use strict";

  function readiness(data) {
    var traces = [{
      type: "scatter", mode: "lines+markers", name: "Weighted total",
      x: data.x, y: data.total, line: { width: 3, color: "#1f4e99" }
    }];
    data.categories.forEach(function (c) {
      traces.push({ type: "scatter", mode: "lines+markers", name: c.label, x: data.x, y: c.y,
        line: { width: 1, dash: "dot" } });
    });
    return { traces: traces, layout: {
      title: { text: "GMP readiness over time" },
      xaxis: { title: { text: "Assessed (" + data.zone + ")" } },
      yaxis: { title: { text: "Score (0-100)" }, range: [0, 105] },
      legend: { orientation: "h" }, margin: { t: 48, r: 16, b: 56, l: 64 }
    } };
  }

  function pareto(data) {
    var colours = data.rpn.map(function (v) { return v > data.threshold ? "#b42318" : "#1f4e99"; });
    var traces = [
      { type: "bar", name: "RPN", x: data.labels, y: data.rpn, marker: { color: colours } },
      { type: "scatter", mode: "lines+markers", name: "Cumulative %", x: data.labels,
        y: data.cumulative, yaxis: "y2", line: { color: "#000000" } }
    ];
    return { traces: traces, layout: {
      title: { text: data.title },
      yaxis: { title: { text: "RPN (S x O x D)" } },
      yaxis2: { title: { text: "Cumulative %" }, overlaying: "y", side: "right", range: [0, 105] },
      shapes: [{ type: "line", xref: "paper", x0: 0, x1: 1, yref: "y", y0: data.threshold,
        y1: data.threshold, line: { color: "#b42318", width: 1.5, dash: "dash" } }],
      annotations: [{ xref: "paper", x: 1, xanchor: "right", y: data.threshold, yanchor: "bottom",
        showarrow: false, text: "action threshold " + data.threshold,
        font: { size: 11, color: "#b42318" } }],
      legend: { orientation: "h" }, margin: { t: 48, r: 64, b: 120, l: 64 }
    } };
  }

  function draw() {
    var source = document.getElementById("chart-data");
    var target = document.getElementById("translation-chart");
    if (!source || !target || typeof window.Plotly === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var chart = data.kind === "pareto" ? pareto(data) : readiness(data);
    window.Plotly.newPlot(target, chart.traces, chart.layout, { responsive: true, displaylogo: false });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
