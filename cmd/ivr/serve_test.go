package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/datagen"
	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store"
	"github.com/ivrhq/ivr/internal/testdb"
)

// These tests run the ivr binary as a subprocess, the way it runs for real:
// built from this package, listening on ports the kernel picks, talking to a
// test database, stopped with signals.

// waitLimit bounds every wait on the subprocess, so a broken server fails the
// test instead of hanging it. It is never what a test asserts.
const waitLimit = 2 * time.Minute

// servePINKey is the PIN key the tests hand the server.
const servePINKey = "test:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// buildIVR builds the ivr command into a directory of t's and returns its path.
func buildIVR(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ivr")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// ivrProcess is a running ivr subprocess.
type ivrProcess struct {
	t        *testing.T
	cmd      *exec.Cmd
	agiAddr  string
	httpAddr string
	stdout   lockedBuffer
	stderr   lockedBuffer
	done     chan struct{}
	err      error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// hermeticEnv is this process's environment without any ivr setting, plus env.
func hermeticEnv(env ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "IVR_") || strings.HasPrefix(kv, "DATABASE_URL") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, env...)
}

// startIVR runs bin with args (JSON logs and ports the kernel picks are added)
// and waits until it logs where it listens. The process is killed when t ends
// if it still runs.
func startIVR(t *testing.T, bin, dir string, env []string, args ...string) *ivrProcess {
	t.Helper()
	p := tryStartIVR(t, bin, dir, env, args...)
	if p.agiAddr == "" {
		t.Fatalf("ivr %s did not start: %v\nstderr:\n%s", args[0], p.err, p.stderr.String())
	}
	return p
}

// tryStartIVR is startIVR for a process that may also exit instead; then
// p.agiAddr is empty and p.err holds the exit status.
func tryStartIVR(t *testing.T, bin, dir string, env []string, args ...string) *ivrProcess {
	t.Helper()
	args = append(args, "-log-format", "json", "-agi-addr", "127.0.0.1:0", "-http-addr", "127.0.0.1:0")
	p := &ivrProcess{t: t, cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.cmd.Dir = dir
	p.cmd.Env = hermeticEnv(env...)
	p.cmd.Stdout = &p.stdout
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	listening := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.stderr.Write([]byte(line + "\n"))
			var rec struct{ Msg, AGI, HTTP string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				listening <- [2]string{rec.AGI, rec.HTTP}
			}
		}
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	select {
	case a := <-listening:
		p.agiAddr, p.httpAddr = a[0], a[1]
	case <-p.done:
	case <-time.After(waitLimit):
		t.Fatalf("ivr %s: no 'listening' line\nstderr:\n%s", args[0], p.stderr.String())
	}
	return p
}

// signal sends sig to the process.
func (p *ivrProcess) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

// wait waits for the process to exit and returns its exit status.
func (p *ivrProcess) wait() error {
	p.t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(waitLimit):
		p.t.Fatalf("ivr did not exit\nstderr:\n%s", p.stderr.String())
		return nil
	}
}

// get fetches path from the HTTP listener and returns the status and body.
func (p *ivrProcess) get(path string) (int, string) {
	p.t.Helper()
	res, err := http.Get("http://" + p.httpAddr + path)
	if err != nil {
		p.t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// metric returns the sum of the samples of name whose labels include every
// label="value" pair given, or -1 when there is none.
func (p *ivrProcess) metric(name string, labels ...string) float64 {
	p.t.Helper()
	_, body := p.get("/metrics")
	sum, found := 0.0, false
	for line := range strings.SplitSeq(body, "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		match := true
		for _, l := range labels {
			match = match && strings.Contains(rest, l)
		}
		if !match {
			continue
		}
		f := strings.Fields(rest)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			sum, found = sum+v, true
		}
	}
	if !found {
		return -1
	}
	return sum
}

// waitMetric waits until the metric has the value want.
func (p *ivrProcess) waitMetric(want float64, name string, labels ...string) {
	p.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		got := p.metric(name, labels...)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s%v = %v, want %v", name, labels, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitStdout waits until the standard output holds text and returns it all.
// (The output is copied from a pipe, so it may lag behind a log line.)
func (p *ivrProcess) waitStdout(text string) string {
	p.t.Helper()
	return p.waitOutput(&p.stdout, "stdout", text)
}

// waitStderr is waitStdout for the standard error, where the logs go.
func (p *ivrProcess) waitStderr(text string) string {
	p.t.Helper()
	return p.waitOutput(&p.stderr, "stderr", text)
}

func (p *ivrProcess) waitOutput(b *lockedBuffer, name, text string) string {
	p.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for out := b.String(); ; out = b.String() {
		if strings.Contains(out, text) {
			return out
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("no %q on %s:\n%s", text, name, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// seedDemo loads the demo callers, menus and survey into the database at url.
func seedDemo(t *testing.T, url string) {
	t.Helper()
	ctx := t.Context()
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	kr, err := ivr.ParseKeyring(servePINKey)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	e := &env{getenv: envMap(nil), stdin: strings.NewReader(""), stdout: &out, stderr: &out}
	if _, err := loadDemo(ctx, e, st, url, kr, []string{filepath.Join("..", "..")}, promptsDir(t)); err != nil {
		t.Fatalf("load demo: %v\n%s", err, out.String())
	}
}

// serveEnv is the environment of an ivr serve on the database at url.
func serveEnv(url string) []string {
	return []string{"DATABASE_URL=" + url, "IVR_PIN_KEY=" + servePINKey}
}

// lookupCall is a call to the lookup route from the first demo caller.
func lookupCall(uniqueid string) *agiclient.Call {
	return &agiclient.Call{
		Script: "lookup",
		Env:    map[string]string{"agi_callerid": demoCallers[0].phone, "agi_uniqueid": uniqueid},
	}
}

// ivrCall is a call to the ivr route's main menu from the first demo caller.
func ivrCall(uniqueid string) *agiclient.Call {
	return &agiclient.Call{
		Script: "ivr?menu=main",
		Env:    map[string]string{"agi_callerid": demoCallers[0].phone, "agi_uniqueid": uniqueid},
	}
}

// held makes c wait at its first command named name until release is closed;
// started is closed when it got there.
func held(c *agiclient.Call, name string) (started, release chan struct{}) {
	started, release = make(chan struct{}), make(chan struct{})
	var once sync.Once
	c.Responder = func(cmd agiclient.Command) agiclient.Reply {
		if cmd.Name == name {
			once.Do(func() {
				close(started)
				<-release
			})
		}
		return agiclient.Reply{}
	}
	return started, release
}

// holdCall runs c against p in the background until its first command named
// name, where it waits until release is closed; done gives the transcript.
func holdCall(t *testing.T, p *ivrProcess, c *agiclient.Call, name string) (release chan struct{}, done <-chan *agiclient.Transcript) {
	t.Helper()
	started, release := held(c, name)
	ch := make(chan *agiclient.Transcript, 1)
	go func() {
		tr, _ := c.Run(t.Context(), p.agiAddr)
		ch <- tr
	}()
	waitFor(t, started, "the call to reach "+name)
	return release, ch
}

func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		t.Fatalf("gave up waiting for %s", what)
		panic("unreachable")
	}
}

// serveOneLookup starts ivr serve with args on a database with the demo data
// and runs one call of the lookup route, which must find the first demo
// caller. The call is counted in the metrics when it returns.
func serveOneLookup(t *testing.T, bin string, args ...string) *ivrProcess {
	t.Helper()
	url := testdb.URL(t)
	seedDemo(t, url)
	p := startIVR(t, bin, ".", serveEnv(url), append([]string{"serve"}, args...)...)
	tr, err := lookupCall("1700000000.1").Run(t.Context(), p.agiAddr)
	if err != nil {
		t.Fatal(err)
	}
	if got := tr.Variables["IVR_CALLER_NAME"]; got != demoCallers[0].name {
		t.Errorf("IVR_CALLER_NAME = %q, want %q\n%s", got, demoCallers[0].name, tr)
	}
	// The server counts the call once its handler has returned, which may be
	// just after the caller's side saw the connection close.
	p.waitMetric(0, "ivr_agi_sessions_active")
	return p
}

// endDrain checks that p, draining, still runs with a call in progress, lets
// that call go on by closing release, and returns its transcript once p has
// exited cleanly.
func (p *ivrProcess) endDrain(release chan struct{}, done <-chan *agiclient.Transcript) *agiclient.Transcript {
	p.t.Helper()
	select {
	case <-p.done:
		p.t.Fatalf("ivr exited with a call in progress\n%s", p.stderr.String())
	default:
	}
	close(release)
	tr := waitFor(p.t, done, "the call in progress to end")
	if err := p.wait(); err != nil {
		p.t.Errorf("exit after the drain: %v\n%s", err, p.stderr.String())
	}
	return tr
}

// callEndReason returns the end reason of the call with uniqueid in the
// database at url, "" while the call is open.
func callEndReason(t *testing.T, url, uniqueid string) string {
	t.Helper()
	st, err := store.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var reason *string
	err = st.Pool().QueryRow(t.Context(), "SELECT end_reason FROM calls WHERE uniqueid = $1", uniqueid).Scan(&reason)
	if err != nil {
		t.Fatal(err)
	}
	if reason == nil {
		return ""
	}
	return *reason
}

// stopOnSIGTERM sends p SIGTERM and expects it to exit cleanly.
func stopOnSIGTERM(t *testing.T, p *ivrProcess) {
	t.Helper()
	p.signal(syscall.SIGTERM)
	if err := p.wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, p.stderr.String())
	}
}

func TestServe(t *testing.T) {
	bin := buildIVR(t)

	t.Run("health, readiness and metrics after a call", func(t *testing.T) {
		p := serveOneLookup(t, bin)
		if code, body := p.get("/healthz"); code != 200 {
			t.Errorf("/healthz = %d %q", code, body)
		}
		if code, body := p.get("/readyz"); code != 200 {
			t.Errorf("/readyz = %d %q", code, body)
		}
		if got := p.metric("ivr_agi_sessions_total", `route="lookup"`); got != 1 {
			t.Errorf("ivr_agi_sessions_total{route=lookup} = %v, want 1", got)
		}
		if got := p.metric("ivr_agi_command_duration_seconds_count", `command="SET VARIABLE"`); got < 1 {
			t.Errorf("no SET VARIABLE in ivr_agi_command_duration_seconds (%v)", got)
		}
		if got := p.metric("ivr_db_operation_duration_seconds_count", `op="lookup_caller"`); got != 1 {
			t.Errorf("ivr_db_operation_duration_seconds_count{op=lookup_caller} = %v, want 1", got)
		}
		// The lookup read the database (the cache had nothing yet), and the
		// cache listens for changes.
		if got := p.metric("ivr_caller_cache_misses_total") + p.metric("ivr_caller_cache_bypassed_total"); got != 1 {
			t.Errorf("caller cache misses and bypassed lookups = %v, want 1", got)
		}
		p.waitMetric(1, "ivr_caller_cache_listening")
		p.waitMetric(1, "ivr_catalog_cache_listening")
		if got := p.metric("ivr_db_pool_max_connections"); got <= 0 {
			t.Errorf("ivr_db_pool_max_connections = %v", got)
		}
		stopOnSIGTERM(t, p)
	})

	t.Run("without the caches", func(t *testing.T) {
		p := serveOneLookup(t, bin, "-lookup-cache", "0", "-catalog-cache=false")
		if got := p.metric("ivr_db_operation_duration_seconds_count", `op="caller_by_phone"`); got != 1 {
			t.Errorf("ivr_db_operation_duration_seconds_count{op=caller_by_phone} = %v, want 1", got)
		}
		_, body := p.get("/metrics")
		for _, prefix := range []string{"ivr_caller_cache_", "ivr_catalog_cache_"} {
			if strings.Contains(body, prefix) {
				t.Errorf("%s metrics without the cache", prefix)
			}
		}
		stopOnSIGTERM(t, p)
	})

	t.Run("the ivr route reads the live menu from the catalog cache", func(t *testing.T) {
		url := testdb.URL(t)
		seedDemo(t, url)
		p := startIVR(t, bin, ".", serveEnv(url), "serve")
		p.waitMetric(1, "ivr_catalog_cache_listening")
		for _, uniqueid := range []string{"1700000000.21", "1700000000.22"} {
			c := ivrCall(uniqueid)
			c.Keys = []string{demoCallers[0].pin + "#", agiclient.Hangup}
			tr, err := c.Run(t.Context(), p.agiAddr)
			if err != nil || !heardWords(tr.Prompts(), mainMenuWords) {
				t.Fatalf("call %s never reached the main menu: %v\n%s\nserver log:\n%s", uniqueid, err, tr, p.stderr.String())
			}
		}
		p.waitMetric(0, "ivr_agi_sessions_active")
		// The first call read the menu from the database, the second from
		// memory; both reads are timed.
		if got := p.metric("ivr_catalog_cache_misses_total"); got != 1 {
			t.Errorf("ivr_catalog_cache_misses_total = %v, want 1", got)
		}
		if got := p.metric("ivr_catalog_cache_hits_total"); got < 1 {
			t.Errorf("ivr_catalog_cache_hits_total = %v, want at least 1", got)
		}
		if got := p.metric("ivr_db_operation_duration_seconds_count", `op="published_menu"`); got < 2 {
			t.Errorf("ivr_db_operation_duration_seconds_count{op=published_menu} = %v, want at least 2", got)
		}
		// A change to the catalog empties the cache.
		st, err := store.Open(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if _, err := st.Pool().Exec(t.Context(), "UPDATE menus SET key = key"); err != nil {
			t.Fatal(err)
		}
		p.waitMetric(1, "ivr_catalog_cache_invalidations_total")
		p.waitMetric(0, "ivr_catalog_cache_entries")
		stopOnSIGTERM(t, p)
	})

	t.Run("the dialled number picks the menu; an unknown one is counted", func(t *testing.T) {
		url := testdb.URL(t)
		seedDemo(t, url)
		p := startIVR(t, bin, ".", serveEnv(url), "serve")
		for i, tc := range []struct{ dnid, menu string }{
			{"501", departmentsWords},     // numbers.yaml's direct line
			{"2125550199", mainMenuWords}, // not in the table: -menu
		} {
			c := ivrCall(fmt.Sprintf("1700000000.3%d", i))
			c.Script = "ivr"
			c.Env["agi_dnid"] = tc.dnid
			c.Keys = []string{demoCallers[0].pin + "#", agiclient.Hangup}
			tr, err := c.Run(t.Context(), p.agiAddr)
			if err != nil || !heardWords(tr.Prompts(), tc.menu) {
				t.Fatalf("dnid %s never reached %s: %v\n%s\nserver log:\n%s", tc.dnid, tc.menu, err, tr, p.stderr.String())
			}
		}
		p.waitMetric(0, "ivr_agi_sessions_active")
		if got := p.metric("ivr_numbers_unknown_total"); got != 1 {
			t.Errorf("ivr_numbers_unknown_total = %v, want 1", got)
		}
		stopOnSIGTERM(t, p)
	})

	t.Run("a call over the limit is refused", func(t *testing.T) {
		url := testdb.URL(t)
		seedDemo(t, url)
		p := startIVR(t, bin, ".", serveEnv(url), "serve", "-max-calls", "1")

		release, firstDone := holdCall(t, p, lookupCall("1700000000.1"), "SET VARIABLE")

		// Refused: a FAILURE line, or a reset when the server closed before
		// reading the environment; Asterisk sets AGISTATUS=FAILURE for both.
		tr, err := lookupCall("1700000000.2").Run(t.Context(), p.agiAddr)
		if (err == nil && !tr.Failure) || len(tr.Steps) != 0 {
			t.Errorf("second call: want it refused, got %v\n%s", err, tr)
		}
		close(release)
		if tr := waitFor(t, firstDone, "the first call to end"); tr.Variables["IVR_CALLER_FOUND"] != "1" {
			t.Errorf("the first call did not finish its lookup:\n%s", tr)
		}
		if got := p.metric("ivr_agi_refused_total", `reason="max_calls"`); got != 1 {
			t.Errorf("ivr_agi_refused_total{reason=max_calls} = %v, want 1", got)
		}
	})

	t.Run("a call from outside the allowed networks is refused", func(t *testing.T) {
		url := testdb.URL(t)
		p := startIVR(t, bin, ".", serveEnv(url), "serve", "-allow", "192.0.2.0/24")
		tr, err := lookupCall("1700000000.6").Run(t.Context(), p.agiAddr)
		if (err == nil && !tr.Failure) || len(tr.Steps) != 0 {
			t.Errorf("a call from 127.0.0.1 was served: %v\n%s", err, tr)
		}
		p.waitMetric(1, "ivr_agi_refused_total", `reason="network"`)
	})

	t.Run("wrong PINs and the lockout they cause are counted", func(t *testing.T) {
		url := testdb.URL(t)
		seedDemo(t, url)
		// The second wrong PIN locks the account, the third extends the lock.
		p := startIVR(t, bin, ".", serveEnv(url), "serve", "-lock-after", "2", "-refusal-time", "-1ns")
		c := ivrCall("1700000000.30")
		wrong := "0000#"
		if demoCallers[0].pin+"#" == wrong {
			t.Fatal("the wrong PIN of the test is the demo caller's")
		}
		c.Keys = []string{wrong, wrong, wrong}
		tr, err := c.Run(t.Context(), p.agiAddr)
		if err != nil {
			t.Fatalf("call: %v\n%s", err, tr)
		}
		if got := tr.Variables["IVR_RESULT"]; got != "locked" {
			t.Errorf("IVR_RESULT = %q, want locked\n%s", got, tr)
		}
		p.waitMetric(0, "ivr_agi_sessions_active")
		for verdict, want := range map[string]float64{"accepted": 0, "refused": 1, "locked": 2} {
			if got := p.metric("ivr_pin_attempts_total", `verdict="`+verdict+`"`); got != want {
				t.Errorf("ivr_pin_attempts_total{verdict=%s} = %v, want %v", verdict, got, want)
			}
		}
		stopOnSIGTERM(t, p)
	})

	t.Run("rows left open by an instance that died are closed as lost", func(t *testing.T) {
		url := testdb.URL(t)
		seedDemo(t, url)
		st, err := store.Open(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		// A call of an instance killed five hours ago, and one in progress.
		for uid, age := range map[string]time.Duration{"1700000000.50": 5 * time.Hour, "1700000000.51": time.Minute} {
			if _, err := st.StartCall(t.Context(), ivr.Call{UniqueID: uid, Route: "ivr", StartedAt: time.Now().Add(-age)}); err != nil {
				t.Fatal(err)
			}
		}
		st.Close()
		p := startIVR(t, bin, ".", serveEnv(url), "serve")
		p.waitStderr("closed the rows of calls left open by an instance that stopped")
		if got := callEndReason(t, url, "1700000000.50"); got != "lost" {
			t.Errorf("the old open call ended as %q, want lost", got)
		}
		if got := callEndReason(t, url, "1700000000.51"); got != "" {
			t.Errorf("the call in progress was closed as %q", got)
		}
		if got := p.metric("ivr_calls_swept_lost_total"); got != 1 {
			t.Errorf("ivr_calls_swept_lost_total = %v, want 1", got)
		}
		stopOnSIGTERM(t, p)
	})

	t.Run("the complete days are rolled up into the reports' summaries", func(t *testing.T) {
		url := testdb.URL(t)
		pool, err := pgxpool.New(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -4)
		generateCalls(t, url, datagen.Options{Calls: 200, Days: 2, Start: start, Seed: 5})
		p := startIVR(t, bin, ".", serveEnv(url), "serve")
		p.waitStderr("rolled up the reports' daily summaries")
		var days int
		if err := pool.QueryRow(t.Context(), "SELECT count(*) FROM rollup_days WHERE day BETWEEN $1 AND $2",
			start, start.AddDate(0, 0, 1)).Scan(&days); err != nil {
			t.Fatal(err)
		}
		if days != 2 {
			t.Errorf("%d of the two days of calls rolled up", days)
		}
		stopOnSIGTERM(t, p)
	})

	t.Run("SIGTERM lets a call in progress finish", func(t *testing.T) {
		url := testdb.URL(t)
		seedDemo(t, url)
		p := startIVR(t, bin, ".", serveEnv(url), "serve", "-drain-timeout", "10m")

		release, done := holdCall(t, p, lookupCall("1700000000.3"), "SET VARIABLE")

		p.signal(syscall.SIGTERM)
		// Draining: not ready, and no new call is taken.
		deadline := time.Now().Add(waitLimit)
		for code, _ := p.get("/readyz"); code != http.StatusServiceUnavailable; code, _ = p.get("/readyz") {
			if time.Now().After(deadline) {
				t.Fatal("/readyz never failed after SIGTERM")
			}
			time.Sleep(10 * time.Millisecond)
		}
		if tr, err := lookupCall("1700000000.4").Run(t.Context(), p.agiAddr); err == nil && !tr.Failure {
			t.Errorf("a new call was served during the drain:\n%s", tr)
		}
		if tr := p.endDrain(release, done); tr.Variables["IVR_CALLER_FOUND"] != "1" || tr.Failure {
			t.Errorf("the call in progress did not finish normally:\n%s", tr)
		}
	})

	t.Run("past the drain timeout calls are closed as a shutdown", func(t *testing.T) {
		url := testdb.URL(t)
		seedDemo(t, url)
		p := startIVR(t, bin, ".", serveEnv(url), "serve", "-drain-timeout", "100ms")

		// The caller stays silent at the PIN prompt: as in Asterisk, the
		// GET DATA has no reply until the next command aborts it.
		c := ivrCall("1700000000.5")
		waiting := make(chan struct{})
		var once sync.Once
		c.Responder = func(cmd agiclient.Command) agiclient.Reply {
			if cmd.Name == "GET DATA" {
				once.Do(func() { close(waiting) })
				return agiclient.Reply{Fault: agiclient.NoReply}
			}
			return agiclient.Reply{}
		}
		done := make(chan *agiclient.Transcript, 1)
		go func() {
			tr, _ := c.Run(t.Context(), p.agiAddr)
			done <- tr
		}()
		waitFor(t, waiting, "the call to reach GET DATA")

		p.signal(syscall.SIGTERM)
		if err := p.wait(); err != nil {
			t.Errorf("exit: %v\n%s", err, p.stderr.String())
		}
		tr := waitFor(t, done, "the call to end")

		// The dialplan falls back to a person on IVR_RESULT=error.
		if got := tr.Variables["IVR_RESULT"]; got != string(ivr.ResultError) {
			t.Errorf("IVR_RESULT = %q, want %q\n%s\n%s", got, ivr.ResultError, tr, p.stderr.String())
		}
		if out := p.stderr.String(); strings.Contains(out, "IVR_RESULT") {
			t.Errorf("the log reports a failure to set IVR_RESULT:\n%s", out)
		}
		if got := callEndReason(t, url, "1700000000.5"); got != string(ivr.EndShutdown) {
			t.Errorf("end_reason = %q, want %q\n%s", got, ivr.EndShutdown, p.stderr.String())
		}
	})

	t.Run("a second SIGTERM closes the calls in progress at once", func(t *testing.T) {
		url := testdb.URL(t)
		seedDemo(t, url)
		p := startIVR(t, bin, ".", serveEnv(url), "serve", "-drain-timeout", "10m")

		release, done := holdCall(t, p, ivrCall("1700000000.7"), "GET DATA")
		defer func() {
			close(release)
			waitFor(t, done, "the call to end")
		}()

		p.signal(syscall.SIGTERM)
		p.waitStderr("a second SIGTERM or SIGINT closes the calls in progress")
		p.signal(syscall.SIGTERM)
		// With ten minutes of drain left, only the second signal can end it.
		if err := p.wait(); err != nil {
			t.Errorf("exit: %v\n%s", err, p.stderr.String())
		}
		if out := p.stderr.String(); !strings.Contains(out, "second signal: closing the calls in progress") {
			t.Errorf("no log line for the second signal:\n%s", out)
		}
		if got := callEndReason(t, url, "1700000000.7"); got != string(ivr.EndShutdown) {
			t.Errorf("end_reason = %q, want %q\n%s", got, ivr.EndShutdown, p.stderr.String())
		}
	})

	t.Run("a database behind the binary is refused unless -migrate", func(t *testing.T) {
		url := testdb.EmptyURL(t)
		p := tryStartIVR(t, bin, ".", serveEnv(url), "serve")
		if p.agiAddr != "" {
			t.Fatal("serve started on an empty database")
		}
		var exit *exec.ExitError
		if err := p.wait(); !errors.As(err, &exit) || !strings.Contains(p.stderr.String(), "ivr migrate up") {
			t.Errorf("exit %v, stderr:\n%s\nwant a failure saying to run `ivr migrate up`", err, p.stderr.String())
		}

		p = startIVR(t, bin, ".", serveEnv(url), "serve", "-migrate")
		if code, body := p.get("/readyz"); code != 200 {
			t.Errorf("/readyz after -migrate = %d %q", code, body)
		}
	})
}
