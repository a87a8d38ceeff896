// The video list: newest first, filtered by status, a page at a time.
import { api, start, videoCard } from "../app.js";

let cursor = null;

start(async () => {
  const params = new URLSearchParams(location.search);
  const notice = document.querySelector("[data-videos-notice]");
  if (params.has("deleted")) notice.textContent = "The video was deleted.";
  if (params.has("cancelled")) notice.textContent = "The video was cancelled before it rendered, and its credits were given back.";
  const filter = document.getElementById("status-filter");
  filter.addEventListener("change", () => {
    document.querySelector("[data-videos]").replaceChildren();
    cursor = null;
    load();
  });
  document.querySelector("[data-videos-more]").addEventListener("click", load);
  await load();
});

async function load() {
  const grid = document.querySelector("[data-videos]");
  const more = document.querySelector("[data-videos-more]");
  const query = new URLSearchParams({ limit: "12" });
  const status = document.getElementById("status-filter").value;
  if (status) query.set("status", status);
  if (cursor) query.set("cursor", cursor);
  grid.setAttribute("aria-busy", "true");
  const answer = await api(`/api/videos?${query}`);
  grid.removeAttribute("aria-busy");
  if (!answer.ok) {
    document.querySelector("[data-videos-error]").textContent = answer.error.message;
    return;
  }
  for (const video of answer.data) grid.append(videoCard(video));
  document.querySelector("[data-videos-empty]").hidden = grid.children.length > 0;
  cursor = answer.meta && answer.meta.next_cursor;
  more.hidden = !cursor;
}
