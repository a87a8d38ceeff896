// Sign up: create the account (which signs in), ask for the confirmation mail, go to the dashboard.
import { api, clearErrors, requireFilled, showError, start, values, whileBusy } from "../app.js";

// The form is wired at once, before the session check, so a quick click never submits it natively.
const form = document.getElementById("signup-form");
const minimum = form.elements.namedItem("password").getAttribute("minlength");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  if (!requireFilled(form, { name: "Enter your name.", email: "Enter your email address.", password: "Choose a password." })) return;
  const { name, email, password } = values(form);
  const button = form.querySelector("button[type=submit]");
  const answer = await whileBusy(button, () => api("/api/auth/sign-up/email", { method: "POST", body: { name, email, password } }));
  if (!answer.ok) {
    showError(form, answer.error, {
      fieldFor: { USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL: "email", USER_ALREADY_EXISTS: "email", INVALID_EMAIL: "email",
        PASSWORD_TOO_SHORT: "password", PASSWORD_TOO_LONG: "password" },
      messages: {
        USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL: "An account with this email address exists already. Sign in, or use another address.",
        PASSWORD_TOO_SHORT: `The password is too short: use at least ${minimum} characters.`,
        PASSWORD_TOO_LONG: "The password is too long.",
      },
    });
    return;
  }
  // The account works at once; the confirmation mail is a courtesy, so its outcome does not hold us up.
  await api("/api/auth/send-verification-email", { method: "POST", body: { email, callbackURL: "/verify-email" } });
  location.assign("/dashboard");
});

start();
