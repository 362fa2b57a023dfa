// The library's search bar as a combobox (the WAI-ARIA listbox pattern): the list below
// filters as you type (the filters form), and the catalogue's titles to add open under the
// bar (#suggestions, swapped in by htmx). ↑/↓ choose, Enter adds as Planning, Shift+Enter
// as Watching/Reading, Escape closes; a click or tap shows a status menu for the option.
// The last option, "Add '…' by hand", opens the hand form with the title filled in.
"use strict";

(() => {
  const input = () => document.querySelector("input[role='combobox'][aria-controls]");
  const listbox = () => document.getElementById("suggestion-list");
  const options = () => [...(listbox()?.querySelectorAll("[role='option']") ?? [])];
  const active = () => {
    const id = input()?.getAttribute("aria-activedescendant");
    return id ? document.getElementById(id) : null;
  };

  function isOpen() {
    return input()?.getAttribute("aria-expanded") === "true";
  }

  function open() {
    const box = listbox();
    if (!box || options().length === 0) return close({ keepMessages: true });
    box.hidden = false;
    document.getElementById("suggestions")?.classList.remove("is-closed");
    input().setAttribute("aria-expanded", "true");
  }

  // Closing puts the whole popup away, unless it only says something (a refused add).
  function close({ keepMessages = false } = {}) {
    const field = input();
    if (!field) return;
    field.setAttribute("aria-expanded", "false");
    field.removeAttribute("aria-activedescendant");
    const box = listbox();
    if (box) box.hidden = true;
    if (!keepMessages) document.getElementById("suggestions")?.classList.add("is-closed");
    showMenu(null);
  }

  function activate(option) {
    const field = input();
    for (const each of options()) each.setAttribute("aria-selected", String(each === option));
    if (!option) {
      field.removeAttribute("aria-activedescendant");
      showMenu(null);
      return;
    }
    field.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
    showMenu(option);
  }

  // The status menu names the statuses the way the active option's type reads them.
  function showMenu(option) {
    const menu = document.querySelector("[data-status-menu]");
    if (!menu) return;
    if (!option || option.hasAttribute("data-by-hand")) {
      menu.hidden = true;
      return;
    }
    menu.querySelector("[data-chosen]").textContent = option.dataset.title;
    for (const button of menu.querySelectorAll("[data-add-status]")) {
      button.textContent = button.dataset[option.dataset.type] ?? button.textContent;
    }
    menu.hidden = false;
  }

  function move(step) {
    const all = options();
    if (all.length === 0) return;
    const at = all.indexOf(active());
    const next = at === -1 ? (step > 0 ? 0 : all.length - 1) : (at + step + all.length) % all.length;
    activate(all[next]);
  }

  function add(option, status) {
    if (option.hasAttribute("data-by-hand")) return addByHand(option.dataset.title, status);
    const form = document.getElementById("quick-add");
    const values = {
      title: option.dataset.title,
      type: option.dataset.type,
      source: option.dataset.source,
      anilist_id: option.dataset.anilistId,
      mangadex_id: option.dataset.mangadexId,
      cover_url: option.dataset.coverUrl,
      max_progress: option.dataset.maxProgress,
      status,
    };
    for (const [name, value] of Object.entries(values)) {
      const field = form.querySelector(`[data-field='${name}']`);
      field.value = value ?? "";
      field.disabled = !field.value; // an empty id is no id: left out, as the hand form does
    }
    close();
    form.requestSubmit();
  }

  function addByHand(title, status) {
    close();
    const panel = document.getElementById("add-panel");
    if (!panel) return;
    panel.open = true;
    const filterType = document.getElementById("filter-type")?.value;
    const type = document.getElementById("add-type");
    if (filterType && type) type.value = filterType;
    const statusField = document.getElementById("add-status");
    if (statusField && status) statusField.value = status;
    const titleField = document.getElementById("add-title");
    titleField.value = title;
    titleField.focus();
  }

  document.addEventListener("keydown", (event) => {
    const field = input();
    if (!field || event.target !== field) return;
    switch (event.key) {
      case "ArrowDown":
      case "ArrowUp":
        event.preventDefault();
        if (!isOpen()) {
          if (options().length > 0) open();
          else if (field.value.trim()) window.htmx?.trigger(field, "suggest");
          if (!isOpen()) return;
        }
        move(event.key === "ArrowDown" ? 1 : -1);
        break;
      case "Enter": {
        const option = isOpen() ? active() : null;
        if (!option) {
          close(); // the form filters the list
          return;
        }
        event.preventDefault();
        add(option, event.shiftKey ? "current" : "planning");
        break;
      }
      case "Escape":
        if (isOpen()) {
          event.preventDefault(); // the search field would clear itself
          close();
        }
        break;
      case "Tab":
        close();
        break;
      default:
    }
  });

  // A pointer keeps focus in the bar: the option becomes the active one and its menu shows.
  document.addEventListener("mousedown", (event) => {
    const option = event.target.closest?.("#suggestion-list [role='option']");
    if (option) {
      event.preventDefault();
      input()?.focus();
    }
  });

  document.addEventListener("click", (event) => {
    const option = event.target.closest?.("#suggestion-list [role='option']");
    if (option) {
      if (option.hasAttribute("data-by-hand")) add(option, "planning");
      else activate(option);
      return;
    }
    const button = event.target.closest?.("[data-add-status]");
    if (button) {
      const chosen = active();
      if (chosen) add(chosen, button.dataset.addStatus);
      return;
    }
    if (!event.target.closest?.("[data-combobox]")) close();
  });

  // New suggestions: open when the bar still has focus and there is something to choose.
  document.body.addEventListener("htmx:load", (event) => {
    const elt = event.detail.elt;
    if (elt?.id !== "suggestions") return;
    const field = input();
    if (field && document.activeElement === field && field.value.trim()) open();
    else close({ keepMessages: true });
  });
})();
