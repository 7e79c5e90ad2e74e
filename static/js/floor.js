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
 * Scan fill (opt-in, any form): the form's scan field carries [data-scan-fill]
 * and the form [data-scan-parse-url] (the inventory:scan-parse endpoint).
 * Enter on a scan that may be a GS1 label or a GTIN (a symbology identifier
 * such as "]C1", a group separator (ASCII 29 or "|"), "(01)...", or eight or
 * more digits) asks the server what it reads and fills the form's fields
 * named by [data-gs1="sku|lot_code|expires_on|quantity|bin"], then moves to
 * the next empty required field (or the submit button). An element
 * [data-scan-message] in the form shows what was read or why not.
 *
 * Good and refused scans look and sound different: the field flashes green
 * (.sy-scan-ok) with one short high beep, or red (.sy-scan-bad) with a low
 * double beep. Any element swapped in by htmx with [data-scan-result="ok"] or
 * ["bad"] plays the matching sound, so every screen's results can sound too.
 * Sound uses the Web Audio API, started on the first key or tap (browsers
 * allow no sound before one); where it is not allowed, scans are silent.
 *
 * Without this script the forms still work: Enter submits the receive form,
 * and a disabled first submit button keeps Enter from deciding a QC form.
 */
(function () {
  "use strict";

  // Loaded by the base layout and perhaps by a page too: one set of listeners.
  if (window.stockyardFloor) {
    return;
  }
  window.stockyardFloor = true;

  // -- sound ------------------------------------------------------------------

  var audio = null;

  function startAudio() {
    if (audio || !(window.AudioContext || window.webkitAudioContext)) {
      return;
    }
    try {
      audio = new (window.AudioContext || window.webkitAudioContext)();
    } catch (error) {
      audio = null;
    }
  }

  document.addEventListener("keydown", startAudio, { once: true, capture: true });
  document.addEventListener("pointerdown", startAudio, { once: true, capture: true });

  function tone(frequency, start, duration) {
    var oscillator = audio.createOscillator();
    var gain = audio.createGain();
    oscillator.type = "square";
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.08, audio.currentTime + start);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + start + duration);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start(audio.currentTime + start);
    oscillator.stop(audio.currentTime + start + duration);
  }

  function beep(result) {
    if (!audio || audio.state === "closed") {
      return;
    }
    try {
      if (audio.state === "suspended") {
        audio.resume();
      }
      if (result === "ok") {
        tone(1760, 0, 0.08);
      } else {
        tone(220, 0, 0.14);
        tone(220, 0.2, 0.14);
      }
    } catch (error) {
      // No sound is better than a broken scan.
    }
  }

  function flash(field, result) {
    field.classList.remove("sy-scan-ok", "sy-scan-bad");
    void field.offsetWidth; // restart the animation on a second scan
    field.classList.add(result === "ok" ? "sy-scan-ok" : "sy-scan-bad");
    field.setAttribute("data-scan-state", result);
  }

  function signal(field, result) {
    flash(field, result);
    beep(result);
  }

  window.stockyardScanSignal = signal;

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

  // -- scan fill ----------------------------------------------------------------

  var BARCODE = /^(\](C1|d2|Q3|e0)|\(|[0-9]{8,})|[\x1d|]/;

  function mayBeBarcode(text) {
    return BARCODE.test(text.trim());
  }

  function showMessage(form, text, result) {
    var box = form.querySelector("[data-scan-message]");
    if (box) {
      box.textContent = text || "";
      box.className = box.className.replace(/\btext-(success|danger)\b/g, "").trim();
      box.classList.add(result === "ok" ? "text-success" : "text-danger");
    }
  }

  function fill(form, data) {
    Array.prototype.forEach.call(form.querySelectorAll("[data-gs1]"), function (field) {
      var value = data[field.getAttribute("data-gs1")];
      if (value !== null && value !== undefined && value !== "") {
        field.value = value;
        field.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  }

  function refuse(form, field, message) {
    signal(field, "bad");
    showMessage(form, message, "bad");
    focusField(field);
  }

  function fillFromScan(form, field) {
    var url = form.getAttribute("data-scan-parse-url");
    if (!url || field.getAttribute("aria-busy") === "true") {
      return;
    }
    field.setAttribute("aria-busy", "true");
    var query = url + (url.indexOf("?") < 0 ? "?" : "&") + "code=" + encodeURIComponent(field.value);
    fetch(query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (data) {
          return { status: response.status, data: data };
        });
      })
      .then(function (answer) {
        var data = answer.data || {};
        if (answer.status !== 200) {
          refuse(form, field, (data.error && data.error.message) || "The scan was refused.");
          return;
        }
        fill(form, data);
        if (!data.is_good) {
          refuse(form, field, data.message);
          return;
        }
        signal(field, "ok");
        showMessage(form, data.message, "ok");
        var next = nextEmpty(form, field);
        focusField(next || form.querySelector("button[type=submit]"));
      })
      .catch(function () {
        refuse(form, field, "The scan could not be checked; type the fields by hand.");
      })
      .finally(function () {
        field.removeAttribute("aria-busy");
      });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.isComposing) {
      return;
    }
    var target = event.target;
    if (!(target instanceof HTMLElement)) {
      return;
    }
    if (target instanceof HTMLInputElement && target.hasAttribute("data-scan-fill")) {
      var scanForm = target.closest("form");
      if (scanForm && scanForm.hasAttribute("data-scan-parse-url") && mayBeBarcode(target.value)) {
        event.preventDefault();
        fillFromScan(scanForm, target);
        return;
      }
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
    var outcome = root.matches("[data-scan-result]") ? root : root.querySelector("[data-scan-result]");
    if (outcome) {
      beep(outcome.getAttribute("data-scan-result") === "ok" ? "ok" : "bad");
    }
    var form = root.matches("[data-scan-form]") ? root : root.querySelector("[data-scan-form]");
    if (form) {
      focusFirstOpen(form);
    }
  });
})();
