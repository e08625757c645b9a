-- name: CallResponses :many
SELECT * FROM responses WHERE call_id = @call_id ORDER BY at, id;
