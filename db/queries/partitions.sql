-- Queries of the month partitions of the journal (see
-- 00011_partitioned_journal.sql): made ahead by ivr serve and ivr maintain,
-- dropped by ivr retention.

-- SetLockTimeout bounds, for the rest of the transaction, how long a statement
-- waits for a lock: making or dropping a partition locks its table, and waiting
-- behind a long report would hold up every call's writes meanwhile.
-- name: SetLockTimeout :exec
SELECT set_config('lock_timeout', @timeout::text, true);

-- CreateMonthPartitions makes the missing partitions of the months from that
-- of @first_month to that of @last_month and returns their names.
-- name: CreateMonthPartitions :many
SELECT p::text AS partition FROM ivr_create_month_partitions(@first_month::date, @last_month::date) AS p;

-- JournalMonths lists the months that have a partition of calls, oldest
-- first: the first day of each.
-- name: JournalMonths :many
SELECT to_date(substring(c.relname FROM 8 FOR 4) || substring(c.relname FROM 13 FOR 2), 'YYYYMM')::date AS month
FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'calls'::regclass AND c.relname ~ '^calls_y[0-9]{4}m[0-9]{2}$'
ORDER BY 1;

-- MonthUsage counts the rows of the calls started from @since until before @before (one
-- month), with the recordings of those calls, and the bytes on disk of the
-- month's partitions (tables and indexes) named by @month.
-- name: MonthUsage :one
SELECT (SELECT count(*) FROM calls WHERE started_at >= @since AND started_at < @before)::bigint AS calls,
       (SELECT count(*) FROM call_steps WHERE call_started_at >= @since AND call_started_at < @before)::bigint AS steps,
       (SELECT count(*) FROM responses WHERE call_started_at >= @since AND call_started_at < @before)::bigint AS responses,
       (SELECT count(*) FROM pin_attempts WHERE call_started_at >= @since AND call_started_at < @before)::bigint AS pin_attempts,
       (SELECT count(*) FROM recordings WHERE call_started_at >= @since AND call_started_at < @before)::bigint AS recordings,
       (SELECT coalesce(sum(pg_total_relation_size(to_regclass(t || to_char(@month::date, '"_y"YYYY"m"MM')))), 0)
        FROM unnest(ARRAY['calls', 'call_steps', 'responses', 'pin_attempts']) AS t)::bigint AS bytes;

-- MonthRecordings lists the recordings of the calls started from @since until
-- @before, deleted ones included, in ID order.
-- name: MonthRecordings :many
SELECT * FROM recordings WHERE call_started_at >= @since AND call_started_at < @before ORDER BY id;

-- DeleteMonthRecordings deletes the rows of the recordings of the calls
-- started from @since until before @before.
-- name: DeleteMonthRecordings :execrows
DELETE FROM recordings WHERE call_started_at >= @since AND call_started_at < @before;

-- DropMonthPartitions drops the partitions of the month of @month and returns
-- their names; the month's recordings must be gone.
-- name: DropMonthPartitions :many
SELECT p::text AS partition FROM ivr_drop_month_partitions(@month::date) AS p;

-- name: DeleteMonthCallerRollups :exec
-- The per-caller summaries of the reports for the UTC month of month, daily
-- and monthly: they name callers, so they go with the month's calls. The
-- other summaries count calls without saying whose and stay.
WITH daily AS (
    DELETE FROM rollup_caller_activity
    WHERE day >= @first_day::date AND day < @next_first_day::date
)
DELETE FROM rollup_caller_activity_month WHERE month = @first_day::date;
