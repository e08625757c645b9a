package ivr_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ivrhq/ivr/internal/ivr"
)

// sent returns the command lines the IVR sent, and fails the test when one
// names several sound files joined with '&', which Asterisk cannot play.
func (c call) sent(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, st := range c.tr.Steps {
		if strings.Contains(st.Command.Line, "&") {
			t.Errorf("sent %q: Asterisk takes one sound file per command", st.Command.Line)
		}
		out = append(out, st.Command.Line)
	}
	return out
}

// menuSteps returns "outcome:digits" of the menu steps of the journal.
func (c call) menuSteps() []string {
	var out []string
	for _, s := range c.steps {
		if s.Kind == string(ivr.StepMenu) && s.Digits != nil {
			out = append(out, s.Outcome+":"+*s.Digits)
		}
	}
	return out
}

// inputsAfter returns the lines sent from the first one starting with from up
// to (not including) the first one starting with to after it.
func inputsAfter(lines []string, from, to string) []string {
	i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, from) })
	if i < 0 {
		return nil
	}
	j := slices.IndexFunc(lines[i+1:], func(l string) bool { return strings.HasPrefix(l, to) })
	if j < 0 {
		return lines[i:]
	}
	return lines[i : i+1+j]
}

func TestWrongPINThenRightPIN(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	// The caller listens to "incorrect" to its end, then types the right PIN.
	c := w.run(fromAlice(wrongPIN+"#", "", alicePIN+"#", "9"))
	w.checkEnd(c, ivr.ResultCompleted, ivr.EndCompleted)
	got := inputsAfter(c.sent(t), "GET DATA vm-password", "GET DATA ivr/main-menu")
	want := []string{
		"GET DATA vm-password 6000 6",
		"STREAM FILE vm-incorrect 0123456789#",
		"GET DATA vm-password 6000 6",
	}
	if !slices.Equal(got, want) {
		t.Errorf("sent %q\nwant %q", got, want)
	}
	if !c.row.Authenticated {
		t.Error("not authenticated with the right PIN")
	}
	keys := c.stepKeys()
	wantSteps := []string{"prompt:vm-password:valid", "pin:pin:invalid", "prompt:vm-incorrect:valid", "prompt:vm-password:valid", "pin:pin:valid"}
	if len(keys) < len(wantSteps) || !slices.Equal(keys[:len(wantSteps)], wantSteps) {
		t.Errorf("journal %v, want it to start %v", keys, wantSteps)
	}
}

func TestPINTypedDuringIncorrect(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	// The caller starts the right PIN while "incorrect" still plays.
	c := w.run(fromAlice(wrongPIN+"#", alicePIN+"#", "9"))
	w.checkEnd(c, ivr.ResultCompleted, ivr.EndCompleted)
	if !c.row.Authenticated {
		t.Errorf("not authenticated: the key typed during vm-incorrect is the PIN's first digit\n%s", c.tr)
	}
	got := inputsAfter(c.sent(t), "STREAM FILE vm-incorrect", "GET DATA ivr/main-menu")
	want := []string{"STREAM FILE vm-incorrect 0123456789#", `GET DATA "" 6000 5`}
	if !slices.Equal(got, want) {
		t.Errorf("sent %q\nwant %q: the rest collected without the PIN prompt", got, want)
	}
	if c.countPrompt("vm-password") != 1 {
		t.Errorf("heard %v: the PIN prompt after the interrupted one is skipped", c.prompts())
	}
	// The first digit comes back as its ASCII code: masked like the rest.
	first := "result=" + strconv.Itoa(int(alicePIN[0]))
	if logs := w.logs.String(); strings.Contains(logs, first) {
		t.Errorf("the PIN's first digit reached the log (%s):\n%s", first, logs)
	}
	if !c.hasStep(ivr.StepPrompt, "vm-incorrect", ivr.OutcomeValid) || !c.hasStep(ivr.StepPIN, "pin", ivr.OutcomeValid) {
		t.Errorf("journal %v, want the interrupted prompt and the valid PIN", c.stepKeys())
	}
}

func TestMenuChoiceDuringInvalidPrompt(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	t.Run("listened to, then chosen", func(t *testing.T) {
		c := w.run(fromAlice(alicePIN+"#", "8", "", "9"))
		w.checkEnd(c, ivr.ResultCompleted, ivr.EndCompleted)
		want := []string{"vm-password", "ivr/main-menu", "pm-invalid-option", "ivr/main-menu", "vm-goodbye"}
		if !slices.Equal(c.prompts(), want) {
			t.Errorf("heard %v\nwant  %v", c.prompts(), want)
		}
		got := inputsAfter(c.sent(t), "STREAM FILE pm-invalid-option", "STREAM FILE vm-goodbye")
		if len(got) != 2 || got[1] != "GET DATA ivr/main-menu 5000 1" {
			t.Fatalf("sent %q, want the invalid prompt, then the menu", got)
		}
		// The escape digits are the keys the menu's options start with, and #.
		escape := []byte(strings.TrimPrefix(got[0], "STREAM FILE pm-invalid-option "))
		slices.Sort(escape)
		if string(escape) != "#*01234579" {
			t.Errorf("sent %q, want the menu's keys as escape digits", got[0])
		}
	})
	t.Run("chosen while it plays", func(t *testing.T) {
		c := w.run(fromAlice(alicePIN+"#", "8", "9"))
		w.checkEnd(c, ivr.ResultCompleted, ivr.EndCompleted)
		want := []string{"vm-password", "ivr/main-menu", "pm-invalid-option", "vm-goodbye"}
		if !slices.Equal(c.prompts(), want) {
			t.Errorf("heard %v\nwant  %v: one key is the whole choice, no GET DATA", c.prompts(), want)
		}
		c.sent(t)
		menu := c.menuSteps()
		if !slices.Equal(menu, []string{"invalid:8", "valid:9"}) {
			t.Errorf("menu steps %v, want the 8 refused and the 9 typed during the prompt chosen", menu)
		}
	})
	t.Run("# while it plays", func(t *testing.T) {
		c := w.run(fromAlice(alicePIN+"#", "8", "#", "", "9"))
		w.checkEnd(c, ivr.ResultCompleted, ivr.EndCompleted)
		c.sent(t)
		menu := c.menuSteps()
		// '#' ends the input empty, as GET DATA reports a lone '#': no
		// option, so the invalid prompt again.
		if !slices.Equal(menu, []string{"invalid:8", "invalid:#", "valid:9"}) {
			t.Errorf("menu steps %v", menu)
		}
		want := []string{"vm-password", "ivr/main-menu", "pm-invalid-option", "pm-invalid-option", "ivr/main-menu", "vm-goodbye"}
		if !slices.Equal(c.prompts(), want) {
			t.Errorf("heard %v\nwant  %v", c.prompts(), want)
		}
	})
}

func TestSurveyAnsweredDuringIntro(t *testing.T) {
	t.Parallel()
	w := newWorld(t, ivr.Config{}, nil)
	// 4 during the intro answers the score question; 1 during "invalid"
	// starts the recommendation, 0 follows it.
	c := w.run(fromAlice(alicePIN+"#", "2", "4", "12#", "10", "", "9"))
	w.checkEnd(c, ivr.ResultCompleted, ivr.EndCompleted)
	want := []string{"vm-password", "ivr/main-menu", "ivr/survey-intro", "ivr/q-recommend", "pm-invalid-option",
		"ivr/survey-thanks", "ivr/main-menu", "vm-goodbye"}
	if !slices.Equal(c.prompts(), want) {
		t.Errorf("heard %v\nwant  %v", c.prompts(), want)
	}
	lines := c.sent(t)
	if got := inputsAfter(lines, "STREAM FILE ivr/survey-intro", "GET DATA ivr/q-recommend"); !slices.Equal(got, []string{"STREAM FILE ivr/survey-intro 12345#"}) {
		t.Errorf("sent %q, want the intro with the score's keys and no GET DATA for one key", got)
	}
	if got := inputsAfter(lines, "STREAM FILE pm-invalid-option", "STREAM FILE ivr/survey-thanks"); !slices.Equal(got, []string{"STREAM FILE pm-invalid-option 0123456789#", `GET DATA "" 6000 1`}) {
		t.Errorf("sent %q, want the rest of the number collected without a prompt", got)
	}
	if got := w.responses(t, c); !slices.Equal(got, []string{"score=4", "recommend=10"}) {
		t.Errorf("survey responses %v", got)
	}
	if c.hasStep(ivr.StepPrompt, "ivr/q-score", ivr.OutcomeValid) {
		t.Errorf("journal %v: the skipped question prompt is journaled", c.stepKeys())
	}
	if !c.hasStep(ivr.StepPrompt, "ivr/survey-intro", ivr.OutcomeValid) || !c.hasStep(ivr.StepSurvey, "survey:sat:score", ivr.OutcomeValid) {
		t.Errorf("journal %v", c.stepKeys())
	}
}
