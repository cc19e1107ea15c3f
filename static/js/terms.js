// The terms dialog: a proposal or a counter-offer, with what it costs and who pays.
import { el, money, t } from "./core.js";

/**
 * Ask for terms on an offering.  Resolves with the terms, or null when cancelled.
 * `budget` (a team's) makes the dialog warn before an over-budget proposal is sent;
 * `rate_bp` shows the subsidy a self-funded order would get; `wishes`, the residents'
 * wishes the order may answer.
 */
export function askTerms({ title, offering, start = {}, budget = null, rate_bp = 0, wishes = [] }) {
  return new Promise((resolve) => {
    const dated = offering.dates.length > 0;
    const quantity = el("input", { type: "number", name: "quantity", min: 1, step: 1, required: true,
      value: start.quantity ?? 1, inputMode: "numeric" });
    const price = el("input", { type: "number", name: "unit_price", min: 0, step: "0.01", required: true,
      value: ((start.unit_price_fen ?? offering.unit_price_fen) / 100).toFixed(2), inputMode: "decimal" });
    const days = offering.dates.map((day) =>
      el("label", { class: "day" },
        el("input", { type: "checkbox", name: "day", value: day.day, disabled: !day.free && !(start.dates || []).includes(day.day),
          checked: (start.dates || []).includes(day.day) }),
        day.day, day.free ? "" : " ", day.free ? "" : t("(booked)")));
    const venue = el("input", { name: "venue", maxLength: 200, value: start.venue ?? "" });
    const funding = el("select", { name: "funding" },
      el("option", { value: "government", selected: (start.funding ?? "government") === "government" }, t("Government budget")),
      el("option", { value: "self_funded", selected: start.funding === "self_funded" }, t("Own funds, with subsidy")));
    const message = el("textarea", { name: "message", maxLength: 500, rows: 2 }, start.message ?? "");
    const wish = el("select", { name: "wish" },
      el("option", { value: "" }, t("None")),
      wishes.map((w) => el("option", { value: w.id, selected: start.wish_id === w.id },
        [w.text, " (", w.street, ", ", t("%(count)s residents", { count: w.supports }), ")"].join(""))));
    const sums = el("p", { class: "sums" });
    const warning = el("p", { class: "notice warning", hidden: true, role: "alert" });

    const read = () => {
      const chosen = days.map((label) => label.querySelector("input")).filter((box) => box.checked).map((box) => box.value);
      const count = dated ? chosen.length : Number.parseInt(quantity.value, 10) || 0;
      const unit = Math.round(Number.parseFloat(price.value || "0") * 100);
      return {
        quantity: count,
        unit_price_fen: unit,
        dates: chosen,
        venue: venue.value.trim(),
        funding: funding.value,
        message: message.value.trim(),
        wish_id: wish.value ? Number(wish.value) : null,
      };
    };
    const update = () => {
      const terms = read();
      const amount = terms.quantity * terms.unit_price_fen;
      const subsidy = terms.funding === "self_funded" ? Math.floor((amount * rate_bp) / 10000) : 0;
      sums.textContent = terms.funding === "self_funded"
        ? t("Amount %(amount)s, paid from own funds; subsidy %(subsidy)s", { amount: money(amount), subsidy: money(subsidy) })
        : t("Amount %(amount)s, from the government budget", { amount: money(amount) });
      const over = budget && terms.funding === "government" && amount > budget.remaining_fen;
      warning.hidden = !over;
      warning.textContent = over ? t("Over budget: only %(left)s is left.", { left: money(budget.remaining_fen) }) : "";
      send.textContent = over ? t("Send anyway") : t("Send");
    };
    const send = el("button", { type: "submit", class: "primary", value: "send" }, t("Send"));
    const form = el("form", { method: "dialog", class: "terms", oninput: update, onchange: update },
      el("h2", {}, title),
      el("p", { class: "muted" }, offering.title, " · ", offering.supplier_name, " · ", money(offering.unit_price_fen), "/", offering.unit),
      dated
        ? el("fieldset", { class: "days" }, el("legend", {}, t("Dates (one %(unit)s each)", { unit: offering.unit })), days)
        : el("label", {}, t("Quantity (%(unit)s)", { unit: offering.unit }), quantity),
      el("label", {}, t("Unit price (¥)"), price),
      el("label", {}, t("Venue"), venue),
      el("label", {}, t("Funding"), funding),
      el("label", {}, t("Message"), message),
      wishes.length || start.wish_id ? el("label", {}, t("Answers a residents' wish"), wish) : null,
      sums, warning,
      el("menu", {}, el("button", { type: "button", value: "cancel", onclick: () => dialog.close("cancel") }, t("Cancel")), send));
    const dialog = el("dialog", { class: "dialog" }, form);
    dialog.addEventListener("close", () => {
      const terms = dialog.returnValue === "send" ? read() : null;
      dialog.remove();
      resolve(terms && terms.quantity > 0 ? terms : null);
    });
    document.body.append(dialog);
    update();
    dialog.showModal();
  });
}
