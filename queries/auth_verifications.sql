-- better-auth's "verification" table: single-use, expiring tokens (email verification, password reset).

-- name: CreateVerification :one
INSERT INTO "verification" ("id", "identifier", "value", "expiresAt", "createdAt", "updatedAt")
VALUES (@id, @identifier, @value, @expires_at, @now, @now)
RETURNING *;

-- name: ConsumeVerification :one
DELETE FROM "verification"
WHERE "identifier" = @identifier AND "expiresAt" > @now
RETURNING *;

-- name: DeleteExpiredVerifications :execrows
DELETE FROM "verification" WHERE "expiresAt" <= @now;

-- name: GetLiveVerification :one
SELECT * FROM "verification" WHERE "identifier" = @identifier AND "expiresAt" > @now LIMIT 1;

-- name: GetLatestVerification :one
-- better-auth's findVerificationValue: the newest row for the identifier, expired or not (the OAuth state
-- carries its own expiry and is judged on that).
SELECT * FROM "verification" WHERE "identifier" = @identifier ORDER BY "createdAt" DESC LIMIT 1;

-- name: DeleteVerificationsByIdentifier :execrows
DELETE FROM "verification" WHERE "identifier" = @identifier;
