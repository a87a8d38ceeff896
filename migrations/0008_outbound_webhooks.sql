-- depends: 0007_apikeys
-- Outbound webhooks (Standard Webhooks): the endpoints users register, the events genvid emits (the outbox,
-- written in the same transaction as the change they report), one delivery per (event, endpoint), and every
-- attempt of each delivery (the log users read).

CREATE TABLE webhook_endpoints (
    id text PRIMARY KEY,
    user_id text NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE,
    url text NOT NULL,
    description text NOT NULL DEFAULT '',
    event_types text[] NOT NULL,
    -- The whsec_ signing secret, sealed under ENCRYPTION_KEY (genvid.sealing): genvid must sign with it, so it
    -- is kept recoverable, but never shown again after creation or rotation.
    secret text NOT NULL,
    -- After a rotation the old secret also signs until this moment, so receivers can switch without a gap.
    previous_secret text,
    previous_secret_expires_at timestamptz,
    enabled boolean NOT NULL DEFAULT true,
    disabled_reason text CHECK (disabled_reason IN ('manual', 'failing')),
    -- The first failed attempt since the last success; a day of nothing but failures disables the endpoint.
    failing_since timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX webhook_endpoints_user_idx ON webhook_endpoints (user_id, created_at, id);

CREATE TABLE webhook_events (
    id text PRIMARY KEY,                       -- msg_...: the webhook-id header of every delivery
    user_id text NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE,
    type text NOT NULL,
    reference text NOT NULL,                   -- what happened once (a video id, a checkout session id)
    -- The body every delivery of this event sends, byte for byte (the signature covers these bytes):
    -- {"type": ..., "timestamp": ..., "data": <the JSON the API returns for the thing>}.
    payload text NOT NULL,
    created_at timestamptz NOT NULL,
    -- NULL until deliveries were made for the subscribed endpoints (events written by SQL, such as
    -- credits.low inside CreatePaidVideo, are fanned out by the workers' loops).
    dispatched_at timestamptz,
    CONSTRAINT webhook_events_once UNIQUE (type, reference)
);
CREATE INDEX webhook_events_undispatched_idx ON webhook_events (created_at) WHERE dispatched_at IS NULL;
CREATE INDEX webhook_events_created_idx ON webhook_events (created_at);

CREATE TYPE webhook_delivery_status AS ENUM ('pending', 'succeeded', 'failed');

CREATE TABLE webhook_deliveries (
    id text PRIMARY KEY,
    event_id text NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    endpoint_id text NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    status webhook_delivery_status NOT NULL DEFAULT 'pending',
    attempts integer NOT NULL DEFAULT 0,       -- attempts started; an attempt's result is guarded by its number
    next_attempt_at timestamptz NOT NULL,
    queued_at timestamptz,                     -- dispatched to a job then (dispatched again if none started it)
    locked_until timestamptz,                  -- an attempt is in flight until then
    last_attempt_at timestamptz,
    last_status_code integer,
    last_error text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT webhook_deliveries_once UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);

CREATE TABLE webhook_attempts (
    id bigserial PRIMARY KEY,
    delivery_id text NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt integer NOT NULL,
    started_at timestamptz NOT NULL,
    status_code integer,                       -- NULL when no HTTP answer came (timeout, refused address ...)
    error text,
    latency_ms integer NOT NULL,
    response_excerpt text NOT NULL DEFAULT '',
    CONSTRAINT webhook_attempts_once UNIQUE (delivery_id, attempt)
);
