// The venue's page: the photo of the event goes as it is (the image itself is the body), with the page's CSRF token.
import { t } from "./core.js";

const form = document.getElementById("photo-form");
if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = document.getElementById("photo-status");
    const file = form.elements.namedItem("photo").files[0];
    if (!file) return;
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const response = await fetch(`${window.location.pathname}/photo`, {
        method: "POST", body: file, credentials: "same-origin",
        headers: { "x-csrftoken": form.dataset.csrf, "content-type": "application/octet-stream" },
      });
      const answer = await response.json();
      status.textContent = answer.ok ? answer.data.message : answer.error.message;
    } catch {
      status.textContent = t("Not sent: check the connection and try again.");
    } finally {
      button.disabled = false;
    }
  });
}
