// New batch: pick the avatar and voice, write the template, choose a CSV file; check it (every row is checked
// and priced by POST /api/batch-previews, nothing is charged), then create it (POST /api/batches, paid at once).
import { api, clearErrors, el, newKey, plural, showError, start, status, whileBusy } from "../app.js";

const form = document.getElementById("batch-form");
const check = document.querySelector("[data-check]");
const create = document.querySelector("[data-create]");
const idempotencyKey = newKey();          // one per page view: a retried submit never creates two batches
const TEMPLATE_FIELDS = ["avatar_id", "voice_id", "script", "title"];

start(async () => {
  check.addEventListener("click", () => whileBusy(check, preview));
  form.addEventListener("submit", submit);
  for (const input of form.elements) input.addEventListener("change", () => { create.disabled = true; });
  form.elements.namedItem("script").addEventListener("input", () => { create.disabled = true; });
  await Promise.all([fill("avatar_id", "/api/avatars?limit=100"), fill("voice_id", "/api/voices?limit=100")]);
});

async function fill(name, path) {
  const select = form.elements.namedItem(name);
  const answer = await api(path);
  if (!answer.ok) {
    select.replaceChildren(el("option", { value: "" }, "Could not be loaded"));
    return;
  }
  select.replaceChildren(...answer.data.map((item) => el("option", { value: item.id },
    [item.name, item.language, item.gender].filter(Boolean).join(" · "))));
}

// The multipart body both endpoints take: the template as JSON, the rows as the chosen file.
function body() {
  const v = (name) => form.elements.namedItem(name).value;
  const template = { avatar_id: v("avatar_id"), voice_id: v("voice_id"), script: v("script"),
    aspect_ratio: v("aspect_ratio"), resolution: v("resolution"), captions: form.elements.namedItem("captions").checked };
  if (v("title").trim()) template.title = v("title");
  const data = new FormData();
  data.append("template", JSON.stringify(template));
  if (v("name").trim()) data.append("name", v("name").trim());
  const file = form.elements.namedItem("rows").files[0];
  if (file) data.append("rows", file, file.name);
  return { data, file };
}

function ready() {
  clearErrors(form);
  document.querySelector("[data-problems]").hidden = true;
  const { data, file } = body();
  let ok = true;
  if (!form.elements.namedItem("script").value.trim()) {
    showError(form, { fields: { script: "Write the script template." } });
    ok = false;
  }
  if (!file) {
    showError(form, { fields: { rows: "Choose a CSV file." } });
    ok = false;
  }
  return ok ? data : null;
}

async function preview() {
  create.disabled = true;
  document.querySelector("[data-price]").hidden = true;
  const data = ready();
  if (!data) return;
  const answer = await api("/api/batch-previews", { method: "POST", body: data });
  if (!answer.ok) {
    problems(answer.error);
    return;
  }
  const quote = answer.data;
  document.querySelector("[data-price-line]").textContent =
    `${plural(quote.row_count, "video", "videos")} for ${plural(quote.credits, "credit", "credits")}.`;
  document.querySelector("[data-balance-line]").textContent = quote.enough_credits
    ? `You have ${plural(quote.balance, "credit", "credits")}; ${plural(quote.balance - quote.credits, "credit", "credits")} will be left.`
    : `You have ${plural(Math.max(quote.balance, 0), "credit", "credits")}: buy more on the dashboard first.`;
  document.querySelector("[data-first-script]").textContent = quote.first_row.script;
  document.querySelector("[data-price]").hidden = false;
  create.disabled = !quote.enough_credits;
  status(form, "Every row checks out.");
}

async function submit(event) {
  event.preventDefault();
  const data = ready();
  if (!data) return;
  await whileBusy(create, async () => {
    const answer = await api("/api/batches", { method: "POST", body: data, headers: { "Idempotency-Key": idempotencyKey } });
    if (!answer.ok) {
      problems(answer.error);
      return;
    }
    location.assign(`/batches/${encodeURIComponent(answer.data.id)}`);
  });
}

// Template problems go under their fields; row problems into the table (row, line, column, what is wrong).
function problems(error) {
  const details = Array.isArray(error.details) ? error.details : [];
  const fields = {};
  const rows = [];
  for (const detail of details) {
    const field = String(detail.field || "");
    const name = field.replace(/^template\./, "");
    if (field.startsWith("template.") && TEMPLATE_FIELDS.includes(name)) fields[name] = detail.message;
    else if (field === "rows" && detail.row === undefined && detail.type !== "more_problems") fields.rows = detail.message;
    else rows.push(detail);
  }
  const message = rows.length ? "Fix the problems listed above, then check again. Nothing was charged." : error.message;
  showError(form, { code: error.code, message, fields });
  const table = document.querySelector("[data-problem-rows]");
  table.replaceChildren(...rows.map((detail) => el("tr", {},
    el("td", {}, detail.row ?? ""), el("td", {}, detail.line ?? ""), el("td", {}, detail.column ?? ""),
    el("td", {}, detail.message))));
  document.querySelector("[data-problems]").hidden = rows.length === 0;
}
