package store_test

import (
	"context"
	"errors"
	"fmt"
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
				if err := db.AppendStep(ctx, s); err != nil {
					errs <- err
				}
				if seq%5 == 0 {
					// A write that fails (an unknown call) in the middle of the others.
					bad := s
					bad.CallID = -int64(i + 1)
					if err := db.AppendStep(ctx, bad); !errors.Is(err, ivr.ErrNotFound) {
						errs <- fmt.Errorf("bad step: got %v, want not found", err)
					}
					// And a duplicate call, a conflict.
					if _, err := db.StartCall(ctx, ivr.Call{UniqueID: fmt.Sprintf("1700000100.%d", i)}); !errors.Is(err, ivr.ErrConflict) {
						errs <- fmt.Errorf("duplicate call: got %v, want a conflict", err)
					}
				}
			}
			if err := db.EndCall(ctx, id, ivr.CallEnd{Reason: ivr.EndHangup}); err != nil {
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
		{"single", store.Options{MaxBatch: 1, Committers: 16}},
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
				id, err := db.StartCall(ctx, ivr.Call{UniqueID: fmt.Sprintf("bench.%d", n)})
				if err != nil {
					b.Error(err)
					return
				}
				for seq := 1; pb.Next(); seq++ {
					if err := db.AppendStep(ctx, ivr.Step{CallID: id, Seq: seq, Key: "k", Kind: ivr.StepInput, Outcome: ivr.OutcomeValid}); err != nil {
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
