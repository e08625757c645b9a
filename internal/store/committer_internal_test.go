package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ivrhq/ivr/internal/testdb"
)

// TestCommitIsolatesFailures sends one batch with two failing writes among
// good ones: each write gets its own result, and the good ones are committed.
func TestCommitIsolatesFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	if _, err := pool.Exec(ctx, "CREATE TABLE gc (v integer PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	stats := new(counters)
	c := newCommitter(pool, stats, Options{Committers: 1})
	defer c.close()

	var got [3]int
	ops := []*op{
		newOp("INSERT INTO gc VALUES (1)", nil, true, nil),
		newOp("INSERT INTO gc VALUES (1)", nil, true, nil), // unique violation
		newOp("INSERT INTO gc VALUES (2) RETURNING v", nil, false, []any{&got[0]}),
		newOp("SELECT 1 / 0", nil, false, []any{&got[1]}),                  // division by zero
		newOp("SELECT v FROM gc WHERE v = 42", nil, false, []any{&got[2]}), // no rows: a result, not a failure
		newOp("INSERT INTO gc VALUES (3)", nil, true, nil),
	}
	c.commit(ops)
	for i, o := range ops {
		<-o.done
		var pgErr *pgconn.PgError
		switch i {
		case 1:
			if !errors.As(o.err, &pgErr) || pgErr.Code != pgerrcode.UniqueViolation {
				t.Errorf("op %d: %v, want a unique violation", i, o.err)
			}
		case 3:
			if !errors.As(o.err, &pgErr) || pgErr.Code != pgerrcode.DivisionByZero {
				t.Errorf("op %d: %v, want division by zero", i, o.err)
			}
		case 4:
			if mapErr(o.err) == nil {
				t.Errorf("op %d: no error, want no rows", i)
			}
		default:
			if o.err != nil {
				t.Errorf("op %d: %v", i, o.err)
			}
		}
	}
	if got[0] != 2 {
		t.Errorf("RETURNING scanned %d, want 2", got[0])
	}
	assertValues(t, pool, 3)
	if n := stats.commits.Load(); n != 1 {
		t.Errorf("%d commits, want 1", n)
	}
	if n := stats.retries.Load(); n != 2 {
		t.Errorf("%d retries, want 2", n)
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

// TestCommitAbandonPrompt: a caller whose ctx ends while its statement waits
// on the server (here for a row lock) gets ctx.Err() at once, not when the
// statement finishes; the write is still committed once the lock is gone.
func TestCommitAbandonPrompt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	if _, err := pool.Exec(ctx, "CREATE TABLE gc (v integer PRIMARY KEY, n integer NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "INSERT INTO gc VALUES (1, 0), (2, 0)"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		o    func(dest *int) *op
	}{
		{"exec", func(*int) *op { return newOp("UPDATE gc SET n = n + 1 WHERE v = 1", nil, true, nil) }},
		{"query row", func(dest *int) *op {
			return newOp("UPDATE gc SET n = n + 1 WHERE v = 2 RETURNING n", nil, false, []any{dest})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCommitter(pool, new(counters), Options{Committers: 1})
			defer c.close()
			lock, err := pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer lock.Rollback(ctx) // after a failure, lets the write end
			if _, err := lock.Exec(ctx, "SELECT * FROM gc FOR UPDATE"); err != nil {
				t.Fatal(err)
			}
			wctx, cancel := context.WithCancel(ctx)
			var dest int
			done := make(chan error, 1)
			go func() { done <- c.do(wctx, tc.o(&dest)) }()
			waitForLockWait(t, pool)
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("do: %v, want context.Canceled", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("do still waits for the statement after its ctx ended")
			}
			if err := lock.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			c.close() // waits for the batch the caller gave up on
			if dest != 0 {
				t.Errorf("the result reached the caller after it stopped waiting: %d", dest)
			}
		})
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT sum(n) FROM gc").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("%d writes committed, want both", n)
	}
}

// waitForLockWait returns once a session of the test's database waits for a
// lock.
func waitForLockWait(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	for range 1000 {
		var n int
		err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no statement waits for the lock")
}
