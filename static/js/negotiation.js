// A negotiation as a card, seen from one side (the team's tablet or the supplier's booth).
import { el, fill, keptOpen, money, noted, stateName, t, when } from "./core.js";

const OPEN = ["open", "proposed", "countered"];
// What the screen keeps across redraws (events redraw the cards): which threads are open, and unsent words.
const opened = new Set();
const drafts = new Map();

/** The thread of a negotiation: every version of the terms and every message, in the order they came. */
function thread(n, side, act) {
  const who = (author) => (author === side ? t("us") : side === "team" ? t("the supplier") : t("the buyer"));
  const items = [
    ...n.history.map((terms) => ({ at: terms.created_at, node: el("li", { class: "version" },
      el("span", { class: "muted" }, when(terms.created_at), " · ", t("Version %(version)s by %(author)s", { version: terms.version, author: who(terms.author) })),
      el("p", {}, `${terms.quantity} ${n.unit} × ${money(terms.unit_price_fen)} = `, el("strong", {}, money(terms.amount_fen)),
        terms.dates.length ? ` · ${terms.dates.join(", ")}` : ""),
      terms.message ? el("p", { class: "message" }, "“", terms.message, "”") : null) })),
    ...n.messages.map((message) => ({ at: message.created_at, node: el("li", { class: `said ${message.author === side ? "mine" : "theirs"}` },
      el("span", { class: "muted" }, when(message.created_at), " · ", who(message.author)),
      el("p", {}, message.text)) })),
  ].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const text = el("input", { name: "say", maxLength: 300, value: drafts.get(n.id) || "", placeholder: t("A short message"),
    dataset: { say: n.id },
    "aria-label": t("Message to %(other)s", { other: side === "team" ? n.supplier_name : n.team_name }),
    oninput: (event) => drafts.set(n.id, event.target.value) });
  return keptOpen(opened, n.id, { class: "thread" },
    el("summary", {}, t("Conversation (%(count)s)", { count: items.length })),
    el("ol", { class: "plain" }, items.map((item) => item.node)),
    el("form", { class: "say", onsubmit: async (event) => {
      event.preventDefault();
      const words = text.value.trim();
      if (!words) return;
      const ack = await act("negotiation.message", { negotiation_id: n.id, text: words }, t("Message: %(text)s", { text: words.slice(0, 20) }), null);
      if (ack && ack.ok) {
        drafts.delete(n.id);
        text.value = "";
      }
    } }, text, el("button", { type: "submit" }, t("Send"))));
}

/**
 * Draw the negotiation cards into `container`; a message being typed keeps its place and its caret,
 * however often events redraw the cards meanwhile.
 */
export function drawNegotiations(container, cards) {
  const typing = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.say : undefined;
  const caret = typing === undefined ? 0 : document.activeElement.selectionStart;
  fill(container, cards);
  if (typing === undefined) return;
  const again = container.querySelector(`input[data-say="${typing}"]`);
  if (again) {
    again.focus();
    again.setSelectionRange(caret, caret);
  }
}

/** The open negotiations waiting for `side`: what its tab and its header count. */
export const yourMove = (negotiations, side) => negotiations.filter((n) => OPEN.includes(n.state) && n.turn === side);

/**
 * The negotiations of one side in three groups, each headed with its count: those waiting for this side (the
 * count the tab and the header show), those waiting for the other, and those finished (a deal, or ended).
 * `card(n)` draws one.  Nothing at all: `empty`.
 */
export function negotiationGroups(negotiations, side, card, empty) {
  if (!negotiations.length) return el("p", { class: "empty" }, empty);
  const groups = [
    [t("Your move"), yourMove(negotiations, side), "mine"],
    [t("Waiting for the other side"), negotiations.filter((n) => OPEN.includes(n.state) && n.turn !== side), "theirs"],
    [t("Finished"), negotiations.filter((n) => !OPEN.includes(n.state)), "done"],
  ];
  return groups.filter(([, found]) => found.length).map(([title, found, kind]) =>
    el("section", { class: `negotiation-group ${kind}` }, el("h3", {}, title, " ", el("span", { class: "count" }, String(found.length))),
      found.map(card)));
}

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
    thread(n, side, act),
    open ? el("p", { class: "turn" }, mine ? t("Your turn") : terms ? waiting : t("Make the first proposal")) : null,
    open ? el("menu", { class: "actions" },
      mine ? el("button", { type: "button", class: "primary accept", dataset: { needs: "open" },
        onclick: () => act("negotiation.accept", { negotiation_id: n.id, version: n.version },
          t("Accept: %(title)s", { title: n.offering_title }), t("Order confirmed.")) }, t("Accept and confirm")) : null,
      el("button", { type: "button", dataset: { needs: "live" }, onclick: () => counter(n) }, terms ? t("Counter-offer") : t("Propose")),
      el("button", { type: "button", class: "danger", onclick: () => act(end.command, { negotiation_id: n.id }, end.action, end.done) },
        end.label)) : null);
}
