package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store"
	"github.com/ivrhq/ivr/internal/testdb"
)

// TestGroupCommitConcurrent runs many calls at once, each writing its steps
// one by one, with some writes that must fail mixed in. Every good write is
// stored, every bad one gets its own error, and the commits are shared.
func TestGroupCommitConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t)
	const calls, steps = 50, 20

	var wg sync.WaitGroup
	errs := make(chan error, calls*(steps+2))
	ids := make([]int64, calls)
	for i := range calls {
		wg.Go(func() {
			id, err := db.StartCall(ctx, ivr.Call{UniqueID: fmt.Sprintf("1700000100.%d", i), Route: "ivr"})
			if err != nil {
				errs <- err
				return
			}
			ids[i] = id
			for seq := 1; seq <= steps; seq++ {
				s := ivr.Step{CallID: id, Seq: seq, Key: "menu", Kind: ivr.StepMenu, Digits: "1", Outcome: ivr.OutcomeValid}
				if err := appendStep(ctx, db, s); err != nil {
					errs <- err
				}
				if seq%5 == 0 {
					// A write that fails (an unknown call) in the middle of the others.
					bad := s
					bad.CallID = -int64(i + 1)
					if err := appendStep(ctx, db, bad); !errors.Is(err, ivr.ErrNotFound) {
						errs <- fmt.Errorf("bad step: got %v, want not found", err)
					}
					// And a call whose session key the database refuses.
					if _, err := db.StartCall(ctx, ivr.Call{SessionID: "no-uuid", UniqueID: fmt.Sprintf("1700000100.%d", i)}); !errors.Is(err, ivr.ErrInvalidValue) {
						errs <- fmt.Errorf("call with a bad session key: got %v, want an invalid value", err)
					}
				}
			}
			if err := endCall(ctx, db, id, ivr.CallEnd{Reason: ivr.EndHangup}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i, id := range ids {
		got, err := db.Steps(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != steps {
			t.Errorf("call %d: %d steps stored, want %d", i, len(got), steps)
		}
		rec, err := db.CallByID(ctx, id)
		if err != nil || rec.End.Reason != ivr.EndHangup {
			t.Errorf("call %d: %+v, %v", i, rec.End, err)
		}
	}
	st := db.Stats()
	good := int64(calls * (steps + 2))
	if st.Writes != good {
		t.Errorf("Stats.Writes = %d, want the %d good writes", st.Writes, good)
	}
	t.Logf("stats: %+v (%.1f writes per commit)", st, float64(st.Writes)/float64(st.Batches))
}

// TestGroupCommitCoalesces runs the writes of many calls at once, so that the
// writes of each kind share statements, with failing writes mixed in: every
// write gets its own result (IDs, failure counts, not found, conflicts), and
// the good ones are stored.
func TestGroupCommitCoalesces(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t)
	const calls = 40
	callers := make([]ivr.Caller, calls)
	for i := range callers {
		callers[i] = createCaller(t, db, fmt.Sprint(5000+i), fmt.Sprintf("+1415555%04d", i))
	}

	var wg sync.WaitGroup
	errs := make(chan error, calls*16)
	check := func(what string, err error) {
		if err != nil {
			errs <- fmt.Errorf("%s: %w", what, err)
		}
	}
	looked := make([]int64, calls)
	started := make([]int64, calls)
	failures := make([][2]int, calls)
	for i := range calls {
		wg.Go(func() {
			callerID := callers[i].ID
			// A lookup call, written whole, written again (stored once), and
			// one whose step the database refuses.
			uid := fmt.Sprintf("1700000200.%d", i)
			lookup := ivr.Call{SessionID: ivr.NewSessionID(), UniqueID: uid, Route: "lookup", CallerID: callerID, StartedAt: time.Now()}
			steps := []ivr.Step{{Seq: 1, Key: "lookup", Kind: ivr.StepLookup, Outcome: ivr.OutcomeValid}}
			id, err := db.RecordCall(ctx, lookup, ivr.CallEnd{Reason: ivr.EndCompleted}, steps)
			check("record call", err)
			looked[i] = id
			if again, err := db.RecordCall(ctx, lookup, ivr.CallEnd{Reason: ivr.EndCompleted}, steps); err != nil || again != id {
				errs <- fmt.Errorf("record call again: got %d, %v, want %d", again, err, id)
			}
			bad := []ivr.Step{{Seq: 1, Key: "lookup", Kind: "Not a kind", Outcome: ivr.OutcomeValid}}
			if _, err := db.RecordCall(ctx, ivr.Call{UniqueID: uid}, ivr.CallEnd{Reason: ivr.EndCompleted}, bad); !errors.Is(err, ivr.ErrInvalidValue) {
				errs <- fmt.Errorf("record call with a bad step: got %v, want an invalid value", err)
			}

			// The IVR call on the same channel: its writes of one input at
			// once, as the flows make them.
			id, err = db.StartCall(ctx, ivr.Call{SessionID: ivr.NewSessionID(), UniqueID: uid, Route: "ivr", CallerID: callerID})
			check("start call", err)
			started[i] = id
			var in sync.WaitGroup
			for seq := 1; seq <= 3; seq++ {
				in.Go(func() {
					check("append step", appendStep(ctx, db, ivr.Step{CallID: id, Seq: seq, Key: "pin", Kind: ivr.StepPrompt, Outcome: ivr.OutcomeValid}))
				})
			}
			in.Go(func() { // the same step twice is stored once
				check("append step again", appendStep(ctx, db, ivr.Step{CallID: id, Seq: 3, Key: "pin", Kind: ivr.StepPrompt, Outcome: ivr.OutcomeValid}))
			})
			for k := range 2 {
				in.Go(func() {
					v, err := db.DecidePIN(ctx, ivr.PINEntry{CallerID: callerID, CallID: id}, testLock)
					check("pin failure", err)
					failures[i][k] = v.Failures
				})
			}
			in.Go(func() { // an attempt naming a call that does not exist fails alone
				if _, err := db.DecidePIN(ctx, ivr.PINEntry{CallerID: callerID, CallID: -int64(i + 1), Right: true}, testLock); err == nil {
					errs <- errors.New("pin attempt of no call: got nil error")
				}
			})
			in.Go(func() {
				check("save response", saveResponse(ctx, db, ivr.Response{CallID: id, CallerID: callerID, Answer: fmt.Sprint(i)}))
			})
			in.Go(func() {
				if err := saveResponse(ctx, db, ivr.Response{CallID: -1, Answer: "1"}); !errors.Is(err, ivr.ErrNotFound) {
					errs <- fmt.Errorf("response of no call: got %v, want not found", err)
				}
			})
			in.Go(func() {
				if v, err := db.DecidePIN(ctx, ivr.PINEntry{CallID: id, Right: true}, testLock); err != nil || v.Accepted {
					errs <- fmt.Errorf("pin attempt of no caller: got %+v, %v, want refused", v, err)
				}
			})
			in.Wait()
			in.Go(func() {
				check("end call", endCall(ctx, db, id, ivr.CallEnd{Reason: ivr.EndHangup, Authenticated: true}))
			})
			in.Go(func() {
				if err := endCall(ctx, db, -int64(i+1), ivr.CallEnd{Reason: ivr.EndHangup}); !errors.Is(err, ivr.ErrNotFound) {
					errs <- fmt.Errorf("end of no call: got %v, want not found", err)
				}
			})
			in.Wait()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	for i := range calls {
		rec, err := db.CallByID(ctx, looked[i])
		if err != nil || rec.Call.UniqueID != fmt.Sprintf("1700000200.%d", i) || rec.Call.CallerID != callers[i].ID {
			t.Errorf("lookup call %d: ID %d is %+v, %v", i, looked[i], rec.Call, err)
		}
		if got, err := db.Steps(ctx, looked[i]); err != nil || len(got) != 1 {
			t.Errorf("lookup call %d: %d steps, %v", i, len(got), err)
		}
		rec, err = db.CallByID(ctx, started[i])
		if err != nil || rec.Call.UniqueID != fmt.Sprintf("1700000200.%d", i) || rec.End.Reason != ivr.EndHangup || !rec.End.Authenticated {
			t.Errorf("ivr call %d: ID %d is %+v, %v", i, started[i], rec, err)
		}
		sessions, err := db.CallsByUniqueID(ctx, fmt.Sprintf("1700000200.%d", i))
		if err != nil || len(sessions) != 2 || sessions[0].Call.ID == sessions[1].Call.ID ||
			!slices.ContainsFunc(sessions, func(r store.CallRecord) bool { return r.Call.ID == looked[i] && r.Call.Route == "lookup" }) ||
			!slices.ContainsFunc(sessions, func(r store.CallRecord) bool { return r.Call.ID == started[i] && r.Call.Route == "ivr" }) {
			t.Errorf("channel %d: sessions %+v, %v; want the lookup %d and the ivr call %d", i, sessions, err, looked[i], started[i])
		}
		if got, err := db.Steps(ctx, started[i]); err != nil || len(got) != 3 {
			t.Errorf("ivr call %d: %d steps, %v", i, len(got), err)
		}
		if got, err := db.Responses(ctx, started[i]); err != nil || len(got) != 1 || got[0].Answer != fmt.Sprint(i) {
			t.Errorf("ivr call %d: responses %+v, %v", i, got, err)
		}
		if f := failures[i]; min(f[0], f[1]) != 1 || max(f[0], f[1]) != 2 {
			t.Errorf("caller %d: failure counts %v, want 1 and 2", i, f)
		}
		if got, err := db.PINAttempts(ctx, callers[i].ID); err != nil || len(got) != 2 {
			t.Errorf("caller %d: %d PIN attempts audited, %v", i, len(got), err)
		}
	}
	st := db.Stats()
	if st.Batches >= st.Writes {
		t.Errorf("%d statements for %d writes: nothing shared a statement", st.Batches, st.Writes)
	}
	t.Logf("stats: %+v", st)
}

// TestCallerByPhoneConcurrent looks many numbers up at once: each gets its own
// caller or ivr.ErrNotFound, and a change committed before a lookup is asked
// is always seen (nothing is cached).
func TestCallerByPhoneConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t)
	const n = 60
	callers := make([]ivr.Caller, n)
	for i := range callers {
		callers[i] = createCaller(t, db, fmt.Sprint(7000+i), fmt.Sprintf("+1415556%04d", i))
	}
	lookAll := func(want func(i int) (int64, ivr.CallerStatus)) {
		t.Helper()
		var wg sync.WaitGroup
		for i := range 2 * n { // every number twice, and as many unknown ones
			wg.Go(func() {
				e164 := fmt.Sprintf("+1415556%04d", i%n)
				wantID, wantStatus := want(i % n)
				if i >= n && i%2 == 1 {
					e164, wantID = fmt.Sprintf("+1415557%04d", i), 0
				}
				c, err := db.CallerByPhone(ctx, e164)
				switch {
				case wantID == 0 && !errors.Is(err, ivr.ErrNotFound):
					t.Errorf("%s: %+v, %v, want not found", e164, c, err)
				case wantID != 0 && (err != nil || c.ID != wantID || c.Status != wantStatus || c.Phones[0] != e164):
					t.Errorf("%s: %+v, %v, want caller %d %s", e164, c, err, wantID, wantStatus)
				}
			})
		}
		wg.Wait()
	}
	lookAll(func(i int) (int64, ivr.CallerStatus) { return callers[i].ID, ivr.CallerActive })

	// Disable the even callers and take the numbers of every third away.
	for i, c := range callers {
		var ch store.CallerChange
		if i%2 == 0 {
			ch.Status = new(ivr.CallerDisabled)
		}
		if i%3 == 0 {
			ch.Phones = []string{fmt.Sprintf("+1415558%04d", i)}
		}
		if err := db.UpdateCaller(ctx, c.Account, ch); err != nil {
			t.Fatal(err)
		}
	}
	lookAll(func(i int) (int64, ivr.CallerStatus) {
		switch {
		case i%3 == 0:
			return 0, ""
		case i%2 == 0:
			return callers[i].ID, ivr.CallerDisabled
		}
		return callers[i].ID, ivr.CallerActive
	})
}

// TestGroupCommitClosed: writes after Close fail with ErrClosed, and a write
// whose ctx has ended does not wait.
func TestGroupCommitClosed(t *testing.T) {
	t.Parallel()
	db, err := store.Open(context.Background(), testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.StartCall(ctx, ivr.Call{UniqueID: "1"}); !errors.Is(err, context.Canceled) {
		t.Errorf("with a cancelled ctx: %v", err)
	}
	db.Close()
	_, err = db.StartCall(context.Background(), ivr.Call{UniqueID: "2", StartedAt: time.Now()})
	if !errors.Is(err, store.ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}

// BenchmarkAppendStep measures journal writes from 50 concurrent writers,
// with group commit and with every write committed on its own.
func BenchmarkAppendStep(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts store.Options
	}{
		{"group", store.Options{}},
		{"single", store.Options{MaxBatch: 1}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			db, err := store.OpenWith(ctx, testdb.URL(b), bc.opts)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			var mu sync.Mutex
			next := 0
			b.SetParallelism(25) // 50 writers on 2 CPUs
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				mu.Lock()
				next++
				n := next
				mu.Unlock()
				start := time.Now()
				id, err := db.StartCall(ctx, ivr.Call{UniqueID: fmt.Sprintf("bench.%d", n), StartedAt: start})
				if err != nil {
					b.Error(err)
					return
				}
				for seq := 1; pb.Next(); seq++ {
					// The call's start goes with each write, as the flows' do.
					err := db.Write(ctx, ivr.Entry{CallID: id, CallStartedAt: start,
						Steps: []ivr.Step{{CallID: id, Seq: seq, Key: "k", Kind: ivr.StepInput, Outcome: ivr.OutcomeValid}}})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			st := db.Stats()
			b.ReportMetric(float64(st.Writes)/float64(max(st.Commits, 1)), "writes/commit")
		})
	}
}

// appendStep writes one journal step as the entry of its call.
func appendStep(ctx context.Context, db *store.DB, s ivr.Step) error {
	return db.Write(ctx, ivr.Entry{CallID: s.CallID, Steps: []ivr.Step{s}})
}

// saveResponse writes one answer as the entry of its call.
func saveResponse(ctx context.Context, db *store.DB, r ivr.Response) error {
	return db.Write(ctx, ivr.Entry{CallID: r.CallID, Response: &r})
}

// endCall closes a call with an entry of its own.
func endCall(ctx context.Context, db *store.DB, id int64, end ivr.CallEnd) error {
	return db.Write(ctx, ivr.Entry{CallID: id, End: &end})
}
