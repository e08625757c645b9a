-- AppendStep writes one step; a step already written (same call and seq) is
-- left as it is. Digits of a secret step are not stored.
-- name: AppendStep :exec
INSERT INTO call_steps (call_id, seq, key, kind, digits, secret, outcome, attempt, elapsed_ms, at)
VALUES (@call_id, @seq, @key, @kind, CASE WHEN @secret::boolean THEN NULL ELSE @digits::text END,
        @secret::boolean, @outcome, @attempt, @elapsed_ms, @at)
ON CONFLICT (call_id, seq) DO NOTHING;

-- name: CallSteps :many
SELECT * FROM call_steps WHERE call_id = @call_id ORDER BY seq;
