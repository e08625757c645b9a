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
	"time"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
)

var update = flag.Bool("update", false, "rewrite the golden files of the conformance tests")

// serveOne starts a Server on loopback with h and returns its address and a
// stop function.
func serveOne(t testing.TB, srv *Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
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
	return l.Addr().String()
}

// TestFixtureConformance replays every captured Asterisk conversation
// against the real server over TCP, writing Asterisk's side coalesced, line
// by line and byte by byte, while a handler sends the same commands through
// the typed Session methods. The outcomes must not depend on how the bytes
// were cut, and must match the reviewed golden file.
func TestFixtureConformance(t *testing.T) {
	for _, name := range fixtureNames(t) {
		f := loadFixture(t, name)
		t.Run(name, func(t *testing.T) {
			var first string
			for _, mode := range []writeMode{writeGroup, writeLines, writeBytes} {
				got := conformanceRun(t, f, mode)
				if first == "" {
					first = got
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
						t.Errorf("%v outcomes differ from %s:\n%s", mode, golden, got)
					}
				} else if got != first {
					t.Errorf("%v outcomes differ from coalesced writes:\n%s\nwant\n%s", mode, got, first)
				}
			}
		})
	}
}

func conformanceRun(t *testing.T, f fixture, mode writeMode) string {
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
	addr := serveOne(t, srv)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := replay(conn, f, mode)
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
