-- +goose Up
-- Daily summaries of the reports. Each rollup_* table holds, for every UTC
-- day that has been rolled up, the rows the report's view has for that day:
-- the same grouping keys and the same counts and sums (never a rate or an
-- average, which the reports compute from summed counts). A report over a
-- range reads the rolled-up days from here and the other days (today, and any
-- day not rolled up yet) from the views, and adds them up.
--
-- A day is rolled up once, when it is complete (see RollUp in
-- internal/store/rollups.go and docs/reporting.md): in one transaction that
-- first claims the day in rollup_days (INSERT ... ON CONFLICT DO NOTHING, so
-- that two instances never roll up the same day twice) and then copies the
-- views' rows of that day. The summaries are never recomputed.
CREATE TABLE rollup_days (
    day          date        PRIMARY KEY,
    rolled_up_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE rollup_calls_by_hour (
    day           date    NOT NULL,
    hour          integer NOT NULL,
    route         text    NOT NULL,
    calls         bigint  NOT NULL,
    answered      bigint  NOT NULL,
    completed     bigint  NOT NULL,
    transferred   bigint  NOT NULL,
    hung_up       bigint  NOT NULL,
    auth_failed   bigint  NOT NULL,
    locked_out    bigint  NOT NULL,
    failed        bigint  NOT NULL,
    still_open    bigint  NOT NULL,
    total_seconds bigint  NOT NULL,
    channels      bigint  NOT NULL,
    lost          bigint  NOT NULL,
    PRIMARY KEY (day, hour, route)
);

CREATE TABLE rollup_funnel (
    day           date   PRIMARY KEY,
    calls         bigint NOT NULL,
    answered      bigint NOT NULL,
    reached_pin   bigint NOT NULL,
    authenticated bigint NOT NULL,
    chose_option  bigint NOT NULL,
    completed     bigint NOT NULL
);

-- A published menu version never changes, so its key, number and labels are
-- stored with the counts.
CREATE TABLE rollup_menu_options (
    day     date    NOT NULL,
    menu    text    NOT NULL,
    version integer NOT NULL,
    digits  text    NOT NULL,
    label   text    NOT NULL,
    action  text    NOT NULL,
    chosen  bigint  NOT NULL,
    PRIMARY KEY (day, menu, version, digits)
);

CREATE TABLE rollup_input_quality (
    day      date   NOT NULL,
    kind     text   NOT NULL,
    input    text   NOT NULL,
    attempts bigint NOT NULL,
    valid    bigint NOT NULL,
    invalid  bigint NOT NULL,
    no_input bigint NOT NULL,
    PRIMARY KEY (day, kind, input)
);

CREATE TABLE rollup_hangups (
    day           date   NOT NULL,
    kind          text   NOT NULL,
    step          text   NOT NULL,
    hangups       bigint NOT NULL,
    during_prompt bigint NOT NULL,
    PRIMARY KEY (day, kind, step)
);

CREATE TABLE rollup_survey_results (
    day      date    NOT NULL,
    survey   text    NOT NULL,
    version  integer NOT NULL,
    position integer NOT NULL,
    question text    NOT NULL,
    answer   text    NOT NULL,
    answers  bigint  NOT NULL,
    PRIMARY KEY (day, survey, version, question, answer)
);

-- failing_callers and locked_callers are distinct per day, as in the view.
CREATE TABLE rollup_pin_security (
    day             date   PRIMARY KEY,
    attempts        bigint NOT NULL,
    failures        bigint NOT NULL,
    failing_callers bigint NOT NULL,
    locked_calls    bigint NOT NULL,
    locked_callers  bigint NOT NULL
);

-- deleted is not here: a recording is deleted long after its day, so the
-- report counts the deleted recordings of a day from the recordings table
-- (through recordings_deleted_day_idx) whether the day is rolled up or not.
-- longest_ms is the longest of the day; the longest of days is their maximum.
CREATE TABLE rollup_recordings (
    day           date    NOT NULL,
    purpose       text    NOT NULL,
    recordings    bigint  NOT NULL,
    total_ms      bigint  NOT NULL,
    longest_ms    integer NOT NULL,
    cut_by_hangup bigint  NOT NULL,
    PRIMARY KEY (day, purpose)
);

CREATE INDEX recordings_deleted_day_idx ON recordings (((created_at AT TIME ZONE 'UTC')::date), purpose)
    WHERE deleted_at IS NOT NULL;

-- A caller's account and name can change: the summary keeps the caller's id
-- and the report joins the callers table, as the view does. last_call is the
-- start of the caller's last call of the day. The counts of one caller in a
-- day or a month are integers: the report adds up hundreds of thousands of
-- these rows, and sum(integer) is cheaper than sum(bigint).
CREATE TABLE rollup_caller_activity (
    day            date        NOT NULL,
    caller_id      bigint      NOT NULL,
    calls          integer     NOT NULL,
    authenticated  integer     NOT NULL,
    menu_choices   integer     NOT NULL,
    survey_answers integer     NOT NULL,
    recordings     integer     NOT NULL,
    pin_failures   integer     NOT NULL,
    last_call      timestamptz,
    PRIMARY KEY (day, caller_id)
);

-- A caller calls on few days, so the daily summary of callers has about a
-- row per call of a known caller; a year of it is too many rows to add up in
-- a second. Whole months of it are added up once more, when every day of the
-- month is rolled up: a month is in rollup_months once its rows are here,
-- and a report reads the whole rolled-up months of its range from here.
CREATE TABLE rollup_months (
    month        date        PRIMARY KEY,
    rolled_up_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rollup_months_first_day CHECK (extract(day FROM month) = 1)
);

CREATE TABLE rollup_caller_activity_month (
    month          date        NOT NULL,
    caller_id      bigint      NOT NULL,
    calls          integer     NOT NULL,
    authenticated  integer     NOT NULL,
    menu_choices   integer     NOT NULL,
    survey_answers integer     NOT NULL,
    recordings     integer     NOT NULL,
    pin_failures   integer     NOT NULL,
    last_call      timestamptz,
    PRIMARY KEY (month, caller_id)
);

-- +goose Down
DROP TABLE rollup_caller_activity_month;
DROP TABLE rollup_months;
DROP TABLE rollup_caller_activity;
DROP INDEX recordings_deleted_day_idx;
DROP TABLE rollup_recordings;
DROP TABLE rollup_pin_security;
DROP TABLE rollup_survey_results;
DROP TABLE rollup_hangups;
DROP TABLE rollup_input_quality;
DROP TABLE rollup_menu_options;
DROP TABLE rollup_funnel;
DROP TABLE rollup_calls_by_hour;
DROP TABLE rollup_days;
