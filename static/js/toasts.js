// Toasts: what the server says through HX-Trigger ("toast": {message, level, action?}).
// One stack at the top of the viewport, moved to the bottom while the row that asked
// would be under it, so a toast never covers the controls clicked next. Repeats from one
// row merge into one toast with a count; each goes by itself, paused while hovered or
// focused; screen readers hear it from a polite (or, for errors, assertive) live region.
"use strict";

const TOAST_MS = { success: 4000, info: 5000, error: 8000 };
const ACTION_MS = 10000; // long enough to reach Undo; paused while pointed at or focused
const MAX_TOASTS = 4;
const openToasts = new Map(); // merge key → toast element
let askingRowId = null; // the row whose request brought the latest toast

function showToast({ message, level = "success", action = null, offer = null, link = null },
  origin = null) {
  const region = document.getElementById("toasts");
  if (!region || !message) return;
  const rowId = origin?.closest?.("[data-item-row]")?.id || null;
  if (rowId) askingRowId = rowId;
  // A toast with a button stays itself: a later +1 must not take the Undo away.
  const key = action || offer || link ? null : `${level}|${rowId || message}`;
  const open = key && openToasts.get(key);
  if (open?.isConnected) {
    mergeInto(open, message);
  } else {
    region.prepend(buildToast({ message, level, action, offer, link }, key));
    trimToasts(region);
  }
  announce(message, level);
  placeToasts();
}

function buildToast({ message, level, action, offer, link }, key) {
  const toast = document.createElement("div");
  toast.className = `toast toast-${level}${offer ? " has-offer" : ""}`;
  toast.dataset.count = "1";
  const text = document.createElement("p");
  text.className = "toast-message";
  text.textContent = message;
  toast.append(text);
  // A link to what the toast is about (a same-site path only), then the buttons: the
  // action (Undo) and an offer of what to do next (add the sequel).
  if (link?.label && typeof link.url === "string" && /^\/(?!\/)/.test(link.url)) {
    const anchor = document.createElement("a");
    anchor.className = "toast-link";
    anchor.href = link.url;
    anchor.textContent = link.label;
    toast.append(anchor);
  }
  for (const [button, className] of [[action, "toast-action"], [offer, "toast-action toast-offer"]]) {
    if (button?.url && button?.label) toast.append(actionButton(button, className, toast));
  }
  const close = document.createElement("button");
  close.type = "button";
  close.className = "toast-close";
  close.setAttribute("aria-label", "Dismiss notification");
  close.textContent = "×";
  close.addEventListener("click", () => dismiss(toast));
  toast.append(close);
  if (key) {
    toast.dataset.key = key;
    openToasts.set(key, toast);
  }
  toast.addEventListener("mouseenter", () => pause(toast));
  toast.addEventListener("mouseleave", () => resume(toast));
  toast.addEventListener("focusin", () => pause(toast));
  toast.addEventListener("focusout", (event) => {
    if (!toast.contains(event.relatedTarget)) resume(toast);
  });
  toast.lifetime = action || offer || link ? ACTION_MS : TOAST_MS[level] ?? TOAST_MS.success;
  toast.remaining = toast.lifetime;
  resume(toast);
  return toast;
}

function actionButton(action, className, toast) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = className;
  button.textContent = action.label;
  button.addEventListener("click", () => runAction(action, toast));
  return button;
}

function mergeInto(toast, message) {
  const count = Number(toast.dataset.count) + 1;
  toast.dataset.count = String(count);
  toast.querySelector(".toast-message").textContent = `${message} (×${count})`;
  toast.remaining = toast.lifetime; // a fresh message gets its full time
  if (!toast.paused) resume(toast);
}

function pause(toast) {
  if (toast.paused) return;
  toast.paused = true;
  clearTimeout(toast.timer);
  toast.remaining -= Date.now() - toast.startedAt;
}

function resume(toast) {
  if (toast.matches(":hover") || toast.contains(document.activeElement)) return;
  toast.paused = false;
  clearTimeout(toast.timer);
  toast.startedAt = Date.now();
  toast.timer = setTimeout(() => dismiss(toast), Math.max(toast.remaining, 1000));
}

function dismiss(toast) {
  clearTimeout(toast.timer);
  if (toast.dataset.key && openToasts.get(toast.dataset.key) === toast) {
    openToasts.delete(toast.dataset.key);
  }
  const hadFocus = toast.contains(document.activeElement);
  toast.remove();
  if (hadFocus) focusRow(askingRowId);
  placeToasts();
}

function trimToasts(region) {
  const toasts = [...region.querySelectorAll(".toast")];
  toasts.slice(MAX_TOASTS).forEach(dismiss);
}

// Read aloud once: the live regions hold only the latest message, not the buttons.
function announce(message, level) {
  const live = document.getElementById(level === "error" ? "toast-alert" : "toast-status");
  if (!live) return;
  live.textContent = "";
  requestAnimationFrame(() => { live.textContent = message; });
}

// The toast's button: the server's request through htmx, its answer swapped over the
// target (a removed row's placeholder, or the row) when that is still on the page.
function runAction(action, toast) {
  const target = action.target ? document.querySelector(action.target) : null;
  dismiss(toast);
  if (!window.htmx) return;
  const request = window.htmx.ajax((action.method || "post").toUpperCase(), action.url, {
    source: target || document.body,
    target: target || document.body,
    swap: target ? "outerHTML" : "none",
    values: action.values || {},
  });
  if (target?.id) request.then(() => focusRow(target.id));
}

function focusRow(id) {
  const row = id && document.getElementById(id);
  if (row && row.matches("[data-item-row]")) row.focus({ preventScroll: true });
}

// The stack sits at the top unless the asking row's controls would be under it.
function placeToasts() {
  const region = document.getElementById("toasts");
  if (!region) return;
  const row = askingRowId && document.getElementById(askingRowId);
  const rowBox = row?.getBoundingClientRect();
  if (!rowBox || rowBox.height === 0 || !region.querySelector(".toast")) {
    region.classList.remove("at-bottom");
    return;
  }
  const covers = () => overlaps(region.getBoundingClientRect(), rowBox);
  region.classList.remove("at-bottom");
  if (covers()) {
    region.classList.add("at-bottom");
    if (covers()) region.classList.remove("at-bottom");
  }
}

function overlaps(a, b) {
  return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
}

let placing = false;
window.addEventListener("scroll", () => {
  if (placing) return;
  placing = true;
  requestAnimationFrame(() => { placing = false; placeToasts(); });
}, { passive: true });
window.addEventListener("resize", placeToasts, { passive: true });

// The server asks for toasts through the HX-Trigger header, on the element that asked.
document.body.addEventListener("toast", (event) => showToast(event.detail, event.target));

// A request that failed before any answer (server down, network gone) still says so.
document.body.addEventListener("htmx:sendError", (event) =>
  showToast({ message: "The server did not answer; your change was not saved.", level: "error" },
    event.detail.elt));
document.body.addEventListener("htmx:responseError", (event) => {
  if (!event.detail.xhr.getResponseHeader("HX-Trigger")) {
    showToast({ message: `Something went wrong (${event.detail.xhr.status}).`, level: "error" },
      event.detail.elt);
  }
});
