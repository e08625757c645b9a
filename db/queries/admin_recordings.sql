-- Queries of the operator commands on recordings (ivr recordings ...).

-- AdminListRecordings pages through recordings, newest first. Filters are
-- optional: the caller's account, created before a time, and whether deleted
-- ones are included.
-- name: AdminListRecordings :many
SELECT sqlc.embed(r), coalesce(c.account, '')::text AS account
FROM recordings r LEFT JOIN callers c ON c.id = r.caller_id
WHERE (sqlc.narg('account')::text IS NULL OR c.account = sqlc.narg('account')::text)
  AND (sqlc.narg('before')::timestamptz IS NULL OR r.created_at < sqlc.narg('before')::timestamptz)
  AND (@include_deleted::boolean OR r.deleted_at IS NULL)
ORDER BY r.created_at DESC, r.id DESC
LIMIT @lim OFFSET @off;

-- name: AdminRecording :one
SELECT sqlc.embed(r), coalesce(c.account, '')::text AS account
FROM recordings r LEFT JOIN callers c ON c.id = r.caller_id
WHERE r.id = @id;

-- AdminCountPurge counts what AdminPurgeRecordings would go through.
-- name: AdminCountPurge :one
SELECT count(*) FROM recordings
WHERE created_at < @before AND (deleted_at IS NULL OR @include_deleted::boolean);

-- AdminPurgeRecordings marks up to @lim recordings made before @before deleted,
-- in id order after @after_id, and returns them. With @include_deleted it also
-- returns those deleted earlier, so that their files can go too.
-- name: AdminPurgeRecordings :many
UPDATE recordings r SET deleted_at = coalesce(r.deleted_at, @at::timestamptz)
WHERE r.id IN (
    SELECT x.id FROM recordings x
    WHERE x.created_at < @before AND x.id > @after_id AND (x.deleted_at IS NULL OR @include_deleted::boolean)
    ORDER BY x.id
    LIMIT @lim)
RETURNING r.*;
