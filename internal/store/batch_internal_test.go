package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ivrhq/ivr/internal/testdb"
)

// testBatcher is a batcher whose writes are integers inserted into table gc
// (v integer PRIMARY KEY CHECK (v > 0)) in one statement; each write's result
// is its value.
func testBatcher(t *testing.T, pool *pgxpool.Pool, stats *counters) *batcher[int, int64] {
	t.Helper()
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "CREATE TABLE IF NOT EXISTS gc (v integer PRIMARY KEY CHECK (v > 0))"); err != nil {
		t.Fatal(err)
	}
	return &batcher[int, int64]{pool: pool, stats: stats, max: 256, pid: new(atomic.Uint32),
		run: func(ctx context.Context, conn *pgxpool.Conn, vs []int) ([]int64, error) {
			rows, err := conn.Query(ctx, "INSERT INTO gc SELECT unnest($1::integer[]) RETURNING v", vs)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			var out []int64
			for rows.Next() {
				var v int64
				if err := rows.Scan(&v); err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			return out, rows.Err()
		},
		resend: func(int) bool { return true },
	}
}

// TestBatchIsolatesFailures sends one statement with two failing writes among
// good ones: the server refuses it, and sent again one write at a time each
// write gets its own result, and the good ones are committed.
func TestBatchIsolatesFailures(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	stats := new(counters)
	b := testBatcher(t, pool, stats)
	vs := []int{1, 1, 2, -1, 3} // a unique violation and a check violation
	batch := make([]*pending[int, int64], len(vs))
	for i, v := range vs {
		batch[i] = &pending[int, int64]{w: v, done: make(chan struct{}), lead: make(chan struct{}), deadline: time.Now().Add(time.Minute)}
	}
	b.commit(batch)
	for i, p := range batch {
		<-p.done
		var pgErr *pgconn.PgError
		switch i {
		case 1:
			if !errors.As(p.err, &pgErr) || pgErr.Code != pgerrcode.UniqueViolation {
				t.Errorf("write %d: %v, want a unique violation", i, p.err)
			}
		case 3:
			if !errors.As(p.err, &pgErr) || pgErr.Code != pgerrcode.CheckViolation {
				t.Errorf("write %d: %v, want a check violation", i, p.err)
			}
		default:
			if p.err != nil || p.r != int64(vs[i]) {
				t.Errorf("write %d: %d, %v; want %d, nil", i, p.r, p.err, vs[i])
			}
		}
	}
	assertValues(t, pool, 3)
	if n := stats.commits.Load(); n != 3 {
		t.Errorf("%d commits, want 3 (the good writes, one at a time)", n)
	}
	if n := stats.retries.Load(); n != 1 {
		t.Errorf("%d retries, want 1", n)
	}
}

func assertValues(t *testing.T, pool *pgxpool.Pool, want int) {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM gc").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Errorf("%d rows stored, want %d", n, want)
	}
}

// TestBatchGroupsWaitingWrites holds a first statement on a row lock while
// more writes arrive: they wait, and once the first has committed they go
// out together as one statement, each with its own result. A write whose ctx
// ends while it waits returns at once and is never written.
func TestBatchGroupsWaitingWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	stats := new(counters)
	b := testBatcher(t, pool, stats)
	lock, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(ctx)
	if _, err := lock.Exec(ctx, "INSERT INTO gc VALUES (1)"); err != nil { // holds key 1
		t.Fatal(err)
	}
	results := make(chan error, 12)
	go func() { _, err := b.do(ctx, 1); results <- err }()
	waitForLockWait(t, pool)

	var wg sync.WaitGroup
	for v := 2; v <= 11; v++ {
		wg.Go(func() {
			r, err := b.do(ctx, v)
			if err == nil && r != int64(v) {
				err = errors.New("wrong result")
			}
			results <- err
		})
	}
	gone, cancel := context.WithCancel(ctx)
	withdrawn := make(chan error, 1)
	go func() { _, err := b.do(gone, 100); withdrawn <- err }()
	waitFor(t, "11 writes waiting", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.waiting) == 11
	})
	cancel()
	if err := <-withdrawn; !errors.Is(err, context.Canceled) {
		t.Errorf("a waiting write whose ctx ended: %v, want context.Canceled", err)
	}
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for range 11 {
		if err := <-results; err != nil {
			t.Error(err)
		}
	}
	assertValues(t, pool, 11)
	if n := stats.commits.Load(); n != 2 {
		t.Errorf("%d commits, want 2: the first write, then the 10 that waited for it", n)
	}
	if b.busy || len(b.waiting) != 0 {
		t.Errorf("the batcher is not idle: busy %v, %d waiting", b.busy, len(b.waiting))
	}
}

// TestBatchKeys: writes of one key never share a statement; the later one
// goes in the next.
func TestBatchKeys(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	b := testBatcher(t, pool, new(counters))
	b.key = func(v int) int64 { return int64(v % 10) }
	for _, v := range []int{1, 2, 11, 3, 21, 12} {
		b.waiting = append(b.waiting, &pending[int, int64]{w: v})
	}
	var got [][]int
	for len(b.waiting) > 0 {
		var vs []int
		for _, p := range b.take() {
			vs = append(vs, p.w)
		}
		got = append(got, vs)
	}
	want := [][]int{{1, 2, 3}, {11, 12}, {21}}
	if len(got) != len(want) {
		t.Fatalf("statements %v, want %v", got, want)
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("statements %v, want %v", got, want)
		}
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Fatalf("statements %v, want %v", got, want)
			}
		}
	}
}

// TestBatchCancelStorm runs many concurrent writes, a third of them with a
// ctx that ends at a random moment: every call returns, every write that
// returned nil is stored, and the batcher ends idle, whoever was to send the
// next statement when its ctx ended.
func TestBatchCancelStorm(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	b := testBatcher(t, pool, new(counters))
	var (
		wg sync.WaitGroup
		mu sync.Mutex
		ok []int
	)
	for v := 1; v <= 600; v++ {
		wg.Go(func() {
			wctx := ctx
			if v%3 == 0 {
				var cancel context.CancelFunc
				wctx, cancel = context.WithTimeout(ctx, time.Duration(rand.IntN(3000))*time.Microsecond)
				defer cancel()
			}
			if _, err := b.do(wctx, v); err == nil {
				mu.Lock()
				ok = append(ok, v)
				mu.Unlock()
			} else if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("write %d: %v", v, err)
			}
		})
	}
	wg.Wait()
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM gc WHERE v = ANY($1)", ok).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(ok) {
		t.Errorf("%d of the %d writes that returned nil are stored", n, len(ok))
	}
	if b.busy || len(b.waiting) != 0 {
		t.Errorf("the batcher is not idle: busy %v, %d waiting", b.busy, len(b.waiting))
	}
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// waitForLockWait returns once a session of the test's database waits for a
// lock.
func waitForLockWait(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	waitFor(t, "a statement waiting for a lock", func() bool {
		var n int
		err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n > 0
	})
}
