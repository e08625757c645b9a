package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the configuration reference in docs/operations.md")

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func parseServe(t *testing.T, args []string, vars map[string]string) (*serveConfig, error) {
	t.Helper()
	var c serveConfig
	f := newFlags(&env{getenv: envMap(vars), stdout: io.Discard, stderr: io.Discard}, "serve", "", "")
	c.register(f)
	_, err := f.parse(args, 0, 0)
	return &c, err
}

func TestEnvironmentFillsFlagsNotGiven(t *testing.T) {
	c, err := parseServe(t, []string{"-max-calls", "7"}, map[string]string{
		"IVR_MAX_CALLS":     "99", // the flag wins
		"IVR_DRAIN_TIMEOUT": "2m",
		"DATABASE_URL":      "postgres://ivr@db/ivr",
		"IVR_ALLOW":         "10.0.0.0/8, 192.0.2.7",
		"IVR_MIGRATE":       "true",
		"IVR_LOCK_AFTER":    "9",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.maxCalls != 7 {
		t.Errorf("max-calls = %d, want the flag's 7", c.maxCalls)
	}
	if c.drainTimeout != 2*time.Minute || c.db.url != "postgres://ivr@db/ivr" || !c.migrate || c.ivr.LockAfter != 9 {
		t.Errorf("environment not applied: %+v", c)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32")}
	if len(c.allowed) != 2 || c.allowed[0] != want[0] || c.allowed[1] != want[1] {
		t.Errorf("allow = %v, want %v", c.allowed, want)
	}
	if c.agiAddr != ":4573" || c.httpAddr != ":8080" {
		t.Errorf("defaults lost: agi %q http %q", c.agiAddr, c.httpAddr)
	}
}

func TestBadEnvironmentValueNamesTheVariable(t *testing.T) {
	_, err := parseServe(t, nil, map[string]string{"IVR_DRAIN_TIMEOUT": "soon"})
	if err == nil || !strings.Contains(err.Error(), "$IVR_DRAIN_TIMEOUT") {
		t.Fatalf("err = %v, want one naming $IVR_DRAIN_TIMEOUT", err)
	}
	var u usageError
	if !errors.As(err, &u) {
		t.Errorf("err = %T, want a usage error (exit status 2)", err)
	}
}

func TestSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "pin.key")
	pw := filepath.Join(dir, "db.pw")
	os.WriteFile(key, []byte("k1:MDEyMzQ1Njc4OWFiY2RlZg==\n"), 0o600)
	os.WriteFile(pw, []byte("s3cr'et\n"), 0o600)

	c, err := parseServe(t, []string{"-database-password-file", pw}, map[string]string{
		"IVR_PIN_KEY_FILE": key,
		"DATABASE_URL":     "postgres://ivr@db:5432/ivr?sslmode=disable",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.pinKey != "k1:MDEyMzQ1Njc4OWFiY2RlZg==" {
		t.Errorf("pin key = %q, want the file's content without the newline", c.pinKey)
	}
	_, dsn, err := c.credentials()
	if err != nil {
		t.Fatal(err)
	}
	if want := "postgres://ivr:s3cr%27et@db:5432/ivr?sslmode=disable"; dsn != want {
		t.Errorf("dsn = %q, want %q", dsn, want)
	}

	_, err = parseServe(t, []string{"-pin-key", "k1:abc", "-pin-key-file", key}, nil)
	if err == nil || !strings.Contains(err.Error(), "-pin-key ($IVR_PIN_KEY) and -pin-key-file ($IVR_PIN_KEY_FILE) are both set") {
		t.Errorf("value and file both given: err = %v", err)
	}
	_, err = parseServe(t, []string{"-pin-key-file", filepath.Join(dir, "missing")}, nil)
	if err == nil {
		t.Error("missing secret file: no error")
	}
}

func TestPasswordInKeywordValueDSN(t *testing.T) {
	got, err := withPassword("host=db user=ivr dbname=ivr", `a'b\c`)
	if err != nil {
		t.Fatal(err)
	}
	if want := `host=db user=ivr dbname=ivr password='a\'b\\c'`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCheckRefusesUnworkableSettings(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "DATABASE_URL"},
		{[]string{"-database-url", "x", "-log-format", "xml"}, "-log-format"},
		{[]string{"-database-url", "x", "-log-level", "loud"}, "-log-level"},
		{[]string{"-database-url", "x", "-max-calls", "-1"}, "-max-calls"},
		{[]string{"-database-url", "x", "-rollup-every", "-1h"}, "-rollup-every"},
		{[]string{"-database-url", "x", "-lost-after", "8h"}, "-rollup-grace"},                               // 6h < 8h + 15m
		{[]string{"-database-url", "x", "-rollup-grace", "4h14m"}, "-rollup-grace 4h14m0s must be at least"}, // 4h + 15m
	} {
		c, err := parseServe(t, tc.args, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.check(true); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: check = %v, want an error about %s", tc.args, err, tc.want)
		}
	}
	// IVR_HTTP_ADDR=off turns the HTTP listener off; an empty variable cannot.
	for _, tc := range []struct {
		args []string
		env  map[string]string
		on   bool
	}{
		{nil, map[string]string{"IVR_HTTP_ADDR": "off"}, false},
		{[]string{"-http-addr", ""}, nil, false},
		{[]string{"-http-addr", "off"}, nil, false},
		{nil, map[string]string{"IVR_HTTP_ADDR": ""}, true},
		{nil, map[string]string{"IVR_HTTP_ADDR": "127.0.0.1:9090"}, true},
	} {
		c, err := parseServe(t, tc.args, tc.env)
		if err != nil {
			t.Fatal(err)
		}
		if c.httpOn() != tc.on {
			t.Errorf("%v %v: HTTP on = %v, want %v", tc.args, tc.env, c.httpOn(), tc.on)
		}
	}
	// A region without numbering data would make every national caller ID unknown.
	c, err := parseServe(t, []string{"-database-url", "x"}, map[string]string{"IVR_REGION": "ZZ"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.check(true); err == nil || !strings.Contains(err.Error(), "IVR_REGION") || !strings.Contains(err.Error(), `"ZZ"`) {
		t.Errorf("IVR_REGION=ZZ: check = %v, want it refused", err)
	}
	c, _ = parseServe(t, nil, nil)
	if _, err := pinKeyring(c.pinKey); err == nil || !strings.Contains(err.Error(), "IVR_PIN_KEY_FILE") {
		t.Errorf("no PIN key: err = %v, want advice naming IVR_PIN_KEY_FILE", err)
	}
}

func TestLoggerFormats(t *testing.T) {
	var b bytes.Buffer
	c := serveConfig{logFormat: "json", logLevel: "warn", agiDebug: true}
	log, agiLog := c.loggers(&b)
	log.Info("hidden")
	log.Warn("shown", "uniqueid", "1.2")
	agiLog.Debug("AGI Tx >> ANSWER")
	out := b.String()
	if strings.Contains(out, "hidden") || !strings.Contains(out, `"uniqueid":"1.2"`) {
		t.Errorf("json logger at warn wrote:\n%s", out)
	}
	if !strings.Contains(out, "AGI Tx >> ANSWER") {
		t.Errorf("-agi-debug did not let the protocol line through:\n%s", out)
	}
}

// TestConfigReference keeps docs/operations.md's configuration reference equal
// to the flags. Run `go generate ./cmd/ivr` after changing a flag.
func TestConfigReference(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "operations.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := replaceReference(string(doc), configReference())
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(doc) != want {
		t.Errorf("docs/operations.md's configuration reference differs from the flags: run `go generate ./cmd/ivr`")
	}
}
