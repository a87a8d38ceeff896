// Verification and email-change links land here (through /api/auth/verify-email); ?error= when they failed.
import { api, el, start } from "../app.js";

start(async (session) => {
  const message = document.querySelector("[data-verify-message]");
  const actions = document.querySelector("[data-verify-actions]");
  const failed = new URLSearchParams(location.search).get("error");
  const user = session && session.user;
  if (failed) {
    message.className = "form-error";
    message.textContent = "This link is not valid any more: it was used already, or it is more than an hour old.";
  } else if (user && !user.emailVerified) {
    message.textContent = `Your email address ${user.email} is not confirmed yet.`;
  } else if (user) {
    message.textContent = `Your email address ${user.email} is confirmed. Thank you.`;
    actions.append(el("a", { className: "button primary", href: "/dashboard" }, "Go to your dashboard"));
    return;
  } else {
    message.textContent = "Your email address is confirmed. Sign in to continue.";
    actions.append(el("a", { className: "button primary", href: "/signin" }, "Sign in"));
    return;
  }
  if (!user) {
    actions.append(el("a", { className: "button primary", href: "/signin?next=/dashboard" }, "Sign in to get a new link"));
    return;
  }
  const status = el("span", { role: "status" });
  const send = el("button", { type: "button", className: "button primary" }, "Send me a new link");
  send.addEventListener("click", async () => {
    const answer = await api("/api/auth/send-verification-email", { method: "POST", body: { email: user.email, callbackURL: "/verify-email" } });
    status.textContent = answer.ok ? `A new link is on its way to ${user.email}.` : answer.error.message;
  });
  actions.append(send, status);
});
