/* Copy buttons for licence keys: an enhancement only. Without JavaScript the key is
   plain selectable text; with it, each <code class="key"> gets a "Kopieren" button.
   Loaded as a file (CSP script-src 'self'); no inline handlers. */
(function () {
  "use strict";
  function selectText(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  function copied(button) {
    button.textContent = "Kopiert";
    button.classList.add("copied");
    window.setTimeout(function () { button.textContent = "Kopieren"; button.classList.remove("copied"); }, 2000);
  }
  document.querySelectorAll("code.key").forEach(function (code) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy-button";
    button.textContent = "Kopieren";
    button.setAttribute("aria-label", "Schlüssel kopieren");
    button.addEventListener("click", function () {
      var text = code.textContent.trim();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { copied(button); }, function () { selectText(code); });
      } else {
        selectText(code);
        try { if (document.execCommand("copy")) { copied(button); } } catch (e) { /* text stays selected */ }
      }
    });
    code.insertAdjacentElement("afterend", button);
  });
})();
