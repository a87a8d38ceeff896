-- The jwt plugin's signing keys.

-- name: CreateJwk :one
INSERT INTO "jwks" ("id", "publicKey", "privateKey", "createdAt", "expiresAt", "alg", "crv")
VALUES (@id, @public_key, @private_key, @now, NULL, @alg, @crv)
RETURNING *;

-- name: ListJwks :many
SELECT * FROM "jwks" ORDER BY "createdAt" DESC, "id";

-- name: GetJwk :one
SELECT * FROM "jwks" WHERE "id" = @id;

-- name: GetSigningJwk :one
-- The key better-auth's jwt plugin signs with: the newest unexpired EdDSA key (alg NULL means the default).
SELECT * FROM "jwks"
WHERE ("alg" = 'EdDSA' OR "alg" IS NULL) AND ("expiresAt" IS NULL OR "expiresAt" > @now)
ORDER BY "createdAt" DESC, "id" LIMIT 1;
