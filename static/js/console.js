// The organiser's console: open and close the fair, approve, set budgets and the subsidy,
// manage join links, and watch the analytics.
import {
  CATEGORIES, DISTRICTS, Live, bars, categoryName, clockOf, count, el, fill, hourOf, money, refusal, t, tabs, toast, when,
} from "./core.js";

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

function glance(view) {
  const open = view.negotiations.filter((n) => ["open", "proposed", "countered"].includes(n.state)).length;
  const figure = (label, value) => el("div", { class: "figure" }, el("span", {}, label), el("strong", {}, value));
  return el("div", { class: "glance" },
    figure(t("Orders"), count(view.tally.total.orders)),
    figure(t("Total"), money(view.tally.total.amount_fen)),
    figure(t("Open negotiations"), count(open)),
    figure(t("Approved suppliers"), `${view.suppliers.filter((s) => s.approved).length} / ${view.suppliers.length}`),
    figure(t("Approved teams"), `${view.teams.filter((team) => team.approved).length} / ${view.teams.length}`));
}

function setup(view) {
  const fair = view.fair;
  const rate = el("input", { type: "number", min: 0, max: 100, step: "0.01", value: (fair.subsidy_rate_bp / 100).toFixed(2), name: "rate" });
  const pool = el("input", { type: "number", min: 0, step: "0.01", value: (fair.subsidy_pool_fen / 100).toFixed(2), name: "pool" });
  const stateLabel = { setup: t("In setup"), preview: t("In preview"), open: t("Open"), closed: t("Closed") }[fair.state];
  const grace = el("input", { type: "number", min: 1, max: 60, step: 1, value: fair.queue_grace_minutes, name: "grace" });
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
      } }, t("Close the fair")) : null),
    el("form", { class: "inline-form", onsubmit: (event) => {
      event.preventDefault();
      act("fair.configure", { subsidy_rate_bp: Math.round(Number.parseFloat(rate.value) * 100), subsidy_pool_fen: Math.round(Number.parseFloat(pool.value) * 100) },
        t("Subsidy"), t("Saved."));
    } },
    el("h3", {}, t("Subsidy for self-funded orders")),
    el("label", {}, t("Rate (%)"), rate), el("label", {}, t("Pool (¥)"), pool),
    el("button", { type: "submit" }, t("Save")),
    el("p", { class: "muted" }, t("Granted so far: %(used)s", { used: money(fair.subsidy_used_fen) }))),
    el("form", { class: "inline-form", onsubmit: (event) => {
      event.preventDefault();
      act("fair.configure", { queue_grace_minutes: Number.parseInt(grace.value, 10) }, t("Queues"), t("Saved."));
    } },
    el("h3", {}, t("Queues at the booths")),
    el("label", {}, t("Minutes a called team has to come"), grace),
    el("button", { type: "submit" }, t("Save"))),
  ];
}

const STATUS = () => ({ pending: t("Waiting"), approved: t("Public"), rejected: t("Rejected"), merged: t("Merged") });

/** The wishes to moderate (waiting first), and the public ones with what answered them. */
function wishReview(view) {
  const pending = view.wishes.filter((w) => w.status === "pending");
  const others = view.wishes.filter((w) => w.status !== "pending");
  document.getElementById("pending-wishes").textContent = pending.length ? String(pending.length) : "";
  const approved = view.wishes.filter((w) => w.status === "approved");
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
      el("td", {}, wish.text, wish.reason ? el("p", { class: "muted" }, wish.reason) : null),
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
  const ack = await live.read("coverage");
  if (number !== coverageAsked || !ack.ok) return;
  const { streets, unanswered } = ack.data;
  const missing = streets.filter((street) => street.reached.length < CATEGORIES.length);
  fill(document.getElementById("coverage-panel"), [
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
document.querySelector('[data-tab="coverage-tab"]').addEventListener("click", () => coverage());

function participants(view) {
  const approve = (kind, id, approved, name) => el("input", { type: "checkbox", checked: approved, "aria-label": t("Approved"),
    onchange: (event) => act(`${kind}.approve`, { [`${kind}_id`]: id, approved: event.target.checked }, t("Approve: %(name)s", { name }), t("Saved.")) });
  return [
    el("h2", {}, t("Buyer teams")),
    el("table", { class: "register" },
      el("thead", {}, el("tr", {}, [t("Team"), t("Kind"), t("District"), t("Approved"), t("Budget (¥)"), t("Spent"), t("Left")].map((h) => el("th", {}, h)))),
      el("tbody", {}, view.teams.map((team) => {
        const budget = el("input", { type: "number", min: 0, step: "0.01", value: (team.budget.budget_fen / 100).toFixed(2), class: "money-input",
          "aria-label": t("Budget of %(name)s (¥)", { name: team.name }) });
        return el("tr", { dataset: { team: team.id } },
          el("td", {}, team.name), el("td", {}, kindName(team.kind)), el("td", {}, team.district),
          el("td", {}, approve("team", team.id, team.approved, team.name)),
          el("td", {}, el("form", { class: "inline", onsubmit: (event) => {
            event.preventDefault();
            act("team.set_budget", { team_id: team.id, budget_fen: Math.round(Number.parseFloat(budget.value) * 100) }, t("Budget: %(name)s", { name: team.name }), t("Saved."));
          } }, budget, el("button", { type: "submit" }, t("Set")))),
          el("td", { class: "num" }, money(team.budget.spent_fen)), el("td", { class: "num" }, money(team.budget.remaining_fen)));
      }))),
    el("h2", {}, t("Suppliers")),
    el("table", { class: "register" },
      el("thead", {}, el("tr", {}, [t("Booth"), t("Supplier"), t("Approved")].map((h) => el("th", {}, h)))),
      el("tbody", {}, view.suppliers.map((s) => el("tr", {}, el("td", {}, s.booth), el("td", {}, s.name), el("td", {}, approve("supplier", s.id, s.approved, s.name)))))),
  ];
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
    if (current) fill(document.getElementById("link-list"), links(current));
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

let linkFilter = "";

function links(view) {
  const party = el("select", { name: "party" },
    el("option", { value: "projector:" }, t("Projector")),
    view.suppliers.map((s) => el("option", { value: `supplier:${s.id}` }, [t("Booth"), s.booth, s.name].join(" "))),
    view.teams.map((tm) => el("option", { value: `team:${tm.id}` }, [t("Buyer team"), tm.name].join(" "))));
  return [
    el("form", { class: "inline-form", onsubmit: (event) => {
      event.preventDefault();
      const [chosenKind, id] = party.value.split(":");
      actOnAccess("access.issue", { kind: chosenKind, party_id: id ? Number(id) : null, label: "" }, t("Issue a join link"), t("Issued: print it from the list."));
    } }, el("label", {}, t("New join link for"), party), el("button", { type: "submit" }, t("Issue")),
    el("label", {}, t("Find"), el("input", { type: "search", value: linkFilter, placeholder: t("A booth or team"),
      oninput: (event) => { linkFilter = event.target.value.trim(); fill(document.getElementById("link-table"), linkTable(current)); } })),
    el("button", { type: "button", id: "refresh-devices", onclick: refreshRegister }, t("Refresh the devices"))),
    whoIsIn && whoIsIn.cards_expire_at ? el("p", { class: "muted" }, t("The cards stop working at %(time)s.", { time: when(whoIsIn.cards_expire_at) })) : null,
    el("div", { id: "link-table" }, linkTable(view)),
    organisers(),
  ];
}

/** The join links, those matching the search only. */
function linkTable(view) {
  const names = new Map([...view.suppliers.map((s) => [`supplier:${s.id}`, `${s.booth} ${s.name}`]), ...view.teams.map((tm) => [`team:${tm.id}`, tm.name])]);
  const kind = { supplier: t("Booth"), team: t("Buyer team"), projector: t("Projector") };
  const cards = new Map(whoIsIn ? whoIsIn.cards.map((c) => [c.credential_id, c]) : []);
  return el("table", { class: "register" },
      el("thead", {}, el("tr", {}, [t("No."), t("Kind"), t("For"), t("Issued"), t("State"), t("Devices signed in"), ""].map((h) => el("th", {}, h)))),
      el("tbody", {}, view.credentials.filter((c) => !linkFilter || (names.get(`${c.kind}:${c.party_id}`) || c.label).includes(linkFilter))
        .map((c) => el("tr", { dataset: { credential: c.id } },
          el("td", {}, String(c.id)), el("td", {}, kind[c.kind]), el("td", {}, names.get(`${c.kind}:${c.party_id}`) || c.label),
          el("td", {}, when(c.created_at)),
          el("td", {}, c.revoked ? t("Revoked") : t("Valid")),
          el("td", {}, c.revoked ? null : devicesOf(cards.get(c.id))),
          el("td", {}, c.revoked ? null : el("menu", { class: "actions" },
            el("a", { class: "button", href: `/console/cards?card=${c.id}`, target: "_blank", rel: "noopener" }, t("Print this card")),
            el("button", { type: "button", class: "danger", onclick: () => {
              if (window.confirm(t("Revoke this join link? Screens using it are signed out at once."))) actOnAccess("access.revoke", { credential_id: c.id }, t("Revoke a join link"), t("Revoked."));
            } }, t("Revoke"))))))));
}

function analytics(view) {
  const hours = new Map();
  for (const order of view.orders) hours.set(hourOf(order.confirmed_at), (hours.get(hourOf(order.confirmed_at)) || 0) + 1);
  const labels = [...hours.keys()].sort();
  fill(document.getElementById("hour-chart"), labels.length
    ? bars(labels, { label: (hour) => `${hour}:00`, value: (hour) => hours.get(hour), figure: (hour) => count(hours.get(hour)) })
    : el("p", { class: "empty" }, t("No orders yet.")));
  const tally = view.tally;
  fill(document.getElementById("by-category"), el("table", { class: "register" },
    el("thead", {}, el("tr", {}, [t("Category"), t("Orders"), t("Units"), t("Amount")].map((h) => el("th", {}, h)))),
    el("tbody", {}, CATEGORIES.map((c) => el("tr", {}, el("td", {}, categoryName(c)), el("td", { class: "num" }, count(tally.by_category[c].orders)),
      el("td", { class: "num" }, count(tally.by_category[c].units)), el("td", { class: "num" }, money(tally.by_category[c].amount_fen)))))));
  fill(document.getElementById("by-district"), el("table", { class: "register" },
    el("thead", {}, el("tr", {}, [t("District"), t("Orders"), t("Amount")].map((h) => el("th", {}, h)))),
    el("tbody", {}, DISTRICTS.map((d) => el("tr", {}, el("td", {}, d), el("td", { class: "num" }, count(tally.by_district[d].orders)),
      el("td", { class: "num" }, money(tally.by_district[d].amount_fen)))))));
  const left = view.teams.filter((team) => team.budget.remaining_fen > 0).sort((a, b) => b.budget.remaining_fen - a.budget.remaining_fen);
  fill(document.getElementById("budget-left"), el("table", { class: "register" },
    el("thead", {}, el("tr", {}, [t("Team"), t("Left"), t("Of")].map((h) => el("th", {}, h)))),
    el("tbody", {}, left.map((team) => el("tr", {}, el("td", {}, team.name), el("td", { class: "num" }, money(team.budget.remaining_fen)),
      el("td", { class: "num" }, money(team.budget.budget_fen)))))));
}

live.watch((view, changed) => {
  current = view;
  if (whoIsIn === null || (changed && changed.some((event) => event.type.startsWith("access.")))) refreshRegister();
  document.getElementById("fair-name").textContent = view.fair.name;
  fill(document.getElementById("setup"), setup(view));
  // Re-render the register only when nobody is typing in it, so a budget being entered is not wiped.
  const register = document.getElementById("participants");
  const typing = register.contains(document.activeElement) && document.activeElement.matches("input[type=number]");
  if (!typing) fill(register, participants(view));
  const linkList = document.getElementById("link-list");
  const editing = linkList.contains(document.activeElement) && document.activeElement.matches("input");
  if (!editing) fill(linkList, links(view));
  analytics(view);
  const review = document.getElementById("wish-review");
  if (!review.contains(document.activeElement)) fill(document.getElementById("wish-queue"), wishReview(view));
  fill(document.getElementById("schedule"), schedule(view));
  if (!document.getElementById("coverage-tab").hidden) {
    clearTimeout(coverageSoon);
    coverageSoon = setTimeout(coverage, 1000);
  }
});
