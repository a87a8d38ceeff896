-- name: GetSubscription :one
SELECT * FROM subscriptions WHERE id = @id;

-- name: InsertSubscriptionIfMissing :exec
-- From checkout.session.completed: a first row; later customer.subscription.* events keep it current.
INSERT INTO subscriptions (id, user_id, plan_id, credits_per_period, status, event_created)
VALUES (@id, @user_id, @plan_id, @credits_per_period, @status, @event_created)
ON CONFLICT (id) DO NOTHING;

-- name: UpsertSubscription :execrows
-- Applied only when this event is not older than the last one applied, and never after the end.
INSERT INTO subscriptions (id, user_id, plan_id, credits_per_period, status, cancel_at_period_end,
                           current_period_end, event_created)
VALUES (@id, @user_id, @plan_id, @credits_per_period, @status, @cancel_at_period_end,
        sqlc.narg(current_period_end), @event_created)
ON CONFLICT (id) DO UPDATE
SET plan_id = EXCLUDED.plan_id,
    credits_per_period = EXCLUDED.credits_per_period,
    status = EXCLUDED.status,
    cancel_at_period_end = EXCLUDED.cancel_at_period_end,
    current_period_end = EXCLUDED.current_period_end,
    event_created = EXCLUDED.event_created,
    updated_at = now()
WHERE subscriptions.ended_at IS NULL AND subscriptions.event_created <= EXCLUDED.event_created;

-- name: EndSubscription :exec
-- customer.subscription.deleted is final whatever arrives after it.
INSERT INTO subscriptions (id, user_id, plan_id, credits_per_period, status, ended_at, event_created)
VALUES (@id, @user_id, @plan_id, @credits_per_period, 'canceled', @ended_at, @event_created)
ON CONFLICT (id) DO UPDATE
SET status = 'canceled',
    ended_at = COALESCE(subscriptions.ended_at, EXCLUDED.ended_at),
    event_created = GREATEST(subscriptions.event_created, EXCLUDED.event_created),
    updated_at = now();

-- name: ListUserSubscriptions :many
SELECT * FROM subscriptions WHERE user_id = @user_id ORDER BY event_created DESC, id;
