-- DecidePINAttempts records PIN attempts and decides them, one per caller
-- (the arrays are parallel, one element per attempt; a caller appears at most
-- once). Each caller's row is updated under its row lock, from its current
-- failures and lock, so attempts running at the same time are decided one
-- after the other: an attempt is accepted only when the PIN was right
-- (right_pins), the caller is active and not locked at the attempt's time;
-- an accepted attempt resets the failures, any other adds one, and from
-- @lock_after failures on the caller is locked until the attempt's time plus
-- @lock_ms[failures - lock_after + 1] milliseconds (the last entry for any
-- more failures), never earlier than an existing lock. Every attempt is
-- audited in pin_attempts with its verdict. An unknown caller (or ID 0)
-- returns no row; its attempt is audited as a failure with no caller, so it
-- costs the same writes as one on a real account. An attempt made on a call
-- is stored in the month of the call's start (call_started_ats), one made on
-- no call in that of its own time.
-- name: DecidePINAttempts :many
WITH a AS (
    SELECT unnest(@caller_ids::bigint[]) AS caller_id, unnest(@call_ids::bigint[]) AS call_id,
           unnest(@call_started_ats::timestamptz[]) AS call_started_at,
           unnest(@right_pins::boolean[]) AS right_pin, unnest(@ats::timestamptz[]) AS at
), decided AS (
    UPDATE callers c
    SET pin_failures = CASE WHEN a.right_pin AND c.status = 'active' AND NOT coalesce(c.locked_until > a.at, false)
                            THEN 0 ELSE c.pin_failures + 1 END,
        locked_until = CASE
            WHEN a.right_pin AND c.status = 'active' AND NOT coalesce(c.locked_until > a.at, false) THEN c.locked_until
            WHEN c.pin_failures + 1 >= @lock_after::integer THEN greatest(c.locked_until, a.at + make_interval(
                secs => (@lock_ms::bigint[])[least(c.pin_failures + 2 - @lock_after::integer, cardinality(@lock_ms::bigint[]))]::float8 / 1000))
            ELSE c.locked_until END,
        updated_at = now()
    FROM a
    WHERE c.id = a.caller_id
    -- RETURNING sees the new row: an accepted attempt is the only one that
    -- leaves a right PIN with no failures.
    RETURNING c.id, (a.right_pin AND c.pin_failures = 0)::boolean AS accepted, c.pin_failures, c.locked_until
), audit AS (
    INSERT INTO pin_attempts (caller_id, call_id, success, at, call_started_at)
    SELECT d.id, nullif(a.call_id, 0), coalesce(d.accepted, false), a.at,
           CASE WHEN a.call_id = 0 THEN a.at ELSE a.call_started_at END
    FROM a LEFT JOIN decided d ON d.id = a.caller_id
)
SELECT d.id, d.accepted, d.pin_failures, d.locked_until FROM decided d;

-- name: SetPIN :one
UPDATE callers
SET pin_key_id = @pin_key_id, pin_hash = @pin_hash, pin_version = @pin_version,
    pin_failures = 0, locked_until = NULL, updated_at = now()
WHERE id = @id
RETURNING id;

-- RehashPIN replaces the caller's PIN hash by another hash of the same PIN,
-- only while the stored hash is still @old_hash (a PIN changed meanwhile
-- stays), and leaves the failures and the lock alone.
-- name: RehashPIN :execrows
UPDATE callers
SET pin_key_id = @pin_key_id, pin_hash = @pin_hash, pin_version = @pin_version, updated_at = now()
WHERE id = @id AND pin_hash = @old_hash;

-- name: PINAttempts :many
SELECT * FROM pin_attempts WHERE caller_id = @caller_id::bigint ORDER BY at, id;
