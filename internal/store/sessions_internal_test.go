package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/testdb"
)

// TestSessionsOfOneChannel writes the sessions of one channel (the lookup,
// then the ivr route twice), each write twice as a retry would, in one batch
// with a refused write among them (so the batch is sent again) and in
// batches of their own: every session is one row, every write of a session
// gets that row's ID, and the lookup's step is stored once.
func TestSessionsOfOneChannel(t *testing.T) {
	t.Parallel()
	for _, oneBatch := range []bool{true, false} {
		t.Run(fmt.Sprintf("one batch %v", oneBatch), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, err := Open(ctx, testdb.URL(t))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			const uid = "1700000500.1"
			at := time.Now().Truncate(time.Millisecond)
			lookup := ivr.Call{SessionID: ivr.NewSessionID(), UniqueID: uid, Route: "lookup", StartedAt: at}
			first := ivr.Call{SessionID: ivr.NewSessionID(), UniqueID: uid, Route: "ivr", StartedAt: at.Add(time.Second)}
			// The same key in another spelling is the same session.
			second := ivr.Call{SessionID: ivr.NewSessionID(), UniqueID: uid, Route: "ivr", StartedAt: at.Add(time.Minute)}
			secondUpper := second
			secondUpper.SessionID = "{" + upper(second.SessionID) + "}"
			steps := []ivr.Step{{Seq: 1, Key: "lookup", Kind: ivr.StepLookup, Outcome: ivr.OutcomeValid, At: at}}
			end := ivr.CallEnd{Reason: ivr.EndCompleted, EndedAt: at.Add(20 * time.Millisecond)}
			writes := []func() (int64, error){
				func() (int64, error) { return db.RecordCall(ctx, lookup, end, steps) },
				func() (int64, error) { return db.StartCall(ctx, first) },
				func() (int64, error) { return db.StartCall(ctx, second) },
				func() (int64, error) { return db.RecordCall(ctx, lookup, end, steps) },
				func() (int64, error) { return db.StartCall(ctx, first) },
				func() (int64, error) { return db.StartCall(ctx, secondUpper) },
			}
			refused := func() (int64, error) { return db.StartCall(ctx, ivr.Call{SessionID: "no-uuid", UniqueID: uid}) }

			ids := make([]int64, len(writes))
			errs := make([]error, len(writes))
			var refusedErr error
			if oneBatch {
				// Hold the committer on a write waiting for a row lock, so
				// that the writes queue up and go out as the next batch.
				c := createCallerForTest(t, db)
				lock, err := db.pool.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer lock.Rollback(ctx)
				if _, err := lock.Exec(ctx, "SELECT 1 FROM callers WHERE id = $1 FOR UPDATE", c); err != nil {
					t.Fatal(err)
				}
				held := make(chan error, 1)
				go func() {
					_, err := db.DecidePIN(ctx, ivr.PINEntry{CallerID: c, At: at}, ivr.LockPolicy{After: 5, Schedule: []time.Duration{time.Minute}})
					held <- err
				}()
				waitForLockWait(t, db.pool)
				done := make(chan struct{}, len(writes)+1)
				for i, w := range writes {
					go func() { ids[i], errs[i] = w(); done <- struct{}{} }()
				}
				go func() { _, refusedErr = refused(); done <- struct{}{} }()
				for len(db.gc.queue) < len(writes)+1 {
					time.Sleep(time.Millisecond)
				}
				if err := lock.Commit(ctx); err != nil {
					t.Fatal(err)
				}
				if err := <-held; err != nil {
					t.Fatal(err)
				}
				for range len(writes) + 1 {
					<-done
				}
				if st := db.Stats(); st.Batches != 2 || st.Retries == 0 {
					t.Errorf("stats %+v, want the writes in one batch after the held one, sent again", st)
				}
			} else {
				for i, w := range writes {
					ids[i], errs[i] = w()
				}
				_, refusedErr = refused()
			}

			for i, err := range errs {
				if err != nil {
					t.Fatalf("write %d: %v", i, err)
				}
			}
			var iv *ivr.InvalidValueError
			if !errors.As(refusedErr, &iv) {
				t.Errorf("refused write: %v, want an *ivr.InvalidValueError", refusedErr)
			}
			if ids[0] != ids[3] || ids[1] != ids[4] || ids[2] != ids[5] {
				t.Errorf("a session written twice got IDs %v", ids)
			}
			if ids[0] == ids[1] || ids[1] == ids[2] || ids[0] == ids[2] {
				t.Errorf("sessions share an ID: %v", ids)
			}
			recs, err := db.CallsByUniqueID(ctx, uid)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, fmt.Sprintf("%d %s %s", r.Call.ID, r.Call.Route, r.Call.SessionID))
			}
			want := []string{
				fmt.Sprintf("%d lookup %s", ids[0], lookup.SessionID),
				fmt.Sprintf("%d ivr %s", ids[1], first.SessionID),
				fmt.Sprintf("%d ivr %s", ids[2], second.SessionID),
			}
			if !slices.Equal(got, want) {
				t.Errorf("sessions of the channel:\n%v\nwant\n%v", got, want)
			}
			if st, err := db.Steps(ctx, ids[0]); err != nil || len(st) != 1 {
				t.Errorf("lookup steps %+v, %v; want the one step once", st, err)
			}
		})
	}
}

// upper is s in upper case (ASCII).
func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// createCallerForTest stores a caller and returns its ID.
func createCallerForTest(t *testing.T, db *DB) int64 {
	t.Helper()
	c, err := db.CreateCaller(context.Background(), ivr.Caller{Account: "5001", Name: "Held", Phones: []string{"+14155550501"}})
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}
