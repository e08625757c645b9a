package pglocal_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ivrhq/ivr/internal/pglocal"
)

// TestStartCreateStop starts a server from the installed binaries, creates a
// database, uses it, stops the server, and starts it again on the same data.
func TestStartCreateStop(t *testing.T) {
	ctx := context.Background()
	dir, err := pglocal.TempDir("pglocal-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cfg := pglocal.Config{DataDir: filepath.Join(dir, "data"), SocketDir: filepath.Join(dir, "run"), NoFsync: true}

	srv, err := pglocal.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.CreateDatabase(ctx, "ivr_test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.CreateDatabase(ctx, "ivr_test"); err != nil {
		t.Fatalf("creating an existing database again: %v", err)
	}
	if got := querySetting(t, url, "fsync"); got != "off" {
		t.Errorf("fsync = %q, want off", got)
	}
	if got := querySetting(t, url, "listen_addresses"); got != "" {
		t.Errorf("listen_addresses = %q, want none (unix socket only)", got)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := pgx.Connect(ctx, url); err == nil {
		t.Fatal("connected to a stopped server")
	}

	// A second start reuses the initialised data directory.
	srv, err = pglocal.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	conn, err = pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v int
	if err := conn.QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != 42 {
		t.Fatalf("after restart: v=%d err=%v, want 42", v, err)
	}
}

func querySetting(t *testing.T, url, name string) string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var v string
	if err := conn.QueryRow(context.Background(), "SELECT current_setting($1)", name).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
