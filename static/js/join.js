// Joining with a card: the card is in the URL's fragment (/join#<card>), which the browser never sends.
// Take it out of the address bar and the history at once, then ask the server who it is for.  Without a
// card in the link (a tablet with no camera, a card read aloud), the page asks for the code printed on it.
// A card joins this device to a party: what the screens kept of another party's view goes (core.js, KEPT_VIEW;
// not imported, so that this page loads no more than it needs).
for (const key of Object.keys(localStorage)) if (key.startsWith("fair.view.")) localStorage.removeItem(key);
const form = document.getElementById("join");
const card = decodeURIComponent(location.hash.slice(1));
history.replaceState(null, "", location.pathname);
if (card) {
  form.elements.card.value = card;
  form.submit();
} else {
  document.getElementById("join-status").hidden = true;
  const typed = document.getElementById("join-code");
  typed.hidden = false;
  typed.elements.code.focus();
}
