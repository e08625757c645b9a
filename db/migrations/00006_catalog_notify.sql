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
-- Dropping the function drops the triggers that use it.
DROP FUNCTION ivr_notify_catalog() CASCADE;
