// Pages with nothing of their own to load: only the session check and the sign-out button.
import { start } from "../app.js";

start();
