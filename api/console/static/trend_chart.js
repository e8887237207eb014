// The alert page of a burst (ops_trend) alert: the hourly series from analysis.trend.series, the
// window that burst in red against the hours before it and the count history expected.
(function () {
  "use strict";
  var el = document.getElementById("trend-chart");
  var dataEl = document.getElementById("trend-data");
  if (!el || !dataEl || typeof echarts === "undefined") { return; }
  var trend = JSON.parse(dataEl.textContent || "{}");
  var series = trend.series || [];
  var chart = echarts.init(el);
  chart.setOption({
    animation: false,
    tooltip: {trigger: "axis"},
    legend: {data: ["每小时条数", "预期"], top: 0},
    xAxis: {type: "category", data: series.map(function (p) { return p.hour.slice(5, 13).replace("T", " ") + "时"; })},
    yAxis: {type: "value", name: "条/小时", minInterval: 1},
    series: [
      {name: "每小时条数", type: "bar",
       data: series.map(function (p) {
         return {value: p.count, itemStyle: {color: p.hour === trend.window_start ? "#c0392b" : "#2c7fb8"}};
       })},
      {name: "预期", type: "line", symbol: "none", lineStyle: {type: "dashed", color: "#555"},
       data: series.map(function () { return trend.expected; })}
    ]
  });
  el.dataset.ready = "1";
  el.dataset.points = String(series.length);
  window.addEventListener("resize", function () {
    if (el.clientWidth > 0 && el.clientHeight > 0) { chart.resize(); }   // never through a zero-size layout
  });
})();
