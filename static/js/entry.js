/* QC data-entry page (qc_core/reporting/templates/reporting/entry.html).
 *
 * - the rate of each row is computed live as the reporter types (numerator ÷ denominator ×
 *   multiplier; the numerator itself for a count);
 * - edits are saved automatically (debounced) to the page's JSON endpoint, one request at a time,
 *   with the form's row version for optimistic locking: a save made by someone else in between is
 *   reported, never silently overwritten;
 * - every edit is also kept in localStorage until the server confirms it, so a dropped network,
 *   a closed tab or an expired session loses nothing: saving resumes when the browser is back
 *   online, and a reopened page restores what was not saved;
 * - the validation results of each save are shown on the rows, and the submit button is blocked
 *   while errors or warnings without a justification remain.
 * All checks are the server's; this file only displays them.
 */
(function () {
  "use strict";

  var form = document.getElementById("entry-form");
  if (!form || form.dataset.editable !== "true") return;

  var DEBOUNCE_MS = 800;
  var RETRY_MS = 10000;
  var NUMBER_FIELDS = { numerator: true, denominator: true };

  var saveUrl = form.dataset.saveUrl;
  var storageKey = form.dataset.storageKey;
  var version = parseInt(form.dataset.rowVersion, 10) || 0;
  var statusBox = document.getElementById("save-status");
  var alertBox = document.getElementById("entry-alert");
  var submitForm = document.getElementById("submit-form");
  var submitButton = document.getElementById("submit-btn");

  var pending = {};       // code → {field: value} typed but not sent yet
  var inflight = null;    // code → {field: value} being sent
  var inflightPromise = null;
  var invalid = {};       // code → [errors]: the server refused this row's input; wait for an edit
  var stopped = false;    // conflict / expired session / not editable: wait for the user
  var timer = null;
  var retryTimer = null;

  // --- helpers ------------------------------------------------------------------------------

  function text(name, vars) {
    var value = form.dataset["text" + name] || "";
    Object.keys(vars || {}).forEach(function (key) {
      value = value.split("{" + key + "}").join(String(vars[key]));
    });
    return value;
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) return meta.content;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function isEmpty(obj) {
    return !obj || Object.keys(obj).length === 0;
  }

  function countFields(values) {
    var n = 0;
    Object.keys(values || {}).forEach(function (code) {
      n += Object.keys(values[code]).length;
    });
    return n;
  }

  function rowOf(code) {
    return document.getElementById("row-" + code);
  }

  /* Full-width digits (１２３), full-width point and minus, spaces and thousands separators
   * (1,234 / 1，234) are what people type on Chinese keyboards; the meaning is unambiguous. */
  function normalizeNumber(raw) {
    var s = String(raw == null ? "" : raw)
      .replace(/[\uFF10-\uFF19]/g, function (c) {
        return String.fromCharCode(c.charCodeAt(0) - 0xfee0);
      })
      .replace(/\uFF0E/g, ".")
      .replace(/[\uFF0D\u2212]/g, "-")
      .replace(/\s+/g, "");
    if (/^-?\d{1,3}([,\uFF0C]\d{3})+(\.\d+)?$/.test(s)) s = s.replace(/[,\uFF0C]/g, "");
    return s;
  }

  function toNumber(raw) {
    var s = normalizeNumber(raw);
    if (!/^-?(\d+\.?\d*|\.\d+)$/.test(s)) return null;
    return Number(s);
  }

  // Same display as the server's floatformat:"-2": two decimals unless the value is whole.
  function formatNumber(x) {
    if (!isFinite(x)) return "—";
    return Number.isInteger(x) ? String(x) : x.toFixed(2);
  }

  // --- live rate ----------------------------------------------------------------------------

  function updateRate(row) {
    var multiplier = parseFloat(row.dataset.multiplier) || 1;
    var hasDen = row.dataset.hasDen === "1";
    var numInput = row.querySelector('[data-field="numerator"]');
    var denInput = row.querySelector('[data-field="denominator"]');
    var n = toNumber(numInput ? numInput.value : "");
    var d = hasDen && denInput ? toNumber(denInput.value) : null;
    var out = row.querySelector("[data-rate]");
    if (!out) return;
    if (n === null) out.textContent = "—";
    else if (!hasDen) out.textContent = formatNumber(n * multiplier);
    else if (d === null || d === 0) out.textContent = "—";
    else out.textContent = formatNumber((n / d) * multiplier);
  }

  // --- status line and alerts ---------------------------------------------------------------

  function setStatus(state, savedAt) {
    if (!statusBox) return;
    var labels = {
      dirty: text("Dirty"),
      saving: text("Saving"),
      saved: text("Saved", { time: savedAt || "" }),
      offline: text("Offline"),
      retry: text("Retry"),
      invalid: text("Invalid"),
      conflict: text("Conflict"),
      expired: text("Expired"),
      error: text("Retry"),
    };
    statusBox.dataset.state = state;
    statusBox.textContent = labels[state] || "";
  }

  function showAlert(message, kind, buttons) {
    if (!alertBox) return;
    alertBox.innerHTML = "";
    var box = document.createElement("div");
    box.className = "alert alert-" + (kind || "danger") + " d-flex flex-wrap align-items-center gap-2";
    box.setAttribute("role", "alert");
    var span = document.createElement("span");
    span.className = "me-auto";
    span.textContent = message;
    box.appendChild(span);
    (buttons || []).forEach(function (spec) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-sm " + (spec.css || "btn-outline-secondary");
      button.textContent = spec.label;
      button.addEventListener("click", spec.action);
      box.appendChild(button);
    });
    alertBox.appendChild(box);
  }

  function clearAlert() {
    if (alertBox) alertBox.innerHTML = "";
  }

  function reloadButton() {
    return {
      label: text("Reload"),
      css: "btn-danger",
      action: function () {
        window.location.reload();
      },
    };
  }

  // --- local copy of unsaved edits ----------------------------------------------------------

  function unsaved() {
    var merged = {};
    [inflight, pending].forEach(function (source) {
      Object.keys(source || {}).forEach(function (code) {
        merged[code] = merged[code] || {};
        Object.keys(source[code]).forEach(function (field) {
          merged[code][field] = source[code][field];
        });
      });
    });
    return merged;
  }

  function store() {
    try {
      var values = unsaved();
      if (isEmpty(values)) window.localStorage.removeItem(storageKey);
      else
        window.localStorage.setItem(
          storageKey,
          JSON.stringify({ base: version, values: values, at: Date.now() })
        );
    } catch (e) {
      /* storage full or disabled: autosave still works while online */
    }
  }

  function requeue(sent) {
    Object.keys(sent || {}).forEach(function (code) {
      pending[code] = pending[code] || {};
      Object.keys(sent[code]).forEach(function (field) {
        if (!(field in pending[code])) pending[code][field] = sent[code][field];
      });
    });
  }

  function applyValues(values) {
    Object.keys(values).forEach(function (code) {
      var row = rowOf(code);
      if (!row) return;
      Object.keys(values[code]).forEach(function (field) {
        var input = row.querySelector('[data-field="' + field + '"]');
        if (input) input.value = values[code][field] == null ? "" : values[code][field];
        if (field === "justification" && values[code][field]) showJustification(row, true);
      });
      updateRate(row);
    });
  }

  function restore() {
    var saved = null;
    try {
      saved = JSON.parse(window.localStorage.getItem(storageKey) || "null");
    } catch (e) {
      saved = null;
    }
    if (!saved || isEmpty(saved.values)) return;
    var n = countFields(saved.values);
    var useLocal = function () {
      clearAlert();
      applyValues(saved.values);
      requeue(saved.values);
      setStatus("dirty");
      schedule(0);
    };
    if (saved.base === version) {
      useLocal();
      showAlert(text("Restored", { n: n }), "info");
      return;
    }
    showAlert(text("Stale", { n: n }), "warning", [
      { label: text("UseLocal"), css: "btn-warning", action: useLocal },
      {
        label: text("Discard"),
        action: function () {
          window.localStorage.removeItem(storageKey);
          clearAlert();
        },
      },
    ]);
  }

  // --- validation results -------------------------------------------------------------------

  function messageItem(result) {
    var li = document.createElement("li");
    li.className = "gq-msg gq-msg-" + result.severity;
    li.dataset.code = result.code;
    li.dataset.severity = result.severity;
    var icon = document.createElement("i");
    icon.className =
      "bi me-1 " +
      (result.severity === "error"
        ? "bi-x-circle-fill"
        : result.severity === "warning"
          ? "bi-exclamation-triangle-fill"
          : "bi-info-circle");
    icon.setAttribute("aria-hidden", "true");
    li.appendChild(icon);
    li.appendChild(document.createTextNode(result.message));
    if (result.severity === "warning" && result.justified) {
      var badge = document.createElement("span");
      badge.className = "badge text-bg-light border ms-1";
      badge.textContent = text("Justified");
      li.appendChild(badge);
    }
    return li;
  }

  function showJustification(row, show) {
    var wrap = row.querySelector("[data-justify-wrap]");
    if (wrap) wrap.hidden = !show;
  }

  function renderResults(results) {
    var byCode = {};
    (results || []).forEach(function (r) {
      (byCode[r.indicator] = byCode[r.indicator] || []).push(r);
    });
    form.querySelectorAll("[data-row]").forEach(function (row) {
      var code = row.dataset.indicator;
      var list = row.querySelector("[data-msgs]");
      var mine = byCode[code] || [];
      var refused = (invalid[code] || []).map(function (err) {
        return { severity: "error", code: "input", message: err.message };
      });
      if (list) {
        list.innerHTML = "";
        refused.concat(mine).forEach(function (r) {
          list.appendChild(messageItem(r));
        });
      }
      var hasError = refused.length > 0 || mine.some(function (r) {
        return r.severity === "error";
      });
      var warnings = mine.filter(function (r) {
        return r.severity === "warning";
      });
      var justification = row.querySelector('[data-field="justification"]');
      var unjustified = warnings.some(function (r) {
        return !r.justified;
      });
      row.classList.toggle("gq-has-error", hasError);
      row.classList.toggle("gq-has-warning", !hasError && unjustified);
      showJustification(row, warnings.length > 0 || !!(justification && justification.value));
    });
  }

  function renderBlocking(blocking) {
    var card = document.getElementById("blockers");
    var missing = (blocking || []).filter(function (b) {
      return b.code === "required" || b.code === "incomplete";
    });
    var problems = (blocking || []).filter(function (b) {
      return b.code !== "required" && b.code !== "incomplete";
    });
    if (card) {
      card.hidden = !blocking || blocking.length === 0;
      var missingLine = card.querySelector("[data-missing]");
      missingLine.hidden = missing.length === 0;
      card.querySelector("[data-missing-text]").textContent = text("Missing", { n: missing.length });
      var codes = card.querySelector("[data-missing-codes]");
      codes.innerHTML = "";
      missing.forEach(function (b, i) {
        if (i) codes.appendChild(document.createTextNode(text("Separator") || "、"));
        var a = document.createElement("a");
        a.href = "#row-" + b.indicator;
        a.textContent = b.indicator;
        codes.appendChild(a);
      });
      var list = card.querySelector("[data-problems]");
      list.innerHTML = "";
      problems.forEach(function (b) {
        var li = document.createElement("li");
        li.className = "gq-msg gq-msg-" + b.severity;
        var a = document.createElement("a");
        a.href = "#row-" + b.indicator;
        a.textContent = b.indicator;
        li.appendChild(a);
        li.appendChild(
          document.createTextNode(
            " " + b.message + (b.severity === "warning" ? " — " + text("Justify") : "")
          )
        );
        list.appendChild(li);
      });
    }
    if (submitButton) submitButton.disabled = !!(blocking && blocking.length);
    var hint = document.getElementById("blocked-hint");
    if (hint) {
      hint.hidden = !(blocking && blocking.length);
      hint.textContent = text("Blocked", { n: (blocking || []).length });
    }
  }

  // Marks the rows the server refused; answers how many (0: the error concerns no row).
  function markInvalid(errors) {
    var marked = 0;
    (errors || []).forEach(function (err) {
      if (!err.indicator) return;
      var row = rowOf(err.indicator);
      if (!row) return;
      marked += 1;
      invalid[err.indicator] = (invalid[err.indicator] || []).concat([err]);
      var input = row.querySelector('[data-field="' + err.field + '"]');
      if (input) input.classList.add("is-invalid-local");
      var list = row.querySelector("[data-msgs]");
      if (list) list.insertBefore(messageItem({ severity: "error", code: "input", message: err.message }), list.firstChild);
      row.classList.add("gq-has-error");
    });
    return marked;
  }

  // --- saving -------------------------------------------------------------------------------

  function schedule(delay) {
    window.clearTimeout(timer);
    timer = window.setTimeout(flush, delay == null ? DEBOUNCE_MS : delay);
  }

  function scheduleRetry() {
    window.clearTimeout(retryTimer);
    retryTimer = window.setTimeout(flush, RETRY_MS);
  }

  function sendable() {
    return Object.keys(pending).filter(function (code) {
      return !invalid[code];
    });
  }

  function flush() {
    window.clearTimeout(timer);
    if (inflightPromise) return inflightPromise.then(flush);
    if (stopped) return Promise.resolve(false);
    var codes = sendable();
    if (codes.length === 0) return Promise.resolve(isEmpty(pending));
    if (navigator.onLine === false) {
      setStatus("offline");
      scheduleRetry();
      return Promise.resolve(false);
    }
    inflight = {};
    codes.forEach(function (code) {
      inflight[code] = pending[code];
      delete pending[code];
    });
    var values = Object.keys(inflight).map(function (code) {
      var item = { indicator: code };
      Object.keys(inflight[code]).forEach(function (field) {
        item[field] = inflight[code][field];
      });
      return item;
    });
    setStatus("saving");
    inflightPromise = window
      .fetch(saveUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": csrfToken(),
        },
        body: JSON.stringify({ expected_version: version, values: values }),
      })
      .then(
        function (response) {
          var type = response.headers.get("content-type") || "";
          if (response.redirected || type.indexOf("json") < 0) {
            return { status: 401, body: {} };
          }
          return response.json().then(function (body) {
            return { status: response.status, body: body };
          });
        },
        function () {
          return { status: 0, body: {} };
        }
      )
      .then(handle);
    return inflightPromise;
  }

  function handle(reply) {
    var sent = inflight;
    inflight = null;
    inflightPromise = null;
    var body = reply.body || {};
    if (reply.status === 200 && body.ok) {
      version = body.row_version;
      store();
      clearAlert();
      renderResults(body.results);
      renderBlocking(body.blocking);
      setStatus("saved", body.saved_at);
      if (sendable().length) schedule();
      return isEmpty(pending);
    }
    requeue(sent);
    store();
    if (reply.status === 0 || reply.status >= 500) {
      setStatus(navigator.onLine === false || reply.status === 0 ? "offline" : "retry");
      scheduleRetry();
      return false;
    }
    if (reply.status === 400 && markInvalid(body.errors) > 0) {
      // The other rows of the batch were not saved either (all or nothing): send them again.
      setStatus("invalid");
      if (sendable().length) schedule(0);
      return false;
    }
    stopped = true;
    if (reply.status === 401) {
      setStatus("expired");
      showAlert(text("Expired"), "warning", [
        {
          label: text("Reload"),
          css: "btn-warning",
          action: function () {
            window.location.reload();
          },
        },
      ]);
    } else if (body.code === "edit_conflict") {
      setStatus("conflict");
      showAlert(body.message + " " + text("Conflict"), "danger", [reloadButton()]);
    } else {
      setStatus("error");
      showAlert(body.message || text("Retry"), "danger", [reloadButton()]);
    }
    return false;
  }

  // --- events -------------------------------------------------------------------------------

  form.addEventListener("input", function (event) {
    var input = event.target;
    var field = input.dataset ? input.dataset.field : null;
    if (!field) return;
    var row = input.closest("[data-row]");
    var code = row.dataset.indicator;
    if (NUMBER_FIELDS[field]) updateRate(row);
    if (invalid[code]) {
      delete invalid[code];
      row.querySelectorAll(".is-invalid-local").forEach(function (el) {
        el.classList.remove("is-invalid-local");
      });
    }
    var value = NUMBER_FIELDS[field] ? normalizeNumber(input.value) : input.value.trim();
    pending[code] = pending[code] || {};
    pending[code][field] = NUMBER_FIELDS[field] && value === "" ? null : value;
    store();
    if (!stopped) {
      setStatus(navigator.onLine === false ? "offline" : "dirty");
      schedule();
    }
  });

  window.addEventListener("online", function () {
    if (!stopped && !isEmpty(pending)) flush();
  });
  window.addEventListener("offline", function () {
    if (!isEmpty(pending) || inflight) setStatus("offline");
  });
  window.addEventListener("beforeunload", function (event) {
    // After a conflict or an expired session the edits wait in localStorage: let the page go.
    if (stopped || (isEmpty(pending) && !inflight)) return;
    flush();
    event.preventDefault();
    event.returnValue = "";
  });

  if (submitForm) {
    submitForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!window.confirm(text("Confirm"))) return;
      flush().then(function () {
        if (isEmpty(pending) && !inflight && !stopped && !submitButton.disabled) {
          submitForm.submit();
        }
      });
    });
  }

  var historyModal = document.getElementById("history-modal");
  if (historyModal) {
    historyModal.addEventListener("hidden.bs.modal", function () {
      var body = document.getElementById("history-body");
      if (body) body.innerHTML = "";
    });
  }

  form.querySelectorAll("[data-row]").forEach(updateRate);
  restore();
})();
