-- +goose Up
-- Callers are the people the IVR knows, by account number and phone numbers.
-- The PIN is kept only as a keyed hash (HMAC-SHA-256) with the id of the key
-- that made it, so server keys can rotate.
CREATE TABLE callers (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account      text        NOT NULL,
    name         text        NOT NULL DEFAULT '',
    language     text        NOT NULL DEFAULT '',
    status       text        NOT NULL DEFAULT 'active',
    pin_key_id   text,
    pin_hash     bytea,
    pin_failures integer     NOT NULL DEFAULT 0,
    locked_until timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT callers_account_key UNIQUE (account),
    CONSTRAINT callers_account_digits CHECK (account ~ '^[0-9]{1,20}$'),
    CONSTRAINT callers_language_check CHECK (language ~ '^([a-z]{2,3}(_[A-Za-z0-9]{2,8})*)?$'),
    CONSTRAINT callers_status_check CHECK (status IN ('active', 'disabled')),
    CONSTRAINT callers_pin_pair CHECK ((pin_key_id IS NULL) = (pin_hash IS NULL)),
    CONSTRAINT callers_pin_failures_check CHECK (pin_failures >= 0)
);

-- A caller has one or more phone numbers in E.164; a number belongs to one
-- caller at most.
CREATE TABLE caller_phones (
    caller_id  bigint      NOT NULL REFERENCES callers (id) ON DELETE CASCADE,
    e164       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller_id, e164),
    CONSTRAINT caller_phones_e164_key UNIQUE (e164),
    CONSTRAINT caller_phones_e164_format CHECK (e164 ~ '^\+[1-9][0-9]{6,14}$')
);

CREATE INDEX callers_created_at_idx ON callers (created_at);
CREATE INDEX callers_locked_until_idx ON callers (locked_until) WHERE locked_until IS NOT NULL;

-- +goose Down
DROP TABLE caller_phones;
DROP TABLE callers;
