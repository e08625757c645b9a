-- MenuVersion returns version @version of menu @key with its options as a JSON
-- array; version 0 means the live version, the newest published one.
-- name: MenuVersion :one
SELECT sqlc.embed(v), m.key,
       coalesce((SELECT jsonb_agg(jsonb_build_object('digits', o.digits, 'action', o.action, 'target', o.target,
                                                     'label', o.label, 'schedule', o.schedule_key,
                                                     'closed', o.closed, 'holiday', o.holiday) ORDER BY o.position, o.digits)
                 FROM menu_options o WHERE o.menu_version_id = v.id), '[]')::jsonb AS options
FROM menu_versions v JOIN menus m ON m.id = v.menu_id
WHERE m.key = @key
  AND (@version::integer = 0 AND v.published_at IS NOT NULL OR v.version = @version::integer)
ORDER BY v.version DESC
LIMIT 1;

-- name: EnsureMenu :one
INSERT INTO menus (key) VALUES (@key)
ON CONFLICT (key) DO UPDATE SET key = excluded.key
RETURNING id;

-- InsertMenuVersion adds the next version of a menu, as a draft.
-- name: InsertMenuVersion :one
INSERT INTO menu_versions (menu_id, version, prompt, invalid_prompt, timeout_prompt, timeout_ms,
                           max_digits, max_attempts, failure_action, failure_target)
SELECT @menu_id, coalesce(max(version), 0) + 1, @prompt, @invalid_prompt, @timeout_prompt, @timeout_ms,
       @max_digits, @max_attempts, @failure_action, @failure_target
FROM menu_versions WHERE menu_id = @menu_id
RETURNING id, version, created_at;

-- UpdateMenuVersion changes a draft; on a published version the database
-- refuses it.
-- name: UpdateMenuVersion :one
UPDATE menu_versions
SET prompt = @prompt, invalid_prompt = @invalid_prompt, timeout_prompt = @timeout_prompt, timeout_ms = @timeout_ms,
    max_digits = @max_digits, max_attempts = @max_attempts, failure_action = @failure_action,
    failure_target = @failure_target
WHERE id = @id
RETURNING id;

-- name: DeleteMenuOptions :exec
DELETE FROM menu_options WHERE menu_version_id = @menu_version_id;

-- name: InsertMenuOptions :exec
INSERT INTO menu_options (menu_version_id, digits, position, action, target, label, schedule_key, closed, holiday)
SELECT @menu_version_id, o.digits, o.position, o.action, o.target, o.label,
       nullif(o.schedule_key, ''), nullif(o.closed, '')::jsonb, nullif(o.holiday, '')::jsonb
FROM (SELECT unnest(@digits::text[]) AS digits, unnest(@positions::integer[]) AS position,
             unnest(@actions::text[]) AS action, unnest(@targets::text[]) AS target,
             unnest(@labels::text[]) AS label, unnest(@schedules::text[]) AS schedule_key,
             unnest(@closeds::text[]) AS closed, unnest(@holidays::text[]) AS holiday) AS o;

-- PublishMenuVersion publishes a draft and returns its id; it returns no row
-- when the version is already published or does not exist.
-- name: PublishMenuVersion :one
UPDATE menu_versions SET published_at = now() WHERE id = @id AND published_at IS NULL RETURNING id;

-- name: MenuVersionPublished :one
SELECT (published_at IS NOT NULL)::boolean AS published FROM menu_versions WHERE id = @id;
