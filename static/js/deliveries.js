// After the fair: the deliveries of the orders, on the team's tablet and at the booth.
// The team keeps its venues, schedules each performance or shipment at one, and moves it along
// (confirmed for the venue, delivered, rated); either side may reschedule or report a miss, with a reason.
import { clockOf, dayOf, el, keptOpen, money, statementLinks, t, toast, when } from "./core.js";

export const deliveryState = (state) => ({
  scheduled: t("scheduled"), confirmed: t("confirmed by the venue"), under_way: t("under way"),
  delivered: t("delivered"), evaluated: t("evaluated"), missed: t("missed"),
  cancelled: t("cancelled: the order was voided"),
}[state] || state);

const HOLDING = ["scheduled", "confirmed", "under_way"];
const TOOK_PLACE = ["delivered", "evaluated"];

const openCalendars = new Set(); // the venues whose calendar is open, kept open across live redraws

/** A venue's calendar: what books it (and what took place there), day by day; a missed or cancelled delivery frees it. */
function venueCalendar(view, venue) {
  const booked = view.deliveries.filter((d) => d.venue_id === venue.id && (HOLDING.includes(d.state) || TOOK_PLACE.includes(d.state)));
  const days = new Map();
  for (const d of booked) days.set(dayOf(d.starts_at), [...(days.get(dayOf(d.starts_at)) || []), d]);
  return keptOpen(openCalendars, venue.id, { class: "venue-calendar", dataset: { venue: venue.id } },
    el("summary", {}, el("strong", {}, venue.name), ` ${venue.address} ${venue.contact} · `,
      t("%(count)s bookings", { count: booked.length })),
    booked.length ? el("dl", { class: "calendar" }, [...days].map(([day, list]) => [
      el("dt", {}, day),
      list.map((d) => el("dd", { class: `state-${d.state}` }, `${clockOf(d.starts_at)}–${clockOf(d.ends_at)} `,
        el("strong", {}, d.offering_title), ` · ${d.supplier_name} · `, deliveryState(d.state))),
    ])) : el("p", { class: "muted" }, t("Nothing booked here yet.")));
}

/** A booth's ratings: their average and how many there are, or null before the first. */
export function ratingsOf(view, supplierId) {
  const score = (view.scores || []).find((s) => s.supplier_id === supplierId);
  return score ? { average: score.total / score.ratings, count: score.ratings } : null;
}

/** A booth's score as shown: the average of its ratings and how many there are, or nothing before the first. */
export function scoreOf(view, supplierId) {
  const rated = ratingsOf(view, supplierId);
  return rated ? t("★ %(average)s (%(count)s ratings)", { average: rated.average.toFixed(1), count: rated.count }) : "";
}

function timeFields(prefix, delivery) {
  const start = delivery ? new Date(delivery.starts_at) : null;
  const local = (date, options) => date.toLocaleString("sv-SE", { timeZone: "Asia/Shanghai", ...options });
  return [
    el("label", {}, t("Day"), el("input", { type: "date", name: `${prefix}-day`, required: true, value: start ? local(start, { dateStyle: "short" }) : "" })),
    el("label", {}, t("From"), el("input", { type: "time", name: `${prefix}-starts`, required: true, value: start ? local(start, { timeStyle: "short" }) : "14:00" })),
    el("label", {}, t("To"), el("input", { type: "time", name: `${prefix}-ends`, required: true, value: delivery ? local(new Date(delivery.ends_at), { timeStyle: "short" }) : "16:00" })),
  ];
}

const field = (form, name) => form.elements.namedItem(name).value;

/** The schedule form's day starts at the day the order agreed (its first date), for whichever order is chosen,
 * until the team types a day of its own (issue 25: the field was blank). */
function offerAgreedDay(form, orders) {
  const order = form.elements.namedItem("s-order"), day = form.elements.namedItem("s-day");
  const suggest = () => {
    const chosen = orders.find((o) => o.id === Number(order.value));
    if (day.dataset.typed !== "yes") day.value = chosen && chosen.dates.length ? chosen.dates[0] : "";
  };
  day.addEventListener("input", () => { day.dataset.typed = "yes"; });
  order.addEventListener("change", suggest);
  suggest();
}

/** One delivery, with what its side may do next. */
export function deliveryCard(delivery, { side, act }) {
  const ref = { delivery_id: delivery.id };
  const buttons = [];
  const step = (command, label, done) => el("button", { type: "button", class: "primary", onclick: () => act(command, ref, label, done) }, label);
  if (side === "team") {
    if (delivery.state === "scheduled") buttons.push(step("delivery.confirm", t("Confirm for the venue"), t("Confirmed.")));
    if (delivery.state === "under_way") buttons.push(step("delivery.complete", t("Mark delivered"), t("Delivered.")));
    if (["scheduled", "confirmed"].includes(delivery.state)) {
      buttons.push(el("a", { class: "button", href: `/deliveries/${delivery.id}/card`, target: "_blank", rel: "noopener" }, t("Card for the venue")));
      buttons.push(el("button", { type: "button", onclick: () => {
        extra.replaceChildren(el("form", { class: "inline-form", onsubmit: (event) => {
          event.preventDefault();
          const form = event.target;
          act("delivery.open_signup", { ...ref, seats: Number(field(form, "seats") || 0), stream_url: field(form, "stream").trim() },
            t("Sign-up for residents"), t("Saved."));
        } }, el("label", {}, t("Seats for residents (0: no sign-up)"), el("input", { type: "number", name: "seats", min: 0, max: 10000, value: delivery.seats, class: "limit-input" })),
        el("label", { class: "grow" }, t("Live stream (optional)"), el("input", { type: "url", name: "stream", value: delivery.stream_url, placeholder: "https://" })),
        el("button", { type: "submit", class: "primary" }, t("Save"))));
      } }, t("Sign-up and live stream")));
    }
  }
  const extra = el("div", { class: "delivery-extra" });
  if (["scheduled", "confirmed"].includes(delivery.state)) {
    buttons.push(el("button", { type: "button", onclick: () => {
      extra.replaceChildren(el("form", { class: "inline-form", onsubmit: (event) => {
        event.preventDefault();
        const form = event.target;
        act("delivery.reschedule", { ...ref, day: field(form, "r-day"), starts: field(form, "r-starts"), ends: field(form, "r-ends"), reason: field(form, "r-reason").trim() },
          t("Reschedule a delivery"), t("Rescheduled."));
      } }, timeFields("r", delivery), el("label", { class: "grow" }, t("Why"), el("input", { name: "r-reason", required: true, minlength: 2, maxlength: 200 })),
      el("button", { type: "submit", class: "primary" }, t("Reschedule"))));
    } }, t("Reschedule")));
  }
  if (HOLDING.includes(delivery.state)) {
    buttons.push(el("button", { type: "button", class: "danger", onclick: () => {
      const reason = window.prompt(t("It did not take place? Say why, for the supervision."));
      if (reason === null) return;
      if (reason.trim().length < 2) return toast(t("Say why in a few words."), "error");
      act("delivery.miss", { ...ref, reason: reason.trim() }, t("Report a missed delivery"), t("Reported."));
    } }, t("Did not take place")));
  }
  if (side === "team" && delivery.state === "delivered") {
    extra.append(el("form", { class: "inline-form rate", onsubmit: (event) => {
      event.preventDefault();
      const form = event.target;
      act("delivery.evaluate", { ...ref, rating: Number(field(form, "rating")), comment: field(form, "comment").trim() }, t("Rate a delivery"), t("Thank you for rating."));
    } }, el("label", {}, t("Rating"), el("select", { name: "rating" }, [5, 4, 3, 2, 1].map((n) => el("option", { value: n }, "★".repeat(n))))),
    el("label", { class: "grow" }, t("Comment"), el("input", { name: "comment", maxlength: 500 })),
    el("button", { type: "submit", class: "primary" }, t("Send the rating"))));
  }
  return el("article", { class: `card delivery state-${delivery.state}`, dataset: { delivery: delivery.id } },
    el("h3", {}, delivery.offering_title, " ", el("small", { class: "muted" }, side === "team" ? delivery.supplier_name : delivery.team_name)),
    el("p", {}, when(delivery.starts_at), "–", when(delivery.ends_at).slice(-5), " · ", delivery.venue_name,
      delivery.quantity > 1 ? ` · ${delivery.quantity} ${delivery.unit}` : ""),
    el("p", { class: "delivery-state" }, el("strong", {}, deliveryState(delivery.state)),
      delivery.checked_in_at ? [" · ", t("checked in %(time)s", { time: when(delivery.checked_in_at) })] : "",
      delivery.rating ? ` · ${"★".repeat(delivery.rating)} ${delivery.comment}` : "",
      delivery.reason ? ` · ${delivery.reason}` : "",
      delivery.reschedules ? [" · ", t("rescheduled %(count)s times", { count: delivery.reschedules })] : ""),
    delivery.seats || delivery.stream_url ? el("p", { class: "muted" },
      delivery.seats ? t("%(taken)s of %(seats)s seats taken", { taken: delivery.taken, seats: delivery.seats }) : "",
      " ", el("a", { href: `/events/${delivery.id}`, target: "_blank", rel: "noopener" }, t("Public page"))) : null,
    delivery.photo ? el("p", {}, el("a", { href: `/deliveries/${delivery.id}/photo`, target: "_blank", rel: "noopener" }, t("The venue's photo"))) : null,
    buttons.length ? el("p", { class: "actions" }, buttons) : null, extra);
}

/** The team's deliveries tab: its venues, what each order has left to schedule, and its deliveries. */
export function teamDeliveries(view, act) {
  const standing = view.orders.filter((o) => !o.voided_at);
  const planned = (order) => view.deliveries.filter((d) => d.order_id === order.id && !["missed", "cancelled"].includes(d.state)).reduce((sum, d) => sum + d.quantity, 0);
  const venueForm = el("form", { class: "inline-form", id: "venue-form", onsubmit: (event) => {
    event.preventDefault();
    const form = event.target;
    act("venue.add", { name: field(form, "v-name").trim(), address: field(form, "v-address").trim(), contact: field(form, "v-contact").trim() },
      t("Add a venue"), t("Venue added."));
  } },
  el("label", {}, t("Venue"), el("input", { name: "v-name", required: true, maxlength: 120 })),
  el("label", { class: "grow" }, t("Address"), el("input", { name: "v-address", maxlength: 120 })),
  el("label", {}, t("Contact"), el("input", { name: "v-contact", maxlength: 60 })),
  el("button", { type: "submit" }, t("Add")));
  const left = standing.filter((o) => planned(o) < o.quantity);
  const scheduleForm = view.venues.length && left.length ? el("form", { class: "inline-form", id: "schedule-form", onsubmit: (event) => {
    event.preventDefault();
    const form = event.target;
    act("delivery.schedule", { order_id: Number(field(form, "s-order")), venue_id: Number(field(form, "s-venue")), day: field(form, "s-day"),
      starts: field(form, "s-starts"), ends: field(form, "s-ends"), quantity: Number(field(form, "s-quantity") || 1) }, t("Schedule a delivery"), t("Scheduled."));
  } },
  el("label", { class: "grow" }, t("Order"), el("select", { name: "s-order" }, left.map((o) => {
    const remaining = t("%(left)s of %(quantity)s %(unit)s left", { left: o.quantity - planned(o), quantity: o.quantity, unit: o.unit });
    return el("option", { value: o.id }, [o.offering_title, o.supplier_name, remaining, ...(o.dates.length ? [o.dates.join("、")] : [])].join(" · "));
  }))),
  el("label", {}, t("Venue"), el("select", { name: "s-venue" }, view.venues.map((v) => el("option", { value: v.id }, v.name)))),
  timeFields("s"),
  el("label", {}, t("Quantity"), el("input", { type: "number", name: "s-quantity", min: 1, value: 1, class: "limit-input" })),
  el("button", { type: "submit", class: "primary" }, t("Schedule it"))) : el("p", { class: "muted" },
    standing.length ? (view.venues.length ? t("Every order is scheduled.") : t("Add a venue first.")) : t("No orders yet."));
  if (view.venues.length && left.length) offerAgreedDay(scheduleForm, left);
  return [
    el("h2", {}, t("Venues")),
    el("div", { class: "venues" }, view.venues.map((v) => venueCalendar(view, v))),
    venueForm,
    el("h2", {}, t("Schedule a delivery")),
    scheduleForm,
    el("h2", {}, t("Deliveries")),
    view.deliveries.length ? el("div", { class: "cards deliveries" }, view.deliveries.map((d) => deliveryCard(d, { side: "team", act })))
      : el("p", { class: "empty" }, t("No deliveries yet.")),
    el("p", { class: "muted" }, t("Delivered against ordered: %(amount)s", { amount: money(deliveredAmount(view)) })),
    el("p", { class: "actions" }, statementLinks()),
  ];
}

function deliveredAmount(view) {
  const orders = new Map(view.orders.map((o) => [o.id, o]));
  return view.deliveries.filter((d) => TOOK_PLACE.includes(d.state))
    .reduce((sum, d) => sum + (orders.get(d.order_id)?.unit_price_fen || 0) * d.quantity, 0);
}
