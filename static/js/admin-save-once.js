// A sheet's change form is sent once. A second click on Save while the first is on its way
// would reach the server after the first was saved, be refused as "opened before someone
// else's save" (factsheets/admin.py), and tell the editor that changes it had just saved
// were lost. Coming back to the page (the Back button) makes it sendable again.
"use strict";
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset.sent) {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "yes";
});
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form[data-sent]").forEach(function (form) {
    delete form.dataset.sent;
  });
});
