// Package agitest runs an agi.Server on loopback for tests, in the spirit of
// net/http/httptest, and plays calls against it with agiclient.
//
//	srv := agitest.NewServer(agi.HandlerFunc(myHandler))
//	defer srv.Close()
//	tr := srv.Run(t, agiclient.Call{Script: "ivr/main", Keys: []string{"1234#"}})
//	// assert on tr.Commands(), tr.Variables, tr.Prompts() ...
//
// The calls are as strict as Asterisk: a playing command names one file, so
// "a&b" is a file that does not exist, and with Server.Sounds set only those
// sounds exist. Either way the command answers as Asterisk does (GET DATA
// "200 result=-1", STREAM FILE "200 result=-1 endpos=0") and the step carries
// the warning Asterisk logs.
package agitest

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ivrhq/ivr/internal/agi"
	"github.com/ivrhq/ivr/internal/agi/agiclient"
)

// A Server is an agi.Server listening on a loopback port.
type Server struct {
	Addr   string      // host:port to dial
	Config *agi.Server // the server; its fields may be set between NewUnstartedServer and Start
	// Sounds, when set, are the sound files that exist for every call Run
	// and RunScripts play whose Call has no Sounds of its own.
	Sounds *agiclient.Sounds

	l    net.Listener
	wg   sync.WaitGroup
	once sync.Once
}

// NewServer starts a server with handler on 127.0.0.1 and a random port. The
// caller must Close it.
func NewServer(h agi.Handler) *Server {
	s := NewUnstartedServer(h)
	s.Start()
	return s
}

// NewUnstartedServer returns a server that is listening but not yet serving,
// so its Config can be changed (hooks, limits, a Logger); call Start.
func NewUnstartedServer(h agi.Handler) *Server {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("agitest: listen: " + err.Error())
	}
	return &Server{Addr: l.Addr().String(), Config: &agi.Server{Handler: h}, l: l}
}

// Start serves in the background.
func (s *Server) Start() {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.Config.Serve(s.l); err != nil && !errors.Is(err, agi.ErrServerClosed) {
			panic("agitest: serve: " + err.Error())
		}
	}()
}

// Close shuts the server down: it waits up to 5 seconds for calls in progress,
// then cancels the rest.
func (s *Server) Close() {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Config.Shutdown(ctx); err != nil {
			s.Config.Close()
		}
		s.l.Close()
		s.wg.Wait()
	})
}

// Run plays c against the server and returns the transcript; it fails the
// test when the call cannot be played. A call that is not over after 10
// seconds fails too.
func (s *Server) Run(t testing.TB, c agiclient.Call) *agiclient.Transcript {
	t.Helper()
	ctx, cancel := s.prepare(&c)
	defer cancel()
	tr, err := c.Run(ctx, s.Addr)
	if err != nil {
		t.Fatalf("agitest: call %q: %v", c.Script, err)
	}
	return tr
}

// RunScripts plays one channel that runs the scripts in turn with the same
// uniqueid, as agiclient.Call.RunScripts does, and returns a transcript per
// session played; it fails the test when the channel cannot be played or is
// not over after 10 seconds.
func (s *Server) RunScripts(t testing.TB, c agiclient.Call, scripts ...string) []*agiclient.Transcript {
	t.Helper()
	ctx, cancel := s.prepare(&c)
	defer cancel()
	trs, err := c.RunScripts(ctx, s.Addr, scripts...)
	if err != nil {
		t.Fatalf("agitest: channel %q: %v", scripts, err)
	}
	return trs
}

// prepare gives c the server's sounds when it has none, and returns the
// context a call is played in.
func (s *Server) prepare(c *agiclient.Call) (context.Context, context.CancelFunc) {
	if c.Sounds == nil {
		c.Sounds = s.Sounds
	}
	return context.WithTimeout(context.Background(), 10*time.Second)
}

// TestLogger returns a logger that writes to t.Log at debug level, protocol
// lines included, for Config.Logger.
func TestLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// A Session is what a ScriptServer saw of one AGI session: the environment
// sent and the reply to each command line, without their "\n".
type Session struct {
	Env     map[string]string
	Replies []string
}

// ScriptServer plays a FastAGI server that knows nothing of package agi: it
// accepts one connection per entry of sessions, sends that entry's command
// lines verbatim one at a time, reads each reply (one line), and closes. It
// lets a test send what the agi server itself would refuse. It returns the
// address to dial and a channel that gets each Session as it ends; the
// listener is closed when the test ends.
func ScriptServer(t testing.TB, sessions ...[]string) (addr string, seen <-chan Session) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("agitest: listen: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	out := make(chan Session, len(sessions))
	go func() {
		for _, cmds := range sessions {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			s := Session{Env: map[string]string{}}
			br := bufio.NewReader(conn)
			for {
				line, err := br.ReadString('\n')
				if err != nil || line == "\n" {
					break
				}
				k, v, _ := strings.Cut(strings.TrimSuffix(line, "\n"), ": ")
				s.Env[k] = v
			}
			for _, c := range cmds {
				io.WriteString(conn, c+"\n")
				r, _ := br.ReadString('\n')
				s.Replies = append(s.Replies, strings.TrimSuffix(r, "\n"))
			}
			conn.Close()
			out <- s
		}
	}()
	return l.Addr().String(), out
}
