package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRecordings(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("", "callers", "add", "1001", "--numbers", "+14155550101")
	ctx := context.Background()
	_, err := c.pool.Exec(ctx, `
		SELECT ivr_create_month_partitions((now() - interval '200 days')::date, now()::date);
		INSERT INTO calls (uniqueid, started_at) VALUES ('1700000000.1', now() - interval '200 days');
		INSERT INTO recordings (call_id, call_started_at, caller_id, path, format, duration_ms, end_reason, purpose, created_at)
		SELECT (SELECT id FROM calls), (SELECT started_at FROM calls), (SELECT id FROM callers), '/var/spool/asterisk/ivr/' || n, 'wav',
		       4200, 'dtmf', 'message',
		       now() - make_interval(days => d)
		FROM (VALUES ('old', 200), ('older', 300), ('new', 1), ('empty', 2), ('gone', 3)) AS r(n, d);
		UPDATE recordings SET deleted_at = now() - interval '250 days' WHERE path LIKE '%/older';`)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, content := range map[string]string{"old.wav": "RIFF", "older.wav": "RIFF", "new.wav": "RIFF", "empty.wav": "", "stray.wav": "RIFF"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	id := func(name string) string {
		t.Helper()
		var id string
		c.scalar(&id, `SELECT id::text FROM recordings WHERE path LIKE '%/' || $1`, name)
		return id
	}

	out := c.ok("", "recordings", "list", "--format", "csv")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[1], id("new")+",") || !strings.Contains(lines[1], ",1001,message,4.2s,dtmf,") {
		t.Errorf("list (4 not deleted, newest first):\n%s", out)
	}
	if out := c.ok("", "recordings", "list", "--older-than", "90d", "--deleted", "--format", "csv"); strings.Count(out, "\n") != 3 {
		t.Errorf("list --older-than 90d --deleted:\n%s", out)
	}
	out = c.ok("", "recordings", "show", id("old"), "--dir", dir, "--format", "csv")
	if !strings.Contains(out, "/var/spool/asterisk/ivr/old.wav,,ok") {
		t.Errorf("show:\n%s", out)
	}

	out, stderr, err := c.run("", "recordings", "verify", "--dir", dir, "--format", "csv")
	if err == nil || !strings.Contains(err.Error(), "2 recordings without a usable file, 1 file without a recording") {
		t.Fatalf("verify: %v", err)
	}
	if !strings.Contains(out, filepath.Join(dir, "empty.wav")+",empty") || !strings.Contains(out, filepath.Join(dir, "gone.wav")+",missing") ||
		!strings.Contains(out, ",,,"+filepath.Join(dir, "stray.wav")+",no recording") || strings.Contains(out, "older.wav") ||
		!strings.Contains(stderr, "4 recordings checked, 2 with a problem; 1 file that no recording knows") {
		t.Errorf("verify:\n%s\n%s", out, stderr)
	}
	missing := filepath.Join(dir, "not-mounted")
	if _, _, err := c.run("", "recordings", "verify", "--dir", missing); err == nil || !strings.Contains(err.Error(), "--dir "+missing+" is not a directory") {
		t.Errorf("verify of a directory that does not exist: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "stray.wav")); err != nil {
		t.Fatal(err)
	}

	c.ok("", "recordings", "delete", id("empty"), "--dir", dir)
	if _, err := os.Stat(filepath.Join(dir, "empty.wav")); !os.IsNotExist(err) {
		t.Error("delete --dir left the file")
	}
	if n := c.count(`SELECT count(*) FROM recordings WHERE deleted_at IS NOT NULL`); n != 2 {
		t.Errorf("%d deleted recordings after delete, want 2", n)
	}

	out = c.ok("", "recordings", "purge", "--older-than", "90d", "--dir", dir, "--dry-run")
	if !strings.Contains(out, "would purge 1 recording made before") || !strings.Contains(out, "would remove 2 files") {
		t.Errorf("purge --dry-run:\n%s", out)
	}
	if n := c.count(`SELECT count(*) FROM recordings WHERE deleted_at IS NULL`); n != 3 {
		t.Errorf("%d recordings left after a dry run, want 3", n)
	}
	// A file already gone is not counted as removed.
	if err := os.Remove(filepath.Join(dir, "older.wav")); err != nil {
		t.Fatal(err)
	}
	out, stderr, err = c.run("", "recordings", "purge", "--older-than", "90d", "--dir", dir)
	if err != nil || !strings.Contains(out, "purged 1 recording made before") || !strings.Contains(out, "removed 1 file\n") {
		t.Fatalf("purge: %v\n%s\n%s", err, out, stderr)
	}
	for _, name := range []string{"old.wav", "older.wav"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("purge left %s", name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "new.wav")); err != nil {
		t.Errorf("purge removed a new recording: %v", err)
	}
	if n := c.count(`SELECT count(*) FROM recordings WHERE deleted_at IS NULL`); n != 2 {
		t.Errorf("%d recordings left, want new and gone", n)
	}
	if _, _, err := c.run("", "recordings", "purge"); err == nil || !strings.Contains(err.Error(), "--older-than is required") {
		t.Errorf("purge without an age: %v", err)
	}
}
