-- depends: 0006_dispatch
-- better-auth's api-key plugin table (@better-auth/api-key 1.7.5, PostgreSQL dialect), column for column as
-- its migration tool creates it, with PostgreSQL's default constraint names: a better-auth server sharing
-- this database finds nothing to migrate, and this migration adopts a table that server already created.
-- No foreign key on "referenceId" (better-auth has none: it may name an organization). "key" is the
-- SHA-256 of the key, base64url without padding; the key itself is never stored.
CREATE TABLE IF NOT EXISTS "apikey" (
    "id" text NOT NULL,
    "configId" text NOT NULL,
    "name" text,
    "start" text,
    "referenceId" text NOT NULL,
    "prefix" text,
    "key" text NOT NULL,
    "refillInterval" integer,
    "refillAmount" integer,
    "lastRefillAt" timestamptz,
    "enabled" boolean,
    "rateLimitEnabled" boolean,
    "rateLimitTimeWindow" integer,
    "rateLimitMax" integer,
    "requestCount" integer,
    "remaining" integer,
    "lastRequest" timestamptz,
    "expiresAt" timestamptz,
    "createdAt" timestamptz NOT NULL,
    "updatedAt" timestamptz NOT NULL,
    "permissions" text,
    "metadata" text,
    CONSTRAINT "apikey_pkey" PRIMARY KEY ("id")
);

CREATE INDEX IF NOT EXISTS "apikey_configId_idx" ON "apikey" ("configId");
CREATE INDEX IF NOT EXISTS "apikey_referenceId_idx" ON "apikey" ("referenceId");
CREATE INDEX IF NOT EXISTS "apikey_key_idx" ON "apikey" ("key");
