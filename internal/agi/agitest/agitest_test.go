package agitest_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ivrhq/ivr/internal/agi"
	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/agi/agitest"
)

// A handler test in a few lines: start a server, play a call, look at what
// the caller heard and what the dialplan got back.
func TestHandler(t *testing.T) {
	srv := agitest.NewServer(agi.HandlerFunc(func(s *agi.Session, r *agi.Request) {
		ctx := r.Context()
		in, err := s.GetData(ctx, "enter-account", 3*time.Second, 4)
		if err != nil {
			return
		}
		s.SetVariable(ctx, "ACCOUNT", in.Digits)
		s.StreamFile(ctx, "thank-you", "")
	}))
	defer srv.Close()

	tr := srv.Run(t, agiclient.Call{Keys: []string{"0042#"}})
	if want := []string{"enter-account", "thank-you"}; !slices.Equal(tr.Prompts(), want) {
		t.Errorf("prompts %q, want %q", tr.Prompts(), want)
	}
	if tr.Variables["ACCOUNT"] != "0042" {
		t.Errorf("ACCOUNT = %q, want 0042", tr.Variables["ACCOUNT"])
	}
}

func TestUnstartedServer(t *testing.T) {
	srv := agitest.NewUnstartedServer(agi.HandlerFunc(func(s *agi.Session, r *agi.Request) {
		s.Answer(r.Context())
	}))
	ended := make(chan string, 1)
	srv.Config.OnSessionEnd = func(r *agi.Request, outcome string, _ time.Duration) { ended <- r.Script + " " + outcome }
	srv.Start()
	defer srv.Close()
	if _, _, err := net.SplitHostPort(srv.Addr); err != nil || !strings.HasPrefix(srv.Addr, "127.0.0.1:") {
		t.Errorf("Addr %q: %v", srv.Addr, err)
	}
	tr := srv.Run(t, agiclient.Call{Script: "ivr/main"})
	if !slices.Equal(tr.Commands(), []string{"ANSWER"}) {
		t.Errorf("commands %q", tr.Commands())
	}
	if got := <-ended; got != "ivr/main completed" {
		t.Errorf("the hook set before Start saw %q", got)
	}
}

// TestClose checks that Close lets a call in progress finish, refuses new
// ones afterwards, and can be called again. The handler finishes its call
// only once the shutdown has begun, so Close must wait for it.
func TestClose(t *testing.T) {
	started := make(chan struct{})
	var finished atomic.Bool
	srv := agitest.NewUnstartedServer(nil)
	srv.Config.Handler = agi.HandlerFunc(func(s *agi.Session, r *agi.Request) {
		close(started)
		// Serve returns ErrServerClosed when the shutdown closes the
		// server's listeners, this one among them.
		if err := srv.Config.Serve(newIdleListener()); !errors.Is(err, agi.ErrServerClosed) {
			t.Errorf("Serve on a second listener: %v", err)
		}
		if s.Verbose(r.Context(), "done", 1) == nil {
			finished.Store(true)
		}
	})
	srv.Start()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		(&agiclient.Call{}).Run(context.Background(), srv.Addr)
	}()
	<-started
	srv.Close()
	if !finished.Load() {
		t.Errorf("Close returned before the call in progress finished")
	}
	wg.Wait()
	if c, err := net.Dial("tcp", srv.Addr); err == nil {
		c.Close()
		t.Errorf("a connection was accepted after Close")
	}
	srv.Close()
}

// An idleListener accepts nothing until it is closed.
type idleListener struct {
	done chan struct{}
	once sync.Once
}

func newIdleListener() *idleListener { return &idleListener{done: make(chan struct{})} }

func (l *idleListener) Accept() (net.Conn, error) { <-l.done; return nil, net.ErrClosed }
func (l *idleListener) Close() error              { l.once.Do(func() { close(l.done) }); return nil }
func (l *idleListener) Addr() net.Addr            { return &net.UnixAddr{Name: "idle", Net: "unix"} }

// recorder is a testing.TB that keeps what is logged and reported.
type recorder struct {
	testing.TB
	mu    sync.Mutex
	logs  []string
	fatal string
}

func (r *recorder) Helper() {}

func (r *recorder) Log(args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprint(args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fatal = fmt.Sprintf(format, args...)
}

func (r *recorder) logged() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.logs, "")
}

func TestRunFailsWhenTheCallCannotBePlayed(t *testing.T) {
	srv := agitest.NewServer(agi.HandlerFunc(func(*agi.Session, *agi.Request) {}))
	srv.Close()
	rec := &recorder{TB: t}
	srv.Run(rec, agiclient.Call{Script: "ivr/main"})
	if !strings.Contains(rec.fatal, `call "ivr/main"`) || !strings.Contains(rec.fatal, "refused") {
		t.Errorf("Run reported %q, want the script and the dial error", rec.fatal)
	}
}

func TestLogger(t *testing.T) {
	rec := &recorder{TB: t}
	srv := agitest.NewUnstartedServer(agi.HandlerFunc(func(s *agi.Session, r *agi.Request) {
		s.GetSecretData(r.Context(), "enter-pin", time.Second, 4)
	}))
	srv.Config.Logger = agitest.TestLogger(rec)
	var ended sync.WaitGroup
	ended.Add(1)
	srv.Config.OnSessionEnd = func(*agi.Request, string, time.Duration) { ended.Done() }
	srv.Start()
	defer srv.Close()
	srv.Run(t, agiclient.Call{Keys: []string{"4321#"}})
	ended.Wait()
	out := rec.logged()
	for _, want := range []string{`"AGI Tx >>"`, "line=\"GET DATA enter-pin 1000 4\"", `"AGI Rx <<"`, `line="200 result=***"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "4321") {
		t.Errorf("the PIN reached the log:\n%s", out)
	}
}

func TestRunReturnsTheTranscriptOfAHangup(t *testing.T) {
	errc := make(chan error, 1)
	srv := agitest.NewServer(agi.HandlerFunc(func(s *agi.Session, r *agi.Request) {
		_, err := s.GetData(r.Context(), "beep", time.Second, 4)
		errc <- err
	}))
	defer srv.Close()
	tr := srv.Run(t, agiclient.Call{Keys: []string{agiclient.Hangup}})
	if err := <-errc; !errors.Is(err, agi.ErrHangup) {
		t.Errorf("GetData: %v, want ErrHangup", err)
	}
	if !tr.CallerHungUp || tr.HangupLines != 2 {
		t.Errorf("caller hung up %v, HANGUP lines %d; want true, 2", tr.CallerHungUp, tr.HangupLines)
	}
}

// TestStrictAsAsterisk: a prompt that is not among the server's sounds is not
// played; the handler gets GET DATA's failure (-1, which reads as a hangup)
// and the step carries the warning Asterisk logs. "a&b" is one file name,
// which does not exist, whether the server refuses it itself or Asterisk's
// answer tells it. An empty GET DATA prompt only reads digits, as in Asterisk.
func TestStrictAsAsterisk(t *testing.T) {
	var errs []string
	srv := agitest.NewServer(agi.HandlerFunc(func(s *agi.Session, r *agi.Request) {
		ctx := r.Context()
		for _, p := range []string{"beep&thank-you", "no-such-prompt"} {
			if _, err := s.GetData(ctx, p, time.Second, 4); err != nil {
				errs = append(errs, p+": "+err.Error())
			}
		}
		if _, err := s.StreamFile(ctx, "ivr/also-missing", "1"); err != nil {
			errs = append(errs, "ivr/also-missing: "+err.Error())
		}
		in, err := s.GetData(ctx, "", time.Second, 4)
		if err != nil {
			errs = append(errs, `"": `+err.Error())
			return
		}
		s.SetVariable(ctx, "ACCOUNT", in.Digits)
		s.StreamFile(ctx, "thank-you", "")
	}))
	srv.Sounds = agiclient.NewSounds("en/thank-you", "beep")
	defer srv.Close()

	tr := srv.Run(t, agiclient.Call{Keys: []string{"0042#"}})
	if len(errs) != 3 {
		t.Errorf("the handler saw %q, want an error for each missing prompt and none for the empty one", errs)
	}
	if tr.Variables["ACCOUNT"] != "0042" {
		t.Errorf("ACCOUNT = %q, want 0042: GET DATA \"\" reads the digits", tr.Variables["ACCOUNT"])
	}
	if want := []string{"thank-you"}; !slices.Equal(tr.Prompts(), want) {
		t.Errorf("the caller heard %q, want %q", tr.Prompts(), want)
	}
	replies := map[string]string{}
	for _, st := range tr.Steps {
		if st.Warning != "" {
			replies[st.Command.Name+" "+st.Command.Arg(0)] = strings.TrimSuffix(st.Reply, "\n") + " | " + st.Warning
		}
	}
	want := map[string]string{
		"GET DATA no-such-prompt":      "200 result=-1 | File no-such-prompt does not exist in any format",
		"STREAM FILE ivr/also-missing": "200 result=-1 endpos=0 | File ivr/also-missing does not exist in any format",
	}
	if slices.Contains(tr.Lines(), "GET DATA beep&thank-you 1000 4") {
		want["GET DATA beep&thank-you"] = "200 result=-1 | File beep&thank-you does not exist in any format"
	}
	if !maps.Equal(replies, want) {
		t.Errorf("the steps with a warning: %q, want %q", replies, want)
	}
	if !strings.Contains(tr.String(), "WARNING: File no-such-prompt does not exist in any format") {
		t.Errorf("the transcript does not show Asterisk's warning:\n%s", tr)
	}
}

// TestRunScripts plays a lookup and then the IVR on one channel: the second
// session sees the uniqueid of the first and the variable it set.
func TestRunScripts(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	mux := agi.NewServeMux()
	mux.HandleFunc("lookup", func(s *agi.Session, r *agi.Request) {
		mu.Lock()
		seen = append(seen, "lookup "+r.UniqueID)
		mu.Unlock()
		s.SetVariable(r.Context(), "IVR_CALLER_FOUND", "1")
	})
	mux.HandleFunc("ivr", func(s *agi.Session, r *agi.Request) {
		found, _, _ := s.GetVariable(r.Context(), "IVR_CALLER_FOUND")
		mu.Lock()
		seen = append(seen, "ivr "+r.UniqueID+" found="+found)
		mu.Unlock()
	})
	srv := agitest.NewServer(mux)
	defer srv.Close()

	trs := srv.RunScripts(t, agiclient.Call{}, "lookup", "ivr?menu=main")
	if len(trs) != 2 {
		t.Fatalf("%d sessions, want 2", len(trs))
	}
	id := trs[0].EnvValue("agi_uniqueid")
	mu.Lock() // the server closes a session after its handler returned
	defer mu.Unlock()
	if want := []string{"lookup " + id, "ivr " + id + " found=1"}; !slices.Equal(seen, want) {
		t.Errorf("the handlers saw %q, want %q", seen, want)
	}
}
