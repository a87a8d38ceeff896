-- name: InsertLedgerEntry :one
-- Nothing is returned when (reason, reference) was already recorded: the caller then changes nothing.
INSERT INTO credit_ledger (user_id, delta, reason, reference)
VALUES (@user_id, @delta, @reason, @reference)
ON CONFLICT (reason, reference) DO NOTHING
RETURNING *;

-- name: GetLedgerEntry :one
SELECT * FROM credit_ledger WHERE reason = @reason AND reference = @reference;

-- name: AddToBalance :one
-- Grants, refunds and clawbacks: unconditional, so a clawback may take the balance below zero.
INSERT INTO credit_balances (user_id, balance, updated_at)
VALUES (@user_id, @delta, now())
ON CONFLICT (user_id) DO UPDATE
SET balance = credit_balances.balance + EXCLUDED.balance, updated_at = now()
RETURNING balance;

-- name: GetBalance :one
SELECT balance FROM credit_balances WHERE user_id = @user_id;

-- name: ListLedgerPage :many
-- Keyset pagination, newest first: entries older than before_id.
SELECT * FROM credit_ledger
WHERE user_id = @user_id AND id < sqlc.arg(before_id)::bigint
ORDER BY id DESC
LIMIT sqlc.arg(page_size)::int;
