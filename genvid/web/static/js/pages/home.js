// The start page: signed-in visitors go straight to their dashboard (app.js); a deleted account says so here.
import { start } from "../app.js";

start(() => {
  if (new URLSearchParams(location.search).has("account-deleted")) {
    document.querySelector("[data-home-notice]").textContent = "Your account was deleted. Thank you for trying genvid.";
  }
});
