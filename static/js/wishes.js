// The residents' page, for a phone: make a wish for one's street, support the neighbours', see who answered.
// No sign-in to read or wish; a support is a person's, once per wish, so it asks for a confirmed number (/phone).
import { Live, categoryName, el, fill, refusal, t, toast, when } from "./core.js";

const live = new Live({ as: "resident" });
const form = document.getElementById("wish-form");
const filter = document.getElementById("district-filter");
const errorBox = document.getElementById("wish-error");
const MINE = "fair.my-wishes";
const mine = () => JSON.parse(localStorage.getItem(MINE) || "[]");
// The wishes this phone's resident supports: read afresh on every sync (view.mine), added to by the acks.
const supported = new Set();
const confirmPage = () => `/phone?next=${encodeURIComponent("/wishes")}`;

function remember(wish) {
  localStorage.setItem(MINE, JSON.stringify([{ id: wish.id, text: wish.text, at: wish.created_at }, ...mine()].slice(0, 20)));
}

const counter = document.getElementById("text-count");
form.text.addEventListener("input", () => (counter.textContent = t("%(count)s of 200 characters", { count: form.text.value.length })));
form.district.addEventListener("change", () => live.view && streets(live.view));

/** The streets residents of the chosen district have named already, to pick from. */
function streets(view) {
  const names = [...new Set(view.wishes.filter((w) => w.district === form.district.value).map((w) => w.street))].sort();
  fill(document.getElementById("streets"), names.map((name) => el("option", { value: name })));
}

function problem() {
  if (!form.district.value) return t("Choose your district.");
  if (form.street.value.trim().length < 2) return t("Name your street or town.");
  if (form.text.value.trim().length < 4) return t("Say in a few words what you would like.");
  if (/[<>]/.test(form.text.value + form.street.value)) return t("Please write without < or >.");
  return null;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const wrong = problem();
  errorBox.hidden = !wrong;
  errorBox.textContent = wrong || "";
  if (wrong) return;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  const payload = {
    district: form.district.value, street: form.street.value.trim(), category: form.category.value,
    audience: form.audience.value, text: form.text.value.trim(),
  };
  const ack = await live.command("wish.submit", payload, t("Wish: %(text)s", { text: payload.text.slice(0, 20) }));
  button.disabled = false;
  if (!ack.ok) {
    errorBox.hidden = false;
    errorBox.textContent = refusal(ack);
    return; // what was typed stays, to be corrected
  }
  remember(ack.data.wish);
  form.text.value = "";
  counter.textContent = "";
  toast(t("Thank you: your wish will be public once the organisers have read it."));
  render(live.view);
});

filter.addEventListener("change", () => live.view && render(live.view));

async function support(wish, button) {
  button.disabled = true;
  const ack = await live.command("wish.support", { wish_id: wish.id }, t("Support: %(text)s", { text: wish.text.slice(0, 20) }));
  if (ack.ok || (ack.error && ack.error.code === "duplicate")) supported.add(wish.id);
  if (ack.error && ack.error.code === "unconfirmed") {
    location.href = confirmPage(); // a person, once: the number first, then back here
    return;
  }
  if (ack.ok) toast(t("Thank you for your support."));
  else toast(refusal(ack), "error");
  render(live.view);
}

function wishCard(wish, alreadySupported) {
  const answered = wish.answers.length > 0;
  return el("article", { class: `card wish ${answered ? "answered" : ""}`, dataset: { id: wish.id } },
    el("header", {},
      el("span", { class: "badge" }, categoryName(wish.category)),
      el("span", { class: "badge" }, wish.audience),
      answered ? el("span", { class: "badge state confirmed" }, t("Answered")) : null),
    el("p", { class: "wish-text" }, wish.text),
    el("p", { class: "muted" }, wish.district, " · ", wish.street),
    answered
      ? el("ul", { class: "answers" }, wish.answers.map((a) => el("li", {},
        t("%(team)s ordered %(title)s from %(supplier)s", { team: a.team_name, title: a.offering_title, supplier: a.supplier_name }),
        ` · ${a.quantity} ${a.unit} · `, when(a.confirmed_at))))
      : null,
    el("div", { class: "support" },
      el("strong", { class: "supports" }, t("%(count)s people support this", { count: wish.supports })),
      el("button", { type: "button", class: alreadySupported ? "" : "primary", disabled: alreadySupported,
        "aria-label": t("Support this wish"), onclick: (event) => support(wish, event.currentTarget) },
      alreadySupported ? t("You support this") : t("Me too +1"))));
}

function render(view) {
  document.getElementById("fair-name").textContent = view.fair.name;
  streets(view);
  const done = supported;
  const shown = view.wishes.filter((w) => !filter.value || w.district === filter.value);
  fill(document.getElementById("wish-list"), shown.length
    ? shown.map((w) => wishCard(w, done.has(w.id)))
    : el("p", { class: "empty" }, t("No public wish here yet: be the first.")));
  const own = mine();
  document.getElementById("mine").hidden = own.length === 0;
  const published = new Map(view.wishes.map((w) => [w.id, w]));
  fill(document.getElementById("my-wishes"), own.map((w) => el("li", {}, w.text, " · ",
    published.has(w.id)
      ? el("strong", {}, t("Public, %(count)s people support it", { count: published.get(w.id).supports }))
      : el("span", { class: "muted" }, t("Waiting for the organisers, or not published")))));
}

live.watch((view, events) => {
  if (view.mine) {
    for (const id of view.mine.supported) supported.add(id);
    document.getElementById("confirm-banner").hidden = view.mine.confirmed;
  }
  render(view);
  for (const event of events || []) {
    const answered = event.type === "wish.updated" && event.data.wish.answers && event.data.wish.answers.length;
    if (answered && mine().some((w) => w.id === event.data.wish.id)) toast(t("Your wish has been answered!"));
  }
});
