// better-auth's own symmetricEncrypt and symmetricDecrypt (better-auth/crypto: the sealing of jwks.privateKey,
// of OAuth tokens under account.encryptOAuthTokens, and of the link state's session token), for
// tests/test_keyseal_interop.py.
//
//   node crypto.mjs < requests.json      prints a JSON list with one answer per request, in order
//
// A request is {"encrypt": text, "secret": s, "nonce": hex} or {"decrypt": hex, "secret": s}. A nonce (24 bytes)
// is what the random source hands symmetricEncrypt instead of random bytes, so that its output can be compared
// byte for byte; without one it stays random. A decrypt that fails answers {"error": message}.
import { symmetricDecrypt, symmetricEncrypt } from "better-auth/crypto";

const random = globalThis.crypto.getRandomValues.bind(globalThis.crypto);

async function encrypt({ encrypt: data, secret, nonce }) {
  if (nonce) {
    const fixed = Uint8Array.from(Buffer.from(nonce, "hex"));
    globalThis.crypto.getRandomValues = (array) => { array.set(fixed.subarray(0, array.length)); return array; };
  }
  try {
    return await symmetricEncrypt({ key: secret, data });
  } finally {
    globalThis.crypto.getRandomValues = random;
  }
}

async function decrypt({ decrypt: data, secret }) {
  try {
    return await symmetricDecrypt({ key: secret, data });
  } catch (error) {
    return { error: String(error.message || error) };
  }
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const answers = [];
for (const request of JSON.parse(Buffer.concat(chunks).toString("utf8"))) {
  answers.push("encrypt" in request ? await encrypt(request) : await decrypt(request));
}
process.stdout.write(JSON.stringify(answers));
