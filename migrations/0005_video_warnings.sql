-- depends: 0004_videos
-- What a finished video's owner should know about it, as a JSON list of {"code", "message"} objects
-- (e.g. the offline renderer found no speech engine and gave the video a silent soundtrack).
ALTER TABLE videos ADD COLUMN warnings jsonb NOT NULL DEFAULT '[]'::jsonb;
