// What every screen shares: translations, formats, safe DOM building, and the live connection.
//
// The live connection keeps the screen's view as the server has it (docs/protocol.md):
// it syncs after every (re)connect from the last sequence number applied, applies the
// `live` messages of its rooms, and sends commands with request ids.  A command not
// yet answered stays pending, shown to the user, and is sent again with the same
// request id after a reconnect, so it lands exactly once.

const catalogue = JSON.parse(document.getElementById("catalogue").textContent);
export const locale = document.body.dataset.locale || "zh_CN";
const tag = locale === "en" ? "en-GB" : "zh-CN";
const RETRY_MS = 2000; // before asking again a server that answered `unavailable` (its database stalled)

/** A message in the screen's language; %(name)s placeholders are filled from params. */
export function t(msgid, params = {}) {
  const text = catalogue[msgid] || msgid;
  return text.replace(/%\((\w+)\)s/g, (_, key) => String(params[key] ?? ""));
}

const yuan = new Intl.NumberFormat(tag, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const whole = new Intl.NumberFormat(tag);
// A moment with its day: "12/07 23:19" in Chinese; in English the month by name ("7 Dec, 23:19"), since
// "07/12" reads as July to half the readers.
const clock = new Intl.DateTimeFormat(tag, locale === "en"
  ? { timeZone: "Asia/Shanghai", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }
  : { timeZone: "Asia/Shanghai", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
const hourOnly = new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Shanghai", hour: "2-digit", hourCycle: "h23" });

const clockOnly = new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
/** A time of the fair day, HH:MM in Asia/Shanghai. */
export const clockOf = (iso) => clockOnly.format(new Date(iso));

/** Money is integer fen; shown as ¥ with thousands separators. */
export const money = (fen) => "¥" + yuan.format(Math.trunc(fen) / 100);
export const count = (n) => whole.format(n);
const tenThousands = new Intl.NumberFormat(tag, { maximumFractionDigits: 1 });
/** Money as a board shows it from afar: ¥ in 万 (ten thousand yuan) once it is that large, in k in English. */
export function wan(fen) {
  const yuanAmount = Math.trunc(fen) / 100;
  if (yuanAmount < 10000) return money(fen);
  return locale === "en" ? `¥${tenThousands.format(yuanAmount / 1000)}k` : `¥${tenThousands.format(yuanAmount / 10000)}万`;
}
/** Times are UTC on the wire and shown in Asia/Shanghai. */
export const when = (iso) => clock.format(new Date(iso));
export const hourOf = (iso) => hourOnly.format(new Date(iso));
const dayOnly = new Intl.DateTimeFormat(tag, { timeZone: "Asia/Shanghai", year: "numeric", month: "long", day: "numeric", weekday: "short" });
/** A day of a calendar, with its weekday, in Asia/Shanghai. */
export const dayOf = (iso) => dayOnly.format(new Date(iso));

// The fair's words, as the server has them (fair/pages.py vocabulary_json): never copied into the scripts.
const vocabulary = JSON.parse(document.getElementById("vocabulary").textContent);
export const CATEGORIES = vocabulary.categories;
/** The districts, the city's teams ("市级") first. */
export const DISTRICTS = vocabulary.districts;
/** The unit a new offering of each category is sold in. */
export const UNITS = vocabulary.units;
export const TEAM_KINDS = vocabulary.team_kinds;
export const categoryName = (category) => ({
  performance: t("Performance"), training: t("Training"), lecture: t("Lecture"), exhibition: t("Exhibition"), books: t("Books"),
})[category] || category;
export const stateName = (state) => ({
  open: t("Open"), proposed: t("Proposed"), countered: t("Countered"), confirmed: t("Confirmed"),
  declined: t("Declined"), withdrawn: t("Withdrawn"), expired: t("Expired"),
})[state] || state;

/**
 * Build an element.  Text always goes in as text (never as HTML): what a user typed
 * cannot become markup.  `attrs` may hold `on*` handlers, `class`, `dataset` and properties.
 */
export function el(name, attrs = {}, ...children) {
  const node = document.createElement(name);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node && typeof node[key] !== "function") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/**
 * A <details> whose open state outlives the redraws live events make: `kept` holds the keys of those open.
 * Its toggle event comes a task after the tap; if an event redrew the screen meanwhile, the tap landed on
 * the element replaced, and the one now shown under the same key is made to match it.  A replaced element's
 * toggle that only says how it was built (one built open queues a toggle of its own) changes nothing.
 */
export function keptOpen(kept, key, attrs, ...children) {
  const built = kept.has(key);
  const classes = attrs.class.split(/\s+/);
  const details = el("details", { ...attrs, open: built, dataset: { ...attrs.dataset, kept: key },
    ontoggle: () => {
      if (!details.isConnected && details.open === built) return;
      if (details.open) kept.add(key);
      else kept.delete(key);
      if (details.isConnected) return;
      for (const shown of document.querySelectorAll(`details[data-kept="${CSS.escape(String(key))}"]`)) {
        if (classes.every((name) => shown.classList.contains(name))) shown.open = details.open;
      }
    } }, ...children);
  return details;
}

/** Replace a container's content. */
export function fill(container, ...children) {
  container.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

/**
 * A bar chart as plain HTML: one row per item, the bar's length its share of the largest value (a CSS
 * variable, set through the CSSOM, which the content security policy allows), and the figure beside it.
 */
export function bars(rows, { label, value, figure }) {
  const largest = Math.max(1, ...rows.map(value));
  return el("ol", { class: "bars" }, rows.map((row) => {
    const bar = el("span", { class: "bar-fill" });
    bar.style.setProperty("--share", String(value(row) / largest));
    return el("li", {}, el("span", { class: "bar-label" }, label(row)), el("span", { class: "bar-track" }, bar),
      el("span", { class: "bar-figure" }, figure(row)));
  }));
}

/** A short message at the foot of the screen. */
export function toast(text, kind = "info") {
  let shelf = document.getElementById("toasts");
  if (!shelf) {
    shelf = el("div", { id: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(shelf);
  }
  const note = el("div", { class: `toast ${kind}` }, text);
  shelf.append(note);
  setTimeout(() => note.remove(), kind === "error" ? 8000 : 4000);
}

/** A refusal noted on a negotiation (code, msgid, params), in the screen's language. */
export function noted(record) {
  const params = {};
  for (const [key, value] of Object.entries(record.params || {})) {
    params[key] = key.endsWith("_fen") ? money(value) : key.endsWith("_label") ? t(value) : key.endsWith("_day") ? dayOf(value) : value;
  }
  return t(record.msgid, params);
}

/** Why something is recommended: its reasons (msgid and parameters, from the server) in one line, those
 * against it (an offering the budget cannot pay) set apart. */
export function reasonLine(reasons) {
  return reasons.flatMap((reason, index) => [index ? " · " : "", reason.against ? el("span", { class: "against" }, noted(reason)) : noted(reason)]);
}

/** The error of a refused command, in the screen's language. */
export const refusal = (ack) => (ack && ack.error ? ack.error.message : t("Something went wrong on our side."));

function upsertBy(key, items, item, order) {
  const kept = items.filter((existing) => existing[key] !== item[key]);
  kept.push(item);
  return kept.sort(order);
}
const upsert = (items, item, order) => upsertBy("id", items, item, order);
const byId = (a, b) => a.id - b.id;
const byIdDescending = (a, b) => b.id - a.id;
const byActivity = (a, b) => (a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : b.id - a.id);
const bySupport = (a, b) => b.supports - a.supports || a.id - b.id;
const byTime = (a, b) => (a.starts_at < b.starts_at ? -1 : a.starts_at > b.starts_at ? 1 : a.id - b.id);

/** A negotiation from an event, with the thread the screen holds: a new version of the terms appended. */
function threaded(view, negotiation) {
  const held = view.negotiations.find((n) => n.id === negotiation.id);
  let history = held ? held.history : [];
  const terms = negotiation.terms;
  if (terms && (!history.length || history[history.length - 1].version < terms.version)) history = [...history, terms];
  return { ...negotiation, history, messages: held ? held.messages : [] };
}

/** Apply one event to a view: the same rules as tests/screens.py. */
export function apply(view, event) {
  const { type, data } = event;
  const role = view.role;
  if (type.startsWith("fair.")) view.fair = data.fair;
  else if (type === "supplier.updated") {
    if (role === "organiser") view.suppliers = upsert(view.suppliers, data.supplier, (a, b) => (a.booth < b.booth ? -1 : 1));
    else view.me = data.supplier;
  } else if (type === "team.updated") {
    if (role === "organiser") view.teams = upsert(view.teams, data.team, byId);
    else view.me = data.team;
  } else if (type.startsWith("offering.")) {
    const offering = data.offering;
    const keeps = role === "organiser" || (role === "supplier" && offering.supplier_id === view.me.id);
    if (offering.status === "withdrawn" && !keeps) view.offerings = view.offerings.filter((o) => o.id !== offering.id);
    else view.offerings = upsert(view.offerings, offering, byId);
  } else if (type === "negotiation.updated") {
    view.negotiations = upsert(view.negotiations, threaded(view, data.negotiation), byActivity);
  } else if (type === "negotiation.message") {
    for (const negotiation of view.negotiations) {
      if (negotiation.id === data.negotiation_id) negotiation.messages = [...negotiation.messages, data.message];
    }
  } else if (type === "order.confirmed" || type === "order.voided") {
    const sold = data.offering;
    const taken = sold.taken_dates || [];
    const freed = sold.freed_dates || [];
    for (const offering of view.offerings) {
      if (offering.id !== sold.id) continue;
      offering.sold = sold.sold;
      offering.remaining = sold.remaining;
      offering.dates = offering.dates.map((d) => (taken.includes(d.day) || freed.includes(d.day) ? { ...d, free: freed.includes(d.day) } : d));
    }
    if (data.order) view.orders = upsert(view.orders, data.order, byIdDescending);
    if (data.budget) {
      if (role === "team") view.me.budget = data.budget;
      else for (const team of view.teams) if (team.id === data.order.team_id) team.budget = data.budget;
    }
  } else if (type === "order.paid") view.orders = upsert(view.orders, data.order, byIdDescending);
  else if (type.startsWith("access.")) view.credentials = upsert(view.credentials, data.credential, byId);
  else if (type === "wish.updated" && role !== "public") {  // the board holds no wishes: it reads its targets again
    const wish = data.wish;
    if (role === "organiser" || wish.status === "approved") view.wishes = upsert(view.wishes, wish, bySupport);
    else view.wishes = view.wishes.filter((w) => w.id !== wish.id);
  } else if (type === "shortlist.updated") {
    if (data.item) view.shortlist = upsertBy("offering_id", view.shortlist, data.item, (a, b) => a.offering_id - b.offering_id);
    else view.shortlist = view.shortlist.filter((i) => i.offering_id !== data.removed.offering_id);
  } else if (type === "slot.updated") view.slots = upsert(view.slots, data.slot, byTime);
  else if (type === "appointment.updated") view.appointments = upsert(view.appointments, data.appointment, byTime);
  else if (type === "announcement.updated") {
    const notice = data.announcement;
    view.announcements = view.announcements.filter((a) => a.id !== notice.id);
    if (role === "organiser" || !notice.withdrawn) view.announcements = upsert(view.announcements, notice, (a, b) => b.id - a.id);
  } else if (type === "venue.updated") view.venues = upsert(view.venues, data.venue, byId);
  else if (type === "delivery.updated") {
    if (data.delivery) view.deliveries = upsert(view.deliveries, data.delivery, byTime); // the public's: seats only
  }
  else if (type === "rating.updated") view.resident_ratings = upsert(view.resident_ratings, data.rating, byIdDescending);
  else if (type === "score.updated") view.scores = upsertBy("supplier_id", view.scores, data.score, (a, b) => a.supplier_id - b.supplier_id);
  else if (type === "queue.updated") {
    const stats = { supplier_id: data.supplier_id, serving: data.serving, waiting: data.waiting };
    view.queues = view.queues.filter((q) => q.supplier_id !== stats.supplier_id);
    if (stats.waiting || stats.serving !== null) view.queues = upsertBy("supplier_id", view.queues, stats, (a, b) => a.supplier_id - b.supplier_id);
    if (role === "supplier" && data.tickets) view.queue = { ...stats, tickets: data.tickets };
    if (role === "team" && data.ticket) {
      view.tickets = view.tickets.filter((t) => t.id !== data.ticket.id);
      if (data.ticket.state === "waiting" || data.ticket.state === "called") {
        view.tickets = upsert(view.tickets, data.ticket, (a, b) => a.supplier_id - b.supplier_id);
      }
    }
  }
}

/**
 * Bring a tally up to a `tally_patch` (the figures that changed, as values; the orders new on the ticker),
 * in place, as fair/core/tally.py `patched` does. False when the tally is older than the patch's base: a message
 * was missed, so sync again.
 */
export function patchTally(tally, patch) {
  if (tally.seq >= patch.seq) return true;
  if (tally.seq < patch.from) return false;
  const overlay = (into, figures) => {
    for (const [key, value] of Object.entries(figures)) {
      if (value !== null && typeof value === "object") {
        into[key] ??= {};
        overlay(into[key], value);
      } else into[key] = value;
    }
  };
  overlay(tally, patch.figures);
  const byId = new Map([...tally.latest, ...patch.latest].map((order) => [order.id, order]));
  tally.latest = [...byId.values()].sort((a, b) => b.id - a.id).slice(0, patch.keep);
  tally.seq = patch.seq;
  return true;
}

function deviceId() {
  let id = localStorage.getItem("fair.device");
  if (!id) {
    id = Math.random().toString(36).slice(2, 10);
    localStorage.setItem("fair.device", id);
  }
  return id;
}

/** The button last pressed, so that the command it starts can hold it until answered (no double taps). */
let pressed = null;
document.addEventListener("click", (event) => {
  pressed = event.target instanceof Element ? event.target.closest("button") : null;
  queueMicrotask(() => queueMicrotask(() => (pressed = null))); // only the command started by this very click
}, true);

/**
 * Register the service worker (static/js/sw.js), and once it controls this page, fetch the page and every file
 * it loaded again through it, so that the very first visit is kept too: a tablet reloaded without network
 * after one visit still opens. Resolves when done (the browser tests wait for it); never rejects.
 */
async function keepShell() {
  if (!("serviceWorker" in navigator)) return false;
  try {
    await navigator.serviceWorker.register("/sw.js");
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((done) => navigator.serviceWorker.addEventListener("controllerchange", done, { once: true }));
    }
    const files = performance.getEntriesByType("resource").map((entry) => new URL(entry.name))
      .filter((url) => url.origin === location.origin && url.pathname.startsWith("/static/"));
    await Promise.all([location.pathname, ...files.map((url) => url.pathname + url.search)]
      .map((path) => fetch(path, { credentials: "same-origin" }).catch(() => null)));
    return true;
  } catch {
    return false;
  }
}

// Where a screen keeps its last view (``Live`` with `keep`); joining with a card forgets every one (join.js).
export const KEPT_VIEW = "fair.view.";
const KEEP_EVERY_MS = 2000;

export class Live {
  /** `as`: "resident" on the wishes page, where a phone may wish and support (it carries the fair's cookie).
   * `keep`: keep the last view on the device, and show it after a reload without network, marked with its time,
   * until the server sends a fresh one (a tablet and a booth: their budget and negotiations, not an empty page). */
  constructor({ as, keep = false } = {}) {
    this.view = null;
    this.cursor = null;
    this.kept = keep ? `${KEPT_VIEW}${location.pathname}` : null;
    this.keptAt = null; // the time of the kept view shown, until a fresh one comes
    this.saving = null;
    if (this.kept) {
      try {
        const stored = JSON.parse(localStorage.getItem(this.kept) || "null");
        if (stored && stored.view) [this.view, this.keptAt] = [stored.view, stored.at];
      } catch {
        localStorage.removeItem(this.kept);
      }
    }
    this.synced = false;
    this.ended = false; // the server refused this screen's session: nothing will bring it back
    this.buffer = [];
    this.watchers = [];
    this.fresh = new Set(); // offerings published or spotlighted while this screen watched
    this.counter = 0;
    this.device = deviceId();
    this.store = `fair.pending.${location.pathname}`;
    this.pending = JSON.parse(localStorage.getItem(this.store) || "[]");
    this.answers = new Map(); // request id -> resolve
    this.indicator = document.getElementById("connection");
    this.socket = io({ transports: ["websocket"], auth: as ? { locale, as } : { locale }, reconnectionDelayMax: 3000 });
    this.socket.on("connect", () => this.sync());
    this.socket.on("disconnect", (reason) => {
      this.synced = false;
      this.status();
      // The server itself sent this screen away (a revoked card, a device signed out): ask once more to learn why.
      if (reason === "io server disconnect") this.socket.connect();
    });
    this.socket.on("connect_error", (error) => {
      this.status();
      if (error && error.data && error.data.code === "forbidden") this.end(error.message);
      // Refused for a stalled database: socket.io does not retry a refusal by itself.
      else if (error && error.data && error.data.code === "unavailable") setTimeout(() => this.socket.connect(), RETRY_MS);
      else if (error && error.data && error.data.code) toast(error.message, "error");
    });
    this.socket.on("live", (message) => (this.synced ? this.take(message) : this.buffer.push(message)));
    window.addEventListener("online", () => this.status());
    window.addEventListener("offline", () => this.status());
    // The view as this screen holds it, for the browser tests (which compare it with the server's, field by
    // field) and for whoever looks at a tablet's state in the developer tools.
    window.fairView = () => this.view;
    window.fairShellKept = keepShell(); // offline reloads (resolves when this page and its files are kept)
    this.status();
  }

  /** Ask the server for something that is not part of the view (recommendations, coverage); resolves with its ack. */
  async read(name, payload = {}) {
    const offline = { ok: false, error: { code: "offline", message: t("Offline: this needs the network, and comes back with it.") } };
    if (!this.socket.connected) return offline; // not queued for later: the screen says so now
    try {
      return await this.socket.timeout(10000).emitWithAck(name, payload);
    } catch {
      return offline;
    }
  }

  /** Call `watcher(view, changed)` now and after every change. */
  watch(watcher) {
    this.watchers.push(watcher);
    if (this.view) watcher(this.view, null);
  }

  /** The connection as the socket has it, never as a pending action would like it; and what waits to be sent. */
  status() {
    const state = !navigator.onLine || !this.socket.connected ? "offline" : this.synced ? "online" : "connecting";
    this.indicator.dataset.state = state;
    const pending = this.pending.length;
    const offline = this.keptAt ? t("Offline · data of %(time)s", { time: when(this.keptAt) })
      : document.body.classList.contains("board") ? t("Reconnecting: the figures may be behind") : t("Offline: reconnecting…");
    const label = { online: t("Connected"), offline, connecting: this.keptAt ? offline : t("Connecting…") }[state];
    this.indicator.textContent = pending ? [label, t("%(count)s pending", { count: pending })].join(" · ") : label;
    const shelf = document.getElementById("pending");
    if (shelf) {
      shelf.hidden = pending === 0;
      fill(shelf.querySelector("ul"), this.pending.map((entry) => el("li", {}, entry.label)));
    }
  }

  /** This screen's session is over (its card revoked, its device signed out): say so, and forget what it showed. */
  end(reason) {
    if (this.ended) return;
    this.ended = true;
    this.socket.disconnect();
    this.view = null;
    this.pending = [];
    localStorage.removeItem(this.store);
    if (this.kept) localStorage.removeItem(this.kept);
    const organiser = document.body.classList.contains("console");
    fill(document.querySelector("main"), el("section", { class: "ended", role: "alert" },
      el("h1", {}, organiser ? t("You are signed out") : t("This card no longer works on this device")),
      el("p", {}, reason),
      el("p", {}, organiser
        ? t("Sign in again to go on.")
        : t("The organiser revoked the card or signed this device out. Ask the organiser's desk for a new card, then scan it or type its code.")),
      el("p", {}, el("a", { class: "button primary", href: organiser ? "/login" : "/join" }, organiser ? t("Sign in") : t("Join with a card")))));
    document.getElementById("pending").hidden = true;
    this.indicator.hidden = true;
  }

  async sync() {
    this.synced = false;
    this.status();
    let reply;
    try {
      reply = await this.socket.timeout(15000).emitWithAck("sync", { since: this.cursor });
    } catch {
      this.socket.disconnect().connect(); // no answer: start over
      return;
    }
    if (!reply.ok) {
      if (reply.error.code === "forbidden") this.end(reply.error.message);
      // The database stalled (the server said so within its timeout): ask again in a moment.
      else if (reply.error.code === "unavailable") setTimeout(() => this.socket.connected && this.sync(), RETRY_MS);
      return;
    }
    const data = reply.data;
    this.keptAt = null; // fresh from here on
    if (data.mode === "view") this.view = data.view;
    else {
      for (const event of data.events) if (event.seq > this.cursor) this.note(event);
      this.view.tally = data.tally;
    }
    this.cursor = data.upto;
    this.synced = true;
    const held = this.buffer;
    this.buffer = [];
    for (const message of held) this.take(message, false);
    this.status();
    this.changed(null);
    for (const entry of [...this.pending]) this.send(entry);
  }

  note(event) {
    apply(this.view, event);
    if (event.type === "offering.published" || event.type === "offering.spotlighted") this.fresh.add(event.data.offering.id);
  }

  take(message, announce = true) {
    const shown = message.events.filter((event) => event.seq > this.cursor);
    for (const event of shown) this.note(event);
    if (message.tally && message.tally.seq >= this.view.tally.seq) this.view.tally = message.tally;
    const behind = message.tally_patch && !patchTally(this.view.tally, message.tally_patch);
    this.cursor = Math.max(this.cursor, message.upto);
    if (announce) this.changed(shown);
    if (behind) this.sync(); // a message was missed: the sync's answer brings the whole tally
  }

  changed(events) {
    for (const watcher of this.watchers) watcher(this.view, events);
    fairState(this.view.fair);
    if (this.view.announcements && !document.body.classList.contains("console")) announcements(this.view.announcements);
    if (this.kept && this.synced && !this.saving) this.saving = setTimeout(() => this.keepView(), KEEP_EVERY_MS);
  }

  /** Keep the view on the device, at most every few seconds: what a reload without network shows. */
  keepView() {
    this.saving = null;
    if (!this.kept || !this.view || this.ended) return;
    try {
      localStorage.setItem(this.kept, JSON.stringify({ view: this.view, at: new Date().toISOString() }));
    } catch {
      localStorage.removeItem(this.kept); // full: better no copy than a stale one
    }
  }

  /**
   * Send a command; resolves with its ack.  Unanswered, it stays pending and is sent again after a reconnect.
   * The same command, already pending, is not sent twice (a double tap): its answer is shared; and the button
   * that started it waits for it.
   */
  command(name, payload, label) {
    const same = JSON.stringify([name, payload]);
    const twin = this.pending.find((entry) => JSON.stringify([entry.name, entry.payload]) === same);
    if (twin && this.answers.has(twin.request_id)) return this.answers.get(twin.request_id).promise;
    const entry = { name, payload, label, request_id: `${this.device}-${Date.now().toString(36)}-${this.counter++}` };
    this.pending.push(entry);
    this.save();
    let resolve;
    const promise = new Promise((done) => (resolve = done));
    this.answers.set(entry.request_id, { resolve, promise });
    const button = pressed;
    if (button) {
      button.disabled = true;
      promise.then(() => (button.disabled = false));
    }
    if (this.synced) this.send(entry);
    else this.status();
    return promise;
  }

  send(entry) {
    this.status();
    this.socket.timeout(10000).emit(entry.name, { request_id: entry.request_id, payload: entry.payload }, (error, ack) => {
      if (error) return; // no answer: still pending, sent again after the next sync
      if (!ack.ok && ack.error.code === "unavailable") {
        // The database stalled: nothing is known of the outcome, so the same request id goes again, later.
        setTimeout(() => this.synced && this.pending.includes(entry) && this.send(entry), RETRY_MS);
        return;
      }
      this.pending = this.pending.filter((e) => e.request_id !== entry.request_id);
      this.save();
      this.status();
      const waiting = this.answers.get(entry.request_id);
      this.answers.delete(entry.request_id);
      if (waiting) waiting.resolve(ack);
      else if (!ack.ok) toast(`${entry.label}: ${refusal(ack)}`, "error"); // answered after a reload
    });
  }

  save() {
    localStorage.setItem(this.store, JSON.stringify(this.pending));
  }
}

const READ_NOTICES = "fair.read-announcements";

/**
 * The organiser's announcements, newest first, under the header of every screen meant to read them: the
 * newest in full (the board's banner), the others one tap away.  A tablet, a booth or a phone may put the newest
 * away once read ("知道了", remembered on this device): it joins the earlier ones; the board has nobody to tap.
 */
function announcements(notices) {
  let shelf = document.getElementById("announcements");
  if (!shelf) {
    shelf = el("section", { id: "announcements", class: "announcements", "aria-live": "polite", "aria-label": t("Announcements") });
    document.querySelector("main").before(shelf);
  }
  const wall = document.body.classList.contains("board");
  const read = new Set(wall ? [] : JSON.parse(localStorage.getItem(READ_NOTICES) || "[]"));
  const latest = notices.find((notice) => !read.has(notice.id));
  const earlier = notices.filter((notice) => notice !== latest);
  shelf.hidden = notices.length === 0;
  if (!notices.length) return fill(shelf);
  const putAway = () => {
    const kept = notices.map((notice) => notice.id).filter((id) => read.has(id) || id === latest.id);
    localStorage.setItem(READ_NOTICES, JSON.stringify(kept)); // only the ids still shown: the list stays short
    announcements(notices);
  };
  fill(shelf,
    latest ? el("p", { class: "latest", title: latest.text }, el("strong", {}, t("Announcement")), " ", latest.text, el("small", {}, " · ", when(latest.created_at)),
      wall ? null : el("button", { type: "button", class: "dismiss", onclick: putAway }, t("Got it"))) : null,
    earlier.length ? el("details", {}, el("summary", {}, t("%(count)s earlier", { count: earlier.length })),
      el("ul", { class: "plain" }, earlier.map((notice) => el("li", {}, notice.text, el("small", {}, " · ", when(notice.created_at)))))) : null);
}

/**
 * The fair's state on every screen: a banner when it is not open, and the buttons that need it open
 * (`data-needs="open"`) or not yet closed (`data-needs="live"`) disabled when it cannot be done.
 */
function fairState(fair) {
  document.body.dataset.fair = fair.state;
  let banner = document.getElementById("fair-banner");
  const text = {
    setup: t("The fair has not opened yet."),
    preview: t("Preview: browse, shortlist and book meetings; orders are confirmed once the fair opens."),
    closed: t("The fair is closed: these are its final figures. Nothing more can be ordered."),
  }[fair.state];
  if (!banner) {
    banner = el("p", { id: "fair-banner", class: "fair-banner", role: "status" });
    document.querySelector("main").before(banner);
  }
  banner.hidden = !text;
  banner.textContent = text || "";
  for (const button of document.querySelectorAll("[data-needs]")) {
    const possible = button.dataset.needs === "open" ? fair.state === "open" : fair.state !== "closed";
    if (!possible) button.disabled = true;
  }
}

/**
 * Tabs, as the WAI-ARIA tabs pattern has them: buttons with data-tab show the section of the same id;
 * one tab is in the keyboard's order at a time, and the arrow keys, Home and End move between them.
 */
export function tabs(root) {
  const buttons = [...root.querySelectorAll("[data-tab]")];
  root.setAttribute("role", "tablist");
  for (const button of buttons) {
    const panel = document.getElementById(button.dataset.tab);
    button.id = `tab-${button.dataset.tab}`;
    button.setAttribute("role", "tab");
    button.setAttribute("aria-controls", panel.id);
    panel.setAttribute("role", "tabpanel");
    panel.setAttribute("aria-labelledby", button.id);
  }
  const show = (name) => {
    for (const button of buttons) {
      const on = button.dataset.tab === name;
      button.setAttribute("aria-selected", String(on));
      button.tabIndex = on ? 0 : -1;
      document.getElementById(button.dataset.tab).hidden = !on;
    }
  };
  for (const button of buttons) {
    button.addEventListener("click", () => show(button.dataset.tab));
    button.addEventListener("keydown", (event) => {
      const at = buttons.indexOf(button);
      const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: buttons.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      const target = buttons[(next + buttons.length) % buttons.length];
      show(target.dataset.tab);
      target.focus();
    });
  }
  show(buttons[0].dataset.tab);
}

/** A link to an order's printable confirmation (订单确认书). */
export function confirmationLink(order) {
  return el("a", { href: `/orders/${order.id}/confirmation`, target: "_blank", rel: "noopener", class: "confirmation-link" }, t("Confirmation"));
}

/** Links to a statement's downloads; `query` narrows it for the organiser ("?team=3"). */
export function statementLinks(query = "") {
  return [el("a", { class: "button", href: `/export/statement.xlsx${query}`, download: "" }, t("Statement (XLSX)")),
    el("a", { class: "button", href: `/export/statement.csv${query}`, download: "" }, "CSV")];
}

/** An order voided by the organiser: struck through where it is listed, with the reason beside it. */
export function voidedNote(order) {
  return order.voided_at ? el("small", { class: "voided" }, " ", t("Voided: %(reason)s", { reason: order.void_reason })) : null;
}

/** Redraw a panel now, unless someone is typing in it: then as soon as they leave it (the caret is never lost). */
export function calmly(panel, draw) {
  panel.redraw = draw;
  if (!panel.dataset.calm) {
    panel.dataset.calm = "1";
    panel.addEventListener("focusout", (event) => {
      if (panel.dataset.stale && !panel.contains(event.relatedTarget)) setTimeout(() => calmly(panel, panel.redraw), 0);
    });
  }
  const active = document.activeElement;
  if (panel.contains(active) && active.matches("input, select, textarea")) {
    panel.dataset.stale = "1";
    return;
  }
  delete panel.dataset.stale;
  draw();
}
