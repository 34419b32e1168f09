/* The order form's live price: on every change, post the form to its preview URL and show
   the returned breakdown (server-rendered, the same pricing as "Preis berechnen"). Without
   JavaScript the form works as before; this only adds the preview. CSP: a static file, no
   inline code. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-preview-url]");
  var target = document.getElementById("live-price");
  if (!form || !target || !window.fetch || !window.FormData) {
    return;
  }
  var timer = null;
  var sequence = 0;
  function update() {
    var mine = ++sequence;
    fetch(form.getAttribute("data-preview-url"), {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin"
    }).then(function (response) {
      return response.ok ? response.text() : "";
    }).then(function (html) {
      if (mine === sequence) {
        target.innerHTML = html;
      }
    }).catch(function () {
      /* the review step still shows the price */
    });
  }
  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 300);
  }
  form.addEventListener("change", later);
  form.addEventListener("input", later);
})();
