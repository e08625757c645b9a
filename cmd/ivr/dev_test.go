package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/pglocal"
	"github.com/ivrhq/ivr/internal/testdb"
)

// exportLine is the line of ivr dev's welcome that gives its database.
var exportLine = regexp.MustCompile(`(?m)^  export DATABASE_URL='([^']+)'$`)

// logIn calls the IVR of p as the caller with phone and PIN pin, hangs up at
// the main menu, and reports whether the caller reached it.
func logIn(t *testing.T, p *ivrProcess, phone, pin string) bool {
	t.Helper()
	c := &agiclient.Call{
		Script: "ivr?menu=main",
		Env:    map[string]string{"agi_callerid": phone},
		Keys:   []string{pin + "#", agiclient.Hangup},
	}
	tr, err := c.Run(t.Context(), p.agiAddr)
	if err != nil {
		t.Fatalf("call: %v\n%s", err, tr)
	}
	return heardWords(tr.Prompts(), mainMenuWords)
}

// TestDev runs `ivr dev` from the top of the source tree, as `make run` does,
// on a fresh data directory with no DATABASE_URL, so it starts its own
// PostgreSQL and loads the demo data; a demo caller logs in. An operator then
// changes a PIN, disables a caller and locks one out through the printed
// DATABASE_URL: the second run keeps all of it and stores no new menu
// versions. A third run with -reset starts over with the demo data.
func TestDev(t *testing.T) {
	bin := buildIVR(t)
	// Not t.TempDir: when the tests run as root, the PostgreSQL server user
	// must be able to reach the data directory.
	dir, err := pglocal.TempDir("ivr-dev-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	dataDir := filepath.Join(dir, "data")
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	alice, bob := demoCallers[0], demoCallers[1]
	const newPIN = "8264"

	start := func(args ...string) (*ivrProcess, string) {
		t.Helper()
		p := startIVR(t, bin, root, nil, append([]string{"dev", "-data-dir", dataDir}, args...)...)
		return p, p.waitStdout("Stop with Ctrl-C")
	}
	stop := func(p *ivrProcess) {
		t.Helper()
		p.signal(syscall.SIGINT)
		if err := p.wait(); err != nil {
			t.Errorf("exit after SIGINT: %v\n%s", err, p.stderr.String())
		}
	}

	// Run 1: a new data directory.
	p, out := start()
	_, port, _ := net.SplitHostPort(p.agiAddr)
	for _, want := range []string{
		"AGI(agi://", ":" + port + "/lookup)", ":" + port + "/ivr?menu=main)",
		alice.account, alice.pin, "ivr call -addr 127.0.0.1:" + port,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("run 1: the welcome text has no %q:\n%s", want, out)
		}
	}
	m := exportLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("run 1: no export DATABASE_URL line:\n%s", out)
	}
	url := m[1]
	if !logIn(t, p, alice.phone, alice.pin) {
		t.Errorf("run 1: the demo caller never reached the main menu\n%s", p.stderr.String())
	}
	env := map[string]string{"DATABASE_URL": url, "IVR_PIN_KEY_FILE": filepath.Join(dataDir, "pin.key")}
	for _, args := range [][]string{
		{"callers", "set-pin", alice.account, "--pin-stdin"},
		{"callers", "update", bob.account, "--status", "disabled"},
	} {
		var stdout, stderr strings.Builder
		if err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(newPIN+"\n"), &stdout, &stderr); err != nil {
			t.Fatalf("ivr %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
	}
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(context.Background(), `UPDATE callers SET locked_until = now() + interval '1 hour', pin_failures = 5 WHERE account = '1003'`); err != nil {
		t.Fatal(err)
	}
	count := func(sql string) int {
		t.Helper()
		var n int
		if err := pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return n
	}
	versions := count(`SELECT (SELECT count(*) FROM menu_versions) + (SELECT count(*) FROM survey_versions)`)
	stop(p)
	pool.Close()

	// Run 2: the same data directory keeps the operator's work.
	p, out = start()
	if strings.Contains(out, alice.pin) || !strings.Contains(out, "The data of earlier runs is kept") || exportLine.FindString(out) == "" {
		t.Errorf("run 2: the welcome text should keep the data, print the URL and no demo PIN:\n%s", out)
	}
	if logIn(t, p, alice.phone, alice.pin) {
		t.Error("run 2: the demo PIN works again: the changed PIN was reset")
	}
	if !logIn(t, p, alice.phone, newPIN) {
		t.Errorf("run 2: the PIN changed by the operator does not work\n%s", p.stderr.String())
	}
	if pool, err = pgxpool.New(context.Background(), url); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM callers WHERE account = '1002' AND status = 'disabled'`); n != 1 {
		t.Error("run 2: the disabled caller is active again")
	}
	if n := count(`SELECT count(*) FROM callers WHERE account = '1003' AND locked_until > now()`); n != 1 {
		t.Error("run 2: the lockout was cleared")
	}
	if n := count(`SELECT (SELECT count(*) FROM menu_versions) + (SELECT count(*) FROM survey_versions)`); n != versions {
		t.Errorf("run 2: %d menu and survey versions, want the %d of run 1", n, versions)
	}
	pool.Close()
	stop(p)

	// Run 3: -reset starts over.
	p, out = start("-reset")
	if !strings.Contains(out, alice.pin) {
		t.Errorf("run 3: -reset does not load the demo data:\n%s", out)
	}
	if !logIn(t, p, alice.phone, alice.pin) {
		t.Errorf("run 3: the demo PIN does not work after -reset\n%s", p.stderr.String())
	}
	stop(p)
	for _, f := range []string{"pgdata/PG_VERSION", "pin.key"} {
		if _, err := os.Stat(filepath.Join(dataDir, f)); err != nil {
			t.Errorf("data directory: %v", err)
		}
	}
}

// TestDevOnDatabaseURL runs `ivr dev` with DATABASE_URL set: it says which
// database it uses, without the password, loads the demo data into it while
// it has no callers, and refuses -reset.
func TestDevOnDatabaseURL(t *testing.T) {
	bin := buildIVR(t)
	url := testdb.URL(t)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	p := startIVR(t, bin, root, []string{"DATABASE_URL=" + url}, "dev", "-data-dir", dataDir)
	out := p.waitStdout("Stop with Ctrl-C")
	msg := p.waitStderr("using the database of DATABASE_URL")
	if !strings.Contains(msg, "not a private PostgreSQL") || strings.Contains(msg, "pgtdbpass") {
		t.Errorf("the note on DATABASE_URL should name the database and never the password:\n%s", msg)
	}
	if strings.Contains(out, "export DATABASE_URL") || !strings.Contains(out, demoCallers[0].pin) {
		t.Errorf("welcome on a DATABASE_URL database without callers:\n%s", out)
	}
	p.signal(syscall.SIGINT)
	if err := p.wait(); err != nil {
		t.Errorf("exit after SIGINT: %v\n%s", err, p.stderr.String())
	}

	r := tryStartIVR(t, bin, root, []string{"DATABASE_URL=" + url}, "dev", "-data-dir", dataDir, "-reset")
	r.wait()
	if r.agiAddr != "" || !strings.Contains(r.stderr.String(), "never deletes a DATABASE_URL database") {
		t.Errorf("-reset with DATABASE_URL: %v\n%s", r.err, r.stderr.String())
	}
}
