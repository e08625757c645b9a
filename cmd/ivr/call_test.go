package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
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
	// The sample menus' text prompts are rendered, so that ivr call shows
	// their words.
	needVoice(t)
	texts := []string{"--prompts-dir", promptsDir(t)}
	for _, f := range []struct {
		path string
		run  func(context.Context, *env, []string) error
		args []string
	}{
		{"../../surveys.yaml", runSurveys, []string{"--publish"}},
		{"../../menus.yaml", runMenus, []string{"--publish"}},
		{"../../schedules.yaml", runSchedules, nil},
		{"../../numbers.yaml", runNumbers, nil},
	} {
		if err := f.run(ctx, quiet, append(append([]string{"apply", "-f", f.path, "--database-url", dbURL}, texts...), f.args...)); err != nil {
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
				`▶ "To leave a message, press 1.`,
				"☎ pressed 5",
				`▶ "For sales, press 1.`,
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
				"▶ please-try-again",
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
				`▶ "To leave a message, press 1.`,
				"> ☎ pressed 9",
				"▶ pm-invalid-option",
				`▶ "To leave a message, press 1.`,
				"> ☎ pressed nothing",
				"▶ please-try-again",
				`▶ "To leave a message, press 1.`,
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
			// Every prompt exists here, whatever sounds this machine has;
			// TestCallSoundsDir checks the prompts against a sounds directory.
			args := append([]string{"call", "--addr", addr, "--sounds-dir", "none"}, tt.args...)
			err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader(tt.stdin), &out, &errOut)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ivr call: %v\n%s%s", err, out.String(), errOut.String())
			}
			got := out.String()
			wantInOrder(t, got, tt.want...)
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
		{"call", "--sounds-dir", "/nonexistent/sounds"},
		{"call", "--sounds-dir", "none", "--sounds-dir", "."},
		{"bench", "--route", "lookup", "--route", "ivr"},
	} {
		var out bytes.Buffer
		err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), &out, &out)
		if err == nil || exitCode(err) != 2 {
			t.Errorf("ivr %s: %v, want a usage error", strings.Join(args, " "), err)
		}
	}
}

// callOutput runs ivr call with args and returns what it printed; it fails the
// test when the command fails.
func callOutput(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"call"}, args...), func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
	if err != nil {
		t.Fatalf("ivr call: %v\n%s%s", err, out.String(), errOut.String())
	}
	return out.String()
}

// wantInOrder fails the test unless every line of want appears in got, in order.
func wantInOrder(t *testing.T, got string, want ...string) {
	t.Helper()
	rest := got
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("output lacks %q (in order):\n%s", w, got)
		}
		rest = rest[i+len(w):]
	}
}

// soundsDir writes an Asterisk sounds directory holding the named sounds
// ("en/vm-password.gsm") and returns it.
func soundsDir(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("audio"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestCallSoundsDir: with --sounds-dir, a prompt that is not there is not
// played, as on an Asterisk without that file: GET DATA answers -1, the
// warning Asterisk logs is printed, and the IVR ends the call in error.
func TestCallSoundsDir(t *testing.T) {
	t.Parallel()
	addr, _ := startCallTarget(t)
	dir := soundsDir(t, "en/vm-password.gsm", "en/vm-password.wav", "beep.gsm")
	// A stock sound missing from the directory ends the call.
	got := callOutput(t, "--addr", addr, "--sounds-dir", dir, "--caller", "+15555550100", "--press", "1111", "--press", "7391")
	wantInOrder(t, got,
		"▶ vm-password  (waits for keys)",
		"☎ pressed 1111",
		"▶ vm-incorrect",
		"⚠ WARNING file.c: File vm-incorrect does not exist in any format",
		"IVR_RESULT=error",
	)
	if strings.Contains(got, "pressed 7391") {
		t.Errorf("the caller pressed a key at a prompt that never played:\n%s", got)
	}
	// A text prompt is an absolute name, found where it points whatever
	// the sounds directories.
	got = callOutput(t, "--addr", addr, "--sounds-dir", dir, "--caller", "+15555550100", "--press", "7391", "--press", "!")
	wantInOrder(t, got, "☎ pressed 7391", `▶ "To leave a message, press 1.`, "✆ caller hangs up")
	if strings.Contains(got, "does not exist") {
		t.Errorf("a rendered text prompt was not found:\n%s", got)
	}
}

// TestCallIsAsStrictAsAsterisk: ivr call answers a file name holding "&" as
// Asterisk does (one file of that name, which does not exist), and takes
// GET DATA "" as digits read without a prompt.
func TestCallIsAsStrictAsAsterisk(t *testing.T) {
	t.Parallel()
	addr, seen := agitest.ScriptServer(t, []string{
		"GET DATA vm-incorrect&vm-password 3000 4",
		`STREAM FILE vm-incorrect&vm-password "12"`,
		`GET DATA "" 3000 4`,
		`STREAM FILE beep ""`,
		`GET OPTION tt-weasels "1"`,
	})
	dir := soundsDir(t, "en/beep.gsm")
	got := callOutput(t, "--addr", addr, "--sounds-dir", dir, "--press", "12", "--press", "1")
	s := <-seen
	if want := []string{"200 result=-1", "200 result=-1 endpos=0", "200 result=12 (timeout)",
		"200 result=0 endpos=16000", "200 result=-1 endpos=0"}; !slices.Equal(s.Replies, want) {
		t.Errorf("replies %q, want %q", s.Replies, want)
	}
	wantInOrder(t, got,
		"▶ vm-incorrect&vm-password  (waits for keys)",
		"⚠ WARNING file.c: File vm-incorrect&vm-password does not exist in any format",
		"▶ vm-incorrect&vm-password\n",
		"⚠ WARNING file.c: File vm-incorrect&vm-password does not exist in any format",
		"… waits for keys",
		"☎ pressed 12",
		"▶ beep\n",
		"▶ tt-weasels\n",
		"⚠ WARNING file.c: File tt-weasels does not exist in any format",
	)
}

// TestCallRoutesOnOneChannel: several --route run one after the other on one
// channel, with the same uniqueid and channel name, as AGI() twice in a
// dialplan does.
func TestCallRoutesOnOneChannel(t *testing.T) {
	t.Parallel()
	addr, seen := agitest.ScriptServer(t, []string{"SET VARIABLE IVR_CALLER_FOUND 1"}, []string{"GET VARIABLE IVR_CALLER_FOUND"})
	got := callOutput(t, "--addr", addr, "--route", "lookup", "--route", "ivr?menu=main", "--uniqueid", "1764107572.42", "--sounds-dir", "none")
	first, second := <-seen, <-seen
	for _, k := range []string{"agi_uniqueid", "agi_channel"} {
		if first.Env[k] == "" || first.Env[k] != second.Env[k] {
			t.Errorf("%s: %q then %q", k, first.Env[k], second.Env[k])
		}
	}
	if first.Env["agi_network_script"] != "lookup" || second.Env["agi_network_script"] != "ivr?menu=main" {
		t.Errorf("scripts %q then %q", first.Env["agi_network_script"], second.Env["agi_network_script"])
	}
	if !slices.Equal(second.Replies, []string{"200 result=1 (1)"}) {
		t.Errorf("the second session read %q, want the variable the first set", second.Replies)
	}
	wantInOrder(t, got,
		"☎ calling agi://"+addr+"/lookup",
		"= IVR_CALLER_FOUND=1",
		"↪ agi://"+addr+"/ivr?menu=main on the same channel (uniqueid 1764107572.42)",
		"? IVR_CALLER_FOUND → 1",
	)
}

// TestCallLookupThenIVR plays the documented dialplan against the real
// application: the lookup, then the IVR on the same channel.
func TestCallLookupThenIVR(t *testing.T) {
	t.Parallel()
	addr, _ := startCallTarget(t)
	got := callOutput(t, "--addr", addr, "--sounds-dir", "none", "--route", "lookup", "--route", "ivr",
		"--caller", "+15555550100", "--press", "7391", "--press", "5", "--press", "1")
	wantInOrder(t, got,
		"= IVR_CALLER_FOUND=1",
		"↪ agi://"+addr+"/ivr on the same channel",
		"▶ vm-password  (waits for keys)",
		"☎ pressed 7391",
		"IVR_RESULT=transfer",
		"IVR_TRANSFER_TO=sales",
	)
}

// A person at the terminal is not asked for keys once the call is over: not
// after --hangup-after, and not after the server closed the call; and the
// 511 Asterisk answers on a dead channel is shown as such, not as an error.
func TestCallEndsWhileWaitingForKeys(t *testing.T) {
	t.Parallel()
	run := func(args ...string) string {
		t.Helper()
		stdin, typing := io.Pipe() // a terminal where nobody types
		defer typing.Close()
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"call", "--interactive", "--timeout", "30s"}, args...),
			func(string) string { return "" }, stdin, &out, &errOut)
		if err != nil {
			t.Fatalf("ivr call %v: %v\n%s%s", args, err, out.String(), errOut.String())
		}
		return out.String()
	}

	addr, _ := startCallTarget(t)
	out := run("--addr", addr, "--sounds-dir", "none", "--caller", "+15555550100", "--hangup-after", "3s") // long enough to reach the PIN prompt on a loaded machine; nobody types there
	wantInOrder(t, out, "▶ vm-password  (waits for keys)", "— the caller hung up", "IVR_RESULT=hangup")
	if strings.Contains(out, "☎ pressed") {
		t.Errorf("keys pressed after the hangup:\n%s", out)
	}

	// A server that asks for keys and then closes the call.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		br := bufio.NewReader(conn)
		for {
			line, err := br.ReadString('\n')
			if err != nil || line == "\n" {
				break
			}
		}
		io.WriteString(conn, "GET DATA beep 5000 4\n")
		time.Sleep(200 * time.Millisecond)
	}()
	out = run("--addr", ln.Addr().String(), "--sounds-dir", "none")
	wantInOrder(t, out, "▶ beep  (waits for keys)", "— back to the dialplan")

	out = callOutput(t, "--addr", addr, "--sounds-dir", "none", "--caller", "+15555550100", "--press", "7391", "--press", "!")
	if !strings.Contains(out, "(the channel is gone)") || strings.Contains(out, "[511") {
		t.Errorf("a command on the dead channel:\n%s", out)
	}
}
