// Sign in with email and password (or a configured social provider), then go where ?next= says.
import { api, clearErrors, nextPath, requireFilled, showError, start, values, whileBusy } from "../app.js";

const NOTICES = {
  "signed-out": "You are signed out.",
  "password-changed": "Your password was changed. Sign in with the new one.",
};

// Everything is wired at once, before the session check, so a quick click never submits a form natively.
const params = new URLSearchParams(location.search);
const notice = document.querySelector("[data-signin-notice]");
for (const [key, text] of Object.entries(NOTICES)) if (params.has(key)) notice.textContent = text;
if (params.has("next")) notice.textContent = "Sign in to continue.";

const form = document.getElementById("signin-form");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  if (!requireFilled(form, { email: "Enter your email address.", password: "Enter your password." })) return;
  const { email, password, remember } = values(form);
  const button = form.querySelector("button[type=submit]");
  const answer = await whileBusy(button, () => api("/api/auth/sign-in/email",
    { method: "POST", body: { email, password, rememberMe: remember } }));
  if (!answer.ok) {
    showError(form, answer.error, {
      fieldFor: { INVALID_EMAIL_OR_PASSWORD: "password", INVALID_EMAIL: "email", EMAIL_NOT_VERIFIED: "email" },
      messages: {
        INVALID_EMAIL_OR_PASSWORD: "The email address or the password is wrong.",
        INVALID_EMAIL: "Enter a valid email address.",
      },
    });
    return;
  }
  location.assign(nextPath());
});

// Social sign-in (better-auth's flow): ask for the provider's address, then go there.
const socialError = document.querySelector("[data-social-error]");
if (socialError && params.get("error")) socialError.textContent = `Signing in with that provider failed (${params.get("error")}).`;
for (const button of document.querySelectorAll("[data-social-provider]")) {
  button.addEventListener("click", async () => {
    socialError.textContent = "";
    const answer = await whileBusy(button, () => api("/api/auth/sign-in/social", { method: "POST",
      body: { provider: button.dataset.socialProvider, callbackURL: nextPath(), errorCallbackURL: "/signin" } }));
    if (answer.ok && answer.data && answer.data.url) location.assign(answer.data.url);
    else socialError.textContent = answer.ok ? "The provider did not answer with a sign-in page." : answer.error.message;
  });
}

start();
