// After a refused step the page comes back with the field it names focused. Its text is selected,
// so the next scan replaces it instead of being appended to it ("LOC:...S2LOC:...S1"), while
// someone typing can still correct it (issue 10). Without this script nothing else changes.
(function () {
  "use strict";

  function selectRefused() {
    // Only a refused field or a scan field: an edit form's prefilled value is never selected.
    var field = document.querySelector("input[aria-invalid=true], input.scan[autofocus]");
    if (!field || typeof field.select !== "function" || field.type === "password") {
      return;
    }
    // Only the text the page came back with: a scanner that starts typing before this runs (a
    // slow page) must not have its first characters selected and then typed over.
    if (field.value && field.value === field.defaultValue) {
      field.focus();
      field.select();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", selectRefused);
  } else {
    selectRefused();
  }
})();
