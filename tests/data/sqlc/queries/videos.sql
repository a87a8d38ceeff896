-- name: CreateVideo :one
INSERT INTO videos (id, user_id, status, script, tags, scores, metadata, settings, duration, thumbnail, "renderedAt")
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
RETURNING *;

-- name: GetVideo :one
SELECT * FROM videos WHERE id = $1 AND user_id = $2;

-- name: ListVideosByStatus :many
SELECT id, status, tags, metadata, created_at FROM videos WHERE status = ANY(sqlc.arg(statuses)::video_status[]) ORDER BY created_at;

-- name: MarkVideo :one
UPDATE videos SET status = @new_status, metadata = metadata || @patch::jsonb
WHERE id = @id AND status = @old_status
RETURNING status;

-- name: GrantCredits :exec
INSERT INTO credit_ledger (user_id, delta, price, ratio, note) VALUES ($1, $2, $3, $4, $5);

-- name: Balance :one
SELECT coalesce(sum(delta), 0)::int8 AS balance FROM credit_ledger WHERE user_id = $1;

-- name: LedgerSince :many
SELECT * FROM credit_ledger WHERE user_id = $1 AND created_on >= $2;
