// Joining with a card: the card is in the URL's fragment (/join#<card>), which the browser never sends.
// Take it out of the address bar and the history at once, then ask the server who it is for.
const form = document.getElementById("join");
const card = decodeURIComponent(location.hash.slice(1));
history.replaceState(null, "", location.pathname);
if (card) {
  form.elements.card.value = card;
  form.submit();
} else {
  const status = document.getElementById("join-status");
  status.textContent = status.dataset.none;
  status.className = "notice error";
}
