// The dashboard's charts (vendored ECharts, drawn from the page's JSON block) and the print
// buttons of the printable pages. No inline script anywhere: the console's CSP forbids it.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
  var block = document.getElementById("dashboard-data");
  if (!block || typeof echarts === "undefined") return;
  var data = JSON.parse(block.textContent);
  var days = data.days.map(function (d) { return d.slice(5); });
  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el) return;
    var c = echarts.init(el, null, { renderer: "svg" });
    c.setOption(Object.assign({ animation: false, tooltip: { trigger: "axis" }, grid: { left: 40, right: 16, top: 40, bottom: 30 } }, option));
    window.addEventListener("resize", function () { c.resize(); });
  }
  chart("chart-per-category", {
    legend: { type: "scroll", top: 0 }, xAxis: { type: "category", data: days }, yAxis: { type: "value", minInterval: 1 },
    series: data.per_category.map(function (s) { return { name: s.name, type: "line", data: s.data }; })
  });
  chart("chart-queue-age", {
    xAxis: { type: "category", data: data.queue_age.map(function (b) { return b.name; }) },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ name: "未结告警", type: "bar", data: data.queue_age.map(function (b) { return b.value; }) }]
  });
  chart("chart-throughput", {
    legend: { type: "scroll", top: 0 }, xAxis: { type: "category", data: days }, yAxis: { type: "value", minInterval: 1 },
    series: data.throughput.map(function (s) { return { name: s.name, type: "bar", stack: "n", data: s.data }; })
  });
})();
