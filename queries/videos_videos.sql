-- Videos: every state change is a guarded UPDATE (expected status and step), so a retried or duplicate
-- job changes nothing.

-- name: CreatePaidVideo :one
-- The whole create in one statement, so one round trip and atomic even on an autocommit connection: the
-- user's balance row is locked if it covers credits and the avatar and voice are live; only then is the video
-- inserted (unless this user already sent this Idempotency-Key) and its render debit recorded in the ledger
-- (reason @reason, reference the video id), which lowers the balance (the ledger's rule, kept by
-- migrations/0010_ledger_balance_trigger.sql), and credits.low recorded when that crossed @low_credits. NULL
-- when any of these refused; the caller then finds out which.
WITH funds AS (
    SELECT b.user_id AS payer, b.balance FROM credit_balances b
    WHERE b.user_id = @user_id AND b.balance >= @credits::bigint AND b.balance >= 0
      AND EXISTS (SELECT 1 FROM avatars a
                  WHERE a.provider = @provider AND a.provider_id = @avatar_id AND a.retired_at IS NULL)
      AND EXISTS (SELECT 1 FROM voices v
                  WHERE v.provider = @provider AND v.provider_id = @voice_id AND v.retired_at IS NULL)
    FOR UPDATE OF b
), created AS (
    INSERT INTO videos (id, user_id, status, provider, avatar_id, voice_id, script, title, aspect_ratio,
                        resolution, background, captions, credits, idempotency_key, next_check_at,
                        created_at, updated_at)
    SELECT @id, payer, 'queued', @provider, @avatar_id, @voice_id, @script, sqlc.narg(title), @aspect_ratio,
           @resolution, sqlc.narg(background), @captions, @credits, sqlc.narg(idempotency_key), @now, @now, @now
    FROM funds
    ON CONFLICT (user_id, idempotency_key) DO NOTHING
    RETURNING *
), entry AS (
    -- No ON CONFLICT: the video id is new, and were it not, the error would undo the whole statement.
    INSERT INTO credit_ledger (user_id, delta, reason, reference)
    SELECT c.user_id, -c.credits, @reason, c.id FROM created c
), low AS (
    -- The outbound webhook credits.low when this debit took the balance below @low_credits from at or above it
    -- (genvid/outbound/events.py; the workers' loops make its deliveries). The balance after the debit is the
    -- locked balance less the price: the ledger's trigger applies the debit as the statement ends.
    INSERT INTO webhook_events (id, user_id, type, reference, payload, created_at)
    SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), d.user_id, 'credits.low', @id,
           credits_low_payload(d.user_id, d.balance, @low_credits::bigint, @now::timestamptz), @now
    FROM (SELECT v.user_id, f.balance - v.credits AS balance FROM created v JOIN funds f ON f.payer = v.user_id) d
    WHERE d.balance < @low_credits::bigint AND d.balance + @credits::bigint >= @low_credits::bigint
    ON CONFLICT (type, reference) DO NOTHING
)
SELECT sqlc.embed(videos) FROM created AS videos;

-- name: GetVideoByIdempotencyKey :one
SELECT * FROM videos WHERE user_id = @user_id AND idempotency_key = @idempotency_key;

-- name: GetVideo :one
SELECT * FROM videos WHERE id = @id;

-- name: GetVideoOnceDispatched :one
-- The row once no dispatch that is still committing holds it: FOR SHARE waits for the transaction whose claim
-- locked the row (see genvid.videos.dispatcher: jobs are enqueued before their claim commits).
SELECT * FROM videos WHERE id = @id FOR SHARE;

-- name: GetVideoForUser :one
SELECT * FROM videos WHERE id = @id AND user_id = @user_id;

-- name: GetVideoByProviderVideoId :one
SELECT * FROM videos WHERE provider = @provider AND provider_video_id = @provider_video_id;

-- name: ListUserVideos :many
-- Newest first, keyset pagination by (created_at, id); a NULL status means any.
SELECT * FROM videos
WHERE user_id = @user_id
  AND (sqlc.narg(status)::video_status IS NULL OR status = sqlc.narg(status)::video_status)
  AND (sqlc.narg(before_created_at)::timestamptz IS NULL
       OR (created_at, id) < (sqlc.narg(before_created_at)::timestamptz, sqlc.narg(before_id)::text))
ORDER BY created_at DESC, id DESC
LIMIT @page_size;

-- name: LockSubmitSlots :exec
-- Serialises the concurrency-cap check with the claim it guards, until the transaction ends.
SELECT pg_advisory_xact_lock(7163526181);

-- name: CountInFlight :one
SELECT count(*)::integer FROM videos WHERE provider = @provider AND status IN ('submitting', 'rendering');

-- name: ClaimForSubmit :one
-- queued -> submitting. next_check_at is the claim of the worker that submits (see RenewLease).
UPDATE videos
SET status = 'submitting', step = step + 1, attempts = 0, next_check_at = @next_check_at, updated_at = @now
WHERE id = @id AND status = 'queued' AND step = @step
RETURNING *;

-- name: MarkSubmitted :one
-- submitting -> rendering, with the provider's id for the render.
UPDATE videos
SET status = 'rendering', step = step + 1, provider_video_id = @provider_video_id, submitted_at = @now,
    attempts = 0, polls = 0, next_check_at = @next_check_at, updated_at = @now
WHERE id = @id AND status = 'submitting' AND step = @step
RETURNING *;

-- name: Reschedule :one
-- The same status, a later check: a retry after a transient error (attempts_delta 1), a capped submit or a
-- status poll that found the render still running (polls_delta 1).
UPDATE videos
SET step = step + 1, attempts = attempts + @attempts_delta::integer, polls = polls + @polls_delta::integer,
    next_check_at = @next_check_at, updated_at = @now
WHERE id = @id AND status = @status AND step = @step
RETURNING *;

-- name: MarkCompleted :one
UPDATE videos
SET status = 'completed', step = step + 1, video_key = @video_key, thumbnail_key = sqlc.narg(thumbnail_key),
    duration = sqlc.narg(duration), warnings = @warnings, finished_at = @now, next_check_at = NULL,
    updated_at = @now
WHERE id = @id AND status = 'rendering' AND step = @step
RETURNING *;

-- name: MarkFailed :one
-- Any unfinished state -> failed; the caller refunds in the same transaction when a row comes back.
UPDATE videos
SET status = 'failed', step = step + 1, failure_code = @failure_code, failure_message = @failure_message,
    finished_at = @now, next_check_at = NULL, updated_at = @now
WHERE id = @id AND status IN ('queued', 'submitting', 'rendering') AND step = @step
RETURNING *;

-- name: CancelQueued :one
-- Only a render not yet submitted can be cancelled (and refunded); a worker's claim races this safely.
UPDATE videos
SET status = 'cancelled', step = step + 1, failure_code = 'cancelled', failure_message = 'Cancelled by you.',
    finished_at = @now, next_check_at = NULL, updated_at = @now
WHERE id = @id AND user_id = @user_id AND status = 'queued'
RETURNING *;

-- name: DeleteVideoForUser :one
DELETE FROM videos WHERE id = @id AND user_id = @user_id RETURNING *;

-- name: DispatchDueVideos :many
-- The renders in flight (submitting, rendering) whose next step is due at @now, oldest first, each claimed for
-- dispatch: its next_check_at moves to @redispatch_at, so another worker's dispatcher does not take it as well,
-- and if no job ever acts on it (Redis lost the job, no worker was free) it is dispatched again then. SKIP
-- LOCKED: dispatchers running at once split the due rows instead of waiting for each other. Queued videos are
-- not dispatched here but admitted (AdmitQueuedVideos), as render slots free up.
WITH due AS (
    SELECT d.id, d.next_check_at AS due_at FROM videos d
    WHERE d.status IN ('submitting', 'rendering') AND d.next_check_at <= @now
    ORDER BY d.next_check_at
    LIMIT @page_size
    FOR UPDATE SKIP LOCKED
), dispatched AS (
    UPDATE videos v SET next_check_at = @redispatch_at
    FROM due WHERE v.id = due.id
    RETURNING v.id, v.step, due.due_at
)
SELECT id, step FROM dispatched ORDER BY due_at, id;

-- name: CountAllInFlight :one
-- Renders holding a slot of the concurrency cap, whoever's (the caller holds LockSubmitSlots).
SELECT count(*)::integer FROM videos WHERE status IN ('submitting', 'rendering');

-- name: AdmitQueuedVideos :many
-- Up to @slots queued videos due at @now move to submitting (each claimed for dispatch until @redispatch_at,
-- like DispatchDueVideos), chosen fairly between users: a user's waiting videos are taken in turn (oldest
-- first, a batch's in row order), and a video's rank is its turn plus the renders its user already has in
-- flight, so one user's thousand-row batch fills free slots only while nobody else waits, and another user's
-- single video takes the next slot that frees. Ties go to the video waiting longest. The caller holds LockSubmitSlots, so admissions
-- never exceed the cap; rows another transaction has locked (a batch cancel) are skipped for this round.
WITH in_flight AS (
    SELECT f.user_id, count(*)::integer AS renders FROM videos f
    WHERE f.status IN ('submitting', 'rendering')
    GROUP BY f.user_id
), waiting AS (
    SELECT q.id, q.user_id, q.next_check_at,
           row_number() OVER (PARTITION BY q.user_id ORDER BY q.next_check_at, q.batch_row, q.id) AS turn
    FROM videos q
    WHERE q.status = 'queued' AND q.next_check_at <= @now
), ranked AS (
    SELECT w.id, row_number() OVER (ORDER BY coalesce(f.renders, 0) + w.turn, w.next_check_at, w.id) AS place
    FROM waiting w LEFT JOIN in_flight f ON f.user_id = w.user_id
), chosen AS (
    SELECT r.id, r.place FROM ranked r
    WHERE r.place <= @slots::bigint
), locked AS (
    SELECT v.id FROM videos v
    WHERE v.id IN (SELECT c.id FROM chosen c) AND v.status = 'queued'
    ORDER BY v.id
    FOR UPDATE SKIP LOCKED
), admitted AS (
    UPDATE videos v
    SET status = 'submitting', step = v.step + 1, attempts = 0, next_check_at = @redispatch_at, updated_at = @now
    FROM locked
    WHERE v.id = locked.id
    RETURNING v.id, v.step, v.batch_id
)
SELECT a.id, a.step, a.batch_id FROM admitted a JOIN chosen c ON c.id = a.id ORDER BY c.place;

-- name: RenewLease :execrows
-- The worker running a job on this video, at this step, is alive: once less than half of its claim is left
-- (next_check_at before @renew_before), the claim is extended to @lease_until.
UPDATE videos SET next_check_at = @lease_until
WHERE id = @id AND step = @step AND status IN ('queued', 'submitting', 'rendering')
  AND next_check_at < @renew_before;

-- name: HastenCheck :execrows
-- A provider webhook says a render changed: its status check is due at @now instead of at the next poll.
UPDATE videos SET next_check_at = @now
WHERE id = @id AND status = 'rendering' AND next_check_at > @now;

-- name: ListExistingVideoIds :many
-- Which of these ids still have a row (media of the others is orphaned and can go).
SELECT id FROM videos WHERE id = ANY(@ids::text[]);
