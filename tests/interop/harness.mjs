// What client.mjs and apikey_client.mjs share, so both record and normalise exchanges the same way: stable
// placeholders for volatile values, a normaliser built from those rules, the last exchange seen, a browser
// with a cookie jar, raw requests through node:http, and the log of steps each script prints.
import http from "node:http";
import { createAuthClient } from "better-auth/client";

// ---------- normalisation: volatile values become stable placeholders ----------
export const ID = /^[A-Za-z0-9]{32}$/;
export const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const placeholders = new Map();
/** `<kindN>`: the same value gets the same placeholder all run long, numbered in order of first sight. */
export function placeholder(kind, value) {
  if (!placeholders.has(value)) placeholders.set(value, `<${kind}${placeholders.size + 1}>`);
  return placeholders.get(value);
}

/**
 * A normaliser of JSON values: ids become `<idN>`, dates `<date>`, this run's tag `TAG`, through arrays and
 * objects. `field(key, value)` may answer for a field before those rules (undefined: it does not);
 * `object(value, out)` may rewrite an object's normalised fields `out` after they are done.
 */
export function normaliser({ tag, field = () => undefined, object = () => {} }) {
  function normalise(value, key = "") {
    const own = field(key, value);
    if (own !== undefined) return own;
    if (Array.isArray(value)) return value.map((item) => normalise(item));
    if (value && typeof value === "object") {
      const out = {};
      for (const [name, item] of Object.entries(value)) out[name] = normalise(item, name);
      object(value, out);
      return out;
    }
    if (typeof value === "string") {
      if (ID.test(value)) return placeholder("id", value);
      if (DATE.test(value)) return "<date>";
      return value.replaceAll(tag, "TAG");
    }
    return value;
  }
  return normalise;
}

// ---------- transport: a cookie jar per browser, every exchange recorded ----------
/** The last exchange (status, headers, text, media type, body: JSON parsed when it is JSON), null before one. */
export let last = null;
async function record(response) {
  const text = await response.text();
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") && text ? JSON.parse(text) : text;
  last = { status: response.status, headers: response.headers, text, type: type.split(";")[0], body };
  return last;
}

/** A browser: its own cookie jar and Origin, every exchange recorded; client() is the better-auth client. */
export class Browser {
  /** plugins: a function making the better-auth client plugins for each client(). */
  constructor({ baseURL, origin, plugins = () => [] }) {
    this.baseURL = baseURL;
    this.plugins = plugins;
    this.jar = new Map();
    this.origin = origin;
    this.fetch = this.fetch.bind(this);
  }
  cookieHeader() {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
  }
  absorb(headers) {
    for (const header of headers.getSetCookie()) {
      const [pair] = header.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (!value || /Max-Age=0/.test(header)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }
  async fetch(input, init = {}) {
    const headers = new Headers(init.headers || {});
    if (this.origin) headers.set("origin", this.origin);
    if (this.jar.size) headers.set("cookie", this.cookieHeader());
    const response = await fetch(input, { ...init, headers, redirect: "manual" });
    const copy = response.clone();
    this.absorb(response.headers);
    await record(copy);
    return response;
  }
  client() {
    return createAuthClient({ baseURL: this.baseURL, plugins: this.plugins(),
                              fetchOptions: { customFetchImpl: this.fetch } });
  }
}

/**
 * raw(method, path, {headers, body}) against `${api}${path}`, through node:http, so no header is added behind
 * our back (undici adds sec-fetch-mode); the exchange is recorded.
 */
export function rawRequests(api) {
  return (method, path, { headers = {}, body } = {}) => new Promise((resolve, reject) => {
    const req = http.request(`${api}${path}`, { method, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) for (const item of [].concat(v)) h.append(k, item);
        const content = res.statusCode === 204 ? null : Buffer.concat(chunks);
        resolve(record(new Response(content, { status: res.statusCode, headers: h })));
      });
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// ---------- steps ----------
/** What the script prints: one entry a step, in order. */
export const steps = [];

/**
 * step(name, action): runs action, logs `{name, ...describe(seen)}` for the last exchange it made (or
 * `{name, thrown}` when it threw) plus the better-auth client's error, and returns action's result.
 */
export function stepper(describe) {
  return async function step(name, action) {
    last = null;
    let result;
    try {
      result = await action();
    } catch (error) {
      steps.push({ name, thrown: String(error) });
      return undefined;
    }
    const entry = { name, ...describe(last) };
    if (result && typeof result === "object" && "error" in result && result.error) {
      entry.clientError = { status: result.error.status, code: result.error.code ?? null, message: result.error.message };
    }
    steps.push(entry);
    return result;
  };
}
