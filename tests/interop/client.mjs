// Drives an auth server through the real better-auth client (pinned in package.json) and raw HTTP, and prints
// one JSON document: every step's status, body, Set-Cookie headers and auth headers, normalised so that the
// output of genvid and of the real better-auth server can be compared key for key.
//
//   node client.mjs <baseURL> [ratelimit]
//
// Environment: BETTER_AUTH_SECRET (to check cookie signatures byte for byte), TRUSTED_ORIGIN (an origin both
// servers trust), TAG (makes this run's emails unique), MAILBOX_PORT (where mail arrives: an SMTP sink and an
// HTTP hook on the same port + 1, see mailbox.mjs).
import crypto from "node:crypto";
import { createAuthClient } from "better-auth/client";
import { jwtClient } from "better-auth/client/plugins";
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { Browser as HarnessBrowser, DATE, ID, last, normaliser, placeholder, rawRequests, stepper, steps } from "./harness.mjs";
import { Mailbox } from "./mailbox.mjs";

const baseURL = process.argv[2];
const SECRET = process.env.BETTER_AUTH_SECRET;
const ORIGIN = process.env.TRUSTED_ORIGIN || "http://localhost:5173";
const TAG = process.env.TAG || String(Date.now());
const API = `${baseURL}/api/auth`;

// ---------- normalisation: volatile values become stable placeholders (see harness.mjs) ----------
function sign(value) {
  return crypto.createHmac("sha256", SECRET).update(value).digest("base64");
}
/** `<signed:<idN>>` when raw is `value.sig` (URL-encoded or not) with a valid signature, else `<BAD>`. */
function signedPlaceholder(raw, { encoded }) {
  const decoded = encoded ? decodeURIComponent(raw) : raw;
  const cut = decoded.lastIndexOf(".");
  const value = decoded.slice(0, cut);
  const exact = encoded ? encodeURIComponent(`${value}.${sign(value)}`) : `${value}.${sign(value)}`;
  if (cut < 0 || raw !== exact) return `<BAD:${raw}>`;
  return `<signed:${ID.test(value) ? placeholder("id", value) : value}>`;
}
const normalise = normaliser({
  tag: TAG,
  object(value, out) {
    if (!DATE.test(value.createdAt ?? "")) return;
    if (DATE.test(value.expiresAt ?? "")) {
      out.expiresAt = `<createdAt+${Math.round((Date.parse(value.expiresAt) - Date.parse(value.createdAt)) / 1000)}s>`;
    }
    // A row made in one step: better-auth takes createdAt and updatedAt from two `new Date()` calls, a
    // millisecond apart now and then (a few on a busy machine); a later update is a whole HTTP round trip later.
    if (DATE.test(value.updatedAt ?? "") && Math.abs(Date.parse(value.updatedAt) - Date.parse(value.createdAt)) <= 5) {
      out.updatedAt = "<=createdAt>";
    }
  },
});
function normaliseCookie(header) {
  const [pair, ...attrs] = header.split("; ");
  const eq = pair.indexOf("=");
  const name = pair.slice(0, eq);
  const value = pair.slice(eq + 1);
  return [name, value ? signedPlaceholder(value, { encoded: true }) : "", ...attrs].join("; ").replace("; ", "=");
}
// JWT key ids are compared across servers by the interop test itself (both must use the same key), not here.
function normaliseJwt(token) {
  return { header: { ...decodeProtectedHeader(token), kid: "<kid>" }, claims: Object.keys(decodeJwt(token)) };
}

// ---------- transport (harness.mjs): a cookie jar per browser, every exchange recorded ----------
class Browser extends HarnessBrowser {
  constructor({ origin = ORIGIN } = {}) {
    super({ baseURL, origin, plugins: () => [jwtClient()] });
  }
}
const raw = rawRequests(API);
const json = (data, extra = {}) => ({ headers: { "content-type": "application/json", origin: ORIGIN, ...extra }, body: JSON.stringify(data) });

// ---------- steps: status, body, normalised cookies and auth headers ----------
const keyIds = {};
const step = stepper((seen) => {
  const headers = {};
  for (const key of ["content-type", "location", "cache-control", "pragma", "x-retry-after"]) {
    const value = seen?.headers.get(key);
    if (!value) continue;
    if (key === "content-type") headers[key] = value.split(";")[0];
    else if (key === "location") headers[key] = value.replace(baseURL, "<baseURL>").replace(/token=[A-Za-z0-9]{24}$/, "token=<reset token>");
    else headers[key] = value;
  }
  const token = seen?.headers.get("set-auth-token");
  if (token) headers["set-auth-token"] = signedPlaceholder(token, { encoded: false });
  const jwtHeader = seen?.headers.get("set-auth-jwt");
  if (jwtHeader) headers["set-auth-jwt"] = normaliseJwt(jwtHeader);
  // What a browser script may read: the set-auth-* headers this response carries and exposes. (genvid's CORS
  // layer exposes more names on every response; naming a header that is absent changes nothing for a client.)
  const exposed = (seen?.headers.get("access-control-expose-headers") || "").split(",").map((h) => h.trim().toLowerCase());
  const readable = ["set-auth-jwt", "set-auth-token"].filter((h) => seen?.headers.get(h) && exposed.includes(h));
  if (readable.length) headers["access-control-expose-headers"] = readable.join(", ");
  let body = seen?.body;
  if (typeof body === "string" && seen.text.startsWith("<!DOCTYPE")) body = "<html>";
  else if (Array.isArray(body?.keys)) body = { keys: body.keys.map((k) => ({ ...k, x: "<x>", kid: "<kid>" })) };
  else if (typeof body?.token === "string" && body.token.startsWith("eyJ")) body = { token: normaliseJwt(body.token) };
  else body = normalise(body);
  return {
    status: seen?.status,
    body,
    cookies: (seen?.headers.getSetCookie() || []).map(normaliseCookie),
    headers,
  };
});

const email = (who) => `${who}.${TAG}@Example.com`;
const PASSWORD = "correct horse battery";

async function main() {
  const mailbox = await Mailbox.start(Number(process.env.MAILBOX_PORT));
  const alice = new Browser();
  const a = alice.client();

  // Routing and fixed endpoints.
  await step("ok", () => raw("GET", "/ok"));
  await step("error page", () => raw("GET", "/error?error=SOME_CODE"));
  await step("unknown route", () => raw("GET", "/no-such-route"));
  await step("GET on a POST route", () => raw("GET", "/sign-in/email"));
  await step("trailing slash", () => raw("GET", "/get-session/"));
  await step("plain OPTIONS", () => raw("OPTIONS", "/get-session"));
  await step("POST get-session", () => raw("POST", "/get-session", json({})));
  await step("get-session without a session", () => a.getSession());

  // Sign-up validation (spec section 5).
  await step("sign-up missing name", () => a.signUp.email({ email: email("x"), password: PASSWORD }));
  await step("sign-up malformed email", () => a.signUp.email({ email: "not-an-email", password: PASSWORD, name: "X" }));
  await step("sign-up email with spaces", () => a.signUp.email({ email: ` ${email("x")} `, password: PASSWORD, name: "X" }));
  await step("sign-up short password", () => a.signUp.email({ email: email("x"), password: "short", name: "X" }));
  await step("sign-up short in UTF-16", () => a.signUp.email({ email: email("x"), password: "abcd😀", name: "X" }));
  await step("sign-up long password", () => a.signUp.email({ email: email("x"), password: "p".repeat(129), name: "X" }));
  await step("sign-up empty password", () => a.signUp.email({ email: email("x"), password: "", name: "X" }));
  await step("sign-up empty body", () => raw("POST", "/sign-up/email", json({})));
  await step("sign-up no body", () => raw("POST", "/sign-up/email", { headers: { origin: ORIGIN } }));
  await step("sign-up array body", () => raw("POST", "/sign-up/email", { ...json([]) }));
  await step("sign-up wrong type", () => raw("POST", "/sign-up/email", json({ email: email("x"), password: 12345678, name: "X" })));
  await step("sign-up bad JSON", () => raw("POST", "/sign-up/email", { headers: { "content-type": "application/json" }, body: "{" }));
  await step("sign-up text/plain", () => raw("POST", "/sign-up/email", { headers: { "content-type": "text/plain" }, body: "hi" }));
  await step("sign-out text/plain", () => raw("POST", "/sign-out", { headers: { "content-type": "text/plain" }, body: "hi" }));

  // Sign-up and sign-in.
  await step("sign-up", () => a.signUp.email({ email: email("alice"), password: PASSWORD, name: "Alice", image: "https://img.example/a.png", emailVerified: true, extra: 1 }));
  await step("sign-up duplicate in other case", () => new Browser().client().signUp.email({ email: email("ALICE"), password: PASSWORD, name: "A" }));
  await step("sign-up form-encoded", () => raw("POST", "/sign-up/email", { headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ email: email("form"), password: PASSWORD, name: "Form" }).toString() }));
  const bob = new Browser();
  const b = bob.client();
  await step("sign-in wrong password", () => b.signIn.email({ email: email("alice"), password: "wrong password" }));
  await step("sign-in unknown email", () => b.signIn.email({ email: email("nobody"), password: "wrong password" }));
  await step("sign-in malformed email", () => b.signIn.email({ email: "nope", password: PASSWORD }));
  await step("sign-in short wrong password", () => b.signIn.email({ email: email("alice"), password: "x" }));
  await step("sign-in long password", () => b.signIn.email({ email: email("alice"), password: "p".repeat(129) }));
  await step("sign-in untrusted callbackURL", () => b.signIn.email({ email: email("alice"), password: PASSWORD, callbackURL: "https://evil.example/x" }));
  await step("sign-in with callbackURL", () => b.signIn.email({ email: email("alice"), password: PASSWORD, callbackURL: "/dashboard" }));
  await step("sign-in", () => b.signIn.email({ email: email("ALICE"), password: PASSWORD }));
  const carol = new Browser();
  await step("sign-in rememberMe false", () => carol.client().signIn.email({ email: email("alice"), password: PASSWORD, rememberMe: false }));
  await step("get-session remembered=false", () => carol.client().getSession());

  // Sessions.
  await step("get-session", () => a.getSession());
  await step("get-session no refresh query", () => a.getSession({ query: { disableRefresh: true } }));
  await step("list-sessions", () => a.listSessions());
  const token = [...bob.jar].find(([k]) => k.endsWith("session_token"))[1];
  const bare = decodeURIComponent(token).split(".")[0];
  const bearer = (value) => createAuthClient({ baseURL, fetchOptions: { customFetchImpl: new Browser().fetch, auth: { type: "Bearer", token: value } } });
  await step("bearer bare token", () => bearer(bare).getSession());
  await step("bearer signed token", () => bearer(decodeURIComponent(token)).getSession());
  await step("bearer URL-encoded token", () => bearer(token).getSession());
  await step("bearer bad signature", () => bearer(`${bare}.${"A".repeat(43)}=`).getSession());
  const jwtResult = await step("jwt token", () => b.token());
  await step("jwks", () => b.jwks());
  const jwks = last?.body;
  const jwt = jwtResult?.data?.token;
  await step("bearer JWT is not a session", () => bearer(jwt).getSession());
  const verified = await jwtVerify(jwt, createLocalJWKSet(jwks), { issuer: baseURL, audience: baseURL });
  steps.push({ name: "jwt verifies with jose", alg: verified.protectedHeader.alg, claims: Object.keys(verified.payload), lifetime: verified.payload.exp - verified.payload.iat });
  keyIds.token = verified.protectedHeader.kid;
  keyIds.jwks = jwks.keys.map((k) => k.kid);
  await step("cookie with bad signature", () => raw("GET", "/get-session", { headers: { cookie: `better-auth.session_token=${bare}.${"A".repeat(43)}%3D` } }));
  await step("cookie unsigned", () => raw("GET", "/get-session", { headers: { cookie: `better-auth.session_token=${bare}` } }));
  await step("cookie not URL-encoded", () => raw("GET", "/get-session", { headers: { cookie: `better-auth.session_token=${decodeURIComponent(token)}` } }));
  await step("cookie with __Secure- prefix", () => raw("GET", "/get-session", { headers: { cookie: `__Secure-better-auth.session_token=${token}` } }));

  // Origin / CSRF (spec section 9).
  await step("POST with cookie, no Origin", () => raw("POST", "/update-user", { headers: { "content-type": "application/json", cookie: alice.cookieHeader() }, body: JSON.stringify({ name: "X" }) }));
  await step("POST with cookie, Origin null", () => raw("POST", "/update-user", { headers: { "content-type": "application/json", cookie: alice.cookieHeader(), origin: "null" }, body: JSON.stringify({ name: "X" }) }));
  await step("POST with cookie, untrusted Origin", () => raw("POST", "/update-user", json({ name: "X" }, { cookie: alice.cookieHeader(), origin: "http://localhost:5174" })));
  await step("POST with cookie, trusted Referer", () => raw("POST", "/update-user", { headers: { "content-type": "application/json", cookie: alice.cookieHeader(), referer: `${ORIGIN}/settings/page` }, body: JSON.stringify({ name: "Alice R" }) }));
  await step("sign-in cross-site navigation", () => raw("POST", "/sign-in/email", { headers: { "content-type": "application/json", "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate" }, body: JSON.stringify({ email: email("alice"), password: PASSWORD }) }));
  await step("sign-in sec-fetch without Origin", () => raw("POST", "/sign-in/email", { headers: { "content-type": "application/json", "sec-fetch-mode": "cors" }, body: JSON.stringify({ email: email("alice"), password: PASSWORD }) }));
  await step("sign-in untrusted Origin", () => raw("POST", "/sign-in/email", json({ email: email("alice"), password: PASSWORD }, { origin: "https://evil.example" })));
  await step("sign-in server-to-server", () => raw("POST", "/sign-in/email", { headers: { "content-type": "application/json" }, body: JSON.stringify({ email: email("alice"), password: PASSWORD }) }));
  await step("sign-out without cookie, no Origin", () => raw("POST", "/sign-out", { headers: { "content-type": "application/json" }, body: "{}" }));
  await step("GET with cookie, untrusted Origin", () => raw("GET", "/get-session?disableRefresh=true", { headers: { cookie: alice.cookieHeader(), origin: "https://evil.example" } }));

  // Profile and password.
  await step("update-user name", () => a.updateUser({ name: "Alice Liddell" }));
  await step("update-user image null", () => a.updateUser({ image: null }));
  await step("update-user email", () => a.updateUser({ email: email("other") }));
  await step("update-user no fields", () => a.$fetch("/update-user", { method: "POST", body: {} }));
  await step("get-session after update", () => a.getSession());
  await step("change-password wrong current", () => a.changePassword({ currentPassword: "wrong password", newPassword: "new password 1" }));
  await step("change-password short new", () => a.changePassword({ currentPassword: PASSWORD, newPassword: "short" }));
  await step("change-password long current", () => a.changePassword({ currentPassword: "p".repeat(129), newPassword: "new password 1" }));
  await step("change-password", () => a.changePassword({ currentPassword: PASSWORD, newPassword: "new password 1" }));
  await step("sign-in with the new password", () => new Browser().client().signIn.email({ email: email("alice"), password: "new password 1" }));
  await step("change-password revoking others", () => a.changePassword({ currentPassword: "new password 1", newPassword: PASSWORD, revokeOtherSessions: true }));
  await step("old session after revoke", () => b.getSession());
  await step("new session works", () => a.getSession());

  // Revocation.
  const d1 = new Browser();
  const d2 = new Browser();
  await step("sign-in device 1", () => d1.client().signIn.email({ email: email("alice"), password: PASSWORD }));
  await step("sign-in device 2", () => d2.client().signIn.email({ email: email("alice"), password: PASSWORD }));
  const d2token = decodeURIComponent([...d2.jar].find(([k]) => k.endsWith("session_token"))[1]).split(".")[0];
  await step("revoke-session without token", () => a.$fetch("/revoke-session", { method: "POST", body: {} }));
  await step("revoke-session unknown token", () => a.revokeSession({ token: "x".repeat(32) }));
  await step("revoke-session other device", () => a.revokeSession({ token: d2token }));
  await step("device 2 after revoke", () => d2.client().getSession());
  await step("revoke-other-sessions", () => a.revokeOtherSessions());
  await step("device 1 after revoke-others", () => d1.client().getSession());
  await step("list-sessions one left", () => a.listSessions());
  const current = decodeURIComponent([...alice.jar].find(([k]) => k.endsWith("session_token"))[1]).split(".")[0];
  await step("revoke-session current", () => a.revokeSession({ token: current }));
  await step("sign-in again", () => a.signIn.email({ email: email("alice"), password: PASSWORD }));
  await step("revoke-sessions", () => a.revokeSessions());
  await step("get-session after revoke-sessions", () => raw("GET", "/get-session", { headers: { cookie: `better-auth.session_token=${encodeURIComponent(`${current}.${sign(current)}`)}` } }));
  await step("sign-in for sign-out", () => a.signIn.email({ email: email("alice"), password: PASSWORD }));
  const beforeSignOut = alice.cookieHeader();
  await step("sign-out", () => a.signOut());
  await step("old cookie after sign-out", () => raw("GET", "/get-session", { headers: { cookie: beforeSignOut } }));
  await step("list-sessions unauthorized", () => a.listSessions());
  await step("update-user unauthorized", () => a.updateUser({ name: "Nobody" }));
  await step("change-password unauthorized", () => a.changePassword({ currentPassword: PASSWORD, newPassword: "whatever 123" }));
  await step("revoke-sessions unauthorized", () => a.revokeSessions());
  await step("token unauthorized", () => a.token());

  // Email flows, as better-auth documents them.
  const erin = new Browser();
  const e = erin.client();
  await step("erin sign-up", () => e.signUp.email({ email: email("erin"), password: PASSWORD, name: "Erin" }));
  await step("send-verification-email", () => e.sendVerificationEmail({ email: email("erin"), callbackURL: "/verified" }));
  const verifyUrl = await mailbox.link(email("erin").toLowerCase());
  await step("send-verification-email other email", () => e.sendVerificationEmail({ email: email("someone") }));
  await step("verify-email bad token", () => raw("GET", "/verify-email?token=nonsense"));
  await step("verify-email", () => raw("GET", `${new URL(verifyUrl).pathname.replace("/api/auth", "")}${new URL(verifyUrl).search}`));
  await step("verify-email again", () => raw("GET", `/verify-email${new URL(verifyUrl).search.replace(/&callbackURL=[^&]*/, "")}`));
  await step("erin verified", () => e.getSession());
  await step("send-verification-email already verified", () => e.sendVerificationEmail({ email: email("erin") }));
  await step("request-password-reset unknown", () => e.requestPasswordReset({ email: email("nobody"), redirectTo: "/reset" }));
  await step("request-password-reset untrusted redirect", () => e.requestPasswordReset({ email: email("erin"), redirectTo: "https://evil.example/reset" }));
  await step("request-password-reset", () => e.requestPasswordReset({ email: email("erin"), redirectTo: "/reset" }));
  const resetUrl = new URL(await mailbox.link(email("erin").toLowerCase()));
  await step("reset-password callback", () => raw("GET", `${resetUrl.pathname.replace("/api/auth", "")}${resetUrl.search}`));
  const resetToken = resetUrl.pathname.split("/").pop();
  await step("reset-password callback bad token", () => raw("GET", `/reset-password/nonsense${resetUrl.search}`));
  await step("reset-password short", () => e.resetPassword({ newPassword: "short", token: resetToken }));
  await step("reset-password bad token", () => e.resetPassword({ newPassword: "brand new password", token: "nonsense" }));
  await step("reset-password", () => e.resetPassword({ newPassword: "brand new password", token: resetToken }));
  await step("reset-password reused token", () => e.resetPassword({ newPassword: "another password 1", token: resetToken }));
  await step("sign-in after reset", () => e.signIn.email({ email: email("erin"), password: "brand new password" }));
  await step("change-email same", () => e.changeEmail({ newEmail: email("erin") }));
  await step("change-email taken", () => e.changeEmail({ newEmail: email("alice") }));
  await step("change-email", () => e.changeEmail({ newEmail: email("erin2"), callbackURL: "/changed" }));
  const changeUrl = await mailbox.link(email("erin2").toLowerCase(), email("erin").toLowerCase());
  steps.push({ name: "change-email mail", sentTo: changeUrl ? "received" : "none" });
  const change = new URL(changeUrl);
  await step("change-email link", () => raw("GET", `${change.pathname.replace("/api/auth", "")}${change.search}`));
  await step("email changed", () => e.getSession());
  await step("sign-in with the new email", () => new Browser().client().signIn.email({ email: email("erin2"), password: "brand new password" }));
  await step("delete-user wrong password", () => e.deleteUser({ password: "wrong password" }));
  await step("delete-user", () => e.deleteUser({ password: "brand new password" }));
  await step("deleted user signs in", () => e.signIn.email({ email: email("erin2"), password: "brand new password" }));

  mailbox.close();
  process.stdout.write(JSON.stringify({ steps, keyIds }, null, 1) + "\n");
}

/** With rate limiting on (genvid: RATE_LIMIT=on; better-auth: NODE_ENV=production): the 4th sign-in is 429. */
async function rateLimit() {
  const c = new Browser().client();
  for (let i = 1; i <= 4; i++) {
    await step(`sign-in attempt ${i}`, () => c.signIn.email({ email: email("limited"), password: "wrong password" }));
  }
  await step("other path not limited", () => c.getSession());
  process.stdout.write(JSON.stringify({ steps, keyIds }, null, 1) + "\n");
}

if (process.argv[3] === "ratelimit") await rateLimit();
else await main();
