-- +goose Up
-- pin_version says what the HMAC of pin_hash covers: 1 the PIN alone (the
-- hashes made before this migration), 2 the caller's account and the PIN, so
-- two callers with one PIN have different hashes. A version 1 hash is replaced
-- by a version 2 one the next time its caller enters the right PIN.
ALTER TABLE callers ADD COLUMN pin_version smallint NOT NULL DEFAULT 1;
ALTER TABLE callers ALTER COLUMN pin_version SET DEFAULT 2;
ALTER TABLE callers ADD CONSTRAINT callers_pin_version_check CHECK (pin_version IN (1, 2));

-- A PIN entered for an account that does not exist is audited too, with no
-- caller: it costs the database the same writes as one on a real account, so
-- a caller cannot time the answer to learn which accounts exist.
ALTER TABLE pin_attempts ALTER COLUMN caller_id DROP NOT NULL;

-- +goose Down
DELETE FROM pin_attempts WHERE caller_id IS NULL;
ALTER TABLE pin_attempts ALTER COLUMN caller_id SET NOT NULL;
ALTER TABLE callers DROP COLUMN pin_version;
