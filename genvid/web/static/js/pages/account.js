// Account settings: profile, email change (confirmed by mail), password, sessions, and deleting the account.
import { api, clearErrors, el, fieldError, requireFilled, showError, start, status, values, when, whileBusy } from "../app.js";

start(async (session) => {
  const user = session.user;
  document.getElementById("name").value = user.name;
  document.querySelector("[data-current-email]").textContent = user.email;
  const state = document.querySelector("[data-email-state]");
  state.textContent = user.emailVerified ? "confirmed" : "not confirmed";
  state.classList.add(user.emailVerified ? "completed" : "queued");
  wireForm("profile-form", { name: "Enter your name." }, ({ name }) =>
    ["/api/auth/update-user", { name }, "Your name was saved."]);
  wireForm("email-form", { newEmail: "Enter the new email address." }, ({ newEmail }) =>
    ["/api/auth/change-email", { newEmail, callbackURL: "/verify-email" },
      `We sent a confirmation link to ${newEmail}. Your address changes when you follow it.`],
    { fieldFor: { INVALID_EMAIL: "newEmail", VALIDATION_ERROR: "newEmail" } });
  wireForm("password-form", { currentPassword: "Enter your current password.", newPassword: "Choose a new password." },
    ({ currentPassword, newPassword, revokeOtherSessions }) =>
      ["/api/auth/change-password", { currentPassword, newPassword, revokeOtherSessions }, "Your password was changed."],
    { fieldFor: { INVALID_PASSWORD: "currentPassword", PASSWORD_TOO_SHORT: "newPassword", PASSWORD_TOO_LONG: "newPassword" },
      messages: { INVALID_PASSWORD: "This is not your current password.", PASSWORD_TOO_SHORT: "The new password is too short." },
      after: (form) => { form.reset(); document.getElementById("revokeOtherSessions").checked = true; showSessions(); } });
  wireDelete();
  document.querySelector("[data-revoke-others]").addEventListener("click", revokeOthers);
  await showSessions();
});

// A form whose submit sends one request: request(values) gives [endpoint, body, success message].
function wireForm(id, required, request, { fieldFor = {}, messages = {}, after } = {}) {
  const form = document.getElementById(id);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!requireFilled(form, required)) return;
    const [endpoint, body, success] = request(values(form));
    const button = form.querySelector("button[type=submit]");
    const answer = await whileBusy(button, () => api(endpoint, { method: "POST", body }));
    if (!answer.ok) {
      showError(form, answer.error, { fieldFor, messages });
      return;
    }
    status(form, success);
    if (after) after(form);
  });
}

async function showSessions() {
  const problem = document.querySelector("[data-sessions-error]");
  problem.textContent = "";
  const [list, mine] = await Promise.all([api("/api/auth/list-sessions"), api("/api/auth/get-session")]);
  const rows = document.querySelector("[data-sessions]");
  if (!list.ok) {
    rows.replaceChildren();
    problem.textContent = list.error.code === "SESSION_NOT_FRESH"
      ? "To see where you are signed in, sign out and sign in again (this list needs a recent sign-in)."
      : list.error.message;
    return;
  }
  const currentToken = mine.ok && mine.data ? mine.data.session.token : null;
  rows.replaceChildren(...list.data.map((session) => {
    const here = session.token === currentToken;
    const action = here ? el("span", { className: "badge completed" }, "This device")
      : el("button", { type: "button", className: "button", "aria-label": `Sign out ${device(session.userAgent)} from ${session.ipAddress || "an unknown address"}` }, "Sign out");
    if (!here) action.addEventListener("click", () => revoke(session.token, action));
    return el("tr", {}, el("td", {}, device(session.userAgent)), el("td", {}, session.ipAddress || "unknown"),
      el("td", {}, when(session.createdAt)), el("td", {}, action));
  }));
}

// A readable device name from a User-Agent header: browser and system, or what little is known.
function device(userAgent) {
  if (!userAgent) return "Unknown device";
  const browser = ["Edg", "Firefox", "Chrome", "Safari", "curl", "node"].find((name) => userAgent.includes(name));
  const system = ["Android", "iPhone", "iPad", "Windows", "Mac OS", "Linux"].find((name) => userAgent.includes(name));
  if (!browser && !system) return userAgent.slice(0, 40);
  return [browser === "Edg" ? "Edge" : browser, system === "Mac OS" ? "macOS" : system].filter(Boolean).join(" on ");
}

async function revoke(token, button) {
  const answer = await whileBusy(button, () => api("/api/auth/revoke-session", { method: "POST", body: { token } }));
  if (!answer.ok) {
    document.querySelector("[data-sessions-error]").textContent = answer.error.message;
    return;
  }
  document.querySelector("[data-sessions-status]").textContent = "That device is signed out.";
  await showSessions();
}

async function revokeOthers(event) {
  const answer = await whileBusy(event.currentTarget, () => api("/api/auth/revoke-other-sessions", { method: "POST", body: {} }));
  if (!answer.ok) {
    document.querySelector("[data-sessions-error]").textContent = answer.error.message;
    return;
  }
  document.querySelector("[data-sessions-status]").textContent = "Every other device is signed out.";
  await showSessions();
}

function wireDelete() {
  const form = document.getElementById("delete-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!requireFilled(form, { deletePassword: "Enter your password to confirm." })) return;
    const { deletePassword, confirmDelete } = values(form);
    if (!confirmDelete) {
      fieldError(form, "confirmDelete", "Tick this box to confirm that you want to delete everything.");
      document.getElementById("confirmDelete").focus();
      return;
    }
    const button = form.querySelector("button[type=submit]");
    const answer = await whileBusy(button, () => api("/api/auth/delete-user", { method: "POST", body: { password: deletePassword } }));
    if (!answer.ok) {
      showError(form, answer.error, { fieldFor: { INVALID_PASSWORD: "deletePassword" },
        messages: { INVALID_PASSWORD: "This is not your password." } });
      return;
    }
    location.assign("/?account-deleted=1");
  });
}
