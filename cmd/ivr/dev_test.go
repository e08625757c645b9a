package main

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/pglocal"
)

// TestDev runs `ivr dev` from the top of the source tree, as `make run` does,
// on a fresh data directory with no DATABASE_URL, so it starts its own
// PostgreSQL; then a demo caller logs in. A second run on the same directory
// finds the database, the data and the PIN key it left.
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

	alice := demoCallers[0]
	for run := 1; run <= 2; run++ {
		p := startIVR(t, bin, root, nil, "dev", "-data-dir", dataDir)

		out := p.waitStdout("Stop with Ctrl-C")
		_, port, _ := net.SplitHostPort(p.agiAddr)
		for _, want := range []string{
			"AGI(agi://", ":" + port + "/lookup)", ":" + port + "/ivr?menu=main)",
			alice.account, alice.pin, "ivr call -addr 127.0.0.1:" + port,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("run %d: the welcome text has no %q:\n%s", run, want, out)
			}
		}

		c := &agiclient.Call{
			Script: "ivr?menu=main",
			Env:    map[string]string{"agi_callerid": alice.phone},
			Keys:   []string{alice.pin + "#", agiclient.Hangup},
		}
		tr, err := c.Run(t.Context(), p.agiAddr)
		if err != nil {
			t.Fatalf("run %d: %v\n%s", run, err, tr)
		}
		if !slices.Contains(tr.Prompts(), "ivr/main-menu") {
			t.Errorf("run %d: the demo caller never reached the main menu:\n%s\nserver log:\n%s", run, tr, p.stderr.String())
		}
		if got := tr.Variables["IVR_RESULT"]; got != "hangup" {
			t.Errorf("run %d: IVR_RESULT = %q, want hangup\n%s", run, got, tr)
		}

		p.signal(syscall.SIGINT)
		if err := p.wait(); err != nil {
			t.Errorf("run %d: exit after SIGINT: %v\n%s", run, err, p.stderr.String())
		}
	}
	for _, f := range []string{"pgdata/PG_VERSION", "pin.key"} {
		if _, err := os.Stat(filepath.Join(dataDir, f)); err != nil {
			t.Errorf("data directory: %v", err)
		}
	}
}
