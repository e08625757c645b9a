package testdb_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ivrhq/ivr/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// TestNewIsMigratedAndPrivate: every test database has the whole schema, and
// what one test writes another does not see.
func TestNewIsMigratedAndPrivate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for i := range 2 {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			pool := testdb.New(t)
			var tables int
			err := pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables
				WHERE table_schema = 'public' AND table_name IN ('callers', 'calls', 'call_steps')`).Scan(&tables)
			if err != nil {
				t.Fatal(err)
			}
			if tables != 3 {
				t.Fatalf("found %d of the 3 tables checked", tables)
			}
			var n int
			if err := pool.QueryRow(ctx, "SELECT count(*) FROM callers").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("a fresh database has %d callers", n)
			}
			if _, err := pool.Exec(ctx, "INSERT INTO callers (account) VALUES ($1)", strconv.Itoa(1000+i)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestEmptyURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testdb.EmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('callers') IS NOT NULL").Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatal("EmptyURL gave a database with the schema")
	}
}
