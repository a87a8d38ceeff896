// Webhook endpoints: add one (its signing secret shown once), list them; each links to its own page.
import { api, clearErrors, el, excerpt, fieldError, requireFilled, showError, start, when, whileBusy, wireCopy } from "../app.js";
import { EVENT_WORDS, showSecret, stateBadge } from "../webhook_parts.js";

start(async () => {
  if (new URLSearchParams(location.search).has("deleted")) {
    document.querySelector("[data-endpoints-notice]").textContent = "The endpoint was deleted.";
  }
  wireAdd();                          // before the first await: the form is on screen from now on
  wireCopy(document.querySelector("[data-new-secret]"));
  await showEndpoints();
});

function wireAdd() {
  const form = document.getElementById("add-endpoint-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    document.querySelector("[data-new-secret]").hidden = true;
    if (!requireFilled(form, { url: "Enter the address genvid should send events to." })) return;
    const eventTypes = [...form.querySelectorAll("input[name=event_types]:checked")].map((box) => box.value);
    if (!eventTypes.length) {
      fieldError(form, "event_types", "Pick at least one event.");
      form.querySelector("input[name=event_types]").focus();
      return;
    }
    const body = { url: form.elements.url.value.trim(), event_types: eventTypes,
      description: form.elements.description.value.trim() };
    const button = form.querySelector("button[type=submit]");
    const answer = await whileBusy(button, () => api("/api/webhooks/endpoints", { method: "POST", body }));
    if (!answer.ok) {
      showError(form, answer.error, { fieldFor: { TOO_MANY_WEBHOOK_ENDPOINTS: "url" } });
      return;
    }
    form.reset();
    for (const box of form.querySelectorAll("input[name=event_types]")) box.checked = true;
    showSecret(answer.data.secret);
    await showEndpoints();
  });
}

async function showEndpoints() {
  const rows = document.querySelector("[data-endpoints]");
  const answer = await api("/api/webhooks/endpoints");
  rows.removeAttribute("aria-busy");
  if (!answer.ok) {
    document.querySelector("[data-endpoints-error]").textContent = answer.error.message;
    return;
  }
  rows.replaceChildren(...answer.data.map((endpoint) => el("tr", {},
    el("td", { className: "url-cell" }, el("a", { href: `/webhooks/${encodeURIComponent(endpoint.id)}` }, excerpt(endpoint.url, 80)),
      endpoint.description ? el("span", { className: "hint-line" }, endpoint.description) : null),
    el("td", {}, endpoint.event_types.map((type) => EVENT_WORDS[type] || type).join(", ")),
    el("td", {}, stateBadge(endpoint)),
    el("td", {}, when(endpoint.created_at)))));
  document.querySelector("[data-endpoints-empty]").hidden = answer.data.length > 0;
}
