-- name: GetUserByEmail :one
SELECT * FROM "user" WHERE email = $1;

-- name: CreateUser :one
INSERT INTO "user" (id, name, email, image)
VALUES (@id, @name, @email, sqlc.narg(image))
RETURNING *;

-- name: ListUsers :many
SELECT id, name, "emailVerified" FROM "user" ORDER BY "createdAt" LIMIT sqlc.arg(lim);

-- name: CountUsers :one
SELECT count(*) FROM "user";

-- name: VerifyEmail :execrows
UPDATE "user" SET "emailVerified" = true WHERE id = $1 AND "emailVerified" = false;

-- name: DeleteUser :exec
DELETE FROM "user" WHERE id = $1;

-- name: GetSessionWithUser :one
SELECT s.*, u.email FROM session s JOIN "user" u ON u.id = s."userId" WHERE s.token = @token;

-- name: GetSession :one
SELECT session.* FROM session WHERE token = $1 AND "expiresAt" > $2;

-- name: CreateSession :exec
INSERT INTO session (id, token, "userId", "expiresAt", "ipAddress") VALUES ($1, $2, $3, $4, $5);

-- name: SearchUsers :many
-- Same parameter twice, out of order, and a literal percent sign.
SELECT id FROM "user"
WHERE (name ILIKE '%' || $2 || '%' OR email ILIKE '%' || $2 || '%') AND "createdAt" > $1
ORDER BY id;
