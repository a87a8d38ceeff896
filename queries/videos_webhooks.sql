-- Provider webhooks: deliveries already applied, and the endpoints genvid registered.

-- name: RecordWebhookEvent :execrows
-- 1 for a new event id, 0 for a duplicate delivery.
INSERT INTO video_webhook_events (provider, event_id, event_type, received_at)
VALUES (@provider, @event_id, @event_type, @now)
ON CONFLICT (provider, event_id) DO NOTHING;

-- name: SaveWebhookEndpoint :exec
INSERT INTO video_webhook_endpoints (provider, endpoint_id, url, secret_encrypted, created_at)
VALUES (@provider, @endpoint_id, @url, @secret_encrypted, @now)
ON CONFLICT (provider) DO UPDATE
SET endpoint_id = EXCLUDED.endpoint_id, url = EXCLUDED.url, secret_encrypted = EXCLUDED.secret_encrypted,
    created_at = EXCLUDED.created_at;

-- name: GetWebhookEndpoint :one
SELECT * FROM video_webhook_endpoints WHERE provider = @provider;

-- name: DeleteWebhookEventsBefore :execrows
-- HeyGen retries a delivery for 24 h; remembering event ids for a week is plenty.
DELETE FROM video_webhook_events WHERE received_at < @before;
