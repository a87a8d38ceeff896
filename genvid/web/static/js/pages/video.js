// One video: live progress over Server-Sent Events (polling if the stream is refused), then the player and
// the download link; details; delete (which cancels and refunds a render that has not started).
import { api, confirmFirst, el, fillDetails, followStatus, plural, start, STATUS_WORDS, when } from "../app.js";

const article = document.querySelector("[data-video-id]");
const videoId = article.dataset.videoId;
const STAGES = ["queued", "submitting", "rendering", "completed"];
const FINAL = new Set(["completed", "failed", "cancelled"]);
const SAYS = {
  queued: "Waiting for a renderer…",
  submitting: "Starting the render…",
  rendering: "Rendering…",
  completed: "Ready to watch.",
};
let current = null;

start(async () => {
  wireDelete();                       // before the first await: the button is on screen from now on
  const answer = await api(`/api/videos/${encodeURIComponent(videoId)}`);
  if (!answer.ok) {
    document.querySelector("[data-video-error]").textContent = answer.error.code === "VIDEO_NOT_FOUND"
      ? "There is no such video in your account. It may have been deleted." : answer.error.message;
    for (const section of article.querySelectorAll("section")) section.hidden = true;
    return;
  }
  show(answer.data);
  if (!FINAL.has(answer.data.status)) follow();
  document.querySelector("[data-player]").addEventListener("error", refreshMedia, { once: true });
});

// Status changes arrive as `status` events carrying the whole video (or by polling, see followStatus); a
// `deleted` event ends it.
function follow() {
  const stream = followStatus(`/api/videos/${encodeURIComponent(videoId)}`,
    { show, done: (video) => FINAL.has(video.status) });
  stream.addEventListener("deleted", () => {
    stream.close();
    document.querySelector("[data-video-error]").textContent = "This video was deleted.";
  });
}

function show(video) {
  const changed = !current || current.status !== video.status;
  current = video;
  const title = video.title || "Untitled video";
  document.querySelector("[data-video-title]").textContent = title;
  document.title = `${title} · genvid`;
  const badge = document.querySelector("[data-status-badge]");
  badge.textContent = STATUS_WORDS[video.status] || video.status;
  badge.className = `badge ${video.status}`;
  if (changed) {
    document.querySelector("[data-status-text]").textContent = SAYS[video.status]
      || (video.failure ? video.failure.message : "");
  }
  const stage = STAGES.indexOf(video.status);
  const progress = document.querySelector("[data-progress]");
  progress.hidden = stage < 0;
  progress.value = stage + 1;
  progress.setAttribute("aria-valuetext", STATUS_WORDS[video.status] || video.status);
  for (const item of document.querySelectorAll("[data-stage]")) {
    const index = STAGES.indexOf(item.dataset.stage);
    item.classList.toggle("done", stage >= 0 && index < stage);
    item.classList.toggle("current", index === stage);
    if (index === stage) item.setAttribute("aria-current", "step");
    else item.removeAttribute("aria-current");
  }
  document.querySelector("[data-stages]").hidden = stage < 0;
  if (video.status === "completed" && video.video_url) showPlayer(video);
  if (changed) describe(video);
  document.querySelector("[data-delete-explainer]").textContent = video.status === "queued"
    ? `It has not started rendering, so deleting cancels it and gives back its ${plural(video.credits, "credit", "credits")}.`
    : "Deleting removes the video and its file for good.";
}

function showPlayer(video) {
  const player = document.querySelector("[data-player]");
  if (!player.getAttribute("src")) {
    if (video.thumbnail_url) player.poster = video.thumbnail_url;
    player.src = video.video_url;
  }
  const download = document.querySelector("[data-download]");
  download.href = video.video_url;
  download.setAttribute("download", `${(video.title || "genvid-video").replace(/[^\w.-]+/g, "-")}.mp4`);
  document.querySelector("[data-duration]").textContent = video.duration ? `${video.duration.toFixed(1)} seconds` : "";
  document.querySelector("[data-warnings]").replaceChildren(
    ...(video.warnings || []).map((warning) => el("li", {}, warning.message)));
  document.querySelector("[data-player-section]").hidden = false;
}

// Media links are signed for a few minutes: a player left open longer gets a fresh link once.
async function refreshMedia() {
  const answer = await api(`/api/videos/${encodeURIComponent(videoId)}`);
  if (!answer.ok || !answer.data.video_url) return;
  const player = document.querySelector("[data-player]");
  player.removeAttribute("src");
  showPlayer(answer.data);
}

let catalogue = null;      // the avatar and voice names, fetched once

async function describe(video) {
  catalogue = catalogue || Promise.all([api("/api/avatars?limit=100"), api("/api/voices?limit=100")]);
  const [avatars, voices] = await catalogue;
  const name = (answer, id) => (answer.ok && answer.data.find((item) => item.id === id)?.name) || id;
  const rows = [
    ["Avatar", name(avatars, video.avatar_id)],
    ["Voice", name(voices, video.voice_id)],
    ["Shape", video.aspect_ratio],
    ["Resolution", video.resolution],
    ["Captions", video.captions ? "Burnt in" : "None"],
    ["Background", video.background || "The avatar's own"],
    ["Cost", plural(video.credits, "credit", "credits")],
    ["Created", when(video.created_at)],
  ];
  if (video.finished_at) rows.push(["Finished", when(video.finished_at)]);
  fillDetails(document.querySelector("[data-details]"), rows);
  document.querySelector("[data-script]").textContent = video.script;
}

function wireDelete() {
  const button = document.querySelector("[data-delete]");
  const problem = document.querySelector("[data-delete-error]");
  const ask = confirmFirst("delete", async () => {
    problem.textContent = "";
    button.disabled = true;
    const answer = await api(`/api/videos/${encodeURIComponent(videoId)}`, { method: "DELETE" });
    button.disabled = false;
    if (!answer.ok) {
      problem.textContent = answer.error.message;
      button.focus();
      return;
    }
    location.assign(answer.data.cancelled ? "/videos?cancelled=1" : "/videos?deleted=1");
  });
  button.addEventListener("click", () => ask(button));
}
