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

-- Social accounts (better-auth's OAuth rows): ("providerId", "accountId") names the person at the provider;
-- tokens are stored as the provider gave them (or sealed, see genvid/auth/oauth/tokens.py); "scope" is
-- comma-separated.

-- name: ListUserAccounts :many
SELECT * FROM "account" WHERE "userId" = @user_id ORDER BY "createdAt", "id";

-- name: GetAccountByKey :one
SELECT * FROM "account" WHERE "providerId" = @provider_id AND "accountId" = @account_id
ORDER BY "createdAt" LIMIT 1;

-- name: CreateSocialAccount :one
INSERT INTO "account" ("id", "accountId", "providerId", "userId", "accessToken", "refreshToken", "idToken",
                       "accessTokenExpiresAt", "refreshTokenExpiresAt", "scope", "createdAt", "updatedAt")
VALUES (@id, @account_id, @provider_id, @user_id, sqlc.narg(access_token), sqlc.narg(refresh_token),
        sqlc.narg(id_token), sqlc.narg(access_token_expires_at), sqlc.narg(refresh_token_expires_at),
        sqlc.narg(scope), @now, @now)
RETURNING *;

-- name: UpdateAccountTokens :one
-- Each set_* flag says whether its value is given (better-auth leaves a column alone for an undefined value).
UPDATE "account"
SET "accessToken" = CASE WHEN @set_access_token::boolean THEN sqlc.narg(access_token) ELSE "accessToken" END,
    "refreshToken" = CASE WHEN @set_refresh_token::boolean THEN sqlc.narg(refresh_token) ELSE "refreshToken" END,
    "idToken" = CASE WHEN @set_id_token::boolean THEN sqlc.narg(id_token) ELSE "idToken" END,
    "accessTokenExpiresAt" = CASE WHEN @set_access_token_expires_at::boolean
                                  THEN sqlc.narg(access_token_expires_at) ELSE "accessTokenExpiresAt" END,
    "refreshTokenExpiresAt" = CASE WHEN @set_refresh_token_expires_at::boolean
                                   THEN sqlc.narg(refresh_token_expires_at) ELSE "refreshTokenExpiresAt" END,
    "scope" = CASE WHEN @set_scope::boolean THEN sqlc.narg(scope) ELSE "scope" END,
    "updatedAt" = @now
WHERE "id" = @id
RETURNING *;

-- name: DeleteUserAccount :execrows
DELETE FROM "account" WHERE "id" = @id AND "userId" = @user_id;
