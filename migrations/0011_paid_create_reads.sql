-- depends: 0010_ledger_balance_trigger
-- The credits.low event's payload, said once for both paid creates (CreatePaidVideo in
-- queries/videos_videos.sql, CreatePaidBatch in queries/batches_batches.sql). The function only reads and is
-- STABLE, so it sees the snapshot of the statement calling it, as the subquery it replaces did: each create is
-- still one statement, one round trip, all or nothing, and its writes stay in the statement itself, where a
-- reader checks that money moves exactly once. It runs only for a debit that crossed the threshold. (The
-- catalogue check stays inline in both: a scalar SQL function holding subqueries is not inlined by the
-- planner, and as a function it made every create about 300 us slower.)

-- The payload of the outbound webhook credits.low (an event as genvid/outbound/events.py shapes one, its
-- timestamp as events.timestamp() writes it): the payer's balance after the debit, their credits in checkouts
-- still pending, and the threshold the debit crossed.
CREATE FUNCTION credits_low_payload(payer text, balance_after bigint, threshold bigint, happened_at timestamptz)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT json_build_object('type', 'credits.low',
                             'timestamp', to_char(timezone('UTC', happened_at), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                             'data', json_build_object(
                                 'credits', json_build_object('balance', balance_after, 'pending',
                                     (SELECT COALESCE(SUM(c.credits), 0) FROM checkout_sessions c
                                      WHERE c.user_id = payer AND c.status = 'pending')),
                                 'threshold', threshold))::text
$$;
