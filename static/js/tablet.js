// The buyer team's tablet: what suits the team and its residents, browse, plan, meet, negotiate, confirm,
// queue at busy booths, and keep an eye on the budget.
import {
  CATEGORIES, DISTRICTS, Live, categoryName, el, fill, keptOpen, money, reasonLine, refusal, t, tabs, toast, voidedNote, when, calmly, confirmationLink,
} from "./core.js";
import { scoreOf, teamDeliveries } from "./deliveries.js";
import { interestsForm } from "./interests.js";
import { appointmentCard, pickSlot, timeRange } from "./meetings.js";
import { drawNegotiations, negotiationCard, negotiationGroups, yourMove } from "./negotiation.js";
import { askTerms } from "./terms.js";

const live = new Live({ keep: true });
tabs(document.querySelector(".tabs"));
const filters = document.getElementById("filters");
const RECENT_MS = 15 * 60 * 1000;

for (const category of CATEGORIES) filters.category.append(el("option", { value: category }, categoryName(category)));
for (const district of DISTRICTS.slice(1)) filters.district.append(el("option", { value: district }, district));
filters.addEventListener("input", () => live.view && render(live.view));
filters.addEventListener("submit", (event) => event.preventDefault());
// Scrolled down a list, the budget stays in sight as one compact line.
new IntersectionObserver(([entry]) => {
  const budget = document.getElementById("budget");
  if (budget) budget.classList.toggle("compact", !entry.isIntersecting); // gone once the screen has ended
}).observe(document.getElementById("budget-sentinel"));
// A booth's code, scanned with the tablet's camera, opens /tablet#booth=A01: that booth's offerings.
const scanned = new URLSearchParams(location.hash.slice(1)).get("booth");
if (scanned) {
  history.replaceState(null, "", location.pathname);
  document.querySelector('[data-tab="offerings"]').click();
}

function isNew(offering) {
  const spotlit = offering.spotlight_at && Date.now() - new Date(offering.spotlight_at).getTime() < RECENT_MS;
  return live.fresh.has(offering.id) || spotlit;
}

function shown(view, offering) {
  const max = Number.parseFloat(filters.max.value);
  const words = filters.q.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const text = [offering.title, offering.supplier_name, offering.booth, offering.description].join(" ").toLowerCase();
  return words.every((word) => text.includes(word))
    && (!filters.booth.value || offering.booth === filters.booth.value)
    && (!filters.category.value || offering.category === filters.category.value)
    && (!filters.district.value || offering.districts.length === 0 || offering.districts.includes(filters.district.value))
    && (!filters.audience.value || offering.audience.includes(filters.audience.value))
    && (Number.isNaN(max) || offering.unit_price_fen <= max * 100)
    && (!filters.free.checked || !queueAt(view, offering.supplier_id));
}

/** How many wait at a booth, and the number it serves; null when nobody queues there. */
const queueAt = (view, supplierId) => view.queues.find((q) => q.supplier_id === supplierId) || null;

/** The public wishes this team may answer: its district's, or every district's for a city-level team. */
function ourWishes(view) {
  const city = view.me.district === DISTRICTS[0];
  return view.wishes.filter((w) => city || w.district === view.me.district);
}

function active(view, offeringId) {
  return view.negotiations.find((n) => n.offering_id === offeringId && ["open", "proposed", "countered"].includes(n.state));
}

async function negotiate(view, offering) {
  const ack = await askTerms({
    title: t("Propose terms"), offering, budget: view.me.budget, rate_bp: view.fair.subsidy_rate_bp,
    wishes: ourWishes(view).filter((w) => w.category === offering.category),
    send: (terms) => live.command("negotiation.open", { offering_id: offering.id, terms }, t("Propose: %(title)s", { title: offering.title })),
  });
  if (ack) toast(t("Proposal sent to %(supplier)s.", { supplier: offering.supplier_name }));
}

async function counter(view, negotiation) {
  const offering = view.offerings.find((o) => o.id === negotiation.offering_id);
  if (!offering) return toast(t("This offering has been withdrawn."), "error");
  const command = negotiation.terms ? "negotiation.counter" : "negotiation.propose";
  await askTerms({
    title: t("Counter-offer"), offering, start: negotiation.terms || {}, budget: view.me.budget, rate_bp: view.fair.subsidy_rate_bp,
    wishes: ourWishes(view).filter((w) => w.category === offering.category),
    send: (terms) => live.command(command, negotiation.terms
      ? { negotiation_id: negotiation.id, base_version: negotiation.version, terms }
      : { negotiation_id: negotiation.id, terms }, t("Counter-offer: %(title)s", { title: negotiation.offering_title })),
  });
}

async function act(command, payload, label, done) {
  const ack = await live.command(command, payload, label);
  if (ack.ok && done) toast(done);
  else if (!ack.ok) toast(refusal(ack), "error");
  return ack;
}

async function shortlist(offering, quantity = 1) {
  await act("shortlist.put", { offering_id: offering.id, quantity }, t("Shortlist: %(title)s", { title: offering.title }),
    t("On the shortlist."));
}

/** Book one of the booth's free slots; those at which the team has a meeting already are not offered (the server
 * would refuse them: fair/core/appointments.py). */
async function bookMeeting(view, offering) {
  const booked = view.appointments.filter((a) => a.state === "booked");
  const clashes = (slot) => booked.some((a) => a.starts_at < slot.ends_at && slot.starts_at < a.ends_at);
  const free = view.slots.filter((slot) => slot.supplier_id === offering.supplier_id && slot.free);
  const slot = await pickSlot(free.filter((slot) => !clashes(slot)), t("A meeting at booth %(booth)s", { booth: offering.booth }),
    free.length ? t("Your team has meetings at all of this booth's free times.") : t("No free slot left at this booth."));
  if (slot === null) return;
  await act("appointment.book", { slot_id: slot, offering_id: offering.id },
    t("Meeting: %(title)s", { title: offering.title }), t("Meeting booked."));
}

async function takeNumber(offering) {
  const ack = await act("queue.join", { supplier_id: offering.supplier_id }, t("Queue at %(booth)s", { booth: offering.booth }), null);
  if (ack.ok) toast(t("Your number at booth %(booth)s is %(number)s.", { booth: offering.booth, number: ack.data.ticket.number }));
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

/** Why an offering is recommended; where residents asked for it, the wishes counted open on a tap. */
function whyLine(view, recommendation) {
  const behind = recommendation.wish_ids.map((id) => view.wishes.find((w) => w.id === id)).filter(Boolean);
  if (!behind.length) return el("p", { class: "reasons" }, reasonLine(recommendation.reasons));
  return el("details", { class: "reasons" },
    el("summary", {}, reasonLine(recommendation.reasons)),
    el("ul", { class: "why-wishes" }, behind.map((w) => el("li", { dataset: { wish: w.id } },
      w.text, el("small", {}, " · ", w.street, " · ", t("%(count)s people support this", { count: w.supports }))))));
}

function offeringCard(view, offering, recommendation = null) {
  const negotiation = active(view, offering.id);
  const free = offering.dates.filter((d) => d.free).length;
  const queue = queueAt(view, offering.supplier_id);
  const listed = view.shortlist.some((item) => item.offering_id === offering.id);
  const slots = view.slots.filter((slot) => slot.supplier_id === offering.supplier_id && slot.free).length;
  const queued = view.tickets.some((ticket) => ticket.supplier_id === offering.supplier_id);
  return el("article", { class: "card offering", dataset: { id: offering.id } },
    el("header", {},
      isNew(offering) ? el("span", { class: "badge new" }, t("New")) : null,
      el("span", { class: "badge" }, categoryName(offering.category)),
      el("h3", {}, offering.title)),
    el("p", { class: "muted" }, offering.supplier_name, " · ", t("Booth %(booth)s", { booth: offering.booth }),
      scoreOf(view, offering.supplier_id) ? el("span", { class: "score" }, " · ", scoreOf(view, offering.supplier_id)) : null),
    el("p", { class: "price" }, money(offering.unit_price_fen), " / ", offering.unit),
    el("p", {}, t("%(left)s of %(capacity)s %(unit)s left", { left: offering.remaining, capacity: offering.capacity, unit: offering.unit }),
      offering.dates.length ? " · " : "", offering.dates.length ? t("%(count)s dates free", { count: free }) : "",
      offering.min_seats ? " · " : "", offering.min_seats ? t("needs a venue of %(seats)s seats", { seats: offering.min_seats }) : ""),
    offering.description ? el("p", { class: "description" }, offering.description) : null,
    el("p", { class: "tags" }, [...offering.audience, ...offering.districts].map((tag) => el("span", { class: "tag" }, tag))),
    recommendation && recommendation.mutual ? el("p", { class: "badge mutual" }, t("Mutual fit")) : null,
    recommendation ? whyLine(view, recommendation) : null,
    recommendation ? el("menu", { class: "actions aside" },
      el("button", { type: "button", dataset: { needs: "live" }, onclick: () => setAsideOr("recommendation.dismiss", { offering_id: offering.id }, t("Set aside: it will not be recommended again.")) }, t("Not interested")),
      el("button", { type: "button", dataset: { needs: "live" }, onclick: () => setAsideOr("recommendation.dismiss", { offering_id: offering.id, hours: 2 }, t("Set aside for two hours.")) }, t("Later"))) : null,
    el("p", { class: "booth-state" }, queue
      ? t("%(count)s waiting at the booth", { count: queue.waiting })
      : el("span", { class: "free-now" }, t("No queue at the booth"))),
    el("menu", { class: "actions" },
      negotiation
        ? el("button", { type: "button", onclick: () => document.querySelector('[data-tab="negotiations"]').click() }, t("In negotiation"))
        : el("button", { type: "button", class: "primary", dataset: { needs: "live" }, disabled: offering.remaining < 1, onclick: () => negotiate(view, offering) },
          offering.remaining < 1 ? t("Sold out") : t("Negotiate")),
      el("button", { type: "button", dataset: { needs: "live" }, disabled: listed, onclick: () => shortlist(offering) }, listed ? t("On the shortlist") : t("Shortlist")),
      slots ? el("button", { type: "button", dataset: { needs: "live" }, onclick: () => bookMeeting(view, offering) }, t("Book a meeting")) : null,
      view.fair.state === "open" && !queued
        ? el("button", { type: "button", dataset: { needs: "open" }, onclick: () => takeNumber(offering) }, t("Take a number"))
        : null));
}

/** The residents of the team's district: what they ask for most, and whether an order answers it yet. */
function districtWishes(view) {
  const wishes = ourWishes(view).slice(0, 5);
  const where = view.me.district === DISTRICTS[0] ? t("the city") : view.me.district;
  if (!wishes.length) return el("p", { class: "muted" }, t("No public wish from %(where)s yet.", { where }));
  return [
    el("h2", {}, t("What residents of %(where)s ask for", { where })),
    el("ul", { class: "wish-strip" }, wishes.map((w) => el("li", { class: w.answers.length ? "answered" : "" },
      el("span", { class: "badge" }, categoryName(w.category)), " ", w.text,
      el("small", {}, " · ", w.street, " · ", t("%(count)s people support this", { count: w.supports }),
        w.answers.length ? " · " : "", w.answers.length ? t("Answered") : "")))),
  ];
}

let asked = 0;
/** Recommendations are read from the server when asked for: on opening the tab, and after changes while it shows. */
async function recommend(view) {
  const number = ++asked;
  const ack = await live.read("recommendations");
  if (number !== asked) return;
  if (!ack.ok) {  // read from the server each time: offline, say so rather than show an empty list
    fill(document.getElementById("recommendation-list"), el("p", { class: "empty" }, refusal(ack)));
    return;
  }
  const byId = new Map(view.offerings.map((o) => [o.id, o]));
  const shown = ack.data.filter((r) => byId.has(r.offering_id));
  const cards = shown.filter((r) => !r.set_aside).map((r) => offeringCard(live.view, byId.get(r.offering_id), r));
  const aside = shown.filter((r) => r.set_aside);
  interestsForm(view.me.interests, async (interests) => {
    const ack = await act("interests.set", interests, t("What our team is looking for"), t("Saved: the recommendations count it."));
    if (ack.ok) recommend(live.view);
    return ack.ok;
  }, [...new Set([...view.offerings.flatMap((o) => o.dates.map((d) => d.day)), ...view.me.interests.dates])].sort());
  const city = view.me.district === DISTRICTS[0];  // the city's teams buy for every district: which are behind?
  const targets = city ? await live.read("districts") : null;
  if (number !== asked) return;
  const behind = targets && targets.ok ? targets.data.districts.filter((d) => d.behind).map((d) => d.district) : [];
  fill(document.getElementById("districts-behind"), behind.length
    ? t("Districts behind the coverage targets, to buy for: %(districts)s", { districts: behind.join("、") }) : "");
  fill(document.getElementById("recommendation-list"), cards.length ? cards : el("p", { class: "empty" }, t("Nothing to recommend yet.")),
    aside.length ? setAside(aside.map((r) => ({ title: byId.get(r.offering_id).title, until: r.set_aside.until, payload: { offering_id: r.offering_id } }))) : null);
}

/** Set a recommendation aside ("not interested", or for two hours), or take it back; then read the list again. */
async function setAsideOr(command, payload, done) {
  const ack = await act(command, payload, t("Recommendations"), done);
  if (ack.ok) recommend(live.view);
}

const asideOpen = new Set();
/** What the team set aside, apart and folded, each with the way back; open as the buyer left it when the list
 * is read again (a live change redraws it under their hands). */
function setAside(items) {
  return keptOpen(asideOpen, "set-aside", { class: "set-aside", id: "set-aside" },
    el("summary", {}, t("Set aside (%(count)s)", { count: items.length })),
    el("ul", {}, items.map((item) => el("li", {}, item.title, " ",
      el("small", { class: "muted" }, item.until ? t("until %(time)s", { time: when(item.until) }) : t("not interested")), " ",
      el("button", { type: "button", dataset: { needs: "live" }, onclick: () => setAsideOr("recommendation.restore", item.payload, t("Back in the list.")) }, t("Show again"))))));
}
let recommending = null;
function recommendSoon(view) {
  if (document.getElementById("for-you").hidden) return;
  clearTimeout(recommending);
  recommending = setTimeout(() => recommend(view), 600);
}
document.querySelector('[data-tab="for-you"]').addEventListener("click", () => live.view && recommend(live.view));

function shortlistPanel(view) {
  const byId = new Map(view.offerings.map((o) => [o.id, o]));
  const items = view.shortlist.map((item) => ({ item, offering: byId.get(item.offering_id) }));
  const cost = items.reduce((sum, { item, offering }) => sum + (offering ? item.quantity * offering.unit_price_fen : 0), 0);
  const left = view.me.budget.remaining_fen - cost;
  if (!items.length) return el("p", { class: "empty" }, t("Nothing on the shortlist yet: add offerings you mean to buy."));
  return [
    el("p", { class: `sums ${left < 0 ? "over" : ""}` },
      t("If we buy these, %(left)s of the budget is left.", { left: money(left) }), " ",
      t("(%(cost)s in all)", { cost: money(cost) })),
    el("table", { class: "orders" },
      el("thead", {}, el("tr", {}, [t("Offering"), t("Supplier"), t("Quantity"), t("Amount"), ""].map((h) => el("th", {}, h)))),
      el("tbody", {}, items.map(({ item, offering }) => el("tr", {},
        el("td", {}, offering ? offering.title : t("Withdrawn")),
        el("td", {}, offering ? `${offering.booth} ${offering.supplier_name}` : ""),
        el("td", {}, el("input", { type: "number", min: 1, step: 1, value: item.quantity, class: "qty", "aria-label": t("Quantity"),
          onchange: (event) => offering && shortlist(offering, Number.parseInt(event.target.value, 10) || 1) })),
        el("td", { class: "num" }, offering ? money(item.quantity * offering.unit_price_fen) : ""),
        el("td", {}, el("menu", { class: "actions" },
          offering ? el("button", { type: "button", class: "primary", onclick: () => negotiate(view, offering) }, t("Negotiate")) : null,
          offering && view.slots.some((s) => s.supplier_id === offering.supplier_id && s.free)
            ? el("button", { type: "button", onclick: () => bookMeeting(view, offering) }, t("Book a meeting")) : null,
          el("button", { type: "button", class: "danger", onclick: () => act("shortlist.remove", { offering_id: item.offering_id },
            t("Off the shortlist"), t("Taken off the shortlist.")) }, t("Remove")))))))),
  ];
}

/** My numbers at booths' queues: my place, or that it is my turn now. */
function ticketStrip(view) {
  const strip = document.getElementById("tickets");
  strip.hidden = view.tickets.length === 0;
  const booths = new Map(view.offerings.map((o) => [o.supplier_id, o]));
  fill(strip, view.tickets.map((ticket) => {
    const booth = booths.get(ticket.supplier_id);
    const name = booth ? `${booth.booth} ${booth.supplier_name}` : "";
    return el("div", { class: `ticket ${ticket.state}` },
      el("strong", {}, t("No. %(number)s", { number: ticket.number })), " ",
      ticket.state === "called"
        ? el("span", { class: "called" }, t("Your turn at %(booth)s: please go now", { booth: name }))
        : el("span", {}, name, " · ", ticket.position === 1 ? t("You are next") : t("%(position)s before you", { position: ticket.position - 1 }),
          !ticket.wait_seconds ? "" : [" · ", el("span", { class: "wait" }, t("about %(minutes)s min", { minutes: Math.max(1, Math.round(ticket.wait_seconds / 60)) }))]),
      el("button", { type: "button", onclick: () => act("queue.leave", { supplier_id: ticket.supplier_id }, t("Leave the queue"), t("Left the queue.")) },
        t("Leave")));
  }));
}


function orderRow(order) {
  return el("tr", { class: order.voided_at ? "is-voided" : "" },
    el("td", {}, when(order.confirmed_at)), el("td", {}, order.offering_title, voidedNote(order)), el("td", {}, order.supplier_name),
    el("td", {}, `${order.quantity} ${order.unit}`), el("td", { class: "num" }, money(order.amount_fen)),
    el("td", {}, order.funding === "self_funded" ? t("Own funds") : t("Government budget")),
    el("td", { class: "num" }, order.subsidy_fen ? money(order.subsidy_fen) : ""), el("td", {}, confirmationLink(order)));
}

/** How the offerings may be sorted: new and spotlit first by default. */
const ORDERS = {
  "": (a, b) => Number(isNew(b)) - Number(isNew(a)) || a.id - b.id,
  price: (a, b) => a.unit_price_fen - b.unit_price_fen || a.id - b.id,
  "-price": (a, b) => b.unit_price_fen - a.unit_price_fen || a.id - b.id,
  "-remaining": (a, b) => b.remaining - a.remaining || a.id - b.id,
  "-newest": (a, b) => b.id - a.id,
};

let boothFromScan = scanned;
/** The booth code scanned on arrival, applied once (then the filter is the person's again). */
function scannedBooth() {
  const booth = boothFromScan;
  boothFromScan = null;
  return booth;
}

/** What waits for the team's answer: terms on its side, invitations, a number called. */
function needYou(view) {
  const count = yourMove(view.negotiations, "team").length
    + view.appointments.filter((a) => a.state === "invited").length
    + view.tickets.filter((ticket) => ticket.state === "called").length;
  const badge = document.getElementById("need-you");
  badge.hidden = count === 0;
  badge.textContent = t("%(count)s need you", { count });
}

function render(view) {
  document.getElementById("fair-name").textContent = view.fair.name;
  document.getElementById("me-name").textContent = view.me.name;
  needYou(view);
  fill(document.getElementById("budget"), budgetPanel(view));
  ticketStrip(view);
  fill(document.getElementById("district-wishes"), districtWishes(view));
  recommendSoon(view);
  fill(document.getElementById("shortlist"), shortlistPanel(view));
  document.getElementById("shortlist-count").textContent = view.shortlist.length ? String(view.shortlist.length) : "";
  const invitations = view.appointments.filter((a) => a.state === "invited").length;
  document.getElementById("meeting-count").textContent = invitations ? String(invitations) : "";
  const meetings = view.appointments.filter((a) => a.state === "booked" || a.state === "invited");
  fill(document.getElementById("meetings"), meetings.length
    ? meetings.map((a) => appointmentCard(a, { side: "team", act }))
    : el("p", { class: "empty" }, t("No meetings yet: book one from an offering.")));
  const audiences = [...new Set(view.offerings.flatMap((o) => o.audience))].sort();
  const chosen = filters.audience.value;
  fill(filters.audience, el("option", { value: "" }, t("All")), audiences.map((a) => el("option", { value: a, selected: a === chosen }, a)));
  const booths = [...new Map(view.offerings.map((o) => [o.booth, o.supplier_name])).entries()].sort();
  const booth = filters.booth.value || scannedBooth();
  fill(filters.booth, el("option", { value: "" }, t("All")), booths.map(([number, name]) => el("option", { value: number, selected: number === booth }, `${number} ${name}`)));
  const list = view.offerings.filter((o) => shown(view, o)).sort(ORDERS[filters.sort.value] || ORDERS[""]);
  fill(document.getElementById("offering-list"), list.length ? list.map((o) => offeringCard(view, o)) : el("p", { class: "empty" }, t("No offering matches.")));
  const turns = yourMove(view.negotiations, "team").length;
  document.getElementById("turn-count").textContent = turns ? String(turns) : "";
  drawNegotiations(document.getElementById("negotiations"), negotiationGroups(view.negotiations, "team",
    (n) => negotiationCard(n, { side: "team", act, counter: (x) => counter(view, x) }),
    t("No negotiations yet: open one from an offering (洽谈), or answer a booth that invites you.")));
  fill(document.getElementById("orders"), view.orders.length
    ? el("table", { class: "orders" },
      el("thead", {}, el("tr", {}, [t("Confirmed"), t("Offering"), t("Supplier"), t("Quantity"), t("Amount"), t("Funding"), t("Subsidy"), ""].map((h) => el("th", {}, h)))),
      el("tbody", {}, view.orders.map(orderRow)))
    : el("p", { class: "empty" }, t("No orders yet.")));
  const deliveries = document.getElementById("deliveries");
  calmly(deliveries, () => fill(deliveries, teamDeliveries(view, act)));
}

live.watch((view, events) => {
  render(view);
  for (const event of events || []) {
    if (event.type === "queue.updated" && event.data.ticket && event.data.ticket.state === "called") {
      toast(t("Your turn: number %(number)s, please go to the booth.", { number: event.data.ticket.number }));
      if (navigator.vibrate) navigator.vibrate([200, 100, 200]);
    }
    if (event.type === "negotiation.updated" && ["declined", "expired"].includes(event.data.change)) {
      const n = event.data.negotiation;
      toast(event.data.change === "declined"
        ? t("%(supplier)s declined: %(title)s", { supplier: n.supplier_name, title: n.offering_title })
        : t("Expired, not confirmed: %(title)s", { title: n.offering_title }), "error");
    }
    if (event.type === "fair.closed") toast(t("The fair is closed: nothing more can be ordered."), "error");
    if (event.type === "appointment.updated" && event.data.appointment.state === "invited") {
      toast(t("%(supplier)s invites you to a meeting at %(time)s", { supplier: event.data.appointment.supplier_name,
        time: timeRange(event.data.appointment) }));
    }
    if (event.type === "offering.spotlighted") toast(t("Spotlight: %(title)s", { title: event.data.offering.title }));
    if (event.type === "negotiation.updated" && event.data.negotiation.turn === "team" && event.data.change !== "opened") {
      toast(t("%(supplier)s answered on %(title)s", { supplier: event.data.negotiation.supplier_name, title: event.data.negotiation.offering_title }));
    }
  }
});
