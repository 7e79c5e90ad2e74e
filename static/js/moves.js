/*
 * Move screen: a form opened filled in (from a put-away row) focuses the
 * to-bin with its suggested code selected, so scanning the bin the stock
 * really went into replaces the suggestion instead of appending to it, and
 * Enter alone accepts it. (static/js/floor.js selects a scanned field's text
 * when focus moves to it; the browser's autofocus on load comes before that
 * script listens.)
 */
(function () {
  "use strict";

  function selectAutofocused() {
    var field = document.querySelector("[data-scan-form] input[data-scan][autofocus]");
    if (field instanceof HTMLInputElement && field.type === "text") {
      field.focus();
      field.select();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", selectAutofocused);
  } else {
    selectAutofocused();
  }
})();
