-- name: CallSteps :many
SELECT * FROM call_steps WHERE call_id = @call_id ORDER BY seq;
