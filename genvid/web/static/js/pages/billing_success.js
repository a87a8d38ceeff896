// Checkout's success page. Credits are granted by Stripe's webhook, never by this page: it only watches the
// checkout's state until the webhook has been applied, then shows the new balance.
import { api, plural, start } from "../app.js";

const FAST_POLLS = 30;          // once a second at first, then every five seconds
const MAX_POLLS = 150;

start(async () => {
  const message = document.querySelector("[data-checkout-message]");
  const problem = document.querySelector("[data-checkout-error]");
  const sessionId = new URLSearchParams(location.search).get("session_id");
  if (!sessionId) {
    message.textContent = "";
    problem.textContent = "This page needs the session_id that Stripe adds to its address.";
    return;
  }
  for (let poll = 0; poll < MAX_POLLS; poll += 1) {
    const answer = await api(`/api/billing/checkout/${encodeURIComponent(sessionId)}`);
    if (!answer.ok) {
      message.textContent = "";
      problem.textContent = answer.error.code === "CHECKOUT_NOT_FOUND"
        ? "We do not know this payment. If you paid, your credits appear on the dashboard shortly."
        : answer.error.message;
      return;
    }
    const checkout = answer.data;
    const what = plural(checkout.credits, "credit", "credits");
    if (checkout.status === "paid") {
      const balance = await api("/api/credits");
      message.textContent = `Payment received: ${what} ${checkout.mode === "subscription" ? "for this month were" : "were"} added.`
        + (balance.ok ? ` Your balance is now ${plural(balance.data.balance, "credit", "credits")}.` : "");
      return;
    }
    if (checkout.status === "pending") {
      message.textContent = `Your bank is still processing the payment. The ${what} are added when it clears; you can leave this page.`;
      return;
    }
    if (checkout.status === "failed" || checkout.status === "expired") {
      message.textContent = "";
      problem.textContent = checkout.status === "failed"
        ? "The payment failed, so no credits were added. Nothing was charged."
        : "This checkout expired before it was paid. Nothing was charged.";
      return;
    }
    message.textContent = poll < FAST_POLLS ? "Waiting for Stripe to confirm your payment…"
      : "Stripe has not confirmed the payment yet. Your credits appear on the dashboard as soon as it does.";
    await new Promise((resolve) => { setTimeout(resolve, poll < FAST_POLLS ? 1000 : 5000); });
  }
});
