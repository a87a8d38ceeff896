-- better-auth's "account" table; email+password users have one row with "providerId" = 'credential'.

-- name: CreateCredentialAccount :one
INSERT INTO "account" ("id", "accountId", "providerId", "userId", "password", "createdAt", "updatedAt")
VALUES (@id, @user_id, 'credential', @user_id, @password, @now, @now)
RETURNING *;

-- name: GetCredentialAccount :one
SELECT * FROM "account"
WHERE "userId" = @user_id AND "providerId" = 'credential'
ORDER BY "createdAt"
LIMIT 1;

-- name: SetCredentialPassword :execrows
UPDATE "account" SET "password" = @password, "updatedAt" = @now
WHERE "userId" = @user_id AND "providerId" = 'credential';
