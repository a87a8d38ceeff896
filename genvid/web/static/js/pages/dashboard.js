// The dashboard: balance, buying credits (Stripe Checkout), the Customer Portal, the ledger, recent videos.
import { api, el, money, newKey, plural, start, videoCard, when } from "../app.js";

const REASONS = {
  checkout: "Bought credits",
  subscription_invoice: "Monthly plan",
  render: "Video",
  render_refund: "Refund for a video that did not render",
  batch: "Batch of videos",
  batch_refund: "Refund for the cancelled rows of a batch",
  refund_clawback: "Payment refunded",
};

// Entries whose reference is a video or a batch link to its page.
const LINKS = {
  render: ["/videos/", "(see the video)"],
  render_refund: ["/videos/", "(see the video)"],
  batch: ["/batches/", "(see the batch)"],
  batch_refund: ["/batches/", "(see the batch)"],
};

start(async (session) => {
  const user = session.user;
  document.querySelector("[data-user-greeting]").textContent = `, ${user.name}`;
  if (!user.emailVerified) showVerifyBanner(user.email);
  const portal = document.querySelector("[data-portal]");       // wired before the first await: it is on screen
  portal.addEventListener("click", () => goToStripe(portal, "/api/billing/portal", undefined, null,
    document.querySelector("[data-portal-error]")));
  await Promise.all([showBalance(), showOffers(), showLedger(), showRecent()]);
});

function showVerifyBanner(email) {
  const banner = document.querySelector("[data-verify-banner]");
  banner.hidden = false;
  banner.querySelector("[data-user-email]").textContent = email;
  const button = banner.querySelector("[data-send-verification]");
  button.addEventListener("click", async () => {
    banner.querySelector("[data-verification-error]").textContent = "";
    const answer = await api("/api/auth/send-verification-email", { method: "POST", body: { email, callbackURL: "/verify-email" } });
    if (answer.ok) banner.querySelector("[data-verification-status]").textContent = `A new link is on its way to ${email}.`;
    else banner.querySelector("[data-verification-error]").textContent = answer.error.message;
  });
}

async function showBalance() {
  const answer = await api("/api/credits");
  const balance = document.querySelector("[data-balance]");
  if (!answer.ok) {
    balance.textContent = "?";
    document.querySelector("[data-ledger-error]").textContent = answer.error.message;
    return;
  }
  balance.textContent = answer.data.balance.toLocaleString();
  document.querySelector("[data-balance-unit]").textContent = answer.data.balance === 1 ? "credit" : "credits";
  const pending = document.querySelector("[data-pending]");
  if (answer.data.pending > 0) {
    pending.hidden = false;
    pending.textContent = `${plural(answer.data.pending, "credit", "credits")} more arrive when your bank confirms a payment.`;
  }
}

async function showOffers() {
  const [packs, plans] = await Promise.all([api("/api/billing/packs"), api("/api/billing/plans")]);
  const error = document.querySelector("[data-billing-error]");
  const packList = document.querySelector("[data-packs]");
  const planList = document.querySelector("[data-plans]");
  for (const list of [packList, planList]) list.removeAttribute("aria-busy");
  if (!packs.ok || !plans.ok) {
    error.textContent = (packs.ok ? plans : packs).error.message;
    return;
  }
  for (const pack of packs.data) {
    packList.append(offer(`pack-${pack.id}`, pack.name, plural(pack.credits, "credit", "credits"),
      money(pack.amount, pack.currency), `Buy ${pack.name}`, "/api/billing/checkout", { pack_id: pack.id }));
  }
  for (const plan of plans.data) {
    planList.append(offer(`plan-${plan.id}`, plan.name, `${plural(plan.credits_per_period, "credit", "credits")} every ${plan.interval}`,
      `${money(plan.amount, plan.currency)} a ${plan.interval}`, `Subscribe to ${plan.name}`, "/api/billing/subscribe", { plan_id: plan.id }));
  }
}

// One pack or plan with its button. The Idempotency-Key is made once per page, so a double click (or a retry
// after a network error) gets the same Checkout Session back instead of a second one.
function offer(id, name, credits, price, label, endpoint, body) {
  const key = newKey();
  const problem = el("p", { className: "field-error", id: `${id}-error`, role: "alert" });
  const button = el("button", { type: "button", className: "button primary", "aria-label": label, "aria-describedby": `${id}-error` },
    endpoint.endsWith("subscribe") ? "Subscribe" : "Buy");
  button.addEventListener("click", () => goToStripe(button, endpoint, body, key, problem));
  return el("li", {}, el("span", { className: "offer-name" }, name), el("span", {}, credits),
    el("span", { className: "offer-price" }, price), button, problem);
}

async function goToStripe(button, endpoint, body, key, problem) {
  problem.textContent = "";
  button.disabled = true;
  const answer = await api(endpoint, { method: "POST", body: body || {}, headers: key ? { "Idempotency-Key": key } : {} });
  if (answer.ok && answer.data.url) {
    location.assign(answer.data.url);
    return;
  }
  button.disabled = false;
  problem.textContent = answer.ok ? "Stripe did not give a page to go to." : answer.error.code === "BILLING_DISABLED"
    ? "Payments are not set up on this server yet, so credits cannot be bought here. Ask the operator to grant you some."
    : answer.error.message;
}

let ledgerCursor = null;

async function showLedger() {
  const more = document.querySelector("[data-ledger-more]");
  const rows = document.querySelector("[data-ledger]");
  const query = new URLSearchParams({ limit: "10" });
  if (ledgerCursor) query.set("cursor", ledgerCursor);
  const answer = await api(`/api/credits/ledger?${query}`);
  if (!answer.ok) {
    document.querySelector("[data-ledger-error]").textContent = answer.error.message;
    return;
  }
  for (const entry of answer.data) rows.append(ledgerRow(entry));
  document.querySelector("[data-ledger-empty]").hidden = rows.children.length > 0;
  ledgerCursor = answer.meta && answer.meta.next_cursor;
  more.hidden = !ledgerCursor;
  if (!more.dataset.wired) {
    more.dataset.wired = "1";
    more.addEventListener("click", showLedger);
  }
}

function ledgerRow(entry) {
  const sign = entry.delta > 0 ? "+" : "−";
  let what = REASONS[entry.reason] || entry.reason;
  if (entry.reason.startsWith("operator: ")) what = `Granted: ${entry.reason.slice("operator: ".length)}`;
  const link = LINKS[entry.reason];
  const cell = link
    ? el("td", {}, `${what} `, el("a", { href: `${link[0]}${encodeURIComponent(entry.reference)}` }, link[1]))
    : el("td", {}, what);
  return el("tr", {}, el("td", {}, when(entry.created_at)),
    el("td", { className: `delta ${entry.delta > 0 ? "plus" : "minus"}` }, `${sign}${Math.abs(entry.delta).toLocaleString()}`), cell);
}

async function showRecent() {
  const answer = await api("/api/videos?limit=4");
  const grid = document.querySelector("[data-recent]");
  if (!answer.ok) return;
  for (const video of answer.data) grid.append(videoCard(video));
  document.querySelector("[data-recent-empty]").hidden = answer.data.length > 0;
}
