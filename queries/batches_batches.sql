-- Batches: a template rendered once per row; each row is a video (videos.batch_id, videos.batch_row).

-- name: CreatePaidBatch :one
-- The whole create in one statement, as CreatePaidVideo does for one video: the user's balance row is locked if
-- it covers the whole batch (@credits, the sum of @row_credits) and the avatar and voice are live; only then is
-- the batch inserted (unless this user already sent this Idempotency-Key), one queued video per row (due at
-- @now: the dispatcher admits them) and one ledger debit for the batch (reason @reason, reference the batch id),
-- which lowers the balance (the ledger's rule, kept by migrations/0010_ledger_balance_trigger.sql), and
-- credits.low recorded when that crossed @low_credits. NULL when any of these refused: then nothing at all was
-- written, and the caller finds out why.
WITH funds AS (
    SELECT b.user_id AS payer, b.balance FROM credit_balances b
    WHERE b.user_id = @user_id AND b.balance >= @credits::bigint AND b.balance >= 0
      AND EXISTS (SELECT 1 FROM avatars a
                  WHERE a.provider = @provider AND a.provider_id = @avatar_id AND a.retired_at IS NULL)
      AND EXISTS (SELECT 1 FROM voices v
                  WHERE v.provider = @provider AND v.provider_id = @voice_id AND v.retired_at IS NULL)
    FOR UPDATE OF b
), created AS (
    INSERT INTO batches (id, user_id, name, provider, avatar_id, voice_id, script, title, aspect_ratio, resolution,
                         background, captions, variables, row_count, credits, idempotency_key, created_at,
                         updated_at)
    SELECT @id, payer, sqlc.narg(name), @provider, @avatar_id, @voice_id, @script, sqlc.narg(title), @aspect_ratio,
           @resolution, sqlc.narg(background), @captions, @variables::text[], @row_count, @credits,
           sqlc.narg(idempotency_key), @now, @now
    FROM funds
    ON CONFLICT (user_id, idempotency_key) DO NOTHING
    RETURNING *
), rendered AS (
    -- Row n of the arrays is the batch's row n; an empty title means none.
    INSERT INTO videos (id, user_id, status, provider, avatar_id, voice_id, script, title, aspect_ratio,
                        resolution, background, captions, credits, next_check_at, created_at, updated_at,
                        batch_id, batch_row)
    SELECT (@video_ids::text[])[n], c.user_id, 'queued', c.provider, c.avatar_id, c.voice_id,
           (@scripts::text[])[n], NULLIF((@titles::text[])[n], ''), c.aspect_ratio, c.resolution, c.background,
           c.captions, (@row_credits::integer[])[n], @now, @now, @now, c.id, n
    FROM created c, generate_series(1, c.row_count) AS n
    RETURNING videos.id
), entry AS (
    INSERT INTO credit_ledger (user_id, delta, reason, reference)
    SELECT c.user_id, -c.credits, @reason, c.id FROM created c
), low AS (
    -- The outbound webhook credits.low when this debit took the balance below @low_credits from at or above it,
    -- as CreatePaidVideo records it (genvid/outbound/events.py; the workers' loops make its deliveries). The
    -- balance after the debit is the locked balance less the price: the ledger's trigger applies the debit as
    -- the statement ends.
    INSERT INTO webhook_events (id, user_id, type, reference, payload, created_at)
    SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), d.user_id, 'credits.low', @id,
           credits_low_payload(d.user_id, d.balance, @low_credits::bigint, @now::timestamptz), @now
    FROM (SELECT c.user_id, f.balance - c.credits AS balance FROM created c JOIN funds f ON f.payer = c.user_id) d
    WHERE d.balance < @low_credits::bigint AND d.balance + @credits::bigint >= @low_credits::bigint
    ON CONFLICT (type, reference) DO NOTHING
)
SELECT sqlc.embed(batches) FROM created AS batches;

-- name: GetBatchByIdempotencyKey :one
SELECT * FROM batches WHERE user_id = @user_id AND idempotency_key = @idempotency_key;

-- name: GetBatchForUser :one
SELECT * FROM batches WHERE id = @id AND user_id = @user_id;

-- name: LockBatchForUser :one
-- Serialises cancels of one batch: a second cancel waits here, then finds nothing left to stop.
SELECT * FROM batches WHERE id = @id AND user_id = @user_id FOR UPDATE;

-- name: MarkBatchCancelled :one
UPDATE batches SET cancelled_at = @now, updated_at = @now
WHERE id = @id AND cancelled_at IS NULL
RETURNING *;

-- name: ListUserBatches :many
-- Newest first, keyset pagination by (created_at, id).
SELECT * FROM batches
WHERE user_id = @user_id
  AND (sqlc.narg(before_created_at)::timestamptz IS NULL
       OR (created_at, id) < (sqlc.narg(before_created_at)::timestamptz, sqlc.narg(before_id)::text))
ORDER BY created_at DESC, id DESC
LIMIT @page_size;

-- name: CountBatchVideos :many
-- Progress of each batch: its videos by status, and what was given back (failed and cancelled rows are
-- refunded in the transaction that changed their status, so the sum of their credits is what was refunded).
SELECT v.batch_id::text AS batch_id,
       count(*) FILTER (WHERE v.status = 'queued')::integer AS queued,
       count(*) FILTER (WHERE v.status = 'submitting')::integer AS submitting,
       count(*) FILTER (WHERE v.status = 'rendering')::integer AS rendering,
       count(*) FILTER (WHERE v.status = 'completed')::integer AS completed,
       count(*) FILTER (WHERE v.status = 'failed')::integer AS failed,
       count(*) FILTER (WHERE v.status = 'cancelled')::integer AS cancelled,
       coalesce(sum(v.credits) FILTER (WHERE v.status IN ('failed', 'cancelled')), 0)::integer AS refunded_credits,
       max(v.finished_at) AS last_finished_at
FROM videos v
WHERE v.batch_id = ANY(@batch_ids::text[])
GROUP BY v.batch_id;

-- name: ListBatchVideos :many
SELECT * FROM videos WHERE batch_id = @batch_id ORDER BY batch_row;

-- name: CancelQueuedBatchVideos :many
-- Every row of the batch not yet admitted to render is cancelled. Rows are locked in id order (the dispatcher's
-- admission skips locked rows, and single-row updates lock one), so no two statements deadlock; a row the
-- dispatcher admitted first is no longer queued when its lock is granted, and is left alone.
WITH locked AS (
    SELECT q.id FROM videos q
    WHERE q.batch_id = @batch_id AND q.status = 'queued'
    ORDER BY q.id
    FOR UPDATE
)
UPDATE videos v
SET status = 'cancelled', step = v.step + 1, failure_code = 'cancelled',
    failure_message = 'The batch was cancelled before this row started rendering.', finished_at = @now,
    next_check_at = NULL, updated_at = @now
FROM locked
WHERE v.id = locked.id AND v.status = 'queued'
RETURNING v.id, v.credits;
