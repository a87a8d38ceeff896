-- depends: 0009_batches
-- The credit ledger's rule, kept in one place, by the database: a user's balance (credit_balances) is the sum
-- of their entries (credit_ledger), changed by the insert of each entry, within its statement, and by nothing
-- else. Whoever records an entry only inserts it: genvid.billing.ledger (grants, refunds, clawbacks),
-- CreatePaidVideo in queries/videos_videos.sql (a render's debit) and CreatePaidBatch in
-- queries/batches_batches.sql (a batch's). Each (reason, reference) is recorded once (credit_ledger's unique
-- key, 0003), so each delta is counted once.

CREATE FUNCTION credit_ledger_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO credit_balances (user_id, balance, updated_at)
    VALUES (NEW.user_id, NEW.delta, now())
    ON CONFLICT (user_id) DO UPDATE
    SET balance = credit_balances.balance + EXCLUDED.balance, updated_at = now();
    RETURN NULL;
END;
$$;
CREATE TRIGGER credit_ledger_moves_the_balance AFTER INSERT ON credit_ledger
    FOR EACH ROW EXECUTE FUNCTION credit_ledger_apply();

-- "And by nothing else": a write to credit_balances that the trigger above did not make changes nothing.
-- (pg_trigger_depth() is 0 while the WHEN condition is checked for a statement of its own, 1 for a write the
-- trigger above makes, which so never even calls the function.) This also keeps a deploy exact: code from
-- before this migration, still serving while the new release starts, adds an entry's delta itself after
-- inserting the entry, which the trigger has already counted; its write is skipped.
CREATE FUNCTION credit_balances_skip_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RETURN NULL;
END;
$$;
CREATE TRIGGER credit_balances_only_from_the_ledger BEFORE INSERT OR UPDATE ON credit_balances
    FOR EACH ROW WHEN (pg_trigger_depth() < 1) EXECUTE FUNCTION credit_balances_skip_write();
