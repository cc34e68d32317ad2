// "Print" buttons (data-print): the browser's print dialog; the print stylesheet in style.css
// keeps only the document. Kept in a file: the Content-Security-Policy forbids inline script.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () {
      window.print();
    });
  });
});
