package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestAllowDefaultsToLoopback(t *testing.T) {
	c, err := parseServe(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{"127.0.0.1": true, "::1": true, "10.0.0.5": false, "192.0.2.7": false} {
		a := netip.MustParseAddr(addr)
		got := false
		for _, p := range c.allowed {
			got = got || p.Contains(a)
		}
		if got != want {
			t.Errorf("%s allowed by default: %v, want %v", addr, got, want)
		}
	}
	c, err = parseServe(t, []string{"-allow", ""}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.check(false); err == nil || !strings.Contains(err.Error(), "-allow is empty") {
		t.Errorf("an empty -allow: %v, want it refused", err)
	}
}

func TestReadyzLeaksNoDetail(t *testing.T) {
	detail := errors.New(`read schema version: failed to connect to ` +
		"`user=payroll_admin database=payroll_prod`: /var/run/postgresql/.s.PGSQL.5432 (/var/run/postgresql): dial error: connection refused")
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"database down", detail, "not ready: the database is not available"},
		{"schema behind", &notReady{Reason: "database schema is at version 5, this ivr is built for 6"},
			"not ready: database schema is at version 5, this ivr is built for 6"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := &health{ready: func(context.Context) error { return tc.err }, log: slog.New(slog.NewTextHandler(&logs, nil))}
			rec := httptest.NewRecorder()
			h.handler(prometheus.NewRegistry()).ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
			body := strings.TrimSpace(rec.Body.String())
			if rec.Code != http.StatusServiceUnavailable || body != tc.want {
				t.Errorf("/readyz = %d %q, want 503 %q", rec.Code, body, tc.want)
			}
			for _, secret := range []string{"payroll", "/var/run", "PGSQL"} {
				if strings.Contains(body, secret) {
					t.Errorf("the body shows %q: %s", secret, body)
				}
			}
			if tc.err == detail && !strings.Contains(logs.String(), "payroll_admin") {
				t.Errorf("the log lacks the detail:\n%s", logs.String())
			}
		})
	}
}

// TestServeRefusesMoreCallsThanFiles runs ivr serve under a low open-file
// limit: too many calls for it are refused before anything starts, with the
// numbers; a -max-calls that fits gets past the check (to the database, which
// is not there).
func TestServeRefusesMoreCallsThanFiles(t *testing.T) {
	bin := buildIVR(t)
	run := func(maxCalls string) string {
		cmd := exec.Command("sh", "-c", `ulimit -n 200 && exec "$@"`, "sh",
			bin, "serve", "-max-calls", maxCalls, "-agi-addr", "127.0.0.1:0", "-http-addr", "")
		cmd.Env = hermeticEnv("DATABASE_URL=postgres://ivr@127.0.0.1:1/ivr?connect_timeout=5", "IVR_PIN_KEY="+servePINKey)
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("-max-calls %s: ivr serve exited 0\n%s", maxCalls, out)
		}
		return string(out)
	}
	out := run("500")
	for _, want := range []string{"-max-calls 500 does not fit the open-file limit of 200", "18 database connections", "need 582", "lower -max-calls to 118"} {
		if !strings.Contains(out, want) {
			t.Errorf("-max-calls 500 under 200 files: output lacks %q:\n%s", want, out)
		}
	}
	if out := run("100"); strings.Contains(out, "open-file limit") {
		t.Errorf("-max-calls 100 under 200 files was refused:\n%s", out)
	}
}
