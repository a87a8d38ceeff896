// New video: pick an avatar from the gallery and a voice (filtered by language and gender, with samples),
// write the script (live count and price), set the options, and create it.
import { api, clearErrors, el, fieldError, newKey, plural, showError, start, whileBusy } from "../app.js";

const form = document.getElementById("video-form");
const script = document.getElementById("script");
const charsPerSecond = Number(form.dataset.charsPerSecond);
const charsPerCredit = charsPerSecond * Number(form.dataset.secondsPerCredit);
const idempotencyKey = newKey();          // one per page view: a retried submit never creates two videos
const sample = document.querySelector("[data-voice-sample]");
let avatars = [];
let chosenVoice = null;
let balance = null;

start(async () => {
  script.addEventListener("input", showPrice);
  const useBackground = document.getElementById("use-background");
  useBackground.addEventListener("change", () => { document.getElementById("background").disabled = !useBackground.checked; });
  for (const id of ["voice-language", "voice-gender"]) document.getElementById(id).addEventListener("change", () => showVoices());
  form.addEventListener("submit", submit);
  await Promise.all([showAvatars(), showVoices({ fillLanguages: true }), loadBalance()]);
  showPrice();
});

// Every page of a catalogue listing (they are small; a large HeyGen catalogue is capped at 1,000 entries).
async function everything(path, filters = {}) {
  const items = [];
  let cursor = null;
  do {
    const query = new URLSearchParams({ limit: "100", ...filters });
    if (cursor) query.set("cursor", cursor);
    const answer = await api(`${path}?${query}`);
    if (!answer.ok) return answer;
    items.push(...answer.data);
    cursor = answer.meta && answer.meta.next_cursor;
  } while (cursor && items.length < 1000);
  return { ok: true, data: items };
}

async function showAvatars() {
  const status = document.querySelector("[data-avatars-status]");
  const answer = await everything("/api/avatars");
  if (!answer.ok) {
    status.textContent = "";
    fieldError(form, "avatar_id", `The avatars could not be loaded: ${answer.error.message}`);
    return;
  }
  avatars = answer.data;
  status.textContent = avatars.length ? "" : "No avatars are available right now.";
  const grid = document.querySelector("[data-avatars]");
  grid.replaceChildren(...avatars.map((avatar) => {
    const input = el("input", { type: "radio", name: "avatar_id", value: avatar.id, id: `avatar-${avatar.id}` });
    input.addEventListener("change", () => preferVoiceOf(avatar));
    const picture = avatar.preview_image_url
      ? el("img", { src: avatar.preview_image_url, alt: "", loading: "lazy", width: "256", height: "256" })
      : el("span", { className: "avatar-placeholder", "aria-hidden": "true" });
    const meta = [avatar.gender, avatar.premium ? "premium" : null].filter(Boolean).join(" · ");
    return el("label", { className: "avatar-option", for: `avatar-${avatar.id}` }, input, picture,
      el("span", { className: "avatar-name" }, avatar.name), meta ? el("span", { className: "avatar-meta" }, meta) : null);
  }));
}

// An avatar may come with its own voice: choose it when no voice was chosen yet.
function preferVoiceOf(avatar) {
  if (chosenVoice || !avatar.default_voice_id) return;
  const input = form.querySelector(`input[name="voice_id"][value="${CSS.escape(avatar.default_voice_id)}"]`);
  if (input) {
    input.checked = true;
    chosenVoice = input.value;
  }
}

function languageName(code) {
  try {
    return new Intl.DisplayNames([navigator.language || "en"], { type: "language" }).of(code) || code;
  } catch {
    return code;
  }
}

async function showVoices({ fillLanguages = false } = {}) {
  const status = document.querySelector("[data-voices-status]");
  const filters = {};
  const language = document.getElementById("voice-language").value;
  const gender = document.getElementById("voice-gender").value;
  if (language) filters.language = language;
  if (gender) filters.gender = gender;
  status.textContent = "Loading voices…";
  const answer = await everything("/api/voices", filters);
  if (!answer.ok) {
    status.textContent = "";
    fieldError(form, "voice_id", `The voices could not be loaded: ${answer.error.message}`);
    return;
  }
  const voices = answer.data;
  if (fillLanguages) {
    const select = document.getElementById("voice-language");
    const codes = [...new Set(voices.map((voice) => voice.language).filter(Boolean))].sort();
    select.append(...codes.map((code) => el("option", { value: code }, languageName(code))));
  }
  status.textContent = voices.length ? `${plural(voices.length, "voice", "voices")}` : "No voice matches these filters.";
  document.querySelector("[data-voices]").replaceChildren(...voices.map(voiceRow));
}

function voiceRow(voice) {
  const id = `voice-${voice.id}`;
  const input = el("input", { type: "radio", name: "voice_id", value: voice.id, id, checked: voice.id === chosenVoice });
  input.addEventListener("change", () => { chosenVoice = voice.id; });
  const meta = [voice.language ? languageName(voice.language) : null, voice.gender, voice.premium ? "premium" : null]
    .filter(Boolean).join(" · ");
  const row = el("li", {}, el("label", { for: id }, input, el("span", {}, voice.name),
    meta ? el("span", { className: "voice-meta" }, meta) : null));
  if (voice.preview_audio_url) {
    const play = el("button", { type: "button", className: "button", "aria-label": `Play a sample of ${voice.name}` }, "▶ Sample");
    play.addEventListener("click", () => {
      if (!sample.paused && sample.dataset.voice === voice.id) {
        sample.pause();
        return;
      }
      sample.src = voice.preview_audio_url;
      sample.dataset.voice = voice.id;
      sample.play().catch(() => { fieldError(form, "voice_id", `The sample of ${voice.name} could not be played.`); });
    });
    row.append(play);
  }
  return row;
}

async function loadBalance() {
  const answer = await api("/api/credits");
  if (answer.ok) balance = answer.data.balance;
}

// The price rule of genvid/videos/pricing.py, given to the page by the server: 1 credit per started
// (characters per second x seconds per credit) characters, at least 1. Characters are code points, as in Python.
function price(text) {
  return Math.max(1, Math.ceil([...text].length / charsPerCredit));
}

function showPrice() {
  const length = [...script.value].length;
  const max = Number(script.getAttribute("maxlength"));
  document.querySelector("[data-script-count]").textContent =
    `${length.toLocaleString()} / ${max.toLocaleString()} characters`;
  const credits = price(script.value);
  const seconds = Math.max(1, Math.round(length / charsPerSecond));
  const line = length ? `About ${plural(seconds, "second", "seconds")} of speech: costs ${plural(credits, "credit", "credits")}.`
    : "Costs 1 credit per started 30 seconds of speech.";
  document.querySelector("[data-script-price]").textContent = line;
  const balanceLine = document.querySelector("[data-balance-line]");
  if (balance !== null) {
    balanceLine.textContent = `You have ${plural(balance, "credit", "credits")}.`
      + (length && credits > balance ? " That is not enough for this video: buy more on the dashboard." : "");
  }
  document.querySelector("[data-create]").textContent = length ? `Create video (${plural(credits, "credit", "credits")})` : "Create video";
}

async function submit(event) {
  event.preventDefault();
  clearErrors(form);
  const avatar = form.querySelector("input[name=avatar_id]:checked");
  const voice = form.querySelector("input[name=voice_id]:checked");
  if (!avatar) fieldError(form, "avatar_id", "Choose an avatar.");
  if (!voice) fieldError(form, "voice_id", "Choose a voice.");
  if (!avatar || !voice) {
    form.querySelector("[aria-invalid='true']")?.focus();
    return;
  }
  const body = {
    avatar_id: avatar.value,
    voice_id: voice.value,
    script: script.value,
    aspect_ratio: form.elements.namedItem("aspect_ratio").value,
    resolution: form.elements.namedItem("resolution").value,
    captions: form.elements.namedItem("captions").checked,
  };
  const title = form.elements.namedItem("title").value.trim();
  if (title) body.title = title;
  if (document.getElementById("use-background").checked) body.background = form.elements.namedItem("background").value;
  const button = form.querySelector("[data-create]");
  const answer = await whileBusy(button, () => api("/api/videos",
    { method: "POST", body, headers: { "Idempotency-Key": idempotencyKey } }));
  if (answer.ok) {
    location.assign(`/videos/${encodeURIComponent(answer.data.id)}`);
    return;
  }
  if (answer.error.code === "INSUFFICIENT_CREDITS") {
    await loadBalance();
    answer.error.message = `Not enough credits: this video costs ${plural(price(script.value), "credit", "credits")}`
      + (balance !== null ? ` and you have ${plural(balance, "credit", "credits")}` : "") + ". Buy credits on your dashboard.";
  }
  showError(form, answer.error);
}
