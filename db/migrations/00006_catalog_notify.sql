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

-- One trigger a table, named after it: menus_notify, menu_versions_notify ...
-- +goose StatementBegin
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['menus', 'menu_versions', 'menu_options', 'surveys', 'survey_versions', 'survey_questions'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION ivr_notify_catalog()', t || '_notify', t);
    END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- Each trigger by name, then the function: nothing else that happens to use
-- the function goes with it.
DROP TRIGGER survey_questions_notify ON survey_questions;
DROP TRIGGER survey_versions_notify ON survey_versions;
DROP TRIGGER surveys_notify ON surveys;
DROP TRIGGER menu_options_notify ON menu_options;
DROP TRIGGER menu_versions_notify ON menu_versions;
DROP TRIGGER menus_notify ON menus;
DROP FUNCTION ivr_notify_catalog();
