// API keys: create one (shown once), list them by their start, revoke. The keys are better-auth's api-key
// plugin's, made and listed through its endpoints under /api/auth/api-key.
import { api, clearErrors, confirmFirst, el, requireFilled, showError, showOnce, start, values, when, whileBusy, wireCopy } from "../app.js";

start(async () => {
  wireCreate();                       // before the first await: the form is on screen from now on
  wireRevoke();
  wireCopy(document.querySelector("[data-new-key]"));
  await showKeys();
});

function wireCreate() {
  const form = document.getElementById("create-key-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    hideNewKey();
    if (!requireFilled(form, { name: "Name the key, so you can tell it apart later." })) return;
    const { name, expiresIn } = values(form);
    const body = { name: name.trim() };
    if (expiresIn) body.expiresIn = Number(expiresIn);
    const button = form.querySelector("button[type=submit]");
    const answer = await whileBusy(button, () => api("/api/auth/api-key/create", { method: "POST", body }));
    if (!answer.ok) {
      showError(form, answer.error, { fieldFor: { INVALID_NAME_LENGTH: "name", EXPIRES_IN_IS_TOO_SMALL: "expiresIn",
        EXPIRES_IN_IS_TOO_LARGE: "expiresIn" }, messages: { INVALID_NAME_LENGTH: "Use 1 to 32 characters." } });
      return;
    }
    form.reset();
    showNewKey(answer.data);
    await showKeys();
  });
}

function showNewKey(key) {
  document.querySelector("[data-new-key-name]").textContent = key.name ? `“${key.name}”` : "";
  showOnce(document.querySelector("[data-new-key]"), key.key);
}

// Once the page moves on (another key, a revocation) the key leaves the page for good.
function hideNewKey() {
  document.querySelector("[data-new-key-value]").value = "";
  document.querySelector("[data-new-key]").hidden = true;
}

async function showKeys() {
  const rows = document.querySelector("[data-keys]");
  const problem = document.querySelector("[data-keys-error]");
  problem.textContent = "";
  const answer = await api("/api/auth/api-key/list?sortBy=createdAt&sortDirection=desc");
  rows.removeAttribute("aria-busy");
  if (!answer.ok) {
    problem.textContent = answer.error.message;
    return;
  }
  const keys = answer.data.apiKeys;
  rows.replaceChildren(...keys.map(keyRow));
  document.querySelector("[data-keys-empty]").hidden = keys.length > 0;
}

function keyRow(key) {
  const label = key.name || "Unnamed key";
  const revoke = el("button", { type: "button", className: "button danger", "aria-label": `Revoke ${label}` }, "Revoke");
  revoke.addEventListener("click", () => revokeKey(key, revoke));
  const state = key.enabled === false ? [" ", el("span", { className: "badge failed" }, "disabled")] : [];
  return el("tr", { dataset: { keyId: key.id } },
    el("td", {}, label, ...state),
    el("td", {}, el("code", {}, `${key.start || ""}…`)),
    el("td", {}, when(key.createdAt)),
    el("td", {}, key.lastRequest ? when(key.lastRequest) : "Never"),
    el("td", {}, key.expiresAt ? when(key.expiresAt) : "Never"),
    el("td", {}, revoke));
}

// Revoking asks first (a <dialog>, as deleting a video does): programs using the key stop working at once.
let askRevoke = null;

function wireRevoke() {
  askRevoke = confirmFirst("revoke", async (button, key) => {
    const answer = await whileBusy(button, () => api("/api/auth/api-key/delete", { method: "POST", body: { keyId: key.id } }));
    if (!answer.ok) {
      document.querySelector("[data-keys-error]").textContent = answer.error.message;
      return;
    }
    hideNewKey();
    document.querySelector("[data-keys-status]").textContent =
      `“${key.name || "Unnamed key"}” was revoked: calls with it are refused from now on.`;
    await showKeys();
  });
}

function revokeKey(key, button) {
  document.querySelector("[data-revoke-name]").textContent = key.name || "Unnamed key";
  askRevoke(button, key);
}
