// The admin export form's "Select all" toggle, bound here rather than by an inline onchange
// attribute (the Content-Security-Policy forbids those). onSelectToggleChange comes from
// django-import-export's export_selectable_fields.js, loaded before this file.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input.select-toggle").forEach((toggle) => {
    toggle.addEventListener("change", onSelectToggleChange);
  });
});
