// The start page: signed-in visitors go straight to their dashboard (app.js). It is also where the mails'
// links land when whoever asked for the mail named no page of its own (better-auth's default callback is "/"):
// a reset token goes on to the reset page, and an expired link is said so here.
import { start } from "../app.js";

const params = new URLSearchParams(location.search);
if (params.get("token")) {
  location.replace(`/reset-password?token=${encodeURIComponent(params.get("token"))}`);
} else {
  start(() => {
    const notice = document.querySelector("[data-home-notice]");
    if (params.has("account-deleted")) notice.textContent = "Your account was deleted. Thank you for trying genvid.";
    if (params.get("error") === "INVALID_TOKEN") {
      notice.textContent = "That link is not valid any more: it was used already, or it is more than an hour old.";
    }
  });
}
