// One webhook endpoint: its settings, enable/disable, rotating its secret (shown once), its delivery log with
// every attempt (status, latency, the start of the answer), redelivery, and deleting it.
import { api, confirmFirst, el, fillDetails, plural, start, when, whileBusy, wireCopy } from "../app.js";
import { EVENT_WORDS, showSecret, stateBadge } from "../webhook_parts.js";

const article = document.querySelector("[data-endpoint-id]");
const base = `/api/webhooks/endpoints/${encodeURIComponent(article.dataset.endpointId)}`;
const DELIVERY_WORDS = { pending: "retrying", succeeded: "delivered", failed: "failed" };
const DELIVERY_BADGES = { pending: "rendering", succeeded: "completed", failed: "failed" };
let endpoint = null;
let cursor = null;

start(async () => {
  wireCopy(document.querySelector("[data-new-secret]"));                         // before the first await: the buttons are on screen from now on
  document.querySelector("[data-toggle-enabled]").addEventListener("click", toggleEnabled);
  document.querySelector("[data-rotate-secret]").addEventListener("click", rotateSecret);
  document.querySelector("[data-refresh-deliveries]").addEventListener("click", () => {
    document.querySelector("[data-deliveries-status]").textContent = "";
    loadDeliveries({ fresh: true });
  });
  document.querySelector("[data-deliveries-more]").addEventListener("click", () => loadDeliveries());
  wireDelete();
  const answer = await api(base);
  if (!answer.ok) {
    document.querySelector("[data-endpoint-error]").textContent = answer.error.code === "WEBHOOK_ENDPOINT_NOT_FOUND"
      ? "There is no such endpoint in your account. It may have been deleted." : answer.error.message;
    for (const section of article.querySelectorAll("section")) section.hidden = true;
    return;
  }
  show(answer.data);
  await loadDeliveries({ fresh: true });
});

function show(data) {
  endpoint = data;
  document.querySelector("[data-endpoint-url]").textContent = data.url;
  const rows = [
    ["State", stateBadge(data)],
    ["Events", data.event_types.map((type) => `${type} (${EVENT_WORDS[type] || type})`).join(", ")],
    ["Description", data.description || "None"],
    ["Added", when(data.created_at)],
  ];
  if (data.failing_since) rows.push(["Failing since", when(data.failing_since)]);
  fillDetails(document.querySelector("[data-endpoint-details]"), rows);
  const failing = document.querySelector("[data-endpoint-failing]");
  failing.hidden = data.disabled_reason !== "failing";
  failing.textContent = failing.hidden ? "" : "genvid disabled this endpoint after a day of failed deliveries. "
    + "Fix the receiver, enable it again, then redeliver what it missed.";
  document.querySelector("[data-toggle-enabled]").textContent = data.enabled ? "Disable" : "Enable";
}

function actionLine(message, { error = false } = {}) {
  document.querySelector("[data-endpoint-action-error]").textContent = error ? message : "";
  document.querySelector("[data-endpoint-action-status]").textContent = error ? "" : message;
}

async function toggleEnabled(event) {
  const enabled = !endpoint.enabled;
  const answer = await whileBusy(event.currentTarget, () => api(base, { method: "PATCH", body: { enabled } }));
  if (!answer.ok) {
    actionLine(answer.error.message, { error: true });
    return;
  }
  show(answer.data);
  actionLine(enabled ? "Enabled: new events are sent to it again." : "Disabled: nothing is sent to it until you enable it.");
}

async function rotateSecret(event) {
  const answer = await whileBusy(event.currentTarget, () => api(`${base}/rotate-secret`, { method: "POST", body: {} }));
  if (!answer.ok) {
    actionLine(answer.error.message, { error: true });
    return;
  }
  actionLine("");
  show(answer.data);
  showSecret(answer.data.secret, { rotated: true });
}

async function loadDeliveries({ fresh = false } = {}) {
  const list = document.querySelector("[data-deliveries]");
  const query = new URLSearchParams({ limit: "20" });
  if (!fresh && cursor) query.set("cursor", cursor);
  list.setAttribute("aria-busy", "true");
  const answer = await api(`${base}/deliveries?${query}`);
  list.removeAttribute("aria-busy");
  const problem = document.querySelector("[data-deliveries-error]");
  if (!answer.ok) {
    problem.textContent = answer.error.message;
    return;
  }
  problem.textContent = "";
  if (fresh) list.replaceChildren();
  list.append(...answer.data.map(deliveryItem));
  document.querySelector("[data-deliveries-empty]").hidden = list.children.length > 0;
  cursor = answer.meta && answer.meta.next_cursor;
  document.querySelector("[data-deliveries-more]").hidden = !cursor;
}

function deliveryItem(delivery) {
  const redeliver = el("button", { type: "button", className: "button", "aria-label": `Redeliver ${delivery.event_type} ${delivery.event_id}` }, "Redeliver");
  redeliver.addEventListener("click", () => sendAgain(delivery, redeliver));
  const next = delivery.status === "pending" && delivery.next_attempt_at
    ? ` · next attempt ${when(delivery.next_attempt_at)}` : "";
  return el("li", { className: "delivery", dataset: { deliveryId: delivery.id } },
    el("div", { className: "heading-row" },
      el("p", { className: "delivery-title" }, el("code", {}, delivery.event_type), " ",
        el("span", { className: `badge ${DELIVERY_BADGES[delivery.status] || ""}` }, DELIVERY_WORDS[delivery.status] || delivery.status)),
      redeliver),
    el("p", { className: "hint" }, `${when(delivery.created_at)} · ${plural(delivery.attempts, "attempt", "attempts")}${next} · webhook-id `,
      el("code", {}, delivery.event_id)),
    delivery.attempt_log.length ? attemptTable(delivery.attempt_log) : null);
}

function attemptTable(attempts) {
  return el("div", { className: "table-wrap" }, el("table", { className: "attempts" },
    el("thead", {}, el("tr", {}, ["Attempt", "Sent", "Result", "Latency", "Answer"].map((name) => el("th", { scope: "col" }, name)))),
    el("tbody", {}, attempts.map((attempt) => el("tr", {},
      el("td", {}, `#${attempt.attempt}`),
      el("td", {}, when(attempt.started_at)),
      el("td", { className: attempt.status_code && attempt.status_code < 300 ? "result ok" : "result bad" },
        attempt.status_code ? `HTTP ${attempt.status_code}` : "no answer", attempt.error ? ` (${attempt.error})` : ""),
      el("td", { className: "latency" }, `${attempt.latency_ms.toLocaleString()} ms`),
      el("td", {}, attempt.response_excerpt ? el("pre", { className: "excerpt" }, attempt.response_excerpt) : ""))))));
}

async function sendAgain(delivery, button) {
  const answer = await whileBusy(button, () => api(`${base}/deliveries/${encodeURIComponent(delivery.id)}/redeliver`,
    { method: "POST", body: {} }));
  const status = document.querySelector("[data-deliveries-status]");
  if (!answer.ok) {
    document.querySelector("[data-deliveries-error]").textContent = answer.error.message;
    status.textContent = "";
    return;
  }
  document.querySelector("[data-deliveries-error]").textContent = "";
  status.textContent = `Sending ${delivery.event_type} again (same webhook-id). Refresh to see how it went.`;
  await loadDeliveries({ fresh: true });
}

function wireDelete() {
  const button = document.querySelector("[data-delete-endpoint]");
  const ask = confirmFirst("delete", async () => {
    const answer = await whileBusy(button, () => api(base, { method: "DELETE" }));
    if (!answer.ok) {
      document.querySelector("[data-delete-error]").textContent = answer.error.message;
      button.focus();
      return;
    }
    location.assign("/webhooks?deleted=1");
  });
  button.addEventListener("click", () => ask(button));
}
