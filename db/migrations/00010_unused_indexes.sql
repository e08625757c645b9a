-- +goose Up
-- The BRIN indexes on the bare timestamps of call_steps, responses and
-- pin_attempts serve no query: the reports filter on the UTC day, which the
-- day BRINs of 00004_reports.sql cover, and the other reads go by call or
-- caller. Each insert still paid for them.
-- calls_open_idx stays: the sweep of lost calls finds the open rows started
-- before a time through it. calls_end_reason_started_idx stays: the PIN
-- security report finds the locked-out calls of its days through it, beside
-- calls_day_brin.
DROP INDEX call_steps_at_brin;
DROP INDEX responses_at_brin;
DROP INDEX pin_attempts_at_brin;

-- +goose Down
CREATE INDEX call_steps_at_brin ON call_steps USING brin (at);
CREATE INDEX responses_at_brin ON responses USING brin (at);
CREATE INDEX pin_attempts_at_brin ON pin_attempts USING brin (at);
