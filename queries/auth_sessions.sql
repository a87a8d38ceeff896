-- better-auth's "session" table.

-- name: CreateSession :one
INSERT INTO "session" ("id", "expiresAt", "token", "createdAt", "updatedAt", "ipAddress", "userAgent", "userId")
VALUES (@id, @expires_at, @token, @now, @now, @ip_address, @user_agent, @user_id)
RETURNING *;

-- name: GetSessionByToken :one
SELECT * FROM "session" WHERE "token" = @token;

-- name: ListUserSessions :many
SELECT * FROM "session"
WHERE "userId" = @user_id AND "expiresAt" > @now
ORDER BY "createdAt", "id";

-- name: RefreshSession :one
UPDATE "session" SET "expiresAt" = @expires_at, "updatedAt" = @now
WHERE "token" = @token
RETURNING *;

-- name: DeleteSessionByToken :execrows
DELETE FROM "session" WHERE "token" = @token;

-- name: DeleteUserSessionByToken :execrows
DELETE FROM "session" WHERE "token" = @token AND "userId" = @user_id;

-- name: DeleteUserSessions :execrows
DELETE FROM "session" WHERE "userId" = @user_id;

-- name: DeleteOtherUserSessions :execrows
DELETE FROM "session" WHERE "userId" = @user_id AND "token" <> @token;

-- name: GetSessionAndUser :one
-- One round trip for every authenticated request: the session and its user.
SELECT s."id", s."expiresAt", s."token", s."createdAt", s."updatedAt", s."ipAddress", s."userAgent", s."userId",
       u."name" AS user_name, u."email" AS user_email, u."emailVerified" AS user_email_verified,
       u."image" AS user_image, u."createdAt" AS user_created_at, u."updatedAt" AS user_updated_at
FROM "session" s
JOIN "user" u ON u."id" = s."userId"
WHERE s."token" = @token;

-- name: GetSessionUserAndSigningKey :one
-- get-session's one round trip: the session, its user and the JWT signing key (NULL while no key exists),
-- chosen as GetSigningJwk chooses it. Only get-session, which issues a JWT, reads the private key.
SELECT s."id", s."expiresAt", s."token", s."createdAt", s."updatedAt", s."ipAddress", s."userAgent", s."userId",
       u."name" AS user_name, u."email" AS user_email, u."emailVerified" AS user_email_verified,
       u."image" AS user_image, u."createdAt" AS user_created_at, u."updatedAt" AS user_updated_at,
       k."id" AS jwk_id, k."privateKey" AS jwk_private_key
FROM "session" s
JOIN "user" u ON u."id" = s."userId"
LEFT JOIN "jwks" k ON k."id" = (
    SELECT j."id" FROM "jwks" j
    WHERE (j."alg" = 'EdDSA' OR j."alg" IS NULL) AND (j."expiresAt" IS NULL OR j."expiresAt" > @now)
    ORDER BY j."createdAt" DESC, j."id" LIMIT 1
)
WHERE s."token" = @token;
