// A little help where it is useful; every page works without it.
"use strict";
document.addEventListener("change", (event) => {
  // "Select all" checkbox in a table header: data-select-all="<name of the row checkboxes>".
  const all = event.target.closest("[data-select-all]");
  if (!all) return;
  const form = all.closest("form");
  form.querySelectorAll(`input[type=checkbox][name="${all.dataset.selectAll}"]`)
    .forEach((box) => { box.checked = all.checked; });
});
document.addEventListener("click", (event) => {
  // Destructive buttons and forms ask first: data-confirm="question".
  const button = event.target.closest("button[type=submit], button:not([type])");
  if (!button) return;
  const question = button.dataset.confirm || (button.form && button.form.dataset.confirm);
  if (question && !window.confirm(question)) event.preventDefault();
});
document.addEventListener("submit", (event) => {
  // One submission per click: disable the buttons once the browser has collected the form.
  const form = event.target;
  setTimeout(() => form.querySelectorAll("button").forEach((b) => { b.disabled = true; }), 0);
});
window.addEventListener("pageshow", () => {
  document.querySelectorAll("button:disabled").forEach((b) => { b.disabled = false; });
});
// Copy buttons: data-copy="<id of the field to copy>". Shown only when scripts run; without
// them the field is still there to select by hand. The Clipboard API needs a secure context
// (HTTPS or localhost): elsewhere the field is selected and copied the older way.
document.querySelectorAll("[data-copy]").forEach((button) => { button.hidden = false; });
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  if (!field) return;
  field.select();
  let copied = false;
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(field.value);
      copied = true;
    } else {
      copied = document.execCommand("copy");
    }
  } catch (error) {
    copied = false;  // the text stays selected: Ctrl+C still copies it
  }
  if (copied && button.dataset.copied) {
    const label = button.textContent;
    button.textContent = button.dataset.copied;
    setTimeout(() => { button.textContent = label; }, 2000);
  }
});
// Print buttons: data-print opens the browser's print dialog.
document.querySelectorAll("[data-print]").forEach((button) => { button.hidden = false; });
document.addEventListener("click", (event) => {
  if (event.target.closest("button[data-print]")) window.print();
});
