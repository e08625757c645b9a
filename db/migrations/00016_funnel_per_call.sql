-- +goose Up
-- report_funnel asks "did this call reach the PIN, choose an option" once per
-- call of the day, as subqueries bound to the call's ID and start, which
-- PostgreSQL answers from the call's own month: the partial indexes
-- call_steps_pin_call_idx and responses_menu_call_idx of one partition. The
-- semi-joins of 00011 let the planner hash every month's PIN steps and menu
-- answers instead, because the day filter on calls does not prune the other
-- tables' partitions: 1.6 s for one day of a year of a million calls, against
-- 42 ms now. The rows are the same.
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
           max(authenticated) AS authenticated, max(chose_option) AS chose_option,
           max((chose_option = 1 AND coalesce(end_reason IN ('completed', 'transferred'), false))::integer) AS completed
    FROM (
        SELECT (c.started_at AT TIME ZONE 'UTC')::date AS day, c.uniqueid, c.end_reason,
               (c.answered_at IS NOT NULL)::integer AS answered,
               (EXISTS (SELECT 1 FROM call_steps s
                        WHERE s.call_id = c.id AND s.call_started_at = c.started_at AND s.key = 'pin'))::integer AS reached_pin,
               c.authenticated::integer AS authenticated,
               (EXISTS (SELECT 1 FROM responses r
                        WHERE r.call_id = c.id AND r.call_started_at = c.started_at
                          AND r.menu_version_id IS NOT NULL))::integer AS chose_option
        FROM calls c
        WHERE c.route = 'ivr'
    ) s
    GROUP BY day, uniqueid
) f
GROUP BY day;

-- +goose Down
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
          AND EXISTS (SELECT 1 FROM call_steps s
                      WHERE s.call_id = c.id AND s.call_started_at = c.started_at AND s.key = 'pin')
        UNION ALL
        SELECT (c.started_at AT TIME ZONE 'UTC')::date, c.uniqueid, 0, 0, 0, 1,
               coalesce(c.end_reason IN ('completed', 'transferred'), false)::integer
        FROM calls c
        WHERE c.route = 'ivr'
          AND EXISTS (SELECT 1 FROM responses r
                      WHERE r.call_id = c.id AND r.call_started_at = c.started_at AND r.menu_version_id IS NOT NULL)
    ) s
    GROUP BY day, uniqueid
) f
GROUP BY day;
