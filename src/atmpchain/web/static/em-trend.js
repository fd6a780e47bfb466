// Draws an EM trend chart with Plotly from the page's JSON data (#em-chart-data): no inline
// script, so the CSP holds. Results coloured by level; the alert and action limits as lines.
(function () {
  "use strict";

  var COLOURS = { within: "#2b6cb0", alert: "#b7791f", action: "#c53030" };

  function draw() {
    var source = document.getElementById("em-chart-data");
    var target = document.getElementById("em-trend-chart");
    if (!source || !target || typeof window.Plotly === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var traces = [{
      type: "scatter",
      mode: "lines+markers",
      name: "results",
      x: data.x,
      y: data.y,
      line: { color: "#a0aec0", width: 1 },
      marker: {
        size: data.level.map(function (l) { return l === "within" ? 5 : 10; }),
        color: data.level.map(function (l) { return COLOURS[l]; })
      },
      text: data.level,
      hovertemplate: "%{x}<br>%{y} (%{text})<extra></extra>"
    }];
    var shapes = [];
    var annotations = [];
    [["alert", data.alert, "dash"], ["action", data.action, "solid"]].forEach(function (limit) {
      if (limit[1] === null || limit[1] === undefined) { return; }
      shapes.push({
        type: "line", xref: "paper", x0: 0, x1: 1, yref: "y", y0: limit[1], y1: limit[1],
        line: { color: COLOURS[limit[0]], width: 1.5, dash: limit[2] }
      });
      annotations.push({
        xref: "paper", x: 1, xanchor: "right", y: limit[1], yanchor: "bottom", showarrow: false,
        text: limit[0] + " limit " + limit[1], font: { size: 11, color: COLOURS[limit[0]] }
      });
    });
    window.Plotly.newPlot(target, traces, {
      title: { text: data.title },
      xaxis: { title: { text: "Time (UTC)" }, range: [data.start, data.end] },
      yaxis: { rangemode: "tozero" },
      shapes: shapes,
      annotations: annotations,
      showlegend: false,
      margin: { t: 48, r: 16, b: 56, l: 64 }
    }, { responsive: true, displaylogo: false });
    var fallback = document.getElementById("em-trend-static");
    if (fallback) { fallback.hidden = true; }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
