-- NumberEntry returns dialled number @number with the rules of its schedule
-- (NULL without one): what the ivr route reads for a call.
-- name: NumberEntry :one
SELECT n.number, n.menu_key, n.language, n.schedule_key, n.closed, n.holiday, n.updated_at,
       s.rules AS schedule_rules, s.updated_at AS schedule_updated_at
FROM numbers n LEFT JOIN schedules s ON s.key = n.schedule_key
WHERE n.number = @number;

-- ListNumbers returns every dialled number with its schedule's rules, in
-- order.
-- name: ListNumbers :many
SELECT n.number, n.menu_key, n.language, n.schedule_key, n.closed, n.holiday, n.updated_at,
       s.rules AS schedule_rules, s.updated_at AS schedule_updated_at
FROM numbers n LEFT JOIN schedules s ON s.key = n.schedule_key
ORDER BY n.number;

-- UpsertNumber stores a number; a number whose content is unchanged keeps
-- its updated_at.
-- name: UpsertNumber :exec
INSERT INTO numbers (number, menu_key, language, schedule_key, closed, holiday)
VALUES (@number, @menu_key, @language, sqlc.narg('schedule_key'), sqlc.narg('closed'), sqlc.narg('holiday'))
ON CONFLICT (number) DO UPDATE
SET menu_key = excluded.menu_key, language = excluded.language, schedule_key = excluded.schedule_key,
    closed = excluded.closed, holiday = excluded.holiday, updated_at = now()
WHERE (numbers.menu_key, numbers.language, numbers.schedule_key, numbers.closed, numbers.holiday)
      IS DISTINCT FROM (excluded.menu_key, excluded.language, excluded.schedule_key, excluded.closed, excluded.holiday);

-- DeleteNumbersExcept deletes every number not in @keep.
-- name: DeleteNumbersExcept :exec
DELETE FROM numbers WHERE NOT (number = ANY (@keep::text[]));

-- ListSchedules returns every schedule, in order.
-- name: ListSchedules :many
SELECT key, rules, updated_at FROM schedules ORDER BY key;

-- UpsertSchedule stores a schedule; one whose rules are unchanged keeps its
-- updated_at.
-- name: UpsertSchedule :exec
INSERT INTO schedules (key, time_zone, rules) VALUES (@key, @time_zone, @rules)
ON CONFLICT (key) DO UPDATE
SET time_zone = excluded.time_zone, rules = excluded.rules, updated_at = now()
WHERE (schedules.time_zone, schedules.rules) IS DISTINCT FROM (excluded.time_zone, excluded.rules);

-- DeleteSchedulesExcept deletes every schedule not in @keep.
-- name: DeleteSchedulesExcept :exec
DELETE FROM schedules WHERE NOT (key = ANY (@keep::text[]));

-- ReportNumbers counts the ivr route's calls routed by dialled number (their
-- number step, 00013_numbers.sql) per number over an inclusive range of UTC
-- days: known or not (the default menu), the state of the number's schedule
-- when the call came, and how the calls ended.
-- name: ReportNumbers :many
SELECT substr(n.key, length('number:') + 1)::text                    AS number,
       (n.outcome = 'valid')::boolean                                AS known,
       count(*)::bigint                                              AS calls,
       count(*) FILTER (WHERE s.key LIKE 'schedule:%:open')::bigint    AS open,
       count(*) FILTER (WHERE s.key LIKE 'schedule:%:closed')::bigint  AS closed,
       count(*) FILTER (WHERE s.key LIKE 'schedule:%:holiday')::bigint AS holiday,
       count(*) FILTER (WHERE c.end_reason = 'completed')::bigint      AS completed,
       count(*) FILTER (WHERE c.end_reason = 'transferred')::bigint    AS transferred,
       count(*) FILTER (WHERE c.end_reason = 'hangup')::bigint         AS hung_up
FROM call_steps n
JOIN calls c ON c.id = n.call_id AND c.started_at = n.call_started_at
LEFT JOIN call_steps s ON s.call_id = n.call_id AND s.call_started_at = n.call_started_at AND s.kind = 'schedule'
WHERE n.kind = 'number'
  AND (n.at AT TIME ZONE 'UTC')::date BETWEEN @from_day::date AND @to_day::date
GROUP BY 1, 2
ORDER BY calls DESC, number;

-- ScheduleByKey returns schedule @key, which a menu option names.
-- name: ScheduleByKey :one
SELECT key, rules, updated_at FROM schedules WHERE key = @key;

-- MenuScheduleKeys returns the schedules the options of any menu version
-- name.
-- name: MenuScheduleKeys :many
SELECT DISTINCT schedule_key::text FROM menu_options WHERE schedule_key IS NOT NULL ORDER BY 1;
