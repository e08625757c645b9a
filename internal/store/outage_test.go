package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store"
)

// operator is a connection of its own to db's database, for doing to the
// store's connections what an operator or a failing server would.
func operator(t *testing.T, db *store.DB) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), db.Pool().Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// terminate ends the server process pid and waits until it is gone.
func terminate(t *testing.T, op *pgx.Conn, pid uint32) {
	t.Helper()
	var gone bool
	if err := op.QueryRow(context.Background(), "SELECT pg_terminate_backend($1, 5000)", int32(pid)).Scan(&gone); err != nil || !gone {
		t.Fatalf("terminate %d: %v %v", pid, gone, err)
	}
}

// TestGroupCommitAfterConnectionKilled kills the group commit's connection
// between two batches: the writes of the next batch, which meets the dead
// connection, are all committed on another one.
func TestGroupCommitAfterConnectionKilled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t)
	op := operator(t, db)
	start := time.Now()
	first, err := db.StartCall(ctx, ivr.Call{UniqueID: "1700000700.1", Route: "ivr", StartedAt: start})
	if err != nil {
		t.Fatal(err)
	}
	terminate(t, op, store.CommitterPID(db))

	// The writes name their call's start, as the flows' do: they go to the
	// group commit with nothing to look up first.
	var (
		wg     sync.WaitGroup
		second int64
		errs   = make(chan error, 3)
	)
	wg.Go(func() {
		errs <- db.Write(ctx, ivr.Entry{CallID: first, CallStartedAt: start,
			Steps: []ivr.Step{{Seq: 1, Key: "welcome", Kind: ivr.StepPrompt, Outcome: ivr.OutcomeValid}}})
	})
	wg.Go(func() {
		errs <- db.Write(ctx, ivr.Entry{CallID: first, CallStartedAt: start, End: &ivr.CallEnd{Reason: ivr.EndCompleted}})
	})
	wg.Go(func() {
		var err error
		second, err = db.StartCall(ctx, ivr.Call{UniqueID: "1700000700.2", Route: "ivr"})
		errs <- err
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("a write after the connection was killed failed: %v", err)
		}
	}
	if rec, err := db.CallByID(ctx, first); err != nil || rec.End.Reason != ivr.EndCompleted {
		t.Errorf("first call: %+v, %v; want it closed as completed", rec.End, err)
	}
	if steps, err := db.Steps(ctx, first); err != nil || len(steps) != 1 {
		t.Errorf("first call: steps %v, %v; want the one step", steps, err)
	}
	if _, err := db.CallByID(ctx, second); err != nil {
		t.Errorf("second call: %v", err)
	}
	if st := db.Stats(); st.Resends == 0 {
		t.Errorf("Stats.Resends = 0: the batch never met the killed connection (%+v)", st)
	}
}

// TestGroupCommitConnectionKilledMidBatch kills the group commit's connection
// while its batch waits on the server, blocked by a lock: the batch was not
// committed, so it is sent again and its PIN audit, which has no key of its
// own, is stored exactly once.
func TestGroupCommitConnectionKilledMidBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t)
	op := operator(t, db)
	caller := createCaller(t, db, "7001", "+14155550701")
	call := startCall(t, db, "1700000701.1", caller.ID)

	// Another session holds the caller's row, so the PIN audit blocks.
	locker, err := op.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := locker.Exec(ctx, "SELECT 1 FROM callers WHERE id = $1 FOR UPDATE", caller.ID); err != nil {
		t.Fatal(err)
	}
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := db.DecidePIN(ctx, ivr.PINEntry{CallerID: caller.ID, CallID: call, At: time.Now()},
			ivr.LockPolicy{After: 5, Schedule: []time.Duration{time.Minute}})
		done <- result{v.Failures, err}
	}()
	blocked := waitBlocked(t, db, caller.ID)
	other := operator(t, db)
	terminate(t, other, blocked)
	if err := locker.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.n != 1 {
		t.Fatalf("DecidePIN: %d failures, %v; want 1 failure, no error", r.n, r.err)
	}
	attempts, err := db.PINAttempts(ctx, caller.ID)
	if err != nil || len(attempts) != 1 {
		t.Errorf("PIN attempts stored: %d, %v; want exactly 1", len(attempts), err)
	}
	if st := db.Stats(); st.Resends != 1 {
		t.Errorf("Stats.Resends = %d, want 1", st.Resends)
	}
}

// waitBlocked waits until a session of db's database waits for a lock while
// updating the caller's row, and returns its server process.
func waitBlocked(t *testing.T, db *store.DB, callerID int64) uint32 {
	t.Helper()
	ctx := context.Background()
	op := operator(t, db)
	for range 500 {
		var pid int32
		err := op.QueryRow(ctx, `SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%DecidePINAttempts%'`).Scan(&pid)
		if err == nil {
			return uint32(pid)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no write of caller %d ever waited for the lock", callerID)
	return 0
}

// TestSweepLostCalls closes the calls left open longer than the cut-off as
// lost, whatever the number of sweeps running at once, and nothing else.
func TestSweepLostCalls(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t)
	now := time.Now()
	old := now.Add(-5 * time.Hour)
	start := func(uid string, at time.Time) int64 {
		id, err := db.StartCall(ctx, ivr.Call{UniqueID: uid, Route: "ivr", StartedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	const lost = 25
	ids := make([]int64, lost)
	for i := range ids {
		ids[i] = start(fmt.Sprintf("1700000702.%d", i), old.Add(time.Duration(i)*time.Second))
	}
	lastStep := old.Add(3 * time.Minute)
	if err := appendStep(ctx, db, ivr.Step{CallID: ids[0], Seq: 1, Key: "welcome", Kind: ivr.StepPrompt, Outcome: ivr.OutcomeValid, At: lastStep}); err != nil {
		t.Fatal(err)
	}
	ended := start("1700000702.ended", old)
	if err := endCall(ctx, db, ended, ivr.CallEnd{Reason: ivr.EndHangup}); err != nil {
		t.Fatal(err)
	}
	recent := start("1700000702.recent", now.Add(-time.Minute))

	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		closed int64
	)
	for range 4 {
		wg.Go(func() {
			n, err := db.SweepLostCalls(ctx, now.Add(-4*time.Hour))
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			closed += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if closed != lost {
		t.Errorf("the sweeps closed %d calls in all, want %d", closed, lost)
	}
	for i, id := range ids {
		rec, err := db.CallByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := old.Add(time.Duration(i) * time.Second)
		if i == 0 {
			want = lastStep
		}
		if rec.End.Reason != ivr.EndLost || !rec.End.EndedAt.Equal(want.Truncate(time.Microsecond)) {
			t.Errorf("call %d: %s at %v, want lost at %v", i, rec.End.Reason, rec.End.EndedAt, want)
		}
	}
	if rec, _ := db.CallByID(ctx, ended); rec.End.Reason != ivr.EndHangup {
		t.Errorf("a closed call became %q", rec.End.Reason)
	}
	if rec, _ := db.CallByID(ctx, recent); rec.End.Reason != "" {
		t.Errorf("a call in progress was closed as %q", rec.End.Reason)
	}
	rows, err := db.ReportCallsByHour(ctx, old, now)
	if err != nil {
		t.Fatal(err)
	}
	var reported int64
	for _, r := range rows {
		reported += r.Lost
	}
	if reported != lost {
		t.Errorf("the calls report shows %d lost calls, want %d", reported, lost)
	}
}

// TestTextNotUTF8 stores a call whose caller ID, channel, DNID and step carry
// a byte that is not UTF-8: it is journaled, with the byte escaped.
func TestTextNotUTF8(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t)
	id, err := db.StartCall(ctx, ivr.Call{
		UniqueID: "1700000703.1", Route: "ivr", Channel: "PJSIP/\xfftrunk", CallerIDRaw: "\xff4155550123",
		DNID: "10\xff0", LinkedID: "a\x00b",
	})
	if err != nil {
		t.Fatalf("StartCall: %v", err)
	}
	step := ivr.Step{CallID: id, Seq: 1, Key: "menu:\xff", Kind: ivr.StepMenu, Digits: "1\xff", Outcome: ivr.OutcomeInvalid}
	if err := appendStep(ctx, db, step); err != nil {
		t.Fatalf("append step: %v", err)
	}
	if err := endCall(ctx, db, id, ivr.CallEnd{Reason: ivr.EndError, LinkedID: "\xfe"}); err != nil {
		t.Fatalf("end call: %v", err)
	}
	rec, err := db.CallByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	got := [...]string{rec.Call.Channel, rec.Call.CallerIDRaw, rec.Call.DNID, rec.Call.LinkedID}
	want := [...]string{`PJSIP/\xfftrunk`, `\xff4155550123`, `10\xff0`, `\xfe`}
	if got != want {
		t.Errorf("stored %q, want %q", got, want)
	}
	steps, err := db.Steps(ctx, id)
	if err != nil || len(steps) != 1 || steps[0].Key != `menu:\xff` || steps[0].Digits != `1\xff` {
		t.Errorf("steps %+v, %v", steps, err)
	}
	if _, err := db.PublishedMenu(ctx, "\xff"); !errors.Is(err, ivr.ErrNotFound) {
		t.Errorf("PublishedMenu of a key that is not UTF-8: %v, want not found", err)
	}
	if _, err := db.RecordCall(ctx, ivr.Call{UniqueID: "1700000703.2", Route: "lookup", CallerIDRaw: "\xff"},
		ivr.CallEnd{Reason: ivr.EndCompleted}, []ivr.Step{{Seq: 1, Key: "lookup", Kind: ivr.StepLookup, Outcome: ivr.OutcomeInvalid}}); err != nil {
		t.Errorf("RecordCall: %v", err)
	}
}
