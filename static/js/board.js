// The projector board: the three headline figures, orders by district, and the ticker.
// It has no controls: it reconnects by itself and says when it may be behind.
import { CATEGORIES, DISTRICTS, Live, categoryName, count, el, fill, money, t, when } from "./core.js";

const live = new Live();
const chart = echarts.init(document.getElementById("district-chart"), null, { renderer: "canvas" });
const counters = { performance: "performance_orders", tle: "training_lecture_exhibition_orders", books: "book_volumes" };
const shownFigures = {};

/** Count a headline figure up to its new value, and make it pulse. */
function animate(id, target) {
  const node = document.querySelector(`#${id} strong`);
  const from = shownFigures[id] ?? 0;
  shownFigures[id] = target;
  if (from === target) return (node.textContent = count(target));
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

function drawDistricts(tally) {
  const rows = DISTRICTS.map((district) => ({ district, ...tally.by_district[district] }));
  chart.setOption({
    animationDurationUpdate: 600,
    grid: { left: 110, right: 170, top: 10, bottom: 10 },
    xAxis: { type: "value", show: false },
    yAxis: { type: "category", inverse: true, data: rows.map((r) => r.district),
      axisLabel: { color: "#f4efe6", fontSize: 26 }, axisLine: { show: false }, axisTick: { show: false } },
    series: [{
      type: "bar", data: rows.map((r) => r.orders), barMaxWidth: 34,
      itemStyle: { color: "#e4b34c", borderRadius: [0, 6, 6, 0] },
      label: { show: true, position: "right", color: "#f4efe6", fontSize: 22,
        formatter: ({ dataIndex }) => `${rows[dataIndex].orders} · ${money(rows[dataIndex].amount_fen)}` },
    }],
  });
}

/** Which categories of service have reached each district yet (送戏下乡, 送书下乡): a cell lights up with its orders. */
function drawCoverage(tally) {
  const head = el("tr", {}, el("th", {}, ""), CATEGORIES.map((c) => el("th", { scope: "col" }, categoryName(c))));
  const rows = DISTRICTS.slice(1).map((district) => el("tr", {},
    el("th", { scope: "row" }, district),
    CATEGORIES.map((category) => {
      const orders = tally.coverage[district][category];
      return el("td", { class: orders ? "reached" : "missing" }, orders ? count(orders) : "·");
    })));
  fill(document.getElementById("coverage"), el("thead", {}, head), el("tbody", {}, rows));
}

function render(view) {
  const { tally } = view;
  document.getElementById("fair-name").textContent = view.fair.name;
  for (const [id, key] of Object.entries(counters)) animate(id, tally.headline[key]);
  document.getElementById("total-money").textContent = money(tally.total.amount_fen);
  document.getElementById("total-orders").textContent = t("%(count)s orders", { count: count(tally.total.orders) });
  drawDistricts(tally);
  drawCoverage(tally);
  if (!tally.latest.length) return fill(document.getElementById("ticker"), el("li", { class: "empty" }, t("No orders yet.")));
  fill(document.getElementById("ticker"), tally.latest.map((order) => el("li", {},
    el("time", {}, when(order.confirmed_at)),
    el("span", { class: "who" }, order.team_name, " → ", order.supplier_name),
    el("span", { class: "what" }, order.offering_title, ` · ${order.quantity} ${order.unit} · `, money(order.amount_fen)))));
}

live.watch(render);
new ResizeObserver(() => chart.resize()).observe(document.getElementById("district-chart"));
