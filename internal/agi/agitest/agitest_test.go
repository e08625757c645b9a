package agitest_test

import (
	"context"
	"errors"
	"fmt"
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
// ones afterwards, and can be called again.
func TestClose(t *testing.T) {
	started := make(chan struct{})
	var finished atomic.Bool
	srv := agitest.NewServer(agi.HandlerFunc(func(s *agi.Session, r *agi.Request) {
		close(started)
		time.Sleep(50 * time.Millisecond)
		if s.Verbose(r.Context(), "done", 1) == nil {
			finished.Store(true)
		}
	}))
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
