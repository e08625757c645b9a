package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ivrhq/ivr/internal/pglocal"
	"github.com/ivrhq/ivr/internal/store"
)

// readOnlyCommands are the commands that take -reports-database-url: those
// that only read, in bulk, what is stored. Every other command works on
// -database-url alone.
var readOnlyCommands = map[string]bool{
	"report": true, "callers export": true, "menus export": true, "surveys export": true, "recordings verify": true,
}

func TestReportsDatabaseOnlyOnReadOnlyCommands(t *testing.T) {
	for _, c := range append(leafCommands, struct {
		args []string
		flag string
	}{[]string{"surveys", "export"}, ""}) {
		name := strings.Join(c.args, " ")
		out, _, code := runArgs(nil, append(c.args[:len(c.args):len(c.args)], "-h")...)
		if code != 0 {
			t.Fatalf("ivr %s -h: exit status %d", name, code)
		}
		has := strings.Contains(out, "--reports-database-url ") && strings.Contains(out, "$IVR_REPORTS_DATABASE_URL]") &&
			strings.Contains(out, "--reports-database-url-file ") && strings.Contains(out, "$IVR_REPORTS_DATABASE_URL_FILE]")
		if has != readOnlyCommands[name] {
			t.Errorf("ivr %s: -reports-database-url and its -file twin listed: %v, want %v", name, has, readOnlyCommands[name])
		}
	}
}

// TestReportsOnAStreamingReplica runs the reports and exports on a streaming
// replica of a primary of the test's own: a PostgreSQL copied with
// pg_basebackup and started as a hot standby, which gets the calls, callers
// and menus from the primary by streaming replication. Read through
// -reports-database-url (from each of its sources), with -database-url
// naming no server at all, every report and export prints what it prints
// on the primary. A write pointed at the standby fails as one in a read-only
// transaction.
func TestReportsOnAStreamingReplica(t *testing.T) {
	ctx := context.Background()
	// A primary of its own: the test binary's shared server holds every
	// other test's databases, and TEST_DATABASE_URL may name a server this
	// test cannot copy.
	dir, err := pglocal.TempDir("ivr-replica-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// fsync off, but each commit flushed to the WAL at once, as on a
	// production server: the lag logged below is the one a replica shows.
	primary, err := pglocal.Start(ctx, pglocal.Config{DataDir: filepath.Join(dir, "primary"), SocketDir: filepath.Join(dir, "p"),
		NoFsync: true, Settings: map[string]string{"synchronous_commit": "on"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { primary.Stop() })
	url, err := primary.CreateDatabase(ctx, "ivr")
	if err != nil {
		t.Fatal(err)
	}
	onPrimary := map[string]string{"DATABASE_URL": url}
	mustRun := func(vars map[string]string, args ...string) {
		t.Helper()
		if _, errOut, code := runArgs(vars, args...); code != 0 {
			t.Fatalf("ivr %s: exit status %d: %s", strings.Join(args, " "), code, errOut)
		}
	}
	mustRun(onPrimary, "migrate", "up")

	// The standby starts from the empty schema: the data below reaches it by
	// streaming, not in the base backup.
	standby, err := primary.StartStandby(ctx, pglocal.Config{DataDir: filepath.Join(dir, "standby"), SocketDir: filepath.Join(dir, "s"), NoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { standby.Stop() })
	replica := standby.URL("ivr")

	mustRun(onPrimary, "gen-data", "--calls", "3000", "--days", "7", "--start", "2026-03-01", "--seed", "14", "--no-progress")
	lag, err := primary.CatchUp(ctx, standby)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the standby caught up %v after the primary's last write", lag)

	recordings := t.TempDir()
	var commands [][]string
	for _, r := range reports() {
		commands = append(commands, []string{"report", r.name, "--from", "2026-03-01", "--to", "2026-03-07", "--format", "csv"})
	}
	commands = append(commands, []string{"callers", "export"}, []string{"menus", "export"}, []string{"surveys", "export"},
		[]string{"recordings", "verify", "--dir", recordings})

	// A primary that is not there: whatever reads it fails.
	nowhere := "postgres://ivr@/ivr?host=" + filepath.Join(dir, "nowhere") + "&connect_timeout=1"
	// The replica's URL from each of its sources for the first command, from
	// the environment for the others.
	sources := secretSources(t, "reports-database-url", "IVR_REPORTS_DATABASE_URL", replica)
	printed := 0
	for i, args := range commands {
		name := strings.Join(args[:2], " ")
		wantOut, wantErr, wantCode := runArgs(onPrimary, args...)
		if wantCode != 0 && name != "recordings verify" { // verify finds no files: status 1 both times
			t.Fatalf("ivr %s on the primary: exit status %d: %s", name, wantCode, wantErr)
		}
		printed += strings.Count(wantOut, "\n")
		for how, src := range sources {
			if i > 0 && how != "env" {
				continue
			}
			vars := map[string]string{"DATABASE_URL": nowhere}
			for k, v := range src.vars {
				vars[k] = v
			}
			out, errOut, code := runArgs(vars, slices.Concat(args, src.args)...)
			if out != wantOut || errOut != wantErr || code != wantCode {
				t.Errorf("ivr %s on the standby (URL from %s): exit status %d, want %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s\nwant:\n%s",
					name, how, code, wantCode, out, wantOut, errOut, wantErr)
			}
		}
	}
	// The generated data shows in the outputs compared: 3,000 calls over
	// 7 days fill several hundred lines.
	if printed < 500 {
		t.Errorf("the reports and exports printed %d lines on the primary; the generated data is missing", printed)
	}

	// The store the reports open on the standby keeps the operator
	// commands' statement timeout.
	f := newFlags(&env{getenv: envMap(nil)}, "report", "", "")
	d := f.reportsDatabase()
	if _, err := f.parse([]string{"-reports-database-url", replica}, 0, 0); err != nil {
		t.Fatal(err)
	}
	s, err := d.Store(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var timeout string
	var recovering bool
	err = s.Pool().QueryRow(ctx, "SELECT current_setting('statement_timeout'), pg_is_in_recovery()").Scan(&timeout, &recovering)
	if err != nil || timeout != "1min" || !recovering {
		t.Errorf("reports store: statement_timeout %q, in recovery %v, err %v; want 1min on the standby", timeout, recovering, err)
	}

	// A server pointed at the standby is not ready: it could not record
	// calls. One pointed at the primary is.
	var nr *notReady
	if err := readyOn(ctx, s); !errors.As(err, &nr) || !strings.Contains(nr.Reason, "read-only") {
		t.Errorf("readiness on the standby: %v, want not ready: the database is read-only", err)
	}
	s.Close()
	p, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if err := readyOn(ctx, p); err != nil {
		t.Errorf("readiness on the primary: %v", err)
	}
	p.Close()

	// Writes go to the primary: one sent to the standby fails and says why.
	_, errOut, code := runArgs(map[string]string{"DATABASE_URL": replica}, "callers", "add", "990001", "--name", "Nobody")
	if code != 1 || !strings.Contains(errOut, "read-only transaction") {
		t.Errorf("ivr callers add on the standby: exit status %d, want 1 with a read-only transaction error; stderr:\n%s", code, errOut)
	}
}

// readyOn is the /readyz check of a server on st.
func readyOn(ctx context.Context, st *store.DB) error {
	sch := newSchema(st)
	defer sch.Close()
	return ready(ctx, sch, st)
}
