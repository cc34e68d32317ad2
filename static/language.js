// The language switcher (base.html) sends its form as soon as a language is chosen;
// without JavaScript its <noscript> button does. Kept in a file: the Content-Security-Policy
// allows no inline script or event handler.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
    select.addEventListener("change", function () {
      select.form.submit();
    });
  });
});
