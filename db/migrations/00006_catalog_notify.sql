-- +goose Up
-- Every change to the menus and surveys (their keys, versions, options and
-- questions, a publish included) is announced on the channel ivr_catalog, so
-- that the servers' caches of the live menus and surveys empty themselves
-- (internal/store, CatalogCache). The catalog changes rarely, when an operator
-- creates, edits or publishes a version or changes rows by hand, so the
-- announcement does not say what changed: the payload is empty, and any change
-- empties the caches. The triggers run once per statement, however many rows
-- it touches (none included), and after a TRUNCATE too.

-- +goose StatementBegin
CREATE FUNCTION ivr_notify_catalog() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ivr_catalog', '');
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER menus_notify
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON menus
    FOR EACH STATEMENT EXECUTE FUNCTION ivr_notify_catalog();

CREATE TRIGGER menu_versions_notify
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON menu_versions
    FOR EACH STATEMENT EXECUTE FUNCTION ivr_notify_catalog();

CREATE TRIGGER menu_options_notify
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON menu_options
    FOR EACH STATEMENT EXECUTE FUNCTION ivr_notify_catalog();

CREATE TRIGGER surveys_notify
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON surveys
    FOR EACH STATEMENT EXECUTE FUNCTION ivr_notify_catalog();

CREATE TRIGGER survey_versions_notify
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON survey_versions
    FOR EACH STATEMENT EXECUTE FUNCTION ivr_notify_catalog();

CREATE TRIGGER survey_questions_notify
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON survey_questions
    FOR EACH STATEMENT EXECUTE FUNCTION ivr_notify_catalog();

-- +goose Down
DROP TRIGGER survey_questions_notify ON survey_questions;
DROP TRIGGER survey_versions_notify ON survey_versions;
DROP TRIGGER surveys_notify ON surveys;
DROP TRIGGER menu_options_notify ON menu_options;
DROP TRIGGER menu_versions_notify ON menu_versions;
DROP TRIGGER menus_notify ON menus;
DROP FUNCTION ivr_notify_catalog();
