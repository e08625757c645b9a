-- WriteJournal stores the journal writes of many calls in one statement:
-- steps (a step already written, same call and seq, is left as it is, and the
-- digits of a secret step are not stored), responses, and call rows closed (a
-- call already closed stays as it was; answered_at is taken only where
-- end_answered is true). It returns the IDs among end_ids of the calls that
-- exist. Each group of arrays is parallel: one element per step, per response,
-- per call closed. Each names its call by ID and start (the *_call_started_ats),
-- which leads it to the partitions of its call's month. ends_from and ends_to
-- are the earliest and latest start of the calls closed (NULL when none is):
-- they let the planner keep the call rows' update to the partitions of those
-- calls instead of every month's.
-- name: WriteJournal :many
WITH steps AS (
    INSERT INTO call_steps (call_id, seq, key, kind, digits, secret, outcome, attempt, elapsed_ms, at, call_started_at)
    SELECT s.call_id, s.seq, s.key, s.kind, CASE WHEN s.secret THEN NULL ELSE s.digits END,
           s.secret, s.outcome, s.attempt, s.elapsed_ms, s.at, s.call_started_at
    FROM (SELECT unnest(@step_call_ids::bigint[]) AS call_id,
                 unnest(@step_call_started_ats::timestamptz[]) AS call_started_at, unnest(@step_seqs::integer[]) AS seq,
                 unnest(@step_keys::text[]) AS key, unnest(@step_kinds::text[]) AS kind,
                 unnest(@step_digits::text[]) AS digits, unnest(@step_secrets::boolean[]) AS secret,
                 unnest(@step_outcomes::text[]) AS outcome, unnest(@step_attempts::integer[]) AS attempt,
                 unnest(@step_elapsed_ms::integer[]) AS elapsed_ms, unnest(@step_ats::timestamptz[]) AS at) AS s
    ON CONFLICT (call_id, seq, call_started_at) DO NOTHING
), responses AS (
    INSERT INTO responses (call_id, caller_id, menu_version_id, survey_version_id, question_key, answer, at, call_started_at)
    SELECT r.call_id, nullif(r.caller_id, 0), nullif(r.menu_version_id, 0), nullif(r.survey_version_id, 0),
           r.question_key, r.answer, r.at, r.call_started_at
    FROM (SELECT unnest(@response_call_ids::bigint[]) AS call_id,
                 unnest(@response_call_started_ats::timestamptz[]) AS call_started_at,
                 unnest(@response_caller_ids::bigint[]) AS caller_id,
                 unnest(@response_menu_version_ids::bigint[]) AS menu_version_id,
                 unnest(@response_survey_version_ids::bigint[]) AS survey_version_id,
                 unnest(@response_question_keys::text[]) AS question_key, unnest(@response_answers::text[]) AS answer,
                 unnest(@response_ats::timestamptz[]) AS at) AS r
), e AS (
    SELECT unnest(@end_ids::bigint[]) AS id, unnest(@end_call_started_ats::timestamptz[]) AS started_at,
           unnest(@end_ats::timestamptz[]) AS ended_at,
           unnest(@end_reasons::text[]) AS end_reason, unnest(@end_answered::boolean[]) AS answered,
           unnest(@end_answered_ats::timestamptz[]) AS answered_at, unnest(@end_linkedids::text[]) AS linkedid,
           unnest(@end_caller_ids::bigint[]) AS caller_id, unnest(@end_authenticated::boolean[]) AS authenticated,
           unnest(@end_menu_version_ids::bigint[]) AS menu_version_id
), closed AS (
    UPDATE calls
    SET ended_at        = e.ended_at,
        end_reason      = e.end_reason,
        answered_at     = CASE WHEN e.answered THEN e.answered_at ELSE calls.answered_at END,
        linkedid        = coalesce(nullif(e.linkedid, ''), calls.linkedid),
        caller_id       = coalesce(nullif(e.caller_id, 0), calls.caller_id),
        authenticated   = e.authenticated,
        menu_version_id = coalesce(nullif(e.menu_version_id, 0), calls.menu_version_id)
    FROM e
    WHERE calls.id = e.id AND calls.started_at = e.started_at AND calls.ended_at IS NULL
      AND calls.started_at BETWEEN sqlc.narg('ends_from')::timestamptz AND sqlc.narg('ends_to')::timestamptz
    RETURNING calls.id
)
SELECT calls.id FROM calls JOIN e ON e.id = calls.id AND calls.started_at = e.started_at
WHERE calls.started_at BETWEEN sqlc.narg('ends_from')::timestamptz AND sqlc.narg('ends_to')::timestamptz;
