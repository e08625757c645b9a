-- Queries of `ivr report`: each reads one reporting view (00004_reports.sql)
-- over an inclusive range of UTC days, @from_day to @to_day. Reports that are
-- not per day add the days up; rates are computed by the command from the
-- counts.

-- name: ReportCallsByHour :many
SELECT to_char(day, 'YYYY-MM-DD')::text AS day, hour, route, calls, channels, answered, completed, transferred,
       hung_up, auth_failed, locked_out, failed, lost, still_open, total_seconds
FROM report_calls_by_hour
WHERE day BETWEEN @from_day::date AND @to_day::date
ORDER BY day, hour, route;

-- name: ReportFunnel :one
SELECT coalesce(sum(calls), 0)::bigint         AS calls,
       coalesce(sum(answered), 0)::bigint      AS answered,
       coalesce(sum(reached_pin), 0)::bigint   AS reached_pin,
       coalesce(sum(authenticated), 0)::bigint AS authenticated,
       coalesce(sum(chose_option), 0)::bigint  AS chose_option,
       coalesce(sum(completed), 0)::bigint     AS completed
FROM report_funnel
WHERE day BETWEEN @from_day::date AND @to_day::date;

-- name: ReportMenuOptions :many
SELECT menu, version, digits, label, action, sum(chosen)::bigint AS chosen
FROM report_menu_options
WHERE day BETWEEN @from_day::date AND @to_day::date
GROUP BY menu, version, digits, label, action
ORDER BY menu, version, chosen DESC, digits;

-- name: ReportInputQuality :many
SELECT kind, input, sum(attempts)::bigint AS attempts, sum(valid)::bigint AS valid,
       sum(invalid)::bigint AS invalid, sum(no_input)::bigint AS no_input
FROM report_input_quality
WHERE day BETWEEN @from_day::date AND @to_day::date
GROUP BY kind, input
ORDER BY attempts DESC, input;

-- name: ReportHangups :many
SELECT kind, step, sum(hangups)::bigint AS hangups, sum(during_prompt)::bigint AS during_prompt
FROM report_hangups
WHERE day BETWEEN @from_day::date AND @to_day::date
GROUP BY kind, step
ORDER BY hangups DESC, kind, step;

-- name: ReportSurveyResults :many
SELECT survey, version, position, question, answer, sum(answers)::bigint AS answers
FROM report_survey_results
WHERE day BETWEEN @from_day::date AND @to_day::date
GROUP BY survey, version, position, question, answer
ORDER BY survey, version, position, question, answer;

-- name: ReportPINSecurity :many
SELECT to_char(day, 'YYYY-MM-DD')::text AS day, attempts, failures, failing_callers, locked_calls, locked_callers
FROM report_pin_security
WHERE day BETWEEN @from_day::date AND @to_day::date
ORDER BY day;

-- name: ReportRecordings :many
SELECT to_char(day, 'YYYY-MM-DD')::text AS day, purpose, recordings, total_ms, longest_ms, cut_by_hangup, deleted
FROM report_recordings
WHERE day BETWEEN @from_day::date AND @to_day::date
ORDER BY day, purpose;

-- name: ReportCallerActivity :many
SELECT caller_id, account, name, sum(calls)::bigint AS calls, sum(authenticated)::bigint AS authenticated,
       sum(menu_choices)::bigint AS menu_choices, sum(survey_answers)::bigint AS survey_answers,
       sum(recordings)::bigint AS recordings, sum(pin_failures)::bigint AS pin_failures,
       coalesce(to_char(max(last_call) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), '')::text AS last_call
FROM report_caller_activity
WHERE day BETWEEN @from_day::date AND @to_day::date
GROUP BY caller_id, account, name
ORDER BY calls DESC, account
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
