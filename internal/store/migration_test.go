package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/ivrhq/ivr/db"
	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store"
	"github.com/ivrhq/ivr/internal/testdb"
)

// emptyDatabase returns the URL of a new database of t's own with no schema,
// a pool on it and a migrator over the pool, closed when t ends.
func emptyDatabase(t *testing.T) (string, *pgxpool.Pool, *goose.Provider) {
	t.Helper()
	url := testdb.EmptyURL(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	mig, err := db.NewMigrator(stdlib.OpenDBFromPool(pool))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mig.Close() })
	return url, pool, mig
}

// TestSessionMigration migrates a database holding calls from before
// sessions had keys: each row gets a key of its own, the channel can then
// run another session, going back refuses while a uniqueid repeats, and
// works once it does not.
func TestSessionMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, pool, mig := emptyDatabase(t)
	if _, err := mig.UpTo(ctx, 6); err != nil {
		t.Fatal(err)
	}
	exec := func(sql string) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO calls (uniqueid, route, started_at, ended_at, end_reason) VALUES
		('1700000600.1', 'lookup', now(), now(), 'completed'), ('1700000600.2', 'ivr', now(), NULL, NULL)`)
	exec(`INSERT INTO call_steps (call_id, seq, key, kind, outcome, at)
		SELECT id, 1, 'lookup', 'lookup', 'valid', now() FROM calls WHERE uniqueid = '1700000600.1'`)

	if _, err := mig.UpTo(ctx, 7); err != nil {
		t.Fatal(err)
	}
	var rows, keys, steps int
	if err := pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT session_id),
			(SELECT count(*) FROM call_steps JOIN calls ON calls.id = call_id WHERE uniqueid = '1700000600.1')
		FROM calls`).Scan(&rows, &keys, &steps); err != nil {
		t.Fatal(err)
	}
	if rows != 2 || keys != 2 || steps != 1 {
		t.Errorf("after the migration: %d rows with %d keys and %d steps, want 2 rows with 2 keys and their step", rows, keys, steps)
	}

	// The channel of the old lookup now runs the ivr route too.
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ivrID, err := st.StartCall(ctx, ivr.Call{SessionID: ivr.NewSessionID(), UniqueID: "1700000600.1", Route: "ivr"})
	if err != nil {
		t.Fatal(err)
	}
	if recs, err := st.CallsByUniqueID(ctx, "1700000600.1"); err != nil || len(recs) != 2 ||
		recs[0].Call.Route != "lookup" || recs[0].Call.SessionID == "" || recs[1].Call.ID != ivrID {
		t.Errorf("sessions of the channel: %+v, %v", recs, err)
	}

	if _, err := mig.Down(ctx); err == nil || !strings.Contains(err.Error(), "more than one session") {
		t.Errorf("down with a repeated uniqueid: %v, want a refusal", err)
	}
	if v, err := mig.GetDBVersion(ctx); err != nil || v != 7 {
		t.Errorf("after the refusal, version %d, %v; want 7", v, err)
	}
	exec("DELETE FROM calls WHERE route = 'ivr' AND uniqueid = '1700000600.1'")
	if _, err := mig.Down(ctx); err != nil {
		t.Fatalf("down: %v", err)
	}
	_, err = pool.Exec(ctx, "INSERT INTO calls (uniqueid, started_at) VALUES ('1700000600.1', now())")
	if err == nil || !strings.Contains(err.Error(), "calls_uniqueid_key") {
		t.Errorf("after down, a repeated uniqueid: %v, want calls_uniqueid_key to refuse it", err)
	}
	if _, err := mig.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
}

// TestCatalogNotifyDownAndUp goes back to version 5, before the catalog
// announced its changes, and up again: going back leaves no trigger or
// function of the announcements behind, and coming up again a change to a
// menu is announced to the caches once more.
func TestCatalogNotifyDownAndUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, pool, mig := emptyDatabase(t)
	if _, err := mig.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := mig.DownTo(ctx, 5); err != nil {
		t.Fatalf("down to 5: %v", err)
	}
	var triggers, functions int
	if err := pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%\_notify' AND tgrelid::regclass::text ~ '^(menu|survey)'),
			(SELECT count(*) FROM pg_proc WHERE proname = 'ivr_notify_catalog')`).Scan(&triggers, &functions); err != nil {
		t.Fatal(err)
	}
	if triggers != 0 || functions != 0 {
		t.Errorf("at version 5: %d catalog triggers and %d functions left, want none", triggers, functions)
	}
	if _, err := mig.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}

	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN ivr_catalog"); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "INSERT INTO menus (key) VALUES ('main')"); err != nil {
		t.Fatal(err)
	}
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := conn.Conn().WaitForNotification(wait); err != nil {
		t.Errorf("a new menu after going down and up again: no announcement (%v)", err)
	}
}
