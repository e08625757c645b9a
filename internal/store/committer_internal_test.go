package store

import (
	"context"
	"errors"
	"testing"

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
