// The organiser's console: open and close the fair, the registers (teams, suppliers, offerings, orders, join
// links) with search, filters and checked edits, announcements, wishes, the schedule, coverage and the reports.
import {
  CATEGORIES, DISTRICTS, TEAM_KINDS, Live, bars, calmly, categoryName, clockOf, count, el, fill, money, refusal, stateName, t, tabs, toast, when, confirmationLink,
} from "./core.js";
import { deliveryState, ratingsOf, scoreOf } from "./deliveries.js";
import { basisPointsOf, fenOf, narrow, register } from "./registers.js";

const live = new Live();
tabs(document.querySelector(".tabs"));
document.querySelector('[data-tab="links"]').addEventListener("click", () => refreshRegister());
const kindName = (kind) => ({
  city_centre: t("City cultural centre"), district_centre: t("District cultural centre"), library: t("Library"),
  district_bureau: t("District culture bureau"), street: t("Street"), community: t("Community"),
})[kind] || kind;

async function act(command, payload, label, done) {
  const ack = await live.command(command, payload, label);
  if (ack.ok) {
    if (done) toast(done);
  } else toast(refusal(ack), "error");
}

/** A figure that opens the orders it counts. */
function behind(text, chosen) {
  return el("button", { type: "button", class: "link figure-link", title: t("The orders behind this figure"), onclick: () => ordersBehind(chosen) }, text);
}

function glance(view) {
  const open = view.negotiations.filter((n) => ["open", "proposed", "countered"].includes(n.state)).length;
  const figure = (label, value) => el("div", { class: "figure" }, el("span", {}, label), el("strong", {}, value));
  return el("div", { class: "glance" },
    figure(t("Orders"), behind(count(view.tally.total.orders), {})),
    figure(t("Total"), behind(money(view.tally.total.amount_fen), {})),
    figure(t("Open negotiations"), count(open)),
    figure(t("Approved suppliers"), `${view.suppliers.filter((s) => s.approved).length} / ${view.suppliers.length}`),
    figure(t("Approved teams"), `${view.teams.filter((team) => team.approved).length} / ${view.teams.length}`));
}

// A fair closed by mistake can be reopened until the time its view says (the core's rule, not repeated here).
function reopenable(fair) {
  return fair.reopen_until && Date.now() < Date.parse(fair.reopen_until);
}

function setup(view) {
  const fair = view.fair;
  const rate = el("input", { type: "text", inputMode: "decimal", autocomplete: "off", value: (fair.subsidy_rate_bp / 100).toFixed(2), name: "rate" });
  const pool = el("input", { type: "text", inputMode: "decimal", autocomplete: "off", value: (fair.subsidy_pool_fen / 100).toFixed(2), name: "pool" });
  const stateLabel = { setup: t("In setup"), preview: t("In preview"), open: t("Open"), closed: t("Closed") }[fair.state];
  const grace = el("input", { type: "number", min: 1, max: 60, step: 1, value: fair.queue_grace_minutes, name: "grace" });
  const numbers = el("input", { type: "number", min: 1, max: 20, step: 1, value: fair.queue_numbers_per_team, name: "numbers-per-team" });
  const seats = el("input", { type: "number", min: 1, max: 10, step: 1, value: fair.seats_per_resident, name: "seats-per-resident" });
  return [
    el("h2", {}, fair.name),
    el("p", {}, fair.day, " · ", fair.venue, " · ", el("span", { class: `badge state ${fair.state}`, id: "fair-state" }, stateLabel)),
    glance(view),
    el("menu", { class: "actions" },
      fair.state === "setup" ? el("button", { type: "button", id: "preview-fair",
        onclick: () => act("fair.preview", {}, t("Preview the catalogue"), t("The catalogue is out: teams can plan and book meetings.")) },
      t("Preview the catalogue")) : null,
      ["setup", "preview"].includes(fair.state) ? el("button", { type: "button", class: "primary", id: "open-fair",
        onclick: () => act("fair.open", {}, t("Open the fair"), t("The fair is open.")) }, t("Open the fair")) : null,
      fair.state === "open" ? el("button", { type: "button", class: "danger", id: "close-fair", onclick: () => {
        if (window.confirm(t("Close the fair? Negotiations not yet confirmed will expire."))) act("fair.close", {}, t("Close the fair"), t("The fair is closed."));
      } }, t("Close the fair")) : null,
      fair.state === "closed" && reopenable(fair) ? el("button", { type: "button", id: "reopen-fair", onclick: () => {
        const reason = window.prompt(t("Reopen the fair? Say why, for the record. What expired at closing stays expired."));
        if (reason === null) return;
        if (reason.trim().length < 2) return toast(t("Say why in a few words."), "error");
        act("fair.reopen", { reason: reason.trim() }, t("Reopen the fair"), t("The fair is open again."));
      } }, t("Reopen the fair")) : null),
    el("form", { class: "inline-form", onsubmit: (event) => {
      event.preventDefault();
      const rateBp = basisPointsOf(rate.value);
      const poolFen = fenOf(pool.value);
      if (rateBp === null) return toast(t("Type the rate as a percentage from 0 to 100, like 30 or 12.5."), "error");
      if (poolFen === null) return toast(t("Type an amount in yuan, like 480 or 480.50."), "error");
      const changes = {};
      const said = [];
      if (rateBp !== fair.subsidy_rate_bp) {
        changes.subsidy_rate_bp = rateBp;
        said.push(t("rate %(before)s → %(after)s", { before: percent(fair.subsidy_rate_bp), after: percent(rateBp) }));
      }
      if (poolFen !== fair.subsidy_pool_fen) {
        changes.subsidy_pool_fen = poolFen;
        said.push(t("pool %(before)s → %(after)s", { before: money(fair.subsidy_pool_fen), after: money(poolFen) }));
      }
      if (!said.length) return toast(t("Nothing changed."));
      if (changes.subsidy_rate_bp !== undefined && !window.confirm(t("The new rate applies to orders confirmed from now on; confirmed orders keep theirs. Change the %(what)s?", { what: said.join(", ") }))) return;
      act("fair.configure", changes, t("Subsidy"), t("Subsidy: %(what)s.", { what: said.join(", ") }));
    } },
    el("h3", {}, t("Subsidy for self-funded orders")),
    el("label", {}, t("Rate (%)"), rate), el("label", {}, t("Pool (¥)"), pool),
    el("button", { type: "submit" }, t("Save")),
    el("p", { class: "muted" }, t("Granted so far: %(used)s", { used: money(fair.subsidy_used_fen) }))),
    announcing(view),
    el("form", { class: "inline-form", onsubmit: (event) => {
      event.preventDefault();
      const minutes = grace.value.trim(), most = numbers.value.trim();
      if (!/^\d{1,2}$/.test(minutes) || Number(minutes) < 1 || Number(minutes) > 60) return toast(t("Type a whole number of minutes from 1 to 60."), "error");
      if (!/^\d{1,2}$/.test(most) || Number(most) < 1 || Number(most) > 20) return toast(t("Type a whole number from 1 to 20."), "error");
      const changes = {};
      if (Number(minutes) !== fair.queue_grace_minutes) changes.queue_grace_minutes = Number(minutes);
      if (Number(most) !== fair.queue_numbers_per_team) changes.queue_numbers_per_team = Number(most);
      if (!Object.keys(changes).length) return toast(t("Nothing changed."));
      act("fair.configure", changes, t("Queues"),
        t("Queues: a called team has %(minutes)s minutes to come; a team may hold numbers at %(most)s booths at once.", { minutes, most }));
    } },
    el("h3", {}, t("Queues at the booths")),
    el("label", {}, t("Minutes a called team has to come"), grace),
    el("label", {}, t("Booths where one team may hold a number at once"), numbers),
    el("button", { type: "submit" }, t("Save"))),
    el("form", { class: "inline-form", onsubmit: (event) => {
      event.preventDefault();
      const most = seats.value.trim();
      if (!/^\d{1,2}$/.test(most) || Number(most) < 1 || Number(most) > 10) return toast(t("Type a whole number from 1 to 10."), "error");
      if (Number(most) === fair.seats_per_resident) return toast(t("Nothing changed."));
      act("fair.configure", { seats_per_resident: Number(most) }, t("Residents"),
        t("Residents: each may now take %(most)s seats at an event.", { most }));
    } },
    el("h3", {}, t("Residents")),
    el("label", {}, t("Seats one resident may take at an event"), seats),
    el("button", { type: "submit" }, t("Save")),
    el("p", {}, el("a", { href: "/console/residents", id: "residents-link" }, t("Residents: confirmations, codes sent and refusals")))),
  ];
}

const percent = (bp) => (bp === null || bp === undefined ? "—" : `${(bp / 100).toFixed(bp % 100 ? 2 : 0)}%`);

const AUDIENCES = () => ({ everyone: t("Everyone"), teams: t("All buyer teams"), booths: t("All booths"), district: t("The teams of one district") });

/** Announcements: a form to send one, and the list, each withdrawn with a tap. */
function announcing(view) {
  const audience = el("select", { name: "audience" }, Object.entries(AUDIENCES()).map(([value, label]) => el("option", { value }, label)));
  // The district is asked only of an announcement to one district's teams (issue 25: it showed for 所有人 too).
  const district = el("select", { name: "district", "aria-label": t("District"), hidden: true },
    el("option", { value: "" }, t("District…")), DISTRICTS.slice(1).map((d) => el("option", { value: d }, d)));
  audience.addEventListener("change", () => { district.hidden = audience.value !== "district"; });
  const text = el("input", { name: "text", maxLength: 200, required: true, placeholder: t("e.g. 下午两点起在 3 号厅签约") });
  const board = el("input", { type: "checkbox", name: "on_board" });
  // What the board will show, drawn to its scale (one line at 1920 px), and the count against the board's limit
  // (fair.core.announcements.BOARD_TEXT_MAX, read from the page); the rule is the server's, this only shows it.
  const most = Number(document.getElementById("setup").dataset.boardTextMax);
  const line = el("p", { class: "latest" });
  const counted = el("span", { class: "board-count", "aria-live": "polite" });
  const preview = el("div", { class: "board-preview", hidden: true, "aria-label": t("Preview on the board") },
    el("span", { class: "muted" }, t("On the board:")), el("div", { class: "board-banner" }, line), counted);
  const redraw = () => {
    const words = text.value.trim().normalize("NFC");
    const length = [...words].length; // characters as the server counts them, not UTF-16 units
    preview.hidden = !board.checked;
    fill(line, el("strong", {}, t("Announcement")), " ", words);
    const over = length > most;
    const figures = { count: length, limit: most };
    counted.textContent = over ? t("%(count)s / %(limit)s characters: too long for the board", figures)
      : t("%(count)s / %(limit)s characters", figures);
    counted.classList.toggle("over", over);
  };
  text.addEventListener("input", redraw);
  board.addEventListener("change", redraw);
  redraw();
  return el("div", { class: "announcing" },
    el("form", { class: "inline-form", onsubmit: async (event) => {
      event.preventDefault();
      const payload = { audience: audience.value, district: audience.value === "district" ? district.value : "", text: text.value.trim(), on_board: board.checked };
      if (payload.text.length < 2) return toast(t("Write the announcement first."), "error");
      if (audience.value === "district" && !district.value) return toast(t("Choose the district."), "error");
      const ack = await live.command("announcement.send", payload, t("Announcement"));
      if (ack.ok) {
        toast(t("Sent."));
        text.value = "";
        redraw();
      } else toast(refusal(ack), "error");
    } },
    el("h3", {}, t("Announce to the hall")),
    el("label", {}, t("Send to"), audience), district, el("label", { class: "grow" }, t("Text"), text),
    el("label", { class: "check" }, board, t("Also on the board")),
    el("button", { type: "submit", class: "primary" }, t("Send")), preview),
    view.announcements.length ? el("ul", { class: "plain notices" }, view.announcements.map((notice) => el("li", { class: notice.withdrawn ? "withdrawn" : "" },
      el("span", { class: "badge" }, notice.audience === "district" ? notice.district : AUDIENCES()[notice.audience]),
      notice.on_board ? el("span", { class: "badge" }, t("Board")) : null, " ", notice.text, " ", el("small", { class: "muted" }, when(notice.created_at)),
      notice.withdrawn ? el("small", {}, " · ", t("Withdrawn")) : el("button", { type: "button", class: "danger",
        onclick: () => act("announcement.withdraw", { announcement_id: notice.id }, t("Withdraw the announcement"), t("Withdrawn.")) }, t("Withdraw"))))) : null);
}

const SAME_SENDER_MINUTES = 30;  // one phone's wishes this close together are shown as one sender's burst
const STATUS = () => ({ pending: t("Waiting"), approved: t("Public"), rejected: t("Rejected"), merged: t("Merged") });

/** The wishes to moderate (waiting first), and the public ones with what answered them. */
function wishReview(view) {
  // Near-duplicates, listed together: the same words (likeness, fair.core.views) from anyone, and one sender's
  // wishes within SAME_SENDER_MINUTES of each other whatever they say (author, a mark, never the person).
  const open = view.wishes.filter((w) => w.status === "pending" || w.status === "approved");
  const alike = new Map();
  for (const w of open) alike.set(w.likeness, [...(alike.get(w.likeness) || []), w.id]);
  const sameSender = new Map(open.map((w) => [w.id, []]));
  for (const w of open) for (const other of open) {
    if (other.id !== w.id && other.author === w.author
      && Math.abs(Date.parse(other.created_at) - Date.parse(w.created_at)) <= SAME_SENDER_MINUTES * 60_000) sameSender.get(w.id).push(other.id);
  }
  const byId = new Map(open.map((w) => [w.id, w]));
  const group = new Map();  // each wish's group: the least id it is joined to through either kind of likeness
  const join = (id) => {
    const seen = new Set([id]), todo = [id];
    while (todo.length) {
      const at = byId.get(todo.pop());
      for (const next of [...alike.get(at.likeness), ...sameSender.get(at.id)]) if (!seen.has(next)) { seen.add(next); todo.push(next); }
    }
    return Math.min(...seen);
  };
  for (const w of open) group.set(w.id, join(w.id));
  const groupOf = (wish) => group.get(wish.id) ?? wish.id;
  const pending = view.wishes.filter((w) => w.status === "pending").sort((a, b) => groupOf(a) - groupOf(b) || a.id - b.id);
  const others = view.wishes.filter((w) => w.status !== "pending");
  document.getElementById("pending-wishes").textContent = pending.length ? String(pending.length) : "";
  const approved = view.wishes.filter((w) => w.status === "approved");
  const same = (wish) => (wish.status === "pending" || wish.status === "approved" ? (alike.get(wish.likeness) || []).filter((id) => id !== wish.id) : []);
  const row = (wish) => {
    const reason = el("input", { name: "reason", maxLength: 200, placeholder: t("Why not (residents read it)"), "aria-label": t("Reason") });
    const into = el("select", { name: "into", "aria-label": t("Merge into") },
      el("option", { value: "" }, t("Merge into…")),
      approved.filter((w) => w.id !== wish.id && w.district === wish.district && w.category === wish.category)
        .map((w) => el("option", { value: w.id }, `#${w.id} ${w.text.slice(0, 24)}`)));
    const decide = (payload, done) => act("wish.moderate", { wish_id: wish.id, ...payload }, t("Wish #%(id)s", { id: wish.id }), done);
    return el("tr", { dataset: { wish: wish.id } },
      el("td", {}, `#${wish.id}`), el("td", {}, wish.district, el("br"), el("small", {}, wish.street)),
      el("td", {}, categoryName(wish.category), el("br"), el("small", {}, wish.audience)),
      el("td", {}, wish.text, wish.reason ? el("p", { class: "muted" }, wish.reason) : null,
        same(wish).length ? el("p", { class: "badge warn same-words" }, t("Same words as %(ids)s", { ids: same(wish).map((id) => `#${id}`).join(" ") })) : null,
        sameSender.get(wish.id)?.length ? el("p", { class: "badge warn same-sender" }, t("Same sender as %(ids)s, within %(minutes)s minutes", { ids: sameSender.get(wish.id).map((id) => `#${id}`).join(" "), minutes: SAME_SENDER_MINUTES })) : null),
      el("td", { class: "num" }, count(wish.supports)),
      el("td", {}, el("span", { class: "badge" }, STATUS()[wish.status] || wish.status),
        wish.answers.length ? el("p", { class: "muted" }, t("%(count)s orders answer it", { count: wish.answers.length })) : null),
      el("td", {}, wish.answers.length ? null : el("div", { class: "moderate" },
        wish.status !== "approved" ? el("button", { type: "button", class: "primary", onclick: () => decide({ decision: "approve" }, t("Approved.")) }, t("Approve")) : null,
        wish.status === "pending" || wish.status === "approved" ? el("span", { class: "reject" }, reason,
          el("button", { type: "button", class: "danger", onclick: () => {
            if (!reason.value.trim()) return toast(t("Say why the wish is rejected: residents read the reason."), "error");
            decide({ decision: "reject", reason: reason.value.trim() }, t("Rejected."));
          } }, t("Reject"))) : null,
        wish.status === "pending" || wish.status === "approved" ? el("span", { class: "merge" }, into,
          el("button", { type: "button", onclick: () => into.value && decide({ decision: "merge", into: Number(into.value) }, t("Merged.")) }, t("Merge"))) : null)));
  };
  const table = (wishes) => el("table", { class: "register wishes-table" },
    el("thead", {}, el("tr", {}, ["#", t("District"), t("Kind"), t("Wish"), t("Supports"), t("Status"), ""].map((h) => el("th", {}, h)))),
    el("tbody", {}, wishes.map(row)));
  return [
    el("h2", {}, t("Waiting for you (%(count)s)", { count: pending.length })),
    pending.length ? table(pending) : el("p", { class: "empty" }, t("No wish is waiting.")),
    el("h2", {}, t("All wishes")),
    table(others),
  ];
}

/** The hall's schedule: every meeting at every booth, in time order. */
function schedule(view) {
  const meetings = view.appointments.filter((a) => a.state === "booked" || a.state === "invited");
  const slots = view.slots.filter((s) => !s.withdrawn);
  const free = slots.filter((s) => s.free).length;
  return [
    el("p", {}, t("%(meetings)s meetings booked or offered; %(free)s of %(slots)s slots free.", { meetings: meetings.length, free, slots: slots.length })),
    meetings.length ? el("table", { class: "register" },
      el("thead", {}, el("tr", {}, [t("Time"), t("Booth"), t("Team"), t("About"), t("Status")].map((h) => el("th", {}, h)))),
      el("tbody", {}, meetings.map((a) => el("tr", {},
        el("td", {}, `${clockOf(a.starts_at)}–${clockOf(a.ends_at)}`), el("td", {}, `${a.booth} ${a.supplier_name}`), el("td", {}, a.team_name),
        el("td", {}, a.offering_title || ""), el("td", {}, a.state === "invited" ? t("Invited") : t("Booked"))))))
      : el("p", { class: "empty" }, t("No meetings yet.")),
  ];
}

let coverageAsked = 0;
/** Coverage is read from the server when its tab is open: streets reached or not, per category. */
async function coverage() {
  const number = ++coverageAsked;
  const [ack, byDistrict] = await Promise.all([live.read("coverage"), live.read("districts")]);
  if (number !== coverageAsked || !ack.ok || !byDistrict.ok) return;
  const { streets, unanswered } = ack.data;
  const missing = streets.filter((street) => street.reached.length < CATEGORIES.length);
  fill(document.getElementById("coverage-panel"), [
    districtTargets(byDistrict.data),
    el("h2", {}, t("Streets and the services that reached them")),
    el("table", { class: "register coverage-table" },
      el("thead", {}, el("tr", {}, [t("District"), t("Street"), ...CATEGORIES.map(categoryName), t("Open wishes")].map((h) => el("th", {}, h)))),
      el("tbody", {}, streets.map((street) => el("tr", { class: street.reached.length ? "" : "unreached" },
        el("td", {}, street.district), el("td", {}, street.street),
        CATEGORIES.map((c) => el("td", { class: street.reached.includes(c) ? "reached" : "missing" }, street.reached.includes(c) ? "✓" : "")),
        el("td", { class: "num" }, street.open_wishes ? count(street.open_wishes) : ""))))),
    el("p", { class: "muted" }, t("%(count)s streets still miss at least one kind of service.", { count: missing.length })),
    el("h2", {}, t("Public wishes no order answers yet (%(count)s)", { count: unanswered.length })),
    el("ol", {}, unanswered.slice(0, 50).map((w) => el("li", {}, `${w.district} ${w.street} · `, categoryName(w.category), ` · ${w.text} · `,
      t("%(count)s residents", { count: w.supports })))),
  ]);
}
let coverageSoon = null;

/** Each district against the coverage targets, behind ones first in words; and the form that sets the targets. */
function districtTargets({ targets, districts }) {
  const share = (done, outOf) => (outOf ? `${done}/${outOf} · ${Math.round((100 * done) / outOf)}%` : "—");
  const streets = el("input", { type: "number", min: 0, max: 100, step: 1, value: targets.streets_pct, name: "streets-target" });
  const wishes = el("input", { type: "number", min: 0, max: 100, step: 1, value: targets.wishes_pct, name: "wishes-target" });
  const behind = districts.filter((d) => d.behind);
  return [
    el("h2", {}, t("Districts against the coverage targets")),
    el("p", { id: "districts-behind" }, behind.length
      ? t("Behind target: %(districts)s", { districts: behind.map((d) => d.district).join("、") })
      : t("Every district meets the targets.")),
    el("table", { class: "register districts-table" },
      el("thead", {}, el("tr", {}, [t("District"), t("Streets reached (target %(pct)s%)", { pct: targets.streets_pct }),
        t("Wishes answered (target %(pct)s%)", { pct: targets.wishes_pct }), ""].map((h) => el("th", {}, h)))),
      el("tbody", {}, districts.map((d) => el("tr", { class: d.behind ? "behind" : "", dataset: { district: d.district } },
        el("td", {}, d.district), el("td", { class: "num" }, share(d.streets_reached, d.streets)),
        el("td", { class: "num" }, share(d.wishes_answered, d.wishes)),
        el("td", {}, d.behind ? el("span", { class: "badge warn" }, t("behind target")) : ""))))),
    el("form", { class: "inline-form", onsubmit: (event) => {
      event.preventDefault();
      const values = [streets.value.trim(), wishes.value.trim()];
      if (values.some((v) => !/^\d{1,3}$/.test(v) || Number(v) > 100)) return toast(t("Type a whole number from 0 to 100."), "error");
      const changes = {};
      if (Number(values[0]) !== targets.streets_pct) changes.coverage_streets_pct = Number(values[0]);
      if (Number(values[1]) !== targets.wishes_pct) changes.coverage_wishes_pct = Number(values[1]);
      if (!Object.keys(changes).length) return toast(t("Nothing changed."));
      act("fair.configure", changes, t("Coverage targets"),
        t("Coverage targets: %(streets)s% of a district's streets reached, %(wishes)s% of its wishes answered.", { streets: values[0], wishes: values[1] }))
        .then(() => coverage());
    } },
      el("label", {}, t("Streets reached (%)"), streets), el("label", {}, t("Wishes answered (%)"), wishes),
      el("button", { type: "submit" }, t("Save"))),
  ];
}

// The supervision of deliveries: read when its tab is open (its flags depend on the time), again as deliveries move.
const FLAGS = () => ({ late: t("late"), unconfirmed: t("not confirmed, a week to go"), missed: t("missed"), rescheduled_twice: t("rescheduled twice") });
let supervisionAsked = 0;
let supervisionSoon = null;

async function supervision() {
  const number = ++supervisionAsked;
  const ack = await live.read("supervision");
  if (number !== supervisionAsked) return;
  if (!ack.ok) return toast(refusal(ack), "error");
  const { flagged, suppliers, districts } = ack.data;
  const flags = FLAGS();
  const record = (rows, name) => el("table", { class: "register" },
    el("thead", {}, el("tr", {}, [name, t("Deliveries"), t("delivered"), t("evaluated"), ...Object.values(flags)].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.map((row) => el("tr", {}, el("td", {}, row.name || row.district), el("td", { class: "num" }, count(row.deliveries)),
      ["delivered", "evaluated"].map((s) => el("td", { class: "num" }, row.states[s] ? count(row.states[s]) : "")),
      Object.keys(flags).map((f) => el("td", { class: row.flags[f] ? "num flagged" : "num" }, row.flags[f] ? count(row.flags[f]) : ""))))));
  fill(document.getElementById("supervision-panel"), [
    el("h2", {}, t("To look at (%(count)s)", { count: flagged.length })),
    flagged.length ? el("table", { class: "register", id: "flagged" },
      el("thead", {}, el("tr", {}, [t("When"), t("Team"), t("Supplier"), t("Offering"), t("Venue"), t("Status"), t("Why flagged")].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, flagged.map((d) => el("tr", { dataset: { delivery: d.id } }, el("td", {}, when(d.starts_at)), el("td", {}, d.team_name),
        el("td", {}, d.supplier_name), el("td", {}, d.offering_title), el("td", {}, d.venue_name), el("td", {}, deliveryState(d.state)),
        el("td", { class: "flagged" }, d.flags.map((f) => flags[f]).join("、"), d.reason ? ` · ${d.reason}` : "")))))
      : el("p", { class: "empty" }, t("Nothing to look at.")),
    el("h2", {}, t("By booth")), record(suppliers, t("Supplier")),
    el("h2", {}, t("By district")), record(districts, t("District")),
  ]);
}
document.querySelector('[data-tab="supervision"]').addEventListener("click", () => supervision());

/** Residents' ratings from the events' QR codes: approved, they count in the booth's record; rejected, with why. */
function ratingsReview(view) {
  const pending = view.resident_ratings.filter((r) => r.status === "pending");
  const done = view.resident_ratings.filter((r) => r.status !== "pending").slice(0, 50);
  const row = (r) => el("li", { dataset: { rating: r.id } }, el("strong", {}, "★".repeat(r.rating)), " ", r.comment || "", " · ",
    el("span", { class: "muted" }, `${r.supplier_name} · ${r.offering_title} · `, when(r.created_at)),
    r.status === "pending" ? [" ",
      el("button", { type: "button", class: "primary", onclick: () => act("rating.moderate", { rating_id: r.id, decision: "approve" }, t("Approve a rating"), t("Approved.")) }, t("Approve")),
      el("button", { type: "button", onclick: () => {
        const reason = window.prompt(t("Why is this rating rejected?"));
        if (reason && reason.trim()) act("rating.moderate", { rating_id: r.id, decision: "reject", reason: reason.trim() }, t("Reject a rating"), t("Rejected."));
      } }, t("Reject"))]
      : el("span", { class: "muted" }, " · ", r.status === "approved" ? t("Approved") : t("Rejected: %(reason)s", { reason: r.reason })));
  return [pending.length ? el("ul", { class: "plain ratings" }, pending.map(row)) : el("p", { class: "empty" }, t("Nothing to read.")),
    done.length ? el("details", {}, el("summary", {}, t("Read already (%(count)s)", { count: done.length })), el("ul", { class: "plain ratings" }, done.map(row))) : null];
}

// The audit history: pages of the event log, filtered by party and kind, read when its tab is open.
const HISTORY_KINDS = ["fair", "team", "supplier", "offering", "negotiation", "order", "access", "organiser", "wish", "announcement", "appointment", "queue"];
const historyFilter = { party: "", kind: "" };
let historyAsked = 0;
let historySoon = null;

function historyFilters(view) {
  const parties = [["", t("Everyone")], ["organiser", t("Organiser")], ["system", t("System")],
    ...view.teams.map((team) => [`team:${team.id}`, team.name]),
    ...view.suppliers.map((s) => [`supplier:${s.id}`, `${s.booth} ${s.name}`])];
  const choose = (name, options) => el("label", {}, name === "party" ? t("Party") : t("Kind of change"),
    el("select", { name: `history-${name}`, onchange: (event) => { historyFilter[name] = event.target.value; history(); } },
      options.map(([value, label]) => el("option", { value, selected: historyFilter[name] === value }, label))));
  return [choose("party", parties), choose("kind", [["", t("All")], ...HISTORY_KINDS.map((k) => [k, changeKindName(k)])])];
}

const OFFERING_STATUS = () => ({ published: t("Published"), withdrawn: t("Withdrawn") });

function changeKindName(kind) {
  return {
    fair: t("The fair"), team: t("Teams"), supplier: t("Suppliers"), offering: t("Offerings"), negotiation: t("Negotiations"),
    order: t("Orders"), access: t("Cards"), organiser: t("Organisers' sign-ins"), wish: t("Wishes"), announcement: t("Announcements"), appointment: t("Meetings"), queue: t("Queues"),
  }[kind] || kind;
}

function actorName(actor, view) {
  const [role, id] = actor.split(":");
  if (role === "team") return (view.teams.find((x) => String(x.id) === id) || { name: actor }).name;
  if (role === "supplier") return (view.suppliers.find((x) => String(x.id) === id) || { name: actor }).name;
  return { organiser: t("Organiser"), system: t("System"), resident: t("A resident") }[role] || actor;
}

/** One line saying what an event changed, from the objects it carries. */
function describe(entry) {
  const d = entry.data;
  const fairState = { setup: t("In setup"), preview: t("In preview"), open: t("Open"), closed: t("Closed") };
  switch (entry.type) {
    case "fair.reopened": return t("Fair reopened: %(reason)s", { reason: d.reason });
    case "fair.updated": return t("Subsidy rate %(rate)s, pool %(pool)s (used %(used)s)", { rate: `${(d.fair.subsidy_rate_bp / 100).toFixed(2)}%`, pool: money(d.fair.subsidy_pool_fen), used: money(d.fair.subsidy_used_fen) });
    case "team.updated": {
      const budget = t("budget %(budget)s", { budget: money(d.team.budget.budget_fen) });
      return [d.team.name, budget, d.team.approved ? t("Approved") : t("Not approved")].join(" · ");
    }
    case "supplier.updated": return [`${d.supplier.booth} ${d.supplier.name}`, d.supplier.approved ? t("Approved") : t("Not approved")].join(" · ");
    case "order.confirmed": return d.order ? t("Order %(id)s: %(team)s buys %(what)s from %(supplier)s for %(amount)s", { id: d.order.id, team: d.order.team_name, what: d.order.offering_title, supplier: d.order.supplier_name, amount: money(d.order.amount_fen) }) : "";
    case "order.voided": return t("Order %(id)s voided: %(reason)s", { id: d.order.id, reason: d.order.void_reason });
    case "order.paid": return t("Order %(id)s: %(amount)s paid on %(day)s (%(reference)s)", { id: d.order.id, amount: money(d.payment.amount_fen), day: d.payment.paid_on, reference: d.payment.reference });
    case "access.issued": return t("Card %(id)s issued: %(label)s", { id: d.credential.id, label: d.credential.label });
    case "access.revoked": return t("Card %(id)s revoked: %(label)s", { id: d.credential.id, label: d.credential.label });
    case "access.limited": return t("Card %(id)s: at most %(count)s devices", { id: d.credential.id, count: d.max_devices });
    case "access.signed_out": return t("Card %(id)s: device %(device)s signed out", { id: d.credential.id, device: d.device.label || d.device.id });
    case "organiser.signed_out": return t("Organiser sign-in ended: %(label)s", { label: d.session.label });
    case "negotiation.updated": return `${d.negotiation.offering_title} · ${d.negotiation.team_name} · ${stateName(d.negotiation.state)}`;
    case "wish.updated": return `${d.wish.district} ${d.wish.street} · ${d.wish.text} · ${STATUS()[d.wish.status] || d.wish.status}`;
    case "announcement.updated": return d.announcement.text;
    default:
      if (entry.type.startsWith("fair.")) return fairState[d.fair.state] || d.fair.state;
      if (entry.type.startsWith("offering.")) return `${d.offering.title} · ${OFFERING_STATUS()[d.offering.status] || d.offering.status}`;
      return "";
  }
}

async function history(before = null) {
  const number = ++historyAsked;
  const ack = await live.read("audit", { ...historyFilter, before });
  if (number !== historyAsked || !current) return;
  if (!ack.ok) return toast(refusal(ack), "error");
  const list = document.getElementById("history-list");
  const rows = ack.data.events.map((entry) => el("tr", { dataset: { seq: entry.seq, type: entry.type } },
    el("td", { class: "num" }, String(entry.seq)), el("td", {}, when(entry.at)), el("td", {}, actorName(entry.actor, current)),
    el("td", { title: entry.type }, t(entry.label)), el("td", {}, describe(entry))));
  const table = before && list.querySelector("tbody") ? list.querySelector("tbody") : null;
  if (table) {
    table.append(...rows);
    list.querySelector(".older")?.remove();
  } else {
    fill(list, el("div", { class: "table-scroll" }, el("table", { class: "register history" },
      el("thead", {}, el("tr", {}, [t("No."), t("When"), t("Who"), t("Event"), t("What changed")].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: 5, class: "empty" }, t("Nothing matches.")))))));
  }
  if (ack.data.next_before !== null) {
    list.append(el("button", { type: "button", class: "older", onclick: () => history(ack.data.next_before) }, t("Older changes")));
  }
}
document.querySelector('[data-tab="history"]').addEventListener("click", () => {
  fill(document.getElementById("history-filters"), historyFilters(current));
  history();
});
document.querySelector('[data-tab="coverage-tab"]').addEventListener("click", () => coverage());

const yesNo = () => [["yes", t("Yes")], ["no", t("No")]];
const isYes = (flag, value) => (value === "yes") === flag;

/** An amount shown as money, with a button that turns it into a field; the change is confirmed, then said. */
function moneyEdit({ fen, label, name, send }) {
  const cell = el("span", { class: "money-edit" });
  const show = () => fill(cell, el("span", { class: "num" }, money(fen)), " ",
    el("button", { type: "button", class: "small", "aria-label": t("Change: %(what)s", { what: label }), onclick: edit }, t("Change")));
  const edit = () => {
    const field = el("input", { type: "text", inputMode: "decimal", autocomplete: "off", name, value: (fen / 100).toFixed(2), "aria-label": label, class: "money-input" });
    fill(cell, el("form", { class: "inline", onsubmit: async (event) => {
      event.preventDefault();
      const typed = fenOf(field.value);
      if (typed === null) return toast(t("Type an amount in yuan, like 480 or 480.50."), "error");
      if (typed === fen) return show();
      if (!window.confirm(t("%(what)s: %(before)s → %(after)s?", { what: label, before: money(fen), after: money(typed) }))) return;
      if (await send(typed)) toast(t("%(what)s: %(before)s → %(after)s.", { what: label, before: money(fen), after: money(typed) }));
    } }, field, el("button", { type: "submit", class: "primary small" }, t("Save")), el("button", { type: "button", class: "small", onclick: show }, t("Cancel"))));
    field.focus();
    field.select();
  };
  show();
  return cell;
}

async function sent(command, payload, label) {
  const ack = await live.command(command, payload, label);
  if (!ack.ok) toast(refusal(ack), "error");
  return ack.ok;
}

function approval(kind, row) {
  return el("input", { type: "checkbox", checked: row.approved, "aria-label": t("Approved: %(name)s", { name: row.name }),
    onchange: (event) => act(`${kind}.approve`, { [`${kind}_id`]: row.id, approved: event.target.checked }, t("Approve: %(name)s", { name: row.name }),
      event.target.checked ? t("Approved: %(name)s", { name: row.name }) : t("No longer approved: %(name)s", { name: row.name })) });
}

const usedShare = (b) => (b.budget_fen > 0 ? b.spent_fen / b.budget_fen : 0);

function teamsRegister(view) {
  return register("teams-register", {
    rows: view.teams,
    attrs: (team) => ({ dataset: { team: team.id } }),
    search: (team) => `${team.name} ${team.district} ${team.street}`,
    filters: [
      { name: "district", label: t("District"), options: DISTRICTS.map((d) => [d, d]), test: (team, d) => team.district === d },
      { name: "kind", label: t("Kind"), options: TEAM_KINDS.map((k) => [k, kindName(k)]), test: (team, k) => team.kind === k },
      { name: "approved", label: t("Approved"), options: yesNo(), test: (team, v) => isYes(team.approved, v) },
    ],
    columns: [
      { label: t("Team"), sort: (team) => team.name, cell: (team) => [team.name, team.street ? el("small", { class: "muted" }, ` ${team.street}`) : null] },
      { label: t("Kind"), sort: (team) => team.kind, cell: (team) => kindName(team.kind) },
      { label: t("District"), sort: (team) => DISTRICTS.indexOf(team.district), cell: (team) => team.district },
      { label: t("Approved"), cell: (team) => approval("team", team) },
      { label: t("Budget"), num: true, sort: (team) => team.budget.budget_fen, cell: (team) => moneyEdit({
        fen: team.budget.budget_fen, name: "budget", label: t("Budget of %(name)s", { name: team.name }),
        send: (fen) => sent("team.set_budget", { team_id: team.id, budget_fen: fen }, t("Budget: %(name)s", { name: team.name })) }) },
      { label: t("Spent"), num: true, sort: (team) => team.budget.spent_fen, cell: (team) => behind(money(team.budget.spent_fen), { team: String(team.id) }) },
      { label: t("Left"), num: true, sort: (team) => team.budget.remaining_fen, cell: (team) => money(team.budget.remaining_fen) },
      { label: t("Used"), num: true, sort: (team) => usedShare(team.budget), cell: (team) => (team.budget.budget_fen ? `${(usedShare(team.budget) * 100).toFixed(1)}%` : "—") },
    ],
  });
}

function suppliersRegister(view) {
  const offered = new Map();
  for (const o of view.offerings) if (o.status === "published") offered.set(o.supplier_id, (offered.get(o.supplier_id) || 0) + 1);
  const sales = new Map();
  for (const order of view.orders) {
    const s = sales.get(order.supplier_id) || { orders: 0, amount_fen: 0 };
    sales.set(order.supplier_id, { orders: s.orders + 1, amount_fen: s.amount_fen + order.amount_fen });
  }
  const sold = (s) => sales.get(s.id) || { orders: 0, amount_fen: 0 };
  return register("suppliers-register", {
    rows: view.suppliers,
    attrs: (s) => ({ dataset: { supplier: s.id } }),
    search: (s) => `${s.booth} ${s.name}`,
    filters: [{ name: "approved", label: t("Approved"), options: yesNo(), test: (s, v) => isYes(s.approved, v) }],
    columns: [
      { label: t("Booth"), sort: (s) => s.booth, cell: (s) => s.booth },
      { label: t("Supplier"), sort: (s) => s.name, cell: (s) => s.name },
      { label: t("Approved"), cell: (s) => approval("supplier", s) },
      { label: t("Offerings"), num: true, sort: (s) => offered.get(s.id) || 0, cell: (s) => count(offered.get(s.id) || 0) },
      { label: t("Orders"), num: true, sort: (s) => sold(s).orders, cell: (s) => behind(count(sold(s).orders), { supplier: String(s.id) }) },
      { label: t("Sales"), num: true, sort: (s) => sold(s).amount_fen, cell: (s) => behind(money(sold(s).amount_fen), { supplier: String(s.id) }) },
    ],
  });
}

function offeringsRegister(view) {
  return register("offerings-register", {
    rows: view.offerings,
    attrs: (o) => ({ dataset: { offering: o.id } }),
    search: (o) => `${o.booth} ${o.supplier_name} ${o.title}`,
    filters: [
      { name: "category", label: t("Category"), options: CATEGORIES.map((c) => [c, categoryName(c)]), test: (o, c) => o.category === c },
      { name: "status", label: t("Status"), options: [["published", t("Published")], ["withdrawn", t("Withdrawn")]], test: (o, v) => o.status === v },
      { name: "left", label: t("Left"), options: [["yes", t("Some left")], ["no", t("Sold out")]], test: (o, v) => isYes(o.remaining > 0, v) },
    ],
    columns: [
      { label: t("Booth"), sort: (o) => o.booth, cell: (o) => o.booth },
      { label: t("Supplier"), sort: (o) => o.supplier_name, cell: (o) => o.supplier_name },
      { label: t("Offering"), sort: (o) => o.title, cell: (o) => o.title },
      { label: t("Category"), sort: (o) => CATEGORIES.indexOf(o.category), cell: (o) => categoryName(o.category) },
      { label: t("Unit price"), num: true, sort: (o) => o.unit_price_fen, cell: (o) => `${money(o.unit_price_fen)} / ${o.unit}` },
      { label: t("Capacity"), num: true, sort: (o) => o.capacity, cell: (o) => count(o.capacity) },
      { label: t("Sold"), num: true, sort: (o) => o.sold, cell: (o) => count(o.sold) },
      { label: t("Left"), num: true, sort: (o) => o.remaining, cell: (o) => count(o.remaining) },
      { label: t("Booth score"), num: true, sort: (o) => ratingsOf(view, o.supplier_id)?.average ?? -1, cell: (o) => scoreOf(view, o.supplier_id) || "—" },
      { label: t("Status"), sort: (o) => o.status, cell: (o) => (o.status === "published" ? t("Published") : t("Withdrawn")) },
    ],
  });
}

function ordersRegister(view) {
  return register("orders-register", {
    rows: view.orders,
    attrs: (o) => ({ dataset: { order: o.id }, class: o.voided_at ? "is-voided" : "" }),
    search: (o) => `${o.id} ${o.team_name} ${o.supplier_name} ${o.offering_title} ${o.district} ${o.venue}`,
    filters: [
      { name: "category", label: t("Category"), options: CATEGORIES.map((c) => [c, categoryName(c)]), test: (o, c) => o.category === c },
      { name: "district", label: t("District"), options: DISTRICTS.map((d) => [d, d]), test: (o, d) => o.district === d },
      { name: "team", label: t("Team"), options: view.teams.map((team) => [String(team.id), team.name]), test: (o, v) => String(o.team_id) === v },
      { name: "supplier", label: t("Supplier"), options: view.suppliers.map((s) => [String(s.id), `${s.booth} ${s.name}`]), test: (o, v) => String(o.supplier_id) === v },
      { name: "funding", label: t("Funding"), options: [["government", t("Government budget")], ["self_funded", t("Own funds")]], test: (o, f) => o.funding === f },
      { name: "status", label: t("Status"), options: [["standing", t("Standing")], ["voided", t("Voided")]], test: (o, s) => (s === "voided") === Boolean(o.voided_at) },
    ],
    columns: [
      { label: t("No."), num: true, sort: (o) => o.id, cell: (o) => String(o.id) },
      { label: t("Confirmed"), sort: (o) => o.confirmed_at, cell: (o) => when(o.confirmed_at) },
      { label: t("Team"), sort: (o) => o.team_name, cell: (o) => o.team_name },
      { label: t("District"), sort: (o) => DISTRICTS.indexOf(o.district), cell: (o) => o.district },
      { label: t("Supplier"), sort: (o) => o.supplier_name, cell: (o) => o.supplier_name },
      { label: t("Offering"), sort: (o) => o.offering_title, cell: (o) => [o.offering_title, el("small", { class: "muted" }, ` ${categoryName(o.category)}`)] },
      { label: t("Quantity"), num: true, sort: (o) => o.quantity, cell: (o) => `${count(o.quantity)} ${o.unit}` },
      { label: t("Amount"), num: true, sort: (o) => o.amount_fen, cell: (o) => money(o.amount_fen) },
      { label: t("Funding"), sort: (o) => o.funding, cell: (o) => (o.funding === "self_funded" ? t("Own funds") : t("Government budget")) },
      { label: t("Subsidy"), num: true, sort: (o) => o.subsidy_fen, cell: (o) => (o.subsidy_fen ? money(o.subsidy_fen) : "") },
      { label: t("Paid"), num: true, sort: (o) => o.paid_fen, cell: paidCell },
      { label: t("Status"), sort: (o) => (o.voided_at ? 1 : 0), cell: voidCell },
      { label: "", cell: confirmationLink },
    ],
  });
}

/** What the buyer has paid the supplier, and a button to record a payment (the core says how much may be paid). */
function paidCell(order) {
  const paid = el("span", { class: "num" }, order.paid_fen ? money(order.paid_fen) : "—");
  if (order.voided_at || order.paid_fen >= order.amount_fen) return paid;
  return [paid, " ", el("button", { type: "button", class: "small", onclick: () => payDialog(order) }, t("Record payment"))];
}

function payDialog(order) {
  const today = new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
  const amount = el("input", { type: "text", inputMode: "decimal", name: "amount", required: true, autocomplete: "off", class: "money-input" });
  const day = el("input", { type: "date", name: "paid_on", required: true, value: today });
  const reference = el("input", { type: "text", name: "reference", required: true, minLength: 2, maxLength: 60 });
  const problem = el("p", { class: "notice error", role: "alert", hidden: true });
  const form = el("form", { method: "dialog", class: "terms", onsubmit: async (event) => {
    event.preventDefault();
    const fen = fenOf(amount.value);
    if (!fen) return Object.assign(problem, { hidden: false, textContent: t("Type an amount in yuan, like 480 or 480.50.") });
    const ack = await live.command("payment.record", { order_id: order.id, amount_fen: fen, paid_on: day.value, reference: reference.value.trim() }, t("Record payment"));
    if (!ack.ok) return Object.assign(problem, { hidden: false, textContent: refusal(ack) }); // what was typed stays
    dialog.close();
    toast(t("Order %(id)s: %(amount)s paid on %(day)s (%(reference)s)", { id: order.id, amount: money(fen), day: day.value, reference: reference.value.trim() }));
  } },
  el("h2", {}, t("Record a payment of order %(id)s", { id: order.id })),
  el("p", { class: "muted" }, `${order.team_name} → ${order.supplier_name} · ${order.offering_title} · ${money(order.amount_fen)}`),
  el("label", {}, t("Amount (¥)"), amount), el("label", {}, t("Paid on"), day), el("label", {}, t("Voucher no."), reference),
  problem,
  el("menu", {}, el("button", { type: "button", onclick: () => dialog.close() }, t("Cancel")), el("button", { type: "submit", class: "primary" }, t("Record payment"))));
  const dialog = el("dialog", { class: "dialog", "aria-label": t("Record a payment of order %(id)s", { id: order.id }) }, form);
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  amount.focus();
}

/** A standing order can be voided with a reason; a voided one says when and why. */
function voidCell(order) {
  if (order.voided_at) {
    return el("span", { class: "voided", title: order.void_reason }, t("Voided %(when)s: %(reason)s", { when: when(order.voided_at), reason: order.void_reason }));
  }
  return el("button", { type: "button", class: "danger", onclick: () => {
    const what = `${order.team_name} · ${order.offering_title} · ${money(order.amount_fen)}`;
    const reason = window.prompt(t("Void order %(id)s (%(what)s)? Its units, dates and money are given back. Why?", { id: order.id, what }));
    if (reason === null) return;
    if (reason.trim().length < 2) return toast(t("Say why in a few words."), "error");
    act("order.void", { order_id: order.id, reason: reason.trim() }, t("Void an order"), t("Order %(id)s is voided.", { id: order.id }));
  } }, t("Void"));
}

// Who is signed in: every card's devices and the organisers, asked for when the links are shown or change.
let whoIsIn = null;
let current = null;
let asking = false;

async function refreshRegister() {
  if (asking) return;
  asking = true;
  let reply;
  try {
    reply = await live.socket.timeout(10000).emitWithAck("sessions", {});
  } catch {
    return; // no answer: asked again at the next change
  } finally {
    asking = false;
  }
  if (reply && reply.ok) {
    whoIsIn = reply.data;
    const panel = document.getElementById("links");
    if (current) calmly(panel, () => fill(document.getElementById("link-list"), links(current)));
  }
}

async function actOnAccess(command, payload, label, done) {
  await act(command, payload, label, done);
  refreshRegister();
}

function devicesOf(card) {
  if (!card) return null;
  const limit = el("input", { type: "number", min: 1, max: 20, step: 1, value: card.max_devices, class: "limit-input", name: "max_devices", "aria-label": t("Devices at most") });
  const signedIn = card.devices.filter((d) => d.signed_in);
  return [
    el("form", { class: "inline", onsubmit: (event) => {
      event.preventDefault();
      actOnAccess("access.limit", { credential_id: card.credential_id, max_devices: Number.parseInt(limit.value, 10) }, t("Devices per card"), t("Saved."));
    } }, t("%(count)s of", { count: signedIn.length }), " ", limit, " ", el("button", { type: "submit" }, t("Set"))),
    el("ul", { class: "devices" }, signedIn.map((device) => el("li", { dataset: { device: device.id } },
      el("span", {}, device.label || t("Device")), el("span", { class: "muted" }, device.address), el("span", { class: "muted" }, when(device.created_at)),
      el("button", { type: "button", class: "danger", onclick: () => {
        if (window.confirm(t("Sign this device out? The card's other devices stay signed in."))) {
          actOnAccess("device.sign_out", { device_id: device.id }, t("Sign a device out"), t("Signed out."));
        }
      } }, t("Sign out"))))),
  ];
}

function organisers() {
  if (!whoIsIn) return null;
  return [
    el("h3", {}, t("Organisers signed in")),
    el("table", { class: "register", id: "organiser-sessions" },
      el("thead", {}, el("tr", {}, [t("Username"), t("Device"), t("Address"), t("Since"), ""].map((h) => el("th", {}, h)))),
      el("tbody", {}, whoIsIn.organisers.map((s) => el("tr", { dataset: { session: s.id } },
        el("td", {}, s.username), el("td", {}, s.label), el("td", {}, s.address), el("td", {}, when(s.created_at)),
        el("td", {}, s.current ? el("span", { class: "muted" }, t("This browser")) : el("button", { type: "button", class: "danger", onclick: () => {
          if (window.confirm(t("End this sign-in? Its screens are signed out at once."))) actOnAccess("organiser.sign_out", { session_id: s.id }, t("End a sign-in"), t("Signed out."));
        } }, t("End"))))))),
  ];
}

function links(view) {
  const party = el("select", { name: "party", "aria-label": t("New join link for") },
    el("option", { value: "projector:" }, t("Projector")),
    view.suppliers.map((s) => el("option", { value: `supplier:${s.id}` }, [t("Booth"), s.booth, s.name].join(" "))),
    view.teams.map((tm) => el("option", { value: `team:${tm.id}` }, [t("Buyer team"), tm.name].join(" "))));
  return [
    el("form", { class: "inline-form", onsubmit: (event) => {
      event.preventDefault();
      const [chosenKind, id] = party.value.split(":");
      actOnAccess("access.issue", { kind: chosenKind, party_id: id ? Number(id) : null, label: "" }, t("Issue a join link"), t("Issued: print it from the list."));
    } }, el("label", {}, t("New join link for"), party), el("button", { type: "submit" }, t("Issue")),
    el("button", { type: "button", id: "refresh-devices", onclick: refreshRegister }, t("Refresh the devices"))),
    whoIsIn && whoIsIn.cards_expire_at ? el("p", { class: "muted" }, t("The cards stop working at %(time)s.", { time: when(whoIsIn.cards_expire_at) })) : null,
    linkTable(view),
    organisers(),
  ];
}

/** The join links, with who each is for and the devices signed in on it. */
function linkTable(view) {
  const names = new Map([...view.suppliers.map((s) => [`supplier:${s.id}`, `${s.booth} ${s.name}`]), ...view.teams.map((tm) => [`team:${tm.id}`, tm.name])]);
  const nameOf = (c) => names.get(`${c.kind}:${c.party_id}`) || c.label;
  const kind = { supplier: t("Booth"), team: t("Buyer team"), projector: t("Projector") };
  const cards = new Map(whoIsIn ? whoIsIn.cards.map((c) => [c.credential_id, c]) : []);
  const signedIn = (c) => (cards.get(c.id) ? cards.get(c.id).devices.filter((d) => d.signed_in).length : 0);
  return register("links-register", {
    rows: view.credentials,
    attrs: (c) => ({ dataset: { credential: c.id } }),
    search: (c) => `${c.id} ${nameOf(c)} ${c.label}`,
    filters: [
      { name: "kind", label: t("Kind"), options: Object.entries(kind), test: (c, k) => c.kind === k },
      { name: "state", label: t("State"), options: [["valid", t("Valid")], ["revoked", t("Revoked")]], test: (c, v) => (v === "revoked") === c.revoked },
      { name: "devices", label: t("Devices"), options: [["yes", t("Signed in")], ["no", t("None signed in")]], test: (c, v) => isYes(signedIn(c) > 0, v) },
    ],
    columns: [
      { label: t("No."), num: true, sort: (c) => c.id, cell: (c) => String(c.id) },
      { label: t("Kind"), sort: (c) => c.kind, cell: (c) => kind[c.kind] },
      { label: t("For"), sort: nameOf, cell: nameOf },
      { label: t("Issued"), sort: (c) => c.created_at, cell: (c) => when(c.created_at) },
      { label: t("State"), sort: (c) => c.revoked, cell: (c) => (c.revoked ? t("Revoked") : t("Valid")) },
      { label: t("Devices signed in"), sort: signedIn, cell: (c) => (c.revoked ? null : devicesOf(cards.get(c.id))) },
      { label: "", cell: (c) => (c.revoked ? null : el("menu", { class: "actions" },
        el("a", { class: "button", href: `/console/cards?card=${c.id}`, target: "_blank", rel: "noopener" }, t("Print this card")),
        el("button", { type: "button", class: "danger", onclick: () => {
          if (window.confirm(t("Revoke this join link? Screens using it are signed out at once."))) actOnAccess("access.revoke", { credential_id: c.id }, t("Revoke a join link"), t("Revoked."));
        } }, t("Revoke")))) },
    ],
  });
}

/** Downloads for the bureau: every order or those of a district, team or supplier; budgets; the subsidy pool. */
function narrowedStatement(name, label, options) {
  const pick = el("select", { name: `statement-${name}`, "aria-label": label }, options.map(([value, text]) => el("option", { value }, text)));
  const go = (fmt) => () => { window.location.href = `/export/statement.${fmt}?${name}=${encodeURIComponent(pick.value)}`; };
  return el("li", {}, el("span", {}, label), pick,
    el("button", { type: "button", onclick: go("xlsx") }, "XLSX"), el("button", { type: "button", onclick: go("csv") }, "CSV"));
}

function downloads(view) {
  const both = (path, query = "") => [
    el("a", { class: "button", href: `/export/${path}.xlsx${query}`, download: "" }, "XLSX"),
    el("a", { class: "button", href: `/export/${path}.csv${query}`, download: "" }, "CSV")];
  const narrowed = (name, label, options) => {
    const pick = el("select", { name: `export-${name}`, "aria-label": label }, options.map(([value, text]) => el("option", { value }, text)));
    const go = (fmt) => () => { window.location.href = `/export/orders.${fmt}?${name}=${encodeURIComponent(pick.value)}`; };
    return el("li", {}, el("span", {}, label), pick,
      el("button", { type: "button", onclick: go("xlsx") }, "XLSX"), el("button", { type: "button", onclick: go("csv") }, "CSV"));
  };
  return el("ul", { class: "plain downloads" },
    el("li", {}, el("span", {}, t("Every order")), both("orders")),
    narrowed("district", t("The orders of a district"), DISTRICTS.map((d) => [d, d])),
    narrowed("team", t("The orders of a team"), view.teams.map((tm) => [tm.id, tm.name])),
    narrowed("supplier", t("The orders of a supplier"), view.suppliers.map((s) => [s.id, `${s.booth} ${s.name}`])),
    el("li", {}, el("span", {}, t("Teams with budget used and left")), both("budgets")),
    el("li", {}, el("span", {}, t("The subsidy pool")), both("pool")),
    el("li", {}, el("span", {}, t("Suppliers' records after the fair, for next year's vetting")), both("vetting")),
    narrowedStatement("team", t("A team's statement"), view.teams.map((tm) => [tm.id, tm.name])),
    narrowedStatement("supplier", t("A supplier's statement"), view.suppliers.map((s) => [s.id, `${s.booth} ${s.name}`])),
    el("li", {}, el("span", {}, t("Open contracting data (OCDS 1.1.5), one process per order")),
      el("a", { class: "button", href: "/export/ocds.json", download: "" }, "JSON")),
    el("li", {}, el("span", {}, t("The day report, to print or save as PDF")),
      el("a", { class: "button primary", href: "/console/report", target: "_blank", rel: "noopener" }, t("Open the day report"))));
}

// Imports: the file goes as it is to /import/<kind>; a preview first, then the import when every row is valid.
const REGISTER_KINDS = [["suppliers", () => t("Suppliers")], ["teams", () => t("Teams")], ["offerings", () => t("Offerings")]];

function imports() {
  return el("ul", { class: "plain downloads imports" }, REGISTER_KINDS.map(([kind, label]) => {
    const file = el("input", { type: "file", name: `import-${kind}`, accept: ".xlsx,.csv,text/csv", "aria-label": t("Spreadsheet to import") });
    const result = el("div", { class: "import-result", id: `import-${kind}-result`, role: "status" });
    const send = async (preview) => {
      if (!file.files.length) return toast(t("Choose a file first."), "error");
      const answer = await upload(kind, file.files[0], preview);
      fill(result, importReport(answer, preview, () => send(false)));
    };
    return el("li", {}, el("span", {}, label()),
      el("a", { class: "button", href: `/export/${kind}.xlsx`, download: "" }, "XLSX"),
      el("a", { class: "button", href: `/export/${kind}.csv`, download: "" }, "CSV"),
      file, el("button", { type: "button", onclick: () => send(true) }, t("Preview")), result);
  }));
}

async function upload(kind, file, preview) {
  const csrf = document.querySelector("input[name=csrftoken]").value;
  try {
    const response = await fetch(`/import/${kind}${preview ? "?preview=1" : ""}`, {
      method: "POST", body: file, credentials: "same-origin",
      headers: { "x-csrftoken": csrf, "x-request-id": `import-${crypto.randomUUID()}`, "content-type": "application/octet-stream" },
    });
    return await response.json();
  } catch {
    return { ok: false, error: { message: t("Offline: reconnecting…") } };
  }
}

function importReport(answer, preview, commit) {
  if (!answer.ok) return el("p", { class: "notice error" }, answer.error.message);
  const { rows, errors, counts, written } = answer.data;
  const summary = t("%(created)s new, %(updated)s changed, %(unchanged)s unchanged.", counts);
  if (errors.length) {
    return [el("p", { class: "notice error" }, t("%(count)s rows have errors: nothing was imported. Correct them and try again.", { count: errors.length })),
      el("ul", { class: "import-errors" }, errors.map((e) => el("li", {}, t("Line %(line)s: %(message)s", e))))];
  }
  if (written) {
    refreshRegister();
    return el("p", { class: "notice" }, t("Imported: %(summary)s", { summary }));
  }
  const actions = { created: t("new"), updated: t("changed"), unchanged: t("unchanged") };
  return [el("p", {}, t("Preview: %(summary)s", { summary })),
    el("table", { class: "register" }, el("tbody", {}, rows.filter((r) => r.action !== "unchanged").slice(0, 200).map((r) =>
      el("tr", {}, el("td", { class: "num" }, String(r.line)), el("td", {}, actions[r.action]), el("td", {}, r.key))))),
    preview ? el("button", { type: "button", class: "primary", onclick: commit }, t("Import")) : null];
}

/** Open the orders register narrowed to what a figure counts (a district, a category, a party), standing orders only. */
function ordersBehind(chosen) {
  narrow("orders-register", { ...chosen, status: "standing" });
  document.querySelector('[data-tab="orders"]').click();
  fill(document.getElementById("orders"), ordersRegister(current));
}

let reportAsked = 0;
/** The analytics, read from the server when the reports tab is open (and again as orders come in). */
async function reportFigures() {
  const number = ++reportAsked;
  const ack = await live.read("analytics");
  if (number !== reportAsked || !ack.ok) return;
  const figures = ack.data;
  const byCategory = (d, c) => figures.grid[d][c];
  fill(document.getElementById("report-figures"),
    el("div", { class: "glance" },
      el("div", { class: "figure" }, el("span", {}, t("Budget used")), el("strong", {}, percent(figures.budget.used_bp))),
      el("div", { class: "figure" }, el("span", {}, t("Teams that bought")), el("strong", {}, `${figures.budget.teams_spending} / ${figures.budget.teams}`)),
      el("div", { class: "figure" }, el("span", {}, t("Subsidy granted")), el("strong", {}, money(figures.pool.used_fen))),
      el("div", { class: "figure" }, el("span", {}, t("Subsidy pool left")), el("strong", {}, money(figures.pool.left_fen)))),
    el("h2", {}, t("Orders by district and category")),
    el("div", { class: "table-scroll" }, el("table", { class: "register", id: "grid" },
      el("thead", {}, el("tr", {}, el("th", {}, t("District")), CATEGORIES.map((c) => el("th", { class: "num" }, categoryName(c))), el("th", { class: "num" }, t("Amount")))),
      el("tbody", {}, figures.districts.map((d) => el("tr", {}, el("th", { scope: "row" }, d),
        CATEGORIES.map((c) => el("td", { class: "num" }, byCategory(d, c).orders
          ? el("button", { type: "button", class: "link", title: t("The orders behind this figure"), onclick: () => ordersBehind({ district: d, category: c }) },
            count(byCategory(d, c).orders))
          : "")),
        el("td", { class: "num" }, money(CATEGORIES.reduce((sum, c) => sum + byCategory(d, c).amount_fen, 0)))))))),
    el("div", { class: "grid-2" },
      el("div", {}, el("h2", {}, t("Orders per hour")), figures.hours.length
        ? bars(figures.hours, { label: (h) => h.hour, value: (h) => h.orders, figure: (h) => `${count(h.orders)} · ${money(h.amount_fen)}` })
        : el("p", { class: "empty" }, t("No orders yet."))),
      el("div", {}, el("h2", {}, t("Sales by supplier")), figures.suppliers.length ? el("table", { class: "register", id: "supplier-sales" },
        el("thead", {}, el("tr", {}, [t("Booth"), t("Supplier"), t("Orders"), t("Amount")].map((h) => el("th", {}, h)))),
        el("tbody", {}, figures.suppliers.map((s) => el("tr", {}, el("td", {}, s.booth), el("td", {}, s.name),
          el("td", { class: "num" }, count(s.orders)), el("td", { class: "num" }, money(s.amount_fen))))))
        : el("p", { class: "empty" }, t("No orders yet.")))));
}
let reportSoon = null;

/** Draw ``panel`` now, or, while someone is typing in it, once they leave it: a live update never wipes a field. */

live.watch((view, changed) => {
  current = view;
  if (whoIsIn === null || (changed && changed.some((event) => event.type.startsWith("access.") || event.type.startsWith("organiser.")))) refreshRegister();
  document.getElementById("fair-name").textContent = view.fair.name;
  const panel = (id) => document.getElementById(id);
  calmly(panel("setup"), () => fill(panel("setup"), setup(view)));
  calmly(panel("teams"), () => fill(panel("teams"), teamsRegister(view)));
  calmly(panel("suppliers"), () => fill(panel("suppliers"), suppliersRegister(view)));
  calmly(panel("offerings"), () => fill(panel("offerings"), offeringsRegister(view)));
  calmly(panel("orders"), () => fill(panel("orders"), ordersRegister(view)));
  calmly(panel("links"), () => fill(panel("link-list"), links(view)));
  calmly(panel("wish-review"), () => fill(panel("wish-queue"), wishReview(view)));
  calmly(panel("reports"), () => fill(panel("downloads"), downloads(view)));
  calmly(panel("supervision"), () => fill(panel("ratings-review"), ratingsReview(view)));
  if (!panel("imports").childElementCount) fill(panel("imports"), imports());
  fill(panel("schedule"), schedule(view));
  if (!panel("supervision").hidden && changed && changed.some((event) => event.type === "delivery.updated")) {
    clearTimeout(supervisionSoon);
    supervisionSoon = setTimeout(supervision, 500);
  }
  if (!panel("history").hidden && changed) {
    clearTimeout(historySoon);
    historySoon = setTimeout(() => history(), 1000);
  }
  if (!panel("coverage-tab").hidden) {
    clearTimeout(coverageSoon);
    coverageSoon = setTimeout(coverage, 1000);
  }
  if (!panel("reports").hidden && (!changed || changed.some((event) => event.type === "order.confirmed" || event.type === "order.voided" || event.type.startsWith("fair.")))) {
    clearTimeout(reportSoon);
    reportSoon = setTimeout(reportFigures, changed ? 1000 : 0);
  }
});
document.querySelector('[data-tab="reports"]').addEventListener("click", () => reportFigures());
