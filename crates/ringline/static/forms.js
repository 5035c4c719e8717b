// Reference pickers: an input with data-lookup="/api/v1/lookup/…" refreshes its <datalist> from
// the lookup as one types, so a village, organization or unit is chosen by name among all of
// the reader's scope, not only the first options the page brought. Without JavaScript the page's
// own list and typing a name or code still work.
(function () {
  "use strict";
  function attach(input) {
    var list = document.getElementById(input.getAttribute("list"));
    var url = input.getAttribute("data-lookup");
    if (!list || !url) { return; }
    var timer = null;
    var last = null;
    input.addEventListener("input", function () {
      var q = input.value.trim();
      if (q === last || q.length < 1) { return; }
      last = q;
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(function () {
        var sep = url.indexOf("?") >= 0 ? "&" : "?";
        fetch(url + sep + "q=" + encodeURIComponent(q), { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) {
            while (list.firstChild) { list.removeChild(list.firstChild); }
            items.forEach(function (it) {
              var o = document.createElement("option");
              o.value = it.value;
              o.textContent = it.label;
              list.appendChild(o);
            });
          })
          .catch(function () {});
      }, 200);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-lookup]"), attach);
  });
})();
