-- name: InsertResponse :exec
INSERT INTO responses (call_id, caller_id, menu_version_id, survey_version_id, question_key, answer, at)
VALUES (@call_id, nullif(@caller_id::bigint, 0), nullif(@menu_version_id::bigint, 0),
        nullif(@survey_version_id::bigint, 0), @question_key, @answer, @at);

-- name: CallResponses :many
SELECT * FROM responses WHERE call_id = @call_id ORDER BY at, id;
