// Small conveniences; every page works without this script.
(function () {
  "use strict";
  // Copy buttons: <button data-copy="element-id">.
  document.querySelectorAll("button[data-copy]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () {
      var el = document.getElementById(b.dataset.copy);
      if (!el || !navigator.clipboard) { return; }
      navigator.clipboard.writeText(el.textContent.trim()).then(function () { b.textContent = "Copied"; });
    });
  });
  // Compile errors: <a data-file="textarea-id" data-line="12"> selects that line.
  document.querySelectorAll("a[data-line]").forEach(function (a) {
    a.addEventListener("click", function (ev) {
      var ta = document.getElementById(a.dataset.file);
      if (!ta) { return; }
      ev.preventDefault();
      var lines = ta.value.split("\n"), line = parseInt(a.dataset.line, 10) - 1, start = 0;
      for (var i = 0; i < line && i < lines.length; i++) { start += lines[i].length + 1; }
      ta.focus();
      ta.setSelectionRange(start, start + (lines[line] || "").length);
      var lh = parseFloat(getComputedStyle(ta).lineHeight) || 18;
      ta.scrollTop = Math.max(0, (line - 5) * lh);
    });
  });
  // Confirmation for forms with data-confirm.
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (ev) {
      if (!window.confirm(f.dataset.confirm)) { ev.preventDefault(); }
    });
  });
})();
