// Ask for a password reset mail; the answer is the same whether or not the address has an account.
import { api, clearErrors, requireFilled, showError, start, status, values, whileBusy } from "../app.js";

const form = document.getElementById("forgot-form");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  if (!requireFilled(form, { email: "Enter your email address." })) return;
  const { email } = values(form);
  const button = form.querySelector("button[type=submit]");
  const answer = await whileBusy(button, () => api("/api/auth/request-password-reset",
    { method: "POST", body: { email, redirectTo: "/reset-password" } }));
  if (!answer.ok) {
    showError(form, answer.error, { fieldFor: { INVALID_EMAIL: "email" } });
    return;
  }
  status(form, `If an account uses ${email}, a link to choose a new password is on its way. Check your inbox.`);
});

start();
