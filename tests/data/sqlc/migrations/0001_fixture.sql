-- Fixture schema for the generator's own tests: every type the contract maps, quoted camelCase columns,
-- a table named by a reserved word, an enum and arrays.
CREATE TYPE video_status AS ENUM ('queued', 'rendering', 'done', 'failed');

CREATE TABLE "user" (
    id text PRIMARY KEY,
    name text NOT NULL,
    email varchar(255) NOT NULL UNIQUE,
    "emailVerified" boolean NOT NULL DEFAULT false,
    image text,
    "createdAt" timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE session (
    id text PRIMARY KEY,
    token text NOT NULL UNIQUE,
    "userId" text NOT NULL REFERENCES "user" (id) ON DELETE CASCADE,
    "expiresAt" timestamptz NOT NULL,
    "ipAddress" inet
);

CREATE TABLE credit_ledger (
    id bigserial PRIMARY KEY,
    user_id text NOT NULL REFERENCES "user" (id),
    delta int4 NOT NULL,
    price numeric(12, 2),
    ratio float8,
    note bpchar(4),
    created_on date NOT NULL DEFAULT current_date
);

CREATE TABLE videos (
    id uuid PRIMARY KEY,
    user_id text NOT NULL REFERENCES "user" (id),
    status video_status NOT NULL DEFAULT 'queued',
    script text NOT NULL,
    tags text[] NOT NULL DEFAULT '{}',
    scores int4[],
    metadata jsonb NOT NULL DEFAULT '{}',
    settings json,
    duration interval,
    thumbnail bytea,
    small smallint NOT NULL DEFAULT 0,
    "renderedAt" timestamp,
    created_at timestamptz NOT NULL DEFAULT now()
);
