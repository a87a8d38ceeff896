-- name: InsertLedgerEntry :one
-- Nothing is returned when (reason, reference) was already recorded. An inserted entry moves the user's
-- balance by its delta (migrations/0010_ledger_balance_trigger.sql).
INSERT INTO credit_ledger (user_id, delta, reason, reference)
VALUES (@user_id, @delta, @reason, @reference)
ON CONFLICT (reason, reference) DO NOTHING
RETURNING *;

-- name: GetLedgerEntry :one
SELECT * FROM credit_ledger WHERE reason = @reason AND reference = @reference;

-- name: GetBalance :one
SELECT balance FROM credit_balances WHERE user_id = @user_id;

-- name: ListLedgerPage :many
-- Keyset pagination, newest first: entries older than before_id.
SELECT * FROM credit_ledger
WHERE user_id = @user_id AND id < sqlc.arg(before_id)::bigint
ORDER BY id DESC
LIMIT sqlc.arg(page_size)::int;
