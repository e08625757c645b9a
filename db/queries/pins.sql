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
