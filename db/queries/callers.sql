-- name: CallerByAccount :one
SELECT sqlc.embed(c),
       array(SELECT q.e164 FROM caller_phones q WHERE q.caller_id = c.id ORDER BY q.created_at, q.e164)::text[] AS phones
FROM callers c
WHERE c.account = @account;

-- name: CallerByID :one
SELECT sqlc.embed(c),
       array(SELECT q.e164 FROM caller_phones q WHERE q.caller_id = c.id ORDER BY q.created_at, q.e164)::text[] AS phones
FROM callers c
WHERE c.id = @id;

-- name: InsertCaller :one
INSERT INTO callers (account, name, language, status, pin_key_id, pin_hash, pin_version)
VALUES (@account, @name, @language, @status, sqlc.narg('pin_key_id'), sqlc.narg('pin_hash'), @pin_version)
RETURNING *;

-- name: InsertPhone :exec
INSERT INTO caller_phones (caller_id, e164) VALUES (@caller_id, @e164);

-- CallersByPhones finds the callers owning any of many E.164 numbers; each
-- row names the number it was found by.
-- name: CallersByPhones :many
SELECT p.e164 AS found_by, sqlc.embed(c),
       array(SELECT q.e164 FROM caller_phones q WHERE q.caller_id = c.id ORDER BY q.created_at, q.e164)::text[] AS phones
FROM caller_phones p JOIN callers c ON c.id = p.caller_id
WHERE p.e164 = ANY(@e164s::text[]);
