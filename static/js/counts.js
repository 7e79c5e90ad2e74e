/*
 * The counting sheet (inventory/counts/count.html), configured by data
 * attributes, loaded as a file under the Content Security Policy.
 *
 * Each line ([data-count-line]) is a small form: Enter saves it (htmx swaps
 * the line). After a save the cursor moves to the next line's input
 * ([data-count-input]), so a counter types a number, Enter, the next number,
 * Enter; a refused line keeps the cursor, its text selected. On load the
 * cursor starts on the first line not counted yet.
 *
 * Without this script every line still saves with Enter (a plain POST that
 * comes back to the sheet).
 */
(function () {
  "use strict";

  var pendingLine = null;

  function inputOf(line) {
    return line ? line.querySelector("[data-count-input]") : null;
  }

  function focusInput(input) {
    if (input) {
      input.focus();
      input.select();
    }
  }

  function nextLine(line) {
    var next = line.nextElementSibling;
    while (next && !next.hasAttribute("data-count-line")) {
      next = next.nextElementSibling;
    }
    return next;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var source = event.detail && event.detail.elt;
    var line = source instanceof Element ? source.closest("[data-count-line]") : null;
    pendingLine = line ? line.id : null;
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (!pendingLine) {
      return;
    }
    var line = document.getElementById(pendingLine);
    pendingLine = null;
    if (!line) {
      return;
    }
    if (line.hasAttribute("data-saved")) {
      var next = nextLine(line);
      focusInput(inputOf(next) || inputOf(line));
    } else {
      focusInput(inputOf(line));
    }
  });

  function focusFirstUncounted() {
    var inputs = Array.prototype.slice.call(document.querySelectorAll("[data-count-input]"));
    var open = inputs.find(function (input) {
      return input.value.trim() === "";
    });
    if (open) {
      open.focus();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusFirstUncounted);
  } else {
    focusFirstUncounted();
  }
})();
