-- name: StartCall :one
INSERT INTO calls (uniqueid, linkedid, channel, route, callerid_raw, callerid_e164, dnid, caller_id, started_at)
VALUES (@uniqueid, @linkedid, @channel, @route, @callerid_raw, @callerid_e164, @dnid,
        nullif(@caller_id::bigint, 0), @started_at)
RETURNING id;

-- EndCall closes an open call and returns 1, or returns 0 when no call has
-- the id. A call already closed stays as it was.
-- name: EndCall :one
WITH target AS (
    SELECT calls.id FROM calls WHERE calls.id = @id
), closed AS (
    UPDATE calls
    SET ended_at        = @ended_at::timestamptz,
        end_reason      = @end_reason::text,
        answered_at     = coalesce(sqlc.narg('answered_at'), answered_at),
        linkedid        = coalesce(nullif(@linkedid::text, ''), linkedid),
        caller_id       = coalesce(nullif(@caller_id::bigint, 0), caller_id),
        authenticated   = @authenticated,
        menu_version_id = coalesce(nullif(@menu_version_id::bigint, 0), menu_version_id)
    WHERE calls.id = @id AND calls.ended_at IS NULL
    RETURNING calls.id
)
SELECT count(*) FROM target;

-- RecordCall writes a whole call, opened, with its steps, and closed, in one
-- statement. The step arrays are parallel, one element per step; digits of
-- secret steps are not stored.
-- name: RecordCall :one
WITH call AS (
    INSERT INTO calls (uniqueid, linkedid, channel, route, callerid_raw, callerid_e164, dnid, caller_id,
                       started_at, answered_at, ended_at, end_reason, authenticated, menu_version_id)
    VALUES (@uniqueid, @linkedid, @channel, @route, @callerid_raw, @callerid_e164, @dnid,
            nullif(@caller_id::bigint, 0), @started_at, sqlc.narg('answered_at'), @ended_at::timestamptz, @end_reason::text,
            @authenticated, nullif(@menu_version_id::bigint, 0))
    RETURNING id
), steps AS (
    INSERT INTO call_steps (call_id, seq, key, kind, digits, secret, outcome, attempt, elapsed_ms, at)
    SELECT call.id, s.seq, s.key, s.kind, CASE WHEN s.secret THEN NULL ELSE s.digits END,
           s.secret, s.outcome, s.attempt, s.elapsed_ms, s.at
    FROM call, (SELECT unnest(@seqs::integer[]) AS seq, unnest(@keys::text[]) AS key,
                       unnest(@kinds::text[]) AS kind, unnest(@digits::text[]) AS digits,
                       unnest(@secrets::boolean[]) AS secret, unnest(@outcomes::text[]) AS outcome,
                       unnest(@attempts::integer[]) AS attempt, unnest(@elapsed_ms::integer[]) AS elapsed_ms,
                       unnest(@ats::timestamptz[]) AS at) AS s
    ON CONFLICT (call_id, seq) DO NOTHING
)
SELECT id FROM call;

-- name: CallByID :one
SELECT * FROM calls WHERE id = @id;

-- name: CallByUniqueID :one
SELECT * FROM calls WHERE uniqueid = @uniqueid;

-- CallsSince lists the calls started at or after a time, oldest first.
-- name: CallsSince :many
SELECT * FROM calls WHERE started_at >= @since ORDER BY started_at, id LIMIT @lim;
