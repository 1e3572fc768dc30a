(function () {
  "use strict";
  // Sort any table.sortable by clicking a header; th[data-type=num] sorts by td[data-v] as a number.
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.tHead.rows[0].cells, body = table.tBodies[0];
    Array.prototype.forEach.call(heads, function (th, col) {
      th.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending", num = th.dataset.type === "num";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var keyed = Array.prototype.map.call(body.rows, function (tr, i) {
          var td = tr.cells[col], v = td ? (td.dataset.v !== undefined ? td.dataset.v : td.textContent) : "";
          return [num ? (v === "" ? -Infinity : parseFloat(v)) : v.toLowerCase(), i, tr];
        });
        keyed.sort(function (a, b) {
          var c = a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
          return (asc ? c : -c) || a[1] - b[1];
        });
        var frag = document.createDocumentFragment();
        keyed.forEach(function (k) { frag.appendChild(k[2]); });
        body.appendChild(frag);
      });
    });
  });

  // Filter the findings table: free text over the whole row, plus category and severity.
  var table = document.getElementById("findings-table");
  if (!table) { return; }
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var text = rows.map(function (tr) { return tr.textContent.toLowerCase(); });
  var q = document.getElementById("f-text"), cat = document.getElementById("f-cat"),
      sev = document.getElementById("f-sev"), count = document.getElementById("f-count");
  function apply() {
    var t = q.value.trim().toLowerCase(), c = cat.value, s = sev.value, n = 0;
    for (var i = 0; i < rows.length; i++) {
      var tr = rows[i];
      var ok = (!c || tr.dataset.cat === c) && (!s || tr.dataset.sev === s) && (!t || text[i].indexOf(t) >= 0);
      tr.hidden = !ok;
      if (ok) { n++; }
    }
    count.textContent = n.toLocaleString() + " of " + rows.length.toLocaleString() + " rows shown";
  }
  var timer;
  q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(apply, 150); });
  cat.addEventListener("change", apply);
  sev.addEventListener("change", apply);
  apply();
})();
