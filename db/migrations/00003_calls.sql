-- +goose Up
-- calls has one row per AGI session. It is opened when the call starts and
-- closed (ended_at, end_reason) when it ends; a row still open after a crash
-- has ended_at NULL.
CREATE TABLE calls (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uniqueid        text        NOT NULL,
    linkedid        text        NOT NULL DEFAULT '',
    channel         text        NOT NULL DEFAULT '',
    route           text        NOT NULL DEFAULT '',
    callerid_raw    text        NOT NULL DEFAULT '',
    callerid_e164   text        NOT NULL DEFAULT '',
    dnid            text        NOT NULL DEFAULT '',
    caller_id       bigint      REFERENCES callers (id) ON DELETE SET NULL,
    started_at      timestamptz NOT NULL,
    answered_at     timestamptz,
    ended_at        timestamptz,
    end_reason      text,
    authenticated   boolean     NOT NULL DEFAULT false,
    menu_version_id bigint      REFERENCES menu_versions (id),
    CONSTRAINT calls_uniqueid_key UNIQUE (uniqueid),
    CONSTRAINT calls_end_pair CHECK ((ended_at IS NULL) = (end_reason IS NULL)),
    CONSTRAINT calls_end_reason_check CHECK (end_reason IN (
        'completed', 'hangup', 'auth_failed', 'locked_out', 'transferred', 'error', 'shutdown'))
);

CREATE INDEX calls_started_at_idx ON calls (started_at);
CREATE INDEX calls_linkedid_idx ON calls (linkedid) WHERE linkedid <> '';
CREATE INDEX calls_caller_started_idx ON calls (caller_id, started_at) WHERE caller_id IS NOT NULL;
CREATE INDEX calls_end_reason_started_idx ON calls (end_reason, started_at);
CREATE INDEX calls_open_idx ON calls (started_at) WHERE ended_at IS NULL;
CREATE INDEX calls_menu_version_idx ON calls (menu_version_id) WHERE menu_version_id IS NOT NULL;

-- call_steps is the journal: every prompt and input attempt of a call, in
-- order. (call_id, seq) is the key, so writing a step twice stores it once.
-- digits is NULL for secret input such as a PIN.
CREATE TABLE call_steps (
    call_id    bigint      NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    seq        integer     NOT NULL,
    key        text        NOT NULL,
    kind       text        NOT NULL,
    digits     text,
    secret     boolean     NOT NULL DEFAULT false,
    outcome    text        NOT NULL,
    attempt    integer     NOT NULL DEFAULT 1,
    elapsed_ms integer     NOT NULL DEFAULT 0,
    at         timestamptz NOT NULL,
    PRIMARY KEY (call_id, seq),
    CONSTRAINT call_steps_seq_check CHECK (seq >= 1),
    CONSTRAINT call_steps_kind_format CHECK (kind ~ '^[a-z][a-z_]*$'),
    CONSTRAINT call_steps_secret_digits CHECK (NOT secret OR digits IS NULL),
    CONSTRAINT call_steps_outcome_check CHECK (outcome IN ('valid', 'invalid', 'timeout', 'hangup', 'error')),
    CONSTRAINT call_steps_attempt_check CHECK (attempt >= 1),
    CONSTRAINT call_steps_elapsed_check CHECK (elapsed_ms >= 0)
);

CREATE INDEX call_steps_key_outcome_idx ON call_steps (key, outcome, at);
CREATE INDEX call_steps_at_brin ON call_steps USING brin (at);

-- responses are the answers callers gave: menu choices (menu_version_id),
-- survey answers (survey_version_id) and confirmations (neither).
CREATE TABLE responses (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id           bigint      NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    caller_id         bigint      REFERENCES callers (id) ON DELETE SET NULL,
    menu_version_id   bigint      REFERENCES menu_versions (id),
    survey_version_id bigint      REFERENCES survey_versions (id),
    question_key      text        NOT NULL DEFAULT '',
    answer            text        NOT NULL,
    at                timestamptz NOT NULL,
    CONSTRAINT responses_one_source CHECK (num_nonnulls(menu_version_id, survey_version_id) <= 1)
);

CREATE INDEX responses_call_idx ON responses (call_id);
CREATE INDEX responses_caller_at_idx ON responses (caller_id, at) WHERE caller_id IS NOT NULL;
CREATE INDEX responses_menu_version_idx ON responses (menu_version_id, answer) WHERE menu_version_id IS NOT NULL;
CREATE INDEX responses_survey_version_idx ON responses (survey_version_id, question_key, answer) WHERE survey_version_id IS NOT NULL;
CREATE INDEX responses_at_brin ON responses USING brin (at);

-- recordings holds the metadata of each RECORD FILE; path is where Asterisk
-- wrote the file, on the Asterisk host. Deleting a message sets deleted_at.
CREATE TABLE recordings (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id     bigint      NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    caller_id   bigint      REFERENCES callers (id) ON DELETE SET NULL,
    path        text        NOT NULL,
    format      text        NOT NULL,
    endpos      bigint      NOT NULL DEFAULT 0,
    duration_ms integer     NOT NULL DEFAULT 0,
    end_reason  text        NOT NULL,
    end_key     text        NOT NULL DEFAULT '',
    purpose     text        NOT NULL,
    created_at  timestamptz NOT NULL,
    deleted_at  timestamptz,
    CONSTRAINT recordings_path_check CHECK (path <> ''),
    CONSTRAINT recordings_endpos_check CHECK (endpos >= 0),
    CONSTRAINT recordings_duration_check CHECK (duration_ms >= 0),
    CONSTRAINT recordings_end_reason_check CHECK (end_reason IN ('dtmf', 'timeout', 'hangup', 'writefile', 'error')),
    CONSTRAINT recordings_end_key_format CHECK (end_key ~ '^[0-9*#]?$'),
    CONSTRAINT recordings_purpose_check CHECK (purpose IN ('message', 'survey', 'name'))
);

CREATE INDEX recordings_caller_created_idx ON recordings (caller_id, purpose, created_at DESC) WHERE deleted_at IS NULL;
CREATE INDEX recordings_call_idx ON recordings (call_id);
CREATE INDEX recordings_created_at_idx ON recordings (created_at);

-- pin_attempts is the audit trail behind lockouts and reports.
CREATE TABLE pin_attempts (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    caller_id bigint      NOT NULL REFERENCES callers (id) ON DELETE CASCADE,
    call_id   bigint      REFERENCES calls (id) ON DELETE SET NULL,
    success   boolean     NOT NULL,
    at        timestamptz NOT NULL
);

CREATE INDEX pin_attempts_caller_at_idx ON pin_attempts (caller_id, at);
CREATE INDEX pin_attempts_call_idx ON pin_attempts (call_id) WHERE call_id IS NOT NULL;
CREATE INDEX pin_attempts_at_brin ON pin_attempts USING brin (at);

-- +goose Down
DROP TABLE pin_attempts;
DROP TABLE recordings;
DROP TABLE responses;
DROP TABLE call_steps;
DROP TABLE calls;
