// The organiser's registers: tables with a search box, filters and sortable columns, and amounts typed as people
// type them.  A register keeps what was searched, filtered and sorted across live redraws, and redraws only its
// rows while someone types in its search box, so the box keeps the caret.
import { count, el, fill, t } from "./core.js";

const states = new Map();

/**
 * A register.  `columns`: [{ label, cell(row) -> node or text, sort?(row) -> value, num? }];
 * `search(row)`: the text a search looks in; `filters`: [{ name, label, options: [[value, label]], test(row, value) }];
 * `attrs(row)`: the row's attributes (a `dataset` for tests and links).
 */
export function register(id, { columns, rows, search, filters = [], attrs = () => ({}), empty = t("Nothing here yet.") }) {
  const state = states.get(id) || { query: "", chosen: {}, sortBy: null, descending: false };
  states.set(id, state);
  const body = el("tbody");
  const shown = el("p", { class: "muted register-count", role: "status" });
  const redraw = () => {
    const query = state.query.toLowerCase();
    let kept = rows.filter((row) => (!query || search(row).toLowerCase().includes(query))
      && filters.every((f) => !state.chosen[f.name] || f.test(row, state.chosen[f.name])));
    const by = columns[state.sortBy];
    if (by && by.sort) {
      const key = by.sort;
      kept = [...kept].sort((a, b) => compare(key(a), key(b)) * (state.descending ? -1 : 1));
    }
    fill(body, kept.length ? kept.map((row) => el("tr", attrs(row), columns.map((c) => el("td", { class: c.num ? "num" : "" }, c.cell(row)))))
      : el("tr", {}, el("td", { colspan: columns.length, class: "empty" }, rows.length ? t("Nothing matches.") : empty)));
    shown.textContent = t("%(shown)s of %(all)s", { shown: count(kept.length), all: count(rows.length) });
  };
  const heads = columns.map((column, index) => {
    if (!column.sort) return el("th", { scope: "col", class: column.num ? "num" : "" }, column.label);
    const sorted = state.sortBy === index;
    return el("th", { scope: "col", class: column.num ? "num" : "", "aria-sort": sorted ? (state.descending ? "descending" : "ascending") : "none" },
      el("button", { type: "button", class: "sort", onclick: (event) => {
        state.descending = state.sortBy === index ? !state.descending : false;
        state.sortBy = index;
        for (const th of event.target.closest("tr").children) th.setAttribute("aria-sort", "none");
        event.target.closest("th").setAttribute("aria-sort", state.descending ? "descending" : "ascending");
        redraw();
      } }, column.label));
  });
  const toolbar = el("div", { class: "register-tools" },
    el("label", {}, t("Search"), el("input", { type: "search", name: `${id}-search`, value: state.query, autocomplete: "off",
      oninput: (event) => { state.query = event.target.value.trim(); redraw(); } })),
    filters.map((f) => el("label", {}, f.label, el("select", { name: `${id}-${f.name}`, onchange: (event) => { state.chosen[f.name] = event.target.value; redraw(); } },
      el("option", { value: "" }, t("All")),
      f.options.map(([value, label]) => el("option", { value, selected: state.chosen[f.name] === String(value) }, label))))),
    shown);
  redraw();
  return el("div", { class: "register-block", id }, toolbar, el("div", { class: "table-scroll" }, el("table", { class: "register" }, el("thead", {}, el("tr", {}, heads)), body)));
}

/** Set a register's filters (by name; the others cleared) and clear its search: it shows them at its next draw. */
export function narrow(id, chosen) {
  states.set(id, { query: "", chosen: { ...chosen }, sortBy: null, descending: false });
}

function compare(a, b) {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a ?? "").localeCompare(String(b ?? ""), "zh-CN", { numeric: true });
}

const YUAN = /^\d{1,10}(\.\d{1,2})?$/;

/** Fen from yuan as a person types them ("12,000", "¥12000.5"); null when it is not an amount. */
export function fenOf(text) {
  const plain = String(text).replace(/[¥,，\s]/g, "");
  if (!YUAN.test(plain)) return null;
  const [whole, cents = ""] = plain.split(".");
  return Number(whole) * 100 + Number(cents.padEnd(2, "0"));
}

/** Basis points from a percentage as typed ("30", "12.5%"); null unless it is 0–100 with at most two decimals. */
export function basisPointsOf(text) {
  const plain = String(text).replace(/[%\s]/g, "");
  if (!/^\d{1,3}(\.\d{1,2})?$/.test(plain)) return null;
  const [whole, cents = ""] = plain.split(".");
  const bp = Number(whole) * 100 + Number(cents.padEnd(2, "0"));
  return bp <= 10000 ? bp : null;
}
