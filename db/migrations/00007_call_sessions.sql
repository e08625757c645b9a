-- +goose Up
-- A channel can run several AGI sessions: the dialplan runs the lookup route
-- and then the ivr route on one channel, and a Goto can enter a route again.
-- Every session has the channel's agi_uniqueid, so uniqueid no longer names
-- one row. Each session is now keyed by session_id, a UUID the server makes
-- when the session starts (writing the same session twice stores it once);
-- rows written without one, and the rows that were here before, get a random
-- one. uniqueid keeps an index: the sessions of one channel join on uniqueid,
-- those of one phone call on linkedid.
ALTER TABLE calls ADD COLUMN session_id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE calls ADD CONSTRAINT calls_session_id_key UNIQUE (session_id);
ALTER TABLE calls DROP CONSTRAINT calls_uniqueid_key;
CREATE INDEX calls_uniqueid_idx ON calls (uniqueid);

-- The reports count phone calls, not sessions, where the two differ. The
-- calls report stays per session (each session of a route ends one way, so
-- its outcome columns add up to calls) and gains channels, the distinct
-- uniqueids among them. The funnel, the lockouts and the activity per caller
-- count a channel once per UTC day, however many sessions it ran: a known
-- caller's lookup and ivr sessions are one call of theirs.
CREATE OR REPLACE VIEW report_calls_by_hour AS
SELECT (started_at AT TIME ZONE 'UTC')::date                                 AS day,
       extract(hour FROM started_at AT TIME ZONE 'UTC')::integer             AS hour,
       route,
       count(*)                                                             AS calls,
       count(*) FILTER (WHERE answered_at IS NOT NULL)                      AS answered,
       count(*) FILTER (WHERE end_reason = 'completed')                     AS completed,
       count(*) FILTER (WHERE end_reason = 'transferred')                   AS transferred,
       count(*) FILTER (WHERE end_reason = 'hangup')                        AS hung_up,
       count(*) FILTER (WHERE end_reason = 'auth_failed')                   AS auth_failed,
       count(*) FILTER (WHERE end_reason = 'locked_out')                    AS locked_out,
       count(*) FILTER (WHERE end_reason IN ('error', 'shutdown'))          AS failed,
       count(*) FILTER (WHERE end_reason IS NULL)                           AS still_open,
       coalesce(sum(extract(epoch FROM ended_at - started_at)), 0)::bigint AS total_seconds,
       count(DISTINCT uniqueid)                                             AS channels
FROM calls
GROUP BY 1, 2, 3;

-- The funnel per day and channel: a channel got as far as the furthest of its
-- ivr sessions.
CREATE OR REPLACE VIEW report_funnel AS
SELECT day,
       count(*)::bigint           AS calls,
       sum(answered)::bigint      AS answered,
       sum(reached_pin)::bigint   AS reached_pin,
       sum(authenticated)::bigint AS authenticated,
       sum(chose_option)::bigint  AS chose_option,
       sum(completed)::bigint     AS completed
FROM (
    SELECT day, uniqueid, max(answered) AS answered, max(reached_pin) AS reached_pin,
           max(authenticated) AS authenticated, max(chose_option) AS chose_option, max(completed) AS completed
    FROM (
        SELECT (c.started_at AT TIME ZONE 'UTC')::date AS day, c.uniqueid,
               (c.answered_at IS NOT NULL)::integer AS answered, 0 AS reached_pin,
               c.authenticated::integer AS authenticated, 0 AS chose_option, 0 AS completed
        FROM calls c
        WHERE c.route = 'ivr'
        UNION ALL
        SELECT (c.started_at AT TIME ZONE 'UTC')::date, c.uniqueid, 0, 1, 0, 0, 0
        FROM calls c
        WHERE c.route = 'ivr'
          AND EXISTS (SELECT 1 FROM call_steps s WHERE s.call_id = c.id AND s.key = 'pin')
        UNION ALL
        SELECT (c.started_at AT TIME ZONE 'UTC')::date, c.uniqueid, 0, 0, 0, 1,
               coalesce(c.end_reason IN ('completed', 'transferred'), false)::integer
        FROM calls c
        WHERE c.route = 'ivr'
          AND EXISTS (SELECT 1 FROM responses r WHERE r.call_id = c.id AND r.menu_version_id IS NOT NULL)
    ) s
    GROUP BY day, uniqueid
) f
GROUP BY day;

-- Lockouts count the channels whose call ended locked, once each.
CREATE OR REPLACE VIEW report_pin_security AS
SELECT day,
       sum(attempts)::bigint         AS attempts,
       sum(failures)::bigint         AS failures,
       sum(failing_callers)::bigint  AS failing_callers,
       sum(locked_calls)::bigint     AS locked_calls,
       sum(locked_callers)::bigint   AS locked_callers
FROM (
    SELECT (at AT TIME ZONE 'UTC')::date           AS day,
           count(*)                               AS attempts,
           count(*) FILTER (WHERE NOT success)    AS failures,
           count(DISTINCT caller_id) FILTER (WHERE NOT success) AS failing_callers,
           0                                      AS locked_calls,
           0                                      AS locked_callers
    FROM pin_attempts
    GROUP BY 1
    UNION ALL
    SELECT (started_at AT TIME ZONE 'UTC')::date, 0, 0, 0, count(DISTINCT uniqueid), count(DISTINCT caller_id)
    FROM calls
    WHERE end_reason = 'locked_out'
    GROUP BY 1
) p
GROUP BY day;

-- A caller's calls are their channels: the lookup and the ivr session of one
-- phone call count once (authenticated when either session was).
CREATE OR REPLACE VIEW report_caller_activity AS
SELECT a.day,
       c.id                          AS caller_id,
       c.account,
       c.name,
       sum(a.calls)::bigint          AS calls,
       sum(a.authenticated)::bigint  AS authenticated,
       sum(a.choices)::bigint        AS menu_choices,
       sum(a.answers)::bigint        AS survey_answers,
       sum(a.recordings)::bigint     AS recordings,
       sum(a.pin_failures)::bigint   AS pin_failures,
       max(a.last_call)              AS last_call
FROM (
    SELECT (started_at AT TIME ZONE 'UTC')::date AS day, caller_id,
           1 AS calls, max(authenticated::integer) AS authenticated, 0 AS choices, 0 AS answers,
           0 AS recordings, 0 AS pin_failures, max(started_at) AS last_call
    FROM calls WHERE caller_id IS NOT NULL
    GROUP BY 1, caller_id, uniqueid
    UNION ALL
    SELECT (at AT TIME ZONE 'UTC')::date, caller_id, 0, 0,
           (menu_version_id IS NOT NULL)::integer, (survey_version_id IS NOT NULL)::integer, 0, 0, NULL::timestamptz
    FROM responses WHERE caller_id IS NOT NULL
    UNION ALL
    SELECT (created_at AT TIME ZONE 'UTC')::date, caller_id, 0, 0, 0, 0, 1, 0, NULL::timestamptz
    FROM recordings WHERE caller_id IS NOT NULL
    UNION ALL
    SELECT (at AT TIME ZONE 'UTC')::date, caller_id, 0, 0, 0, 0, 0, 1, NULL::timestamptz
    FROM pin_attempts WHERE NOT success
) a
JOIN callers c ON c.id = a.caller_id
GROUP BY a.day, c.id, c.account, c.name;

-- +goose Down
-- Going back needs uniqueid to name one row again: the migration refuses
-- while a channel has more than one session.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM calls GROUP BY uniqueid HAVING count(*) > 1) THEN
        RAISE EXCEPTION 'calls: some uniqueids have more than one session; delete or merge them before going below version 7'
            USING ERRCODE = 'IV002';
    END IF;
END
$$;
-- +goose StatementEnd
-- The views of 00004_reports.sql, as they were.
DROP VIEW report_calls_by_hour;
CREATE VIEW report_calls_by_hour AS
SELECT (started_at AT TIME ZONE 'UTC')::date                                 AS day,
       extract(hour FROM started_at AT TIME ZONE 'UTC')::integer             AS hour,
       route,
       count(*)                                                             AS calls,
       count(*) FILTER (WHERE answered_at IS NOT NULL)                      AS answered,
       count(*) FILTER (WHERE end_reason = 'completed')                     AS completed,
       count(*) FILTER (WHERE end_reason = 'transferred')                   AS transferred,
       count(*) FILTER (WHERE end_reason = 'hangup')                        AS hung_up,
       count(*) FILTER (WHERE end_reason = 'auth_failed')                   AS auth_failed,
       count(*) FILTER (WHERE end_reason = 'locked_out')                    AS locked_out,
       count(*) FILTER (WHERE end_reason IN ('error', 'shutdown'))          AS failed,
       count(*) FILTER (WHERE end_reason IS NULL)                           AS still_open,
       coalesce(sum(extract(epoch FROM ended_at - started_at)), 0)::bigint AS total_seconds
FROM calls
GROUP BY 1, 2, 3;

CREATE OR REPLACE VIEW report_funnel AS
SELECT day,
       sum(calls)::bigint         AS calls,
       sum(answered)::bigint      AS answered,
       sum(reached_pin)::bigint   AS reached_pin,
       sum(authenticated)::bigint AS authenticated,
       sum(chose_option)::bigint  AS chose_option,
       sum(completed)::bigint     AS completed
FROM (
    SELECT (c.started_at AT TIME ZONE 'UTC')::date AS day, 1 AS calls,
           (c.answered_at IS NOT NULL)::integer AS answered, 0 AS reached_pin,
           c.authenticated::integer AS authenticated, 0 AS chose_option, 0 AS completed
    FROM calls c
    WHERE c.route = 'ivr'
    UNION ALL
    SELECT (c.started_at AT TIME ZONE 'UTC')::date, 0, 0, 1, 0, 0, 0
    FROM calls c
    WHERE c.route = 'ivr'
      AND EXISTS (SELECT 1 FROM call_steps s WHERE s.call_id = c.id AND s.key = 'pin')
    UNION ALL
    SELECT (c.started_at AT TIME ZONE 'UTC')::date, 0, 0, 0, 0, 1,
           coalesce(c.end_reason IN ('completed', 'transferred'), false)::integer
    FROM calls c
    WHERE c.route = 'ivr'
      AND EXISTS (SELECT 1 FROM responses r WHERE r.call_id = c.id AND r.menu_version_id IS NOT NULL)
) f
GROUP BY day;

CREATE OR REPLACE VIEW report_pin_security AS
SELECT day,
       sum(attempts)::bigint         AS attempts,
       sum(failures)::bigint         AS failures,
       sum(failing_callers)::bigint  AS failing_callers,
       sum(locked_calls)::bigint     AS locked_calls,
       sum(locked_callers)::bigint   AS locked_callers
FROM (
    SELECT (at AT TIME ZONE 'UTC')::date           AS day,
           count(*)                               AS attempts,
           count(*) FILTER (WHERE NOT success)    AS failures,
           count(DISTINCT caller_id) FILTER (WHERE NOT success) AS failing_callers,
           0                                      AS locked_calls,
           0                                      AS locked_callers
    FROM pin_attempts
    GROUP BY 1
    UNION ALL
    SELECT (started_at AT TIME ZONE 'UTC')::date, 0, 0, 0, count(*), count(DISTINCT caller_id)
    FROM calls
    WHERE end_reason = 'locked_out'
    GROUP BY 1
) p
GROUP BY day;

CREATE OR REPLACE VIEW report_caller_activity AS
SELECT a.day,
       c.id                          AS caller_id,
       c.account,
       c.name,
       sum(a.calls)::bigint          AS calls,
       sum(a.authenticated)::bigint  AS authenticated,
       sum(a.choices)::bigint        AS menu_choices,
       sum(a.answers)::bigint        AS survey_answers,
       sum(a.recordings)::bigint     AS recordings,
       sum(a.pin_failures)::bigint   AS pin_failures,
       max(a.last_call)              AS last_call
FROM (
    SELECT (started_at AT TIME ZONE 'UTC')::date AS day, caller_id,
           1 AS calls, authenticated::integer AS authenticated, 0 AS choices, 0 AS answers,
           0 AS recordings, 0 AS pin_failures, started_at AS last_call
    FROM calls WHERE caller_id IS NOT NULL
    UNION ALL
    SELECT (at AT TIME ZONE 'UTC')::date, caller_id, 0, 0,
           (menu_version_id IS NOT NULL)::integer, (survey_version_id IS NOT NULL)::integer, 0, 0, NULL::timestamptz
    FROM responses WHERE caller_id IS NOT NULL
    UNION ALL
    SELECT (created_at AT TIME ZONE 'UTC')::date, caller_id, 0, 0, 0, 0, 1, 0, NULL::timestamptz
    FROM recordings WHERE caller_id IS NOT NULL
    UNION ALL
    SELECT (at AT TIME ZONE 'UTC')::date, caller_id, 0, 0, 0, 0, 0, 1, NULL::timestamptz
    FROM pin_attempts WHERE NOT success
) a
JOIN callers c ON c.id = a.caller_id
GROUP BY a.day, c.id, c.account, c.name;

DROP INDEX calls_uniqueid_idx;
ALTER TABLE calls ADD CONSTRAINT calls_uniqueid_key UNIQUE (uniqueid);
ALTER TABLE calls DROP COLUMN session_id;
