-- +goose Up
-- A call row left open by an instance that died (its process killed, its host
-- lost) is closed by the sweep of every running instance with end_reason
-- 'lost', once it is older than the longest possible call (ivr serve
-- -lost-after). Its ended_at is the last thing known of it: the time of its
-- last journal step, else its start.
ALTER TABLE calls DROP CONSTRAINT calls_end_reason_check;
ALTER TABLE calls ADD CONSTRAINT calls_end_reason_check CHECK (end_reason IN (
    'completed', 'hangup', 'auth_failed', 'locked_out', 'transferred', 'error', 'shutdown', 'lost'));

-- The calls report counts the lost calls in a column of their own, after the
-- others, so the outcome columns still add up to calls.
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
       count(DISTINCT uniqueid)                                             AS channels,
       count(*) FILTER (WHERE end_reason = 'lost')                          AS lost
FROM calls
GROUP BY 1, 2, 3;

-- +goose Down
-- The lost calls become errors, the end reason the schema had for them.
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
       coalesce(sum(extract(epoch FROM ended_at - started_at)), 0)::bigint AS total_seconds,
       count(DISTINCT uniqueid)                                             AS channels
FROM calls
GROUP BY 1, 2, 3;
UPDATE calls SET end_reason = 'error' WHERE end_reason = 'lost';
ALTER TABLE calls DROP CONSTRAINT calls_end_reason_check;
ALTER TABLE calls ADD CONSTRAINT calls_end_reason_check CHECK (end_reason IN (
    'completed', 'hangup', 'auth_failed', 'locked_out', 'transferred', 'error', 'shutdown'));
