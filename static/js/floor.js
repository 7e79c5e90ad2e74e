/*
 * Warehouse-floor keyboard behaviour of the inventory screens (no inline
 * script: configured by data attributes, loaded as a file under the CSP).
 *
 * Receive form ([data-scan-form]): a keyboard-wedge scanner types a code and
 * presses Enter (or Tab). Enter in any field of the form moves to the next
 * empty required scanned field ([data-scan-required]) instead of submitting; once every required field
 * ([data-scan-required]) has a value, Enter submits. A focused scanned field
 * selects its text, so a new scan replaces the old one instead of appending.
 * After a receipt (an htmx swap) focus returns to the first empty field, or
 * to the field the server refused.
 *
 * Forms with [data-no-enter-submit] fields (QC decisions, reversals): Enter
 * in such a field never submits; the form's buttons decide.
 *
 * Without this script the forms still work: Enter submits the receive form,
 * and a disabled first submit button keeps Enter from deciding a QC form.
 */
(function () {
  "use strict";

  function scanFields(form) {
    return Array.prototype.slice.call(form.querySelectorAll("[data-scan]"));
  }

  function isEmpty(field) {
    return field.value.trim() === "";
  }

  function missingRequired(form) {
    return scanFields(form).filter(function (field) {
      return field.hasAttribute("data-scan-required") && isEmpty(field);
    });
  }

  // The next empty required field after ``current`` in scan order (wrapping round).
  function nextEmpty(form, current) {
    var fields = scanFields(form);
    var index = fields.indexOf(current);
    var ordered = fields.slice(index + 1).concat(fields.slice(0, index + 1));
    return ordered.find(function (field) {
      return field.hasAttribute("data-scan-required") && isEmpty(field);
    });
  }

  function focusField(field) {
    if (!field) {
      return;
    }
    field.focus();
    if (field.type === "text" || field.type === "search") {
      field.select();
    }
  }

  function focusFirstOpen(form) {
    var refused = form.querySelector(".sy-invalid input, .sy-invalid select");
    focusField(refused || missingRequired(form)[0] || scanFields(form)[0]);
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.isComposing) {
      return;
    }
    var target = event.target;
    if (!(target instanceof HTMLElement)) {
      return;
    }
    if (target.hasAttribute("data-no-enter-submit")) {
      event.preventDefault();
      return;
    }
    var form = target.closest("[data-scan-form]");
    if (!form || !(target instanceof HTMLInputElement)) {
      return;
    }
    if (missingRequired(form).length === 0) {
      return; // everything needed is there: Enter submits
    }
    // A scan (or Enter) in the bin field goes on to the scanned fields too.
    event.preventDefault();
    focusField(target.hasAttribute("data-scan") ? nextEmpty(form, target) : missingRequired(form)[0]);
  });

  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.hasAttribute("data-scan") && target.type === "text") {
      target.select();
    }
  });

  // Choosing the warehouse with the mouse or keyboard hands focus back to the
  // scanned fields, so the next scan cannot land in the select.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement) {
      var form = target.closest("[data-scan-form]");
      if (form) {
        focusFirstOpen(form);
      }
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var root = event.target;
    if (!(root instanceof Element)) {
      return;
    }
    var form = root.matches("[data-scan-form]") ? root : root.querySelector("[data-scan-form]");
    if (form) {
      focusFirstOpen(form);
    }
  });
})();
