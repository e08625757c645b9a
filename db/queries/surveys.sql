-- SurveyVersion returns version @version of survey @key with its questions as
-- a JSON array; version 0 means the live version, the newest published one.
-- name: SurveyVersion :one
SELECT sqlc.embed(v), s.key,
       coalesce((SELECT jsonb_agg(jsonb_build_object('position', q.position, 'key', q.key, 'prompt', q.prompt,
                                                     'allowed_digits', q.allowed_digits, 'range_min', q.range_min,
                                                     'range_max', q.range_max, 'required', q.required)
                                  ORDER BY q.position)
                 FROM survey_questions q WHERE q.survey_version_id = v.id), '[]')::jsonb AS questions
FROM survey_versions v JOIN surveys s ON s.id = v.survey_id
WHERE s.key = @key
  AND (@version::integer = 0 AND v.published_at IS NOT NULL OR v.version = @version::integer)
ORDER BY v.version DESC
LIMIT 1;

-- name: EnsureSurvey :one
INSERT INTO surveys (key) VALUES (@key)
ON CONFLICT (key) DO UPDATE SET key = excluded.key
RETURNING id;

-- InsertSurveyVersion adds the next version of a survey, as a draft.
-- name: InsertSurveyVersion :one
INSERT INTO survey_versions (survey_id, version, intro_prompt, thank_you_prompt)
SELECT @survey_id, coalesce(max(version), 0) + 1, @intro_prompt, @thank_you_prompt
FROM survey_versions WHERE survey_id = @survey_id
RETURNING id, version, created_at;

-- UpdateSurveyVersion changes a draft; on a published version the database
-- refuses it.
-- name: UpdateSurveyVersion :one
UPDATE survey_versions SET intro_prompt = @intro_prompt, thank_you_prompt = @thank_you_prompt
WHERE id = @id
RETURNING id;

-- name: DeleteSurveyQuestions :exec
DELETE FROM survey_questions WHERE survey_version_id = @survey_version_id;

-- InsertSurveyQuestions adds questions; a question with has_range false has
-- no range (range_min and range_max NULL).
-- name: InsertSurveyQuestions :exec
INSERT INTO survey_questions (survey_version_id, position, key, prompt, allowed_digits, range_min, range_max, required)
SELECT @survey_version_id, q.position, q.key, q.prompt, q.allowed_digits,
       CASE WHEN q.has_range THEN q.range_min END, CASE WHEN q.has_range THEN q.range_max END, q.required
FROM (SELECT unnest(@positions::integer[]) AS position, unnest(@keys::text[]) AS key,
             unnest(@prompts::text[]) AS prompt, unnest(@allowed_digits::text[]) AS allowed_digits,
             unnest(@has_range::boolean[]) AS has_range, unnest(@range_mins::integer[]) AS range_min,
             unnest(@range_maxes::integer[]) AS range_max, unnest(@required::boolean[]) AS required) AS q;

-- PublishSurveyVersion publishes a draft and returns its id; it returns no row
-- when the version is already published or does not exist.
-- name: PublishSurveyVersion :one
UPDATE survey_versions SET published_at = now() WHERE id = @id AND published_at IS NULL RETURNING id;

-- name: SurveyVersionPublished :one
SELECT (published_at IS NOT NULL)::boolean AS published FROM survey_versions WHERE id = @id;
