-- better-auth's api-key plugin table: keys are found by their hash, owned by "referenceId" (a user id here).

-- name: CreateApiKey :one
INSERT INTO "apikey" ("id", "configId", "name", "start", "referenceId", "prefix", "key", "refillInterval",
                      "refillAmount", "lastRefillAt", "enabled", "rateLimitEnabled", "rateLimitTimeWindow",
                      "rateLimitMax", "requestCount", "remaining", "lastRequest", "expiresAt", "createdAt",
                      "updatedAt", "permissions", "metadata")
VALUES (@id, 'default', sqlc.narg(name), sqlc.narg(start), @reference_id, sqlc.narg(prefix), @key_hash,
        sqlc.narg(refill_interval), sqlc.narg(refill_amount), NULL, true, @rate_limit_enabled,
        sqlc.narg(rate_limit_time_window), sqlc.narg(rate_limit_max), 0, sqlc.narg(remaining), NULL,
        sqlc.narg(expires_at), @now, @now, sqlc.narg(permissions), sqlc.narg(metadata))
RETURNING *;

-- name: GetApiKey :one
SELECT * FROM "apikey" WHERE "id" = @id;

-- name: GetApiKeyByHash :one
SELECT * FROM "apikey" WHERE "key" = @key_hash LIMIT 1;

-- name: ListApiKeys :many
-- Sorted as better-auth's adapter sorts (ORDER BY the one field, PostgreSQL's NULL placement: last when
-- ascending, first when descending), ties and everything by creation when sort_by is ''. (better-auth leaves ties,
-- and its list without sortBy, in the order PostgreSQL finds the rows: the heap's, which an update changes.)
-- The caller checks sort_by's name.
SELECT * FROM "apikey"
WHERE "referenceId" = @reference_id
ORDER BY
    (CASE WHEN NOT @descending::bool THEN CASE @sort_by::text
        WHEN 'id' THEN "id" WHEN 'configId' THEN "configId" WHEN 'name' THEN "name" WHEN 'start' THEN "start"
        WHEN 'referenceId' THEN "referenceId" WHEN 'prefix' THEN "prefix" WHEN 'key' THEN "key"
        WHEN 'permissions' THEN "permissions" WHEN 'metadata' THEN "metadata" END END) ASC,
    (CASE WHEN @descending::bool THEN CASE @sort_by::text
        WHEN 'id' THEN "id" WHEN 'configId' THEN "configId" WHEN 'name' THEN "name" WHEN 'start' THEN "start"
        WHEN 'referenceId' THEN "referenceId" WHEN 'prefix' THEN "prefix" WHEN 'key' THEN "key"
        WHEN 'permissions' THEN "permissions" WHEN 'metadata' THEN "metadata" END END) DESC,
    (CASE WHEN NOT @descending::bool THEN CASE @sort_by::text
        WHEN 'lastRefillAt' THEN "lastRefillAt" WHEN 'lastRequest' THEN "lastRequest"
        WHEN 'expiresAt' THEN "expiresAt" WHEN 'createdAt' THEN "createdAt" WHEN 'updatedAt' THEN "updatedAt" END END) ASC,
    (CASE WHEN @descending::bool THEN CASE @sort_by::text
        WHEN 'lastRefillAt' THEN "lastRefillAt" WHEN 'lastRequest' THEN "lastRequest"
        WHEN 'expiresAt' THEN "expiresAt" WHEN 'createdAt' THEN "createdAt" WHEN 'updatedAt' THEN "updatedAt" END END) DESC,
    (CASE WHEN NOT @descending::bool THEN CASE @sort_by::text
        WHEN 'refillInterval' THEN "refillInterval" WHEN 'refillAmount' THEN "refillAmount"
        WHEN 'rateLimitTimeWindow' THEN "rateLimitTimeWindow" WHEN 'rateLimitMax' THEN "rateLimitMax"
        WHEN 'requestCount' THEN "requestCount" WHEN 'remaining' THEN "remaining" END END) ASC,
    (CASE WHEN @descending::bool THEN CASE @sort_by::text
        WHEN 'refillInterval' THEN "refillInterval" WHEN 'refillAmount' THEN "refillAmount"
        WHEN 'rateLimitTimeWindow' THEN "rateLimitTimeWindow" WHEN 'rateLimitMax' THEN "rateLimitMax"
        WHEN 'requestCount' THEN "requestCount" WHEN 'remaining' THEN "remaining" END END) DESC,
    (CASE WHEN NOT @descending::bool THEN CASE @sort_by::text
        WHEN 'enabled' THEN "enabled" WHEN 'rateLimitEnabled' THEN "rateLimitEnabled" END END) ASC,
    (CASE WHEN @descending::bool THEN CASE @sort_by::text
        WHEN 'enabled' THEN "enabled" WHEN 'rateLimitEnabled' THEN "rateLimitEnabled" END END) DESC,
    "createdAt", "id";

-- name: UpdateApiKey :one
-- The fields whose set_ flag is true get the given value (which may be NULL); the others stay.
-- "updatedAt" stays too: better-auth's update endpoint does not touch it.
UPDATE "apikey" SET
    "name" = CASE WHEN @set_name::bool THEN sqlc.narg(name)::text ELSE "name" END,
    "enabled" = CASE WHEN @set_enabled::bool THEN sqlc.narg(enabled)::bool ELSE "enabled" END,
    "expiresAt" = CASE WHEN @set_expires_at::bool THEN sqlc.narg(expires_at)::timestamptz ELSE "expiresAt" END,
    "metadata" = CASE WHEN @set_metadata::bool THEN sqlc.narg(metadata)::text ELSE "metadata" END,
    "remaining" = CASE WHEN @set_remaining::bool THEN sqlc.narg(remaining)::int ELSE "remaining" END,
    "refillAmount" = CASE WHEN @set_refill::bool THEN sqlc.narg(refill_amount)::int ELSE "refillAmount" END,
    "refillInterval" = CASE WHEN @set_refill::bool THEN sqlc.narg(refill_interval)::int ELSE "refillInterval" END,
    "rateLimitEnabled" = CASE WHEN @set_rate_limit_enabled::bool THEN sqlc.narg(rate_limit_enabled)::bool
                              ELSE "rateLimitEnabled" END,
    "rateLimitTimeWindow" = CASE WHEN @set_rate_limit_time_window::bool THEN sqlc.narg(rate_limit_time_window)::int
                                 ELSE "rateLimitTimeWindow" END,
    "rateLimitMax" = CASE WHEN @set_rate_limit_max::bool THEN sqlc.narg(rate_limit_max)::int ELSE "rateLimitMax" END,
    "permissions" = CASE WHEN @set_permissions::bool THEN sqlc.narg(permissions)::text ELSE "permissions" END
WHERE "id" = @id
RETURNING *;

-- name: ClaimApiKeyUsage :one
-- One verification's quota and rate-limit changes, applied only while the row still holds the four usage
-- values the caller read (compare-and-set): concurrent verifications, genvid's or a better-auth server's
-- guarded updates, never push "remaining" below zero or "requestCount" past the limit. NULL: lost the race.
-- "updatedAt" moves only when updated_at is given (a verification that ends refused leaves it).
UPDATE "apikey" SET
    "remaining" = sqlc.narg(remaining)::int,
    "lastRefillAt" = sqlc.narg(last_refill_at)::timestamptz,
    "requestCount" = sqlc.narg(request_count)::int,
    "lastRequest" = sqlc.narg(last_request)::timestamptz,
    "updatedAt" = COALESCE(sqlc.narg(updated_at)::timestamptz, "updatedAt")
WHERE "id" = @id
  AND "remaining" IS NOT DISTINCT FROM sqlc.narg(seen_remaining)::int
  AND "lastRefillAt" IS NOT DISTINCT FROM sqlc.narg(seen_last_refill_at)::timestamptz
  AND "requestCount" IS NOT DISTINCT FROM sqlc.narg(seen_request_count)::int
  AND "lastRequest" IS NOT DISTINCT FROM sqlc.narg(seen_last_request)::timestamptz
RETURNING *;

-- name: DeleteApiKey :execrows
DELETE FROM "apikey" WHERE "id" = @id;

-- name: DeleteExpiredApiKeys :execrows
DELETE FROM "apikey" WHERE "expiresAt" IS NOT NULL AND "expiresAt" < @now;
