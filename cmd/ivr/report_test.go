package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store"
	"github.com/ivrhq/ivr/internal/testdb"
)

// reportFixture stores a small known dataset: two callers, the main menu and
// the satisfaction survey, and seven calls on 2 to 5 March 2026 (UTC), written
// through the store's journal as the call flows write them:
//
//	A 03-02 09:10 ivr  Alice by phone: PIN ok, menu 2, survey answer 5, completed, 60s
//	B 03-02 09:40 ivr  unknown number: account timed out, hung up during vm-login, 20s
//	C 03-02 10:05 ivr  Bob by phone: two wrong PINs, locked out, 30s
//	D 03-03 08:00 lookup Alice found, 0s
//	E 03-03 14:30 ivr  Alice: PIN ok, menu 7 (invalid), menu 3, a 12.5s recording, completed, 45s
//	F 03-03 14:50 ivr  Bob: PIN ok, still open (not answered yet as far as the row knows)
//	G 03-05 09:00 ivr  Alice: PIN ok, menu 2, completed (outside the range the tests ask for)
//	H 03-03 14:30 lookup on E's channel: Alice found, 0s (one phone call with E)
//	I 03-02 10:06 ivr  on C's channel again (a Goto): Bob still locked out, 10s
func reportFixture(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	url := testdb.URL(t)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var alice, bob, menuV, surveyV int64
	for _, q := range []struct {
		sql  string
		dest *int64
	}{
		{`INSERT INTO callers (account, name) VALUES ('1001', 'Alice') RETURNING id`, &alice},
		{`INSERT INTO callers (account, name) VALUES ('1002', 'Bob') RETURNING id`, &bob},
		{`WITH m AS (INSERT INTO menus (key) VALUES ('main') RETURNING id)
		  INSERT INTO menu_versions (menu_id, version, prompt, timeout_ms, max_digits, max_attempts)
		  SELECT id, 1, 'main-menu', 5000, 1, 3 FROM m RETURNING id`, &menuV},
		{`WITH s AS (INSERT INTO surveys (key) VALUES ('satisfaction') RETURNING id)
		  INSERT INTO survey_versions (survey_id, version) SELECT id, 1 FROM s RETURNING id`, &surveyV},
	} {
		if err := pool.QueryRow(ctx, q.sql).Scan(q.dest); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	for _, q := range []struct {
		sql string
		arg int64
	}{
		{`INSERT INTO menu_options (menu_version_id, digits, position, action, target, label) VALUES
		 ($1, '1', 1, 'play_messages', '', 'messages'), ($1, '2', 2, 'survey', 'satisfaction', 'survey'),
		 ($1, '3', 3, 'record', '', 'leave a message'), ($1, '0', 4, 'operator', '', 'operator')`, menuV},
		{`INSERT INTO survey_questions (survey_version_id, position, key, prompt, allowed_digits) VALUES ($1, 1, 'q1', 'q1-prompt', '12345')`, surveyV},
		{`UPDATE menu_versions SET published_at = '2026-01-01' WHERE id = $1`, menuV},
		{`UPDATE survey_versions SET published_at = '2026-01-01' WHERE id = $1`, surveyV},
	} {
		if _, err := pool.Exec(ctx, q.sql, q.arg); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}

	at := func(s string) time.Time {
		tm, err := time.Parse("2006-01-02 15:04:05", s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	// call builds a call of route started at start by caller; steps are
	// given as kind, key, outcome and digits, one second apart.
	type st struct{ kind, key, out, digits string }
	n := 0
	call := func(route, start string, caller int64, end ivr.EndReason, secs int, steps ...st) *fixtureCall {
		n++
		s := at(start)
		c := &fixtureCall{call: ivr.Call{UniqueID: fmt.Sprintf("1772400000.%d", n), Route: route, CallerID: caller, StartedAt: s}}
		c.call.LinkedID = c.call.UniqueID
		c.end = ivr.CallEnd{Reason: end, CallerID: caller}
		if end != "" {
			c.end.EndedAt = s.Add(time.Duration(secs) * time.Second)
		}
		if route == "ivr" {
			c.end.AnsweredAt = s
		}
		for i, x := range steps {
			secret := x.kind == "pin"
			c.steps = append(c.steps, ivr.Step{Seq: i + 1, Kind: ivr.StepKind(x.kind), Key: x.key,
				Outcome: ivr.Outcome(x.out), Digits: x.digits, Secret: secret, Attempt: 1, At: s.Add(time.Duration(i) * time.Second)})
		}
		return c
	}
	pinOK := []st{{"prompt", "vm-password", "valid", ""}, {"pin", "pin", "valid", ""}}
	menu := func(d, out string) []st {
		return []st{{"prompt", "main-menu", "valid", ""}, {"menu", "menu:main", out, d}}
	}
	cat := func(parts ...[]st) []st {
		var all []st
		for _, p := range parts {
			all = append(all, p...)
		}
		return all
	}

	a := call("ivr", "2026-03-02 09:10:00", alice, ivr.EndCompleted, 60, cat(pinOK, menu("2", "valid"),
		[]st{{"prompt", "q1-prompt", "valid", ""}, {"survey", "survey:satisfaction:q1", "valid", "5"}, {"prompt", "vm-goodbye", "valid", ""}})...)
	a.end.Authenticated = true
	a.responses = []ivr.Response{
		{CallerID: alice, MenuVersionID: menuV, QuestionKey: "main", Answer: "2", At: at("2026-03-02 09:10:04")},
		{CallerID: alice, SurveyVersionID: surveyV, QuestionKey: "q1", Answer: "5", At: at("2026-03-02 09:10:06")},
	}
	a.pins = []ivr.PINEntry{{CallerID: alice, Right: true, At: at("2026-03-02 09:10:02")}}

	b := call("ivr", "2026-03-02 09:40:00", 0, ivr.EndHangup, 20,
		st{"prompt", "vm-login", "valid", ""}, st{"account", "account", "timeout", ""},
		st{"prompt", "please-try-again", "valid", ""}, st{"prompt", "vm-login", "hangup", ""}, st{"hangup", "hangup", "hangup", ""})

	c := call("ivr", "2026-03-02 10:05:00", bob, ivr.EndLockedOut, 30,
		st{"prompt", "vm-password", "valid", ""}, st{"pin", "pin", "invalid", ""},
		st{"prompt", "vm-incorrect", "valid", ""}, st{"prompt", "vm-password", "valid", ""}, st{"pin", "pin", "invalid", ""},
		st{"prompt", "vm-incorrect", "valid", ""}, st{"prompt", "vm-goodbye", "valid", ""})
	c.pins = []ivr.PINEntry{
		{CallerID: bob, At: at("2026-03-02 10:05:01")},
		{CallerID: bob, At: at("2026-03-02 10:05:04")},
	}

	d := call("lookup", "2026-03-03 08:00:00", alice, ivr.EndCompleted, 0, st{"lookup", "lookup", "valid", ""})

	e := call("ivr", "2026-03-03 14:30:00", alice, ivr.EndCompleted, 45, cat(pinOK, menu("7", "invalid"),
		[]st{{"prompt", "pm-invalid-option", "valid", ""}}, menu("3", "valid"),
		[]st{{"prompt", "vm-rec-name", "valid", ""}, {"record", "record", "valid", "#"}, {"prompt", "vm-msgsaved", "valid", ""}})...)
	e.end.Authenticated = true
	e.responses = []ivr.Response{{CallerID: alice, MenuVersionID: menuV, QuestionKey: "main", Answer: "3", At: at("2026-03-03 14:30:07")}}
	e.recordings = []ivr.Recording{{CallerID: alice, Path: "/var/spool/asterisk/ivr/e-1", Format: "wav",
		EndPos: 100000, Duration: 12500 * time.Millisecond, Reason: ivr.RecordDTMF, Key: "#", Purpose: ivr.PurposeMessage, CreatedAt: at("2026-03-03 14:30:20")}}
	e.pins = []ivr.PINEntry{{CallerID: alice, Right: true, At: at("2026-03-03 14:30:01")}}

	f := call("ivr", "2026-03-03 14:50:00", bob, "", 0, pinOK...)
	f.pins = []ivr.PINEntry{{CallerID: bob, Right: true, At: at("2026-03-03 14:50:01")}}

	g := call("ivr", "2026-03-05 09:00:00", alice, ivr.EndCompleted, 50, cat(pinOK, menu("2", "valid"))...)
	g.end.Authenticated = true
	g.responses = []ivr.Response{{CallerID: alice, MenuVersionID: menuV, QuestionKey: "main", Answer: "2", At: at("2026-03-05 09:00:04")}}
	g.pins = []ivr.PINEntry{{CallerID: alice, Right: true, At: at("2026-03-05 09:00:01")}}

	h := call("lookup", "2026-03-03 14:30:00", alice, ivr.EndCompleted, 0, st{"lookup", "lookup", "valid", ""})
	h.call.UniqueID, h.call.LinkedID = e.call.UniqueID, e.call.LinkedID
	i := call("ivr", "2026-03-02 10:06:00", bob, ivr.EndLockedOut, 10, st{"prompt", "vm-goodbye", "valid", ""})
	i.call.UniqueID, i.call.LinkedID = c.call.UniqueID, c.call.LinkedID

	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.EnsurePartitions(ctx, at("2026-03-01 00:00:00"), at("2026-03-31 00:00:00")); err != nil {
		t.Fatal(err)
	}
	// In this order the PINs are decided in time order, as the calls made them.
	for _, fc := range []*fixtureCall{a, b, c, d, e, f, g, h, i} {
		if err := fc.write(ctx, db); err != nil {
			t.Fatalf("call %s: %v", fc.call.UniqueID, err)
		}
	}
	return url
}

// fixtureCall is one session of the report fixture: its row, how it ended
// (Reason "" leaves it open), and what it journaled.
type fixtureCall struct {
	call       ivr.Call
	end        ivr.CallEnd
	steps      []ivr.Step
	responses  []ivr.Response
	recordings []ivr.Recording
	pins       []ivr.PINEntry // decided with the IVR's default lock policy
}

// write stores the call through the store's journal, as the flows do: the
// lookup route's whole call in one go, an ivr call opened, then its PINs
// decided, answers, recordings, and its steps with the call closed.
func (c *fixtureCall) write(ctx context.Context, db *store.DB) error {
	if c.call.Route == "lookup" {
		_, err := db.RecordCall(ctx, c.call, c.end, c.steps)
		return err
	}
	id, err := db.StartCall(ctx, c.call)
	if err != nil {
		return err
	}
	for _, p := range c.pins {
		p.CallID = id
		if _, err := db.DecidePIN(ctx, p, ivr.LockPolicy{After: 5, Schedule: []time.Duration{5 * time.Minute}}); err != nil {
			return err
		}
	}
	for _, r := range c.responses {
		if err := db.Write(ctx, ivr.Entry{CallID: id, Response: &r}); err != nil {
			return err
		}
	}
	for _, r := range c.recordings {
		r.CallID = id
		if _, err := db.SaveRecording(ctx, r); err != nil {
			return err
		}
	}
	e := ivr.Entry{CallID: id, Steps: c.steps}
	if c.end.Reason != "" {
		e.End = &c.end
	}
	return db.Write(ctx, e)
}

// runCLI runs ivr with args against the database at url.
func runCLI(t *testing.T, url string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return url
		}
		return ""
	}
	err := run(context.Background(), args, getenv, strings.NewReader(""), &out, &errOut)
	if err != nil {
		return out.String() + errOut.String(), err
	}
	return out.String(), nil
}

func TestReports(t *testing.T) {
	t.Parallel()
	url := reportFixture(t)
	tests := []struct {
		name string
		want string
	}{
		{"calls", `
DAY         HOUR   ROUTE   CALLS  CHANNELS  ANSWERED  COMPLETED  TRANSFERRED  HUNG_UP  AUTH_FAILED  LOCKED_OUT  FAILED  LOST  OPEN  AVG_DURATION
2026-03-02  09:00  ivr     2      2         2         1          0            1        0            0           0       0     0     0:00:40
2026-03-02  10:00  ivr     2      1         2         0          0            0        0            2           0       0     0     0:00:20
2026-03-03  08:00  lookup  1      1         0         1          0            0        0            0           0       0     0     0:00:00
2026-03-03  14:00  ivr     2      2         1         1          0            0        0            0           0       0     1     0:00:45
2026-03-03  14:00  lookup  1      1         0         1          0            0        0            0           0       0     0     0:00:00
`},
		{"funnel", `
STAGE            CALLS  OF_ALL  OF_PREVIOUS
called the IVR   5      100.0%  100.0%
answered         4      80.0%   80.0%
reached the PIN  4      80.0%   100.0%
authenticated    2      40.0%   50.0%
chose an option  2      40.0%   100.0%
completed        2      40.0%   100.0%
`},
		{"options", `
MENU  VERSION  DIGITS  LABEL            ACTION  CHOSEN  SHARE
main  1        2       survey           survey  1       50.0%
main  1        3       leave a message  record  1       50.0%
`},
		{"inputs", `
INPUT                   KIND     ATTEMPTS  VALID  INVALID  NO_INPUT  INVALID_RATE  NO_INPUT_RATE
pin                     pin      5         3      2        0         40.0%         0.0%
menu:main               menu     3         2      1        0         33.3%         0.0%
account                 account  1         0      0        1         0.0%          100.0%
survey:satisfaction:q1  survey   1         1      0        0         0.0%          0.0%
`},
		{"hangups", `
AFTER   STEP      HANGUPS  SHARE   DURING_PROMPT
prompt  vm-login  1        100.0%  1
`},
		{"surveys", `
SURVEY        VERSION  QUESTION  ANSWER  ANSWERS  SHARE
satisfaction  1        q1        5       1        100.0%
`},
		{"pins", `
DAY         ATTEMPTS  FAILURES  FAILURE_RATE  FAILING_CALLERS  LOCKED_CALLS  LOCKED_CALLERS
2026-03-02  3         2         66.7%         1                1             1
2026-03-03  2         0         0.0%          0                0             0
`},
		{"recordings", `
DAY         PURPOSE  RECORDINGS  TOTAL_DURATION  AVG_DURATION  LONGEST  CUT_BY_HANGUP  DELETED
2026-03-03  message  1           0:00:13         0:00:13       0:00:13  0              0
`},
		{"callers", `
ACCOUNT  NAME   CALLS  AUTHENTICATED  MENU_CHOICES  SURVEY_ANSWERS  RECORDINGS  PIN_FAILURES  LAST_CALL
1001     Alice  3      2              2             1               1           0             2026-03-03 14:30
1002     Bob    2      0              0             0               0           2             2026-03-03 14:50
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := runCLI(t, url, "report", tt.name, "--from", "2026-03-02", "--to", "2026-03-03")
			if err != nil {
				t.Fatalf("ivr report %s: %v\n%s", tt.name, err, got)
			}
			if want := strings.TrimPrefix(tt.want, "\n"); got != want {
				t.Errorf("ivr report %s:\ngot:\n%s\nwant:\n%s", tt.name, got, want)
			}
		})
	}
}

func TestReportFormatsAndRange(t *testing.T) {
	t.Parallel()
	url := reportFixture(t)

	// One day only, as CSV: the funnel counts A, B and C.
	got, err := runCLI(t, url, "report", "funnel", "--from", "2026-03-02", "--to", "2026-03-02", "--format", "csv")
	if err != nil {
		t.Fatal(err, got)
	}
	want := "stage,calls,of_all,of_previous\ncalled the IVR,3,100.0%,100.0%\nanswered,3,100.0%,100.0%\n" +
		"reached the PIN,2,66.7%,66.7%\nauthenticated,1,33.3%,50.0%\nchose an option,1,33.3%,100.0%\ncompleted,1,33.3%,100.0%\n"
	if got != want {
		t.Errorf("funnel csv:\ngot  %q\nwant %q", got, want)
	}

	// The whole week as JSON: call G on 03-05 now counts for Alice.
	got, err = runCLI(t, url, "report", "callers", "--from", "2026-03-01", "--to", "2026-03-07", "--format", "json", "--limit", "1")
	if err != nil {
		t.Fatal(err, got)
	}
	// Counts are JSON numbers, and the account a string, leading zeros and all.
	var rows []map[string]any
	if err := json.Unmarshal([]byte(got), &rows); err != nil {
		t.Fatalf("callers json: %v\n%s", err, got)
	}
	if len(rows) != 1 || rows[0]["account"] != "1001" || rows[0]["calls"] != 4.0 || rows[0]["menu_choices"] != 3.0 || rows[0]["last_call"] != "2026-03-05 09:00" {
		t.Errorf("callers json = %v, want one row: Alice with 4 calls, 3 menu choices, last call 2026-03-05 09:00", rows)
	}
	if !strings.HasPrefix(got, `[
  {
    "account": "1001",
    "name": "Alice",
    "calls": 4,`) {
		t.Errorf("callers json is not in the columns' order:\n%s", got)
	}

	// A range with no traffic is an empty table, not an error.
	got, err = runCLI(t, url, "report", "options", "--from", "2025-01-01", "--to", "2025-01-31")
	if err != nil || got != "MENU  VERSION  DIGITS  LABEL  ACTION  CHOSEN  SHARE\n" {
		t.Errorf("empty range: %q, %v", got, err)
	}
}

func TestReportUsage(t *testing.T) {
	t.Parallel()
	got, err := runCLI(t, "", "report")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports() {
		if !strings.Contains(got, r.name) || !strings.Contains(got, r.summary) {
			t.Errorf("report list lacks %s:\n%s", r.name, got)
		}
	}
	for _, bad := range [][]string{
		{"report", "nosuch"},
		{"report", "calls", "--from", "2026-13-01"},
		{"report", "calls", "--from", "2026-03-05", "--to", "2026-03-01"},
		{"report", "calls", "--format", "xml"},
		{"report", "all"},                    // all is a page of HTML
		{"report", "all", "--format", "csv"}, // likewise
		{"report", "--format", "html"},       // a page of which report?
	} {
		if out, err := runCLI(t, "postgres://unused", bad...); err == nil || exitCode(err) != 2 {
			t.Errorf("ivr %s: err %v (exit %d), want a usage error\n%s", strings.Join(bad, " "), err, exitCode(err), out)
		}
	}
}
