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

  // Keyboard and screen-reader users keep their place when htmx replaces the intake form: the
  // field that had the focus has it again after the swap (changing the order type re-renders the
  // form); when the form first appears ("Take" on a caller), its first field gets the focus.
  var focusedName = null;
  document.addEventListener("htmx:beforeSwap", function (e) {
    var active = document.activeElement;
    focusedName = active && e.detail.target.contains(active) && active.name ? active.name : null;
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    var target = e.detail.target;
    if (target.id !== "intake") return;
    var form = target.querySelector("form");
    if (!form) return;
    var field = focusedName && form.querySelector("[name='" + focusedName + "']");
    if (!field) field = form.querySelector("input:not([type=hidden]), select, textarea");
    if (field) field.focus();
  });

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
