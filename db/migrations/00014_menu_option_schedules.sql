-- +goose Up
-- A menu option may keep hours: while its schedule (schedule_key, a key of
-- schedules) is closed or on holiday, choosing it runs the closed or holiday
-- branch instead of its action, in the form of the numbers' branches
-- (00013_numbers.sql). No foreign key: a published version never changes,
-- so it would keep a schedule from ever being deleted; ivr schedules apply
-- refuses to delete a schedule an option names instead.
ALTER TABLE menu_options
    ADD COLUMN schedule_key text,
    ADD COLUMN closed jsonb,
    ADD COLUMN holiday jsonb,
    ADD CONSTRAINT menu_options_schedule_branches CHECK (
        (schedule_key IS NULL AND closed IS NULL AND holiday IS NULL)
        OR (schedule_key IS NOT NULL
            AND coalesce(closed ->> 'action' IN ('menu', 'message', 'record', 'transfer'), false)
            AND (holiday IS NULL OR coalesce(holiday ->> 'action' IN ('menu', 'message', 'record', 'transfer'), false))));

-- +goose Down
ALTER TABLE menu_options
    DROP CONSTRAINT menu_options_schedule_branches,
    DROP COLUMN holiday,
    DROP COLUMN closed,
    DROP COLUMN schedule_key;
