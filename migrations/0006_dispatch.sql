-- depends: 0005_video_warnings
-- The workers' loop dispatches every video step from its row (videos.next_check_at is when the step is due;
-- while a worker runs it, when its claim lapses; the dispatch query uses videos_unfinished_idx from 0004) and
-- runs periodic maintenance from periodic_runs. Nothing that must happen lives only in Redis, so losing Redis
-- data delays work but never loses it.

-- One row per periodic task (e.g. the daily catalogue sync): when it is due next. A worker claims a run by
-- moving next_run_at forward in one guarded statement, so however many workers look, one of them runs it.
CREATE TABLE periodic_runs (
    name text PRIMARY KEY,
    next_run_at timestamptz NOT NULL,
    last_started_at timestamptz,
    last_finished_at timestamptz
);
