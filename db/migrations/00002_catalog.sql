-- +goose Up
-- Menus and surveys are versioned. A version is a draft until it is published;
-- a published version never changes again (the triggers below refuse it with
-- SQLSTATE IV001), so a call can name exactly the version it heard. The live
-- version of a key is its newest published one.

-- +goose StatementBegin
CREATE FUNCTION ivr_refuse_published_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'version % in % is published and cannot change', OLD.id, TG_TABLE_NAME
        USING ERRCODE = 'IV001', HINT = 'create a new version instead';
END
$$;
-- +goose StatementEnd

-- ivr_refuse_published_child guards the rows that make up a version (options,
-- questions). TG_ARGV[0] names the version table, TG_ARGV[1] the column of the
-- child row that references it.
-- +goose StatementBegin
CREATE FUNCTION ivr_refuse_published_child() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids       bigint[] := '{}';
    published boolean;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        ids := ids || (to_jsonb(OLD) ->> TG_ARGV[1])::bigint;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        ids := ids || (to_jsonb(NEW) ->> TG_ARGV[1])::bigint;
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE id = ANY($1) AND published_at IS NOT NULL)', TG_ARGV[0])
        INTO published USING ids;
    IF published THEN
        RAISE EXCEPTION 'a published version in % cannot change', TG_ARGV[0]
            USING ERRCODE = 'IV001', HINT = 'create a new version instead';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TABLE menus (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key        text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT menus_key_key UNIQUE (key),
    CONSTRAINT menus_key_format CHECK (key ~ '^[a-z0-9][a-z0-9_.-]{0,62}$')
);

CREATE TABLE menu_versions (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    menu_id        bigint      NOT NULL REFERENCES menus (id),
    version        integer     NOT NULL,
    prompt         text        NOT NULL,
    invalid_prompt text        NOT NULL DEFAULT '',
    timeout_prompt text        NOT NULL DEFAULT '',
    timeout_ms     integer     NOT NULL,
    max_digits     integer     NOT NULL,
    max_attempts   integer     NOT NULL,
    failure_action text        NOT NULL DEFAULT 'hangup',
    failure_target text        NOT NULL DEFAULT '',
    published_at   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT menu_versions_menu_version_key UNIQUE (menu_id, version),
    CONSTRAINT menu_versions_version_check CHECK (version >= 1),
    CONSTRAINT menu_versions_timeout_check CHECK (timeout_ms > 0),
    CONSTRAINT menu_versions_max_digits_check CHECK (max_digits BETWEEN 1 AND 32),
    CONSTRAINT menu_versions_max_attempts_check CHECK (max_attempts >= 1),
    CONSTRAINT menu_versions_failure_action_check CHECK (failure_action IN ('operator', 'hangup', 'transfer', 'submenu'))
);

CREATE INDEX menu_versions_published_idx ON menu_versions (menu_id, version DESC) WHERE published_at IS NOT NULL;

CREATE TABLE menu_options (
    menu_version_id bigint  NOT NULL REFERENCES menu_versions (id) ON DELETE CASCADE,
    digits          text    NOT NULL,
    position        integer NOT NULL,
    action          text    NOT NULL,
    target          text    NOT NULL DEFAULT '',
    label           text    NOT NULL DEFAULT '',
    PRIMARY KEY (menu_version_id, digits),
    CONSTRAINT menu_options_digits_format CHECK (digits ~ '^[0-9*#]{1,32}$'),
    CONSTRAINT menu_options_action_check CHECK (action IN (
        'submenu', 'record', 'survey', 'play_messages', 'change_pin',
        'transfer', 'operator', 'repeat', 'hangup'))
);

CREATE TRIGGER menu_versions_immutable
    BEFORE UPDATE OR DELETE ON menu_versions
    FOR EACH ROW WHEN (OLD.published_at IS NOT NULL)
    EXECUTE FUNCTION ivr_refuse_published_change();

CREATE TRIGGER menu_options_immutable
    BEFORE INSERT OR UPDATE OR DELETE ON menu_options
    FOR EACH ROW EXECUTE FUNCTION ivr_refuse_published_child('menu_versions', 'menu_version_id');

CREATE TABLE surveys (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key        text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT surveys_key_key UNIQUE (key),
    CONSTRAINT surveys_key_format CHECK (key ~ '^[a-z0-9][a-z0-9_.-]{0,62}$')
);

CREATE TABLE survey_versions (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    survey_id        bigint      NOT NULL REFERENCES surveys (id),
    version          integer     NOT NULL,
    intro_prompt     text        NOT NULL DEFAULT '',
    thank_you_prompt text        NOT NULL DEFAULT '',
    published_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT survey_versions_survey_version_key UNIQUE (survey_id, version),
    CONSTRAINT survey_versions_version_check CHECK (version >= 1)
);

CREATE INDEX survey_versions_published_idx ON survey_versions (survey_id, version DESC) WHERE published_at IS NOT NULL;

-- A question's valid answers are either single keys (allowed_digits) or an
-- inclusive numeric range, never both.
CREATE TABLE survey_questions (
    survey_version_id bigint  NOT NULL REFERENCES survey_versions (id) ON DELETE CASCADE,
    position          integer NOT NULL,
    key               text    NOT NULL,
    prompt            text    NOT NULL,
    allowed_digits    text    NOT NULL DEFAULT '',
    range_min         integer,
    range_max         integer,
    required          boolean NOT NULL DEFAULT true,
    PRIMARY KEY (survey_version_id, position),
    CONSTRAINT survey_questions_key_key UNIQUE (survey_version_id, key),
    CONSTRAINT survey_questions_position_check CHECK (position >= 1),
    CONSTRAINT survey_questions_allowed_digits_format CHECK (allowed_digits ~ '^[0-9*#]*$'),
    CONSTRAINT survey_questions_range_pair CHECK ((range_min IS NULL) = (range_max IS NULL)),
    CONSTRAINT survey_questions_range_order CHECK (range_min <= range_max),
    CONSTRAINT survey_questions_one_answer_kind CHECK ((allowed_digits <> '') <> (range_min IS NOT NULL))
);

CREATE TRIGGER survey_versions_immutable
    BEFORE UPDATE OR DELETE ON survey_versions
    FOR EACH ROW WHEN (OLD.published_at IS NOT NULL)
    EXECUTE FUNCTION ivr_refuse_published_change();

CREATE TRIGGER survey_questions_immutable
    BEFORE INSERT OR UPDATE OR DELETE ON survey_questions
    FOR EACH ROW EXECUTE FUNCTION ivr_refuse_published_child('survey_versions', 'survey_version_id');

-- +goose Down
DROP TABLE survey_questions;
DROP TABLE survey_versions;
DROP TABLE surveys;
DROP TABLE menu_options;
DROP TABLE menu_versions;
DROP TABLE menus;
DROP FUNCTION ivr_refuse_published_child();
DROP FUNCTION ivr_refuse_published_change();
