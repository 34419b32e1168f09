/* The new-ticket form: shows the fields that fit the system — those of the chosen
   installation's vendor, or, without an installation, of the chosen system — and the
   Softwarepflege state of a chosen Auerswald system (data-swp of its option). Without
   JavaScript both groups are shown and the server decides by the installation.
   CSP: a static file, no inline code. */
(function () {
  "use strict";
  var form = document.querySelector("form.ticket-form");
  if (!form) {
    return;
  }
  var select = form.querySelector("select[name=installation]");
  var radios = form.querySelectorAll("input[name=system]");
  var systemField = radios.length ? radios[0].closest(".field") : null;
  var hint = document.getElementById("swp-hint");
  function chosenSystem() {
    var checked = form.querySelector("input[name=system]:checked");
    return checked ? checked.value : "starface";
  }
  function apply() {
    var option = select ? select.options[select.selectedIndex] : null;
    var vendor = option && option.getAttribute("data-vendor");
    if (systemField) {
      systemField.hidden = Boolean(vendor);
    }
    vendor = vendor || chosenSystem();
    form.querySelectorAll("fieldset.system-fields").forEach(function (group) {
      group.hidden = group.getAttribute("data-vendor") !== vendor;
    });
    if (hint) {
      var swp = option && option.getAttribute("data-swp");
      hint.textContent = swp || "";
      hint.hidden = !swp;
    }
  }
  if (select) {
    select.addEventListener("change", apply);
  }
  radios.forEach(function (radio) {
    radio.addEventListener("change", apply);
  });
  apply();
})();
