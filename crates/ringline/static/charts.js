// Draws the charts of a page with Apache ECharts (echarts.min.js, vendored). Each chart is an
// element with class "chart" and its ECharts option as JSON in data-option; the server writes
// the option, so no inline script is needed (the Content-Security-Policy allows none).
// Tooltip formatters are named by a string the server sets: "percent" or "yuan". A legend stays
// on one line, paged with arrows when it is wider than the chart (on a phone), so it never runs
// into the plot below it.
(function () {
  'use strict';
  var formatters = {
    percent: function (v) { return v === null || v === undefined ? '—' : v + '%'; },
    yuan: function (v) {
      return v === null || v === undefined ? '—' : '¥' + Number(v).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    }
  };
  function draw() {
    if (typeof echarts === 'undefined') { return; }
    var els = document.querySelectorAll('.chart[data-option]');
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      var option;
      try { option = JSON.parse(el.getAttribute('data-option')); } catch (e) { continue; }
      if (option.tooltip && typeof option.tooltip.valueFormatter === 'string') {
        option.tooltip.valueFormatter = formatters[option.tooltip.valueFormatter];
      }
      if (option.legend && !option.legend.type) {
        option.legend.type = 'scroll';
      }
      var chart = echarts.init(el, null, { renderer: 'canvas' });
      chart.setOption(option);
      window.addEventListener('resize', chart.resize);
    }
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', draw);
  } else {
    draw();
  }
})();
