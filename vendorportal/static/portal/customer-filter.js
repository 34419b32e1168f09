/* The order form's customer filter: choosing a customer shows only that customer's
   installations (each checkbox carries data-customer); ticked ones stay ticked and are
   ordered even while hidden. Without JavaScript every installation is listed, labelled
   with its customer. CSP: a static file, no inline code. */
(function () {
  "use strict";
  var select = document.querySelector("select[data-filter-target]");
  if (!select) {
    return;
  }
  var box = document.getElementById(select.getAttribute("data-filter-target"));
  if (!box) {
    return;
  }
  function apply() {
    var wanted = select.value;
    box.querySelectorAll("input[data-customer]").forEach(function (input) {
      var row = input.closest("div") || input.parentNode;
      row.hidden = Boolean(wanted) && input.getAttribute("data-customer") !== wanted;
    });
  }
  select.addEventListener("change", function (event) {
    event.stopPropagation(); /* filtering is not an order change: no new live price */
    apply();
  });
  apply();
})();
