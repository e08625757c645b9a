-- +goose Up
-- The journal (calls, call_steps, responses, pin_attempts) is partitioned by
-- the UTC month of the call's start, so that a month of calls is removed by
-- dropping its partitions (ivr retention) instead of a DELETE that would bloat
-- the busiest tables. A call and its steps, responses and PIN attempts live in
-- the same month: each child row carries its call's start (call_started_at)
-- and points to its call by (call_id, call_started_at), in that month's
-- partition of calls. A PIN attempt made on
-- no call is placed by its own time. recordings stays one table (few rows); it
-- points to its call the same way, so ivr retention deletes the recordings of
-- a month before it drops the month.
--
-- There is no DEFAULT partition: creating a month's partitions would then have
-- to scan it. The partitions of a month are made ahead of time by
-- ivr_create_month_partitions, which ivr serve runs at start and every hour
-- for the current and the next two months (ivr maintain does the same); a row
-- for a month without a partition is refused, never lost (see
-- docs/operations.md).
--
-- The tables are moved over by copying: the old ones are renamed, the new ones
-- made and filled, the old ones dropped; then the keys, indexes, foreign keys
-- and the report views are made again. IDs and their sequences carry over.

DROP VIEW report_caller_activity;
DROP VIEW report_recordings;
DROP VIEW report_pin_security;
DROP VIEW report_survey_results;
DROP VIEW report_hangups;
DROP VIEW report_input_quality;
DROP VIEW report_menu_options;
DROP VIEW report_funnel;
DROP VIEW report_calls_by_hour;

ALTER TABLE recordings DROP CONSTRAINT recordings_call_id_fkey;
ALTER TABLE pin_attempts RENAME TO pin_attempts_old;
ALTER TABLE responses RENAME TO responses_old;
ALTER TABLE call_steps RENAME TO call_steps_old;
ALTER TABLE calls RENAME TO calls_old;
ALTER SEQUENCE calls_id_seq RENAME TO calls_old_id_seq;
ALTER SEQUENCE responses_id_seq RENAME TO responses_old_id_seq;
ALTER SEQUENCE pin_attempts_id_seq RENAME TO pin_attempts_old_id_seq;
-- The indexes (and so the keys) of the old tables give their names up to the
-- new ones.
-- +goose StatementBegin
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT i.indexrelid::regclass AS idx, c.relname
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             WHERE i.indrelid IN ('calls_old'::regclass, 'call_steps_old'::regclass,
                                  'responses_old'::regclass, 'pin_attempts_old'::regclass)
    LOOP
        EXECUTE format('ALTER INDEX %s RENAME TO %I', r.idx, r.relname || '_old');
    END LOOP;
END
$$;
-- +goose StatementEnd

CREATE TABLE calls (
    id              bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
    uniqueid        text        NOT NULL,
    linkedid        text        NOT NULL DEFAULT '',
    channel         text        NOT NULL DEFAULT '',
    route           text        NOT NULL DEFAULT '',
    callerid_raw    text        NOT NULL DEFAULT '',
    callerid_e164   text        NOT NULL DEFAULT '',
    dnid            text        NOT NULL DEFAULT '',
    caller_id       bigint,
    started_at      timestamptz NOT NULL,
    answered_at     timestamptz,
    ended_at        timestamptz,
    end_reason      text,
    authenticated   boolean     NOT NULL DEFAULT false,
    menu_version_id bigint,
    session_id      uuid        NOT NULL DEFAULT gen_random_uuid(),
    CONSTRAINT calls_end_pair CHECK ((ended_at IS NULL) = (end_reason IS NULL)),
    CONSTRAINT calls_end_reason_check CHECK (end_reason IN (
        'completed', 'hangup', 'auth_failed', 'locked_out', 'transferred', 'error', 'shutdown', 'lost'))
) PARTITION BY RANGE (started_at);

-- call_started_at is the start of the step's call: the month it belongs to.
CREATE TABLE call_steps (
    call_id         bigint      NOT NULL,
    seq             integer     NOT NULL,
    key             text        NOT NULL,
    kind            text        NOT NULL,
    digits          text,
    secret          boolean     NOT NULL DEFAULT false,
    outcome         text        NOT NULL,
    attempt         integer     NOT NULL DEFAULT 1,
    elapsed_ms      integer     NOT NULL DEFAULT 0,
    at              timestamptz NOT NULL,
    call_started_at timestamptz NOT NULL,
    CONSTRAINT call_steps_seq_check CHECK (seq >= 1),
    CONSTRAINT call_steps_kind_format CHECK (kind ~ '^[a-z][a-z_]*$'),
    CONSTRAINT call_steps_secret_digits CHECK (NOT secret OR digits IS NULL),
    CONSTRAINT call_steps_outcome_check CHECK (outcome IN ('valid', 'invalid', 'timeout', 'hangup', 'error')),
    CONSTRAINT call_steps_attempt_check CHECK (attempt >= 1),
    CONSTRAINT call_steps_elapsed_check CHECK (elapsed_ms >= 0)
) PARTITION BY RANGE (call_started_at);

CREATE TABLE responses (
    id                bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
    call_id           bigint      NOT NULL,
    caller_id         bigint,
    menu_version_id   bigint,
    survey_version_id bigint,
    question_key      text        NOT NULL DEFAULT '',
    answer            text        NOT NULL,
    at                timestamptz NOT NULL,
    call_started_at   timestamptz NOT NULL,
    CONSTRAINT responses_one_source CHECK (num_nonnulls(menu_version_id, survey_version_id) <= 1)
) PARTITION BY RANGE (call_started_at);

-- call_started_at is the start of the attempt's call, or the attempt's own
-- time when it was made on no call (call_id NULL).
CREATE TABLE pin_attempts (
    id              bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
    caller_id       bigint,
    call_id         bigint,
    success         boolean     NOT NULL,
    at              timestamptz NOT NULL,
    call_started_at timestamptz NOT NULL
) PARTITION BY RANGE (call_started_at);

-- The foreign keys from a call's steps, responses and PIN attempts to the
-- call link each month's partitions to that month's partition of calls
-- (call_steps_y2026m01 to calls_y2026m01), not the partitioned tables: a key
-- to the partitioned calls would be checked, for every row written, through a
-- plan over every month's partition. The rows of a call all carry the call's
-- start, so they all belong to the month of their call.

-- ivr_link_month_partitions gives the partitions of call_steps, responses and
-- pin_attempts of the UTC month of month the foreign key to their month's
-- partition of calls, where they lack it.
-- +goose StatementBegin
CREATE FUNCTION ivr_link_month_partitions(month date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    suffix text := to_char(month, '"_y"YYYY"m"MM');
    t      text;
    part   text;
BEGIN
    FOREACH t IN ARRAY ARRAY['call_steps', 'responses', 'pin_attempts'] LOOP
        part := t || suffix;
        IF to_regclass(quote_ident(part)) IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(quote_ident(part)) AND contype = 'f'
                                          AND conname = part || '_call_fkey') THEN
            EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I FOREIGN KEY (call_id, call_started_at) '
                           'REFERENCES %I (id, started_at) ON DELETE %s',
                           part, part || '_call_fkey', 'calls' || suffix,
                           CASE t WHEN 'pin_attempts' THEN 'SET NULL (call_id)' ELSE 'CASCADE' END);
        END IF;
    END LOOP;
END
$$;
-- +goose StatementEnd

-- ivr_create_month_partitions makes the partitions of calls, call_steps,
-- responses and pin_attempts for every UTC month from the month of
-- first_month to that of last_month that has none yet, with their foreign
-- keys unless link is false, and returns the names of the tables it made.
-- Running it again makes nothing. A partition is named after its table and
-- month: calls_y2026m01 holds the calls started in January 2026 (UTC). It
-- lives here rather than in Go because table names cannot be query
-- parameters: the names are quoted with format('%I').
-- +goose StatementBegin
CREATE FUNCTION ivr_create_month_partitions(first_month date, last_month date, link boolean DEFAULT true)
RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    m    date := date_trunc('month', first_month)::date;
    t    text;
    part text;
BEGIN
    WHILE m <= last_month LOOP
        FOREACH t IN ARRAY ARRAY['calls', 'call_steps', 'responses', 'pin_attempts'] LOOP
            part := t || to_char(m, '"_y"YYYY"m"MM');
            IF to_regclass(quote_ident(part)) IS NULL THEN
                EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', part, t,
                               to_char(m, 'YYYY-MM-DD') || ' 00:00:00+00',
                               to_char(m + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00');
                RETURN NEXT part;
            END IF;
        END LOOP;
        IF link THEN
            PERFORM ivr_link_month_partitions(m);
        END IF;
        m := (m + interval '1 month')::date;
    END LOOP;
END
$$;
-- +goose StatementEnd

-- ivr_drop_month_partitions drops the partitions of call_steps, responses,
-- pin_attempts and calls of the UTC month of month (those that exist) and
-- returns the names of the tables it dropped. The recordings of the month's
-- calls must be deleted first: the foreign key of recordings refuses the drop
-- otherwise.
-- +goose StatementBegin
CREATE FUNCTION ivr_drop_month_partitions(month date) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    t    text;
    part text;
BEGIN
    FOREACH t IN ARRAY ARRAY['call_steps', 'responses', 'pin_attempts', 'calls'] LOOP
        part := t || to_char(month, '"_y"YYYY"m"MM');
        IF to_regclass(quote_ident(part)) IS NOT NULL THEN
            IF t = 'calls' THEN
                -- A referenced partition must leave its table before it goes.
                EXECUTE format('ALTER TABLE calls DETACH PARTITION %I', part);
            END IF;
            EXECUTE format('DROP TABLE %I', part);
            RETURN NEXT part;
        END IF;
    END LOOP;
END
$$;
-- +goose StatementEnd

-- The partitions are filled before they get their foreign keys, which are
-- then checked once for each month.
SELECT ivr_create_month_partitions(
    least((SELECT min(started_at) FROM calls_old), (SELECT min(at) FROM pin_attempts_old WHERE call_id IS NULL),
          now())::date,
    (now() + interval '2 months')::date,
    false);

INSERT INTO calls (id, uniqueid, linkedid, channel, route, callerid_raw, callerid_e164, dnid, caller_id, started_at,
                   answered_at, ended_at, end_reason, authenticated, menu_version_id, session_id)
OVERRIDING SYSTEM VALUE
SELECT id, uniqueid, linkedid, channel, route, callerid_raw, callerid_e164, dnid, caller_id, started_at,
       answered_at, ended_at, end_reason, authenticated, menu_version_id, session_id
FROM calls_old;

INSERT INTO call_steps (call_id, seq, key, kind, digits, secret, outcome, attempt, elapsed_ms, at, call_started_at)
SELECT s.call_id, s.seq, s.key, s.kind, s.digits, s.secret, s.outcome, s.attempt, s.elapsed_ms, s.at, c.started_at
FROM call_steps_old s JOIN calls_old c ON c.id = s.call_id;

INSERT INTO responses (id, call_id, caller_id, menu_version_id, survey_version_id, question_key, answer, at, call_started_at)
OVERRIDING SYSTEM VALUE
SELECT r.id, r.call_id, r.caller_id, r.menu_version_id, r.survey_version_id, r.question_key, r.answer, r.at, c.started_at
FROM responses_old r JOIN calls_old c ON c.id = r.call_id;

INSERT INTO pin_attempts (id, caller_id, call_id, success, at, call_started_at)
OVERRIDING SYSTEM VALUE
SELECT p.id, p.caller_id, p.call_id, p.success, p.at, coalesce(c.started_at, p.at)
FROM pin_attempts_old p LEFT JOIN calls_old c ON c.id = p.call_id;

ALTER TABLE recordings ADD COLUMN call_started_at timestamptz;
UPDATE recordings r SET call_started_at = c.started_at FROM calls_old c WHERE c.id = r.call_id;
ALTER TABLE recordings ALTER COLUMN call_started_at SET NOT NULL;

SELECT setval(pg_get_serial_sequence('calls', 'id'), nextval('calls_old_id_seq'), false);
SELECT setval(pg_get_serial_sequence('responses', 'id'), nextval('responses_old_id_seq'), false);
SELECT setval(pg_get_serial_sequence('pin_attempts', 'id'), nextval('pin_attempts_old_id_seq'), false);

DROP TABLE pin_attempts_old;
DROP TABLE responses_old;
DROP TABLE call_steps_old;
DROP TABLE calls_old;

-- Keys include the partition key, as PostgreSQL requires: a call's ID is
-- unique, and a session is always written again with the same start. A call
-- looked up by ID alone is found through the key's index in each partition.
ALTER TABLE calls ADD CONSTRAINT calls_pkey PRIMARY KEY (id, started_at);
ALTER TABLE calls ADD CONSTRAINT calls_session_id_key UNIQUE (session_id, started_at);
ALTER TABLE calls ADD CONSTRAINT calls_caller_id_fkey FOREIGN KEY (caller_id) REFERENCES callers (id) ON DELETE SET NULL;
ALTER TABLE calls ADD CONSTRAINT calls_menu_version_id_fkey FOREIGN KEY (menu_version_id) REFERENCES menu_versions (id);
CREATE INDEX calls_started_at_idx ON calls (started_at);
CREATE INDEX calls_linkedid_idx ON calls (linkedid) WHERE linkedid <> '';
CREATE INDEX calls_caller_started_idx ON calls (caller_id, started_at) WHERE caller_id IS NOT NULL;
CREATE INDEX calls_end_reason_started_idx ON calls (end_reason, started_at);
CREATE INDEX calls_open_idx ON calls (started_at) WHERE ended_at IS NULL;
CREATE INDEX calls_menu_version_idx ON calls (menu_version_id) WHERE menu_version_id IS NOT NULL;
CREATE INDEX calls_uniqueid_idx ON calls (uniqueid);
CREATE INDEX calls_day_brin ON calls USING brin (((started_at AT TIME ZONE 'UTC')::date));

ALTER TABLE call_steps ADD CONSTRAINT call_steps_pkey PRIMARY KEY (call_id, seq, call_started_at);
CREATE INDEX call_steps_key_outcome_idx ON call_steps (key, outcome, at);
CREATE INDEX call_steps_day_brin ON call_steps USING brin (((at AT TIME ZONE 'UTC')::date));
CREATE INDEX call_steps_pin_call_idx ON call_steps (call_id) WHERE key = 'pin';

ALTER TABLE responses ADD CONSTRAINT responses_pkey PRIMARY KEY (id, call_started_at);
ALTER TABLE responses ADD CONSTRAINT responses_caller_id_fkey FOREIGN KEY (caller_id) REFERENCES callers (id) ON DELETE SET NULL;
ALTER TABLE responses ADD CONSTRAINT responses_menu_version_id_fkey FOREIGN KEY (menu_version_id) REFERENCES menu_versions (id);
ALTER TABLE responses ADD CONSTRAINT responses_survey_version_id_fkey FOREIGN KEY (survey_version_id) REFERENCES survey_versions (id);
CREATE INDEX responses_call_idx ON responses (call_id);
CREATE INDEX responses_caller_at_idx ON responses (caller_id, at) WHERE caller_id IS NOT NULL;
CREATE INDEX responses_menu_version_idx ON responses (menu_version_id, answer) WHERE menu_version_id IS NOT NULL;
CREATE INDEX responses_survey_version_idx ON responses (survey_version_id, question_key, answer) WHERE survey_version_id IS NOT NULL;
CREATE INDEX responses_day_brin ON responses USING brin (((at AT TIME ZONE 'UTC')::date));
CREATE INDEX responses_menu_call_idx ON responses (call_id) WHERE menu_version_id IS NOT NULL;

ALTER TABLE pin_attempts ADD CONSTRAINT pin_attempts_pkey PRIMARY KEY (id, call_started_at);
ALTER TABLE pin_attempts ADD CONSTRAINT pin_attempts_caller_id_fkey FOREIGN KEY (caller_id) REFERENCES callers (id) ON DELETE CASCADE;
CREATE INDEX pin_attempts_caller_at_idx ON pin_attempts (caller_id, at);
CREATE INDEX pin_attempts_call_idx ON pin_attempts (call_id) WHERE call_id IS NOT NULL;
CREATE INDEX pin_attempts_day_brin ON pin_attempts USING brin (((at AT TIME ZONE 'UTC')::date));

-- Each month's steps, responses and PIN attempts point to that month's calls
-- (a PIN attempt's call going leaves the attempt, without its call);
-- recordings, one table, point to the partitioned calls.
-- +goose StatementBegin
DO $$
DECLARE
    m date;
BEGIN
    FOR m IN SELECT to_date(substring(c.relname FROM 8 FOR 4) || substring(c.relname FROM 13 FOR 2), 'YYYYMM')
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'calls'::regclass AND c.relname ~ '^calls_y[0-9]{4}m[0-9]{2}$'
    LOOP
        PERFORM ivr_link_month_partitions(m);
    END LOOP;
END
$$;
-- +goose StatementEnd
ALTER TABLE recordings ADD CONSTRAINT recordings_call_id_fkey FOREIGN KEY (call_id, call_started_at)
    REFERENCES calls (id, started_at) ON DELETE CASCADE;
CREATE INDEX recordings_call_started_idx ON recordings (call_started_at);

-- The report views of 00004_reports.sql, 00007_call_sessions.sql and
-- 00009_calls_lost.sql, as they were, except that a call's steps and responses
-- are found by the call's ID and start, which leads each lookup to the one
-- partition that holds them.
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
       count(DISTINCT uniqueid)                                             AS channels,
       count(*) FILTER (WHERE end_reason = 'lost')                          AS lost
FROM calls
GROUP BY 1, 2, 3;

CREATE VIEW report_funnel AS
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

CREATE VIEW report_hangups AS
SELECT (h.at AT TIME ZONE 'UTC')::date   AS day,
       coalesce(p.kind, 'start')        AS kind,
       coalesce(p.key, '')              AS step,
       count(*)                         AS hangups,
       count(*) FILTER (WHERE p.outcome = 'hangup') AS during_prompt
FROM call_steps h
LEFT JOIN call_steps p ON p.call_id = h.call_id AND p.call_started_at = h.call_started_at AND p.seq = h.seq - 1
WHERE h.key = 'hangup' AND h.kind = 'hangup'
GROUP BY 1, 2, 3;

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
    SELECT (started_at AT TIME ZONE 'UTC')::date, 0, 0, 0, count(DISTINCT uniqueid), count(DISTINCT caller_id)
    FROM calls
    WHERE end_reason = 'locked_out'
    GROUP BY 1
) p
GROUP BY day;

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

ANALYZE calls, call_steps, responses, pin_attempts, recordings;

-- +goose Down
-- The journal becomes one table per kind again, every row kept; the
-- partitions' extra column (call_started_at) goes.
DROP VIEW report_caller_activity;
DROP VIEW report_recordings;
DROP VIEW report_pin_security;
DROP VIEW report_survey_results;
DROP VIEW report_hangups;
DROP VIEW report_input_quality;
DROP VIEW report_menu_options;
DROP VIEW report_funnel;
DROP VIEW report_calls_by_hour;

ALTER TABLE recordings DROP CONSTRAINT recordings_call_id_fkey;
DROP INDEX recordings_call_started_idx;
ALTER TABLE recordings DROP COLUMN call_started_at;
ALTER TABLE pin_attempts RENAME TO pin_attempts_part;
ALTER TABLE responses RENAME TO responses_part;
ALTER TABLE call_steps RENAME TO call_steps_part;
ALTER TABLE calls RENAME TO calls_part;
-- +goose StatementBegin
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT i.indexrelid::regclass AS idx, c.relname
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             WHERE i.indrelid IN ('calls_part'::regclass, 'call_steps_part'::regclass,
                                  'responses_part'::regclass, 'pin_attempts_part'::regclass)
    LOOP
        EXECUTE format('ALTER INDEX %s RENAME TO %I', r.idx, r.relname || '_part');
    END LOOP;
    FOR r IN SELECT s.oid::regclass AS seq, s.relname
             FROM pg_class s JOIN pg_depend d ON d.objid = s.oid AND d.deptype = 'i'
             WHERE s.relkind = 'S' AND d.refobjid IN ('calls_part'::regclass, 'responses_part'::regclass,
                                                     'pin_attempts_part'::regclass)
    LOOP
        EXECUTE format('ALTER SEQUENCE %s RENAME TO %I', r.seq, r.relname || '_part');
    END LOOP;
END
$$;
-- +goose StatementEnd

CREATE TABLE calls (
    id              bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
    uniqueid        text        NOT NULL,
    linkedid        text        NOT NULL DEFAULT '',
    channel         text        NOT NULL DEFAULT '',
    route           text        NOT NULL DEFAULT '',
    callerid_raw    text        NOT NULL DEFAULT '',
    callerid_e164   text        NOT NULL DEFAULT '',
    dnid            text        NOT NULL DEFAULT '',
    caller_id       bigint,
    started_at      timestamptz NOT NULL,
    answered_at     timestamptz,
    ended_at        timestamptz,
    end_reason      text,
    authenticated   boolean     NOT NULL DEFAULT false,
    menu_version_id bigint,
    session_id      uuid        NOT NULL DEFAULT gen_random_uuid(),
    CONSTRAINT calls_end_pair CHECK ((ended_at IS NULL) = (end_reason IS NULL)),
    CONSTRAINT calls_end_reason_check CHECK (end_reason IN (
        'completed', 'hangup', 'auth_failed', 'locked_out', 'transferred', 'error', 'shutdown', 'lost'))
);

CREATE TABLE call_steps (
    call_id    bigint      NOT NULL,
    seq        integer     NOT NULL,
    key        text        NOT NULL,
    kind       text        NOT NULL,
    digits     text,
    secret     boolean     NOT NULL DEFAULT false,
    outcome    text        NOT NULL,
    attempt    integer     NOT NULL DEFAULT 1,
    elapsed_ms integer     NOT NULL DEFAULT 0,
    at         timestamptz NOT NULL,
    CONSTRAINT call_steps_seq_check CHECK (seq >= 1),
    CONSTRAINT call_steps_kind_format CHECK (kind ~ '^[a-z][a-z_]*$'),
    CONSTRAINT call_steps_secret_digits CHECK (NOT secret OR digits IS NULL),
    CONSTRAINT call_steps_outcome_check CHECK (outcome IN ('valid', 'invalid', 'timeout', 'hangup', 'error')),
    CONSTRAINT call_steps_attempt_check CHECK (attempt >= 1),
    CONSTRAINT call_steps_elapsed_check CHECK (elapsed_ms >= 0)
);

CREATE TABLE responses (
    id                bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
    call_id           bigint      NOT NULL,
    caller_id         bigint,
    menu_version_id   bigint,
    survey_version_id bigint,
    question_key      text        NOT NULL DEFAULT '',
    answer            text        NOT NULL,
    at                timestamptz NOT NULL,
    CONSTRAINT responses_one_source CHECK (num_nonnulls(menu_version_id, survey_version_id) <= 1)
);

CREATE TABLE pin_attempts (
    id        bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
    caller_id bigint,
    call_id   bigint,
    success   boolean     NOT NULL,
    at        timestamptz NOT NULL
);

INSERT INTO calls (id, uniqueid, linkedid, channel, route, callerid_raw, callerid_e164, dnid, caller_id, started_at,
                   answered_at, ended_at, end_reason, authenticated, menu_version_id, session_id)
OVERRIDING SYSTEM VALUE
SELECT id, uniqueid, linkedid, channel, route, callerid_raw, callerid_e164, dnid, caller_id, started_at,
       answered_at, ended_at, end_reason, authenticated, menu_version_id, session_id
FROM calls_part;
INSERT INTO call_steps (call_id, seq, key, kind, digits, secret, outcome, attempt, elapsed_ms, at)
SELECT call_id, seq, key, kind, digits, secret, outcome, attempt, elapsed_ms, at FROM call_steps_part;
INSERT INTO responses (id, call_id, caller_id, menu_version_id, survey_version_id, question_key, answer, at)
OVERRIDING SYSTEM VALUE
SELECT id, call_id, caller_id, menu_version_id, survey_version_id, question_key, answer, at FROM responses_part;
INSERT INTO pin_attempts (id, caller_id, call_id, success, at)
OVERRIDING SYSTEM VALUE
SELECT id, caller_id, call_id, success, at FROM pin_attempts_part;

SELECT setval(pg_get_serial_sequence('calls', 'id'), nextval(pg_get_serial_sequence('calls_part', 'id')), false);
SELECT setval(pg_get_serial_sequence('responses', 'id'), nextval(pg_get_serial_sequence('responses_part', 'id')), false);
SELECT setval(pg_get_serial_sequence('pin_attempts', 'id'), nextval(pg_get_serial_sequence('pin_attempts_part', 'id')), false);

DROP TABLE pin_attempts_part;
DROP TABLE responses_part;
DROP TABLE call_steps_part;
DROP TABLE calls_part;
DROP FUNCTION ivr_drop_month_partitions(date);
DROP FUNCTION ivr_create_month_partitions(date, date, boolean);
DROP FUNCTION ivr_link_month_partitions(date);

ALTER TABLE calls ADD CONSTRAINT calls_pkey PRIMARY KEY (id);
ALTER TABLE calls ADD CONSTRAINT calls_session_id_key UNIQUE (session_id);
ALTER TABLE calls ADD CONSTRAINT calls_caller_id_fkey FOREIGN KEY (caller_id) REFERENCES callers (id) ON DELETE SET NULL;
ALTER TABLE calls ADD CONSTRAINT calls_menu_version_id_fkey FOREIGN KEY (menu_version_id) REFERENCES menu_versions (id);
CREATE INDEX calls_started_at_idx ON calls (started_at);
CREATE INDEX calls_linkedid_idx ON calls (linkedid) WHERE linkedid <> '';
CREATE INDEX calls_caller_started_idx ON calls (caller_id, started_at) WHERE caller_id IS NOT NULL;
CREATE INDEX calls_end_reason_started_idx ON calls (end_reason, started_at);
CREATE INDEX calls_open_idx ON calls (started_at) WHERE ended_at IS NULL;
CREATE INDEX calls_menu_version_idx ON calls (menu_version_id) WHERE menu_version_id IS NOT NULL;
CREATE INDEX calls_uniqueid_idx ON calls (uniqueid);
CREATE INDEX calls_day_brin ON calls USING brin (((started_at AT TIME ZONE 'UTC')::date));

ALTER TABLE call_steps ADD CONSTRAINT call_steps_pkey PRIMARY KEY (call_id, seq);
ALTER TABLE call_steps ADD CONSTRAINT call_steps_call_id_fkey FOREIGN KEY (call_id) REFERENCES calls (id) ON DELETE CASCADE;
CREATE INDEX call_steps_key_outcome_idx ON call_steps (key, outcome, at);
CREATE INDEX call_steps_day_brin ON call_steps USING brin (((at AT TIME ZONE 'UTC')::date));
CREATE INDEX call_steps_pin_call_idx ON call_steps (call_id) WHERE key = 'pin';

ALTER TABLE responses ADD CONSTRAINT responses_pkey PRIMARY KEY (id);
ALTER TABLE responses ADD CONSTRAINT responses_call_id_fkey FOREIGN KEY (call_id) REFERENCES calls (id) ON DELETE CASCADE;
ALTER TABLE responses ADD CONSTRAINT responses_caller_id_fkey FOREIGN KEY (caller_id) REFERENCES callers (id) ON DELETE SET NULL;
ALTER TABLE responses ADD CONSTRAINT responses_menu_version_id_fkey FOREIGN KEY (menu_version_id) REFERENCES menu_versions (id);
ALTER TABLE responses ADD CONSTRAINT responses_survey_version_id_fkey FOREIGN KEY (survey_version_id) REFERENCES survey_versions (id);
CREATE INDEX responses_call_idx ON responses (call_id);
CREATE INDEX responses_caller_at_idx ON responses (caller_id, at) WHERE caller_id IS NOT NULL;
CREATE INDEX responses_menu_version_idx ON responses (menu_version_id, answer) WHERE menu_version_id IS NOT NULL;
CREATE INDEX responses_survey_version_idx ON responses (survey_version_id, question_key, answer) WHERE survey_version_id IS NOT NULL;
CREATE INDEX responses_day_brin ON responses USING brin (((at AT TIME ZONE 'UTC')::date));
CREATE INDEX responses_menu_call_idx ON responses (call_id) WHERE menu_version_id IS NOT NULL;

ALTER TABLE pin_attempts ADD CONSTRAINT pin_attempts_pkey PRIMARY KEY (id);
ALTER TABLE pin_attempts ADD CONSTRAINT pin_attempts_caller_id_fkey FOREIGN KEY (caller_id) REFERENCES callers (id) ON DELETE CASCADE;
ALTER TABLE pin_attempts ADD CONSTRAINT pin_attempts_call_id_fkey FOREIGN KEY (call_id) REFERENCES calls (id) ON DELETE SET NULL;
CREATE INDEX pin_attempts_caller_at_idx ON pin_attempts (caller_id, at);
CREATE INDEX pin_attempts_call_idx ON pin_attempts (call_id) WHERE call_id IS NOT NULL;
CREATE INDEX pin_attempts_day_brin ON pin_attempts USING brin (((at AT TIME ZONE 'UTC')::date));

ALTER TABLE recordings ADD CONSTRAINT recordings_call_id_fkey FOREIGN KEY (call_id) REFERENCES calls (id) ON DELETE CASCADE;

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
       count(DISTINCT uniqueid)                                             AS channels,
       count(*) FILTER (WHERE end_reason = 'lost')                          AS lost
FROM calls
GROUP BY 1, 2, 3;

CREATE VIEW report_funnel AS
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
    SELECT (started_at AT TIME ZONE 'UTC')::date, 0, 0, 0, count(DISTINCT uniqueid), count(DISTINCT caller_id)
    FROM calls
    WHERE end_reason = 'locked_out'
    GROUP BY 1
) p
GROUP BY day;

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

