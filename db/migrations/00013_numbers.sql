-- +goose Up
-- schedules are the opening hours of the dialled numbers, as code: apply
-- replaces them all from a YAML file. rules holds the weekly hours, holidays
-- and exceptions in the form internal/schedule reads (Schedule's JSON), with
-- time_zone, an IANA zone name, repeated in it.
CREATE TABLE schedules (
    key        text        NOT NULL,
    time_zone  text        NOT NULL,
    rules      jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT schedules_pkey PRIMARY KEY (key),
    CONSTRAINT schedules_key_format CHECK (key ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
    CONSTRAINT schedules_time_zone_check CHECK (time_zone <> ''),
    CONSTRAINT schedules_rules_check CHECK (jsonb_typeof(rules) = 'object')
);

-- numbers maps a dialled number (E.164, or an extension as dialled) to the
-- menu the ivr route starts with, the channel's default language and, when
-- the number keeps hours, its schedule and what a caller gets when it is
-- closed or on holiday (a branch: {"action": "menu"|"message"|"record"|
-- "transfer", "target": ..., "prompt": ...}; holiday NULL means as closed).
CREATE TABLE numbers (
    number       text        NOT NULL,
    menu_key     text        NOT NULL,
    language     text        NOT NULL DEFAULT '',
    schedule_key text,
    closed       jsonb,
    holiday      jsonb,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT numbers_pkey PRIMARY KEY (number),
    CONSTRAINT numbers_number_format CHECK (number ~ '^(\+[1-9][0-9]{6,14}|[0-9*#]{1,20})$'),
    CONSTRAINT numbers_menu_key_fkey FOREIGN KEY (menu_key) REFERENCES menus (key),
    CONSTRAINT numbers_schedule_key_fkey FOREIGN KEY (schedule_key) REFERENCES schedules (key),
    CONSTRAINT numbers_language_check CHECK (language ~ '^([a-z]{2,3}(_[A-Za-z0-9]{2,8})*)?$'),
    CONSTRAINT numbers_schedule_branches CHECK (
        (schedule_key IS NULL AND closed IS NULL AND holiday IS NULL)
        OR (schedule_key IS NOT NULL
            AND coalesce(closed ->> 'action' IN ('menu', 'message', 'record', 'transfer'), false)
            AND (holiday IS NULL OR coalesce(holiday ->> 'action' IN ('menu', 'message', 'record', 'transfer'), false))))
);

CREATE INDEX numbers_schedule_key_idx ON numbers (schedule_key) WHERE schedule_key IS NOT NULL;
CREATE INDEX numbers_menu_key_idx ON numbers (menu_key);

-- A change to either announces itself on ivr_catalog, as menus and surveys
-- do (00006_catalog_notify.sql): the ivr route reads both on every call
-- through the catalog cache.
CREATE TRIGGER schedules_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON schedules
    FOR EACH STATEMENT EXECUTE FUNCTION ivr_notify_catalog();
CREATE TRIGGER numbers_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON numbers
    FOR EACH STATEMENT EXECUTE FUNCTION ivr_notify_catalog();

-- +goose Down
DROP TABLE numbers;
DROP TABLE schedules;
