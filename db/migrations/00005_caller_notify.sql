-- +goose Up
-- Every change to what the lookup route answers about a caller (the caller's
-- account, name, language and status, and the caller's phone numbers) is
-- announced on the channel ivr_callers, so that the servers' caches of callers
-- by phone drop what changed (internal/store, CallerCache). The payload is a
-- JSON object: {"caller_id": 12} for a row of callers, {"caller_id": 12,
-- "e164": "+14155550123"} for a phone number (a moved number is announced for
-- both callers). The PIN state (pin_key_id, pin_hash, pin_failures,
-- locked_until) and updated_at change on every PIN attempt and are not
-- announced: the lookup route does not read them. A TRUNCATE, or a NOTIFY
-- ivr_callers with any other payload, empties the caches.

-- +goose StatementBegin
CREATE FUNCTION ivr_notify_caller() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('ivr_callers', jsonb_build_object('caller_id', OLD.id)::text);
    ELSE
        PERFORM pg_notify('ivr_callers', jsonb_build_object('caller_id', NEW.id)::text);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION ivr_notify_caller_phone() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM pg_notify('ivr_callers', jsonb_build_object('caller_id', OLD.caller_id, 'e164', OLD.e164)::text);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM pg_notify('ivr_callers', jsonb_build_object('caller_id', NEW.caller_id, 'e164', NEW.e164)::text);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION ivr_notify_callers_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ivr_callers', '');
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER callers_notify
    AFTER INSERT OR DELETE ON callers
    FOR EACH ROW EXECUTE FUNCTION ivr_notify_caller();

CREATE TRIGGER callers_notify_update
    AFTER UPDATE ON callers
    FOR EACH ROW
    WHEN (OLD.account IS DISTINCT FROM NEW.account
       OR OLD.name IS DISTINCT FROM NEW.name
       OR OLD.language IS DISTINCT FROM NEW.language
       OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION ivr_notify_caller();

CREATE TRIGGER callers_notify_truncate
    AFTER TRUNCATE ON callers
    FOR EACH STATEMENT EXECUTE FUNCTION ivr_notify_callers_truncated();

CREATE TRIGGER caller_phones_notify
    AFTER INSERT OR UPDATE OR DELETE ON caller_phones
    FOR EACH ROW EXECUTE FUNCTION ivr_notify_caller_phone();

CREATE TRIGGER caller_phones_notify_truncate
    AFTER TRUNCATE ON caller_phones
    FOR EACH STATEMENT EXECUTE FUNCTION ivr_notify_callers_truncated();

-- +goose Down
DROP TRIGGER caller_phones_notify_truncate ON caller_phones;
DROP TRIGGER caller_phones_notify ON caller_phones;
DROP TRIGGER callers_notify_truncate ON callers;
DROP TRIGGER callers_notify_update ON callers;
DROP TRIGGER callers_notify ON callers;
DROP FUNCTION ivr_notify_callers_truncated();
DROP FUNCTION ivr_notify_caller_phone();
DROP FUNCTION ivr_notify_caller();
