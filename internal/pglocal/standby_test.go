package pglocal

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// primaryAndStandby starts a server and a streaming replica of it, each on a
// socket directory of its own, both stopped when tb ends.
func primaryAndStandby(tb testing.TB) (primary, standby *Server) {
	tb.Helper()
	ctx := context.Background()
	dir, err := TempDir("pglocal-standby-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	// fsync off, but each commit flushed to the WAL at once, as on a
	// production server.
	primary, err = Start(ctx, Config{DataDir: filepath.Join(dir, "primary"), SocketDir: filepath.Join(dir, "p"),
		NoFsync: true, Settings: map[string]string{"synchronous_commit": "on"}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { primary.Stop() })
	standby, err = primary.StartStandby(ctx, Config{DataDir: filepath.Join(dir, "standby"), SocketDir: filepath.Join(dir, "s"), NoFsync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { standby.Stop() })
	return primary, standby
}

// execSQL runs sql on the database at url.
func execSQL(tb testing.TB, url, sql string) error {
	tb.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(context.Background(), sql)
	return err
}

// TestStandbyFollowsThePrimary writes on the primary after the base backup
// and reads it on the standby once caught up; a write on the standby is
// refused as one in a read-only transaction.
func TestStandbyFollowsThePrimary(t *testing.T) {
	ctx := context.Background()
	primary, standby := primaryAndStandby(t)
	url, err := primary.CreateDatabase(ctx, "ivr")
	if err != nil {
		t.Fatal(err)
	}
	if err := execSQL(t, url, "CREATE TABLE kept (v int); INSERT INTO kept SELECT generate_series(1, 1000)"); err != nil {
		t.Fatal(err)
	}
	lag, err := primary.CatchUp(ctx, standby)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the standby caught up %v after the primary's last write (a CREATE DATABASE among them)", lag)

	conn, err := pgx.Connect(ctx, standby.URL("ivr"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n, sum int
	var recovering bool
	if err := conn.QueryRow(ctx, "SELECT count(*), sum(v), pg_is_in_recovery() FROM kept").Scan(&n, &sum, &recovering); err != nil {
		t.Fatal(err)
	}
	if n != 1000 || sum != 500500 || !recovering {
		t.Errorf("on the standby: %d rows summing to %d, in recovery %v; want 1000 rows summing to 500500, in recovery", n, sum, recovering)
	}
	_, err = conn.Exec(ctx, "INSERT INTO kept VALUES (0)")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != pgerrcode.ReadOnlySQLTransaction {
		t.Errorf("write on the standby: %v, want SQLSTATE %s (read-only transaction)", err, pgerrcode.ReadOnlySQLTransaction)
	}

	// CatchUp with a server that is no standby says so instead of waiting.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := primary.CatchUp(ctx, primary); err == nil || !strings.Contains(err.Error(), "not in recovery") {
		t.Errorf("catching the primary up with itself: %v, want an error saying it is not in recovery", err)
	}
}

// BenchmarkReplicaLag measures the replica lag on this machine: each
// operation commits a one-row insert on the primary and waits until the
// standby has replayed it, asking every millisecond.
func BenchmarkReplicaLag(b *testing.B) {
	ctx := context.Background()
	primary, standby := primaryAndStandby(b)
	if err := execSQL(b, primary.URL("postgres"), "CREATE TABLE lag (at timestamptz)"); err != nil {
		b.Fatal(err)
	}
	p, err := pgx.Connect(ctx, primary.URL("postgres"))
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(ctx)
	s, err := pgx.Connect(ctx, standby.URL("postgres"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close(ctx)
	for b.Loop() {
		var lsn string
		if err := p.QueryRow(ctx, "INSERT INTO lag VALUES (now()) RETURNING pg_current_wal_lsn()::text").Scan(&lsn); err != nil {
			b.Fatal(err)
		}
		if err := waitReplayed(ctx, s, lsn); err != nil {
			b.Fatal(err)
		}
	}
}
