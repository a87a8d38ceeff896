// The reset mail's link lands here with ?token= (or ?error=INVALID_TOKEN): choose the new password.
import { api, clearErrors, fieldError, requireFilled, showError, start, values, whileBusy } from "../app.js";

const params = new URLSearchParams(location.search);
const token = params.get("token");
const form = document.getElementById("reset-form");
const invalid = document.querySelector("[data-reset-invalid]");
if (!token || params.get("error")) {
  invalid.hidden = false;
} else {
  form.hidden = false;
  const minimum = form.elements.namedItem("newPassword").getAttribute("minlength");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!requireFilled(form, { newPassword: "Choose a new password.", confirmPassword: "Type the new password again." })) return;
    const { newPassword, confirmPassword } = values(form);
    if (newPassword !== confirmPassword) {
      fieldError(form, "confirmPassword", "The two passwords are not the same.");
      form.elements.namedItem("confirmPassword").focus();
      return;
    }
    const button = form.querySelector("button[type=submit]");
    const answer = await whileBusy(button, () => api("/api/auth/reset-password", { method: "POST", body: { newPassword, token } }));
    if (!answer.ok) {
      if (answer.error.code === "INVALID_TOKEN") {
        form.hidden = true;
        invalid.hidden = false;
        return;
      }
      showError(form, answer.error, {
        fieldFor: { PASSWORD_TOO_SHORT: "newPassword", PASSWORD_TOO_LONG: "newPassword" },
        messages: { PASSWORD_TOO_SHORT: `The password is too short: use at least ${minimum} characters.` },
      });
      return;
    }
    form.hidden = true;
    document.querySelector("[data-reset-done]").hidden = false;
  });
}

start();
