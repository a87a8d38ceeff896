-- name: RecordStripeEvent :one
-- Nothing returned: this event id was applied already (or is being applied by a concurrent delivery,
-- which this insert waits for).
INSERT INTO stripe_events (id, type) VALUES (@id, @type)
ON CONFLICT (id) DO NOTHING
RETURNING id;

-- name: GetStripeEvent :one
SELECT * FROM stripe_events WHERE id = @id;
