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

/** A message in the screen's language; %(name)s placeholders are filled from params. */
export function t(msgid, params = {}) {
  const text = catalogue[msgid] || msgid;
  return text.replace(/%\((\w+)\)s/g, (_, key) => String(params[key] ?? ""));
}

const yuan = new Intl.NumberFormat(tag, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const whole = new Intl.NumberFormat(tag);
const clock = new Intl.DateTimeFormat(tag, {
  timeZone: "Asia/Shanghai", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
});
const hourOnly = new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Shanghai", hour: "2-digit", hourCycle: "h23" });

const clockOnly = new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
/** A time of the fair day, HH:MM in Asia/Shanghai. */
export const clockOf = (iso) => clockOnly.format(new Date(iso));

/** Money is integer fen; shown as ¥ with thousands separators. */
export const money = (fen) => "¥" + yuan.format(Math.trunc(fen) / 100);
export const count = (n) => whole.format(n);
/** Times are UTC on the wire and shown in Asia/Shanghai. */
export const when = (iso) => clock.format(new Date(iso));
export const hourOf = (iso) => hourOnly.format(new Date(iso));

export const CATEGORIES = ["performance", "training", "lecture", "exhibition", "books"];
export const DISTRICTS = ["市级", "玄武区", "秦淮区", "建邺区", "鼓楼区", "浦口区", "栖霞区", "雨花台区", "江宁区", "六合区", "溧水区", "高淳区", "江北新区"];
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

/** Replace a container's content. */
export function fill(container, ...children) {
  container.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

/** A short message at the foot of the screen. */
export function toast(text, kind = "info") {
  let shelf = document.getElementById("toasts");
  if (!shelf) document.body.append((shelf = el("div", { id: "toasts", role: "status", "aria-live": "polite" })));
  const note = el("div", { class: `toast ${kind}` }, text);
  shelf.append(note);
  setTimeout(() => note.remove(), kind === "error" ? 8000 : 4000);
}

/** A refusal noted on a negotiation (code, msgid, params), in the screen's language. */
export function noted(record) {
  const params = {};
  for (const [key, value] of Object.entries(record.params || {})) {
    params[key] = key.endsWith("_fen") ? money(value) : key.endsWith("_label") ? t(value) : value;
  }
  return t(record.msgid, params);
}

/** Why something is recommended: its reasons (msgid and parameters, from the server) in one line. */
export const reasonLine = (reasons) => reasons.map(noted).join(" · ");

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
    view.negotiations = upsert(view.negotiations, data.negotiation, byActivity);
  } else if (type === "order.confirmed") {
    const sold = data.offering;
    for (const offering of view.offerings) {
      if (offering.id !== sold.id) continue;
      offering.sold = sold.sold;
      offering.remaining = sold.remaining;
      offering.dates = offering.dates.map((d) => (sold.taken_dates.includes(d.day) ? { ...d, free: false } : d));
    }
    if (data.order) view.orders = upsert(view.orders, data.order, byIdDescending);
    if (data.budget) {
      if (role === "team") view.me.budget = data.budget;
      else for (const team of view.teams) if (team.id === data.order.team_id) team.budget = data.budget;
    }
  } else if (type.startsWith("access.")) view.credentials = upsert(view.credentials, data.credential, byId);
  else if (type === "wish.updated") {
    const wish = data.wish;
    if (role === "organiser" || wish.status === "approved") view.wishes = upsert(view.wishes, wish, bySupport);
    else view.wishes = view.wishes.filter((w) => w.id !== wish.id);
  } else if (type === "shortlist.updated") {
    if (data.item) view.shortlist = upsertBy("offering_id", view.shortlist, data.item, (a, b) => a.offering_id - b.offering_id);
    else view.shortlist = view.shortlist.filter((i) => i.offering_id !== data.removed.offering_id);
  } else if (type === "slot.updated") view.slots = upsert(view.slots, data.slot, byTime);
  else if (type === "appointment.updated") view.appointments = upsert(view.appointments, data.appointment, byTime);
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

function deviceId() {
  let id = localStorage.getItem("fair.device");
  if (!id) {
    id = Math.random().toString(36).slice(2, 10);
    localStorage.setItem("fair.device", id);
  }
  return id;
}

export class Live {
  /** `as`: "resident" on the wishes page, where a phone may wish and support (it carries the fair's cookie). */
  constructor({ as } = {}) {
    this.view = null;
    this.cursor = null;
    this.synced = false;
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
    this.socket.on("disconnect", () => this.status("offline"));
    this.socket.on("connect_error", (error) => {
      this.status("offline");
      if (error && error.data && error.data.code) {
        this.socket.disconnect(); // a refused credential: trying again will not help
        toast(error.message, "error");
      }
    });
    this.socket.on("live", (message) => (this.synced ? this.take(message) : this.buffer.push(message)));
    // The view as this screen holds it, for the browser tests (which compare it with the server's, field by
    // field) and for whoever looks at a tablet's state in the developer tools.
    window.fairView = () => this.view;
  }

  /** Ask the server for something that is not part of the view (recommendations, coverage); resolves with its ack. */
  async read(name, payload = {}) {
    try {
      return await this.socket.timeout(10000).emitWithAck(name, payload);
    } catch {
      return { ok: false, error: { code: "offline", message: t("Offline: reconnecting…") } };
    }
  }

  /** Call `watcher(view, changed)` now and after every change. */
  watch(watcher) {
    this.watchers.push(watcher);
    if (this.view) watcher(this.view, null);
  }

  status(state) {
    this.indicator.dataset.state = state;
    const pending = this.pending.length;
    const offline = document.body.classList.contains("board") ? t("Reconnecting: the figures may be behind") : t("Offline: reconnecting…");
    const label = { online: t("Connected"), offline, connecting: t("Connecting…") }[state];
    const waiting = t("%(count)s pending", { count: pending });
    this.indicator.textContent = pending ? [label, waiting].join(" · ") : label;
    const shelf = document.getElementById("pending");
    if (shelf) {
      shelf.hidden = pending === 0;
      fill(shelf.querySelector("ul"), this.pending.map((entry) => el("li", {}, entry.label)));
    }
  }

  async sync() {
    this.synced = false;
    this.status("connecting");
    let reply;
    try {
      reply = await this.socket.timeout(15000).emitWithAck("sync", { since: this.cursor });
    } catch {
      this.socket.disconnect().connect(); // no answer: start over
      return;
    }
    const data = reply.data;
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
    this.status("online");
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
    this.cursor = Math.max(this.cursor, message.upto);
    if (announce) this.changed(shown);
  }

  changed(events) {
    for (const watcher of this.watchers) watcher(this.view, events);
  }

  /** Send a command; resolves with its ack.  Unanswered, it stays pending and is sent again after a reconnect. */
  command(name, payload, label) {
    const entry = { name, payload, label, request_id: `${this.device}-${Date.now().toString(36)}-${this.counter++}` };
    this.pending.push(entry);
    this.save();
    const answered = new Promise((resolve) => this.answers.set(entry.request_id, resolve));
    if (this.synced) this.send(entry);
    else this.status(this.socket.connected ? "connecting" : "offline");
    return answered;
  }

  send(entry) {
    this.status(this.synced ? "online" : "offline");
    this.socket.timeout(10000).emit(entry.name, { request_id: entry.request_id, payload: entry.payload }, (error, ack) => {
      if (error) return; // no answer: still pending, sent again after the next sync
      this.pending = this.pending.filter((e) => e.request_id !== entry.request_id);
      this.save();
      this.status(this.socket.connected ? "online" : "offline");
      const resolve = this.answers.get(entry.request_id);
      this.answers.delete(entry.request_id);
      if (resolve) resolve(ack);
      else if (!ack.ok) toast(`${entry.label}: ${refusal(ack)}`, "error"); // answered after a reload
    });
  }

  save() {
    localStorage.setItem(this.store, JSON.stringify(this.pending));
  }
}

/** Tabs: buttons with data-tab showing the section of the same id. */
export function tabs(root) {
  const buttons = [...root.querySelectorAll("[data-tab]")];
  const show = (name) => {
    for (const button of buttons) {
      const on = button.dataset.tab === name;
      button.setAttribute("aria-selected", String(on));
      document.getElementById(button.dataset.tab).hidden = !on;
    }
  };
  for (const button of buttons) button.addEventListener("click", () => show(button.dataset.tab));
  show(buttons[0].dataset.tab);
}
