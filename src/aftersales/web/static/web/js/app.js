// aftersales: the few lines of script the workbenches need (htmx does the rest).
(function () {
  "use strict";

  // htmx sends the CSRF token with every request it makes.
  document.addEventListener("htmx:configRequest", function (e) {
    var token = document.querySelector("meta[name=csrf-token]");
    if (token) e.detail.headers["X-CSRFToken"] = token.content;
  });

  // Alt+N: a new intake on the call desk (focus the caller search, clear the form).
  document.addEventListener("keydown", function (e) {
    if (e.altKey && (e.key === "n" || e.key === "N")) {
      var search = document.getElementById("caller-search");
      if (!search) return;
      e.preventDefault();
      var intake = document.getElementById("intake");
      if (intake && intake.dataset.blank) intake.innerHTML = intake.dataset.blank;
      search.value = "";
      search.focus();
    }
  });

  // The customer's signature, drawn with a finger or the mouse; sent as a PNG data URL.
  function setupSignature(canvas) {
    if (canvas.dataset.ready) return;
    canvas.dataset.ready = "1";
    var ctx = canvas.getContext("2d");
    var drawn = false, last = null;
    function resize() {
      var ratio = window.devicePixelRatio || 1;
      canvas.width = canvas.clientWidth * ratio;
      canvas.height = canvas.clientHeight * ratio;
      ctx.scale(ratio, ratio);
      ctx.lineWidth = 2.2; ctx.lineCap = "round"; ctx.strokeStyle = "#111";
    }
    function point(e) {
      var r = canvas.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top };
    }
    canvas.addEventListener("pointerdown", function (e) { last = point(e); canvas.setPointerCapture(e.pointerId); });
    canvas.addEventListener("pointermove", function (e) {
      if (!last) return;
      var p = point(e);
      ctx.beginPath(); ctx.moveTo(last.x, last.y); ctx.lineTo(p.x, p.y); ctx.stroke();
      last = p; drawn = true;
    });
    canvas.addEventListener("pointerup", function () { last = null; });
    var form = canvas.closest("form");
    var field = form.querySelector("input[name=signature_png]");
    var clear = form.querySelector("[data-clear-signature]");
    var status = form.querySelector("[data-signature-status]");
    function say(text) { if (status && text) status.textContent = text; }
    if (clear) clear.addEventListener("click", function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height); drawn = false;
      say(clear.dataset.done);
    });
    // The keyboard and screen-reader alternative to drawing: the name typed in the form's name
    // field, written into the pad, becomes the signature image.
    var typed = form.querySelector("[data-sign-typed]");
    if (typed) typed.addEventListener("click", function () {
      var nameField = form.querySelector("[name=name]");
      var name = nameField ? nameField.value.trim() : "";
      if (!name) { say(typed.dataset.empty); if (nameField) nameField.focus(); return; }
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      ctx.font = "italic 36px " + getComputedStyle(document.body).fontFamily;
      ctx.fillStyle = "#111"; ctx.textBaseline = "middle";
      ctx.fillText(name, 16, canvas.clientHeight / 2, canvas.clientWidth - 32);
      drawn = true;
      say(typed.dataset.done);
    });
    form.addEventListener("submit", function () { if (drawn) field.value = canvas.toDataURL("image/png"); });
    resize();
  }

  function init(root) {
    root.querySelectorAll("canvas.signature").forEach(setupSignature);
  }
  document.addEventListener("DOMContentLoaded", function () {
    init(document);
    var intake = document.getElementById("intake");
    if (intake) intake.dataset.blank = intake.innerHTML;
  });
  document.addEventListener("htmx:load", function (e) { init(e.target); });
})();

// --- desk, order page and phone view (area "desk": web/desk.py, web/actions.py, tech.html) ---------
(function () {
  "use strict";

  // Call desk, keyboard only: Enter in the caller search takes the call (the one customer found,
  // a new-caller form with the typed number, or the list to pick from when several match).
  document.addEventListener("keydown", function (e) {
    var search = e.target;
    if (e.key !== "Enter" || !search || search.id !== "caller-search") return;
    e.preventDefault();
    var q = search.value.trim();
    if (!q || !window.htmx) return;
    htmx.ajax("GET", search.dataset.takeUrl + "?take=" + encodeURIComponent(q), { target: "#intake", swap: "innerHTML" });
  });

  // After the intake form is (re)drawn (a new order type, urgency or machine re-renders it), the agent
  // keeps their place: the field that has the focus when the answer arrives has it again (keyboard and
  // screen-reader users), and text typed while the redraw was on its way is kept — the answer was
  // drawn from the values sent, so without this a fast typist's symptom would silently vanish.
  // A form for a newly taken caller starts at its first field; several callers found: the first "take" link.
  var sent = null, typed = null, focusedName = null;
  function formValues(form) {
    var values = {};
    form.querySelectorAll("input[type=text], input[type=tel], input[type=number], input:not([type]), textarea").forEach(function (el) {
      if (el.name) values[el.name] = el.value;
    });
    return values;
  }
  document.addEventListener("htmx:beforeRequest", function (e) {
    if (!e.detail.target || e.detail.target.id !== "intake") return;
    var form = document.getElementById("intake-form");
    sent = form ? formValues(form) : null;
  });
  document.addEventListener("htmx:beforeSwap", function (e) {
    if (!e.detail.target || e.detail.target.id !== "intake") return;
    var active = document.activeElement;
    focusedName = active && e.detail.target.contains(active) && active.name ? active.name : null;
    var form = document.getElementById("intake-form");
    typed = {};
    if (form && sent) {
      var now = formValues(form);
      Object.keys(now).forEach(function (name) { if (now[name] !== sent[name]) typed[name] = now[name]; });
    }
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    if (!e.target || e.target.id !== "intake") return;
    var form = document.getElementById("intake-form");
    if (form) {
      Object.keys(typed || {}).forEach(function (name) {
        var field = form.querySelector("[name='" + name + "']");
        if (field && field.value !== typed[name]) field.value = typed[name];
      });
      var again = focusedName && form.querySelector("[name='" + focusedName + "']");
      var first = form.querySelector("input:not([type=hidden]), select, textarea");
      (again || first).focus();
    } else if (document.getElementById("pick-caller")) {
      var take = document.querySelector("#lookup a.take");
      if (take) take.focus();
    }
    sent = typed = focusedName = null;
  });

  // Ctrl+Enter (or Cmd+Enter) in a multi-line field saves its form, as Enter does in a line.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey) || !e.target || e.target.tagName !== "TEXTAREA") return;
    var form = e.target.form;
    if (!form) return;
    e.preventDefault();
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  });

  // Parts and quote lines: one more row, numbered after the last (web/actions.py reads every index).
  document.addEventListener("click", function (e) {
    var button = e.target && e.target.closest && e.target.closest("[data-add-row]");
    if (!button) return;
    var fieldset = button.closest("fieldset");
    var rows = fieldset.querySelectorAll(".parts-row");
    var last = rows[rows.length - 1];
    var next = rows.length;
    var copy = last.cloneNode(true);
    copy.querySelectorAll("input, select").forEach(function (input) {
      input.name = input.name.replace(/-\d+-/, "-" + next + "-");
      if (input.type === "checkbox") input.checked = true;
      else if (input.tagName === "SELECT") input.selectedIndex = 0;
      else input.value = "";
    });
    // The new row starts clean: not with the errors the copied row came back with.
    copy.querySelectorAll("[data-row-error]").forEach(function (el) { el.remove(); });
    copy.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    last.parentNode.insertBefore(copy, button);
    var first = copy.querySelector("input");
    if (first) first.focus();
  });

  // Check-in and check-out: the technician's position, only when they tick the box and the
  // browser allows it; the form is sent either way (no position is no failure).
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form || !form.hasAttribute || !form.hasAttribute("data-geolocate")) return;
    var share = form.querySelector("[data-geo-share]");
    if (!share || !share.checked || !navigator.geolocation || form.dataset.located) return;
    e.preventDefault();
    var send = function () {
      form.dataset.located = "1";
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    };
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.querySelector("[name=latitude]").value = pos.coords.latitude.toFixed(6);
      form.querySelector("[name=longitude]").value = pos.coords.longitude.toFixed(6);
      form.querySelector("[name=accuracy_m]").value = Math.round(pos.coords.accuracy);
      send();
    }, send, { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 });
  });
})();

// The call desk starts with the caller search focused (the agent types the number at once), also
// when the browser did not honour `autofocus` (a page restored from history, a skip link).
document.addEventListener("DOMContentLoaded", function () {
  var search = document.getElementById("caller-search");
  var active = document.activeElement;
  if (search && (!active || active === document.body)) search.focus();
});
