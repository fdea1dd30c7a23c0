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
