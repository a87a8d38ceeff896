-- name: ClaimPeriodicRun :one
-- Claim the run of @name that is due at @now (a task never run before is due at once). next_run_at moves to
-- @retry_at, so no other worker claims it meanwhile, and a run that died is tried again then; a run that
-- finishes sets the real next time (FinishPeriodicRun). NULL when it is not due or another worker has it.
INSERT INTO periodic_runs AS p (name, next_run_at, last_started_at)
VALUES (@name, @retry_at, @now)
ON CONFLICT (name) DO UPDATE SET next_run_at = EXCLUDED.next_run_at, last_started_at = EXCLUDED.last_started_at
WHERE p.next_run_at <= @now
RETURNING p.name;

-- name: FinishPeriodicRun :exec
UPDATE periodic_runs SET next_run_at = @next_run_at, last_finished_at = @now WHERE name = @name;
