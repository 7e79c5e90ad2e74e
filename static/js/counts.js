/*
 * The counting sheet (inventory/counts/count.html), configured by data
 * attributes, loaded as a file under the Content Security Policy.
 *
 * Each line ([data-count-line]) is a small form: Enter saves it (htmx swaps
 * the line, and the count's progress beside it). After a save the cursor
 * moves to the next line's input ([data-count-input]), so a counter types a
 * number, Enter, the next number, Enter; a refused line keeps the cursor, its
 * text selected. The sheet shows a page of lines: after the last line of a
 * page the script follows the pager's next link ([data-count-next], which
 * htmx swaps in and pushes to the address bar) and the cursor lands on the
 * first line not counted yet on that page. Any page link
 * ([data-count-page]) does the same. On load the cursor starts on the first
 * line not counted yet (the server opens the page that holds it).
 *
 * Without this script every line still saves with Enter (a plain POST that
 * comes back to the same page of the sheet), and the pager is plain links.
 */
(function () {
  "use strict";

  var pendingLine = null;
  var pendingPage = false;

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

  function firstUncounted() {
    var inputs = Array.prototype.slice.call(document.querySelectorAll("[data-count-input]"));
    return (
      inputs.find(function (input) {
        return input.value.trim() === "";
      }) || null
    );
  }

  function turnThePage(line) {
    var sheet = line.closest("#count-sheet") || document;
    var next = sheet.querySelector("[data-count-next]");
    if (!next) {
      return false;
    }
    next.click(); // htmx follows it: the next page swaps in and the address follows
    return true;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var source = event.detail && event.detail.elt;
    var isElement = source instanceof Element;
    var line = isElement ? source.closest("[data-count-line]") : null;
    pendingLine = line ? line.id : null;
    pendingPage = isElement && source.hasAttribute("data-count-page");
  });

  // One swap settles several elements (the line, the progress out of band):
  // each pending move waits for its own element.
  document.addEventListener("htmx:afterSettle", function (event) {
    var settled = event.target;
    if (!(settled instanceof Element)) {
      return;
    }
    if (pendingPage && settled.id === "count-sheet") {
      pendingPage = false;
      focusInput(firstUncounted() || settled.querySelector("[data-count-input]"));
      return;
    }
    if (!pendingLine || settled.id !== pendingLine) {
      return;
    }
    pendingLine = null;
    if (!settled.hasAttribute("data-saved")) {
      focusInput(inputOf(settled));
      return;
    }
    var next = nextLine(settled);
    if (next) {
      focusInput(inputOf(next));
    } else if (!turnThePage(settled)) {
      focusInput(inputOf(settled)); // the last line of the count: the cursor stays
    }
  });

  function focusFirstUncounted() {
    var open = firstUncounted();
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
