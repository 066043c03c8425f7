// The statistics pages' charts, drawn by the vendored Apache ECharts (web/vendor/echarts.common.min.js).
// A static file because the CSP allows no inline script: the figures come from the page as JSON
// (Django's json_script, a <script type="application/json"> the browser never runs), and every
// number drawn here is also in the table beside the chart. The SVG renderer is used so the charts
// print as sharp as the page and carry no canvas bitmap; animation is off so print shows them whole.
(function () {
  "use strict";
  var source = document.getElementById("stats-chart-data");
  if (!source || typeof echarts === "undefined") return;
  var data = JSON.parse(source.textContent);
  var palette = ["#2f6fb3", "#a15c00", "#2e7d32", "#6a1b9a", "#b3261e", "#00796b"];

  function option(spec) {
    var horizontal = spec.kind === "bars";
    var category = { type: "category", data: spec.labels, axisLabel: { interval: 0, hideOverlap: true } };
    var value = { type: "value", name: spec.unit || "", minInterval: spec.integer ? 1 : 0 };
    var series = (spec.series || [{ name: spec.title, values: spec.values }]).map(function (s, i) {
      return {
        name: s.name, type: spec.kind === "line" ? "line" : "bar", data: s.values,
        itemStyle: { color: palette[i % palette.length] },
        label: { show: spec.labels.length <= 16, position: horizontal ? "right" : "top" },
        yAxisIndex: s.axis || 0
      };
    });
    var opt = {
      animation: false,
      aria: { enabled: true, label: { description: spec.title } },
      title: { text: spec.title, left: 0, textStyle: { fontSize: 14, fontWeight: "normal" } },
      tooltip: { trigger: "axis" },
      grid: { left: horizontal ? 150 : 48, right: 48, top: 48, bottom: 36, containLabel: false },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? Object.assign({}, category, { inverse: true }) : value,
      series: series
    };
    if (spec.series && spec.series.length > 1) opt.legend = { top: 22 };
    return opt;
  }

  document.querySelectorAll("[data-echart]").forEach(function (el) {
    var spec = data[el.getAttribute("data-echart")];
    if (!spec || !spec.labels || !spec.labels.length) return;
    el.style.height = spec.kind === "bars" ? Math.max(160, 60 + 26 * spec.labels.length) + "px" : "280px";
    el.style.width = "100%";
    el.textContent = "";  // the server-drawn fallback (no script) makes way for the chart
    var chart = echarts.init(el, null, { renderer: "svg", locale: document.documentElement.lang === "en" ? "EN" : "ZH" });
    chart.setOption(option(spec));
    // A click on a bar opens the orders behind it, like the numbers in the table.
    if (spec.links) {
      chart.on("click", function (params) {
        var href = spec.links[params.dataIndex];
        if (href) window.location.href = href;
      });
    }
    el.setAttribute("data-rendered", "echarts");
    window.addEventListener("resize", function () { chart.resize(); });
    window.addEventListener("beforeprint", function () { chart.resize(); });
  });
})();
