// The projector board: the three headline figures, orders by district, and the ticker.
// It has no controls: it reconnects by itself and says when it may be behind.
import { CATEGORIES, DISTRICTS, Live, categoryName, clockOf, count, el, fill, t, wan } from "./core.js";

const live = new Live();
const counters = { performance: "performance_orders", tle: "training_lecture_exhibition_orders", books: "book_volumes" };
const shownFigures = {};

/** Count a headline figure up to its new value, and make it pulse. */
function animate(id, target) {
  const node = document.querySelector(`#${id} strong`);
  const from = shownFigures[id] ?? 0;
  shownFigures[id] = target;
  if (from === target) {
    node.textContent = count(target);
    return;
  }
  const start = performance.now();
  const step = (now) => {
    const done = Math.min(1, (now - start) / 900);
    node.textContent = count(Math.round(from + (target - from) * (1 - (1 - done) ** 3)));
    if (done < 1) requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
  node.parentElement.classList.remove("pulse");
  void node.parentElement.offsetWidth; // restart the animation
  node.parentElement.classList.add("pulse");
}

/**
 * Each district's orders as a bar, with the money, and which categories of service have reached it yet
 * (送戏下乡, 送书下乡): a cell lights up with its orders.  The city's own orders count under 市级.
 */
function drawDistricts(tally) {
  const largest = Math.max(1, ...DISTRICTS.map((d) => tally.by_district[d].orders));
  const head = el("tr", {}, el("th", {}, ""), el("th", {}, ""), el("th", {}, ""),
    CATEGORIES.map((c) => el("th", { scope: "col", class: "kind" }, categoryName(c).slice(0, 1))));
  const rows = DISTRICTS.map((district) => {
    const { orders, amount_fen: amount } = tally.by_district[district];
    const bar = el("span", { class: "bar-fill" });
    bar.style.setProperty("--share", String(orders / largest));
    return el("tr", { class: behind.has(district) ? "behind" : "" },
      el("th", { scope: "row" }, behind.has(district)
        ? el("span", { class: "behind-mark", title: t("behind target") }, el("span", { class: "words" }, t("behind target")), el("span", { class: "sign", "aria-hidden": "true" }, "▲"))
        : null,
        el("a", { class: "figure-link", href: `/board/orders?district=${encodeURIComponent(district)}` }, district)),
      el("td", { class: "bar-cell" }, bar),
      el("td", { class: "figure-cell" }, count(orders), " · ", wan(amount)),
      CATEGORIES.map((category) => {
        const reached = tally.coverage[district][category];
        const behind = `/board/orders?district=${encodeURIComponent(district)}&figure=${category}`;
        return el("td", { class: reached ? "reached" : "missing", title: categoryName(category) },
          reached ? el("a", { class: "figure-link", href: behind }, count(reached)) : "");
      }));
  });
  fill(document.getElementById("district-chart"), el("thead", {}, head), el("tbody", {}, rows));
}

// The districts behind the organiser's coverage targets (streets reached, wishes answered), read from the server
// a moment after the figures move: a read, not part of the board's view (fair.core.queries.districts).
let behind = new Set();
let lastTally = null;
let targetsAsked = null;
async function readTargets() {
  const ack = await live.read("districts");
  if (!ack.ok) return;
  behind = new Set(ack.data.districts.filter((d) => d.behind).map((d) => d.district));
  if (lastTally) drawDistricts(lastTally);
}

function render(view) {
  const { tally } = view;
  lastTally = tally;
  if (!(speed > 0)) {
    clearTimeout(targetsAsked);
    targetsAsked = setTimeout(readTargets, 1500);
  }
  document.getElementById("fair-name").textContent = view.fair.name;
  for (const [id, key] of Object.entries(counters)) animate(id, tally.headline[key]);
  document.getElementById("total-money").textContent = wan(tally.total.amount_fen);
  document.getElementById("total-orders").textContent = t("%(count)s orders", { count: count(tally.total.orders) });
  drawDistricts(tally);
  if (!tally.latest.length) return fill(document.getElementById("ticker"), el("li", { class: "empty" }, t("No orders yet.")));
  const ticker = document.getElementById("ticker");
  // The amount and the quantity in a column of their own, right-aligned and never cut: the names and the title
  // give way (an ellipsis, the whole in the row's title), never the figure that matters (issue 25).
  fill(ticker, tally.latest.map((order) => el("li", { title: `${order.team_name} → ${order.supplier_name} · ${order.offering_title}` },
    el("time", {}, clockOf(order.confirmed_at)),
    el("span", { class: "who" }, order.team_name, " → ", order.supplier_name),
    el("span", { class: "what" }, order.offering_title),
    el("strong", { class: "amount" }, wan(order.amount_fen)),
    el("span", { class: "quantity" }, `${order.quantity} ${order.unit}`))));
  // Only whole rows: the latest orders that fit, never one cut in half at the foot of the wall.
  while (ticker.children.length > 1 && ticker.scrollHeight > ticker.clientHeight) ticker.lastElementChild.remove();
}

// /board?replay=60 plays the day again from the event log, sixty times as fast (fair.core.replay).
const speed = Number(new URLSearchParams(window.location.search).get("replay"));
if (speed > 0) replayTheDay(speed);
else live.watch(render);

async function replayTheDay(pace) {
  const banner = document.getElementById("replay");
  banner.hidden = false;
  banner.textContent = t("Replay of the day: loading…");
  let reply;
  try {
    reply = await (await fetch("/api/replay", { credentials: "same-origin" })).json();
  } catch {
    banner.textContent = t("Offline: reconnecting…");
    return;
  }
  let previous = null;
  for (const frame of reply.frames) {
    const gap = previous ? (Date.parse(frame.at) - Date.parse(previous.at)) / pace : 0;
    await new Promise((done) => setTimeout(done, Math.min(2000, Math.max(previous ? 60 : 0, gap))));
    render({ fair: reply.fair, tally: frame.tally });
    banner.textContent = t("Replay ×%(speed)s · %(time)s", { speed: pace, time: clockOf(frame.at) });
    previous = frame;
  }
  banner.dataset.done = "1";
  banner.textContent = reply.frames.length ? t("Replay finished: the day's final tally.") : t("No orders yet.");
}
