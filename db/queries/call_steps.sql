-- name: CallSteps :many
SELECT * FROM call_steps WHERE call_id = @call_id ORDER BY seq;

-- AppendSteps writes steps of any calls in one statement; a step already
-- written (same call and seq) is left as it is, and digits of a secret step
-- are not stored. The arrays are parallel, one element per step.
-- name: AppendSteps :exec
INSERT INTO call_steps (call_id, seq, key, kind, digits, secret, outcome, attempt, elapsed_ms, at)
SELECT s.call_id, s.seq, s.key, s.kind, CASE WHEN s.secret THEN NULL ELSE s.digits END,
       s.secret, s.outcome, s.attempt, s.elapsed_ms, s.at
FROM (SELECT unnest(@call_ids::bigint[]) AS call_id, unnest(@seqs::integer[]) AS seq,
             unnest(@keys::text[]) AS key, unnest(@kinds::text[]) AS kind,
             unnest(@digits::text[]) AS digits, unnest(@secrets::boolean[]) AS secret,
             unnest(@outcomes::text[]) AS outcome, unnest(@attempts::integer[]) AS attempt,
             unnest(@elapsed_ms::integer[]) AS elapsed_ms, unnest(@ats::timestamptz[]) AS at) AS s
ON CONFLICT (call_id, seq) DO NOTHING;
