//go:build asterisk

package livetest

import (
	"slices"
	"strings"
	"testing"
)

// wantVar checks the last value the dialplan variable name got.
func wantVar(t *testing.T, l calllog, name, want string) {
	t.Helper()
	got, ok := l.lastVar(name)
	switch {
	case !ok:
		t.Errorf("the dialplan never got %s (want %q)", name, want)
	case got != want:
		t.Errorf("%s = %q, want %q", name, got, want)
	}
}

// wantNoVar checks that the dialplan variable name was never set.
func wantNoVar(t *testing.T, l calllog, name string) {
	t.Helper()
	if got, ok := l.lastVar(name); ok {
		t.Errorf("%s = %q, want it unset", name, got)
	}
}

// wantFallback checks that the dialplan went to its fallback: the apology
// and the operator.
func wantFallback(t *testing.T, l calllog, e entry) {
	t.Helper()
	if !l.ran(e.context, e.exten, "Playback", "tt-somethingwrong") {
		t.Errorf("the dialplan did not play its apology (Playback(tt-somethingwrong) in %s)", e.context)
	}
	if !l.reached(e.sibling("transfers"), "operator") {
		t.Errorf("the dialplan did not go to %s,operator", e.sibling("transfers"))
	}
}

// wantOperatorAfterError checks a call ivr took and ended with
// IVR_RESULT=error: the dialplan went straight to the operator, without its
// own apology (the caller hears one, not two). apologised says whether ivr
// played tt-somethingwrong itself.
func wantOperatorAfterError(t *testing.T, l calllog, e entry, apologised bool) {
	t.Helper()
	wantVar(t, l, "IVR_RESULT", "error")
	if got := l.played("tt-somethingwrong"); got != apologised {
		t.Errorf("ivr played tt-somethingwrong: %v, want %v", got, apologised)
	}
	wantNoFallback(t, l, e)
	if !l.reached(e.sibling("transfers"), "operator") {
		t.Errorf("the dialplan did not go to %s,operator", e.sibling("transfers"))
	}
}

// wantNoFallback checks that the dialplan did not fall back.
func wantNoFallback(t *testing.T, l calllog, e entry) {
	t.Helper()
	if l.ran(e.context, e.exten, "Playback", "tt-somethingwrong") {
		t.Errorf("the dialplan fell back (Playback(tt-somethingwrong) in %s)", e.context)
	}
}

// wantTransfer checks a call that ivr handed back for a transfer to target.
func wantTransfer(t *testing.T, l calllog, e entry, target string) {
	t.Helper()
	wantVar(t, l, "AGISTATUS", "SUCCESS")
	wantVar(t, l, "IVR_RESULT", "transfer")
	wantVar(t, l, "IVR_TRANSFER_TO", target)
	wantNoFallback(t, l, e)
}

// ivrRow returns the ivr row of the call, failing the test without one.
func ivrRow(t *testing.T, r rows, l calllog) callRow {
	t.Helper()
	c, err := r.call(l.id, "ivr")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantEnd checks the end reason of a call row.
func wantEnd(t *testing.T, c callRow, want string) {
	t.Helper()
	if c.EndReason == nil || *c.EndReason != want {
		got := "open"
		if c.EndReason != nil {
			got = *c.EndReason
		}
		t.Errorf("call %d ended as %s, want %s", c.ID, got, want)
	}
}

// wantCaller checks the caller and the authentication of a call row.
func wantCaller(t *testing.T, r rows, c callRow, account string, authenticated bool) {
	t.Helper()
	id, err := r.callerID(account)
	if err != nil {
		t.Fatal(err)
	}
	if c.CallerID == nil || *c.CallerID != id {
		t.Errorf("call %d has caller %v, want %d (account %s)", c.ID, c.CallerID, id, account)
	}
	if c.Authenticated != authenticated {
		t.Errorf("call %d authenticated = %v, want %v", c.ID, c.Authenticated, authenticated)
	}
}

// wantPINAttempts checks the PIN audit of a call.
func wantPINAttempts(t *testing.T, r rows, c callRow, want ...bool) {
	t.Helper()
	got, err := r.pinAttempts(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("pin_attempts of call %d: %v, want %v", c.ID, got, want)
	}
}

// wantResponses checks the responses of a call ("question=answer").
func wantResponses(t *testing.T, r rows, c callRow, want ...string) {
	t.Helper()
	got, err := r.responses(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("responses of call %d: %v, want %v", c.ID, got, want)
	}
}

// steps returns the journal of a call, and checks that no secret digits
// (PINs) reached it.
func steps(t *testing.T, r rows, c callRow, secrets ...string) []step {
	t.Helper()
	got, err := r.steps(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range got {
		if st.Kind == "pin" && (!st.Secret || st.Digits != nil) {
			t.Errorf("call %d: PIN step %s is not secret", c.ID, st)
		}
		for _, p := range secrets {
			if st.Digits != nil && strings.Contains(*st.Digits, p) {
				t.Errorf("call %d: step %s holds the secret %s", c.ID, st, p)
			}
		}
	}
	return got
}

// hasStep reports whether the journal holds a step of kind with key and outcome
// (and digits, when digits is not "-").
func hasStep(sts []step, kind, key, outcome, digits string) bool {
	for _, st := range sts {
		if st.Kind != kind || st.Key != key || st.Outcome != outcome {
			continue
		}
		if digits == "-" || (st.Digits != nil && *st.Digits == digits) {
			return true
		}
	}
	return false
}

// wantStep checks that the journal holds the step.
func wantStep(t *testing.T, sts []step, kind, key, outcome, digits string) {
	t.Helper()
	if !hasStep(sts, kind, key, outcome, digits) {
		t.Errorf("no %s step %s with outcome %s and digits %s in %v", kind, key, outcome, digits, sts)
	}
}

// wantHungUp checks a call the caller hung up: IVR_RESULT, the call row and
// its one hangup step.
func wantHungUp(t *testing.T, r rows, l calllog) (callRow, []step) {
	t.Helper()
	wantVar(t, l, "IVR_RESULT", "hangup")
	c := ivrRow(t, r, l)
	wantEnd(t, c, "hangup")
	sts := steps(t, r, c)
	n := 0
	for _, st := range sts {
		if st.Kind == "hangup" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("call %d has %d hangup steps, want 1: %v", c.ID, n, sts)
	}
	return c, sts
}
