// What the two webhook pages share: the signing-secret box (shown the one time the API returns a secret,
// copyable), the events' names in words, and an endpoint's state as a badge.
import { el } from "./app.js";

export const EVENT_WORDS = {
  "video.completed": "video ready", "video.failed": "video failed",
  "credits.purchased": "credits bought", "credits.low": "credits low",
};

export function stateBadge(endpoint) {
  if (endpoint.enabled) return el("span", { className: "badge completed" }, "enabled");
  return el("span", { className: "badge failed" }, endpoint.disabled_reason === "failing" ? "disabled: failing" : "disabled");
}

export function showSecret(secret, { rotated = false } = {}) {
  const box = document.querySelector("[data-new-secret]");
  document.querySelector("[data-new-secret-value]").value = secret;
  document.querySelector("[data-secret-overlap]").hidden = !rotated;
  document.querySelector("[data-secret-lost]").hidden = rotated;
  box.querySelector("[data-copy-status]").textContent = "";
  box.hidden = false;
  box.focus();
}

export function wireCopy() {
  const box = document.querySelector("[data-new-secret]");
  box.querySelector("[data-copy-secret]").addEventListener("click", async () => {
    const input = document.querySelector("[data-new-secret-value]");
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
