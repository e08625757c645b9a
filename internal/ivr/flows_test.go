package ivr_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/ivr"
)

func TestLookupKnownCaller(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	c := w.run(agiclient.Call{Script: "lookup?setname=1", Env: map[string]string{"agi_callerid": aliceLocal}})
	want := map[string]string{
		"IVR_CALLER_FOUND": "1", "IVR_CALLER_NAME": "Alice Example", "IVR_CALLER_ACCOUNT": aliceAccount,
		"IVR_CALLER_STATUS": "active", "CALLERID(name)": "Alice Example",
	}
	for k, v := range want {
		if got := c.tr.Variables[k]; got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if c.tr.Variables["IVR_CALLER_ID"] == "" {
		t.Error("IVR_CALLER_ID not set")
	}
	for _, cmd := range c.tr.Commands() {
		if cmd != "SET VARIABLE" {
			t.Errorf("lookup sent %s; it must only set variables", cmd)
		}
	}
	if c.row.Route != "lookup" || c.row.CallerIDE164 != alicePhone || deref(c.row.CallerID) != w.alice || c.row.Answered {
		t.Errorf("call row %+v", c.row)
	}
	w.checkEnd(c, "", ivr.EndCompleted)
	if len(c.steps) != 1 || !c.hasStep(ivr.StepLookup, "lookup", ivr.OutcomeValid) {
		t.Errorf("journal %v, want one valid lookup step", c.stepKeys())
	}
}

func TestLookupUnknownAndAnonymous(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	for _, cid := range []string{"2125550199", "unknown", "anonymous", ""} {
		c := w.run(agiclient.Call{Script: "lookup", Env: map[string]string{"agi_callerid": cid}})
		if got := c.tr.Variables["IVR_CALLER_FOUND"]; got != "0" {
			t.Errorf("%q: IVR_CALLER_FOUND = %q, want 0", cid, got)
		}
		if _, ok := c.tr.Variables["CALLERID(name)"]; ok {
			t.Errorf("%q: CALLERID(name) set", cid)
		}
		if c.row.CallerID != nil || !c.row.Ended {
			t.Errorf("%q: call row %+v", cid, c.row)
		}
		if cid == "2125550199" && c.row.CallerIDE164 != "+12125550199" {
			t.Errorf("e164 = %q", c.row.CallerIDE164)
		}
		if cid != "2125550199" && c.row.CallerIDE164 != "" {
			t.Errorf("anonymous %q stored as %q", cid, c.row.CallerIDE164)
		}
		if !c.hasStep(ivr.StepLookup, "lookup", ivr.OutcomeInvalid) {
			t.Errorf("%q: journal %v", cid, c.stepKeys())
		}
	}
}

func TestLookupTimeout(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{LookupTimeout: 150 * time.Millisecond}, nil)
	// Hold a lock that blocks every read of the phone numbers while the call
	// runs (the call row does not need them).
	ctx := context.Background()
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE caller_phones IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	tr, err := (&agiclient.Call{Script: "lookup", Env: map[string]string{"agi_callerid": aliceLocal}}).Run(ctx, w.srv.Addr)
	took := time.Since(start)
	if rerr := tx.Rollback(ctx); rerr != nil {
		t.Fatal(rerr)
	}
	if err != nil {
		t.Fatalf("lookup: %v\n%s", err, w.logs)
	}
	if tr.Variables["IVR_CALLER_FOUND"] != "0" || tr.Variables["IVR_LOOKUP_ERROR"] != "timeout" {
		t.Errorf("variables %v, want IVR_CALLER_FOUND=0 IVR_LOOKUP_ERROR=timeout", tr.Variables)
	}
	if took > 2*time.Second {
		t.Errorf("lookup took %v with a 150ms deadline", took)
	}
	// The row may still be on its way: the lookup waits for it no longer
	// than its deadline.
	w.waitWrites()
	row := callByUniqueID(t, w.pool, tr.EnvValue("agi_uniqueid"))
	c := call{tr: tr, row: row, steps: stepsOf(t, w.pool, row.ID)}
	if !c.hasStep(ivr.StepLookup, "lookup", ivr.OutcomeTimeout) {
		t.Errorf("journal %v, want a timed-out lookup", c.stepKeys())
	}
	if !strings.Contains(w.logs.String(), tr.EnvValue("agi_uniqueid")) {
		t.Errorf("no log line names the call:\n%s", w.logs)
	}
}

func TestKnownCallerRightPIN(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	// Two failures from earlier calls: a correct PIN resets them.
	if _, err := w.pool.Exec(context.Background(), "UPDATE callers SET pin_failures = 2 WHERE id = $1", w.alice); err != nil {
		t.Fatal(err)
	}
	c := w.run(fromAlice(alicePIN+"#", "9"))
	if !slices.Equal(c.prompts(), []string{"vm-password", "ivr/main-menu", "vm-goodbye"}) {
		t.Errorf("heard %v", c.prompts())
	}
	if c.tr.Commands()[0] != "ANSWER" || !c.tr.ServerHungUp {
		t.Errorf("commands %v, want ANSWER first and a HANGUP at the end", c.tr.Commands())
	}
	if c.tr.Variables["CHANNEL(language)"] != "en" {
		t.Errorf("CHANNEL(language) = %q, want agi_language en", c.tr.Variables["CHANNEL(language)"])
	}
	w.checkEnd(c, ivr.ResultCompleted, ivr.EndCompleted)
	if !c.row.Authenticated || deref(c.row.CallerID) != w.alice || deref(c.row.MenuVersionID) != w.mainV ||
		c.row.LinkedID != c.tr.EnvValue("agi_uniqueid") || !c.row.Answered {
		t.Errorf("call row %+v", c.row)
	}
	if !c.hasStep(ivr.StepPIN, "pin", ivr.OutcomeValid) || !c.hasStep(ivr.StepMenu, "menu:main", ivr.OutcomeValid) {
		t.Errorf("journal %v", c.stepKeys())
	}
	if n := count(t, w.pool, "SELECT count(*) FROM pin_attempts WHERE caller_id = $1 AND success AND call_id = $2", w.alice, c.row.ID); n != 1 {
		t.Errorf("%d successful PIN attempts audited, want 1", n)
	}
	if n := count(t, w.pool, "SELECT pin_failures FROM callers WHERE id = $1", w.alice); n != 0 {
		t.Errorf("pin_failures = %d after a right PIN, want 0", n)
	}
	if n := count(t, w.pool, "SELECT count(*) FROM responses WHERE call_id = $1 AND menu_version_id = $2 AND answer = '9'", c.row.ID, w.mainV); n != 1 {
		t.Errorf("%d menu responses, want 1", n)
	}
}

func TestUnknownCallerByAccount(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	bob := seedCaller(t, w.pool, w.kr, "2002", "Bob", "es_MX", "270591")
	// An unknown account first: the PIN is still asked and refused the same way.
	// "" at a queued prompt: the caller listens to it to the end.
	c := w.run(agiclient.Call{Script: "ivr", Keys: []string{"9999#", "270591#", "", "", "", "2002#", "270591#", "9"}})
	want := []string{"vm-login", "vm-password", "vm-incorrect", "vm-login", "please-try-again", "vm-login", "vm-password", "ivr/main-menu", "vm-goodbye"}
	if !slices.Equal(c.prompts(), want) {
		t.Errorf("heard %v\nwant  %v", c.prompts(), want)
	}
	if c.tr.Variables["CHANNEL(language)"] != "es_MX" {
		t.Errorf("CHANNEL(language) = %q, want the caller's es_MX", c.tr.Variables["CHANNEL(language)"])
	}
	w.checkEnd(c, ivr.ResultCompleted, ivr.EndCompleted)
	if deref(c.row.CallerID) != bob || !c.row.Authenticated {
		t.Errorf("call row %+v", c.row)
	}
	if !c.hasStep(ivr.StepAccount, "account", ivr.OutcomeInvalid) || !c.hasStep(ivr.StepAccount, "account", ivr.OutcomeTimeout) ||
		!c.hasStep(ivr.StepAccount, "account", ivr.OutcomeValid) {
		t.Errorf("journal %v, want invalid, timed-out and valid account steps", c.stepKeys())
	}
}

func TestWrongPIN(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{MaxPINTries: 3, LockAfter: 5}, nil)
	c := w.run(fromAlice(wrongPIN+"#", "", wrongPIN+"#", "", wrongPIN+"#"))
	want := []string{"vm-password", "vm-incorrect", "vm-password", "vm-incorrect", "vm-password", "vm-incorrect", "vm-goodbye"}
	if !slices.Equal(c.prompts(), want) {
		t.Errorf("heard %v", c.prompts())
	}
	w.checkEnd(c, ivr.ResultAuthFailed, ivr.EndAuthFailed)
	if c.row.Authenticated {
		t.Error("authenticated with a wrong PIN")
	}
	if n := count(t, w.pool, "SELECT count(*) FROM pin_attempts WHERE caller_id = $1 AND NOT success", w.alice); n != 3 {
		t.Errorf("%d failed attempts audited, want 3", n)
	}
	if n := count(t, w.pool, "SELECT pin_failures FROM callers WHERE id = $1", w.alice); n != 3 {
		t.Errorf("pin_failures = %d, want 3", n)
	}
}

func TestLockedPIN(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{MaxPINTries: 3, LockAfter: 2, LockBase: time.Minute}, nil)
	lockedUntil := func() time.Time {
		var at *time.Time
		if err := w.pool.QueryRow(context.Background(), "SELECT locked_until FROM callers WHERE id = $1", w.alice).Scan(&at); err != nil {
			t.Fatal(err)
		}
		if at == nil {
			return time.Time{}
		}
		return *at
	}
	wrong := w.run(fromAlice(wrongPIN+"#", wrongPIN+"#", wrongPIN+"#"))
	w.checkEnd(wrong, ivr.ResultLocked, ivr.EndLockedOut)
	first := lockedUntil()
	if time.Until(first) < time.Minute {
		t.Fatalf("locked until %v after 3 failures with LockAfter 2, want a growing lock beyond LockBase", first)
	}
	// The right PIN on a locked account sounds exactly like a wrong one.
	right := w.run(fromAlice(alicePIN+"#", alicePIN+"#", alicePIN+"#"))
	if !slices.Equal(right.prompts(), wrong.prompts()) {
		t.Errorf("locked account with the right PIN heard %v, a wrong PIN heard %v", right.prompts(), wrong.prompts())
	}
	w.checkEnd(right, ivr.ResultLocked, ivr.EndLockedOut)
	if right.row.Authenticated {
		t.Error("authenticated while locked")
	}
	if second := lockedUntil(); !second.After(first) {
		t.Errorf("lock did not grow: %v then %v", first, second)
	}
	if n := count(t, w.pool, "SELECT count(*) FROM pin_attempts WHERE caller_id = $1 AND NOT success", w.alice); n != 6 {
		t.Errorf("%d failed attempts audited, want 6", n)
	}
	// Once the lock has passed, the right PIN works and resets the count.
	if _, err := w.pool.Exec(context.Background(), "UPDATE callers SET locked_until = now() - interval '1 second' WHERE id = $1", w.alice); err != nil {
		t.Fatal(err)
	}
	ok := w.run(fromAlice(alicePIN+"#", "9"))
	w.checkEnd(ok, ivr.ResultCompleted, ivr.EndCompleted)
	if n := count(t, w.pool, "SELECT pin_failures FROM callers WHERE id = $1", w.alice); n != 0 {
		t.Errorf("pin_failures = %d after the right PIN, want 0", n)
	}
}

func TestMenuInvalidAndTimeoutRetries(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	c := w.run(fromAlice(alicePIN+"#", "8", "", "", "", "6"))
	want := []string{"vm-password", "ivr/main-menu", "pm-invalid-option", "ivr/main-menu", "please-try-again", "ivr/main-menu", "pls-hold-while-try"}
	if !slices.Equal(c.prompts(), want) {
		t.Errorf("heard %v\nwant  %v", c.prompts(), want)
	}
	// After the last attempt the menu's failure action (operator) runs.
	w.checkEnd(c, ivr.ResultTransfer, ivr.EndTransferred)
	if c.tr.Variables["IVR_TRANSFER_TO"] != "operator" {
		t.Errorf("IVR_TRANSFER_TO = %q", c.tr.Variables["IVR_TRANSFER_TO"])
	}
	var outs []string
	for _, s := range c.steps {
		if s.Kind == string(ivr.StepMenu) {
			outs = append(outs, s.Outcome)
		}
	}
	if !slices.Equal(outs, []string{"invalid", "timeout", "invalid"}) {
		t.Errorf("menu steps %v", outs)
	}
	if n := count(t, w.pool, "SELECT count(*) FROM responses WHERE call_id = $1", c.row.ID); n != 0 {
		t.Errorf("%d responses saved for invalid choices", n)
	}
}

func TestMenuRepeatSubmenuTransfer(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	c := w.run(fromAlice(alicePIN+"#", "*", "5", "9", "5", "1"))
	want := []string{"vm-password", "ivr/main-menu", "ivr/main-menu", "ivr/dept-menu", "ivr/main-menu", "ivr/dept-menu", "pls-hold-while-try"}
	if !slices.Equal(c.prompts(), want) {
		t.Errorf("heard %v\nwant  %v", c.prompts(), want)
	}
	w.checkEnd(c, ivr.ResultTransfer, ivr.EndTransferred)
	if c.tr.Variables["IVR_TRANSFER_TO"] != "sales" {
		t.Errorf("IVR_TRANSFER_TO = %q, want sales", c.tr.Variables["IVR_TRANSFER_TO"])
	}
	if deref(c.row.MenuVersionID) != w.mainV {
		t.Errorf("menu version %v, want the main menu %d", deref(c.row.MenuVersionID), w.mainV)
	}
	if n := count(t, w.pool, "SELECT count(*) FROM responses WHERE call_id = $1 AND menu_version_id = $2", c.row.ID, w.deptV); n != 2 {
		t.Errorf("%d dept menu responses, want 2", n)
	}
	if !c.hasStep(ivr.StepTransfer, "transfer:sales", ivr.OutcomeValid) {
		t.Errorf("journal %v", c.stepKeys())
	}
}

func TestMenuOperator(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	c := w.run(fromAlice(alicePIN+"#", "0"))
	w.checkEnd(c, ivr.ResultTransfer, ivr.EndTransferred)
	if c.tr.Variables["IVR_TRANSFER_TO"] != "operator" || c.tr.ServerHungUp {
		t.Errorf("IVR_TRANSFER_TO = %q, server hung up %v", c.tr.Variables["IVR_TRANSFER_TO"], c.tr.ServerHungUp)
	}
}

func TestRecordMessage(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{RecordingDir: "/var/spool/asterisk/test", RecordFormat: "gsm", RecordMaxDuration: time.Minute, RecordSilence: 3 * time.Second}, nil)
	// First take: listened to (2), then re-recorded (3); second take accepted (1).
	call := fromAlice(alicePIN+"#", "1", "2", "", "", "3", "1", "", "9")
	call.Records = []agiclient.Record{{Reason: "dtmf", Key: '#', EndPos: 24000}, {Reason: "timeout", EndPos: 40000}}
	c := w.run(call)
	w.checkEnd(c, ivr.ResultCompleted, ivr.EndCompleted)
	var recs []agiclient.Step
	for _, s := range c.tr.Steps {
		if s.Command.Name == "RECORD FILE" {
			recs = append(recs, s)
		}
	}
	if len(recs) != 2 {
		t.Fatalf("%d RECORD FILE commands, want 2\n%s", len(recs), c.tr)
	}
	args := recs[0].Command.Args
	if !strings.HasPrefix(args[0], "/var/spool/asterisk/test/") || args[1] != "gsm" || args[2] != "#" || args[3] != "60000" ||
		!slices.Contains(args, "BEEP") || !slices.Contains(args, "s=3") {
		t.Errorf("RECORD FILE args %q", args)
	}
	if !c.heard("vm-rec-name", "vm-review", args[0], "vm-review", "vm-rec-name", "vm-review", "vm-msgsaved", "ivr/main-menu") {
		t.Errorf("heard %v", c.prompts())
	}
	var path, format, reason string
	var endpos int64
	var durMS int
	err := w.pool.QueryRow(context.Background(), `SELECT path, format, endpos, duration_ms, end_reason FROM recordings
		WHERE call_id = $1 AND caller_id = $2 AND purpose = 'message'`, c.row.ID, w.alice).Scan(&path, &format, &endpos, &durMS, &reason)
	if err != nil {
		t.Fatalf("the accepted recording: %v", err)
	}
	if path != recs[1].Command.Args[0] || format != "gsm" || endpos != 40000 || durMS != 5000 || reason != "timeout" {
		t.Errorf("recording %s %s %d %dms %s", path, format, endpos, durMS, reason)
	}
	if n := count(t, w.pool, "SELECT count(*) FROM recordings WHERE call_id = $1", c.row.ID); n != 1 {
		t.Errorf("%d recordings saved, want only the accepted take", n)
	}
}

func TestRecordEmptyTakeOfferedAgain(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	call := fromAlice(alicePIN+"#", "1", "1", "9")
	call.Records = []agiclient.Record{{Reason: "timeout", EndPos: 0}, {Reason: "dtmf", Key: '#', EndPos: 16000}}
	c := w.run(call)
	w.checkEnd(c, ivr.ResultCompleted, ivr.EndCompleted)
	if !c.heard("vm-rec-name", "vm-pls-try-again", "vm-rec-name", "vm-review", "vm-msgsaved") {
		t.Errorf("heard %v", c.prompts())
	}
	if !c.hasStep(ivr.StepRecord, "record", ivr.OutcomeTimeout) || !c.hasStep(ivr.StepRecord, "record", ivr.OutcomeValid) {
		t.Errorf("journal %v", c.stepKeys())
	}
	if n := count(t, w.pool, "SELECT count(*) FROM recordings WHERE call_id = $1 AND endpos = 16000 AND end_key = '#'", c.row.ID); n != 1 {
		t.Errorf("%d recordings, want the second take only", n)
	}
}

func TestSurveyWithInvalidAnswer(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	c := w.run(fromAlice(alicePIN+"#", "2", "", "7", "", "4", "12#", "", "10#", "", "9"))
	want := []string{"vm-password", "ivr/main-menu", "ivr/survey-intro", "ivr/q-score", "pm-invalid-option", "ivr/q-score",
		"ivr/q-recommend", "pm-invalid-option", "ivr/q-recommend", "ivr/survey-thanks", "ivr/main-menu", "vm-goodbye"}
	if !slices.Equal(c.prompts(), want) {
		t.Errorf("heard %v\nwant  %v", c.prompts(), want)
	}
	w.checkEnd(c, ivr.ResultCompleted, ivr.EndCompleted)
	if got := w.responses(t, c); !slices.Equal(got, []string{"score=4", "recommend=10"}) {
		t.Errorf("survey responses %v, want only the valid answers", got)
	}
	if !c.hasStep(ivr.StepSurvey, "survey:sat:score", ivr.OutcomeInvalid) {
		t.Errorf("journal %v", c.stepKeys())
	}
}

func TestSurveyAnswerSavedBeforeHangup(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	c := w.run(fromAlice(alicePIN+"#", "2", "5", agiclient.Hangup))
	w.checkEnd(c, ivr.ResultHangup, ivr.EndHangup)
	if n := count(t, w.pool, "SELECT count(*) FROM responses WHERE call_id = $1 AND survey_version_id = $2 AND answer = '5'", c.row.ID, w.survey); n != 1 {
		t.Errorf("the first answer was not kept after the hangup")
	}
}

func TestPlayMessages(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	// Three messages from earlier calls, oldest first.
	ctx := context.Background()
	var callID int64
	var callStart time.Time
	if err := w.pool.QueryRow(ctx, `INSERT INTO calls (uniqueid, started_at) VALUES ('earlier', now()) RETURNING id, started_at`).
		Scan(&callID, &callStart); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i, p := range []string{"/rec/old", "/rec/mid", "/rec/new"} {
		var id int64
		if err := w.pool.QueryRow(ctx, `INSERT INTO recordings (call_id, call_started_at, caller_id, path, format, endpos, end_reason, purpose, created_at)
			VALUES ($1, $2, $3, $4, 'wav', 8000, 'dtmf', 'message', now() - make_interval(mins => $5)) RETURNING id`,
			callID, callStart, w.alice, p, 10-i).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	// new: nothing during playback or the choices, then 1 (replay); during the
	// replay 3 (delete); mid: 2 during playback (next); old: nothing, then #
	// (back); then hang up (9).
	c := w.run(fromAlice(alicePIN+"#", "3", "", "", "", "1", "3", "2", "", "", "", "#", "9"))
	want := []string{"vm-password", "ivr/main-menu", "vm-youhave", "SAY NUMBER 3", "vm-messages", "/rec/new", "vm-repeat", "vm-next", "vm-delete",
		"/rec/new", "vm-deleted", "/rec/mid", "/rec/old", "vm-repeat", "vm-next", "vm-delete", "ivr/main-menu", "vm-goodbye"}
	if !slices.Equal(c.prompts(), want) {
		t.Errorf("heard %v\nwant  %v", c.prompts(), want)
	}
	w.checkEnd(c, ivr.ResultCompleted, ivr.EndCompleted)
	if n := count(t, w.pool, "SELECT count(*) FROM recordings WHERE deleted_at IS NOT NULL AND id = $1", ids[2]); n != 1 {
		t.Error("the newest message was not deleted")
	}
	if n := count(t, w.pool, "SELECT count(*) FROM recordings WHERE deleted_at IS NULL"); n != 2 {
		t.Errorf("%d messages left, want 2", n)
	}
}

func TestChangePIN(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	const newPIN = "730418"
	// A weak PIN, then a mismatch, then the new PIN twice.
	c := w.run(fromAlice(alicePIN+"#", "4", "1234#", "", newPIN+"#", "730419#", "", newPIN+"#", newPIN+"#", "", "9"))
	want := []string{"vm-password", "ivr/main-menu", "vm-newpassword", "vm-pls-try-again", "vm-newpassword", "vm-reenterpassword",
		"vm-mismatch", "vm-newpassword", "vm-reenterpassword", "vm-passchanged", "ivr/main-menu", "vm-goodbye"}
	if !slices.Equal(c.prompts(), want) {
		t.Errorf("heard %v\nwant  %v", c.prompts(), want)
	}
	w.checkEnd(c, ivr.ResultCompleted, ivr.EndCompleted)
	if strings.Contains(w.logs.String(), newPIN) {
		t.Error("the new PIN reached the log")
	}
	for _, s := range c.steps {
		if s.Kind == string(ivr.StepPIN) && (!s.Secret || s.Digits != nil) {
			t.Errorf("PIN step %+v stored digits", s)
		}
	}
	// The old PIN no longer works, the new one does.
	old := w.run(fromAlice(alicePIN+"#", "", ""))
	w.checkEnd(old, ivr.ResultAuthFailed, ivr.EndAuthFailed)
	ok := w.run(fromAlice(newPIN+"#", "9"))
	w.checkEnd(ok, ivr.ResultCompleted, ivr.EndCompleted)
}

func TestUnknownMenuIsAnError(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	c := w.run(agiclient.Call{Script: "ivr?menu=nosuch", Env: map[string]string{"agi_callerid": aliceLocal}})
	if !slices.Equal(c.prompts(), []string{"tt-somethingwrong"}) {
		t.Errorf("heard %v", c.prompts())
	}
	w.checkEnd(c, ivr.ResultError, ivr.EndError)
	// A submenu that is not published: the same, in the middle of the call.
	c = w.run(fromAlice(alicePIN+"#", "7"))
	w.checkEnd(c, ivr.ResultError, ivr.EndError)
	if !c.heard("ivr/main-menu", "tt-somethingwrong") {
		t.Errorf("heard %v", c.prompts())
	}
	if n := strings.Count(w.logs.String(), "menu not published"); n != 2 {
		t.Errorf("%d log lines for two unknown menus:\n%s", n, w.logs)
	}
}

func TestPromptNotPlayable(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	call := fromAlice(alicePIN + "#")
	call.MissingFiles = []string{"ivr/main-menu"}
	c := w.run(call)
	w.checkEnd(c, ivr.ResultError, ivr.EndError)
	if c.tr.CallerHungUp || !c.heard("tt-somethingwrong") {
		t.Errorf("caller hung up %v, heard %v", c.tr.CallerHungUp, c.prompts())
	}
	if !c.hasStep(ivr.StepPrompt, "ivr/main-menu", ivr.OutcomeError) {
		t.Errorf("journal %v", c.stepKeys())
	}
	logs := w.logs.String()
	if !strings.Contains(logs, "prompt could not be played") || !strings.Contains(logs, "prompt=ivr/main-menu") ||
		!strings.Contains(logs, c.tr.EnvValue("agi_uniqueid")) {
		t.Errorf("log:\n%s", logs)
	}
}

// TestHangupAtEachStep hangs up at every command of a call that goes through
// the PIN, a menu, a survey and a recording: every earlier step and the hangup
// are journaled once, and the call row is closed.
func TestHangupAtEachStep(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	script := fromAlice(alicePIN+"#", "2", "4", "7#", "1", "1", "9")
	full := w.run(script)
	w.checkEnd(full, ivr.ResultCompleted, ivr.EndCompleted)
	n := len(full.tr.Steps)
	lastInput := 0
	for i, st := range full.tr.Steps {
		if st.Command.Name == "GET DATA" || st.Command.Name == "STREAM FILE" && st.Command.Arg(1) != "" {
			lastInput = i + 1 // a queued prompt before an input takes its first key
		}
	}
	for step := 1; step <= n; step++ {
		call := script
		call.HangupAtStep = step
		c := w.run(call)
		cmd := full.tr.Steps[step-1].Command.Name
		if step <= lastInput {
			// Before the caller's last choice: the call ends as a hangup.
			w.checkEnd(c, ivr.ResultHangup, ivr.EndHangup)
		} else {
			// During the goodbye or after it: the caller had chosen to end
			// the call; the hangup is journaled when a prompt was cut.
			if c.tr.Variables["IVR_RESULT"] != "completed" || deref(c.row.EndReason) != "completed" {
				t.Errorf("step %d (%s): IVR_RESULT %q, end %v", step, cmd, c.tr.Variables["IVR_RESULT"], deref(c.row.EndReason))
			}
			w.checkJournal(c, cmd != "STREAM FILE")
		}
		// Every step of the full call before the hangup is in this call's journal.
		if c.tr.CallerHungUp && len(c.steps) > 0 {
			prefix := 0
			for prefix < len(c.steps)-1 && prefix < len(full.steps) && full.steps[prefix].Key == c.steps[prefix].Key {
				prefix++
			}
			if prefix < len(c.steps)-2 {
				t.Errorf("step %d: journal %v diverges from the full call %v", step, c.stepKeys(), full.stepKeys())
			}
		}
	}
}

func TestDatabaseDownAndBack(t *testing.T) {
	t.Parallel()
	var px *proxy
	w := newWorld(t, ivr.Config{StoreTimeout: 3 * time.Second}, func(u string) string {
		p, via := newProxy(t, u)
		px = p
		return via
	})
	// The database goes away while the caller listens to the main menu.
	call := fromAlice(alicePIN+"#", "2", "4")
	call.Responder = func(cmd agiclient.Command) agiclient.Reply {
		if cmd.Name == "GET DATA" && cmd.Arg(0) == "ivr/main-menu" {
			px.cut()
		}
		return agiclient.Reply{}
	}
	tr := w.srv.Run(t, call)
	if tr.Variables["IVR_RESULT"] != "error" {
		t.Errorf("IVR_RESULT = %q, want error\n%s", tr.Variables["IVR_RESULT"], tr)
	}
	p := tr.Prompts()
	if len(p) == 0 || p[len(p)-1] != "tt-somethingwrong" {
		t.Errorf("heard %v, want the apology last", p)
	}
	uid := tr.EnvValue("agi_uniqueid")
	lines := 0
	for l := range strings.Lines(w.logs.String()) {
		if strings.Contains(l, "uniqueid="+uid) && strings.Contains(l, "level=ERROR") {
			lines++
		}
	}
	if lines != 1 {
		t.Errorf("%d error lines for the call, want 1:\n%s", lines, w.logs)
	}
	// Back: the next call works.
	px.restore()
	c := w.run(fromAlice(alicePIN+"#", "9"))
	w.checkEnd(c, ivr.ResultCompleted, ivr.EndCompleted)
	// What was written before the outage is there.
	row := callByUniqueID(t, w.pool, uid)
	steps := stepsOf(t, w.pool, row.ID)
	if len(steps) < 2 || steps[1].Kind != string(ivr.StepPIN) {
		t.Errorf("journal of the failed call %+v, want the PIN step kept", steps)
	}
}
