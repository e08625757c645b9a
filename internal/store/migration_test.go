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

	// The channel of the old lookup now runs the ivr route too, with the
	// store on the schema it is made for.
	if _, err := mig.Up(ctx); err != nil {
		t.Fatal(err)
	}
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
	if _, err := mig.DownTo(ctx, 7); err != nil {
		t.Fatal(err)
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

// journalCounts are the rows of the journal a test compares before and after a
// migration: per table, the row count and a digest of the columns every
// version has.
const journalCounts = `SELECT
	(SELECT count(*) || ':' || coalesce(sum(hashtext(id || session_id::text || uniqueid || started_at::text || coalesce(end_reason, ''))), 0) FROM calls),
	(SELECT count(*) || ':' || coalesce(sum(hashtext(call_id || ':' || seq || key || at::text)), 0) FROM call_steps),
	(SELECT count(*) || ':' || coalesce(sum(hashtext(id || ':' || call_id || answer || at::text)), 0) FROM responses),
	(SELECT count(*) || ':' || coalesce(sum(hashtext(id || ':' || coalesce(call_id, 0) || success::text || at::text)), 0) FROM pin_attempts),
	(SELECT count(*) || ':' || coalesce(sum(hashtext(id || ':' || call_id || path)), 0) FROM recordings)`

// scanJournal reads journalCounts.
func scanJournal(t *testing.T, pool *pgxpool.Pool) [5]string {
	t.Helper()
	var j [5]string
	if err := pool.QueryRow(context.Background(), journalCounts).Scan(&j[0], &j[1], &j[2], &j[3], &j[4]); err != nil {
		t.Fatal(err)
	}
	return j
}

// TestPartitionMigration moves a database holding two months of calls to the
// partitioned journal: every row is still there, each in the partition of its
// call's month, IDs go on from where they were, the flows' writes and the
// reports work, and going back keeps every row too.
func TestPartitionMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, pool, mig := emptyDatabase(t)
	if _, err := mig.UpTo(ctx, 10); err != nil {
		t.Fatal(err)
	}
	// Two calls of last month, one of this month, the last one open; the
	// first call's steps, PIN attempt and recording are in this month, as
	// for a call that started just before midnight at the end of a month.
	_, err := pool.Exec(ctx, `INSERT INTO callers (account, name) VALUES ('1001', 'Alice');
		INSERT INTO menus (key) VALUES ('main');
		INSERT INTO menu_versions (menu_id, version, prompt, timeout_ms, max_digits, max_attempts)
		SELECT id, 1, 'p', 5000, 1, 3 FROM menus;
		INSERT INTO calls (uniqueid, route, caller_id, started_at, answered_at, ended_at, end_reason, authenticated) VALUES
			('1.1', 'ivr', 1, date_trunc('month', now()) - interval '1 second', date_trunc('month', now()),
			 date_trunc('month', now()) + interval '1 minute', 'completed', true),
			('1.2', 'lookup', 1, date_trunc('month', now()) - interval '10 days', NULL,
			 date_trunc('month', now()) - interval '10 days', 'completed', false),
			('1.3', 'ivr', 1, now(), NULL, NULL, NULL, false);
		INSERT INTO call_steps (call_id, seq, key, kind, outcome, at)
		SELECT id, s, CASE s WHEN 1 THEN 'pin' ELSE 'menu:main' END, CASE s WHEN 1 THEN 'pin' ELSE 'menu' END, 'valid',
		       started_at + make_interval(secs => s * 2)
		FROM calls, generate_series(1, 2) AS s;
		INSERT INTO call_steps (call_id, seq, key, kind, outcome, at)
		SELECT id, 3, 'hangup', 'hangup', 'hangup', started_at + interval '9 seconds' FROM calls WHERE uniqueid = '1.1';
		INSERT INTO responses (call_id, caller_id, menu_version_id, answer, at)
		SELECT id, 1, 1, '1', started_at + interval '5 seconds' FROM calls WHERE route = 'ivr';
		INSERT INTO pin_attempts (caller_id, call_id, success, at)
		SELECT 1, id, true, started_at + interval '3 seconds' FROM calls WHERE route = 'ivr';
		INSERT INTO pin_attempts (caller_id, call_id, success, at) VALUES (1, NULL, false, now() - interval '40 days');
		INSERT INTO recordings (call_id, caller_id, path, format, end_reason, purpose, created_at)
		SELECT id, 1, '/rec/' || uniqueid, 'wav', 'dtmf', 'message', started_at + interval '20 seconds' FROM calls WHERE route = 'ivr';`)
	if err != nil {
		t.Fatal(err)
	}
	before := scanJournal(t, pool)
	var lastCall int64
	if err := pool.QueryRow(ctx, "SELECT max(id) FROM calls").Scan(&lastCall); err != nil {
		t.Fatal(err)
	}

	if _, err := mig.UpTo(ctx, 11); err != nil {
		t.Fatal(err)
	}
	if after := scanJournal(t, pool); after != before {
		t.Errorf("after the migration the journal holds %v, want %v", after, before)
	}
	var misplaced int
	if err := pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM call_steps s JOIN calls c ON c.id = s.call_id WHERE s.call_started_at <> c.started_at) +
			(SELECT count(*) FROM responses r JOIN calls c ON c.id = r.call_id WHERE r.call_started_at <> c.started_at) +
			(SELECT count(*) FROM pin_attempts p LEFT JOIN calls c ON c.id = p.call_id
			 WHERE p.call_started_at <> coalesce(c.started_at, p.at)) +
			(SELECT count(*) FROM recordings r JOIN calls c ON c.id = r.call_id WHERE r.call_started_at <> c.started_at) +
			(SELECT count(*) FROM calls WHERE tableoid::regclass::text <> to_char(started_at AT TIME ZONE 'UTC', '"calls_y"YYYY"m"MM'))`).
		Scan(&misplaced); err != nil {
		t.Fatal(err)
	}
	if misplaced != 0 {
		t.Errorf("%d rows not with their call's start or month", misplaced)
	}

	// The flows and the reports of the release run on the latest schema.
	if _, err := mig.Up(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	id, err := st.StartCall(ctx, ivr.Call{SessionID: ivr.NewSessionID(), UniqueID: "1.4", Route: "ivr", StartedAt: start})
	if err != nil {
		t.Fatal(err)
	}
	if id <= lastCall {
		t.Errorf("new call ID %d, want one after %d", id, lastCall)
	}
	err = st.Write(ctx, ivr.Entry{CallID: id, CallStartedAt: start,
		Steps:    []ivr.Step{{Seq: 1, Key: "pin", Kind: ivr.StepPIN, Secret: true, Outcome: ivr.OutcomeValid}},
		Response: &ivr.Response{CallerID: 1, MenuVersionID: 1, Answer: "1"},
		End:      &ivr.CallEnd{Reason: ivr.EndCompleted}})
	if err != nil {
		t.Fatal(err)
	}
	from, to := store.MonthOf(time.Now()).AddDate(0, -1, 0), time.Now().UTC()
	f, err := st.ReportFunnel(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	// The ivr calls: 1.1 (last month), 1.3 and 1.4; each reached the PIN and
	// chose an option; 1.1 and 1.4 completed.
	if f.Calls != 3 || f.ReachedPIN != 3 || f.ChoseOption != 3 || f.Completed != 2 {
		t.Errorf("funnel after the migration: %+v", f)
	}
	hangups, err := st.ReportHangups(ctx, from, to)
	if err != nil || len(hangups) != 1 || hangups[0].Step != "menu:main" {
		t.Errorf("hang-up points after the migration: %+v, %v; want one after menu:main", hangups, err)
	}

	latest := scanJournal(t, pool)
	if _, err := mig.DownTo(ctx, 10); err != nil {
		t.Fatalf("down: %v", err)
	}
	if down := scanJournal(t, pool); down != latest {
		t.Errorf("after going back the journal holds %v, want %v", down, latest)
	}
	if _, err := mig.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if again := scanJournal(t, pool); again != latest {
		t.Errorf("down and up again: %v, want %v", again, latest)
	}
}
