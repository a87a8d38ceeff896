// What the two webhook pages share: the signing-secret box (shown the one time the API returns a secret,
// copyable), the events' names in words, and an endpoint's state as a badge.
import { el, showOnce } from "./app.js";

export const EVENT_WORDS = {
  "video.completed": "video ready", "video.failed": "video failed",
  "credits.purchased": "credits bought", "credits.low": "credits low",
};

export function stateBadge(endpoint) {
  if (endpoint.enabled) return el("span", { className: "badge completed" }, "enabled");
  return el("span", { className: "badge failed" }, endpoint.disabled_reason === "failing" ? "disabled: failing" : "disabled");
}

export function showSecret(secret, { rotated = false } = {}) {
  document.querySelector("[data-secret-overlap]").hidden = !rotated;
  document.querySelector("[data-secret-lost]").hidden = rotated;
  showOnce(document.querySelector("[data-new-secret]"), secret);
}
