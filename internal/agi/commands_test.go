package agi_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ivrhq/ivr/internal/agi"
	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/agi/agitest"
)

// The replies below are those Asterisk 22.10.1 gave to the same command lines
// (res_agi.c's handle_* functions print them); the 520 usage text is cut to
// one line.
const (
	reply511 = "511 Command Not Permitted on a dead channel or intercept routine\n"
	reply520 = "520-Invalid command syntax.  Proper usage follows:\n" +
		"Say a given digit string, returning early if any of the given DTMF digits are received on the channel.\n" +
		"520 End of proper usage.\n"
	channelUp = "200 result=6\n" // CHANNEL STATUS of a live channel
)

// A replyForm is one way Asterisk answers a command: the reply to it, then
// the replies to any probe the session sends because of it (CHANNEL STATUS
// after a result=-1 of a playing command), and what the method returns.
type replyForm struct {
	name    string
	replies []string
	want    string
}

func ok(reply, want string) replyForm { return replyForm{"success", []string{reply}, want} }

// deadForm is the 511 of every command Asterisk refuses on a hung-up channel.
var deadForm = replyForm{"511 on a dead channel", []string{reply511}, "command error 511 (hangup=true)"}

// playHangup is result=-1 of a playing command on a channel that hung up
// (AGISIGHUP=no, so no HANGUP line): the CHANNEL STATUS probe gets 511.
func playHangup(reply string) replyForm {
	return replyForm{"-1 after a hangup", []string{reply, reply511}, "hangup"}
}

// playMissing is result=-1 of a playing command on a live channel: the sound
// could not be played.
func playMissing(reply, prompt string) replyForm {
	return replyForm{"-1 on a live channel", []string{reply, channelUp}, "prompt error " + prompt}
}

// A commandCase is one Session method called one way, the line Asterisk must
// receive for it, and its outcome for each reply form.
type commandCase struct {
	name  string
	line  string
	run   func(ctx context.Context, s *agi.Session) string
	forms []replyForm
}

var noon = time.Unix(1700000000, 0)

var commandCases = []commandCase{
	{name: "Answer", line: "ANSWER",
		run:   func(ctx context.Context, s *agi.Session) string { return outcome(nil, s.Answer(ctx)) },
		forms: []replyForm{ok("200 result=0\n", "ok"), {"-1", []string{"200 result=-1\n"}, "hangup"}, deadForm}},
	{name: "Hangup", line: "HANGUP",
		run:   func(ctx context.Context, s *agi.Session) string { return outcome(nil, s.Hangup(ctx)) },
		forms: []replyForm{ok("200 result=1\n", "ok"), deadForm}},
	{name: "StreamFile", line: "STREAM FILE welcome 12",
		run: func(ctx context.Context, s *agi.Session) string { return outcome(s.StreamFile(ctx, "welcome", "12")) },
		forms: []replyForm{ok("200 result=0 endpos=27200\n", "key '\\x00' endpos 27200"),
			{"interrupted", []string{"200 result=50 endpos=4000\n"}, "key '2' endpos 4000"},
			playMissing("200 result=-1 endpos=0\n", "welcome"), playHangup("200 result=-1 endpos=0\n"), deadForm}},
	{name: "GetOption", line: "GET OPTION beep 12 100",
		run: func(ctx context.Context, s *agi.Session) string {
			return outcome(s.GetOption(ctx, "beep", "12", 100*time.Millisecond))
		},
		forms: []replyForm{ok("200 result=0 endpos=3404\n", "key '\\x00' endpos 3404"),
			{"key after the file", []string{"200 result=50 endpos=3404\n"}, "key '2' endpos 3404"},
			playMissing("200 result=-1 endpos=0\n", "beep"), playHangup("200 result=-1 endpos=0\n"), deadForm}},
	{name: "GetOption default timeout", line: "GET OPTION beep 12",
		run:   func(ctx context.Context, s *agi.Session) string { return outcome(s.GetOption(ctx, "beep", "12", 0)) },
		forms: []replyForm{ok("200 result=49 endpos=1200\n", "key '1' endpos 1200")}},
	{name: "ControlStreamFile defaults", line: "CONTROL STREAM FILE vm-message #",
		run: func(ctx context.Context, s *agi.Session) string {
			return outcome(s.ControlStreamFile(ctx, agi.ControlStreamOptions{File: "vm-message", EscapeDigits: "#"}))
		},
		forms: []replyForm{ok("200 result=0 endpos=-1\n", "{Key:0 AtEnd:true Offset:0s}"),
			playMissing("200 result=-1 endpos=-1\n", "vm-message"), playHangup("200 result=-1 endpos=-1\n"), deadForm}},
	{name: "ControlStreamFile pause and offset", line: `CONTROL STREAM FILE vm-message 1 3000 # * 5 2500`,
		run: func(ctx context.Context, s *agi.Session) string {
			o := agi.ControlStreamOptions{File: "vm-message", EscapeDigits: "1", Pause: "5", Offset: 2500 * time.Millisecond}
			return outcome(s.ControlStreamFile(ctx, o))
		},
		forms: []replyForm{{"stopped by a key", []string{"200 result=49 endpos=4834\n"}, "{Key:49 AtEnd:false Offset:4.834s}"}}},
	{name: "ControlStreamFile offset only", line: `CONTROL STREAM FILE vm-message "" 3000 # * "" 100`,
		run: func(ctx context.Context, s *agi.Session) string {
			return outcome(s.ControlStreamFile(ctx, agi.ControlStreamOptions{File: "vm-message", Offset: 100 * time.Millisecond}))
		},
		forms: []replyForm{ok("200 result=0 endpos=-1\n", "{Key:0 AtEnd:true Offset:0s}")}},
	{name: "WaitForDigit", line: "WAIT FOR DIGIT 2000",
		run: func(ctx context.Context, s *agi.Session) string { return outcome(s.WaitForDigit(ctx, 2*time.Second)) },
		forms: []replyForm{ok("200 result=0\n", "key '\\x00'"), {"key", []string{"200 result=42\n"}, "key '*'"},
			{"-1", []string{"200 result=-1\n"}, "hangup"}, deadForm}},
	{name: "ChannelStatus", line: "CHANNEL STATUS",
		run:   func(ctx context.Context, s *agi.Session) string { return outcome(s.ChannelStatus(ctx)) },
		forms: []replyForm{ok("200 result=6\n", "up"), deadForm}},

	{name: "SayDigits", line: "SAY DIGITS 0123 #",
		run: func(ctx context.Context, s *agi.Session) string { return outcome(s.SayDigits(ctx, "0123", "#")) },
		forms: []replyForm{ok("200 result=0\n", "key '\\x00' endpos 0"),
			{"interrupted", []string{"200 result=35\n"}, "key '#' endpos 0"},
			playMissing("200 result=-1\n", "0123"), playHangup("200 result=-1\n"), deadForm}},
	{name: "SayDigits not starting with a number", line: "SAY DIGITS *1 #",
		run:   func(ctx context.Context, s *agi.Session) string { return outcome(s.SayDigits(ctx, "*1", "#")) },
		forms: []replyForm{{"520", []string{reply520}, "command error 520 (hangup=false)"}}},
	{name: "SayNumber", line: `SAY NUMBER 42 ""`,
		run: func(ctx context.Context, s *agi.Session) string { return outcome(s.SayNumber(ctx, 42, "")) },
		forms: []replyForm{ok("200 result=0\n", "key '\\x00' endpos 0"),
			playMissing("200 result=-1\n", "42"), playHangup("200 result=-1\n"), deadForm}},
	{name: "SayAlpha", line: "SAY ALPHA AB12 0123456789",
		run: func(ctx context.Context, s *agi.Session) string {
			return outcome(s.SayAlpha(ctx, "AB12", "0123456789"))
		},
		forms: []replyForm{ok("200 result=0\n", "key '\\x00' endpos 0"),
			{"interrupted", []string{"200 result=57\n"}, "key '9' endpos 0"}, playHangup("200 result=-1\n"), deadForm}},
	{name: "SayDate", line: "SAY DATE 1700000000 #",
		run:   func(ctx context.Context, s *agi.Session) string { return outcome(s.SayDate(ctx, noon, "#")) },
		forms: []replyForm{ok("200 result=0\n", "key '\\x00' endpos 0"), playHangup("200 result=-1\n"), deadForm}},
	{name: "SayTime", line: "SAY TIME 1700000000 #",
		run: func(ctx context.Context, s *agi.Session) string { return outcome(s.SayTime(ctx, noon, "#")) },
		forms: []replyForm{ok("200 result=0\n", "key '\\x00' endpos 0"),
			{"interrupted", []string{"200 result=35\n"}, "key '#' endpos 0"}, deadForm}},
	{name: "SayDateTime", line: "SAY DATETIME 1700000000 #",
		run: func(ctx context.Context, s *agi.Session) string {
			return outcome(s.SayDateTime(ctx, noon, "#", "", ""))
		},
		forms: []replyForm{ok("200 result=0\n", "key '\\x00' endpos 0"), playHangup("200 result=-1\n"), deadForm}},
	{name: "SayDateTime format", line: "SAY DATETIME 1700000000 # IMp",
		run: func(ctx context.Context, s *agi.Session) string {
			return outcome(s.SayDateTime(ctx, noon, "#", "IMp", ""))
		},
		forms: []replyForm{ok("200 result=0\n", "key '\\x00' endpos 0")}},
	{name: "SayDateTime zone without format", line: `SAY DATETIME 1700000000 "" "ABdY 'digits/at' IMp" Europe/Paris`,
		run: func(ctx context.Context, s *agi.Session) string {
			return outcome(s.SayDateTime(ctx, noon, "", "", "Europe/Paris"))
		},
		forms: []replyForm{ok("200 result=0\n", "key '\\x00' endpos 0")}},

	{name: "DatabaseDelTree", line: "DATABASE DELTREE caller",
		run: func(ctx context.Context, s *agi.Session) string {
			return outcome(s.DatabaseDelTree(ctx, "caller", ""))
		},
		forms: []replyForm{{"keys deleted", []string{"200 result=0\n"}, "true"}, {"nothing to delete", []string{"200 result=1\n"}, "false"}}},
	{name: "DatabaseDelTree keytree", line: `DATABASE DELTREE caller "100/last call"`,
		run: func(ctx context.Context, s *agi.Session) string {
			return outcome(s.DatabaseDelTree(ctx, "caller", "100/last call"))
		},
		forms: []replyForm{{"keys deleted", []string{"200 result=0\n"}, "true"}}},

	{name: "SetAutoHangup", line: "SET AUTOHANGUP 90",
		run: func(ctx context.Context, s *agi.Session) string {
			return outcome(nil, s.SetAutoHangup(ctx, 90*time.Second+500*time.Millisecond))
		},
		forms: []replyForm{ok("200 result=0\n", "ok"), deadForm}},
	{name: "SetAutoHangup cancel", line: "SET AUTOHANGUP 0",
		run:   func(ctx context.Context, s *agi.Session) string { return outcome(nil, s.SetAutoHangup(ctx, 0)) },
		forms: []replyForm{ok("200 result=0\n", "ok")}},
	{name: "SetCallerID", line: `SET CALLERID "Alice <100>"`,
		run: func(ctx context.Context, s *agi.Session) string {
			return outcome(nil, s.SetCallerID(ctx, "Alice <100>"))
		},
		forms: []replyForm{ok("200 result=1\n", "ok"), deadForm}},
	{name: "SetMusic on", line: "SET MUSIC on",
		run:   func(ctx context.Context, s *agi.Session) string { return outcome(nil, s.SetMusic(ctx, true, "")) },
		forms: []replyForm{ok("200 result=0\n", "ok"), deadForm}},
	{name: "SetMusic class", line: "SET MUSIC on jazz",
		run:   func(ctx context.Context, s *agi.Session) string { return outcome(nil, s.SetMusic(ctx, true, "jazz")) },
		forms: []replyForm{ok("200 result=0\n", "ok")}},
	{name: "SetMusic off", line: "SET MUSIC off",
		run:   func(ctx context.Context, s *agi.Session) string { return outcome(nil, s.SetMusic(ctx, false, "")) },
		forms: []replyForm{ok("200 result=0\n", "ok")}},
	{name: "SetPriority", line: "SET PRIORITY retry",
		run: func(ctx context.Context, s *agi.Session) string { return outcome(nil, s.SetPriority(ctx, "retry")) },
		forms: []replyForm{ok("200 result=0\n", "ok"),
			{"520 for a label the extension lacks", []string{reply520}, "command error 520 (hangup=false)"}, deadForm}},
}

// TestCommandReplies calls each Session method against a fake Asterisk that
// gives Asterisk's replies, and checks the line it sent and what it returned.
func TestCommandReplies(t *testing.T) {
	for _, tc := range commandCases {
		for _, f := range tc.forms {
			t.Run(tc.name+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				got := make(chan string, 1)
				srv := agitest.NewServer(agi.HandlerFunc(func(s *agi.Session, r *agi.Request) {
					ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
					defer cancel()
					got <- tc.run(ctx, s)
				}))
				defer srv.Close()
				tr := srv.Run(t, agiclient.Call{NoHangupLines: true, Responder: func(c agiclient.Command) agiclient.Reply {
					if c.Step <= len(f.replies) {
						return agiclient.Reply{Raw: f.replies[c.Step-1]}
					}
					return agiclient.Reply{}
				}})
				if out := <-got; out != f.want {
					t.Errorf("returned %q, want %q\ntranscript:\n%s", out, f.want, tr)
				}
				if len(tr.Steps) == 0 || tr.Steps[0].Command.Line != tc.line {
					t.Errorf("lines sent %q, want first %q", tr.Lines(), tc.line)
				}
				if len(tr.Steps) != len(f.replies) {
					t.Errorf("%d commands sent %q, want %d", len(tr.Steps), tr.Lines(), len(f.replies))
				}
			})
		}
	}
}

// TestChannelStateString names the states CHANNEL STATUS returns.
func TestChannelStateString(t *testing.T) {
	got := fmt.Sprint(agi.ChannelDown, agi.ChannelUp, agi.ChannelState(9))
	if want := "down up state(9)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestDatabaseDelTreeScripted runs DatabaseDelTree against the scripted
// channel of agiclient, which must answer as Asterisk does.
func TestDatabaseDelTreeScripted(t *testing.T) {
	got := make(chan []string, 1)
	srv := agitest.NewServer(agi.HandlerFunc(func(s *agi.Session, r *agi.Request) {
		ctx := r.Context()
		put := s.DatabasePut(ctx, "caller", "100/last", "today")
		first, err := s.DatabaseDelTree(ctx, "caller", "100")
		second, err2 := s.DatabaseDelTree(ctx, "caller", "100")
		got <- []string{outcome(nil, put), outcome(first, err), outcome(second, err2)}
	}))
	defer srv.Close()
	srv.Run(t, agiclient.Call{})
	if out, want := <-got, []string{"ok", "true", "false"}; !slices.Equal(out, want) {
		t.Errorf("got %q, want %q", out, want)
	}
}
