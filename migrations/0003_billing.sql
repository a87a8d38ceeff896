-- depends: 0002_auth
-- Billing: an append-only credit ledger with a balance kept beside it, and the Stripe objects genvid
-- needs to remember (customers, checkout sessions, subscriptions, processed webhook events).

-- Every change of a user's credits, once: (reason, reference) is unique, so a retried grant, debit,
-- refund or clawback inserts nothing the second time. Rows are never updated (a trigger refuses it);
-- they disappear only with their user.
CREATE TABLE credit_ledger (
    id bigserial PRIMARY KEY,
    user_id text NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE,
    delta bigint NOT NULL,
    reason text NOT NULL,
    reference text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT credit_ledger_reason_reference_key UNIQUE (reason, reference)
);
CREATE INDEX credit_ledger_user_id_id_idx ON credit_ledger (user_id, id DESC);

CREATE FUNCTION credit_ledger_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'credit_ledger is append-only';
END;
$$;
CREATE TRIGGER credit_ledger_append_only BEFORE UPDATE ON credit_ledger
    FOR EACH ROW EXECUTE FUNCTION credit_ledger_refuse_update();

-- The sum of a user's ledger, changed in the same transaction as every ledger insert. It may be negative
-- only through a refund clawback; debits are conditional on it.
CREATE TABLE credit_balances (
    user_id text PRIMARY KEY REFERENCES "user" ("id") ON DELETE CASCADE,
    balance bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One Stripe customer per user, created once.
CREATE TABLE stripe_customers (
    user_id text PRIMARY KEY REFERENCES "user" ("id") ON DELETE CASCADE,
    customer_id text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Checkout Sessions genvid created (or learnt about from a webhook). status: open -> pending (paid
-- later by a delayed method) -> paid | failed; expired.
CREATE TABLE checkout_sessions (
    id text PRIMARY KEY,
    user_id text NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE,
    mode text NOT NULL CHECK (mode IN ('payment', 'subscription')),
    product_id text NOT NULL,
    credits bigint NOT NULL,
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'pending', 'paid', 'failed', 'expired')),
    payment_intent text,
    subscription_id text,
    amount_total bigint,
    currency text,
    clawed_back bigint NOT NULL DEFAULT 0,   -- credits already taken back for refunds of this payment
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX checkout_sessions_user_id_idx ON checkout_sessions (user_id, status);
CREATE UNIQUE INDEX checkout_sessions_payment_intent_key ON checkout_sessions (payment_intent)
    WHERE payment_intent IS NOT NULL;

-- Subscriptions, as the latest webhook said. event_created orders out-of-order updates; ended_at (set by
-- customer.subscription.deleted) stops grants for invoices created after it.
CREATE TABLE subscriptions (
    id text PRIMARY KEY,
    user_id text NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE,
    plan_id text NOT NULL,
    credits_per_period bigint NOT NULL,
    status text NOT NULL,
    cancel_at_period_end boolean NOT NULL DEFAULT false,
    current_period_end timestamptz,
    ended_at timestamptz,
    event_created timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_user_id_idx ON subscriptions (user_id);

-- Webhook events applied: the id is inserted in the same transaction as the event's effect.
CREATE TABLE stripe_events (
    id text PRIMARY KEY,
    type text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
