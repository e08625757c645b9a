-- Queries of the operator commands on callers (ivr callers ...).

-- AdminListCallers pages through callers in account order. Every filter is
-- optional: account prefix, part of the name (any case), part of a number,
-- status, and locked (true: locked now, false: not locked now).
-- name: AdminListCallers :many
SELECT sqlc.embed(c),
       array(SELECT p.e164 FROM caller_phones p WHERE p.caller_id = c.id ORDER BY p.created_at, p.e164)::text[] AS phones
FROM callers c
WHERE c.account > @after
  AND (sqlc.narg('account_prefix')::text IS NULL OR starts_with(c.account, sqlc.narg('account_prefix')::text))
  AND (sqlc.narg('name')::text IS NULL OR c.name ILIKE '%' || sqlc.narg('name')::text || '%')
  AND (sqlc.narg('phone')::text IS NULL OR EXISTS (
        SELECT 1 FROM caller_phones q WHERE q.caller_id = c.id AND strpos(q.e164, sqlc.narg('phone')::text) > 0))
  AND (sqlc.narg('status')::text IS NULL OR c.status = sqlc.narg('status')::text)
  AND (sqlc.narg('locked')::boolean IS NULL OR (c.locked_until IS NOT NULL AND c.locked_until > now()) = sqlc.narg('locked')::boolean)
ORDER BY c.account
LIMIT @lim OFFSET @off;

-- AdminInsertCallers inserts many callers at once; an empty pin key id means
-- no PIN. It returns the new ids with their accounts.
-- name: AdminInsertCallers :many
INSERT INTO callers (account, name, language, status, pin_key_id, pin_hash, pin_version)
SELECT a, n, l, s, nullif(k, ''), CASE WHEN k = '' THEN NULL ELSE h END, v
FROM (SELECT unnest(@accounts::text[]) AS a, unnest(@names::text[]) AS n, unnest(@languages::text[]) AS l,
             unnest(@statuses::text[]) AS s, unnest(@pin_key_ids::text[]) AS k, unnest(@pin_hashes::bytea[]) AS h,
             unnest(@pin_versions::smallint[]) AS v) AS t
RETURNING id, account;

-- name: AdminInsertPhones :exec
INSERT INTO caller_phones (caller_id, e164)
SELECT unnest(@caller_ids::bigint[]), unnest(@numbers::text[]);

-- name: AdminDeletePhones :exec
DELETE FROM caller_phones WHERE caller_id = @caller_id;

-- name: AdminTakenAccounts :many
SELECT account FROM callers WHERE account = ANY(@accounts::text[]);

-- name: AdminTakenNumbers :many
SELECT p.e164, c.account
FROM caller_phones p JOIN callers c ON c.id = p.caller_id
WHERE p.e164 = ANY(@numbers::text[]);

-- AdminUpdateCaller changes the fields given (NULL keeps the current value).
-- name: AdminUpdateCaller :one
UPDATE callers
SET name       = coalesce(sqlc.narg('name')::text, name),
    language   = coalesce(sqlc.narg('language')::text, language),
    status     = coalesce(sqlc.narg('status')::text, status),
    updated_at = now()
WHERE account = @account
RETURNING id;

-- name: AdminDeleteCaller :execrows
DELETE FROM callers WHERE account = @account;

-- name: AdminSetPIN :execrows
UPDATE callers
SET pin_key_id = @pin_key_id, pin_hash = @pin_hash, pin_version = @pin_version,
    pin_failures = 0, locked_until = NULL, updated_at = now()
WHERE account = @account;

-- name: AdminUnlockCaller :execrows
UPDATE callers
SET pin_failures = 0, locked_until = NULL, updated_at = now()
WHERE account = @account;

-- AdminPINKeys counts the callers with a PIN per key id and hash version, to
-- see when no hash of an old key is left and the key can be retired.
-- name: AdminPINKeys :many
SELECT pin_key_id::text AS key_id, pin_version, count(*) AS callers
FROM callers
WHERE pin_key_id IS NOT NULL
GROUP BY pin_key_id, pin_version
ORDER BY pin_key_id, pin_version;
