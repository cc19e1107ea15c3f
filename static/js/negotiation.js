// A negotiation as a card, seen from one side (the team's tablet or the supplier's booth).
import { el, money, noted, stateName, t, when } from "./core.js";

const OPEN = ["open", "proposed", "countered"];

/**
 * `side` is "team" or "supplier"; `act(command, payload, label, done)` sends a command;
 * `counter(n)` asks for new terms.
 */
export function negotiationCard(n, { side, act, counter }) {
  const open = OPEN.includes(n.state);
  const mine = n.turn === side;
  const terms = n.terms;
  const other = side === "team" ? n.supplier_name : n.team_name;
  const author = (who) => (who === side ? t("us") : side === "team" ? t("the supplier") : t("the buyer"));
  const waiting = side === "team" ? t("Waiting for the supplier") : t("Waiting for the buyer");
  // Terms from the other side are declined; a team that is waiting withdraws its request instead.
  const end = side === "team" && !mine
    ? { command: "negotiation.withdraw", label: t("Withdraw"), action: t("Withdraw: %(title)s", { title: n.offering_title }), done: t("Withdrawn.") }
    : { command: "negotiation.decline", label: t("Decline"), action: t("Decline: %(title)s", { title: n.offering_title }), done: t("Declined.") };
  return el("article", { class: `card negotiation ${mine ? "my-turn" : ""}`, dataset: { id: n.id, state: n.state } },
    el("header", {}, el("span", { class: `badge state ${n.state}` }, stateName(n.state)),
      el("h3", {}, side === "team" ? n.offering_title : n.team_name)),
    el("p", { class: "muted" }, side === "team" ? other : n.offering_title, " · ", when(n.updated_at)),
    terms
      ? el("p", { class: "terms-line" },
        t("Version %(version)s by %(author)s", { version: terms.version, author: author(terms.author) }), ": ",
        `${terms.quantity} ${n.unit} × ${money(terms.unit_price_fen)} = `, el("strong", {}, money(terms.amount_fen)),
        terms.dates.length ? ` · ${terms.dates.join(", ")}` : "",
        " · ", terms.funding === "self_funded" ? t("Own funds") : t("Government budget"),
        terms.venue ? ` · ${terms.venue}` : "")
      : el("p", {}, t("No terms yet.")),
    terms && terms.message ? el("p", { class: "message" }, "“", terms.message, "”") : null,
    n.refusal && open ? el("p", { class: "notice error" }, t("Not confirmed: %(reason)s", { reason: noted(n.refusal) })) : null,
    open ? el("p", { class: "turn" }, mine ? t("Your turn") : terms ? waiting : t("Make the first proposal")) : null,
    open ? el("menu", { class: "actions" },
      mine ? el("button", { type: "button", class: "primary accept", dataset: { needs: "open" },
        onclick: () => act("negotiation.accept", { negotiation_id: n.id, version: n.version },
          t("Accept: %(title)s", { title: n.offering_title }), t("Order confirmed.")) }, t("Accept and confirm")) : null,
      el("button", { type: "button", dataset: { needs: "live" }, onclick: () => counter(n) }, terms ? t("Counter-offer") : t("Propose")),
      el("button", { type: "button", class: "danger", onclick: () => act(end.command, { negotiation_id: n.id }, end.action, end.done) },
        end.label)) : null);
}
