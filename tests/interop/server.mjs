// The real better-auth server (pinned in package.json), configured as the spec's reference server plus the
// bearer, jwt and api-key plugins, on the PostgreSQL in DATABASE_URL.
//
//   node server.mjs serve     listen on PORT (prints {"listening": port} once ready)
//   node server.mjs migrate   print better-auth's migration plan as JSON; with --apply, run it
//
// Environment: DATABASE_URL, BETTER_AUTH_SECRET, BETTER_AUTH_URL, TRUSTED_ORIGINS (comma separated), PORT,
// MAIL_HOOK_URL (optional: where verification and reset links are POSTed), API_KEY_OPTIONS (optional: the
// api-key plugin's options as JSON; genvid's tests pass genvid's own, see ApiKeyOptions.better_auth_options).
// POST /__server/<method> reaches the server-side API (see server_calls.mjs).
// Social sign-in (each optional): GOOGLE_CLIENT_ID/GOOGLE_CLIENT_SECRET, GITHUB_CLIENT_ID/GITHUB_CLIENT_SECRET,
// GENERIC_OAUTH (JSON list of generic-oauth provider configs), TRUSTED_PROVIDERS (comma separated),
// ENCRYPT_OAUTH_TOKENS=1 (account.encryptOAuthTokens), and
// GOOGLE_BASE/GITHUB_BASE: where the local fakes listen. better-auth's Google and GitHub providers call fixed
// https URLs; the server's fetch sends those to the fakes instead (paths unchanged), nothing else changes.
import http from "node:http";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { bearer, genericOAuth, jwt } from "better-auth/plugins";
import pg from "pg";
import { apiKey } from "@better-auth/api-key";
import { serverCall } from "./server_calls.mjs";

/** pg options from a libpq URL, including pgserver's `?host=/socket/dir` form that has no host part. */
function poolOptions(url) {
  const parsed = new URL(url.replace("@/", "@localhost/"));   // WHATWG URLs need a host part
  const socketDir = parsed.searchParams.get("host");
  return {
    host: socketDir || parsed.hostname || "localhost",
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username || "postgres"),
    password: decodeURIComponent(parsed.password || ""),
    database: decodeURIComponent(parsed.pathname.replace(/^\//, "") || "postgres"),
    max: Number(process.env.PG_POOL_MAX || 10),
  };
}

/** Hand a message to the interop mailbox's HTTP hook (MAIL_HOOK_URL), when one is configured. */
async function mail(to, text) {
  if (!process.env.MAIL_HOOK_URL) return;
  await fetch(process.env.MAIL_HOOK_URL, { method: "POST", body: JSON.stringify({ to, text }) });
}

/** Send the fixed Google and GitHub API origins to the local fakes named in GOOGLE_BASE / GITHUB_BASE. */
function routeProvidersToFakes() {
  const env = process.env;
  const routes = {};
  if (env.GOOGLE_BASE) {
    for (const origin of ["https://accounts.google.com", "https://oauth2.googleapis.com", "https://www.googleapis.com"]) {
      routes[origin] = env.GOOGLE_BASE;
    }
  }
  if (env.GITHUB_BASE) {
    for (const origin of ["https://github.com", "https://api.github.com"]) routes[origin] = env.GITHUB_BASE;
  }
  if (!Object.keys(routes).length) return;
  const realFetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    if (typeof input === "string" || input instanceof URL) {
      const url = new URL(String(input));
      if (routes[url.origin]) input = `${routes[url.origin]}${url.pathname}${url.search}`;
    }
    return realFetch(input, init);
  };
}

function socialOptions() {
  const env = process.env;
  const socialProviders = {};
  if (env.GOOGLE_CLIENT_ID) socialProviders.google = { clientId: env.GOOGLE_CLIENT_ID, clientSecret: env.GOOGLE_CLIENT_SECRET };
  if (env.GITHUB_CLIENT_ID) socialProviders.github = { clientId: env.GITHUB_CLIENT_ID, clientSecret: env.GITHUB_CLIENT_SECRET };
  const generic = env.GENERIC_OAUTH ? JSON.parse(env.GENERIC_OAUTH) : [];
  const trustedProviders = (env.TRUSTED_PROVIDERS || "").split(",").map((p) => p.trim()).filter(Boolean);
  const account = {};
  if (trustedProviders.length) account.accountLinking = { trustedProviders };
  if (env.ENCRYPT_OAUTH_TOKENS === "1") account.encryptOAuthTokens = true;
  return {
    socialProviders,
    plugins: generic.length ? [genericOAuth({ config: generic })] : [],
    account: Object.keys(account).length ? account : undefined,
  };
}

export function authOptions() {
  const env = process.env;
  const social = socialOptions();
  return {
    socialProviders: social.socialProviders,
    account: social.account,
    database: new pg.Pool(poolOptions(env.DATABASE_URL)),
    secret: env.BETTER_AUTH_SECRET,
    baseURL: env.BETTER_AUTH_URL,
    basePath: "/api/auth",
    trustedOrigins: (env.TRUSTED_ORIGINS || "").split(",").map((o) => o.trim()).filter(Boolean),
    emailAndPassword: { enabled: true, sendResetPassword: ({ user, url }) => mail(user.email, url) },
    // The documented email flows, enabled so the interop client can compare them (mail goes to mailbox.mjs).
    emailVerification: { sendVerificationEmail: ({ user, url }) => mail(user.email, url) },
    user: { changeEmail: { enabled: true }, deleteUser: { enabled: true } },
    plugins: [bearer(), jwt(), apiKey(JSON.parse(env.API_KEY_OPTIONS || "{}")), ...social.plugins],
    telemetry: { enabled: false },
  };
}

async function migrate(apply) {
  const options = authOptions();
  const plan = await getMigrations(options);
  const summary = {
    toBeCreated: plan.toBeCreated.map((t) => t.table),
    toBeAdded: plan.toBeAdded.map((t) => ({ table: t.table, fields: Object.keys(t.fields) })),
    toBeAddedIndexes: plan.toBeAddedIndexes.map((i) => i.name),
    sql: await plan.compileMigrations(),
  };
  if (apply) await plan.runMigrations();
  await options.database.end();
  process.stdout.write(JSON.stringify(summary) + "\n");
}

function serve() {
  routeProvidersToFakes();
  const auth = betterAuth(authOptions());
  const handler = toNodeHandler(auth);
  const server = http.createServer((request, response) =>
    request.url.startsWith("/__server/") ? serverCall(auth, request, response) : handler(request, response));
  server.keepAliveTimeout = 5000;
  server.listen(Number(process.env.PORT || 0), "127.0.0.1", () => {
    process.stdout.write(JSON.stringify({ listening: server.address().port }) + "\n");
  });
  const stop = () => server.close(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

const command = process.argv[2];
if (command === "migrate") {
  await migrate(process.argv.includes("--apply"));
} else if (command === "serve") {
  serve();
} else {
  process.stderr.write("usage: node server.mjs serve | migrate [--apply]\n");
  process.exit(2);
}
