package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store"
	"github.com/ivrhq/ivr/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// open returns a DB on a fresh database of t's own.
func open(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// createCaller stores a caller with one phone number.
func createCaller(t testing.TB, db *store.DB, account, e164 string) ivr.Caller {
	t.Helper()
	c, err := db.CreateCaller(context.Background(), ivr.Caller{
		Account:  account,
		Name:     "Caller " + account,
		Language: "en",
		Phones:   []string{e164},
		PIN:      ivr.PINHash{KeyID: "k1", Version: ivr.PINHashV2, Sum: []byte{1, 2, 3}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// startCall opens a call for uniqueid.
func startCall(t testing.TB, db *store.DB, uniqueid string, callerID int64) int64 {
	t.Helper()
	id, err := db.StartCall(context.Background(), ivr.Call{
		UniqueID: uniqueid, Channel: "PJSIP/trunk-0001", Route: "ivr",
		CallerIDRaw: "4155550123", CallerIDE164: "+14155550123", DNID: "100", CallerID: callerID,
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func wantConflict(t *testing.T, err error, constraint string) {
	t.Helper()
	var c *ivr.ConflictError
	if !errors.As(err, &c) || !errors.Is(err, ivr.ErrConflict) {
		t.Fatalf("error = %v, want a conflict on %s", err, constraint)
	}
	if c.Constraint != constraint {
		t.Fatalf("conflict on %q, want %q", c.Constraint, constraint)
	}
}

func wantIs(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

func TestCallers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t)

	c := createCaller(t, db, "1001", "+14155550101")
	if err := db.AddPhone(ctx, c.ID, "+31201234567"); err != nil {
		t.Fatal(err)
	}
	for name, lookup := range map[string]func() (ivr.Caller, error){
		"phone":       func() (ivr.Caller, error) { return db.CallerByPhone(ctx, "+31201234567") },
		"account":     func() (ivr.Caller, error) { return db.CallerByAccount(ctx, "1001") },
		"id":          func() (ivr.Caller, error) { return db.CallerByID(ctx, c.ID) },
		"other phone": func() (ivr.Caller, error) { return db.CallerByPhone(ctx, "+14155550101") },
	} {
		got, err := lookup()
		if err != nil {
			t.Fatalf("by %s: %v", name, err)
		}
		if got.ID != c.ID || got.Account != "1001" || got.Name != "Caller 1001" || got.Language != "en" ||
			got.Status != ivr.CallerActive || got.PIN.KeyID != "k1" || string(got.PIN.Sum) != "\x01\x02\x03" {
			t.Errorf("by %s: got %+v", name, got)
		}
		if fmt.Sprint(got.Phones) != "[+14155550101 +31201234567]" {
			t.Errorf("by %s: phones %v", name, got.Phones)
		}
	}

	_, err := db.CallerByPhone(ctx, "+14155550199")
	wantIs(t, err, ivr.ErrNotFound)
	_, err = db.CallerByAccount(ctx, "9999")
	wantIs(t, err, ivr.ErrNotFound)

	// A phone number given to a second caller is a conflict naming the
	// constraint, and the second caller is not stored at all.
	_, err = db.CreateCaller(ctx, ivr.Caller{Account: "1002", Phones: []string{"+14155550101"}})
	wantConflict(t, err, "caller_phones_e164_key")
	_, err = db.CallerByAccount(ctx, "1002")
	wantIs(t, err, ivr.ErrNotFound)
	other := createCaller(t, db, "1003", "+14155550103")
	wantConflict(t, db.AddPhone(ctx, other.ID, "+31201234567"), "caller_phones_e164_key")

	_, err = db.CreateCaller(ctx, ivr.Caller{Account: "1001"})
	wantConflict(t, err, "callers_account_key")
	wantIs(t, db.AddPhone(ctx, 424242, "+14155550177"), ivr.ErrNotFound)

	// The schema refuses numbers that are not E.164 and accounts that are not digits.
	if err := db.AddPhone(ctx, c.ID, "0201234567"); err == nil {
		t.Error("stored a number that is not E.164")
	}
	if _, err := db.CreateCaller(ctx, ivr.Caller{Account: "12ab"}); err == nil {
		t.Error("stored an account that is not digits")
	}
	noPIN, err := db.CreateCaller(ctx, ivr.Caller{Account: "1004", Status: ivr.CallerDisabled})
	if err != nil {
		t.Fatal(err)
	}
	if !noPIN.PIN.IsZero() || noPIN.Status != ivr.CallerDisabled || len(noPIN.Phones) != 0 {
		t.Errorf("caller without PIN or phones: %+v", noPIN)
	}
}

// TestWriteEntry writes entries of two calls: a step written twice, in one
// entry or again later, is stored once; an entry is stored whole or not at
// all, so an entry of an unknown call, or with an answer the database
// refuses, leaves nothing of it behind.
func TestWriteEntry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t)
	a := startCall(t, db, "1700000100.1", 0)
	b := startCall(t, db, "1700000100.2", 0)
	at := time.Now().Truncate(time.Millisecond)
	step := func(seq int, digits string) ivr.Step {
		return ivr.Step{Seq: seq, Key: "main", Kind: ivr.StepMenu, Digits: digits, Outcome: ivr.OutcomeValid, At: at}
	}
	if err := db.Write(ctx, ivr.Entry{CallID: a, Steps: []ivr.Step{step(1, "1"), step(2, "3"), step(1, "9")}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(ctx, ivr.Entry{CallID: b, Steps: []ivr.Step{step(1, "2")}, Response: &ivr.Response{Answer: "2", At: at}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(ctx, ivr.Entry{CallID: a}); err != nil {
		t.Fatalf("an empty entry: %v", err)
	}
	end := ivr.CallEnd{Reason: ivr.EndCompleted}
	wantIs(t, db.Write(ctx, ivr.Entry{CallID: 987654, Steps: []ivr.Step{step(1, "5")}, End: &end}), ivr.ErrNotFound)
	err := db.Write(ctx, ivr.Entry{CallID: b, Steps: []ivr.Step{step(2, "4")}, End: &end,
		Response: &ivr.Response{MenuVersionID: 987654, Answer: "4"}})
	wantIs(t, err, ivr.ErrNotFound)

	for _, c := range []struct {
		call   int64
		digits []string
	}{{a, []string{"1", "3"}}, {b, []string{"2"}}} {
		got, err := db.Steps(ctx, c.call)
		if err != nil {
			t.Fatal(err)
		}
		var digits []string
		for _, s := range got {
			digits = append(digits, s.Digits)
		}
		if !slices.Equal(digits, c.digits) {
			t.Errorf("call %d: steps with digits %q, want %q", c.call, digits, c.digits)
		}
	}
	if rs, err := db.Responses(ctx, b); err != nil || len(rs) != 1 || rs[0].Answer != "2" || rs[0].CallID != b {
		t.Errorf("answers of call b: %+v, %v; want the one stored with its step", rs, err)
	}
	if rec, err := db.CallByID(ctx, b); err != nil || rec.End.Reason != "" {
		t.Errorf("call b: %+v, %v; want it still open after the refused entry", rec, err)
	}
}

func TestJournal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t)
	caller := createCaller(t, db, "2001", "+14155550201")
	start := time.Now().Add(-time.Minute).Truncate(time.Millisecond)

	id := startCall(t, db, "1700000000.1", 0)

	steps := []ivr.Step{
		{CallID: id, Seq: 1, Key: "welcome", Kind: ivr.StepPrompt, Outcome: ivr.OutcomeValid, At: start},
		{CallID: id, Seq: 2, Key: "pin", Kind: ivr.StepPIN, Digits: "1234", Secret: true, Outcome: ivr.OutcomeInvalid,
			Attempt: 1, Elapsed: 3200 * time.Millisecond, At: start.Add(time.Second)},
		{CallID: id, Seq: 3, Key: "main", Kind: ivr.StepMenu, Digits: "0", Outcome: ivr.OutcomeValid,
			Attempt: 2, Elapsed: 800 * time.Millisecond, At: start.Add(2 * time.Second)},
	}
	for _, s := range steps {
		if err := appendStep(ctx, db, s); err != nil {
			t.Fatal(err)
		}
	}
	// The same step written again (a retry) is stored once, unchanged.
	again := steps[2]
	again.Digits = "9"
	if err := appendStep(ctx, db, again); err != nil {
		t.Fatal(err)
	}
	wantIs(t, appendStep(ctx, db, ivr.Step{CallID: 987654, Seq: 1, Key: "x", Kind: ivr.StepPrompt, Outcome: ivr.OutcomeValid}), ivr.ErrNotFound)

	got, err := db.Steps(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d steps stored, want 3: %+v", len(got), got)
	}
	if got[1].Digits != "" || !got[1].Secret {
		t.Errorf("secret step stored digits %q", got[1].Digits)
	}
	if got[2].Digits != "0" || got[2].Attempt != 2 || got[2].Elapsed != 800*time.Millisecond || !got[2].At.Equal(steps[2].At) {
		t.Errorf("step 3 = %+v", got[2])
	}
	if got[0].Attempt != 1 {
		t.Errorf("a zero attempt is stored as %d, want 1", got[0].Attempt)
	}

	menu := publishedMenu(t, db, "main")
	if err := saveResponse(ctx, db, ivr.Response{CallID: id, CallerID: caller.ID, MenuVersionID: menu.VersionID,
		QuestionKey: "main", Answer: "0", At: start.Add(2 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	recID, err := db.SaveRecording(ctx, ivr.Recording{CallID: id, CallerID: caller.ID,
		Path: "/var/spool/asterisk/ivr/2001-1.wav", Format: "wav", EndPos: 48000, Duration: 6 * time.Second,
		Reason: ivr.RecordDTMF, Key: "#", Purpose: ivr.PurposeMessage})
	if err != nil {
		t.Fatal(err)
	}

	end := ivr.CallEnd{Reason: ivr.EndCompleted, EndedAt: start.Add(time.Minute), AnsweredAt: start,
		LinkedID: "1700000000.0", CallerID: caller.ID, Authenticated: true, MenuVersionID: menu.VersionID}
	if err := endCall(ctx, db, id, end); err != nil {
		t.Fatal(err)
	}
	// Closing a closed call changes nothing.
	if err := endCall(ctx, db, id, ivr.CallEnd{Reason: ivr.EndError}); err != nil {
		t.Fatal(err)
	}
	wantIs(t, endCall(ctx, db, 987654, end), ivr.ErrNotFound)

	recs0, err := db.CallsByUniqueID(ctx, "1700000000.1")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs0) != 1 {
		t.Fatalf("channel has %d sessions, want 1", len(recs0))
	}
	rec := recs0[0]
	if rec.Call.ID != id || rec.Call.Route != "ivr" || rec.Call.CallerIDE164 != "+14155550123" || rec.Call.DNID != "100" ||
		rec.Call.LinkedID != "1700000000.0" || rec.Call.CallerID != caller.ID {
		t.Errorf("call = %+v", rec.Call)
	}
	if rec.End.Reason != ivr.EndCompleted || !rec.End.EndedAt.Equal(end.EndedAt) || !rec.End.AnsweredAt.Equal(start) ||
		!rec.End.Authenticated || rec.End.MenuVersionID != menu.VersionID {
		t.Errorf("end = %+v", rec.End)
	}
	if _, err := db.CallByID(ctx, 987654); !errors.Is(err, ivr.ErrNotFound) {
		t.Errorf("unknown call: %v", err)
	}

	resps, err := db.Responses(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(resps) != 1 || resps[0].Answer != "0" || resps[0].MenuVersionID != menu.VersionID || resps[0].CallerID != caller.ID {
		t.Errorf("responses = %+v", resps)
	}
	recs, err := db.Recordings(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].ID != recID || recs[0].EndPos != 48000 || recs[0].Duration != 6*time.Second ||
		recs[0].Reason != ivr.RecordDTMF || recs[0].Key != "#" || recs[0].Purpose != ivr.PurposeMessage {
		t.Errorf("recordings = %+v", recs)
	}

	calls, err := db.CallsSince(ctx, start.Add(-time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || calls[0].Call.ID != id {
		t.Errorf("calls since = %+v", calls)
	}
}

func TestRecordCall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t)
	caller := createCaller(t, db, "3001", "+14155550301")
	at := time.Now().Truncate(time.Millisecond)
	steps := []ivr.Step{
		{Seq: 1, Key: "lookup", Kind: ivr.StepLookup, Digits: "+14155550301", Outcome: ivr.OutcomeValid, At: at},
		{Seq: 2, Key: "pin", Kind: ivr.StepPIN, Digits: "0000", Secret: true, Outcome: ivr.OutcomeValid, At: at},
	}
	id, err := db.RecordCall(ctx, ivr.Call{UniqueID: "1700000001.7", Route: "lookup", StartedAt: at},
		ivr.CallEnd{Reason: ivr.EndCompleted, EndedAt: at.Add(20 * time.Millisecond), CallerID: caller.ID}, steps)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := db.CallByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Call.CallerID != caller.ID || rec.End.Reason != ivr.EndCompleted || rec.Call.Route != "lookup" {
		t.Errorf("call = %+v", rec)
	}
	got, err := db.Steps(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Digits != "+14155550301" || got[1].Digits != "" || got[0].CallID != id {
		t.Errorf("steps = %+v", got)
	}
}

// testLock is the lock policy of the store tests: locked after 3 failures,
// for 5 minutes, then 10, then 20.
var testLock = ivr.LockPolicy{After: 3, Schedule: []time.Duration{5 * time.Minute, 10 * time.Minute, 20 * time.Minute}}

func TestPINLedger(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t)
	c := createCaller(t, db, "4001", "+14155550401")
	callID := startCall(t, db, "1700000002.1", c.ID)
	at := time.Now().Truncate(time.Millisecond)
	decide := func(right bool, at time.Time) ivr.PINVerdict {
		t.Helper()
		v, err := db.DecidePIN(ctx, ivr.PINEntry{CallerID: c.ID, CallID: callID, Right: right, At: at}, testLock)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	if v := decide(false, at); v.Accepted || v.Failures != 1 || v.Locked(at) {
		t.Fatalf("first wrong PIN: %+v", v)
	}
	if v := decide(true, at); !v.Accepted || v.Failures != 0 {
		t.Fatalf("right PIN: %+v, want accepted with no failures", v)
	}
	for want := 1; want <= 3; want++ {
		if v := decide(false, at); v.Failures != want || v.Locked(at) != (want == 3) {
			t.Fatalf("wrong PIN %d: %+v", want, v)
		}
	}
	got, err := db.CallerByID(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := at.Add(5 * time.Minute); got.PINFailures != 3 || !got.LockedUntil.Equal(want) {
		t.Errorf("after 3 failures: failures %d locked until %v, want %v", got.PINFailures, got.LockedUntil, want)
	}
	// The right PIN while locked is refused, counts and lengthens the lock
	// along the schedule, to its last entry.
	for i, d := range []time.Duration{10 * time.Minute, 20 * time.Minute, 20 * time.Minute} {
		later := at.Add(time.Duration(i+1) * time.Minute)
		if v := decide(true, later); v.Accepted || v.Failures != 4+i || !v.LockedUntil.Equal(later.Add(d)) {
			t.Errorf("right PIN while locked, failure %d: %+v, want refused, locked until %v", 4+i, v, later.Add(d))
		}
	}
	// Once the lock has passed, the right PIN is accepted and resets the count.
	after := at.Add(time.Hour)
	if v := decide(true, after); !v.Accepted || v.Failures != 0 {
		t.Errorf("right PIN after the lock: %+v", v)
	}
	attempts, err := db.PINAttempts(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(attempts) != 9 || attempts[0].Success || !attempts[1].Success || attempts[5].Success || !attempts[8].Success || attempts[0].CallID != callID {
		t.Errorf("attempts = %+v", attempts)
	}

	// A disabled caller is refused with the right PIN.
	disabled := ivr.CallerDisabled
	if err := db.UpdateCaller(ctx, c.Account, store.CallerChange{Status: &disabled}); err != nil {
		t.Fatal(err)
	}
	if v := decide(true, after); v.Accepted {
		t.Errorf("disabled caller accepted: %+v", v)
	}

	h := ivr.PINHash{KeyID: "k2", Version: ivr.PINHashV2, Sum: []byte("new")}
	if err := db.SetPIN(ctx, c.ID, h); err != nil {
		t.Fatal(err)
	}
	if got, _ = db.CallerByID(ctx, c.ID); got.PIN.KeyID != "k2" || got.PIN.Version != ivr.PINHashV2 || string(got.PIN.Sum) != "new" ||
		got.PINFailures != 0 || !got.LockedUntil.IsZero() {
		t.Errorf("after SetPIN: %+v", got)
	}
	// RehashPIN replaces the hash it was given only.
	h3 := ivr.PINHash{KeyID: "k3", Version: ivr.PINHashV2, Sum: []byte("rehashed")}
	if err := db.RehashPIN(ctx, c.ID, ivr.PINHash{KeyID: "k1", Sum: []byte("stale")}, h3); err != nil {
		t.Fatal(err)
	}
	if got, _ = db.CallerByID(ctx, c.ID); got.PIN.KeyID != "k2" {
		t.Errorf("rehash of a stale hash replaced the PIN: %+v", got.PIN)
	}
	if err := db.RehashPIN(ctx, c.ID, h, h3); err != nil {
		t.Fatal(err)
	}
	if got, _ = db.CallerByID(ctx, c.ID); got.PIN.KeyID != "k3" || string(got.PIN.Sum) != "rehashed" {
		t.Errorf("after RehashPIN: %+v", got.PIN)
	}

	if v, err := db.DecidePIN(ctx, ivr.PINEntry{CallerID: 987654, Right: true, At: at}, testLock); err != nil || v.Accepted {
		t.Errorf("unknown caller: %+v, %v, want refused", v, err)
	}
	wantIs(t, db.SetPIN(ctx, 987654, h), ivr.ErrNotFound)
}

func TestMessages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t)
	c := createCaller(t, db, "5001", "+14155550501")
	callID := startCall(t, db, "1700000003.1", c.ID)
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	var ids []int64
	for i, purpose := range []ivr.RecordingPurpose{ivr.PurposeMessage, ivr.PurposeName, ivr.PurposeMessage, ivr.PurposeMessage} {
		id, err := db.SaveRecording(ctx, ivr.Recording{CallID: callID, CallerID: c.ID, Path: fmt.Sprintf("/rec/%d.wav", i),
			Format: "wav", Reason: ivr.RecordTimeout, Purpose: purpose, CreatedAt: base.Add(time.Duration(i) * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := db.DeleteRecording(ctx, ids[2], time.Time{}); err != nil {
		t.Fatal(err)
	}
	wantIs(t, db.DeleteRecording(ctx, ids[2], time.Time{}), ivr.ErrNotFound)
	wantIs(t, db.DeleteRecording(ctx, 987654, time.Time{}), ivr.ErrNotFound)

	msgs, err := db.CallerMessages(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].ID != ids[3] || msgs[1].ID != ids[0] {
		t.Errorf("messages = %+v, want recordings %d and %d, newest first", msgs, ids[3], ids[0])
	}
	recs, _ := db.Recordings(ctx, callID)
	if len(recs) != 4 || recs[2].DeletedAt.IsZero() {
		t.Errorf("recordings of the call = %+v", recs)
	}
}

// TestErrorClasses shows the three ways a write fails, told apart at the
// store's boundary: refused as a duplicate, a value refused, and anything else
// (here, a closed store). A refused value never shows in the error.
func TestErrorClasses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t)
	createCaller(t, db, "6001", "+14155550601")
	_, err := db.CreateCaller(ctx, ivr.Caller{Account: "6001", Name: "Again"})
	wantConflict(t, err, "callers_account_key")
	if errors.Is(err, ivr.ErrInvalidValue) {
		t.Errorf("a conflict is also an invalid value: %v", err)
	}

	id := startCall(t, db, "1700000700.1", 0)
	for _, tc := range []struct {
		name       string
		err        error
		constraint string
		code       string
	}{
		{"a step of no kind", appendStep(ctx, db, ivr.Step{CallID: id, Seq: 1, Key: "x", Kind: "Not a kind", Outcome: ivr.OutcomeValid}),
			"call_steps_kind_format", "23514"},
		{"an answer from a menu and a survey at once", saveResponse(ctx, db, ivr.Response{CallID: id, MenuVersionID: publishedMenu(t, db, "errclass").VersionID, SurveyVersionID: publishedSurvey(t, db, "errclass").VersionID, Answer: "1"}),
			"responses_one_source", "23514"},
		{"a session key that is no UUID", func() error {
			_, err := db.StartCall(ctx, ivr.Call{SessionID: "secret-123", UniqueID: "1700000700.2"})
			return err
		}(), "", "22P02"},
	} {
		var iv *ivr.InvalidValueError
		if !errors.As(tc.err, &iv) || !errors.Is(tc.err, ivr.ErrInvalidValue) || errors.Is(tc.err, ivr.ErrConflict) {
			t.Errorf("%s: %v, want only an invalid value", tc.name, tc.err)
			continue
		}
		if iv.Constraint != tc.constraint || iv.Code != tc.code {
			t.Errorf("%s: constraint %q code %s, want %q %s", tc.name, iv.Constraint, iv.Code, tc.constraint, tc.code)
		}
		if msg := tc.err.Error(); strings.Contains(msg, "secret-123") {
			t.Errorf("%s: the value shows in the error %q", tc.name, msg)
		}
	}

	db.Close()
	_, err = db.StartCall(ctx, ivr.Call{UniqueID: "1700000700.3"})
	if err == nil || errors.Is(err, ivr.ErrConflict) || errors.Is(err, ivr.ErrInvalidValue) || errors.Is(err, ivr.ErrNotFound) {
		t.Errorf("a write to a closed store: %v, want a failure that is neither a conflict, an invalid value nor not found", err)
	}
}

// TestPINLockUnderConcurrency decides 50 attempts on one account at once, on
// several group commits in flight (so separate transactions race for the
// caller's row), 45 wrong and 5 right in a random order. Replayed in the
// order they were decided (the audit's), the verdicts must be those of the
// policy: once LockAfter consecutive failures are counted the account is
// locked and no attempt, right or wrong, is accepted; before that, a right
// PIN is accepted and resets the count.
func TestPINLockUnderConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := store.OpenWith(ctx, testdb.URL(t), store.Options{MaxBatch: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	c := createCaller(t, db, "4101", "+14155554101")
	lock := ivr.LockPolicy{After: 5, Schedule: []time.Duration{time.Hour}}
	const attempts, rights = 50, 5
	right := make(map[int64]bool, attempts)
	calls := make([]int64, attempts)
	for i := range calls {
		calls[i] = startCall(t, db, fmt.Sprintf("1700000400.%d", i), c.ID)
	}
	for _, i := range rand.Perm(attempts)[:rights] {
		right[calls[i]] = true
	}
	at := time.Now()
	verdicts := make(map[int64]ivr.PINVerdict, attempts)
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for _, id := range calls {
		wg.Go(func() {
			v, err := db.DecidePIN(ctx, ivr.PINEntry{CallerID: c.ID, CallID: id, Right: right[id], At: at}, lock)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			verdicts[id] = v
			mu.Unlock()
		})
	}
	wg.Wait()

	audit, err := db.PINAttempts(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) != attempts {
		t.Fatalf("%d attempts audited, want %d", len(audit), attempts)
	}
	failures, locked, accepted := 0, false, 0
	for n, a := range audit {
		want := right[a.CallID] && !locked
		if want {
			failures = 0
			accepted++
		} else {
			failures++
		}
		locked = locked || failures >= lock.After
		if v := verdicts[a.CallID]; a.Success != want || v.Accepted != want || v.Failures != failures {
			t.Errorf("attempt %d decided (right %v): audited success %v, verdict %+v; want accepted %v with %d failures",
				n+1, right[a.CallID], a.Success, v, want, failures)
		}
	}
	got, err := db.CallerByID(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	// 45 wrong attempts in at most 6 runs between the right ones: one run
	// reaches the lock.
	if !locked || !got.Locked(at) || got.PINFailures != failures {
		t.Errorf("after the attempts: failures %d, locked until %v; replay: %d failures, locked %v", got.PINFailures, got.LockedUntil, failures, locked)
	}
	t.Logf("%d of %d right PINs accepted before the lock", accepted, rights)
}

// TestStatementTimeout shows that a DB opened for an operator command cancels
// a statement that runs too long, that the URL can override the limit, and
// that a DB opened without one (the call path) has none.
func TestStatementTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.URL(t)
	for _, tc := range []struct {
		name, url string
		opts      store.Options
		want      string
	}{
		{"operator", url, store.Options{StatementTimeout: 1500 * time.Millisecond}, "1500ms"},
		{"overridden in the URL", url + "&statement_timeout=0", store.Options{StatementTimeout: time.Second}, "0"},
		{"call path", url, store.Options{}, "0"},
	} {
		pool, err := store.Connect(ctx, tc.url, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		if err := pool.QueryRow(ctx, "SHOW statement_timeout").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s: statement_timeout = %s, want %s", tc.name, got, tc.want)
		}
		pool.Close()
	}
}

// TestMissingReference saves an answer to a menu version that does not
// exist: the store says not found and names the reference, and does not call
// it a conflict, whatever the words of the server's message.
func TestMissingReference(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t)
	id := startCall(t, db, "1700000800.1", 0)
	err := saveResponse(ctx, db, ivr.Response{CallID: id, MenuVersionID: 987654, Answer: "1"})
	wantIs(t, err, ivr.ErrNotFound)
	if errors.Is(err, ivr.ErrConflict) || !strings.Contains(err.Error(), "responses_menu_version_id_fkey") {
		t.Errorf("error = %v, want only not found, naming responses_menu_version_id_fkey", err)
	}
}

// TestPoolSize reads the pool size from the URL as PostgreSQL's parser does:
// pool_max_conns when set, in either form of URL, and 16 otherwise, even when
// the words pool_max_conns appear in a password or a database name.
func TestPoolSize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url  string
		want int
	}{
		{"postgres://ivr@db.example.net/ivr", 16},
		{"postgres://ivr@db.example.net/ivr?pool_max_conns=40", 40},
		{"postgres://ivr@db.example.net/ivr?sslmode=disable&pool_max_conns=4", 4},
		{"host=db.example.net user=ivr dbname=ivr pool_max_conns=7", 7},
		{"host=db.example.net user=ivr dbname=ivr", 16},
		{"postgres://ivr:pool_max_conns@db.example.net/ivr", 16},
		{"host=db.example.net user=ivr dbname=pool_max_conns", 16},
	} {
		got, err := store.PoolSize(tc.url)
		if err != nil || got != tc.want {
			t.Errorf("PoolSize(%q) = %d, %v, want %d", tc.url, got, err, tc.want)
		}
	}
	if _, err := store.PoolSize("postgres://ivr@db.example.net/ivr?pool_max_conns=none"); err == nil {
		t.Errorf("PoolSize with pool_max_conns=none: no error")
	}
}

// TestFullPool checks that Open with Options.FullPool returns with every
// connection of the pool open, that pool_min_conns in the URL wins over it,
// and that without it Open opens one connection.
func TestFullPool(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.URL(t)
	for _, tc := range []struct {
		name     string
		url      string
		full     bool
		open     int32 // connections open when Open returns, at least
		minConns int32 // connections the pool keeps open
	}{
		{"full", withParam(url, "pool_max_conns=5"), true, 5, 5},
		{"not asked", withParam(url, "pool_max_conns=5"), false, 1, 0},
		{"the URL wins", withParam(url, "pool_min_conns=2&pool_max_conns=5"), true, 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := store.OpenWith(ctx, tc.url, store.Options{FullPool: tc.full})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if got := db.Pool().Stat().TotalConns(); got < tc.open {
				t.Errorf("open connections after Open = %d, want at least %d", got, tc.open)
			}
			if got := db.Pool().Config().MinConns; got != tc.minConns {
				t.Errorf("the pool keeps %d connections open, want %d", got, tc.minConns)
			}
		})
	}
}

// withParam adds the setting kv to a PostgreSQL URL or key=value string.
func withParam(url, kv string) string {
	switch {
	case !strings.Contains(url, "://"):
		return url + " " + kv
	case strings.Contains(url, "?"):
		return url + "&" + kv
	}
	return url + "?" + kv
}
