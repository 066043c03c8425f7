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
    if (clear) clear.addEventListener("click", function () { ctx.clearRect(0, 0, canvas.width, canvas.height); drawn = false; });
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
