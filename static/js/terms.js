// The terms dialog: a proposal or a counter-offer, with what it costs and who pays.
import { el, money, refusal, t } from "./core.js";

const WHOLE = /^\d{1,7}$/; // a count of units, as a person types it: no 1e3, no minus, no decimals
const YUAN = /^\d{1,8}(\.\d{1,2})?$/; // ¥ with at most two decimals, up to ¥100 million

/** What is wrong with a quantity or a price as typed, in words; null when it is fine. */
export function wrongNumber(text, { whole = false, least = 0 } = {}) {
  const value = text.trim();
  if (!(whole ? WHOLE : YUAN).test(value)) {
    return whole ? t("Type a whole number, like 2.") : t("Type an amount in yuan, like 480 or 480.50.");
  }
  if (Number.parseFloat(value) < least) return t("It must be at least %(least)s.", { least });
  return null;
}

/**
 * Ask for terms on an offering, and send them with `send(terms)`, which resolves with the server's ack.
 * The dialog stays open, with everything typed, until the server accepts them; a refusal is shown in it.
 * Resolves with the ack when sent, or null when cancelled.  `budget` (a team's) warns before an over-budget
 * proposal; `rate_bp` shows the subsidy of a self-funded order; `wishes`, the residents' wishes it may answer.
 */
export function askTerms({ title, offering, start = {}, budget = null, rate_bp = 0, wishes = [], send }) {
  return new Promise((resolve) => {
    const dated = offering.dates.length > 0;
    const quantity = el("input", { type: "text", name: "quantity", required: true, value: String(start.quantity ?? 1),
      inputMode: "numeric", autocomplete: "off" });
    const price = el("input", { type: "text", name: "unit_price", required: true, inputMode: "decimal", autocomplete: "off",
      value: ((start.unit_price_fen ?? offering.unit_price_fen) / 100).toFixed(2) });
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
    const odd = el("p", { class: "notice warning", hidden: true, role: "alert" }); // a price far from the list's
    const problem = el("p", { class: "notice error", hidden: true, role: "alert" });

    const chosenDays = () => days.map((label) => label.querySelector("input")).filter((box) => box.checked).map((box) => box.value);
    const read = () => ({
      quantity: dated ? chosenDays().length : Number.parseInt(quantity.value, 10) || 0,
      unit_price_fen: Math.round(Number.parseFloat(price.value || "0") * 100),
      dates: chosenDays(),
      venue: venue.value.trim(),
      funding: funding.value,
      message: message.value.trim(),
      wish_id: wish.value ? Number(wish.value) : null,
    });
    /** What a person must fix before the terms can be sent, in words. */
    const mistake = () => {
      if (dated && chosenDays().length === 0) return t("Choose at least one date: one %(unit)s each.", { unit: offering.unit });
      if (!dated) {
        const wrong = wrongNumber(quantity.value, { whole: true, least: 1 });
        if (wrong) return [t("Quantity"), wrong].join(": ");
      }
      const wrongPrice = wrongNumber(price.value);
      return wrongPrice ? [t("Unit price"), wrongPrice].join(": ") : null;
    };
    const update = () => {
      problem.hidden = true;
      const terms = read();
      const amount = terms.quantity * terms.unit_price_fen;
      const subsidy = terms.funding === "self_funded" ? Math.floor((amount * rate_bp) / 10000) : 0;
      sums.textContent = terms.funding === "self_funded"
        ? t("Amount %(amount)s, paid from own funds; subsidy %(subsidy)s", { amount: money(amount), subsidy: money(subsidy) })
        : t("Amount %(amount)s, from the government budget", { amount: money(amount) });
      const over = budget && terms.funding === "government" && amount > budget.remaining_fen;
      warning.hidden = !over;
      warning.textContent = over ? t("Over budget: only %(left)s is left.", { left: money(budget.remaining_fen) }) : "";
      // A price far from the list's is most often a slip of the finger (¥1 for ¥6,000): said, never refused.
      const list = offering.unit_price_fen;
      const far = list > 0 && terms.unit_price_fen > 0 && (terms.unit_price_fen * 2 < list || terms.unit_price_fen > list * 2);
      odd.hidden = !far;
      odd.textContent = far ? t("%(price)s a %(unit)s is far from the list price of %(list)s: check the figure.",
        { price: money(terms.unit_price_fen), unit: offering.unit, list: money(list) }) : "";
      sendButton.textContent = over || far ? t("Send anyway") : t("Send");
    };
    const sendButton = el("button", { type: "submit", class: "primary" }, t("Send"));
    const cancel = el("button", { type: "button", onclick: () => dialog.close() }, t("Cancel"));
    let ack = null;
    const form = el("form", { class: "terms", novalidate: true, oninput: update, onchange: update, onsubmit: async (event) => {
      event.preventDefault();
      const wrong = mistake();
      if (wrong) {
        problem.textContent = wrong;
        problem.hidden = false;
        return;
      }
      sendButton.disabled = true;
      sendButton.textContent = t("Sending…");
      const answer = await send(read());
      sendButton.disabled = false;
      update();
      if (answer.ok) {
        ack = answer;
        dialog.close();
      } else {
        problem.textContent = refusal(answer); // what was typed stays, to be corrected
        problem.hidden = false;
      }
    } },
      el("h2", {}, title),
      el("p", { class: "muted" }, offering.title, " · ", offering.supplier_name, " · ", money(offering.unit_price_fen), "/", offering.unit),
      dated
        ? el("fieldset", { class: "days" }, el("legend", {}, t("Dates (one %(unit)s each, so the quantity is the number of dates)", { unit: offering.unit })), days)
        : el("label", {}, t("Quantity (%(unit)s)", { unit: offering.unit }), quantity),
      el("label", {}, t("Unit price (¥)"), price),
      el("label", {}, t("Venue"), venue),
      el("label", {}, t("Funding"), funding),
      el("label", {}, t("Message"), message),
      wishes.length || start.wish_id ? el("label", {}, t("Answers a residents' wish"), wish) : null,
      // The total and what is wrong with it stay beside the Send button, however long the form.
      el("div", { class: "terms-foot" }, sums, warning, odd, problem, el("menu", {}, cancel, sendButton)));
    const dialog = el("dialog", { class: "dialog" }, form);
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(ack);
    });
    document.body.append(dialog);
    update();
    dialog.showModal();
  });
}
