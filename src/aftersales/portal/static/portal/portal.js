// The fault report's "use my position" button: the browser's geolocation fills the two hidden
// fields; without it (or if refused) the customer types the address. No inline script (strict CSP).
(function () {
  "use strict";
  var button = document.getElementById("locate");
  if (!button || !("geolocation" in navigator)) { return; }
  var status = document.getElementById("locate-status");
  var form = button.form;
  button.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = button.getAttribute("data-wait") || "…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.elements.latitude.value = pos.coords.latitude.toFixed(6);
      form.elements.longitude.value = pos.coords.longitude.toFixed(6);
      status.textContent = (button.getAttribute("data-done") || "✓") + " " +
        pos.coords.latitude.toFixed(5) + ", " + pos.coords.longitude.toFixed(5);
    }, function () {
      status.textContent = button.getAttribute("data-failed") || "✗";
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
  });
}());
