-- The jwt plugin's signing keys.

-- name: CreateJwk :one
INSERT INTO "jwks" ("id", "publicKey", "privateKey", "createdAt", "expiresAt", "alg", "crv")
VALUES (@id, @public_key, @private_key, @now, NULL, @alg, @crv)
RETURNING *;

-- name: ListJwks :many
SELECT * FROM "jwks" ORDER BY "createdAt" DESC, "id";

-- name: GetJwk :one
SELECT * FROM "jwks" WHERE "id" = @id;

-- name: GetNewestGenvidJwk :one
SELECT * FROM "jwks" WHERE "privateKey" LIKE 'gv1:%' ORDER BY "createdAt" DESC, "id" LIMIT 1;
