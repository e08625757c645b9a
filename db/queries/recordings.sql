-- InsertRecording stores a recording of the call with @call_id that started at
-- @call_started_at.
-- name: InsertRecording :one
INSERT INTO recordings (call_id, call_started_at, caller_id, path, format, endpos, duration_ms, end_reason, end_key,
                        purpose, created_at)
VALUES (@call_id, @call_started_at, nullif(@caller_id::bigint, 0), @path, @format, @endpos, @duration_ms, @end_reason,
        @end_key, @purpose, @created_at)
RETURNING id;

-- name: CallerMessages :many
SELECT * FROM recordings
WHERE caller_id = @caller_id::bigint AND purpose = 'message' AND deleted_at IS NULL
ORDER BY created_at DESC, id DESC;

-- name: DeleteRecording :one
UPDATE recordings SET deleted_at = @deleted_at
WHERE id = @id AND deleted_at IS NULL
RETURNING id;

-- name: CallRecordings :many
SELECT * FROM recordings WHERE call_id = @call_id ORDER BY created_at, id;
