-- name: InsertResponse :exec
INSERT INTO responses (call_id, caller_id, menu_version_id, survey_version_id, question_key, answer, at)
VALUES (@call_id, nullif(@caller_id::bigint, 0), nullif(@menu_version_id::bigint, 0),
        nullif(@survey_version_id::bigint, 0), @question_key, @answer, @at);

-- name: CallResponses :many
SELECT * FROM responses WHERE call_id = @call_id ORDER BY at, id;

-- InsertResponses stores many answers in one statement, like InsertResponse
-- for each; the arrays are parallel, one element per answer.
-- name: InsertResponses :exec
INSERT INTO responses (call_id, caller_id, menu_version_id, survey_version_id, question_key, answer, at)
SELECT r.call_id, nullif(r.caller_id, 0), nullif(r.menu_version_id, 0), nullif(r.survey_version_id, 0),
       r.question_key, r.answer, r.at
FROM (SELECT unnest(@call_ids::bigint[]) AS call_id, unnest(@caller_ids::bigint[]) AS caller_id,
             unnest(@menu_version_ids::bigint[]) AS menu_version_id,
             unnest(@survey_version_ids::bigint[]) AS survey_version_id,
             unnest(@question_keys::text[]) AS question_key, unnest(@answers::text[]) AS answer,
             unnest(@ats::timestamptz[]) AS at) AS r;
