//go:build asterisk

package livetest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// callerID is an AMI CallerID value: "name" <number>.
func callerID(name, number string) string { return strconv.Quote(name) + " <" + number + ">" }

// The lookup of a known caller ID sets the caller's variables and, with
// setname=1, the caller ID name (deploy/asterisk/extensions.conf, exten 101).
func TestLookupKnown(t *testing.T) {
	t.Parallel()
	e := deployLookup(tagMain)
	l := call(t, e, "hup40", callerID("Somebody", cLookup.phone))
	id, err := s.rows.callerID(cLookup.account)
	if err != nil {
		t.Fatal(err)
	}
	wantVar(t, l, "AGISTATUS", "SUCCESS")
	wantVar(t, l, "IVR_CALLER_FOUND", "1")
	wantVar(t, l, "IVR_CALLER_ID", strconv.FormatInt(id, 10))
	wantVar(t, l, "IVR_CALLER_NAME", cLookup.name)
	wantVar(t, l, "IVR_CALLER_ACCOUNT", cLookup.account)
	wantVar(t, l, "IVR_CALLER_LANGUAGE", "en")
	wantVar(t, l, "IVR_CALLER_STATUS", "active")
	wantNoVar(t, l, "IVR_LOOKUP_ERROR")
	if got := l.callerName(); got != cLookup.name {
		t.Errorf("CALLERID(name) = %q, want %q (setname=1)", got, cLookup.name)
	}
	if !l.ran(e.context, e.exten, "Playback", "hello-world") {
		t.Error("the dialplan did not go on after the lookup")
	}
	for _, c := range l.agiCommands() {
		if strings.HasPrefix(c, "ANSWER") || strings.HasPrefix(c, "STREAM") || strings.HasPrefix(c, "GET DATA") {
			t.Errorf("the lookup touched the channel: %s", c)
		}
	}
	c, err := s.rows.call(l.id, "lookup")
	if err != nil {
		t.Fatal(err)
	}
	wantCaller(t, s.rows, c, cLookup.account, false)
	wantEnd(t, c, "completed")
	if c.CallerIDE164 != cLookup.phone {
		t.Errorf("callerid_e164 = %q, want %q", c.CallerIDE164, cLookup.phone)
	}
	wantStep(t, steps(t, s.rows, c), "lookup", "lookup", "valid", "-")
}

// A caller ID in national format is read in the US number plan
// (docs/asterisk.md, the setname example before Dial).
func TestLookupNational(t *testing.T) {
	t.Parallel()
	e := astmdSetname(tagMain)
	national := strings.TrimPrefix(cNational.phone, "+1")
	l := call(t, e, "hup40", callerID("Somebody", national))
	wantVar(t, l, "IVR_CALLER_FOUND", "1")
	wantVar(t, l, "IVR_CALLER_ACCOUNT", cNational.account)
	if got := l.callerName(); got != cNational.name {
		t.Errorf("CALLERID(name) = %q, want %q (setname=1)", got, cNational.name)
	}
	if !l.ran(e.context, e.exten, "Dial", "PJSIP/reception") {
		t.Error("the dialplan did not go on to Dial after the lookup")
	}
	c, err := s.rows.call(l.id, "lookup")
	if err != nil {
		t.Fatal(err)
	}
	if c.CallerIDRaw != national || c.CallerIDE164 != cNational.phone {
		t.Errorf("caller ID stored as %q / %q, want %q / %q", c.CallerIDRaw, c.CallerIDE164, national, cNational.phone)
	}
	wantCaller(t, s.rows, c, cNational.account, false)
}

// An unknown number and a withheld one are not found, and the name the
// channel had stays.
func TestLookupUnknownAndAnonymous(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, number, e164 string
	}{
		{"unknown", "+15555550999", "+15555550999"},
		{"anonymous", "anonymous", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := call(t, deployLookup(tagMain), "hup40", callerID("Stranger", tc.number))
			wantVar(t, l, "AGISTATUS", "SUCCESS")
			wantVar(t, l, "IVR_CALLER_FOUND", "0")
			wantNoVar(t, l, "IVR_CALLER_NAME")
			wantNoVar(t, l, "IVR_LOOKUP_ERROR")
			if got := l.callerName(); got != "Stranger" {
				t.Errorf("CALLERID(name) = %q, want it unchanged", got)
			}
			c, err := s.rows.call(l.id, "lookup")
			if err != nil {
				t.Fatal(err)
			}
			if c.CallerID != nil || c.CallerIDE164 != tc.e164 {
				t.Errorf("lookup row: caller %v, e164 %q; want none, %q", c.CallerID, c.CallerIDE164, tc.e164)
			}
			wantStep(t, steps(t, s.rows, c), "lookup", "lookup", "invalid", "-")
		})
	}
}

// A known caller types the right PIN and asks for the operator (README.md);
// the lookup before it, on the same channel, keeps its own row.
func TestPINThenOperator(t *testing.T) {
	t.Parallel()
	e := readmeIVR(tagMain)
	l := call(t, e, "k"+cOperator.pin+"#-0", callerID("Oscar", cOperator.phone))
	wantVar(t, l, "IVR_CALLER_FOUND", "1")
	wantTransfer(t, l, e, "operator")
	if !l.reached(e.sibling("transfers"), "operator") {
		t.Error("the dialplan did not go to transfers,operator")
	}
	c := ivrRow(t, s.rows, l)
	wantCaller(t, s.rows, c, cOperator.account, true)
	wantEnd(t, c, "transferred")
	if !c.Answered || c.LinkedID == "" {
		t.Errorf("call row: answered %v, linkedid %q; want answered and a linkedid", c.Answered, c.LinkedID)
	}
	wantPINAttempts(t, s.rows, c, true)
	wantResponses(t, s.rows, c, "main=0")
	// The lookup and the ivr ran on the one channel, with its one uniqueid:
	// two sessions, each with a row of its own.
	if n, err := s.rows.callCount(l.id); err != nil || n != 2 {
		t.Errorf("calls holds %d rows for uniqueid %s (%v), want 2: the lookup's and the ivr's", n, l.id, err)
	}
	if lc, err := s.rows.call(l.id, "lookup"); err != nil {
		t.Error(err)
	} else {
		wantCaller(t, s.rows, lc, cOperator.account, false)
		wantEnd(t, lc, "completed")
	}
	sts := steps(t, s.rows, c, cOperator.pin)
	wantStep(t, sts, "pin", "pin", "valid", "-")
	wantStep(t, sts, "transfer", "operator:operator", "valid", "-")
}

// Wrong PINs across calls lock the account; the right PIN on a locked account
// sounds like a wrong one.
func TestLockout(t *testing.T) {
	t.Parallel()
	e := deployIVR(tagMain)
	cid := callerID("Lena", cLock.phone)

	l := call(t, e, "k1111#-2222#-3333#", cid)
	wantVar(t, l, "AGISTATUS", "SUCCESS")
	wantVar(t, l, "IVR_RESULT", "auth_failed")
	wantNoFallback(t, l, e)
	c := ivrRow(t, s.rows, l)
	wantEnd(t, c, "auth_failed")
	wantCaller(t, s.rows, c, cLock.account, false)
	wantPINAttempts(t, s.rows, c, false, false, false)
	if n, locked, err := s.rows.lockState(cLock.account); err != nil || n != 3 || locked {
		t.Fatalf("after 3 wrong PINs: failures %d, locked %v (%v); want 3, not locked", n, locked, err)
	}

	l = call(t, e, "k4444#-5555#-6666#", cid)
	wantVar(t, l, "IVR_RESULT", "locked")
	c = ivrRow(t, s.rows, l)
	wantEnd(t, c, "locked_out")
	wantPINAttempts(t, s.rows, c, false, false, false)
	if _, locked, err := s.rows.lockState(cLock.account); err != nil || !locked {
		t.Fatalf("after 6 wrong PINs: locked %v (%v), want locked", locked, err)
	}

	pin := cLock.pin
	l = call(t, e, "k"+pin+"#-"+pin+"#-"+pin+"#", cid)
	wantVar(t, l, "IVR_RESULT", "locked")
	if !l.played("vm-incorrect") {
		t.Error("the caller of a locked account did not hear vm-incorrect")
	}
	c = ivrRow(t, s.rows, l)
	wantEnd(t, c, "locked_out")
	wantCaller(t, s.rows, c, cLock.account, false)
	wantPINAttempts(t, s.rows, c, false, false, false)
	steps(t, s.rows, c, pin)
}

// A key pressed while vm-incorrect plays after a wrong PIN starts the next
// PIN: the prompts before an input go out one per command, each with the
// input's keys as barge-in keys.
func TestKeyDuringQueuedPrompt(t *testing.T) {
	t.Parallel()
	e := deployIVR(tagMain)
	l := call(t, e, "k1111#v"+cQueued.pin+"#-0", callerID("Quinn", cQueued.phone))
	wantTransfer(t, l, e, "operator")
	for _, c := range l.agiCommands() {
		if (strings.HasPrefix(c, "STREAM FILE") || strings.HasPrefix(c, "GET DATA")) && strings.Contains(c, "&") {
			t.Errorf("a command names several sounds: %s", c)
		}
	}
	// The PIN's first key interrupts vm-incorrect: its reply is that key.
	reply, err := s.kit.agiReply(l.channel(), "STREAM FILE vm-incorrect ")
	if err != nil {
		t.Error(err)
	} else if want := fmt.Sprintf("200 result=%d ", cQueued.pin[0]); !strings.HasPrefix(reply, want) {
		t.Errorf("STREAM FILE vm-incorrect answered %q, want %q...: the key was not pressed during the prompt", reply, want)
	}
	c := ivrRow(t, s.rows, l)
	wantCaller(t, s.rows, c, cQueued.account, true)
	wantPINAttempts(t, s.rows, c, false, true)
	sts := steps(t, s.rows, c, cQueued.pin)
	wantStep(t, sts, "prompt", "vm-incorrect", "valid", "-")
}

// A caller whose number ivr does not know types the account number, then the
// PIN (README.md).
func TestUnknownCallerAccount(t *testing.T) {
	t.Parallel()
	e := readmeIVR(tagMain)
	l := call(t, e, "k"+cAccount.account+"#-"+cAccount.pin+"#-0", callerID("Uma", "+15555550998"))
	wantVar(t, l, "IVR_CALLER_FOUND", "0")
	if !l.played("vm-login") {
		t.Error("the caller was not asked for the account (vm-login)")
	}
	wantTransfer(t, l, e, "operator")
	c := ivrRow(t, s.rows, l)
	wantCaller(t, s.rows, c, cAccount.account, true)
	wantPINAttempts(t, s.rows, c, true)
	wantStep(t, steps(t, s.rows, c, cAccount.pin), "account", "account", "valid", cAccount.account)
}

// The departments submenu hands the call back for a transfer to sales
// (docs/ivr.md).
func TestSubmenuTransfer(t *testing.T) {
	t.Parallel()
	e := ivrmdIVR(tagMain)
	l := call(t, e, "k"+cSubmenu.pin+"#-5-1", callerID("Sam", cSubmenu.phone))
	wantTransfer(t, l, e, "sales")
	if !l.reached(e.sibling("transfers"), "sales") {
		t.Errorf("the dialplan did not go to %s,sales", e.sibling("transfers"))
	}
	c := ivrRow(t, s.rows, l)
	wantEnd(t, c, "transferred")
	wantResponses(t, s.rows, c, "main=5", "departments=1")
	wantStep(t, steps(t, s.rows, c), "transfer", "transfer:sales", "valid", "-")
}

// The hangup action of the departments menu (#) says goodbye and hangs up.
func TestMenuHangup(t *testing.T) {
	t.Parallel()
	e := deployIVR(tagMain)
	l := call(t, e, "k"+cGoodbye.pin+"#-5-#", callerID("Gus", cGoodbye.phone))
	// ivr hung the channel up: Asterisk reports that, not SUCCESS.
	wantVar(t, l, "AGISTATUS", "HANGUP")
	wantVar(t, l, "IVR_RESULT", "completed")
	if !l.played("vm-goodbye") {
		t.Error("the caller did not hear vm-goodbye")
	}
	if l.reached(e.sibling("transfers"), "operator") {
		t.Error("the dialplan went to the operator after a goodbye")
	}
	c := ivrRow(t, s.rows, l)
	wantEnd(t, c, "completed")
	wantResponses(t, s.rows, c, "main=5", "departments=#")
}

// The * option plays the main menu again.
func TestMenuRepeat(t *testing.T) {
	t.Parallel()
	e := deployIVR(tagMain)
	l := call(t, e, "k"+cRepeat.pin+"#-*-0", callerID("Rae", cRepeat.phone))
	wantTransfer(t, l, e, "operator")
	c := ivrRow(t, s.rows, l)
	wantResponses(t, s.rows, c, "main=*", "main=0")
	sts := steps(t, s.rows, c)
	wantStep(t, sts, "menu", "menu:main", "valid", "*")
	wantStep(t, sts, "menu", "menu:main", "valid", "0")
}

// A message recorded, re-recorded and accepted; then, in a second call, heard
// and deleted.
func TestRecordThenMessages(t *testing.T) {
	t.Parallel()
	e := deployIVR(tagMain)
	cid := callerID("Rita", cRecord.phone)
	// 1, then vm-rec-name (4 s) and the beep; 3 s of speech, #; at vm-review
	// 3 (record again); speech, #; 1 (accept); 0 (operator).
	l := call(t, e, "k"+cRecord.pin+"#-1---p#w3---p#w1-0", cid)
	wantTransfer(t, l, e, "operator")
	c := ivrRow(t, s.rows, l)
	recs, err := s.rows.recordings(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("call %d saved %d recordings, want 1 (the second take): %+v", c.ID, len(recs), recs)
	}
	rec := recs[0]
	if rec.EndReason != "dtmf" || rec.EndKey != "#" || rec.EndPos == 0 || !strings.HasSuffix(rec.Path, "-2") {
		t.Errorf("recording %+v: want the second take, ended by #, not empty", rec)
	}
	if fi, err := os.Stat(rec.Path + "." + rec.Format); err != nil || fi.Size() <= 44 {
		t.Errorf("recorded file %s.%s: %v, want a file with sound", rec.Path, rec.Format, err)
	}
	sts := steps(t, s.rows, c)
	wantStep(t, sts, "input", "review", "valid", "3")
	wantStep(t, sts, "input", "review", "valid", "1")
	nrec := 0
	for _, st := range sts {
		if st.Kind == "record" {
			nrec++
		}
	}
	if nrec != 2 {
		t.Errorf("call %d journaled %d takes, want 2", c.ID, nrec)
	}

	// 3: vm-youhave, the count, vm-messages, then the message; 3 while it
	// plays deletes it; 0 at the main menu.
	l = call(t, e, "k"+cRecord.pin+"#-3--3--0", cid)
	wantTransfer(t, l, e, "operator")
	if !l.played(rec.Path) {
		t.Errorf("the message %s was not played", rec.Path)
	}
	c = ivrRow(t, s.rows, l)
	wantStep(t, steps(t, s.rows, c), "playback", "message:"+strconv.FormatInt(rec.ID, 10), "valid", "3")
	if del, err := s.rows.recordingDeleted(rec.ID); err != nil || !del {
		t.Errorf("recording %d deleted = %v (%v), want deleted", rec.ID, del, err)
	}
}

// The survey: an invalid answer is asked again; every answer is saved
// (docs/asterisk.md). The 9 comes after the intro (ivr/survey-intro, 6 s),
// whose barge-in keys are only the first question's answers.
func TestSurvey(t *testing.T) {
	t.Parallel()
	e := astmdIVR(tagMain)
	l := call(t, e, "k"+cSurvey.pin+"#-2---w9-4-10-1-0", callerID("Sue", cSurvey.phone))
	wantTransfer(t, l, e, "operator")
	c := ivrRow(t, s.rows, l)
	wantResponses(t, s.rows, c, "main=2", "overall=4", "recommend=10", "callback=1", "main=0")
	sts := steps(t, s.rows, c)
	wantStep(t, sts, "survey", "survey:satisfaction:overall", "invalid", "9")
	wantStep(t, sts, "survey", "survey:satisfaction:overall", "valid", "4")
}

// Changing the PIN: a weak PIN and a mismatch are refused; the new PIN works
// on the next call.
func TestChangePIN(t *testing.T) {
	t.Parallel()
	e := deployIVR(tagMain)
	cid := callerID("Pete", cPIN.phone)
	l := call(t, e, "k"+cPIN.pin+"#-4-1234#-"+newPIN+"#-5832#-"+newPIN+"#-"+newPIN+"#-0", cid)
	wantTransfer(t, l, e, "operator")
	c := ivrRow(t, s.rows, l)
	sts := steps(t, s.rows, c, cPIN.pin, newPIN)
	wantStep(t, sts, "pin", "new_pin", "invalid", "-")
	wantStep(t, sts, "pin", "new_pin_again", "invalid", "-")
	wantStep(t, sts, "pin", "new_pin_again", "valid", "-")

	l = call(t, e, "k"+newPIN+"#-0", cid)
	wantTransfer(t, l, e, "operator")
	c = ivrRow(t, s.rows, l)
	wantCaller(t, s.rows, c, cPIN.account, true)
	wantPINAttempts(t, s.rows, c, true)
}
