package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ivrhq/ivr/internal/agi"
	"github.com/ivrhq/ivr/internal/agi/agitest"
	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store"
	"github.com/ivrhq/ivr/internal/testdb"
)

// startCallTarget runs the real ivr app on a loopback agi server over a database of
// the test's own, with one caller (Alice, account 1001, +15555550100, PIN
// 7391) and the sample menus and surveys of the repository. It returns the server's address
// and the database URL.
func startCallTarget(t *testing.T) (addr, dbURL string) {
	t.Helper()
	ctx := context.Background()
	dbURL = testdb.URL(t)
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	kr, err := ivr.NewKeyring("k1", map[string][]byte{"k1": []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	quiet := &env{getenv: func(string) string { return "" }, stdin: strings.NewReader(""), stdout: &out, stderr: &out}
	alice, err := st.CreateCaller(ctx, ivr.Caller{Account: "1001", Name: "Alice Demo", Language: "en",
		Status: ivr.CallerActive, Phones: []string{"+15555550100"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetPIN(ctx, alice.ID, kr.Hash(alice.Account, "7391")); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		path string
		run  func(context.Context, *env, []string) error
	}{{"../../surveys.yaml", runSurveys}, {"../../menus.yaml", runMenus}} {
		if err := f.run(ctx, quiet, []string{"apply", "-f", f.path, "--publish", "--database-url", dbURL}); err != nil {
			t.Fatalf("apply %s: %v\n%s", f.path, err, out.String())
		}
	}
	// A generous lookup deadline: the tests check what a caller gets, not
	// how fast a busy test machine is.
	app, err := ivr.New(ivr.Config{LookupTimeout: 10 * time.Second}, ivr.Services{Callers: st, Journal: st, PINs: st, Catalog: st, Messages: st, Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	mux := agi.NewServeMux()
	app.Register(mux)
	srv := agitest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.Addr, dbURL
}

func TestCallPrintsTheDialogue(t *testing.T) {
	t.Parallel()
	addr, _ := startCallTarget(t)
	tests := []struct {
		name    string
		args    []string
		stdin   string
		want    []string // lines that must appear, in this order
		wantErr bool
	}{
		{
			name: "known caller, PIN, department, transfer",
			args: []string{"--caller", "+15555550100", "--press", "7391", "--press", "5", "--press", "1"},
			want: []string{
				"☎ calling agi://" + addr + "/ivr from +15555550100",
				"☎ answered",
				"? CHANNEL(linkedid) → 1",
				"▶ vm-password  (waits for keys)",
				"☎ pressed 7391",
				"▶ ivr/main-menu  (waits for keys)",
				"☎ pressed 5",
				"▶ ivr/departments-menu  (waits for keys)",
				"☎ pressed 1",
				"= IVR_TRANSFER_TO=sales",
				"= IVR_RESULT=transfer",
				"— back to the dialplan",
				"IVR_RESULT=transfer",
				"IVR_TRANSFER_TO=sales",
			},
		},
		{
			name: "unknown caller, silence, then a hangup",
			args: []string{"--caller", "+15555559999", "--press", "", "--press", "!"},
			want: []string{
				"▶ vm-login  (waits for keys)",
				"☎ pressed nothing",
				"▶ please-try-again ▶ vm-login  (waits for keys)",
				"✆ caller hangs up",
				"— the caller hung up",
				"IVR_RESULT=hangup",
			},
		},
		{
			name: "a recording ended by #",
			args: []string{"--caller", "+15555550100", "--press", "7391", "--press", "1", "--record-result", "dtmf:4s", "--press", "2", "--press", "!"},
			want: []string{
				"☎ pressed 1",
				"● records /var/spool/asterisk/ivr/",
				".wav → dtmf after 4s",
				"▶ vm-review  (waits for keys)",
				"☎ pressed 2",
			},
		},
		{
			name:  "interactive: keys typed on the terminal",
			args:  []string{"--caller", "+15555550100", "--interactive"},
			stdin: "7391\n9\n\n!\n",
			want: []string{
				"▶ vm-password  (waits for keys)",
				"  keys (Enter for silence, ! to hang up)> ☎ pressed 7391",
				"▶ ivr/main-menu  (waits for keys)",
				"> ☎ pressed 9",
				"▶ pm-invalid-option ▶ ivr/main-menu  (waits for keys)",
				"> ☎ pressed nothing",
				"▶ please-try-again ▶ ivr/main-menu  (waits for keys)",
				"> ✆ caller hangs up",
				"— the caller hung up",
				"IVR_RESULT=hangup",
			},
		},
		{
			name:    "lookup of a known caller",
			args:    []string{"--route", "lookup", "--caller", "+15555550100"},
			want:    []string{"= IVR_CALLER_FOUND=1", "= IVR_CALLER_ACCOUNT=1001", "IVR_CALLER_NAME=Alice Demo"},
			wantErr: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			args := append([]string{"call", "--addr", addr}, tt.args...)
			err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader(tt.stdin), &out, &errOut)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ivr call: %v\n%s%s", err, out.String(), errOut.String())
			}
			got := out.String()
			rest := got
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("output lacks %q (in order):\n%s", w, got)
				}
				rest = rest[i+len(w):]
			}
			if strings.Count(got, "7391") > strings.Count(got, "pressed 7391") {
				t.Errorf("the PIN shows up elsewhere than as what the caller typed:\n%s", got)
			}
		})
	}
}

func TestCallRefusesBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"call", "--var", "NOEQUALS"},
		{"call", "--record-result", "explode"},
		{"call", "--record-result", "dtmf:soon"},
		{"call", "extra"},
	} {
		var out bytes.Buffer
		err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), &out, &out)
		if err == nil || exitCode(err) != 2 {
			t.Errorf("ivr %s: %v, want a usage error", strings.Join(args, " "), err)
		}
	}
}
