-- better-auth's "user" table (one query per block below).

-- name: CreateUser :one
INSERT INTO "user" ("id", "name", "email", "emailVerified", "image", "createdAt", "updatedAt")
VALUES (@id, @name, @email, false, sqlc.narg(image), @now, @now)
ON CONFLICT ("email") DO NOTHING
RETURNING *;

-- name: GetUser :one
SELECT * FROM "user" WHERE "id" = @id;

-- name: GetUserByEmail :one
SELECT * FROM "user" WHERE "email" = @email;

-- name: UpdateUserProfile :one
UPDATE "user"
SET "name" = COALESCE(sqlc.narg(name), "name"),
    "image" = CASE WHEN @set_image::boolean THEN sqlc.narg(image) ELSE "image" END,
    "updatedAt" = @now
WHERE "id" = @id
RETURNING *;

-- name: UpdateUserEmail :one
UPDATE "user" SET "email" = @email, "emailVerified" = @email_verified, "updatedAt" = @now
WHERE "id" = @id
RETURNING *;

-- name: MarkEmailVerified :one
UPDATE "user" SET "emailVerified" = true, "updatedAt" = @now
WHERE "id" = @id
RETURNING *;

-- name: DeleteUser :execrows
DELETE FROM "user" WHERE "id" = @id;

-- name: CreateUserFromProfile :one
-- A user made from an OAuth provider's profile (social sign-up): the provider says whether the email is verified.
INSERT INTO "user" ("id", "name", "email", "emailVerified", "image", "createdAt", "updatedAt")
VALUES (@id, @name, @email, @email_verified, sqlc.narg(image), @now, @now)
ON CONFLICT ("email") DO NOTHING
RETURNING *;
