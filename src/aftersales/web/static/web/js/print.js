// The print page's button: a static file, because the site's CSP allows no inline script.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
