-- depends: 0010_ledger_balance_trigger
-- What a paid create asks of the database, said once for both (CreatePaidVideo in queries/videos_videos.sql,
-- CreatePaidBatch in queries/batches_batches.sql): whether its avatar and voice are live, and the credits.low
-- event's payload. Both functions only read, and are STABLE, so they see the snapshot of the statement calling
-- them, as the subqueries they replace did (the planner inlines them): each create is still one statement,
-- one round trip, all or nothing. Its writes (the balance lock, the inserts, the ledger debit, the event) stay
-- in the statement itself, where a reader checks that money moves exactly once.

-- True when the provider's live catalogue (not retired) holds both the avatar look and the voice.
CREATE FUNCTION catalogue_is_live(for_provider text, look text, voice text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM avatars a
                   WHERE a.provider = for_provider AND a.provider_id = look AND a.retired_at IS NULL)
       AND EXISTS (SELECT 1 FROM voices v
                   WHERE v.provider = for_provider AND v.provider_id = voice AND v.retired_at IS NULL)
$$;

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
