-- depends: 0006_dispatch
-- Batches: one template (a script with {{variables}}, an avatar, a voice, options) rendered once per row of a
-- CSV or JSON list. Each row is an ordinary video (videos.batch_id, videos.batch_row), so rendering, the
-- dispatcher, events and media are the videos'; the batch is paid for by one ledger entry (reason 'batch',
-- reference the batch id) and a cancel refunds the rows it stopped by one more ('batch_refund').

CREATE TABLE batches (
    id text PRIMARY KEY,
    user_id text NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE,
    name text CHECK (char_length(name) <= 200),
    provider text NOT NULL,
    -- The template as the client sent it (the rows' scripts and titles are stored filled in, on the videos).
    avatar_id text NOT NULL,
    voice_id text NOT NULL,
    script text NOT NULL CHECK (char_length(script) BETWEEN 1 AND 5000),
    title text,
    aspect_ratio text NOT NULL,
    resolution text NOT NULL,
    background text,
    captions boolean NOT NULL DEFAULT false,
    -- The {{variables}} the template uses, in order of first use.
    variables text[] NOT NULL,
    row_count integer NOT NULL CHECK (row_count BETWEEN 1 AND 1000),
    -- What the whole batch was charged: the sum of its videos' credits.
    credits integer NOT NULL CHECK (credits > 0),
    -- The client's Idempotency-Key of POST /api/batches, so a retried request creates one batch.
    idempotency_key text,
    cancelled_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT batches_user_idempotency_key UNIQUE (user_id, idempotency_key)
);
-- Keyset pagination per user, newest first.
CREATE INDEX batches_user_created_idx ON batches (user_id, created_at DESC, id DESC);

-- A batch's rows are videos; deleting one video (DELETE /api/videos/{id}) leaves a gap the results show.
ALTER TABLE videos
    ADD COLUMN batch_id text REFERENCES batches (id) ON DELETE CASCADE,
    ADD COLUMN batch_row integer,
    ADD CONSTRAINT videos_batch_row_check CHECK ((batch_id IS NULL) = (batch_row IS NULL));
-- A batch's results in row order, and its progress counts.
CREATE UNIQUE INDEX videos_batch_row_idx ON videos (batch_id, batch_row) WHERE batch_id IS NOT NULL;
-- The dispatcher's fair admission counts renders in flight per user (see AdmitQueuedVideos).
CREATE INDEX videos_in_flight_user_idx ON videos (user_id) WHERE status IN ('submitting', 'rendering');
