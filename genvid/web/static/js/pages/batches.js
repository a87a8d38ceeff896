// The batch list: newest first, each with its progress, a page at a time.
import { api, el, start, when } from "../app.js";

let cursor = null;

start(async () => {
  document.querySelector("[data-batches-more]").addEventListener("click", load);
  await load();
});

async function load() {
  const body = document.querySelector("[data-batches]");
  const more = document.querySelector("[data-batches-more]");
  const query = new URLSearchParams({ limit: "20" });
  if (cursor) query.set("cursor", cursor);
  body.setAttribute("aria-busy", "true");
  const answer = await api(`/api/batches?${query}`);
  body.removeAttribute("aria-busy");
  if (!answer.ok) {
    document.querySelector("[data-batches-error]").textContent = answer.error.message;
    return;
  }
  for (const batch of answer.data) body.append(row(batch));
  document.querySelector("[data-batches-empty]").hidden = body.children.length > 0;
  cursor = answer.meta && answer.meta.next_cursor;
  more.hidden = !cursor;
}

const BATCH_WORDS = { running: "Running", finished: "Finished", cancelled: "Cancelled" };

function row(batch) {
  const c = batch.counts;
  const settled = c.completed + c.failed + c.cancelled + c.deleted;
  return el("tr", {},
    el("td", {}, el("a", { href: `/batches/${encodeURIComponent(batch.id)}` }, batch.name || `Batch of ${batch.row_count}`)),
    el("td", {}, when(batch.created_at)),
    el("td", {}, el("progress", { max: String(batch.row_count), value: String(settled), "aria-label": `${settled} of ${batch.row_count} rows done` }),
      ` ${settled} / ${batch.row_count}`),
    el("td", {}, el("span", { className: `badge ${badgeClass(batch.status)}` }, BATCH_WORDS[batch.status] || batch.status)));
}

function badgeClass(status) {
  return { running: "rendering", finished: "completed", cancelled: "cancelled" }[status] || "";
}
