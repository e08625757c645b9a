package agiclient_test

import (
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
)

// TestTranscript plays a short call and reads it back through the
// Transcript's methods and its rendering for people.
func TestTranscript(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := dial(t, agiclient.Call{Script: "ivr/main", Env: map[string]string{"agi_callerid": "+15551230001"},
			Keys: []string{"1234#", agiclient.Hangup}, Faults: []agiclient.Fault{{Step: 6, Kind: agiclient.Reply510}}})
		time.Sleep(time.Second)
		for _, cmd := range []string{"ANSWER", `STREAM FILE welcome&enter-account ""`, "GET DATA enter-account 3000 4", `SET VARIABLE ACCOUNT 1234`,
			"SAY DIGITS 1234 \"\"", "NOOP", "RECORD FILE /tmp/msg wav # 10000", "STREAM FILE bye #"} {
			s.do(cmd)
		}
		tr := s.end()
		if want := []string{"ANSWER", "STREAM FILE", "GET DATA", "SET VARIABLE", "SAY DIGITS", "NOOP", "RECORD FILE", "STREAM FILE"}; !slices.Equal(tr.Commands(), want) {
			t.Errorf("Commands() = %q, want %q", tr.Commands(), want)
		}
		if got := tr.Lines(); got[1] != `STREAM FILE welcome&enter-account ""` || len(got) != 8 {
			t.Errorf("Lines() = %q", got)
		}
		// The file named "welcome&enter-account" does not exist: it is not
		// played, and Asterisk logs why.
		if st := tr.Steps[1]; st.Reply != "200 result=-1 endpos=0\n" ||
			st.Warning != "File welcome&enter-account does not exist in any format" {
			t.Errorf("STREAM FILE of a & list: %+v", st)
		}
		if want := []string{"enter-account", "SAY DIGITS 1234", "bye"}; !slices.Equal(tr.Prompts(), want) {
			t.Errorf("Prompts() = %q, want %q", tr.Prompts(), want)
		}
		if tr.EnvValue("agi_callerid") != "+15551230001" || tr.EnvValue("agi_nothere") != "" {
			t.Errorf("EnvValue: %q %q", tr.EnvValue("agi_callerid"), tr.EnvValue("agi_nothere"))
		}
		if st := tr.Steps[2]; st.Keys != "1234#" || st.Reply != "200 result=1234\n" || st.Wait != 0 ||
			st.Replied.Before(st.Received) || tr.Steps[0].Wait != time.Second {
			t.Errorf("GET DATA step: %+v", st)
		}
		if st := tr.Steps[7]; !st.Hangup || st.Reply != "200 result=-1 endpos=0\n" {
			t.Errorf("the step the caller hung up in: %+v", st)
		}
		if !tr.End.After(tr.Start) || tr.End.Sub(tr.Start) != time.Second {
			t.Errorf("start %v, end %v", tr.Start, tr.End)
		}
		want := `call ` + tr.EnvValue("agi_uniqueid") + `  script "ivr/main"  from +15551230001
      1s  ANSWER
      1s  plays welcome&enter-account
          WARNING: File welcome&enter-account does not exist in any format
      1s  plays enter-account and waits for keys  -> caller presses 1234#
      1s  sets ACCOUNT = "1234"
      1s  say digits 1234
      1s  NOOP  [510 Invalid or unknown command]
      1s  records /tmp/msg.wav
      1s  plays bye  -> caller hangs up
ended: caller hung up
`
		if got := tr.String(); got != want {
			t.Errorf("String():\n%s\nwant\n%s", got, want)
		}
	})
}

func TestTranscriptEndings(t *testing.T) {
	for _, tt := range []struct {
		tr   agiclient.Transcript
		want string
	}{
		{agiclient.Transcript{Failure: true, CallerHungUp: true}, "ended: AGISTATUS=FAILURE"},
		{agiclient.Transcript{ServerHungUp: true}, "ended: server hung up"},
		{agiclient.Transcript{}, "ended: back to the dialplan"},
	} {
		if got := tt.tr.String(); !strings.HasSuffix(got, tt.want+"\n") {
			t.Errorf("%+v renders as %q, want it to end with %q", tt.tr, got, tt.want)
		}
	}
}
