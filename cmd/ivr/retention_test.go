package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ivrhq/ivr/internal/store"
)

func TestParseKeep(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"13mo", 13, true}, {"2y", 24, true}, {"0mo", 0, true}, {"1y", 12, true},
		{"13", 0, false}, {"13m", 0, false}, {"mo", 0, false}, {"-1mo", 0, false}, {"1.5y", 0, false}, {"30d", 0, false},
	} {
		got, err := parseKeep(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseKeep(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// TestRetention stores a call with its step, answer, PIN attempt and
// recording in each of six months ago, five months ago, last month and this
// month, then runs ivr retention: a dry run changes nothing, a real run with
// --keep 3mo removes exactly the months before the last three with their
// recording files, and no --keep removes this month or the last.
func TestRetention(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("", "callers", "add", "1001", "--numbers", "+14155550101")
	ctx := context.Background()
	now := store.MonthOf(time.Now())
	ago := func(n int) time.Time { return now.AddDate(0, -n, 0) }
	if _, err := c.pool.Exec(ctx, "SELECT ivr_create_month_partitions($1, $2)", ago(6), now); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, n := range []int{6, 5, 1, 0} {
		name := fmt.Sprintf("m%d", n)
		// Late on the month's last day, so that the rows made during the
		// call (its step, answer, attempt) fall in the next month.
		start := ago(n).AddDate(0, 1, 0).Add(-time.Minute)
		if n == 0 {
			start = time.Now()
		}
		_, err := c.pool.Exec(ctx, `WITH c AS (
				INSERT INTO calls (uniqueid, route, caller_id, started_at) VALUES ($1, 'ivr', (SELECT id FROM callers), $2)
				RETURNING id, started_at
			), s AS (
				INSERT INTO call_steps (call_id, call_started_at, seq, key, kind, outcome, at)
				SELECT id, started_at, 1, 'pin', 'pin', 'valid', started_at + interval '2 minutes' FROM c
			), r AS (
				INSERT INTO responses (call_id, call_started_at, answer, at)
				SELECT id, started_at, '1', started_at + interval '2 minutes' FROM c
			), p AS (
				INSERT INTO pin_attempts (caller_id, call_id, call_started_at, success, at)
				SELECT (SELECT id FROM callers), id, started_at, true, started_at + interval '2 minutes' FROM c
			)
			INSERT INTO recordings (call_id, call_started_at, path, format, end_reason, purpose, created_at)
			SELECT id, started_at, '/var/spool/asterisk/ivr/' || $1, 'wav', 'dtmf', 'message', started_at FROM c`, name, start)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".wav"), []byte("RIFF----WAVE"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	count := func() string {
		t.Helper()
		var s string
		c.scalar(&s, `SELECT (SELECT count(*) FROM calls) || ' ' || (SELECT count(*) FROM call_steps) || ' ' ||
			(SELECT count(*) FROM responses) || ' ' || (SELECT count(*) FROM pin_attempts) || ' ' || (SELECT count(*) FROM recordings)`)
		return s
	}
	partitions := func() []string {
		t.Helper()
		var s string
		c.scalar(&s, `SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
			WHERE i.inhparent = 'calls'::regclass`)
		return strings.Fields(s)
	}
	files := func() string {
		t.Helper()
		es, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		return strings.Join(names, " ")
	}
	month := func(n int) string { return ago(n).Format("2006-01") }
	part := func(n int) string { return "calls_y" + ago(n).Format("2006") + "m" + ago(n).Format("01") }

	// Every month before the last three: the two with calls and the two empty
	// ones between them and the kept months.
	wantGone := []string{month(6), month(5), month(4), month(3)}
	beforeParts := partitions()

	out := c.ok("", "retention", "--keep", "3mo", "--dir", dir, "--dry-run", "--format", "csv")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 || lines[0] != "month,calls,steps,responses,pin_attempts,recordings,bytes" {
		t.Fatalf("dry run printed\n%s\nwant a header and the months %v", out, wantGone)
	}
	for i, m := range wantGone {
		if !strings.HasPrefix(lines[i+1], m+",") {
			t.Errorf("dry run row %d: %q, want month %s", i+1, lines[i+1], m)
		}
	}
	if !strings.HasPrefix(lines[1], month(6)+",1,1,1,1,1,") {
		t.Errorf("dry run row of %s: %q, want one of each", month(6), lines[1])
	}
	if got := count(); got != "4 4 4 4 4" {
		t.Errorf("after the dry run the journal holds %s, want 4 of each", got)
	}
	if got := partitions(); strings.Join(got, " ") != strings.Join(beforeParts, " ") {
		t.Errorf("after the dry run the partitions are %v, want %v", got, beforeParts)
	}
	if got := files(); got != "m0.wav m1.wav m5.wav m6.wav" {
		t.Errorf("after the dry run the files are %s, want all four", got)
	}

	// The reports' summaries of a caller's days and months name the caller:
	// they go with the month's calls; those of the kept months stay.
	for _, n := range []int{6, 1} {
		for _, insert := range []string{"INSERT INTO rollup_caller_activity VALUES ($1::date + 3, 1, 1, 1, 0, 0, 0, 0, NULL)",
			"INSERT INTO rollup_caller_activity_month VALUES ($1::date, 1, 1, 1, 0, 0, 0, 0, NULL)"} {
			if _, err := c.pool.Exec(ctx, insert, ago(n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	out, errOut, err := c.run("", "retention", "--keep", "3mo", "--dir", dir, "--format", "csv")
	if err != nil {
		t.Fatalf("retention: %v\n%s", err, errOut)
	}
	if got := strings.Split(strings.TrimSpace(out), "\n"); len(got) != 5 || !strings.HasPrefix(got[1], month(6)+",1,1,1,1,1,") {
		t.Errorf("retention printed\n%s\nwant the months %v", out, wantGone)
	}
	if !strings.Contains(errOut, "retention removed a month of calls") || !strings.Contains(errOut, "month="+month(5)) {
		t.Errorf("retention logged\n%s\nwant a line per month removed", errOut)
	}
	if got := count(); got != "2 2 2 2 2" {
		t.Errorf("after retention the journal holds %s, want this month's and last month's calls", got)
	}
	var left int
	c.scalar(&left, "SELECT count(*) FROM calls WHERE uniqueid IN ('m1', 'm0')")
	if left != 2 {
		t.Errorf("%d of this month's and last month's calls left, want both", left)
	}
	got := partitions()
	for _, n := range []int{6, 5, 4, 3} {
		for _, p := range got {
			if p == part(n) {
				t.Errorf("partition %s still there after retention", p)
			}
		}
	}
	for _, n := range []int{2, 1, 0, -1, -2} {
		if !strings.Contains(" "+strings.Join(got, " ")+" ", " "+part(n)+" ") {
			t.Errorf("partition %s gone, want it kept (partitions: %v)", part(n), got)
		}
	}
	var callerDays, callerMonths string
	c.scalar(&callerDays, "SELECT coalesce(string_agg(to_char(day, 'YYYY-MM'), ' '), '') FROM rollup_caller_activity")
	c.scalar(&callerMonths, "SELECT coalesce(string_agg(to_char(month, 'YYYY-MM'), ' '), '') FROM rollup_caller_activity_month")
	if callerDays != month(1) || callerMonths != month(1) {
		t.Errorf("after retention the callers' summaries hold days of %q and months %q, want only %s", callerDays, callerMonths, month(1))
	}
	if got := files(); got != "m0.wav m1.wav" {
		t.Errorf("after retention the files are %s, want those of this month and the last", got)
	}

	// Nothing removes this month or the last: too short a --keep is refused,
	// the shortest allowed leaves them.
	for _, keep := range []string{"1mo", "0mo", "0y"} {
		_, _, err := c.run("", "retention", "--keep", keep)
		var u usageError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), "never removes") {
			t.Errorf("retention --keep %s: %v, want a refusal", keep, err)
		}
	}
	if _, _, err := c.run("", "retention"); err == nil || !strings.Contains(err.Error(), "--keep is required") {
		t.Errorf("retention without --keep: %v, want it required", err)
	}
	c.ok("", "retention", "--keep", "2mo", "--dir", dir)
	if got := count(); got != "2 2 2 2 2" {
		t.Errorf("after retention --keep 2mo the journal holds %s, want this month's and last month's calls", got)
	}
}

// TestMaintain makes the coming months' partitions once, then finds nothing
// to make.
func TestMaintain(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	ctx := context.Background()
	next := store.MonthOf(time.Now()).AddDate(0, 2, 0)
	// The months the migration made are dropped, as if the database had
	// been restored from before them.
	if _, err := c.pool.Exec(ctx, "SELECT ivr_drop_month_partitions($1)", next); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := c.run("", "maintain")
	name := "calls_y" + next.Format("2006") + "m" + next.Format("01")
	if err != nil || !strings.Contains(out, "made journal partitions") || !strings.Contains(out, name) {
		t.Errorf("maintain: %v\n%s%s\nwant it to make %s", err, out, errOut, name)
	}
	out, errOut, err = c.run("", "maintain")
	if err != nil || !strings.Contains(out, "already there") {
		t.Errorf("maintain again: %v\n%s%s\nwant nothing made", err, out, errOut)
	}
}
