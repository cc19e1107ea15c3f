// Meetings at the booths, as both sides see them: picking a slot, and a meeting as a card.
import { clockOf, el, t } from "./core.js";

export const timeRange = (item) => `${clockOf(item.starts_at)}–${clockOf(item.ends_at)}`;

const STATES = () => ({ invited: t("Invited"), booked: t("Booked"), declined: t("Declined"), cancelled: t("Cancelled") });

/** Ask which of `slots` (free ones, of one booth) to take; resolves with a slot id, or null when cancelled. */
export function pickSlot(slots, title, empty = t("No free slot left at this booth.")) {
  return new Promise((resolve) => {
    const dialog = el("dialog", { class: "dialog" });
    const choose = (id) => { dialog.close(); resolve(id); };
    dialog.append(el("form", { method: "dialog", class: "terms" },
      el("h2", {}, title),
      slots.length
        ? el("div", { class: "slot-grid" }, slots.map((slot) =>
          el("button", { type: "button", class: "slot", onclick: () => choose(slot.id) }, timeRange(slot))))
        : el("p", { class: "empty" }, empty),
      el("menu", {}, el("button", { type: "button", onclick: () => choose(null) }, t("Cancel")))));
    dialog.addEventListener("cancel", () => resolve(null));
    dialog.addEventListener("close", () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A meeting as a card.  `side` is "team" or "supplier"; `act(command, payload, label, done)` sends a command. */
export function appointmentCard(a, { side, act }) {
  const active = a.state === "invited" || a.state === "booked";
  const other = side === "team" ? `${a.booth} ${a.supplier_name}` : a.team_name;
  const ref = { appointment_id: a.id };
  const what = t("Meeting at %(time)s", { time: clockOf(a.starts_at) });
  return el("article", { class: `card meeting ${a.state}`, dataset: { id: a.id, state: a.state } },
    el("header", {}, el("span", { class: `badge state ${a.state === "booked" ? "confirmed" : a.state === "invited" ? "proposed" : ""}` },
      STATES()[a.state] || a.state), el("h3", {}, timeRange(a), " · ", other)),
    a.offering_title ? el("p", {}, a.offering_title) : null,
    a.message ? el("p", { class: "message" }, "“", a.message, "”") : null,
    active ? el("menu", { class: "actions" },
      side === "team" && a.state === "invited"
        ? el("button", { type: "button", class: "primary", onclick: () => act("appointment.accept", ref, what, t("Meeting booked.")) }, t("Accept"))
        : null,
      side === "team" && a.state === "invited"
        ? el("button", { type: "button", onclick: () => act("appointment.decline", ref, what, t("Declined.")) }, t("Decline"))
        : el("button", { type: "button", class: "danger", onclick: () => act("appointment.cancel", ref, what, t("Meeting cancelled.")) },
          t("Cancel meeting"))) : null);
}
