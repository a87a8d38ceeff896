-- name: CreateCheckoutSession :exec
-- A retried checkout gets Stripe's replayed session back; its row is already there.
INSERT INTO checkout_sessions (id, user_id, mode, product_id, credits, amount_total, currency)
VALUES (@id, @user_id, @mode, @product_id, @credits, sqlc.narg(amount_total), sqlc.narg(currency))
ON CONFLICT (id) DO NOTHING;

-- name: GetCheckoutSessionForUser :one
SELECT * FROM checkout_sessions WHERE id = @id AND user_id = @user_id;

-- name: UpsertCheckoutSessionFromEvent :one
-- A webhook's view of a session, locking its row for the rest of the event's transaction. What genvid stored
-- at creation (user, product, credits) is kept; Stripe's later facts fill in.
INSERT INTO checkout_sessions (id, user_id, mode, product_id, credits, payment_intent, subscription_id,
                               amount_total, currency)
VALUES (@id, @user_id, @mode, @product_id, @credits, sqlc.narg(payment_intent), sqlc.narg(subscription_id),
        sqlc.narg(amount_total), sqlc.narg(currency))
ON CONFLICT (id) DO UPDATE
SET payment_intent = COALESCE(EXCLUDED.payment_intent, checkout_sessions.payment_intent),
    subscription_id = COALESCE(EXCLUDED.subscription_id, checkout_sessions.subscription_id),
    amount_total = COALESCE(EXCLUDED.amount_total, checkout_sessions.amount_total),
    currency = COALESCE(EXCLUDED.currency, checkout_sessions.currency),
    updated_at = now()
RETURNING *;

-- name: MarkCheckoutPending :execrows
UPDATE checkout_sessions SET status = 'pending', updated_at = now()
WHERE id = @id AND status = 'open';

-- name: MarkCheckoutPaid :execrows
UPDATE checkout_sessions SET status = 'paid', updated_at = now()
WHERE id = @id AND status IN ('open', 'pending', 'expired');

-- name: MarkCheckoutFailed :execrows
UPDATE checkout_sessions SET status = 'failed', updated_at = now()
WHERE id = @id AND status IN ('open', 'pending');

-- name: MarkCheckoutExpired :execrows
UPDATE checkout_sessions SET status = 'expired', updated_at = now()
WHERE id = @id AND status = 'open';

-- name: LockCheckoutByPaymentIntent :one
SELECT * FROM checkout_sessions WHERE payment_intent = @payment_intent FOR UPDATE;

-- name: SetClawedBack :exec
UPDATE checkout_sessions SET clawed_back = @clawed_back, updated_at = now() WHERE id = @id;

-- name: SumPendingCredits :one
SELECT COALESCE(SUM(credits), 0)::bigint AS pending
FROM checkout_sessions WHERE user_id = @user_id AND status = 'pending';
