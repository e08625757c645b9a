-- StartCall opens the call row of a session and returns its ID. A session
-- already written keeps its row, and its ID is returned.
-- name: StartCall :one
WITH ins AS (
    INSERT INTO calls (session_id, uniqueid, linkedid, channel, route, callerid_raw, callerid_e164, dnid, caller_id, started_at)
    VALUES (@session_id::uuid, @uniqueid, @linkedid, @channel, @route, @callerid_raw, @callerid_e164, @dnid,
            nullif(@caller_id::bigint, 0), @started_at)
    ON CONFLICT (session_id) DO NOTHING
    RETURNING id
)
SELECT ins.id FROM ins
UNION ALL
SELECT calls.id FROM calls WHERE calls.session_id = @session_id::uuid;

-- StartCalls opens many call rows in one statement, like StartCall for each,
-- and returns each session's key with its call's ID (a session written
-- before, or twice in the arrays, is stored once). The arrays are parallel,
-- one element per call.
-- name: StartCalls :many
WITH c AS (
    SELECT unnest(@session_ids::uuid[]) AS session_id, unnest(@uniqueids::text[]) AS uniqueid,
           unnest(@linkedids::text[]) AS linkedid, unnest(@channels::text[]) AS channel,
           unnest(@routes::text[]) AS route, unnest(@callerid_raws::text[]) AS callerid_raw,
           unnest(@callerid_e164s::text[]) AS callerid_e164, unnest(@dnids::text[]) AS dnid,
           unnest(@caller_ids::bigint[]) AS caller_id, unnest(@started_ats::timestamptz[]) AS started_at
), ins AS (
    INSERT INTO calls (session_id, uniqueid, linkedid, channel, route, callerid_raw, callerid_e164, dnid, caller_id, started_at)
    SELECT c.session_id, c.uniqueid, c.linkedid, c.channel, c.route, c.callerid_raw, c.callerid_e164, c.dnid,
           nullif(c.caller_id, 0), c.started_at
    FROM c
    ON CONFLICT (session_id) DO NOTHING
    RETURNING calls.session_id, calls.id
)
SELECT ins.session_id, ins.id FROM ins
UNION ALL
SELECT calls.session_id, calls.id FROM calls WHERE calls.session_id = ANY(@session_ids::uuid[]);

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

-- EndCalls closes many open calls in one statement, like EndCall for each,
-- and returns the IDs of the calls that exist. The arrays are parallel, one
-- element per call, an ID at most once (answered_at is taken only where
-- answered is true).
-- name: EndCalls :many
WITH e AS (
    SELECT unnest(@ids::bigint[]) AS id, unnest(@ended_ats::timestamptz[]) AS ended_at,
           unnest(@end_reasons::text[]) AS end_reason, unnest(@answered::boolean[]) AS answered,
           unnest(@answered_ats::timestamptz[]) AS answered_at, unnest(@linkedids::text[]) AS linkedid,
           unnest(@caller_ids::bigint[]) AS caller_id, unnest(@authenticated::boolean[]) AS authenticated,
           unnest(@menu_version_ids::bigint[]) AS menu_version_id
), closed AS (
    UPDATE calls
    SET ended_at        = e.ended_at,
        end_reason      = e.end_reason,
        answered_at     = CASE WHEN e.answered THEN e.answered_at ELSE calls.answered_at END,
        linkedid        = coalesce(nullif(e.linkedid, ''), calls.linkedid),
        caller_id       = coalesce(nullif(e.caller_id, 0), calls.caller_id),
        authenticated   = e.authenticated,
        menu_version_id = coalesce(nullif(e.menu_version_id, 0), calls.menu_version_id)
    FROM e
    WHERE calls.id = e.id AND calls.ended_at IS NULL
    RETURNING calls.id
)
SELECT calls.id FROM calls JOIN e ON e.id = calls.id;

-- RecordCall writes a whole call, opened, with its steps, and closed, in one
-- statement. The step arrays are parallel, one element per step; digits of
-- secret steps are not stored. A session already written keeps its row (its
-- missing steps are added), and its ID is returned.
-- name: RecordCall :one
WITH ins AS (
    INSERT INTO calls (session_id, uniqueid, linkedid, channel, route, callerid_raw, callerid_e164, dnid, caller_id,
                       started_at, answered_at, ended_at, end_reason, authenticated, menu_version_id)
    VALUES (@session_id::uuid, @uniqueid, @linkedid, @channel, @route, @callerid_raw, @callerid_e164, @dnid,
            nullif(@caller_id::bigint, 0), @started_at, sqlc.narg('answered_at'), @ended_at::timestamptz, @end_reason::text,
            @authenticated, nullif(@menu_version_id::bigint, 0))
    ON CONFLICT (session_id) DO NOTHING
    RETURNING id
), call AS (
    SELECT ins.id FROM ins
    UNION ALL
    SELECT calls.id FROM calls WHERE calls.session_id = @session_id::uuid
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

-- RecordCalls writes many whole calls in one statement, like RecordCall for
-- each, and returns each session's key with its call's ID. The call arrays
-- are parallel, one element per call (answered_at is stored only where
-- answered is true); the step arrays are parallel, one element per step, each
-- step naming its session by step_session_ids.
-- name: RecordCalls :many
WITH c AS (
    SELECT unnest(@session_ids::uuid[]) AS session_id, unnest(@uniqueids::text[]) AS uniqueid,
           unnest(@linkedids::text[]) AS linkedid,
           unnest(@channels::text[]) AS channel, unnest(@routes::text[]) AS route,
           unnest(@callerid_raws::text[]) AS callerid_raw, unnest(@callerid_e164s::text[]) AS callerid_e164,
           unnest(@dnids::text[]) AS dnid, unnest(@caller_ids::bigint[]) AS caller_id,
           unnest(@started_ats::timestamptz[]) AS started_at, unnest(@answered::boolean[]) AS answered,
           unnest(@answered_ats::timestamptz[]) AS answered_at, unnest(@ended_ats::timestamptz[]) AS ended_at,
           unnest(@end_reasons::text[]) AS end_reason, unnest(@authenticated::boolean[]) AS authenticated,
           unnest(@menu_version_ids::bigint[]) AS menu_version_id
), ins AS (
    INSERT INTO calls (session_id, uniqueid, linkedid, channel, route, callerid_raw, callerid_e164, dnid, caller_id,
                       started_at, answered_at, ended_at, end_reason, authenticated, menu_version_id)
    SELECT c.session_id, c.uniqueid, c.linkedid, c.channel, c.route, c.callerid_raw, c.callerid_e164, c.dnid,
           nullif(c.caller_id, 0), c.started_at, CASE WHEN c.answered THEN c.answered_at END, c.ended_at,
           c.end_reason, c.authenticated, nullif(c.menu_version_id, 0)
    FROM c
    ON CONFLICT (session_id) DO NOTHING
    RETURNING calls.id, calls.session_id
), call AS (
    SELECT ins.id, ins.session_id FROM ins
    UNION ALL
    SELECT calls.id, calls.session_id FROM calls WHERE calls.session_id = ANY(@session_ids::uuid[])
), steps AS (
    INSERT INTO call_steps (call_id, seq, key, kind, digits, secret, outcome, attempt, elapsed_ms, at)
    SELECT call.id, s.seq, s.key, s.kind, CASE WHEN s.secret THEN NULL ELSE s.digits END,
           s.secret, s.outcome, s.attempt, s.elapsed_ms, s.at
    FROM call JOIN (SELECT unnest(@step_session_ids::uuid[]) AS session_id, unnest(@seqs::integer[]) AS seq,
                           unnest(@keys::text[]) AS key, unnest(@kinds::text[]) AS kind,
                           unnest(@digits::text[]) AS digits, unnest(@secrets::boolean[]) AS secret,
                           unnest(@outcomes::text[]) AS outcome, unnest(@attempts::integer[]) AS attempt,
                           unnest(@elapsed_ms::integer[]) AS elapsed_ms, unnest(@ats::timestamptz[]) AS at) AS s
      ON s.session_id = call.session_id
    ON CONFLICT (call_id, seq) DO NOTHING
)
SELECT call.session_id, call.id FROM call;

-- name: CallByID :one
SELECT * FROM calls WHERE id = @id;

-- CallsByUniqueID lists the sessions of a channel, oldest first.
-- name: CallsByUniqueID :many
SELECT * FROM calls WHERE uniqueid = @uniqueid ORDER BY started_at, id;

-- CallsSince lists the calls started at or after a time, oldest first.
-- name: CallsSince :many
SELECT * FROM calls WHERE started_at >= @since ORDER BY started_at, id LIMIT @lim;

-- SweepLostCalls closes, with end_reason 'lost', up to @lim calls still open
-- that started before @started_before, and returns how many it closed. Their
-- ended_at is the time of their last journal step, else their start. Rows
-- another sweep is closing at the same time are skipped, and a row closed
-- meanwhile is left as it is, so any number of sweeps may run at once.
-- name: SweepLostCalls :execrows
UPDATE calls
SET ended_at   = coalesce((SELECT max(s.at) FROM call_steps s WHERE s.call_id = calls.id), calls.started_at),
    end_reason = 'lost'
WHERE calls.id IN (
    SELECT o.id FROM calls o
    WHERE o.ended_at IS NULL AND o.started_at < @started_before::timestamptz
    ORDER BY o.started_at
    LIMIT @lim
    FOR UPDATE SKIP LOCKED
) AND calls.ended_at IS NULL;
