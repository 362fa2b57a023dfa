// Page behaviour that htmx attributes cannot express. Loaded as a file: the CSP forbids inline code.
"use strict";

function showToast({ message, level = "success" }) {
  const region = document.getElementById("toasts");
  if (!region || !message) return;
  const toast = document.createElement("div");
  toast.className = `toast toast-${level}`;
  toast.setAttribute("role", level === "error" ? "alert" : "status");
  toast.textContent = message;
  region.append(toast);
  setTimeout(() => toast.remove(), level === "error" ? 8000 : 4000);
}

// The server asks for toasts through the HX-Trigger header.
document.body.addEventListener("toast", (event) => showToast(event.detail));

// A request that failed before any answer (server down, network gone) still says so.
document.body.addEventListener("htmx:sendError", () =>
  showToast({ message: "The server did not answer; your change was not saved.", level: "error" }));
document.body.addEventListener("htmx:responseError", (event) => {
  if (!event.detail.xhr.getResponseHeader("HX-Trigger")) {
    showToast({ message: `Something went wrong (${event.detail.xhr.status}).`, level: "error" });
  }
});

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
