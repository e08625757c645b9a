package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store"
	"github.com/ivrhq/ivr/internal/testdb"
)

// openWithPool returns a DB and a pool on one fresh database of t's own.
func openWithPool(t *testing.T) (*store.DB, *pgxpool.Pool) {
	t.Helper()
	url := testdb.URL(t)
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return db, pool
}

// TestMissingPartition writes a call in a month that has no partition: every
// write of it is refused with ErrNoPartition, and nothing of it is stored;
// once the month's partitions are made, the same writes store the call, its
// steps, response, PIN attempt and recording in that month's partitions.
func TestMissingPartition(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, pool := openWithPool(t)
	caller := createCaller(t, db, "1001", "+14155550101")
	start := time.Date(2099, 3, 14, 23, 59, 59, 0, time.UTC)
	c := ivr.Call{SessionID: ivr.NewSessionID(), UniqueID: "4070908799.1", Route: "ivr", CallerID: caller.ID, StartedAt: start}

	if _, err := db.StartCall(ctx, c); !errors.Is(err, store.ErrNoPartition) {
		t.Fatalf("StartCall in a month without partitions: %v, want ErrNoPartition", err)
	}
	whole := c
	whole.SessionID = ivr.NewSessionID()
	end := ivr.CallEnd{Reason: ivr.EndCompleted, EndedAt: start.Add(time.Minute)}
	steps := []ivr.Step{{Seq: 1, Key: "lookup", Kind: ivr.StepLookup, Outcome: ivr.OutcomeValid, At: start}}
	if _, err := db.RecordCall(ctx, whole, end, steps); !errors.Is(err, store.ErrNoPartition) {
		t.Fatalf("RecordCall in a month without partitions: %v, want ErrNoPartition", err)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM calls").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d calls stored after the refusals (%v), want none", n, err)
	}

	made, err := db.EnsurePartitions(ctx, start, start)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"calls_y2099m03", "call_steps_y2099m03", "responses_y2099m03", "pin_attempts_y2099m03"}
	if !slices.Equal(made, want) {
		t.Errorf("made %v, want %v", made, want)
	}
	if again, err := db.EnsurePartitions(ctx, start, start); err != nil || len(again) != 0 {
		t.Errorf("making them again: %v, %v; want nothing made", again, err)
	}

	id, err := db.StartCall(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	// The PIN is entered, and the call ends, in the next month, which has no
	// partition: the rows go to the month of the call's start all the same.
	at := start.Add(2 * time.Second)
	if _, err := db.DecidePIN(ctx, ivr.PINEntry{CallerID: caller.ID, CallID: id, CallStartedAt: start, Right: true, At: at},
		ivr.LockPolicy{}); err != nil {
		t.Fatal(err)
	}
	err = db.Write(ctx, ivr.Entry{CallID: id, CallStartedAt: start,
		Steps:    []ivr.Step{{Seq: 1, Key: "menu:main", Kind: ivr.StepMenu, Digits: "1", Outcome: ivr.OutcomeValid, At: at}},
		Response: &ivr.Response{CallerID: caller.ID, Answer: "1", At: at},
		End:      &end})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SaveRecording(ctx, ivr.Recording{CallID: id, CallStartedAt: start, Path: "/rec/x", Format: "wav",
		Reason: ivr.RecordDTMF, Purpose: ivr.PurposeMessage, CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RecordCall(ctx, whole, end, steps); err != nil {
		t.Fatal(err)
	}
	var where []string
	rows, err := pool.Query(ctx, `SELECT tableoid::regclass::text FROM calls
		UNION ALL SELECT tableoid::regclass::text FROM call_steps
		UNION ALL SELECT tableoid::regclass::text FROM responses
		UNION ALL SELECT tableoid::regclass::text FROM pin_attempts ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		where = append(where, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	wantWhere := []string{"call_steps_y2099m03", "call_steps_y2099m03", "calls_y2099m03", "calls_y2099m03",
		"pin_attempts_y2099m03", "responses_y2099m03"}
	if !slices.Equal(where, wantWhere) {
		t.Errorf("rows stored in %v, want %v", where, wantWhere)
	}
	got, err := db.CallByID(ctx, id)
	if err != nil || got.End.Reason != ivr.EndCompleted {
		t.Errorf("the call after its end: %+v, %v", got, err)
	}
}

// TestJournalWithoutStart writes steps, a response, a PIN attempt, a
// recording and the end of a call without saying when the call started: the
// store finds the start itself.
func TestJournalWithoutStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t)
	caller := createCaller(t, db, "1001", "+14155550101")
	id := startCall(t, db, "1700000001.1", caller.ID)
	if _, err := db.DecidePIN(ctx, ivr.PINEntry{CallerID: caller.ID, CallID: id, Right: true}, ivr.LockPolicy{}); err != nil {
		t.Fatal(err)
	}
	err := db.Write(ctx, ivr.Entry{CallID: id,
		Steps:    []ivr.Step{{Seq: 1, Key: "pin", Kind: ivr.StepPIN, Secret: true, Outcome: ivr.OutcomeValid}},
		Response: &ivr.Response{CallerID: caller.ID, Answer: "1"},
		End:      &ivr.CallEnd{Reason: ivr.EndCompleted}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SaveRecording(ctx, ivr.Recording{CallID: id, Path: "/rec/x", Format: "wav", Reason: ivr.RecordDTMF,
		Purpose: ivr.PurposeMessage}); err != nil {
		t.Fatal(err)
	}
	steps, err := db.Steps(ctx, id)
	if err != nil || len(steps) != 1 {
		t.Errorf("steps %+v, %v; want the PIN step", steps, err)
	}
	resps, err := db.Responses(ctx, id)
	if err != nil || len(resps) != 1 {
		t.Errorf("responses %+v, %v; want one", resps, err)
	}
	recs, err := db.Recordings(ctx, id)
	if err != nil || len(recs) != 1 {
		t.Errorf("recordings %+v, %v; want one", recs, err)
	}
	if got, err := db.CallByID(ctx, id); err != nil || got.End.Reason != ivr.EndCompleted {
		t.Errorf("the call: %+v, %v; want it closed", got, err)
	}
	// Writing to a call that does not exist is still refused.
	err = db.Write(ctx, ivr.Entry{CallID: id + 100, End: &ivr.CallEnd{Reason: ivr.EndCompleted}})
	wantIs(t, err, ivr.ErrNotFound)
}
