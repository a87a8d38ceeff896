// What every page shares: calling genvid's public API, showing its errors next to what caused them, the
// session (pages that need one send guests to sign in), and a few formatters. No framework, no build step.

// api(path, {method, body, headers}) -> {ok, status, data, meta, error}. body is sent as JSON, or as
// multipart/form-data when it is a FormData. The session cookie is HttpOnly, so it goes along by itself (same
// origin). Both error shapes genvid speaks are turned into one: error = {code, message, fields: {fieldName:
// message}, details: the envelope's details as they came (e.g. a batch's problems by row and column)}.
export async function api(path, { method = "GET", body, headers = {} } = {}) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json", ...headers } };
  if (body instanceof FormData) {
    init.body = body;                     // multipart: the browser writes the Content-Type and its boundary
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    return { ok: false, status: 0, error: { code: "NETWORK", fields: {},
      message: "Could not reach genvid. Check your connection and try again." } };
  }
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (response.ok) {
    const enveloped = json && typeof json === "object" && "success" in json && "data" in json;
    return { ok: true, status: response.status, data: enveloped ? json.data : json, meta: enveloped ? json.meta : null };
  }
  return { ok: false, status: response.status, error: toError(response.status, json) };
}

function toError(status, json) {
  const fields = {};
  if (json && json.error && typeof json.error === "object") {          // the /api envelope
    for (const detail of Array.isArray(json.error.details) ? json.error.details : []) {
      if (detail && detail.field) fields[detail.field] = tidy(detail.message);
    }
    return { code: json.error.code, message: json.error.message, fields, details: json.error.details };
  }
  if (json && (json.code || json.message)) {                            // /api/auth, as better-auth answers
    const message = String(json.message || "");
    for (const match of message.matchAll(/\[body\.(\w+)\] ([^;]+)/g)) fields[match[1]] = tidy(match[2]);
    return { code: json.code || `HTTP_${status}`, fields,
      message: PLAIN_WORDS[json.code] || message || `The request failed (${status}).` };
  }
  if (status === 429) return { code: "RATE_LIMITED", fields, message: "Too many attempts. Wait a minute and try again." };
  return { code: `HTTP_${status}`, fields, message: status >= 500
    ? "Something went wrong on our side. Please try again." : `The request failed (${status}).` };
}

// better-auth's terse messages that a person cannot act on, said plainly.
const PLAIN_WORDS = {
  INVALID_ORIGIN: "genvid refused this form: the page was opened at an address genvid was not set up for (see the note at the top).",
  MISSING_OR_NULL_ORIGIN: "genvid refused this form because the browser did not say which site sent it. Reload the page and try again.",
};

// pydantic prefixes its custom messages ("Value error, ..."); zod says "Invalid input: ...". People get the rest.
function tidy(message) {
  return String(message || "").replace(/^Value error, /, "").replace(/^Invalid email address$/, "Enter a valid email address.");
}

// ---- errors next to what caused them ---------------------------------------------------------------------

export function clearErrors(scope) {
  for (const slot of scope.querySelectorAll("[data-error-for], [data-form-error]")) slot.textContent = "";
  for (const slot of scope.querySelectorAll("[data-form-status]")) slot.textContent = "";
  for (const input of scope.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

// Put message under the field called name (its input gets aria-invalid). Returns false if there is no such slot.
export function fieldError(scope, name, message) {
  const slot = scope.querySelector(`[data-error-for="${name}"]`);
  if (!slot) return false;
  slot.textContent = message;
  const input = scope.querySelector(`[name="${name}"]`) || scope.querySelector(`#${CSS.escape(name)}`);
  if (input) input.setAttribute("aria-invalid", "true");
  return true;
}

// Show an API error: field messages under their fields, codes listed in fieldFor under that field, anything
// else in the form's own error line. The first field with an error gets the focus.
export function showError(scope, error, { fieldFor = {}, messages = {} } = {}) {
  let placed = false;
  for (const [name, message] of Object.entries(error.fields || {})) {
    placed = fieldError(scope, name, message) || placed;
  }
  const message = messages[error.code] || error.message;
  if (fieldFor[error.code]) placed = fieldError(scope, fieldFor[error.code], message) || placed;
  if (!placed) {
    const line = scope.querySelector("[data-form-error]");
    if (line) line.textContent = message;
  }
  const first = scope.querySelector("[aria-invalid='true']");
  if (first) first.focus();
}

export function status(scope, message) {
  const line = scope.querySelector("[data-form-status]");
  if (line) line.textContent = message;
}

// Disable a button while its request runs, so a double click sends one request.
export async function whileBusy(button, work) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try { return await work(); } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

// The script half of _parts.html's confirm_dialog: returns ask(button, subject), which opens
// [data-<action>-dialog] for that button (and what it acts on, if the page has several). Closing the dialog
// with its danger button runs act(button, subject); any other way (its first button, Escape) puts the focus
// back on the button.
export function confirmFirst(action, act) {
  const dialog = document.querySelector(`[data-${action}-dialog]`);
  let asked = null;
  dialog.addEventListener("close", async () => {
    const { button, subject } = asked;
    if (dialog.returnValue !== action) {
      button.focus();
      return;
    }
    await act(button, subject);
  });
  return (button, subject) => {
    asked = { button, subject };
    dialog.returnValue = "";          // what closed it last time (this action, perhaps) is no answer now
    dialog.showModal();
  };
}

// Read a form's named fields as strings (checkboxes as booleans).
export function values(form) {
  const out = {};
  for (const element of form.elements) {
    if (!element.name) continue;
    out[element.name] = element.type === "checkbox" ? element.checked : element.value;
  }
  return out;
}

// Fields that must not be empty: a message under each, and false when any is.
export function requireFilled(form, labels) {
  let ok = true;
  for (const [name, message] of Object.entries(labels)) {
    const input = form.elements.namedItem(name);
    if (input && !String(input.value).trim()) {
      fieldError(form, name, message);
      ok = false;
    }
  }
  const first = form.querySelector("[aria-invalid='true']");
  if (first) first.focus();
  return ok;
}

// ---- a value shown once ----------------------------------------------------------------------------------

// A value the API returns only once (an API key, a webhook secret), in a box made by _parts.html's shown_once.
// showOnce(box, value) shows it there; wireCopy(box) makes its Copy button copy it.
export function showOnce(box, value) {
  box.querySelector("input").value = value;
  box.querySelector("[data-copy-status]").textContent = "";
  box.hidden = false;
  box.focus();
}

export function wireCopy(box) {
  box.querySelector("[data-copy]").addEventListener("click", async () => {
    const input = box.querySelector("input");
    input.select();
    let copied = false;
    try {
      await navigator.clipboard.writeText(input.value);
      copied = true;
    } catch {
      copied = false;                 // no clipboard (plain http elsewhere than localhost): it is selected
    }
    box.querySelector("[data-copy-status]").textContent = copied ? "Copied." : "Selected: press Ctrl+C (⌘C) to copy.";
  });
}

// ---- session ----------------------------------------------------------------------------------------------

export async function currentSession() {
  const answer = await api("/api/auth/get-session");
  return answer.ok && answer.data && answer.data.user ? answer.data : null;
}

// Where to go after signing in: a path on this site from ?next=, else the dashboard.
export function nextPath() {
  const next = new URLSearchParams(location.search).get("next") || "";
  return next.startsWith("/") && !next.startsWith("//") && !next.includes("\\") ? next : "/dashboard";
}

async function signOut() {
  await api("/api/auth/sign-out", { method: "POST", body: {} });
  location.assign("/signin?signed-out=1");
}

// start(main): check the session as the page's data-auth asks, then run main(session) (null when signed out,
// on pages that allow it).
export async function start(main) {
  warnOnAnotherOrigin();
  const need = document.body.dataset.auth;
  const session = await currentSession();
  if (need === "required" && !session) {
    location.replace(`/signin?next=${encodeURIComponent(location.pathname + location.search + location.hash)}`);
    return;
  }
  if (need === "guest" && session) {
    location.replace(nextPath());
    return;
  }
  for (const button of document.querySelectorAll("[data-sign-out]")) button.addEventListener("click", signOut);
  document.querySelector("[data-nav=member]").hidden = !session;
  document.querySelector("[data-nav=guest]").hidden = Boolean(session);
  document.body.classList.add("ready");
  if (main) await main(session);
}

// The auth endpoints accept forms only from genvid's configured origin: say so before a sign-in is refused
// (e.g. the page opened as 127.0.0.1 while BETTER_AUTH_URL says localhost).
function warnOnAnotherOrigin() {
  const origin = document.body.dataset.origin;
  if (!origin || origin === location.origin) return;
  const link = document.querySelector("[data-origin-link]");
  link.href = origin + location.pathname + location.search;
  link.textContent = origin;
  document.querySelector("[data-wrong-origin]").hidden = false;
}

// ---- live status --------------------------------------------------------------------------------------------

// Follow one thing that changes on the server (a video, a batch; url is its API path): every `status` event of
// url/events carries the whole thing, handed to show(); the stream is closed once done(thing) says it is final.
// A refused stream (the server caps them per user) falls back to asking url every few seconds. Returns the
// EventSource, for the page's own events.
export function followStatus(url, { show, done }) {
  let latest = null;
  const stream = new EventSource(`${url}/events`);
  stream.addEventListener("status", (event) => {
    latest = JSON.parse(event.data);
    show(latest);
    if (done(latest)) stream.close();
  });
  stream.addEventListener("error", async () => {
    if (stream.readyState !== EventSource.CLOSED) return;
    while (!latest || !done(latest)) {
      await new Promise((resolve) => { setTimeout(resolve, 3000); });
      const answer = await api(url);
      if (answer.ok) {
        latest = answer.data;
        await show(latest);
      }
    }
  });
  return stream;
}

// ---- formatting -------------------------------------------------------------------------------------------

export function plural(count, one, many) {
  return `${count.toLocaleString()} ${count === 1 ? one : many}`;
}

export function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function money(amount, currency) {
  if (amount == null) return "";
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: currency.toUpperCase() }).format(amount / 100);
  } catch {
    return `${(amount / 100).toFixed(2)} ${currency.toUpperCase()}`;
  }
}

// A random key for Idempotency-Key headers (crypto.randomUUID needs a secure context; this does not).
export function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Build an element: el("a", {href: "/x", className: "y"}, "text", child...). Text is always text, never HTML.
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === "className") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2).toLowerCase(), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child != null && child !== false) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// Fill a <dl> with [term, value] pairs (a value is text or an element).
export function fillDetails(list, rows) {
  list.replaceChildren(...rows.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
}

export const STATUS_WORDS = {
  queued: "Waiting", submitting: "Starting", rendering: "Rendering", completed: "Ready",
  failed: "Failed", cancelled: "Cancelled",
};

export function excerpt(text, length = 60) {
  const flat = String(text || "").replace(/\s+/g, " ").trim();
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}

// One video in a grid (dashboard, video list): thumbnail, title, status and date, linking to its page.
export function videoCard(video) {
  const word = STATUS_WORDS[video.status] || video.status;
  const picture = video.thumbnail_url
    ? el("img", { className: "video-thumb", src: video.thumbnail_url, alt: "", loading: "lazy" })
    : el("span", { className: "video-thumb placeholder", "aria-hidden": "true" }, word);
  return el("li", {}, el("a", { href: `/videos/${encodeURIComponent(video.id)}` },
    picture,
    el("span", { className: "video-title" }, video.title || excerpt(video.script)),
    el("span", { className: "video-meta" }, el("span", { className: `badge ${video.status}` }, word), " ", when(video.created_at))));
}
