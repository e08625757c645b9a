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
// then the ivr route twice), each write twice as a retry would, in one
// statement of each kind with a refused write among them (so the statement is
// sent again write by write) and in statements of their own: every session is one row, every write of a session
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
				// Hold the StartCall and RecordCall statements on a session
				// another transaction is writing, so that the writes wait
				// and go out together as the next statement of each.
				lock, err := db.pool.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer lock.Rollback(ctx)
				heldStart, heldRecord := ivr.NewSessionID(), ivr.NewSessionID()
				if _, err := lock.Exec(ctx, `INSERT INTO calls (session_id, uniqueid, channel, route, callerid_raw, callerid_e164, dnid, started_at)
					VALUES ($1, 'held', '', 'ivr', '', '', '', $3), ($2, 'held', '', 'ivr', '', '', '', $3)`, heldStart, heldRecord, at); err != nil {
					t.Fatal(err)
				}
				held := make(chan error, 2)
				go func() {
					_, err := db.StartCall(ctx, ivr.Call{SessionID: heldStart, UniqueID: "held", StartedAt: at})
					held <- err
				}()
				go func() {
					_, err := db.RecordCall(ctx, ivr.Call{SessionID: heldRecord, UniqueID: "held", StartedAt: at}, end, nil)
					held <- err
				}()
				waitFor(t, "both held statements waiting", func() bool {
					var n int
					err := db.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
						WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
					return err == nil && n == 2
				})
				done := make(chan struct{}, len(writes)+1)
				for i, w := range writes {
					go func() { ids[i], errs[i] = w(); done <- struct{}{} }()
				}
				go func() { _, refusedErr = refused(); done <- struct{}{} }()
				waitFor(t, "the writes waiting", func() bool {
					db.starts.mu.Lock()
					defer db.starts.mu.Unlock()
					db.records.mu.Lock()
					defer db.records.mu.Unlock()
					return len(db.starts.waiting)+len(db.records.waiting) == len(writes)+1
				})
				if err := lock.Rollback(ctx); err != nil {
					t.Fatal(err)
				}
				for range 2 {
					if err := <-held; err != nil {
						t.Fatal(err)
					}
				}
				for range len(writes) + 1 {
					<-done
				}
				if st := db.Stats(); st.Retries != 1 {
					t.Errorf("stats %+v, want the StartCall statement refused once and sent again write by write", st)
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
