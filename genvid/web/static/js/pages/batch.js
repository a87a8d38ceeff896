// One batch: live progress over Server-Sent Events (polling if the stream is refused), its rows' videos, the
// results as CSV, and cancelling the rows that have not started (refunded).
import { api, confirmFirst, el, fillDetails, followStatus, plural, start, STATUS_WORDS, when } from "../app.js";

const article = document.querySelector("[data-batch-id]");
const batchId = article.dataset.batchId;
const path = `/api/batches/${encodeURIComponent(batchId)}`;
const WORDS = { running: "Running", finished: "Finished", cancelled: "Cancelled" };
const BADGES = { running: "rendering", finished: "completed", cancelled: "cancelled" };
let resultsShown = "";
let resultsAsked = 0;          // answers to older requests than the newest are dropped (they may come last)

start(async () => {
  wireCancel();
  document.querySelector("[data-download]").href = `${path}/results.csv`;
  const answer = await api(path);
  if (!answer.ok) {
    document.querySelector("[data-batch-error]").textContent = answer.error.code === "BATCH_NOT_FOUND"
      ? "There is no such batch in your account." : answer.error.message;
    for (const section of article.querySelectorAll("section")) section.hidden = true;
    return;
  }
  await show(answer.data);
  if (!answer.data.done) followStatus(path, { show, done: (batch) => batch.done });
});

async function show(batch) {
  const title = batch.name || `Batch of ${plural(batch.row_count, "video", "videos")}`;
  document.querySelector("[data-batch-title]").textContent = title;
  document.title = `${title} · genvid`;
  const badge = document.querySelector("[data-status-badge]");
  badge.textContent = WORDS[batch.status] || batch.status;
  badge.className = `badge ${BADGES[batch.status] || ""}`;
  const c = batch.counts;
  const settled = c.completed + c.failed + c.cancelled + c.deleted;
  document.querySelector("[data-status-text]").textContent = `${settled} of ${plural(batch.row_count, "row", "rows")} done`;
  const progress = document.querySelector("[data-progress]");
  progress.max = batch.row_count;
  progress.value = settled;
  const counts = [["Waiting", c.queued], ["Starting", c.submitting], ["Rendering", c.rendering], ["Ready", c.completed],
    ["Failed", c.failed], ["Cancelled", c.cancelled], ["Deleted", c.deleted]].filter(([, n]) => n > 0);
  counts.push(["Cost", plural(batch.credits, "credit", "credits")]);
  if (batch.refunded_credits) counts.push(["Given back", plural(batch.refunded_credits, "credit", "credits")]);
  fillDetails(document.querySelector("[data-counts]"), counts);
  document.querySelector("[data-cancel]").hidden = c.queued === 0;
  const t = batch.template;
  const details = [["Created", when(batch.created_at)], ["Rows", String(batch.row_count)],
    ["Variables", batch.variables.join(", ") || "none"], ["Shape", t.aspect_ratio], ["Resolution", t.resolution]];
  if (t.title) details.push(["Title", t.title]);
  fillDetails(document.querySelector("[data-details]"), details);
  document.querySelector("[data-script]").textContent = t.script;
  await showResults(batch);
}

// The rows' table, fetched again only when the counts changed; only the newest answer is shown.
async function showResults(batch) {
  const key = JSON.stringify(batch.counts);
  if (key === resultsShown) return;
  resultsShown = key;
  const asked = ++resultsAsked;
  const answer = await api(`${path}/results`);
  if (!answer.ok || asked !== resultsAsked) return;
  document.querySelector("[data-results]").replaceChildren(...answer.data.map((result) => el("tr", {},
    el("td", {}, String(result.row)),
    el("td", {}, el("span", { className: `badge ${result.status}` }, STATUS_WORDS[result.status] || result.status),
      result.failure ? ` ${result.failure.message}` : ""),
    el("td", {}, result.video_id ? el("a", { href: `/videos/${encodeURIComponent(result.video_id)}` }, result.title || "Open the video") : "—"))));
}

function wireCancel() {
  const button = document.querySelector("[data-cancel]");
  const problem = document.querySelector("[data-cancel-error]");
  const ask = confirmFirst("cancel", async () => {
    problem.textContent = "";
    button.disabled = true;
    const answer = await api(`${path}/cancel`, { method: "POST" });
    button.disabled = false;
    if (!answer.ok) {
      problem.textContent = answer.error.message;
      return;
    }
    document.querySelector("[data-cancel-status]").textContent =
      `${plural(answer.data.cancelled_rows, "row was", "rows were")} cancelled; ${plural(answer.data.refunded_credits, "credit was", "credits were")} given back.`;
    await show(answer.data.batch);
  });
  button.addEventListener("click", () => ask(button));
}
