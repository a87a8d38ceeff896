-- Outbound webhooks: endpoints, the event outbox, deliveries and their attempts (genvid/outbound).

-- name: CreateEndpoint :one
INSERT INTO webhook_endpoints (id, user_id, url, description, event_types, secret, enabled, created_at, updated_at)
VALUES (@id, @user_id, @url, @description, @event_types::text[], @secret, @enabled,  @now, @now)
RETURNING *;

-- name: CountEndpoints :one
SELECT count(*)::int FROM webhook_endpoints WHERE user_id = @user_id;

-- name: ListEndpoints :many
SELECT * FROM webhook_endpoints WHERE user_id = @user_id ORDER BY created_at, id;

-- name: GetEndpoint :one
SELECT * FROM webhook_endpoints WHERE id = @id AND user_id = @user_id;

-- name: UpdateEndpoint :one
-- Fields whose set_ flag is true take the new value. Enabling clears why it was disabled and the failure
-- streak; disabling (by its owner) says 'manual'.
UPDATE webhook_endpoints SET
    url = CASE WHEN @set_url::bool THEN @url ELSE url END,
    description = CASE WHEN @set_description::bool THEN @description ELSE description END,
    event_types = CASE WHEN @set_event_types::bool THEN @event_types::text[] ELSE event_types END,
    enabled = CASE WHEN @set_enabled::bool THEN @enabled ELSE enabled END,
    disabled_reason = CASE WHEN NOT @set_enabled::bool THEN disabled_reason
                           WHEN @enabled THEN NULL ELSE 'manual' END,
    failing_since = CASE WHEN @set_enabled::bool AND @enabled THEN NULL ELSE failing_since END,
    updated_at = @now
WHERE id = @id AND user_id = @user_id
RETURNING *;

-- name: RotateEndpointSecret :one
-- The old secret keeps signing (beside the new one) until previous_until.
UPDATE webhook_endpoints
SET previous_secret = secret, previous_secret_expires_at = @previous_until, secret = @secret, updated_at = @now
WHERE id = @id AND user_id = @user_id
RETURNING *;

-- name: DeleteEndpoint :execrows
DELETE FROM webhook_endpoints WHERE id = @id AND user_id = @user_id;

-- name: EmitEvent :many
-- The outbox: the event (once per type and reference: a repeat does nothing) and, in the same statement, a
-- delivery due at once for each of the user's enabled endpoints subscribed to its type. Workers' loops
-- dispatch them once this transaction commits (DispatchDueDeliveries).
WITH event AS (
    INSERT INTO webhook_events (id, user_id, type, reference, payload, created_at, dispatched_at)
    VALUES ('msg_' || replace(gen_random_uuid()::text, '-', ''), @user_id, @type, @reference, @payload, @now, @now)
    ON CONFLICT (type, reference) DO NOTHING
    RETURNING id, user_id, type
)
INSERT INTO webhook_deliveries (id, event_id, endpoint_id, next_attempt_at, created_at, updated_at)
SELECT replace(gen_random_uuid()::text, '-', ''), event.id, e.id, @now, @now, @now
FROM event JOIN webhook_endpoints e ON e.user_id = event.user_id AND e.enabled AND event.type = ANY (e.event_types)
RETURNING id;

-- name: FanOutEvents :many
-- Deliveries for events written without them (credits.low, inside CreatePaidVideo), oldest first.
WITH pending AS (
    SELECT id, user_id, type FROM webhook_events WHERE dispatched_at IS NULL
    ORDER BY created_at LIMIT @batch FOR UPDATE SKIP LOCKED
), marked AS (
    UPDATE webhook_events SET dispatched_at = @now WHERE id IN (SELECT id FROM pending)
)
INSERT INTO webhook_deliveries (id, event_id, endpoint_id, next_attempt_at, created_at, updated_at)
SELECT replace(gen_random_uuid()::text, '-', ''), p.id, e.id, @now, @now, @now
FROM pending p JOIN webhook_endpoints e ON e.user_id = p.user_id AND e.enabled AND p.type = ANY (e.event_types)
ON CONFLICT (event_id, endpoint_id) DO NOTHING
RETURNING id;

-- name: DispatchDueDeliveries :many
-- Pending deliveries whose attempt is due at @now and not in flight, each claimed for dispatch (queued_at =
-- @now), oldest due first: another worker's loop does not take it as well, and if no job ever starts it (Redis
-- lost the job, its worker was killed) it is dispatched again once its claim is older than @redispatch_before.
-- SKIP LOCKED: loops running at once split the due rows instead of waiting for each other.
UPDATE webhook_deliveries d SET queued_at = @now
WHERE d.id IN (
    SELECT w.id FROM webhook_deliveries w
    WHERE w.status = 'pending' AND w.next_attempt_at <= @now
      AND (w.locked_until IS NULL OR w.locked_until <= @now)
      AND (w.queued_at IS NULL OR w.queued_at <= @redispatch_before)
      AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = w.endpoint_id AND e.enabled)
    ORDER BY w.next_attempt_at LIMIT @batch FOR UPDATE SKIP LOCKED)
RETURNING d.id;

-- name: ClaimDelivery :one
-- Start the next attempt of a due delivery to an enabled endpoint: attempts + 1, in flight until lease_until.
-- Nothing when it is not due, in flight, finished, or its endpoint is disabled: a duplicate job does nothing.
UPDATE webhook_deliveries d
SET attempts = d.attempts + 1, locked_until = @lease_until, queued_at = NULL, updated_at = @now
FROM webhook_endpoints e, webhook_events ev
WHERE d.id = @id AND d.status = 'pending' AND d.next_attempt_at <= @now
  AND (d.locked_until IS NULL OR d.locked_until <= @now)
  AND e.id = d.endpoint_id AND e.enabled AND ev.id = d.event_id
RETURNING d.id, d.attempts, d.created_at, d.endpoint_id, e.user_id, e.url, e.secret, e.previous_secret,
          e.previous_secret_expires_at, ev.id AS event_id, ev.payload;

-- name: RecordAttempt :exec
INSERT INTO webhook_attempts (delivery_id, attempt, started_at, status_code, error, latency_ms, response_excerpt)
VALUES (@delivery_id, @attempt, @started_at, sqlc.narg(status_code), sqlc.narg(error), @latency_ms, @response_excerpt)
ON CONFLICT (delivery_id, attempt) DO NOTHING;

-- name: FinishAttempt :one
-- The outcome of attempt number @attempt: succeeded, failed (given up), or pending again at next_attempt_at.
-- Only while that attempt is still the latest (a stale worker whose lease ran out changes nothing).
UPDATE webhook_deliveries
SET status = @status::webhook_delivery_status, next_attempt_at = @next_attempt_at, locked_until = NULL,
    last_attempt_at = @attempted_at, last_status_code = sqlc.narg(status_code), last_error = sqlc.narg(error),
    updated_at = @now
WHERE id = @id AND attempts = @attempt AND status = 'pending'
RETURNING *;

-- name: MarkEndpointHealthy :exec
UPDATE webhook_endpoints SET failing_since = NULL WHERE id = @id AND failing_since IS NOT NULL;

-- name: MarkEndpointFailing :one
-- The start of the endpoint's failure streak (this failure, unless an earlier one started it).
UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, @failed_at)
WHERE id = @id
RETURNING failing_since;

-- name: DisableFailingEndpoint :one
-- Disable an endpoint failing since before @cutoff; a row only for the call that disabled it.
UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'failing', updated_at = @now
WHERE id = @id AND enabled AND failing_since <= @cutoff
RETURNING *;

-- name: FailPendingDeliveries :execrows
-- A disabled endpoint's pending deliveries end (its owner may redeliver them after enabling it again).
UPDATE webhook_deliveries
SET status = 'failed', locked_until = NULL, last_error = @reason, updated_at = @now
WHERE endpoint_id = @endpoint_id AND status = 'pending';

-- name: ListDeliveries :many
-- An endpoint's deliveries, newest first (keyset on created_at, id), with their event's type.
SELECT d.id, d.event_id, ev.type AS event_type, d.status, d.attempts, d.next_attempt_at, d.last_attempt_at,
       d.last_status_code, d.last_error, d.created_at, d.updated_at
FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id
WHERE d.endpoint_id = @endpoint_id
  AND (sqlc.narg(status)::webhook_delivery_status IS NULL OR d.status = sqlc.narg(status)::webhook_delivery_status)
  AND (sqlc.narg(before_created_at)::timestamptz IS NULL
       OR (d.created_at, d.id) < (sqlc.narg(before_created_at)::timestamptz, sqlc.narg(before_id)::text))
ORDER BY d.created_at DESC, d.id DESC
LIMIT @page_size;

-- name: ListAttempts :many
SELECT * FROM webhook_attempts WHERE delivery_id = ANY (@delivery_ids::text[]) ORDER BY delivery_id, attempt;

-- name: RedeliverDelivery :one
-- Send a delivery again now (whatever became of it), unless an attempt is in flight: due at once, for the
-- workers' loops to dispatch.
UPDATE webhook_deliveries
SET status = 'pending', next_attempt_at = @now, queued_at = NULL, updated_at = @now
WHERE id = @id AND endpoint_id = @endpoint_id AND (locked_until IS NULL OR locked_until <= @now)
RETURNING *;

-- name: GetDelivery :one
SELECT * FROM webhook_deliveries WHERE id = @id AND endpoint_id = @endpoint_id;

-- name: DeleteEventsBefore :execrows
-- The delivery log is kept this long: events go with their deliveries and attempts.
DELETE FROM webhook_events WHERE created_at < @before;
