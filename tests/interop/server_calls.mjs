// Test tooling: the server-side API (auth.api.*), which better-auth never exposes over HTTP, reachable as
// POST /__server/<method> with a JSON body, for the interop tests' server-only calls (verifyApiKey, and
// createApiKey/updateApiKey with server-only fields). Answers {"status", "body"} with status 200.
const METHODS = new Set(["verifyApiKey", "createApiKey", "updateApiKey"]);

export async function serverCall(auth, request, response) {
  const method = request.url.slice("/__server/".length);
  if (request.method !== "POST" || !METHODS.has(method)) {
    response.writeHead(404);
    response.end();
    return;
  }
  let text = "";
  for await (const chunk of request) text += chunk;
  let result;
  try {
    result = { status: 200, body: await auth.api[method]({ body: JSON.parse(text || "{}") }) };
  } catch (error) {
    result = { status: error.statusCode ?? 500, body: error.body ?? { message: String(error) } };
  }
  response.writeHead(200, { "content-type": "application/json" });
  response.end(JSON.stringify(result));
}
