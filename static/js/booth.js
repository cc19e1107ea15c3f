// The supplier's booth: its offerings, the queue of negotiations, and the orders taken.
import {
  CATEGORIES, DISTRICTS, Live, UNITS, categoryName, el, fill, keptOpen, money, reasonLine, refusal, t, tabs, toast, voidedNote, when, calmly, confirmationLink, statementLinks,
} from "./core.js";
import { deliveryCard, scoreOf } from "./deliveries.js";
import { interestsForm } from "./interests.js";
import { appointmentCard, pickSlot, timeRange } from "./meetings.js";
import { drawNegotiations, negotiationCard, negotiationGroups, yourMove } from "./negotiation.js";
import { askTerms, wrongNumber } from "./terms.js";

const live = new Live({ keep: true });
tabs(document.querySelector(".tabs"));

async function act(command, payload, label, done) {
  const ack = await live.command(command, payload, label);
  if (ack.ok) {
    if (done) toast(done);
  } else toast(refusal(ack), "error");
  return ack;
}

/**
 * The offering form, for publishing (no `offering`) or editing, sent with `send(payload)`.  It stays open,
 * with everything typed, until the server accepts it; a refusal is shown in it.  Resolves with the ack, or null.
 */
function askOffering(offering, send) {
  return new Promise((resolve) => {
    const field = (label, input) => el("label", {}, label, input);
    const category = el("select", { name: "category", disabled: !!offering },
      CATEGORIES.map((c) => el("option", { value: c, selected: offering && offering.category === c }, categoryName(c))));
    const title = el("input", { name: "title", required: true, maxLength: 120, value: offering ? offering.title : "" });
    const description = el("textarea", { name: "description", maxLength: 2000, rows: 3 }, offering ? offering.description : "");
    const price = el("input", { name: "price", type: "text", inputMode: "decimal", required: true, autocomplete: "off",
      value: offering ? (offering.unit_price_fen / 100).toFixed(2) : "" });
    const capacity = el("input", { name: "capacity", type: "text", inputMode: "numeric", required: true, autocomplete: "off",
      value: offering ? String(offering.capacity) : "1" });
    // Bookable dates: picked one by one, shown as chips; an offering with dates sells one unit per date.
    const dates = new Set();
    const chips = el("span", { class: "tags" });
    const drawChips = () => fill(chips, [...dates].sort().map((day) => el("button", { type: "button", class: "tag",
      "aria-label": t("Remove %(day)s", { day }), onclick: () => { dates.delete(day); drawChips(); } }, day, " ×")));
    const picker = el("input", { type: "date", name: "date", min: "2023-01-01", max: "2099-12-31" });
    const addDay = el("button", { type: "button", onclick: () => { if (picker.value) dates.add(picker.value); picker.value = ""; drawChips(); } }, t("Add the date"));
    const audience = el("input", { name: "audience", value: offering ? offering.audience.join(", ") : "", placeholder: t("e.g. 少儿, 老年人") });
    const districts = el("select", { name: "districts", multiple: true, size: 4 },
      DISTRICTS.slice(1).map((d) => el("option", { value: d, selected: offering && offering.districts.includes(d) }, d)));
    const seats = el("input", { name: "min_seats", type: "text", inputMode: "numeric", autocomplete: "off",
      value: offering && offering.min_seats ? String(offering.min_seats) : "", placeholder: t("none: any venue") });
    const split = (text) => text.split(/[,，、\s]+/).map((part) => part.trim()).filter(Boolean);
    const problem = el("p", { class: "notice error", hidden: true, role: "alert" });
    const mistake = () => {
      if (!title.value.trim()) return t("Give the offering a title.");
      const wrongPrice = wrongNumber(price.value, { least: 0.01 });
      if (wrongPrice) return [t("Unit price"), wrongPrice].join(": ");
      const wrongCapacity = wrongNumber(capacity.value, { whole: true, least: 1 });
      if (wrongCapacity) return [t("Capacity"), wrongCapacity].join(": ");
      const wrongSeats = seats.value.trim() && wrongNumber(seats.value, { whole: true, least: 0 });
      if (wrongSeats) return [t("Seats needed"), wrongSeats].join(": ");
      const booked = offering ? offering.dates.length : 0;
      if ((booked || dates.size) && Number.parseInt(capacity.value, 10) > booked + dates.size) {
        return t("An offering with dates sells one unit per date: add dates, or lower the capacity to %(count)s.", { count: booked + dates.size });
      }
      return null;
    };
    const submit = el("button", { type: "submit", class: "primary" }, offering ? t("Save") : t("Publish"));
    let ack = null;
    const form = el("form", { class: "terms", novalidate: true, oninput: () => (problem.hidden = true), onsubmit: async (event) => {
      event.preventDefault();
      const wrong = mistake();
      if (wrong) {
        problem.textContent = wrong;
        problem.hidden = false;
        return;
      }
      const common = {
        title: title.value.trim(), description: description.value.trim(),
        unit_price_fen: Math.round(Number.parseFloat(price.value) * 100), capacity: Number.parseInt(capacity.value, 10),
        audience: split(audience.value), districts: [...districts.selectedOptions].map((o) => o.value),
        min_seats: seats.value.trim() ? Number.parseInt(seats.value, 10) : 0,
      };
      const payload = offering
        ? { offering_id: offering.id, ...common, add_dates: [...dates].sort() }
        : { category: category.value, unit: UNITS[category.value], ...common, dates: [...dates].sort() };
      submit.disabled = true;
      const answer = await send(payload);
      submit.disabled = false;
      if (answer.ok) {
        ack = answer;
        dialog.close();
      } else {
        problem.textContent = refusal(answer); // what was typed stays, to be corrected
        problem.hidden = false;
      }
    } },
      el("h2", {}, offering ? t("Edit offering") : t("Publish a new offering")),
      field(t("Category"), category), field(t("Title"), title), field(t("Description"), description),
      field(t("Unit price (¥)"), price), field(t("Capacity"), capacity),
      el("fieldset", { class: "days" }, el("legend", {}, offering ? t("Add bookable dates") : t("Bookable dates (optional: one unit per date)")),
        offering && offering.dates.length ? el("p", { class: "muted" }, offering.dates.map((d) => d.day).join(", ")) : null,
        picker, addDay, chips),
      field(t("Audience"), audience), field(t("Districts served (none: all)"), districts),
      field(t("Seats needed: the smallest venue it can be given in"), seats),
      problem,
      el("menu", {}, el("button", { type: "button", onclick: () => dialog.close() }, t("Cancel")), submit));
    const dialog = el("dialog", { class: "dialog" }, form);
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(ack);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

async function counter(view, n) {
  const offering = view.offerings.find((o) => o.id === n.offering_id);
  await askTerms({
    title: t("Counter-offer"), offering, start: n.terms || {}, rate_bp: view.fair.subsidy_rate_bp,
    send: (terms) => live.command(n.terms ? "negotiation.counter" : "negotiation.propose",
      n.terms ? { negotiation_id: n.id, base_version: n.version, terms } : { negotiation_id: n.id, terms },
      t("Counter-offer: %(title)s", { title: n.offering_title })),
  });
}


function offeringCard(offering) {
  const withdrawn = offering.status === "withdrawn";
  return el("article", { class: `card offering ${withdrawn ? "withdrawn" : ""}`, dataset: { id: offering.id } },
    el("header", {}, el("span", { class: "badge" }, categoryName(offering.category)), el("h3", {}, offering.title)),
    el("p", { class: "price" }, money(offering.unit_price_fen), " / ", offering.unit),
    el("p", { class: "left" }, t("%(left)s of %(capacity)s %(unit)s left", { left: offering.remaining, capacity: offering.capacity, unit: offering.unit }),
      offering.min_seats ? [" · ", t("needs a venue of %(seats)s seats", { seats: offering.min_seats })] : null),
    offering.dates.length ? el("p", { class: "days" }, offering.dates.map((d) => el("span", { class: `tag ${d.free ? "" : "taken"}` }, d.day))) : null,
    withdrawn ? el("p", { class: "muted" }, t("Withdrawn")) : el("menu", { class: "actions" },
      el("button", { type: "button", class: "primary", dataset: { needs: "live" }, onclick: () => act("offering.spotlight", { offering_id: offering.id }, t("Spotlight: %(title)s", { title: offering.title }), t("Pushed to every tablet.")) }, t("Spotlight")),
      el("button", { type: "button", onclick: async () => {
        const ack = await askOffering(offering, (payload) => live.command("offering.update", payload, t("Edit: %(title)s", { title: offering.title })));
        if (ack) toast(t("Saved."));
      } }, t("Edit")),
      el("button", { type: "button", class: "danger", onclick: () => {
        if (window.confirm(t("Withdraw %(title)s? Open negotiations on it will expire.", { title: offering.title }))) {
          act("offering.withdraw", { offering_id: offering.id }, t("Withdraw: %(title)s", { title: offering.title }), t("Withdrawn."));
        }
      } }, t("Withdraw"))));
}

/** The booth's queue on the day: who is called now, who waits, and the buttons that move it on. */
function queuePanel(view) {
  const queue = view.queue;
  const called = queue.tickets.find((ticket) => ticket.state === "called");
  return [
    el("div", { class: "queue-board" },
      el("span", {}, t("Now serving")), el("span", { class: "serving" }, called ? t("No. %(number)s", { number: called.number }) : "—"),
      called ? el("strong", {}, called.team_name) : null,
      el("span", { class: "muted" }, t("%(count)s waiting", { count: queue.waiting }))),
    el("menu", { class: "actions" },
      el("button", { type: "button", class: "primary", dataset: { needs: "open" }, disabled: !queue.waiting && !called,
        onclick: () => act("queue.next", {}, t("Next team"), null) }, called ? t("Done: call the next team") : t("Call the next team")),
      called ? el("button", { type: "button", onclick: () => act("queue.skip", {}, t("Skip"), null) }, t("Not here: skip")) : null),
    el("p", { class: "muted" }, t("A team called that has not come within %(minutes)s minutes is skipped.", { minutes: view.fair.queue_grace_minutes })),
    queue.tickets.filter((ticket) => ticket.state === "waiting").length
      ? el("ol", { class: "plain waiting" }, queue.tickets.filter((ticket) => ticket.state === "waiting").map((ticket) =>
        el("li", {}, el("strong", {}, t("No. %(number)s", { number: ticket.number })), " ", ticket.team_name)))
      : el("p", { class: "empty" }, t("Nobody is waiting.")),
  ];
}

function meetingsPanel(view) {
  const mine = view.slots.filter((slot) => slot.supplier_id === view.me.id && !slot.withdrawn);
  const meetings = new Map(view.appointments.filter((a) => a.state === "booked" || a.state === "invited").map((a) => [a.slot_id, a]));
  if (!mine.length) return el("p", { class: "empty" }, t("No meeting slots yet: publish some, and teams can book them."));
  return el("div", { class: "slots" }, mine.map((slot) => {
    const meeting = meetings.get(slot.id);
    return meeting
      ? appointmentCard(meeting, { side: "supplier", act })
      : el("article", { class: "card slot-free" },
        el("header", {}, el("span", { class: "badge state open" }, t("Free")), el("h3", {}, timeRange(slot))),
        el("menu", { class: "actions" },
          el("button", { type: "button", class: "danger", onclick: () => act("slot.withdraw", { slot_id: slot.id }, t("Withdraw the slot"), null) },
            t("Withdraw the slot"))));
  }));
}

document.getElementById("slot-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const payload = { starts: form.starts.value, ends: form.ends.value, minutes: Number.parseInt(form.minutes.value, 10) };
  const ack = await act("slot.publish", payload, t("Publish slots"), null);
  if (ack.ok) toast(t("%(count)s slots published.", { count: ack.data.slots.length }));
});

/** Invite a recommended team into one of the booth's free slots at which the team is at no other meeting (the
 * server says which: `slot_ids`), still free in the live view. */
async function invite(view, recommendation, teamName) {
  const free = view.slots.filter((slot) => slot.supplier_id === view.me.id && slot.free);
  const suits = free.filter((slot) => recommendation.slot_ids.includes(slot.id));
  const empty = free.length ? t("%(team)s has meetings at all your free times.", { team: teamName }) : t("No free slot left at this booth.");
  const slot = await pickSlot(suits, t("Invite %(team)s to a meeting", { team: teamName }), empty);
  if (slot === null) return;
  await act("appointment.invite", { slot_id: slot, team_id: recommendation.team_id, offering_id: recommendation.offering_id },
    t("Invite %(team)s", { team: teamName }), t("Invitation sent."));
}

let asked = 0;
const asideOpen = new Set();  // the set-aside list stays open across reads, as the booth left it
/** The teams this booth should meet, read from the server when the tab opens. */
async function teamsToMeet(view) {
  const number = ++asked;
  const ack = await live.read("recommendations");
  if (number !== asked || !ack.ok) return;
  interestsForm(view.me.interests, async (interests) => {
    const answer = await act("interests.set", interests, t("What our booth does best"), t("Saved: the recommendations count it."));
    if (answer.ok) teamsToMeet(live.view);
    return answer.ok;
  });
  const titles = new Map(view.offerings.map((o) => [o.id, o.title]));
  const teams = ack.data.filter((r) => !r.set_aside), aside = ack.data.filter((r) => r.set_aside);
  const setAsideOr = async (command, payload, done) => {
    const answer = await act(command, payload, t("Teams to meet"), done);
    if (answer.ok) teamsToMeet(live.view);
  };
  fill(document.getElementById("team-list"), teams.length ? teams.map((r) => {
    const name = r.team_name;
    return el("article", { class: "card", dataset: { team: r.team_id } },
      el("header", {}, el("span", { class: "badge" }, r.district), el("h3", {}, name)),
      r.mutual ? el("p", { class: "badge mutual" }, t("Mutual fit")) : null,
      el("p", {}, t("Best fit: %(title)s", { title: titles.get(r.offering_id) || "" })),
      el("p", { class: "reasons" }, reasonLine(r.reasons)),
      el("menu", { class: "actions" }, el("button", { type: "button", class: "primary", onclick: () => invite(live.view, r, name) }, t("Invite to a meeting")),
        el("button", { type: "button", onclick: () => setAsideOr("recommendation.dismiss", { team_id: r.team_id }, t("Set aside: it will not be recommended again.")) }, t("Not interested"))));
  }) : el("p", { class: "empty" }, t("No team to recommend yet.")),
  aside.length ? keptOpen(asideOpen, "set-aside", { class: "set-aside", id: "set-aside" },
    el("summary", {}, t("Set aside (%(count)s)", { count: aside.length })),
    el("ul", {}, aside.map((r) => el("li", {}, r.team_name, " ",
      el("button", { type: "button", onclick: () => setAsideOr("recommendation.restore", { team_id: r.team_id }, t("Back in the list.")) }, t("Show again")))))) : null);
}
document.querySelector('[data-tab="teams"]').addEventListener("click", () => live.view && teamsToMeet(live.view));

document.getElementById("publish").addEventListener("click", async () => {
  const ack = await askOffering(null, (payload) => live.command("offering.publish", payload, t("Publish: %(title)s", { title: payload.title })));
  if (ack) toast(t("Published."));
});

// An optional sound (and a buzz, on a phone) when a team puts terms on the table: a busy booth hears it.
const chime = document.getElementById("chime");
const chiming = () => localStorage.getItem("fair.chime") === "on";
const showChime = () => {
  chime.setAttribute("aria-pressed", String(chiming()));
  chime.textContent = chiming() ? t("Sound: on") : t("Sound: off");
};
chime.addEventListener("click", () => {
  localStorage.setItem("fair.chime", chiming() ? "off" : "on");
  showChime();
});
showChime();
let audio = null;
function ring() {
  audio = audio || new AudioContext();
  const tone = audio.createOscillator();
  const volume = audio.createGain();
  tone.frequency.value = 880;
  volume.gain.setValueAtTime(0.2, audio.currentTime);
  volume.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
  tone.connect(volume).connect(audio.destination);
  tone.start();
  tone.stop(audio.currentTime + 0.4);
  if (navigator.vibrate) navigator.vibrate([120, 60, 120]);
}

live.watch((view, events) => {
  const proposals = (events || []).filter((event) => event.type === "negotiation.updated"
    && event.data.negotiation.turn === "supplier" && ["opened", "proposed", "countered"].includes(event.data.change));
  if (proposals.length && chiming()) ring();
  fill(document.getElementById("waiting"), queuePanel(view));
  document.getElementById("waiting-count").textContent = view.queue.waiting ? String(view.queue.waiting) : "";
  fill(document.getElementById("meeting-list"), meetingsPanel(view));
  document.getElementById("fair-name").textContent = view.fair.name;
  document.getElementById("me-name").textContent = `${view.me.booth} ${view.me.name}`;
  const score = scoreOf(view, view.me.id);
  const deliveries = document.getElementById("deliveries");
  calmly(deliveries, () => fill(deliveries, [
    score ? el("p", { class: "score" }, t("Your score: %(score)s", { score })) : null,
    el("p", { class: "actions" }, statementLinks()),
    view.deliveries.length ? el("div", { class: "cards deliveries" }, view.deliveries.map((d) => deliveryCard(d, { side: "supplier", act })))
      : el("p", { class: "empty" }, t("No deliveries yet: the teams schedule them at their venues after the fair.")),
  ]));
  const turns = yourMove(view.negotiations, "supplier").length;
  document.getElementById("turn-count").textContent = turns ? String(turns) : "";
  drawNegotiations(document.getElementById("queue"), negotiationGroups(view.negotiations, "supplier",
    (n) => negotiationCard(n, { side: "supplier", act, counter: (x) => counter(view, x) }),
    t("No negotiations yet: buyers' offers arrive here, with a chime if you turn it on. Meanwhile, check your offerings, publish meeting slots, and see the teams to meet.")));
  const mine = view.offerings.filter((o) => o.supplier_id === view.me.id);
  fill(document.getElementById("offering-list"), mine.map(offeringCard));
  fill(document.getElementById("taken"), view.orders.length
    ? el("table", { class: "orders" },
      el("thead", {}, el("tr", {}, [t("Confirmed"), t("Buyer"), t("Offering"), t("Quantity"), t("Dates"), t("Amount"), ""].map((h) => el("th", {}, h)))),
      el("tbody", {}, view.orders.map((o) => el("tr", { class: o.voided_at ? "is-voided" : "" },
        el("td", {}, when(o.confirmed_at)), el("td", {}, o.team_name), el("td", {}, o.offering_title, voidedNote(o)),
        el("td", {}, `${o.quantity} ${o.unit}`), el("td", {}, o.dates.join(", ")), el("td", { class: "num" }, money(o.amount_fen)), el("td", {}, confirmationLink(o))))))
    : el("p", { class: "empty" }, t("No orders yet.")));
});
