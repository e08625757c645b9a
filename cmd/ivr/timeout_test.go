package main

import (
	"net"
	"strings"
	"sync"
	"testing"
)

// silentServer listens on loopback, accepts every connection and never
// answers, like a firewall or a stuck server in front of PostgreSQL. It returns
// its address.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// TestCommandsGiveUpOnASilentDatabase runs the commands an admin tries first
// against a server that accepts connections and never answers: each one fails
// by itself, naming the server and the timeout, and never shows the password.
// A silent reports database is named as the reports database.
func TestCommandsGiveUpOnASilentDatabase(t *testing.T) {
	t.Parallel()
	addr := silentServer(t)
	for _, tc := range []struct {
		name, query string
		args        []string
		variable    string // of the silent server's URL; "" is DATABASE_URL
	}{
		{"migrate up", "?connect_timeout=1", []string{"migrate", "up"}, ""},
		{"callers list", "?connect_timeout=1", []string{"callers", "list"}, ""},
		{"report calls", "?connect_timeout=1", []string{"report", "calls"}, ""},
		{"serve", "?connect_timeout=1", []string{"serve", "-pin-key", testPINKey, "-agi-addr", "127.0.0.1:0", "-http-addr", ""}, ""},
		{"default timeout", "", []string{"callers", "list"}, ""},
		{"report calls on a replica", "?connect_timeout=1", []string{"report", "calls"}, "IVR_REPORTS_DATABASE_URL"},
		{"callers export from a replica", "?connect_timeout=1", []string{"callers", "export"}, "IVR_REPORTS_DATABASE_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := "postgres://ivr:hunter2secret@" + addr + "/ivr" + tc.query
			vars := map[string]string{"DATABASE_URL": url}
			want := []string{addr, "did not answer within", "connect_timeout"}
			if tc.variable != "" {
				// The primary is never asked: a URL of it that could not work changes nothing.
				vars = map[string]string{"DATABASE_URL": "postgres://ivr@primary.invalid/ivr", tc.variable: url}
				want = append(want, "reports database (-reports-database-url)")
			}
			out, err := runIVR(t, vars, tc.args...)
			if err == nil {
				t.Fatalf("ivr %s succeeded against a silent server:\n%s", tc.name, out)
			}
			msg := err.Error() + "\n" + out
			for _, want := range want {
				if !strings.Contains(msg, want) {
					t.Errorf("ivr %s: the error has no %q:\n%s", tc.name, want, msg)
				}
			}
			if strings.Contains(msg, "hunter2secret") {
				t.Errorf("ivr %s: the error shows the password:\n%s", tc.name, msg)
			}
		})
	}
}
