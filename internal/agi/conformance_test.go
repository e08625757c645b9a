package agi

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
)

var update = flag.Bool("update", false, "rewrite the golden files of the conformance tests")

// serveOne starts a Server on loopback and returns its address; the server
// is shut down when the test ends.
func serveOne(t testing.TB, srv *Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveOn(t, srv, l)
	return l.Addr().String()
}

// serveOn serves srv on l until the test ends, then shuts it down.
func serveOn(t testing.TB, srv *Server, l net.Listener) {
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
			srv.Close()
		}
		if err := <-done; err != ErrServerClosed {
			t.Errorf("Serve returned %v", err)
		}
	})
}

// TestFixtureConformance replays every captured Asterisk conversation
// against the real server, writing Asterisk's side coalesced, line by line
// and byte by byte, while a handler sends the same commands through the typed
// Session methods. The outcomes must not depend on how the bytes were cut,
// and must match the reviewed golden file. The three ways of writing run in a
// synctest bubble over an in-memory connection, where each write is one read
// for the server and the server has taken it before the next one comes; the
// coalesced writes also run over TCP, for the socket path.
func TestFixtureConformance(t *testing.T) {
	for _, name := range fixtureNames(t) {
		f := loadFixture(t, name)
		t.Run(name, func(t *testing.T) {
			got := conformanceRun(t, f, writeGroup, overTCP)
			golden := filepath.Join("testdata", "conformance", name+".txt")
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("%v outcomes over TCP differ from %s:\n%s", writeGroup, golden, got)
			}
			for _, mode := range []writeMode{writeGroup, writeLines, writeBytes} {
				synctest.Test(t, func(t *testing.T) {
					if got := conformanceRun(t, f, mode, inMemory); got != string(want) {
						t.Errorf("%v outcomes in memory differ from %s:\n%s", mode, golden, got)
					}
				})
			}
		})
	}
}

// overTCP serves srv on loopback for the test and returns a connection to it.
func overTCP(t *testing.T, srv *Server) net.Conn {
	conn, err := net.Dial("tcp", serveOne(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// inMemory serves srv on in-memory connections for the test, which must
// run in a synctest bubble, and returns a connection to it.
func inMemory(t *testing.T, srv *Server) net.Conn {
	l := newPipeListener()
	serveOn(t, srv, l)
	conn, _ := l.dialMem()
	return conn
}

func conformanceRun(t *testing.T, f fixture, mode writeMode, serve func(*testing.T, *Server) net.Conn) string {
	outcomes := make(chan []string, 1)
	srv := &Server{Handler: HandlerFunc(func(s *Session, r *Request) {
		var out []string
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
		defer cancel()
		for i, line := range f.cmds {
			if !f.replied(i) {
				// Capture 16: a command written while GET DATA waited
				// aborted it. The session never writes a command before
				// the reply, so it cannot take this path.
				out = append(out, agiclient.ParseCommand(line).Name+": not sent (Asterisk never answered it in the capture)")
				continue
			}
			out = append(out, runCaptured(ctx, s, line))
		}
		out = append(out, fmt.Sprintf("hung up: %v, context: %v", s.Hungup(), context.Cause(r.Context())))
		outcomes <- out
	})}
	sent, err := replay(serve(t, srv), f, mode)
	if err != nil {
		t.Fatalf("%v: replay: %v", mode, err)
	}
	var b strings.Builder
	for _, o := range <-outcomes {
		b.WriteString(o + "\n")
	}
	b.WriteString("--- sent to Asterisk\n")
	for _, l := range sent {
		b.WriteString(l + "\n")
	}
	return b.String()
}
