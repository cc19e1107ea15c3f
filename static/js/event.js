// An event's public page, live: when its seats move (a seat taken, given back and handed to the waiting list),
// the page reads itself afresh, so a resident on the list sees the seat become theirs without touching anything.
import { Live } from "./core.js";

const section = document.querySelector(".event-page");
const id = Number(section.dataset.event);
const live = new Live({ as: "resident" });

async function refresh() {
  if (section.contains(document.activeElement) && document.activeElement.matches("input, select")) return; // typing
  const page = await fetch(location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } });
  if (!page.ok) return;
  const fresh = new DOMParser().parseFromString(await page.text(), "text/html").querySelector(".event-page");
  if (fresh) section.replaceChildren(...fresh.childNodes);
}

live.watch((_view, events) => {
  if ((events || []).some((e) => e.type === "delivery.updated" && e.data.event && e.data.event.id === id)) refresh();
});
