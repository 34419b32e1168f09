/* Issue form (admin): show only the chosen module's versions.
   The version list groups versions by module (<optgroup label="Modulname (ARTIKEL)">), labelled
   exactly like the module's option; the server refuses a version of another module anyway. */
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var product = document.getElementById("id_product");
  var version = document.getElementById("id_version");
  if (!product || !version) {
    return;
  }
  function filterVersions() {
    var chosen = product.selectedIndex > 0 ? product.options[product.selectedIndex].text : null;
    Array.prototype.forEach.call(version.getElementsByTagName("optgroup"), function (group) {
      var other = chosen !== null && group.label !== chosen;
      group.hidden = other;
      group.disabled = other;
    });
    var selected = version.options[version.selectedIndex];
    if (selected && selected.parentNode.disabled) {
      version.value = "";
    }
  }
  product.addEventListener("change", filterVersions);
  filterVersions();
});
