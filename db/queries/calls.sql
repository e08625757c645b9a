-- StartCalls opens the call rows of many sessions in one statement and
-- returns each session's key with its call's ID. A session written before, or
-- twice in the arrays, keeps one row, and its ID is returned. The arrays are
-- parallel, one element per call.
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
    ON CONFLICT (session_id, started_at) DO NOTHING
    RETURNING calls.session_id, calls.id
)
SELECT ins.session_id, ins.id FROM ins
UNION ALL
SELECT calls.session_id, calls.id FROM calls JOIN c ON c.session_id = calls.session_id AND c.started_at = calls.started_at;

-- RecordCalls writes many whole calls (opened, with their steps, and closed)
-- in one statement and returns each session's key with its call's ID; a
-- session already written keeps its row (only its missing steps are added)
-- and its ID is returned; a session is always written again with the same
-- start, which is part of its key. Digits of secret steps are not stored. The call arrays
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
    ON CONFLICT (session_id, started_at) DO NOTHING
    RETURNING calls.id, calls.session_id, calls.started_at
), call AS (
    SELECT ins.id, ins.session_id, ins.started_at FROM ins
    UNION ALL
    SELECT calls.id, calls.session_id, calls.started_at
    FROM calls JOIN c ON c.session_id = calls.session_id AND c.started_at = calls.started_at
), steps AS (
    INSERT INTO call_steps (call_id, seq, key, kind, digits, secret, outcome, attempt, elapsed_ms, at, call_started_at)
    SELECT call.id, s.seq, s.key, s.kind, CASE WHEN s.secret THEN NULL ELSE s.digits END,
           s.secret, s.outcome, s.attempt, s.elapsed_ms, s.at, call.started_at
    FROM call JOIN (SELECT unnest(@step_session_ids::uuid[]) AS session_id, unnest(@seqs::integer[]) AS seq,
                           unnest(@keys::text[]) AS key, unnest(@kinds::text[]) AS kind,
                           unnest(@digits::text[]) AS digits, unnest(@secrets::boolean[]) AS secret,
                           unnest(@outcomes::text[]) AS outcome, unnest(@attempts::integer[]) AS attempt,
                           unnest(@elapsed_ms::integer[]) AS elapsed_ms, unnest(@ats::timestamptz[]) AS at) AS s
      ON s.session_id = call.session_id
    ON CONFLICT (call_id, seq, call_started_at) DO NOTHING
)
SELECT call.session_id, call.id FROM call;

-- name: CallByID :one
SELECT * FROM calls WHERE id = @id;

-- CallStart returns when the call with @id started: the key of its month.
-- name: CallStart :one
SELECT started_at FROM calls WHERE id = @id;

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
SET ended_at   = coalesce((SELECT max(s.at) FROM call_steps s
                             WHERE s.call_id = calls.id AND s.call_started_at = calls.started_at), calls.started_at),
    end_reason = 'lost'
WHERE (calls.id, calls.started_at) IN (
    SELECT o.id, o.started_at FROM calls o
    WHERE o.ended_at IS NULL AND o.started_at < @started_before::timestamptz
    ORDER BY o.started_at
    LIMIT @lim
    FOR UPDATE SKIP LOCKED
) AND calls.ended_at IS NULL;
