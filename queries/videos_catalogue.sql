-- The provider's catalogue: avatar looks and voices, upserted by a sync and retired when they vanish.

-- name: UpsertAvatar :exec
INSERT INTO avatars (provider, provider_id, name, gender, preview_image_url, preview_video_url,
                     default_voice_id, premium, tags, synced_at, retired_at)
VALUES (@provider, @provider_id, @name, sqlc.narg(gender), sqlc.narg(preview_image_url),
        sqlc.narg(preview_video_url), sqlc.narg(default_voice_id), @premium, @tags::text[], @now, NULL)
ON CONFLICT (provider, provider_id) DO UPDATE
SET name = EXCLUDED.name, gender = EXCLUDED.gender, preview_image_url = EXCLUDED.preview_image_url,
    preview_video_url = EXCLUDED.preview_video_url, default_voice_id = EXCLUDED.default_voice_id,
    premium = EXCLUDED.premium, tags = EXCLUDED.tags, synced_at = EXCLUDED.synced_at, retired_at = NULL;

-- name: RetireAvatarsNotSyncedSince :execrows
-- Whatever a complete sync did not see is gone upstream: retire it, keep the row for old videos.
UPDATE avatars SET retired_at = @now
WHERE provider = @provider AND synced_at < @started_at AND retired_at IS NULL;

-- name: GetLiveAvatar :one
SELECT * FROM avatars WHERE provider = @provider AND provider_id = @provider_id AND retired_at IS NULL;

-- name: ListAvatars :many
-- Keyset pagination by (name, provider_id); the NULL filters mean "any".
SELECT * FROM avatars
WHERE provider = @provider AND retired_at IS NULL
  AND (sqlc.narg(gender)::text IS NULL OR lower(gender) = lower(sqlc.narg(gender)::text))
  AND (sqlc.narg(premium)::boolean IS NULL OR premium = sqlc.narg(premium)::boolean)
  AND (sqlc.narg(after_name)::text IS NULL
       OR (name, provider_id) > (sqlc.narg(after_name)::text, sqlc.narg(after_id)::text))
ORDER BY name, provider_id
LIMIT @page_size;

-- name: UpsertVoice :exec
INSERT INTO voices (provider, provider_id, name, language, gender, preview_audio_url, premium, synced_at,
                    retired_at)
VALUES (@provider, @provider_id, @name, sqlc.narg(language), sqlc.narg(gender), sqlc.narg(preview_audio_url),
        @premium, @now, NULL)
ON CONFLICT (provider, provider_id) DO UPDATE
SET name = EXCLUDED.name, language = EXCLUDED.language, gender = EXCLUDED.gender,
    preview_audio_url = EXCLUDED.preview_audio_url, premium = EXCLUDED.premium,
    synced_at = EXCLUDED.synced_at, retired_at = NULL;

-- name: RetireVoicesNotSyncedSince :execrows
UPDATE voices SET retired_at = @now
WHERE provider = @provider AND synced_at < @started_at AND retired_at IS NULL;

-- name: GetLiveVoice :one
SELECT * FROM voices WHERE provider = @provider AND provider_id = @provider_id AND retired_at IS NULL;

-- name: ListVoices :many
-- Keyset pagination by (name, provider_id); a language filter matches "en" to "en", "en-US", "English".
SELECT * FROM voices
WHERE provider = @provider AND retired_at IS NULL
  AND (sqlc.narg(gender)::text IS NULL OR lower(gender) = lower(sqlc.narg(gender)::text))
  AND (sqlc.narg(language)::text IS NULL OR lower(language) = lower(sqlc.narg(language)::text)
       OR lower(language) LIKE lower(sqlc.narg(language)::text) || '-%'
       OR lower(language) LIKE lower(sqlc.narg(language)::text) || ' %')
  AND (sqlc.narg(premium)::boolean IS NULL OR premium = sqlc.narg(premium)::boolean)
  AND (sqlc.narg(after_name)::text IS NULL
       OR (name, provider_id) > (sqlc.narg(after_name)::text, sqlc.narg(after_id)::text))
ORDER BY name, provider_id
LIMIT @page_size;
