-- Queries of `ivr report`: each reads one reporting view (00004_reports.sql)
-- over an inclusive range of UTC days, @from_day to @to_day. Reports that are
-- not per day add the days up; rates are computed by the command from the
-- counts.

-- Each report reads the days of its range in two parts and adds them up: the
-- rolled-up days from its rollup_* table (00012_report_rollups.sql), and the
-- days from @live_from to @live_to from its view. The store picks
-- @live_from..@live_to inside the range so that it covers every day of the
-- range not rolled up (an empty range, @live_from after @live_to, when all
-- are); the rollup part skips those days, so no day is read twice. The
-- live part of an empty live range is left out when the query is planned.

-- name: ReportCallsByHour :many
SELECT to_char(day, 'YYYY-MM-DD')::text AS day, hour, route, calls, channels, answered, completed, transferred,
       hung_up, auth_failed, locked_out, failed, lost, still_open, total_seconds
FROM (
    SELECT day, hour, route, calls, channels, answered, completed, transferred,
           hung_up, auth_failed, locked_out, failed, lost, still_open, total_seconds
    FROM rollup_calls_by_hour
    WHERE day BETWEEN @from_day::date AND @to_day::date AND day NOT BETWEEN @live_from::date AND @live_to::date
    UNION ALL
    SELECT day, hour, route, calls, channels, answered, completed, transferred,
           hung_up, auth_failed, locked_out, failed, lost, still_open, total_seconds
    FROM report_calls_by_hour
    WHERE day BETWEEN @live_from::date AND @live_to::date AND @live_from::date <= @live_to::date
) r
ORDER BY r.day, hour, route;

-- name: ReportFunnel :one
SELECT coalesce(sum(calls), 0)::bigint         AS calls,
       coalesce(sum(answered), 0)::bigint      AS answered,
       coalesce(sum(reached_pin), 0)::bigint   AS reached_pin,
       coalesce(sum(authenticated), 0)::bigint AS authenticated,
       coalesce(sum(chose_option), 0)::bigint  AS chose_option,
       coalesce(sum(completed), 0)::bigint     AS completed
FROM (
    SELECT calls, answered, reached_pin, authenticated, chose_option, completed
    FROM rollup_funnel
    WHERE day BETWEEN @from_day::date AND @to_day::date AND day NOT BETWEEN @live_from::date AND @live_to::date
    UNION ALL
    SELECT calls, answered, reached_pin, authenticated, chose_option, completed
    FROM report_funnel
    WHERE day BETWEEN @live_from::date AND @live_to::date AND @live_from::date <= @live_to::date
) f;

-- name: ReportMenuOptions :many
SELECT menu, version, digits, label, action, sum(chosen)::bigint AS chosen
FROM (
    SELECT menu, version, digits, label, action, chosen
    FROM rollup_menu_options
    WHERE day BETWEEN @from_day::date AND @to_day::date AND day NOT BETWEEN @live_from::date AND @live_to::date
    UNION ALL
    SELECT menu, version, digits, label, action, chosen
    FROM report_menu_options
    WHERE day BETWEEN @live_from::date AND @live_to::date AND @live_from::date <= @live_to::date
) o
GROUP BY menu, version, digits, label, action
ORDER BY menu, version, chosen DESC, digits;

-- name: ReportInputQuality :many
SELECT kind, input, sum(attempts)::bigint AS attempts, sum(valid)::bigint AS valid,
       sum(invalid)::bigint AS invalid, sum(no_input)::bigint AS no_input
FROM (
    SELECT kind, input, attempts, valid, invalid, no_input
    FROM rollup_input_quality
    WHERE day BETWEEN @from_day::date AND @to_day::date AND day NOT BETWEEN @live_from::date AND @live_to::date
    UNION ALL
    SELECT kind, input, attempts, valid, invalid, no_input
    FROM report_input_quality
    WHERE day BETWEEN @live_from::date AND @live_to::date AND @live_from::date <= @live_to::date
) i
GROUP BY kind, input
ORDER BY attempts DESC, input;

-- name: ReportHangups :many
SELECT kind, step, sum(hangups)::bigint AS hangups, sum(during_prompt)::bigint AS during_prompt
FROM (
    SELECT kind, step, hangups, during_prompt
    FROM rollup_hangups
    WHERE day BETWEEN @from_day::date AND @to_day::date AND day NOT BETWEEN @live_from::date AND @live_to::date
    UNION ALL
    SELECT kind, step, hangups, during_prompt
    FROM report_hangups
    WHERE day BETWEEN @live_from::date AND @live_to::date AND @live_from::date <= @live_to::date
) h
GROUP BY kind, step
ORDER BY hangups DESC, kind, step;

-- name: ReportSurveyResults :many
SELECT survey, version, position, question, answer, sum(answers)::bigint AS answers
FROM (
    SELECT survey, version, position, question, answer, answers
    FROM rollup_survey_results
    WHERE day BETWEEN @from_day::date AND @to_day::date AND day NOT BETWEEN @live_from::date AND @live_to::date
    UNION ALL
    SELECT survey, version, position, question, answer, answers
    FROM report_survey_results
    WHERE day BETWEEN @live_from::date AND @live_to::date AND @live_from::date <= @live_to::date
) s
GROUP BY survey, version, position, question, answer
ORDER BY survey, version, position, question, answer;

-- name: ReportPINSecurity :many
SELECT to_char(day, 'YYYY-MM-DD')::text AS day, attempts, failures, failing_callers, locked_calls, locked_callers
FROM (
    SELECT day, attempts, failures, failing_callers, locked_calls, locked_callers
    FROM rollup_pin_security
    WHERE day BETWEEN @from_day::date AND @to_day::date AND day NOT BETWEEN @live_from::date AND @live_to::date
    UNION ALL
    SELECT day, attempts, failures, failing_callers, locked_calls, locked_callers
    FROM report_pin_security
    WHERE day BETWEEN @live_from::date AND @live_to::date AND @live_from::date <= @live_to::date
) p
ORDER BY p.day;

-- The deleted recordings of a rolled-up day are counted from recordings:
-- deleting happens long after the day (recordings_deleted_day_idx).
-- name: ReportRecordings :many
SELECT to_char(day, 'YYYY-MM-DD')::text AS day, purpose, recordings, total_ms, longest_ms, cut_by_hangup, deleted
FROM (
    SELECT r.day, r.purpose, r.recordings, r.total_ms, r.longest_ms, r.cut_by_hangup,
           (SELECT count(*) FROM recordings x
            WHERE x.deleted_at IS NOT NULL AND (x.created_at AT TIME ZONE 'UTC')::date = r.day
              AND x.purpose = r.purpose) AS deleted
    FROM rollup_recordings r
    WHERE r.day BETWEEN @from_day::date AND @to_day::date AND r.day NOT BETWEEN @live_from::date AND @live_to::date
    UNION ALL
    SELECT day, purpose, recordings, total_ms, longest_ms, cut_by_hangup, deleted
    FROM report_recordings
    WHERE day BETWEEN @live_from::date AND @live_to::date AND @live_from::date <= @live_to::date
) d
ORDER BY d.day, purpose;

-- Callers also read the whole months @months_from to @months_to (a range of
-- days from the first of a month to the last of one, empty when @months_from
-- is after @months_to) from the monthly summary, and the days of the range
-- before and after them from the daily one. The store gives an empty range of
-- months as the day after @to_day to @to_day.
-- name: ReportCallerActivity :many
SELECT c.id AS caller_id, c.account, c.name, a.calls, a.authenticated, a.menu_choices, a.survey_answers,
       a.recordings, a.pin_failures,
       coalesce(to_char(a.last_call AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), '')::text AS last_call
FROM (
    SELECT u.caller_id, sum(u.calls)::bigint AS calls, sum(u.authenticated)::bigint AS authenticated,
           sum(u.menu_choices)::bigint AS menu_choices, sum(u.survey_answers)::bigint AS survey_answers,
           sum(u.recordings)::bigint AS recordings, sum(u.pin_failures)::bigint AS pin_failures,
           max(u.last_call) AS last_call
    FROM (
        SELECT caller_id, calls, authenticated, menu_choices, survey_answers, recordings, pin_failures, last_call
        FROM rollup_caller_activity_month
        WHERE month BETWEEN @months_from::date AND @months_to::date
        UNION ALL
        SELECT caller_id, calls, authenticated, menu_choices, survey_answers, recordings, pin_failures, last_call
        FROM rollup_caller_activity
        WHERE day BETWEEN @from_day::date AND (sqlc.arg(months_from)::date - 1) AND day NOT BETWEEN @live_from::date AND @live_to::date
        UNION ALL
        SELECT caller_id, calls, authenticated, menu_choices, survey_answers, recordings, pin_failures, last_call
        FROM rollup_caller_activity
        WHERE day BETWEEN (sqlc.arg(months_to)::date + 1) AND @to_day::date AND day NOT BETWEEN @live_from::date AND @live_to::date
        UNION ALL
        SELECT caller_id, calls::integer, authenticated::integer, menu_choices::integer, survey_answers::integer,
               recordings::integer, pin_failures::integer, last_call
        FROM report_caller_activity
        WHERE day BETWEEN @live_from::date AND @live_to::date AND @live_from::date <= @live_to::date
    ) u
    GROUP BY u.caller_id
) a
JOIN callers c ON c.id = a.caller_id
ORDER BY a.calls DESC, c.account
LIMIT @max_rows;

-- ReportCallRows finds the channels of the given uniqueids that have call
-- rows, with how many sessions each has and whether all of them are closed,
-- for `ivr bench` to check that every simulated call was recorded and closed.
-- name: ReportCallRows :many
SELECT uniqueid, count(*)::bigint AS sessions, bool_and(ended_at IS NOT NULL)::boolean AS closed
FROM calls
WHERE uniqueid = ANY(@uniqueids::text[])
GROUP BY uniqueid;

-- JournalSize counts the rows of the journal's tables and measures the
-- database on disk, indexes included: what a history of calls adds up to,
-- for `ivr gen-data` to report after filling a database.
-- name: JournalSize :one
SELECT (SELECT count(*) FROM calls)::bigint         AS calls,
       (SELECT count(*) FROM call_steps)::bigint    AS steps,
       (SELECT count(*) FROM responses)::bigint     AS responses,
       (SELECT count(*) FROM recordings)::bigint    AS recordings,
       (SELECT count(*) FROM pin_attempts)::bigint  AS pin_attempts,
       pg_database_size(current_database())::bigint AS database_bytes;

-- VacuumJournal vacuums the journal's tables and refreshes their planner
-- statistics, as autovacuum would have done over the months a large load
-- stands for, so the reports run on it as on a server's history.
-- name: VacuumJournal :exec
VACUUM (ANALYZE) calls, call_steps, responses, recordings, pin_attempts;
