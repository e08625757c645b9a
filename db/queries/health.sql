-- ReadOnly reports whether the server refuses writes on this connection: a
-- standby in recovery, or a server, database or role whose transactions are
-- read-only by default.
-- name: ReadOnly :one
SELECT (pg_is_in_recovery() OR current_setting('transaction_read_only')::boolean)::boolean AS read_only;
