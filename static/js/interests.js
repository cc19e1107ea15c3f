// What a team is looking for, or what a booth does best (fair/core/interests.py): kinds of service and audiences,
// ticked in a folded form under the recommendations. The audiences come from the page (the server's list).
import { CATEGORIES, categoryName, el, fill, t } from "./core.js";

/** Fill the `#interests` details with the form, ticked as `current` says; `save` sends what is ticked. */
export function interestsForm(current, save) {
  const box = document.getElementById("interests");
  if (!box || (box.open && box.querySelector("form"))) return;  // never redrawn under the hands of someone ticking
  const audiences = JSON.parse(box.dataset.audiences);
  const tick = (name, value, checked) => el("label", { class: "tick" }, el("input", { type: "checkbox", name, value, checked }), " ", name === "category" ? categoryName(value) : value);
  const form = el("form", { class: "interests-form", onsubmit: async (event) => {
    event.preventDefault();
    const ticked = (name) => [...form.querySelectorAll(`input[name=${name}]:checked`)].map((input) => input.value);
    if (await save({ categories: ticked("category"), audiences: ticked("audience") })) box.open = false;
  } },
    el("fieldset", {}, el("legend", {}, t("Kinds of service")), CATEGORIES.map((c) => tick("category", c, current.categories.includes(c)))),
    el("fieldset", {}, el("legend", {}, t("Audiences")), audiences.map((a) => tick("audience", a, current.audiences.includes(a)))),
    el("p", { class: "muted small" }, t("Ticked kinds rank up in the recommendations, after what residents ask for; none ticked is no preference.")),
    el("button", { type: "submit", class: "primary", dataset: { needs: "live" } }, t("Save")));
  fill(box, box.querySelector("summary"), form);
}
