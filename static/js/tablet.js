// The buyer team's tablet: browse, negotiate, confirm, and keep an eye on the budget.
import {
  CATEGORIES, DISTRICTS, Live, categoryName, el, fill, money, refusal, t, tabs, toast, when,
} from "./core.js";
import { negotiationCard } from "./negotiation.js";
import { askTerms } from "./terms.js";

const live = new Live();
tabs(document.querySelector(".tabs"));
const filters = document.getElementById("filters");
const RECENT_MS = 15 * 60 * 1000;

for (const category of CATEGORIES) filters.category.append(el("option", { value: category }, categoryName(category)));
for (const district of DISTRICTS.slice(1)) filters.district.append(el("option", { value: district }, district));
filters.addEventListener("input", () => live.view && render(live.view));

function isNew(offering) {
  const spotlit = offering.spotlight_at && Date.now() - new Date(offering.spotlight_at).getTime() < RECENT_MS;
  return live.fresh.has(offering.id) || spotlit;
}

function shown(offering) {
  const max = Number.parseFloat(filters.max.value);
  return (!filters.category.value || offering.category === filters.category.value)
    && (!filters.district.value || offering.districts.length === 0 || offering.districts.includes(filters.district.value))
    && (!filters.audience.value || offering.audience.includes(filters.audience.value))
    && (Number.isNaN(max) || offering.unit_price_fen <= max * 100);
}

function active(view, offeringId) {
  return view.negotiations.find((n) => n.offering_id === offeringId && ["open", "proposed", "countered"].includes(n.state));
}

async function negotiate(view, offering) {
  const terms = await askTerms({
    title: t("Propose terms"), offering, budget: view.me.budget, rate_bp: view.fair.subsidy_rate_bp,
  });
  if (!terms) return;
  const ack = await live.command("negotiation.open", { offering_id: offering.id, terms }, t("Propose: %(title)s", { title: offering.title }));
  if (ack.ok) toast(t("Proposal sent to %(supplier)s.", { supplier: offering.supplier_name }));
  else toast(refusal(ack), "error");
}

async function counter(view, negotiation) {
  const offering = view.offerings.find((o) => o.id === negotiation.offering_id);
  if (!offering) return toast(t("This offering has been withdrawn."), "error");
  const terms = await askTerms({
    title: t("Counter-offer"), offering, start: negotiation.terms || {}, budget: view.me.budget, rate_bp: view.fair.subsidy_rate_bp,
  });
  if (!terms) return;
  const command = negotiation.terms ? "negotiation.counter" : "negotiation.propose";
  const payload = negotiation.terms
    ? { negotiation_id: negotiation.id, base_version: negotiation.version, terms }
    : { negotiation_id: negotiation.id, terms };
  const ack = await live.command(command, payload, t("Counter-offer: %(title)s", { title: negotiation.offering_title }));
  if (!ack.ok) toast(refusal(ack), "error");
}

async function act(command, payload, label, done) {
  const ack = await live.command(command, payload, label);
  if (ack.ok) toast(done);
  else toast(refusal(ack), "error");
}

function budgetPanel(view) {
  const b = view.me.budget;
  return [
    el("div", { class: "figure main" }, el("span", {}, t("Budget left")), el("strong", { id: "budget-left" }, money(b.remaining_fen))),
    el("div", { class: "figure" }, el("span", {}, t("Government budget")), el("strong", {}, money(b.budget_fen))),
    el("div", { class: "figure" }, el("span", {}, t("Spent")), el("strong", {}, money(b.spent_fen))),
    el("div", { class: "figure" }, el("span", {}, t("Own funds")), el("strong", {}, money(b.self_funded_fen))),
    el("div", { class: "figure" }, el("span", {}, t("Subsidy due")), el("strong", {}, money(b.subsidy_fen))),
  ];
}

function offeringCard(view, offering) {
  const negotiation = active(view, offering.id);
  const free = offering.dates.filter((d) => d.free).length;
  return el("article", { class: "card offering", dataset: { id: offering.id } },
    el("header", {},
      isNew(offering) ? el("span", { class: "badge new" }, t("New")) : null,
      el("span", { class: "badge" }, categoryName(offering.category)),
      el("h3", {}, offering.title)),
    el("p", { class: "muted" }, offering.supplier_name, " · ", t("Booth %(booth)s", { booth: offering.booth })),
    el("p", { class: "price" }, money(offering.unit_price_fen), " / ", offering.unit),
    el("p", {}, t("%(left)s of %(capacity)s %(unit)s left", { left: offering.remaining, capacity: offering.capacity, unit: offering.unit }),
      offering.dates.length ? " · " : "", offering.dates.length ? t("%(count)s dates free", { count: free }) : ""),
    offering.description ? el("p", { class: "description" }, offering.description) : null,
    el("p", { class: "tags" }, [...offering.audience, ...offering.districts].map((tag) => el("span", { class: "tag" }, tag))),
    negotiation
      ? el("button", { type: "button", onclick: () => document.querySelector('[data-tab="negotiations"]').click() }, t("In negotiation"))
      : el("button", { type: "button", class: "primary", disabled: offering.remaining < 1, onclick: () => negotiate(view, offering) },
        offering.remaining < 1 ? t("Sold out") : t("Negotiate")));
}


function orderRow(order) {
  return el("tr", {},
    el("td", {}, when(order.confirmed_at)), el("td", {}, order.offering_title), el("td", {}, order.supplier_name),
    el("td", {}, `${order.quantity} ${order.unit}`), el("td", { class: "num" }, money(order.amount_fen)),
    el("td", {}, order.funding === "self_funded" ? t("Own funds") : t("Government budget")),
    el("td", { class: "num" }, order.subsidy_fen ? money(order.subsidy_fen) : ""));
}

function render(view) {
  document.getElementById("fair-name").textContent = view.fair.name;
  document.getElementById("me-name").textContent = view.me.name;
  fill(document.getElementById("budget"), budgetPanel(view));
  const audiences = [...new Set(view.offerings.flatMap((o) => o.audience))].sort();
  const chosen = filters.audience.value;
  fill(filters.audience, el("option", { value: "" }, t("All")), audiences.map((a) => el("option", { value: a, selected: a === chosen }, a)));
  const list = view.offerings.filter(shown).sort((a, b) => Number(isNew(b)) - Number(isNew(a)) || a.id - b.id);
  fill(document.getElementById("offering-list"), list.length ? list.map((o) => offeringCard(view, o)) : el("p", { class: "empty" }, t("No offering matches.")));
  const turns = view.negotiations.filter((n) => n.turn === "team").length;
  document.getElementById("turn-count").textContent = turns ? String(turns) : "";
  fill(document.getElementById("negotiations"),
    view.negotiations.length ? view.negotiations.map((n) => negotiationCard(n, { side: "team", act, counter: (x) => counter(view, x) })) : el("p", { class: "empty" }, t("No negotiations yet.")));
  fill(document.getElementById("orders"), view.orders.length
    ? el("table", { class: "orders" },
      el("thead", {}, el("tr", {}, [t("Confirmed"), t("Offering"), t("Supplier"), t("Quantity"), t("Amount"), t("Funding"), t("Subsidy")].map((h) => el("th", {}, h)))),
      el("tbody", {}, view.orders.map(orderRow)))
    : el("p", { class: "empty" }, t("No orders yet.")));
}

live.watch((view, events) => {
  render(view);
  for (const event of events || []) {
    if (event.type === "offering.spotlighted") toast(t("Spotlight: %(title)s", { title: event.data.offering.title }));
    if (event.type === "negotiation.updated" && event.data.negotiation.turn === "team" && event.data.change !== "opened") {
      toast(t("%(supplier)s answered on %(title)s", { supplier: event.data.negotiation.supplier_name, title: event.data.negotiation.offering_title }));
    }
  }
});
