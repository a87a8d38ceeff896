-- depends: 0003_billing
-- Videos: the provider's catalogue (avatar looks and voices), render jobs whose row is the source of truth
-- for their state (RQ data may be lost), processed provider webhook events, and provider webhook endpoints.

-- Avatar looks as the provider lists them; the look id is what a render takes. Entries that disappear
-- upstream get retired_at instead of being deleted, so old videos keep their avatar.
CREATE TABLE avatars (
    provider text NOT NULL,
    provider_id text NOT NULL,
    name text NOT NULL,
    gender text,
    preview_image_url text,
    preview_video_url text,
    default_voice_id text,
    premium boolean NOT NULL DEFAULT false,
    tags text[] NOT NULL DEFAULT '{}',
    synced_at timestamptz NOT NULL DEFAULT now(),
    retired_at timestamptz,
    CONSTRAINT avatars_pkey PRIMARY KEY (provider, provider_id)
);
-- Keyset pagination of the live catalogue: ORDER BY name, provider_id.
CREATE INDEX avatars_listing_idx ON avatars (provider, name, provider_id) WHERE retired_at IS NULL;

CREATE TABLE voices (
    provider text NOT NULL,
    provider_id text NOT NULL,
    name text NOT NULL,
    language text,
    gender text,
    preview_audio_url text,
    premium boolean NOT NULL DEFAULT false,
    synced_at timestamptz NOT NULL DEFAULT now(),
    retired_at timestamptz,
    CONSTRAINT voices_pkey PRIMARY KEY (provider, provider_id)
);
CREATE INDEX voices_listing_idx ON voices (provider, name, provider_id) WHERE retired_at IS NULL;

-- queued -> submitting -> rendering -> completed | failed; queued -> cancelled (by its owner).
CREATE TYPE video_status AS ENUM ('queued', 'submitting', 'rendering', 'completed', 'failed', 'cancelled');

CREATE TABLE videos (
    id text PRIMARY KEY,
    user_id text NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE,
    status video_status NOT NULL DEFAULT 'queued',
    provider text NOT NULL,
    avatar_id text NOT NULL,
    voice_id text NOT NULL,
    script text NOT NULL CHECK (char_length(script) BETWEEN 1 AND 5000),
    title text,
    aspect_ratio text NOT NULL,
    resolution text NOT NULL,
    background text,
    captions boolean NOT NULL DEFAULT false,
    credits integer NOT NULL CHECK (credits > 0),
    -- The client's Idempotency-Key of POST /api/videos, so a retried request creates one video.
    idempotency_key text,
    provider_video_id text,
    -- Bumped by every job-driven change. A job carries the step it was scheduled for and acts only if the
    -- row is still there, so duplicate jobs (a reconciler resume, a webhook hint) collapse into one chain.
    step integer NOT NULL DEFAULT 0,
    -- Consecutive transient failures of the current step; drives the backoff, reset by progress.
    attempts integer NOT NULL DEFAULT 0,
    -- Status checks made while rendering; drives the polling interval.
    polls integer NOT NULL DEFAULT 0,
    -- When the job expects to act on this video next; the reconciler resumes rows overdue by a margin.
    next_check_at timestamptz,
    failure_code text,
    failure_message text,
    duration double precision,
    video_key text,
    thumbnail_key text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    submitted_at timestamptz,
    finished_at timestamptz,
    CONSTRAINT videos_user_idempotency_key UNIQUE (user_id, idempotency_key)
);
-- Keyset pagination per user, newest first, with or without a status filter.
CREATE INDEX videos_user_created_idx ON videos (user_id, created_at DESC, id DESC);
CREATE INDEX videos_user_status_created_idx ON videos (user_id, status, created_at DESC, id DESC);
-- The reconciler and the concurrency cap look only at unfinished videos.
CREATE INDEX videos_unfinished_idx ON videos (status, next_check_at)
    WHERE status IN ('queued', 'submitting', 'rendering');
CREATE INDEX videos_provider_video_idx ON videos (provider, provider_video_id)
    WHERE provider_video_id IS NOT NULL;

-- Provider webhook deliveries applied, by event id: a duplicate delivery is a no-op.
CREATE TABLE video_webhook_events (
    provider text NOT NULL,
    event_id text NOT NULL,
    event_type text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT video_webhook_events_pkey PRIMARY KEY (provider, event_id)
);

-- Webhook endpoints registered with a provider; the signing secret is encrypted with ENCRYPTION_KEY.
CREATE TABLE video_webhook_endpoints (
    provider text PRIMARY KEY,
    endpoint_id text NOT NULL,
    url text NOT NULL,
    secret_encrypted text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
