-- +goose Up
-- Reporting views. Each view has a day column (the UTC calendar day) so a
-- report over a date range is a WHERE on day; the planner pushes that filter
-- down to the tables, where the BRIN indexes below on the UTC day of each
-- time column find the range without slowing the writes of the call flows
-- (rows arrive in time order, which is what BRIN needs). docs/reporting.md
-- describes every view in a manager's words and gives its measured time.

CREATE INDEX calls_day_brin ON calls USING brin (((started_at AT TIME ZONE 'UTC')::date));
CREATE INDEX call_steps_day_brin ON call_steps USING brin (((at AT TIME ZONE 'UTC')::date));
CREATE INDEX responses_day_brin ON responses USING brin (((at AT TIME ZONE 'UTC')::date));
CREATE INDEX recordings_day_brin ON recordings USING brin (((created_at AT TIME ZONE 'UTC')::date));
CREATE INDEX pin_attempts_day_brin ON pin_attempts USING brin (((at AT TIME ZONE 'UTC')::date));

-- Calls per day and hour, per route, by how they ended.
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

-- The IVR funnel per day: of the calls to the ivr route, how many reached the
-- PIN prompt, were authenticated, chose a menu option, and completed (chose an
-- option and then ended normally or were transferred). The two partial
-- indexes let the planner answer "did this call reach the PIN, did it choose"
-- from small index-only scans instead of the whole journal.
CREATE INDEX call_steps_pin_call_idx ON call_steps (call_id) WHERE key = 'pin';
CREATE INDEX responses_menu_call_idx ON responses (call_id) WHERE menu_version_id IS NOT NULL;

CREATE VIEW report_funnel AS
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

-- Menu choices per day, menu version and option.
CREATE VIEW report_menu_options AS
SELECT x.day,
       m.key                   AS menu,
       mv.version,
       x.digits,
       coalesce(mo.label, '')  AS label,
       coalesce(mo.action, '') AS action,
       x.chosen
FROM (
    SELECT (at AT TIME ZONE 'UTC')::date AS day, menu_version_id, answer AS digits, count(*) AS chosen
    FROM responses
    WHERE menu_version_id IS NOT NULL
    GROUP BY 1, 2, 3
) x
JOIN menu_versions mv ON mv.id = x.menu_version_id
JOIN menus m ON m.id = mv.menu_id
LEFT JOIN menu_options mo ON mo.menu_version_id = x.menu_version_id AND mo.digits = x.digits;

-- Every input the IVR asked for, per day and question (the step key: account,
-- pin, menu:<menu>, survey:<survey>:<question>, messages, review ...), with
-- how often the caller pressed nothing or something not allowed.
CREATE VIEW report_input_quality AS
SELECT (at AT TIME ZONE 'UTC')::date                  AS day,
       kind,
       key                                           AS input,
       count(*)                                      AS attempts,
       count(*) FILTER (WHERE outcome = 'valid')     AS valid,
       count(*) FILTER (WHERE outcome = 'invalid')   AS invalid,
       count(*) FILTER (WHERE outcome = 'timeout')   AS no_input
FROM call_steps
WHERE kind IN ('account', 'pin', 'menu', 'survey', 'input')
GROUP BY 1, 2, 3;

-- Where callers hang up: for each hangup, the step just before it (the prompt
-- that was playing, or the input just given), per day.
CREATE VIEW report_hangups AS
SELECT (h.at AT TIME ZONE 'UTC')::date   AS day,
       coalesce(p.kind, 'start')        AS kind,
       coalesce(p.key, '')              AS step,
       count(*)                         AS hangups,
       count(*) FILTER (WHERE p.outcome = 'hangup') AS during_prompt
FROM call_steps h
LEFT JOIN call_steps p ON p.call_id = h.call_id AND p.seq = h.seq - 1
WHERE h.key = 'hangup' AND h.kind = 'hangup'
GROUP BY 1, 2, 3;

-- Survey answers per day, survey version, question and answer.
CREATE VIEW report_survey_results AS
SELECT x.day,
       s.key                   AS survey,
       sv.version,
       coalesce(q.position, 0) AS position,
       x.question,
       x.answer,
       x.answers
FROM (
    SELECT (at AT TIME ZONE 'UTC')::date AS day, survey_version_id, question_key AS question, answer, count(*) AS answers
    FROM responses
    WHERE survey_version_id IS NOT NULL
    GROUP BY 1, 2, 3, 4
) x
JOIN survey_versions sv ON sv.id = x.survey_version_id
JOIN surveys s ON s.id = sv.survey_id
LEFT JOIN survey_questions q ON q.survey_version_id = x.survey_version_id AND q.key = x.question;

-- PIN checks per day: attempts, failures, callers who failed, and calls that
-- ended because the account was locked.
CREATE VIEW report_pin_security AS
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

-- Recordings per day and purpose, with their total and longest duration.
CREATE VIEW report_recordings AS
SELECT (created_at AT TIME ZONE 'UTC')::date           AS day,
       purpose,
       count(*)                                       AS recordings,
       coalesce(sum(duration_ms), 0)::bigint          AS total_ms,
       coalesce(max(duration_ms), 0)::integer         AS longest_ms,
       count(*) FILTER (WHERE end_reason = 'hangup')  AS cut_by_hangup,
       count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted
FROM recordings
GROUP BY 1, 2;

-- Activity per known caller and day: calls, authenticated calls, menu
-- choices, survey answers, recordings and failed PINs.
CREATE VIEW report_caller_activity AS
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

-- +goose Down
DROP VIEW report_caller_activity;
DROP VIEW report_recordings;
DROP VIEW report_pin_security;
DROP VIEW report_survey_results;
DROP VIEW report_hangups;
DROP VIEW report_input_quality;
DROP VIEW report_menu_options;
DROP VIEW report_funnel;
DROP VIEW report_calls_by_hour;
DROP INDEX responses_menu_call_idx;
DROP INDEX call_steps_pin_call_idx;
DROP INDEX pin_attempts_day_brin;
DROP INDEX recordings_day_brin;
DROP INDEX responses_day_brin;
DROP INDEX call_steps_day_brin;
DROP INDEX calls_day_brin;
