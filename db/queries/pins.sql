-- RecordPINFailure audits a failed attempt and returns the caller's new
-- count of consecutive failures.
-- name: RecordPINFailure :one
WITH attempt AS (
    INSERT INTO pin_attempts (caller_id, call_id, success, at)
    VALUES (@caller_id, nullif(@call_id::bigint, 0), false, @at)
)
UPDATE callers SET pin_failures = callers.pin_failures + 1, updated_at = now()
WHERE callers.id = @caller_id
RETURNING callers.pin_failures;

-- name: RecordPINSuccess :one
WITH attempt AS (
    INSERT INTO pin_attempts (caller_id, call_id, success, at)
    VALUES (@caller_id, nullif(@call_id::bigint, 0), true, @at)
)
UPDATE callers SET pin_failures = 0, updated_at = now()
WHERE callers.id = @caller_id
RETURNING callers.id;

-- name: LockCaller :one
UPDATE callers SET locked_until = @locked_until, updated_at = now()
WHERE id = @id
RETURNING id;

-- name: SetPIN :one
UPDATE callers
SET pin_key_id = @pin_key_id, pin_hash = @pin_hash, pin_failures = 0, locked_until = NULL, updated_at = now()
WHERE id = @id
RETURNING id;

-- name: PINAttempts :many
SELECT * FROM pin_attempts WHERE caller_id = @caller_id ORDER BY at, id;

-- RecordPINAttempts audits the attempts of many callers in one statement, like
-- RecordPINSuccess or RecordPINFailure for each, and returns each caller's new
-- count of consecutive failures. The arrays are parallel, one element per
-- attempt; a caller appears at most once.
-- name: RecordPINAttempts :many
WITH a AS (
    SELECT unnest(@caller_ids::bigint[]) AS caller_id, unnest(@call_ids::bigint[]) AS call_id,
           unnest(@successes::boolean[]) AS success, unnest(@ats::timestamptz[]) AS at
), audit AS (
    INSERT INTO pin_attempts (caller_id, call_id, success, at)
    SELECT a.caller_id, nullif(a.call_id, 0), a.success, a.at FROM a
)
UPDATE callers
SET pin_failures = CASE WHEN a.success THEN 0 ELSE callers.pin_failures + 1 END, updated_at = now()
FROM a
WHERE callers.id = a.caller_id
RETURNING callers.id, callers.pin_failures;
