/*
 * Report charts (analytics/templates/analytics/reports/report.html), drawn by
 * the vendored Chart.js. Each <canvas data-chart="ID"> names the JSON block
 * (Django's json_script: data, not script, so the Content Security Policy
 * lets it be) holding what to draw: a "kind" and its series. The canvas sits
 * in a .sy-chart box of fixed height, so the chart follows the box's width
 * (a phone's too) and never its own aspect ratio. Charts in a region htmx
 * swaps in are drawn when it settles; those swapped out are destroyed.
 * Loaded by the report screens only, it also keeps the current report in
 * view in the report switcher.
 */
(function () {
  "use strict";

  var ACCENT = "#f59e0b";
  var INK = "#1f2937";
  var BLUE = "#2563eb";
  var GREEN = "#16a34a";
  var RED = "#dc2626";

  function percentTick(value) {
    return value + " %";
  }

  function constant(series, value) {
    return series.map(function () { return value; });
  }

  function mark(label, value, length, color) {
    return {
      type: "line",
      label: label,
      data: constant(new Array(length).fill(0), value),
      yAxisID: "share",
      borderColor: color,
      borderDash: [6, 4],
      borderWidth: 1.5,
      pointRadius: 0,
      fill: false,
      order: 0
    };
  }

  var BUILDERS = {
    // Bars: consumption value of the top products; line: cumulative share, 0-100 %.
    pareto: function (data) {
      var length = data.labels.length;
      var datasets = [
        {
          type: "bar",
          label: "Consumption value",
          data: data.values,
          backgroundColor: ACCENT,
          yAxisID: "y",
          order: 2
        },
        {
          type: "line",
          label: "Cumulative share",
          data: data.cumulative,
          borderColor: INK,
          backgroundColor: INK,
          yAxisID: "share",
          pointRadius: length > 20 ? 0 : 2,
          tension: 0,
          order: 1
        }
      ];
      (data.marks || []).forEach(function (value, index) {
        datasets.push(mark(value + " %", value, length, index === 0 ? GREEN : RED));
      });
      return {
        type: "bar",
        data: { labels: data.labels, datasets: datasets },
        options: {
          scales: {
            y: { beginAtZero: true, title: { display: true, text: "Value" } },
            share: {
              position: "right",
              min: 0,
              max: 100,
              grid: { drawOnChartArea: false },
              ticks: { callback: percentTick, stepSize: 20 }
            },
            x: { ticks: { autoSkip: true, maxRotation: 60 } }
          }
        }
      };
    },
    // Bars: units shipped per day; lines: the 7- and 28-day rolling averages.
    demand: function (data) {
      return {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: [
            { type: "bar", label: "Shipped", data: data.values, backgroundColor: ACCENT, order: 3 },
            {
              type: "line", label: "7-day average", data: data.average_7, borderColor: BLUE,
              backgroundColor: BLUE, pointRadius: 0, borderWidth: 2, order: 1
            },
            {
              type: "line", label: "28-day average", data: data.average_28, borderColor: INK,
              backgroundColor: INK, pointRadius: 0, borderWidth: 2, order: 2
            }
          ]
        },
        options: {
          scales: {
            y: { beginAtZero: true },
            x: { ticks: { autoSkip: true, maxTicksLimit: data.narrow ? 5 : 10, maxRotation: 0 } }
          }
        }
      };
    },
    line: function (data) {
      return {
        type: "line",
        data: {
          labels: data.labels,
          datasets: [{
            label: data.label, data: data.values, borderColor: BLUE,
            backgroundColor: "rgba(37, 99, 235, 0.12)", fill: true, pointRadius: 0, stepped: true
          }]
        },
        options: {
          scales: {
            y: { beginAtZero: true },
            x: { ticks: { autoSkip: true, maxTicksLimit: data.narrow ? 5 : 10, maxRotation: 0 } }
          }
        }
      };
    },
    bars: function (data) {
      return {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: [{ label: data.label, data: data.values, backgroundColor: ACCENT }]
        },
        options: {
          plugins: { legend: { display: false } },
          scales: { y: { beginAtZero: true }, x: { ticks: { color: INK } } }
        }
      };
    }
  };

  function draw(canvas) {
    if (typeof window.Chart === "undefined" || window.Chart.getChart(canvas)) {
      return;
    }
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source) {
      return;
    }
    var data = JSON.parse(source.textContent);
    // Fewer day labels where they would crowd (a phone).
    data.narrow = canvas.parentNode.clientWidth < 500;
    var build = BUILDERS[data.kind];
    if (!build) {
      return;
    }
    var config = build(data);
    config.options = config.options || {};
    config.options.responsive = true;
    config.options.maintainAspectRatio = false;
    config.options.animation = false;
    config.options.plugins = config.options.plugins || {};
    if (!config.options.plugins.legend) {
      config.options.plugins.legend = { position: "bottom", labels: { boxWidth: 12, color: "#4b5563" } };
    }
    new window.Chart(canvas, config);
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  function destroyAll(root) {
    if (typeof window.Chart === "undefined" || !root) {
      return;
    }
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var chart = window.Chart.getChart(canvas);
      if (chart) {
        chart.destroy();
      }
    });
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    destroyAll(event.detail.target);
  });
  document.addEventListener("htmx:afterSettle", function () {
    drawAll(document);
  });
  // On a phone the switcher of reports scrolls sideways within itself: show the current one.
  function showCurrentReport() {
    var active = document.querySelector(".sy-report-switcher .nav-link.active");
    if (active) {
      var nav = active.closest(".nav");
      nav.scrollLeft = Math.max(0, active.offsetLeft - nav.offsetLeft - 16);
    }
  }

  function start() {
    drawAll(document);
    showCurrentReport();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
