//go:build asterisk

package livetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// A caller who hangs up at any step: IVR_RESULT=hangup, the call row closed
// as a hangup with one hangup step, and what was already given kept.
func TestHangupAtEachStep(t *testing.T) {
	t.Parallel()
	pin := cHangup.pin
	known := callerID("Hal", cHangup.phone)
	for _, tc := range []struct {
		name, leg, callerID string
		check               func(t *testing.T, c callRow, sts []step)
	}{
		{"account", "k20h", callerID("Hal", "+15555550997"), func(t *testing.T, c callRow, sts []step) {
			wantPINAttempts(t, s.rows, c)
		}},
		{"pin", "k69h", known, func(t *testing.T, c callRow, sts []step) {
			wantPINAttempts(t, s.rows, c)
		}},
		{"menu", "k" + pin + "#-h", known, func(t *testing.T, c callRow, sts []step) {
			wantPINAttempts(t, s.rows, c, true)
			wantResponses(t, s.rows, c)
		}},
		{"recording", "k" + pin + "#-1---ph", known, func(t *testing.T, c callRow, sts []step) {
			// The take the caller hangs up on is kept.
			recs, err := s.rows.recordings(c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 || recs[0].EndReason != "hangup" || recs[0].EndPos == 0 {
				t.Errorf("recordings %+v, want one ended by the hangup, not empty", recs)
			}
		}},
		{"review", "k" + pin + "#-1---p#wh", known, func(t *testing.T, c callRow, sts []step) {
			recs, err := s.rows.recordings(c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 || recs[0].EndReason != "dtmf" || recs[0].EndKey != "#" {
				t.Errorf("recordings %+v, want the take ended by #", recs)
			}
		}},
		{"survey", "k" + pin + "#-2-4-h", known, func(t *testing.T, c callRow, sts []step) {
			wantResponses(t, s.rows, c, "main=2", "overall=4")
		}},
		{"change-pin", "k" + pin + "#-4-58h", known, func(t *testing.T, c callRow, sts []step) {
			wantResponses(t, s.rows, c, "main=4")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := call(t, deployIVR(tagMain), tc.leg, tc.callerID)
			c, sts := wantHungUp(t, s.rows, l)
			tc.check(t, c, sts)
		})
	}
	// The PIN still works: no hangup counted as a failure.
	if n, locked, err := s.rows.lockState(cHangup.account); err != nil || n != 0 || locked {
		t.Errorf("after the hangups: PIN failures %d, locked %v (%v); want none", n, locked, err)
	}
}

// With its database stopped the server apologises and ends the call with
// IVR_RESULT=error, the dialplan hands it to the operator, and once the
// database is back the next call works.
func TestDatabaseDown(t *testing.T) {
	t.Parallel()
	e := deployIVR(tagDBDown)
	cid := callerID("Dan", cDown.phone)
	if err := s.dbDown.stop(); err != nil {
		t.Fatal(err)
	}
	l := call(t, e, "k"+cDown.pin+"#-0", cid)
	if err := s.dbDown.start(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantVar(t, l, "IVR_CALLER_FOUND", "0")
	if got, _ := l.lastVar("IVR_LOOKUP_ERROR"); got != "error" && got != "timeout" {
		t.Errorf("IVR_LOOKUP_ERROR = %q, want error or timeout", got)
	}
	wantVar(t, l, "AGISTATUS", "SUCCESS")
	wantOperatorAfterError(t, l, e, true)
	if log := s.servers[tagDBDown].log.String(); !strings.Contains(log, "uniqueid="+l.id) || !strings.Contains(log, "database unavailable") {
		t.Errorf("the server log has no line 'database unavailable' for uniqueid=%s", l.id)
	}

	l = call(t, e, "k"+cDown.pin+"#-0", cid)
	wantVar(t, l, "IVR_CALLER_FOUND", "1")
	wantTransfer(t, l, e, "operator")
	c := ivrRow(t, s.downRows, l)
	wantCaller(t, s.downRows, c, cDown.account, true)
	wantEnd(t, c, "transferred")
}

// With ivr down, both AGIs fail and every documented dialplan falls back.
func TestServerDown(t *testing.T) {
	t.Parallel()
	for _, e := range []entry{deployIVR(tagDead), readmeIVR(tagDead), astmdIVR(tagDead)} {
		t.Run(e.context, func(t *testing.T) {
			t.Parallel()
			l := call(t, e, "idle", callerID("Dan", cDown.phone))
			if got := l.values("AGISTATUS"); !slices.Equal(got, []string{"FAILURE", "FAILURE"}) {
				t.Errorf("AGISTATUS was %v, want FAILURE for the lookup and for the ivr", got)
			}
			wantNoVar(t, l, "IVR_RESULT")
			wantFallback(t, l, e)
		})
	}
}

// SIGTERM: the call in progress goes on to its end, a new call is refused,
// and the server exits once the call is over.
func TestDrain(t *testing.T) {
	t.Parallel()
	e := deployIVR(tagDrain)
	srv := s.servers[tagDrain]
	p := originate(t, e, "k"+cDrain.pin+"#----0", callerID("Dora", cDrain.phone))
	p.waitCommand(t, "GET DATA vm-password", time.Minute)
	if err := srv.terminate(); err != nil {
		t.Fatal(err)
	}
	// Asterisk may still reach the listener for a moment after the signal.
	time.Sleep(500 * time.Millisecond)
	refused := call(t, e, "idle", callerID("Dora", cDrain.phone))
	wantVar(t, refused, "AGISTATUS", "FAILURE")
	wantFallback(t, refused, e)

	l := p.wait(t)
	wantTransfer(t, l, e, "operator")
	c := ivrRow(t, s.rows, l)
	wantEnd(t, c, "transferred")
	wantResponses(t, s.rows, c, "main=0")
	if err := srv.waitExit(30 * time.Second); err != nil {
		t.Errorf("ivr serve after the drain: %v", err)
	}
}

// SIGTERM with a call that outlasts the drain timeout: the call is closed as a
// server shutdown with IVR_RESULT=error, and the dialplan hands it to the
// operator.
func TestDrainTimeout(t *testing.T) {
	t.Parallel()
	e := deployIVR(tagCut)
	srv := s.servers[tagCut]
	p := originate(t, e, "k"+cCut.pin+"#", callerID("Carl", cCut.phone))
	p.waitCommand(t, "GET DATA vm-password", time.Minute)
	if err := srv.terminate(); err != nil {
		t.Fatal(err)
	}
	l := p.wait(t)
	wantVar(t, l, "AGISTATUS", "SUCCESS")
	// The call is cut, not apologised for: the operator takes it at once.
	wantOperatorAfterError(t, l, e, false)
	c := ivrRow(t, s.rows, l)
	wantEnd(t, c, "shutdown")
	if err := srv.waitExit(30 * time.Second); err != nil {
		t.Errorf("ivr serve after the drain timeout: %v", err)
	}
}

// SIGKILL with calls in progress: the kernel closes their connections, Asterisk
// ends each AGI with AGISTATUS=SUCCESS and no IVR_RESULT, and every documented
// dialplan apologises and hands the caller to the operator instead of hanging
// up on them.
func TestServerKilledDuringCalls(t *testing.T) {
	t.Parallel()
	srv := s.servers[tagKilled]
	entries := []entry{deployIVR(tagKilled), readmeIVR(tagKilled), astmdIVR(tagKilled), ivrmdIVR(tagKilled)}
	calls := make([]*placed, len(entries))
	for i, e := range entries {
		calls[i] = originate(t, e, "idle", callerID("Kim", cKilled.phone))
	}
	for _, p := range calls {
		p.waitCommand(t, "GET DATA vm-password", time.Minute)
	}
	srv.kill()
	for i, e := range entries {
		l := calls[i].wait(t)
		t.Run(e.context, func(t *testing.T) {
			wantVar(t, l, "AGISTATUS", "SUCCESS")
			wantNoVar(t, l, "IVR_RESULT")
			wantFallback(t, l, e)
		})
	}
}
