// Page behaviour that htmx attributes cannot express. Loaded as a file: the CSP forbids inline code.
"use strict";

// Toasts (showToast) live in toasts.js.

function isTyping(target) {
  return target.closest("input, textarea, select, [contenteditable='true']") !== null;
}

// Keyboard: "/" focuses search; on a focused row "+" and "-" change progress.
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "/" && !isTyping(event.target)) {
    const search = document.querySelector("[data-search]");
    if (search) {
      event.preventDefault();
      search.focus();
    }
    return;
  }
  if ((event.key === "+" || event.key === "-") && !isTyping(event.target)) {
    const row = event.target.closest("[data-item-row]");
    const button = row?.querySelector(event.key === "+" ? "[data-increment]" : "[data-decrement]");
    if (button && !button.disabled) {
      event.preventDefault();
      // htmx wires up a swapped-in row only when it settles; a quick repeat must not be lost.
      window.htmx?.process(button);
      button.click();
    }
  }
});

// Keep keyboard focus on a row after htmx swaps it, so repeated "+" keeps working.
document.body.addEventListener("htmx:afterSwap", (event) => {
  const focusId = event.detail.requestConfig?.elt?.closest?.("[data-item-row]")?.id;
  if (focusId && document.activeElement === document.body) {
    document.getElementById(focusId)?.focus();
  }
});

// Copy buttons: <button data-copy="#field" hidden> copies that field's value. They stay
// hidden where scripts (or the clipboard) are unavailable; the field can still be selected.
function revealCopyButtons(root) {
  if (!navigator.clipboard) return;
  root.querySelectorAll?.("[data-copy][hidden]").forEach((button) => { button.hidden = false; });
}
revealCopyButtons(document);
document.body.addEventListener("htmx:load", (event) => revealCopyButtons(event.detail.elt));
document.addEventListener("click", async (event) => {
  const button = event.target.closest?.("[data-copy]");
  const field = button && document.querySelector(button.dataset.copy);
  if (!field) return;
  try {
    await navigator.clipboard.writeText(field.value);
    showToast({ message: "Copied." });
  } catch {
    field.select();
    showToast({ message: "Could not copy; the token is selected, copy it yourself.", level: "error" });
  }
});
