// Drives an auth server's api-key endpoints through the real better-auth client with the api-key plugin's
// client (pinned in package.json) and raw HTTP, and prints one JSON document: every step's status, body and
// client error, normalised so that genvid's run and the real better-auth server's compare key for key.
//
//   node apikey_client.mjs <baseURL>
//
// Environment: TRUSTED_ORIGIN (an origin both servers trust), TAG (makes this run's emails unique),
// KEY_PREFIX (the servers' default key prefix).
import { apiKeyClient } from "@better-auth/api-key/client";
import { Browser as HarnessBrowser, DATE, normaliser, placeholder, rawRequests, stepper, steps } from "./harness.mjs";

const baseURL = process.argv[2];
const ORIGIN = process.env.TRUSTED_ORIGIN || "http://localhost:5173";
const TAG = process.env.TAG || String(Date.now());
const PREFIX = process.env.KEY_PREFIX ?? "";
const API = `${baseURL}/api/auth`;

// ---------- normalisation: volatile values become stable placeholders (see harness.mjs) ----------
const seconds = (later, earlier) => Math.round((Date.parse(later) - Date.parse(earlier)) / 1000);

/** A key as the placeholder of its shape: the prefix, then 64 letters; its start must be its first 6 characters. */
function keyShape(key, prefix) {
  const letters = key.slice(prefix.length);
  return key.startsWith(prefix) && /^[A-Za-z]{64}$/.test(letters) ? `<${prefix}+64 letters>` : `<BAD KEY ${key}>`;
}

const normalise = normaliser({
  tag: TAG,
  field(key, value) {
    if (key === "metadata") return JSON.parse(JSON.stringify(value ?? null).replaceAll(TAG, "TAG"));
    // A key's first characters (6, never an id's 32 or a date).
    if (key === "start" && typeof value === "string") return placeholder("start", value);
    return undefined;
  },
  object(value, out) {
    if (typeof value.key === "string" && typeof value.start === "string") {
      out.key = keyShape(value.key, value.prefix ?? "");
      out.start = value.key.slice(0, 6) === value.start ? placeholder("start", value.start) : `<BAD START ${value.start}>`;
    }
    if (DATE.test(value.createdAt ?? "")) {
      for (const name of ["lastRequest", "lastRefillAt", "updatedAt"]) {
        if (DATE.test(value[name] ?? "")) out[name] = `<createdAt+${seconds(value[name], value.createdAt)}s>`;
      }
      // An update's expiry counts from the update, a moment after creation: compared to the minute.
      if (DATE.test(value.expiresAt ?? "")) out.expiresAt = `<createdAt+${Math.round(seconds(value.expiresAt, value.createdAt) / 60)}min>`;
    }
  },
});

// ---------- transport (harness.mjs): a cookie jar per browser, every exchange recorded ----------
class Browser extends HarnessBrowser {
  constructor({ origin = ORIGIN } = {}) {
    super({ baseURL, origin, plugins: () => [apiKeyClient()] });
  }
}
const raw = rawRequests(API);
const json = (browser, data, extra = {}) => ({
  headers: { "content-type": "application/json", origin: ORIGIN, cookie: browser.cookieHeader(), ...extra },
  body: data === undefined ? undefined : JSON.stringify(data),
});

// ---------- steps: status, media type, normalised body ----------
const step = stepper((seen) => ({ status: seen?.status, type: seen?.type || null, body: normalise(seen?.body) }));

const email = (who) => `${who}.${TAG}@example.com`;
const PASSWORD = "correct horse battery";

async function main() {
  const alice = new Browser();
  const a = alice.client();
  const bob = new Browser();
  const b = bob.client();
  const stranger = new Browser().client();
  await step("sign-up alice", () => a.signUp.email({ email: email("alice"), password: PASSWORD, name: "Alice" }));
  await step("sign-up bob", () => b.signUp.email({ email: email("bob"), password: PASSWORD, name: "Bob" }));

  // create
  const metadata = { plan: "pro", at: "2026-01-02T03:04:05Z", local: "2026-01-02T03:04:05+02:00", n: 1.0, tag: TAG,
                     nested: { list: [1, "x", null, true], deep: { date: "1999-12-31T23:59:59.5Z" } } };
  const first = await step("create", () => a.apiKey.create({ name: "first", metadata }));
  await step("create with prefix and expiry", () => a.apiKey.create({ name: "second", prefix: "myapp_", expiresIn: 86400 * 30 }));
  await step("create with nothing", () => a.apiKey.create({}));
  await step("create with an empty name", () => a.apiKey.create({ name: "" }));
  await step("create with array metadata", () => a.apiKey.create({ name: "array", metadata: [1, 2] }));
  await step("create with null expiry", () => a.apiKey.create({ name: "forever", expiresIn: null, metadata: null }));
  const bobs = await step("bob creates", () => b.apiKey.create({ name: "bob's" }));
  await step("create name too long", () => a.apiKey.create({ name: "x".repeat(33) }));
  await step("create bad prefix", () => a.apiKey.create({ prefix: "a b" }));
  await step("create prefix too long", () => a.apiKey.create({ prefix: "p".repeat(33) }));
  await step("create expiry too short", () => a.apiKey.create({ expiresIn: 10 }));
  await step("create expiry fraction of a day", () => a.apiKey.create({ expiresIn: 1.5 }));
  await step("create expiry too long", () => a.apiKey.create({ expiresIn: 86400 * 366 }));
  await step("create expiry zero", () => a.apiKey.create({ expiresIn: 0 }));
  await step("create metadata string", () => a.apiKey.create({ metadata: "text" }));
  await step("create permissions", () => a.apiKey.create({ permissions: { videos: ["read"] } }));
  await step("create remaining", () => a.apiKey.create({ remaining: 5 }));
  await step("create remaining negative", () => a.apiKey.create({ remaining: -1 }));
  await step("create rate limit", () => a.apiKey.create({ rateLimitMax: 5 }));
  await step("create refill", () => a.apiKey.create({ refillAmount: 5, refillInterval: 1000 }));
  await step("create userId", () => a.apiKey.create({ userId: "someone" }));
  await step("create without session", () => stranger.apiKey.create({ name: "nobody" }));
  await step("create without session, server-only field", () => stranger.apiKey.create({ permissions: { a: ["b"] } }));
  await step("create wrong types", () => raw("POST", "/api-key/create", json(alice, { name: 5, expiresIn: "1", rateLimitEnabled: "yes" })));
  await step("create bad permissions shape", () => raw("POST", "/api-key/create", json(alice, { permissions: { a: "b", c: [1] } })));
  await step("create permissions not a record", () => raw("POST", "/api-key/create", json(alice, { permissions: "all" })));
  await step("create array body", () => raw("POST", "/api-key/create", json(alice, [1])));
  await step("create no body", () => raw("POST", "/api-key/create", json(alice, undefined)));
  await step("create text/plain", () => raw("POST", "/api-key/create", { headers: { "content-type": "text/plain", origin: ORIGIN, cookie: alice.cookieHeader() }, body: "{}" }));
  await step("create no origin", () => raw("POST", "/api-key/create", json(alice, {}, { origin: "" })));
  await step("create untrusted origin", () => raw("POST", "/api-key/create", json(alice, {}, { origin: "https://evil.example" })));
  await step("create untrusted callbackURL", () => raw("POST", "/api-key/create", json(alice, { callbackURL: "https://evil.example/x" })));
  await step("create by GET", () => raw("GET", "/api-key/create", { headers: { cookie: alice.cookieHeader() } }));

  const id = first?.data?.id;
  const bobId = bobs?.data?.id;
  // get
  await step("get", () => a.apiKey.get({ query: { id } }));
  await step("get unknown", () => a.apiKey.get({ query: { id: "no-such-key" } }));
  await step("get bob's", () => a.apiKey.get({ query: { id: bobId } }));
  await step("get without id", () => raw("GET", "/api-key/get", { headers: { cookie: alice.cookieHeader() } }));
  await step("get without session", () => stranger.apiKey.get({ query: { id } }));
  await step("get without session or id", () => raw("GET", "/api-key/get"));

  // list
  await step("list", () => a.apiKey.list());
  await step("list limit", () => a.apiKey.list({ query: { limit: 2 } }));
  await step("list offset", () => a.apiKey.list({ query: { offset: 4 } }));
  await step("list limit and offset", () => a.apiKey.list({ query: { limit: 1, offset: 1 } }));
  await step("list by name descending", () => a.apiKey.list({ query: { sortBy: "name", sortDirection: "desc" } }));
  await step("list by name", () => a.apiKey.list({ query: { sortBy: "name" } }));
  await step("list by createdAt descending", () => a.apiKey.list({ query: { sortBy: "createdAt", sortDirection: "desc" } }));
  await step("list default config", () => a.apiKey.list({ query: { configId: "default" } }));
  await step("list other config", () => a.apiKey.list({ query: { configId: "other" } }));
  await step("list bad limit", () => raw("GET", "/api-key/list?limit=x", { headers: { cookie: alice.cookieHeader() } }));
  await step("list negative offset", () => raw("GET", "/api-key/list?offset=-1", { headers: { cookie: alice.cookieHeader() } }));
  await step("list fractional limit", () => raw("GET", "/api-key/list?limit=1.5", { headers: { cookie: alice.cookieHeader() } }));
  await step("list bad direction", () => raw("GET", "/api-key/list?sortDirection=up", { headers: { cookie: alice.cookieHeader() } }));
  await step("list bob", () => b.apiKey.list());
  await step("list without session", () => stranger.apiKey.list());

  // update
  await step("update name", () => a.apiKey.update({ keyId: id, name: "renamed" }));
  await step("update disable", () => a.apiKey.update({ keyId: id, enabled: false }));
  await step("update enable and expiry", () => a.apiKey.update({ keyId: id, enabled: true, expiresIn: 86400 * 2 }));
  await step("update no expiry", () => a.apiKey.update({ keyId: id, expiresIn: null }));
  await step("update metadata", () => a.apiKey.update({ keyId: id, metadata: { a: 1, at: "2026-05-06T07:08:09.123Z" } }));
  await step("update metadata null", () => a.apiKey.update({ keyId: id, metadata: null }));
  await step("update metadata string", () => a.apiKey.update({ keyId: id, metadata: "text" }));
  await step("update own userId", () => a.apiKey.update({ keyId: id, userId: first?.data?.referenceId, name: "mine" }));
  await step("update other userId", () => a.apiKey.update({ keyId: id, userId: "someone-else", name: "theirs" }));
  await step("update nothing", () => a.apiKey.update({ keyId: id }));
  await step("update empty name", () => a.apiKey.update({ keyId: id, name: "" }));
  await step("update expiry too long", () => a.apiKey.update({ keyId: id, expiresIn: 86400 * 400 }));
  await step("update remaining", () => a.apiKey.update({ keyId: id, remaining: 10 }));
  await step("update permissions", () => a.apiKey.update({ keyId: id, permissions: { videos: ["read"] } }));
  await step("update remaining zero", () => a.apiKey.update({ keyId: id, remaining: 0 }));
  await step("update unknown", () => a.apiKey.update({ keyId: "no-such-key", name: "x" }));
  await step("update bob's", () => a.apiKey.update({ keyId: bobId, name: "x" }));
  await step("update without session", () => stranger.apiKey.update({ keyId: id, name: "x" }));
  await step("update without keyId", () => raw("POST", "/api-key/update", json(alice, { name: "x" })));
  await step("get after updates", () => a.apiKey.get({ query: { id } }));

  // the key is no credential for /api/auth
  const key = first?.data?.key;
  await step("get-session with x-api-key", () => raw("GET", "/get-session", { headers: { "x-api-key": key } }));
  await step("list with x-api-key", () => raw("GET", "/api-key/list", { headers: { "x-api-key": key } }));
  await step("update-user with x-api-key", () => raw("POST", "/update-user", { headers: { "x-api-key": key, "content-type": "application/json" }, body: JSON.stringify({ name: "Mallory" }) }));
  // server-only endpoints have no route
  await step("verify over HTTP", () => raw("POST", "/api-key/verify", json(alice, { key })));
  await step("delete-all-expired over HTTP", () => raw("POST", "/api-key/delete-all-expired-api-keys", json(alice, {})));

  // delete
  await step("delete unknown", () => a.apiKey.delete({ keyId: "no-such-key" }));
  await step("delete bob's", () => a.apiKey.delete({ keyId: bobId }));
  await step("delete without session", () => stranger.apiKey.delete({ keyId: id }));
  await step("delete without keyId", () => raw("POST", "/api-key/delete", json(alice, {})));
  await step("delete", () => a.apiKey.delete({ keyId: id }));
  await step("get deleted", () => a.apiKey.get({ query: { id } }));
  await step("delete again", () => a.apiKey.delete({ keyId: id }));
  await step("list after delete", () => a.apiKey.list({ query: { sortBy: "createdAt" } }));
  await step("bob's key survives", () => b.apiKey.get({ query: { id: bobId } }));

  process.stdout.write(JSON.stringify({ steps, prefix: PREFIX }, null, 1) + "\n");
}

await main();
