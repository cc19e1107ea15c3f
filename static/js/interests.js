// What a team is looking for, or what a booth does best (fair/core/interests.py): kinds of service, audiences and
// themes, and for a team the days it would have a service on, in a folded form under the recommendations. The
// audiences come from the page (the server's list).
import { CATEGORIES, categoryName, dayOf, el, fill, t } from "./core.js";

/** The words of a themes field: separated by spaces, commas or 、, as people type them. */
const words = (text) => text.split(/[\s,，、;；]+/).filter(Boolean);

/** Fill the `#interests` details with the form, ticked as `current` says; `save` sends what is ticked.
 * `days`: the days a team may tick (its fair's offerings' dates); none for a booth, whose days are its offerings'. */
export function interestsForm(current, save, days = null) {
  const box = document.getElementById("interests");
  if (!box || (box.open && box.querySelector("form"))) return;  // never redrawn under the hands of someone ticking
  const audiences = JSON.parse(box.dataset.audiences);
  const tick = (name, value, checked) => el("label", { class: "tick" }, el("input", { type: "checkbox", name, value, checked }), " ", name === "category" ? categoryName(value) : value);
  const form = el("form", { class: "interests-form", onsubmit: async (event) => {
    event.preventDefault();
    const ticked = (name) => [...form.querySelectorAll(`input[name=${name}]:checked`)].map((input) => input.value);
    const said = { categories: ticked("category"), audiences: ticked("audience"), themes: words(form.themes.value) };
    if (days) {
      said.dates = ticked("day");
      const seats = form.venue_seats.value.trim();  // blank: not said; not a number: sent as typed, and refused
      said.venue_seats = !seats ? 0 : /^\d+$/.test(seats) ? Number.parseInt(seats, 10) : seats;
    }
    if (await save(said)) box.open = false;
  } },
    el("fieldset", {}, el("legend", {}, t("Kinds of service")), CATEGORIES.map((c) => tick("category", c, current.categories.includes(c)))),
    el("fieldset", {}, el("legend", {}, t("Audiences")), audiences.map((a) => tick("audience", a, current.audiences.includes(a)))),
    el("label", { class: "themes" }, t("Themes: words of a title, such as 越剧 or 非遗"), " ",
      el("input", { type: "text", name: "themes", value: current.themes.join("、"), maxlength: 70, autocomplete: "off" })),
    days && days.length ? el("fieldset", { class: "days" }, el("legend", {}, t("Days you would have a service on")),
      days.map((day) => el("label", { class: "tick" }, el("input", { type: "checkbox", name: "day", value: day, checked: current.dates.includes(day) }), " ", dayOf(day)))) : null,
    days ? el("label", { class: "themes" }, t("Seats of your largest venue (blank: not said)"), " ",
      el("input", { type: "text", name: "venue_seats", inputMode: "numeric", autocomplete: "off", maxlength: 6,
        value: current.venue_seats ? String(current.venue_seats) : "" })) : null,
    el("p", { class: "muted small" }, t("What you tick or type ranks up in the recommendations, after what residents ask for; nothing is no preference.")),
    el("button", { type: "submit", class: "primary", dataset: { needs: "live" } }, t("Save")));
  fill(box, box.querySelector("summary"), form);
}
