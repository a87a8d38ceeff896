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
import http from "node:http";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { bearer, jwt } from "better-auth/plugins";
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

export function authOptions() {
  const env = process.env;
  return {
    database: new pg.Pool(poolOptions(env.DATABASE_URL)),
    secret: env.BETTER_AUTH_SECRET,
    baseURL: env.BETTER_AUTH_URL,
    basePath: "/api/auth",
    trustedOrigins: (env.TRUSTED_ORIGINS || "").split(",").map((o) => o.trim()).filter(Boolean),
    emailAndPassword: { enabled: true, sendResetPassword: ({ user, url }) => mail(user.email, url) },
    // The documented email flows, enabled so the interop client can compare them (mail goes to mailbox.mjs).
    emailVerification: { sendVerificationEmail: ({ user, url }) => mail(user.email, url) },
    user: { changeEmail: { enabled: true }, deleteUser: { enabled: true } },
    plugins: [bearer(), jwt(), apiKey(JSON.parse(env.API_KEY_OPTIONS || "{}"))],
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
