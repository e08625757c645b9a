package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ivrhq/ivr/db"
	"github.com/ivrhq/ivr/internal/testdb"
)

// runIVR runs the ivr command with args and the environment env, and returns
// what it printed.
func runIVR(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
	return stdout.String() + stderr.String(), err
}

// appliedVersions returns the schema versions goose recorded as applied.
func appliedVersions(t *testing.T, url string) []int64 {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('goose_db_version') IS NOT NULL").Scan(&exists); err != nil || !exists {
		return nil
	}
	rows, err := conn.Query(ctx, `SELECT version_id FROM goose_db_version WHERE version_id > 0 AND is_applied ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	return versions
}

func tableExists(t *testing.T, url, table string) bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", table).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	return exists
}

func TestMigrateUpDownStatus(t *testing.T) {
	t.Parallel()
	url := testdb.EmptyURL(t)
	env := map[string]string{"DATABASE_URL": url}
	latest, latestFile := db.LatestVersion()

	out, err := runIVR(t, env, "migrate", "status")
	if err != nil {
		t.Fatalf("status on an empty database: %v\n%s", err, out)
	}
	if !strings.Contains(out, "00001_callers.sql") || !strings.Contains(out, "pending") || strings.Contains(out, "applied") {
		t.Errorf("status on an empty database:\n%s", out)
	}

	out, err = runIVR(t, env, "migrate", "up")
	if err != nil {
		t.Fatalf("up: %v\n%s", err, out)
	}
	for _, f := range []string{"00001_callers.sql", "00002_catalog.sql", "00003_calls.sql", latestFile} {
		if !strings.Contains(out, f) {
			t.Errorf("up did not report %s:\n%s", f, out)
		}
	}
	if v := appliedVersions(t, url); len(v) == 0 || v[len(v)-1] != latest {
		t.Fatalf("after up, applied %v, want up to %d", v, latest)
	}
	if !tableExists(t, url, "call_steps") {
		t.Fatal("after up, no call_steps table")
	}
	out, err = runIVR(t, env, "migrate", "up")
	if err != nil || !strings.Contains(out, "no migrations to apply") {
		t.Errorf("up again: %v\n%s", err, out)
	}

	out, err = runIVR(t, env, "migrate", "status")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "pending") || !strings.Contains(out, "applied") {
		t.Errorf("status after up:\n%s", out)
	}

	// down rolls back one step.
	if out, err = runIVR(t, env, "migrate", "down"); err != nil {
		t.Fatalf("down: %v\n%s", err, out)
	}
	if v := appliedVersions(t, url); len(v) == 0 || v[len(v)-1] >= latest {
		t.Fatalf("after down, applied %v", v)
	}
	// redo rolls the newest back and applies it again.
	if out, err = runIVR(t, env, "migrate", "redo"); err != nil {
		t.Fatalf("redo: %v\n%s", err, out)
	}
	// down-to 0 empties the database; down then has nothing to do.
	if out, err = runIVR(t, env, "migrate", "down-to", "0"); err != nil {
		t.Fatalf("down-to 0: %v\n%s", err, out)
	}
	if v := appliedVersions(t, url); len(v) != 0 {
		t.Fatalf("after down-to 0, applied %v", v)
	}
	for _, table := range []string{"callers", "caller_phones", "menus", "calls", "call_steps", "pin_attempts"} {
		if tableExists(t, url, table) {
			t.Errorf("after down-to 0, table %s is still there", table)
		}
	}
	if out, err = runIVR(t, env, "migrate", "down"); err != nil || !strings.Contains(out, "nothing to roll back") {
		t.Errorf("down at zero: %v\n%s", err, out)
	}

	// up-to, with the flag after the action, then up again.
	if out, err = runIVR(t, nil, "migrate", "up-to", "2", "--database-url", url); err != nil {
		t.Fatalf("up-to 2: %v\n%s", err, out)
	}
	if v := appliedVersions(t, url); fmt.Sprint(v) != "[1 2]" {
		t.Fatalf("after up-to 2, applied %v", v)
	}
	if out, err = runIVR(t, env, "migrate", "up"); err != nil {
		t.Fatalf("up after down: %v\n%s", err, out)
	}
	if v := appliedVersions(t, url); len(v) == 0 || v[len(v)-1] != latest {
		t.Fatalf("after up again, applied %v", v)
	}
}

// TestMigrateConcurrent starts two migrations of one empty database at once:
// they take turns, both succeed, and every migration is applied once.
func TestMigrateConcurrent(t *testing.T) {
	t.Parallel()
	url := testdb.EmptyURL(t)
	env := map[string]string{"DATABASE_URL": url}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	outs := make([]string, 2)
	for i := range 2 {
		wg.Go(func() { outs[i], errs[i] = runIVR(t, env, "migrate", "up") })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrate up #%d: %v\n%s", i, err, outs[i])
		}
	}
	v := appliedVersions(t, url)
	seen := map[int64]bool{}
	for _, x := range v {
		if seen[x] {
			t.Errorf("version %d applied twice: %v", x, v)
		}
		seen[x] = true
	}
	if latest, _ := db.LatestVersion(); len(v) == 0 || v[len(v)-1] != latest {
		t.Errorf("applied %v, want up to %d", v, latest)
	}
}

func TestMigrateUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"migrate"}, nil, "no action"},
		{[]string{"migrate", "sideways"}, nil, "unknown action"},
		{[]string{"migrate", "up-to"}, nil, "one version number"},
		{[]string{"migrate", "down-to", "x"}, nil, "not a version number"},
		{[]string{"migrate", "up"}, nil, "DATABASE_URL"},
	} {
		_, err := runIVR(t, tc.env, tc.args...)
		var u usageError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ivr %s: error %v, want a usage error about %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	out, err := runIVR(t, nil, "version")
	if err != nil {
		t.Fatal(err)
	}
	latest, file := db.LatestVersion()
	if latest < 3 || !strings.HasPrefix(out, "ivr ") || !strings.Contains(out, fmt.Sprintf("schema %d (%s)", latest, file)) {
		t.Errorf("version printed:\n%s", out)
	}
}
