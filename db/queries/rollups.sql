-- Queries of the daily report summaries (00012_report_rollups.sql): finding
-- the days to roll up, claiming one, and copying its rows from the views.

-- RollupPendingDays lists the days from the first day of the month of the
-- first call up to @last_day that are not rolled up yet, oldest first, each
-- with whether a call started that day is still open (its row not closed
-- yet). Starting at the first of a month makes every month whole.
-- name: RollupPendingDays :many
SELECT d::date AS day,
       EXISTS (SELECT 1 FROM calls c
               WHERE c.ended_at IS NULL
                 AND c.started_at >= (d::timestamp AT TIME ZONE 'UTC')
                 AND c.started_at < ((d + interval '1 day')::timestamp AT TIME ZONE 'UTC'))::boolean AS has_open
FROM generate_series((SELECT date_trunc('month', min(started_at) AT TIME ZONE 'UTC') FROM calls),
                     CAST(@last_day::date AS timestamp), interval '1 day') AS d
WHERE NOT EXISTS (SELECT 1 FROM rollup_days r WHERE r.day = d::date)
ORDER BY d;

-- RollupDaysIn lists the rolled-up days of an inclusive range.
-- name: RollupDaysIn :many
SELECT day FROM rollup_days
WHERE day BETWEEN @from_day::date AND @to_day::date
ORDER BY day;

-- RollupClaimDay records that @day is rolled up, in the transaction that rolls
-- it up. It affects no row when the day is already rolled up; while another
-- transaction holds the claim it waits for that one to end.
-- name: RollupClaimDay :execrows
INSERT INTO rollup_days (day) VALUES (@day::date) ON CONFLICT DO NOTHING;

-- name: RollupCallsByHour :execrows
INSERT INTO rollup_calls_by_hour (day, hour, route, calls, answered, completed, transferred, hung_up, auth_failed,
                                  locked_out, failed, still_open, total_seconds, channels, lost)
SELECT day, hour, route, calls, answered, completed, transferred, hung_up, auth_failed,
       locked_out, failed, still_open, total_seconds, channels, lost
FROM report_calls_by_hour WHERE day = @day::date;

-- name: RollupFunnel :execrows
INSERT INTO rollup_funnel (day, calls, answered, reached_pin, authenticated, chose_option, completed)
SELECT day, calls, answered, reached_pin, authenticated, chose_option, completed
FROM report_funnel WHERE day = @day::date;

-- name: RollupMenuOptions :execrows
INSERT INTO rollup_menu_options (day, menu, version, digits, label, action, chosen)
SELECT day, menu, version, digits, label, action, chosen
FROM report_menu_options WHERE day = @day::date;

-- name: RollupInputQuality :execrows
INSERT INTO rollup_input_quality (day, kind, input, attempts, valid, invalid, no_input)
SELECT day, kind, input, attempts, valid, invalid, no_input
FROM report_input_quality WHERE day = @day::date;

-- name: RollupHangups :execrows
INSERT INTO rollup_hangups (day, kind, step, hangups, during_prompt)
SELECT day, kind, step, hangups, during_prompt
FROM report_hangups WHERE day = @day::date;

-- name: RollupSurveyResults :execrows
INSERT INTO rollup_survey_results (day, survey, version, position, question, answer, answers)
SELECT day, survey, version, position, question, answer, answers
FROM report_survey_results WHERE day = @day::date;

-- name: RollupPINSecurity :execrows
INSERT INTO rollup_pin_security (day, attempts, failures, failing_callers, locked_calls, locked_callers)
SELECT day, attempts, failures, failing_callers, locked_calls, locked_callers
FROM report_pin_security WHERE day = @day::date;

-- name: RollupRecordings :execrows
INSERT INTO rollup_recordings (day, purpose, recordings, total_ms, longest_ms, cut_by_hangup)
SELECT day, purpose, recordings, total_ms, longest_ms, cut_by_hangup
FROM report_recordings WHERE day = @day::date;

-- name: RollupCallerActivity :execrows
INSERT INTO rollup_caller_activity (day, caller_id, calls, authenticated, menu_choices, survey_answers,
                                    recordings, pin_failures, last_call)
SELECT day, caller_id, calls, authenticated, menu_choices, survey_answers, recordings, pin_failures, last_call
FROM report_caller_activity WHERE day = @day::date;

-- RollupPendingMonths lists the months whose every day is rolled up and
-- that are not rolled up themselves yet, oldest first.
-- name: RollupPendingMonths :many
SELECT d.month
FROM (SELECT date_trunc('month', day)::date AS month, count(*) AS days FROM rollup_days GROUP BY 1) d
WHERE d.days = extract(day FROM d.month + interval '1 month' - interval '1 day')
  AND NOT EXISTS (SELECT 1 FROM rollup_months m WHERE m.month = d.month)
ORDER BY d.month;

-- RollupMonthsIn lists the rolled-up months that start in an inclusive range
-- of days.
-- name: RollupMonthsIn :many
SELECT month FROM rollup_months
WHERE month BETWEEN @from_day::date AND @to_day::date
ORDER BY month;

-- RollupClaimMonth is RollupClaimDay for a month.
-- name: RollupClaimMonth :execrows
INSERT INTO rollup_months (month) VALUES (@month::date) ON CONFLICT DO NOTHING;

-- RollupCallerActivityMonth adds up the daily summaries of callers of the
-- month from @month to @last_day.
-- name: RollupCallerActivityMonth :execrows
INSERT INTO rollup_caller_activity_month (month, caller_id, calls, authenticated, menu_choices, survey_answers,
                                          recordings, pin_failures, last_call)
SELECT date_trunc('month', day)::date, caller_id, sum(calls), sum(authenticated), sum(menu_choices),
       sum(survey_answers), sum(recordings), sum(pin_failures), max(last_call)
FROM rollup_caller_activity
WHERE day BETWEEN @month::date AND @last_day::date
GROUP BY 1, caller_id;
