package agiclient

import (
	"fmt"
	"strings"
	"time"
)

// A Transcript records one call: the environment sent and every command with
// its reply and timing. Run returns it; it is not modified afterwards.
type Transcript struct {
	Env          []EnvVar          // the environment block sent, in order
	Steps        []Step            // every command received, in order
	Variables    map[string]string // channel variables the server set (SET VARIABLE), last value wins
	HangupLines  int               // HANGUP lines sent, the last one after the server ended included
	CallerHungUp bool              // the caller hung up (script, step, timer or fault)
	ServerHungUp bool              // the server sent the HANGUP command
	Failure      bool              // the server sent a "FAILURE" line (AGISTATUS=FAILURE)
	Start, End   time.Time         // connection and end of the call
}

// A Step is one command and what was sent back.
type Step struct {
	Command  Command
	Reply    string        // the lines sent back, "" when none
	Keys     string        // the keys the caller typed for it
	Hangup   bool          // the caller hung up during it
	Warning  string        // what Asterisk logs for it, such as "File x does not exist in any format"; "" when nothing
	Received time.Time     // when the command arrived
	Replied  time.Time     // when the reply was written; zero when none was
	Wait     time.Duration // from the previous reply (or the environment) to this command: the server's time
}

// Commands returns the command names in order ("ANSWER", "GET DATA" ...).
func (t *Transcript) Commands() []string {
	out := make([]string, len(t.Steps))
	for i, s := range t.Steps {
		out[i] = s.Command.Name
	}
	return out
}

// Lines returns the command lines as the server sent them.
func (t *Transcript) Lines() []string {
	out := make([]string, len(t.Steps))
	for i, s := range t.Steps {
		out[i] = s.Command.Line
	}
	return out
}

// Prompts returns the sound files and texts played, in order: the file of
// GET DATA, STREAM FILE, GET OPTION and CONTROL STREAM FILE as the command
// named it, and the text of the SAY commands as "SAY DIGITS 123". A file that
// could not be played (Step.Warning) and the empty prompt of a GET DATA that
// only reads digits are left out.
func (t *Transcript) Prompts() []string {
	var out []string
	for _, s := range t.Steps {
		switch n := s.Command.Name; n {
		case "GET DATA", "STREAM FILE", "GET OPTION", "CONTROL STREAM FILE":
			if f := s.Command.Arg(0); f != "" && s.Warning == "" {
				out = append(out, f)
			}
		case "SAY ALPHA", "SAY DIGITS", "SAY NUMBER", "SAY PHONETIC", "SAY DATE", "SAY TIME", "SAY DATETIME":
			out = append(out, n+" "+s.Command.Arg(0))
		}
	}
	return out
}

// Env returns the value of an environment key that was sent.
func (t *Transcript) EnvValue(key string) string {
	for _, e := range t.Env {
		if e.Key == key {
			return e.Value
		}
	}
	return ""
}

// String renders the call as a person reads it: prompts played, keys
// pressed, variables set, hangups, and how it ended.
func (t *Transcript) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "call %s  script %q", t.EnvValue("agi_uniqueid"), t.EnvValue("agi_network_script"))
	if c := t.EnvValue("agi_callerid"); c != "" && c != "unknown" {
		fmt.Fprintf(&b, "  from %s", c)
	}
	b.WriteString("\n")
	for _, s := range t.Steps {
		at := s.Received.Sub(t.Start).Round(time.Millisecond)
		c := s.Command
		fmt.Fprintf(&b, "%8v  ", at)
		switch c.Name {
		case "GET DATA":
			fmt.Fprintf(&b, "plays %s and waits for keys", c.Arg(0))
		case "STREAM FILE", "CONTROL STREAM FILE", "GET OPTION":
			fmt.Fprintf(&b, "plays %s", c.Arg(0))
		case "SAY ALPHA", "SAY DIGITS", "SAY NUMBER", "SAY PHONETIC", "SAY DATE", "SAY TIME", "SAY DATETIME":
			fmt.Fprintf(&b, "%s %s", strings.ToLower(c.Name), c.Arg(0))
		case "WAIT FOR DIGIT":
			b.WriteString("waits for a key")
		case "RECORD FILE":
			fmt.Fprintf(&b, "records %s.%s", c.Arg(0), c.Arg(1))
		case "SET VARIABLE":
			fmt.Fprintf(&b, "sets %s = %q", c.Arg(0), c.Arg(1))
		default:
			b.WriteString(c.Line)
		}
		switch {
		case s.Hangup:
			b.WriteString("  -> caller hangs up")
		case s.Keys != "":
			fmt.Fprintf(&b, "  -> caller presses %s", s.Keys)
		}
		if r := strings.TrimSpace(s.Reply); r != "" && !strings.HasPrefix(r, "200 ") {
			fmt.Fprintf(&b, "  [%s]", strings.SplitN(r, "\n", 2)[0])
		}
		b.WriteString("\n")
		if s.Warning != "" {
			fmt.Fprintf(&b, "          WARNING: %s\n", s.Warning)
		}
	}
	switch {
	case t.Failure:
		b.WriteString("ended: AGISTATUS=FAILURE\n")
	case t.CallerHungUp:
		b.WriteString("ended: caller hung up\n")
	case t.ServerHungUp:
		b.WriteString("ended: server hung up\n")
	default:
		b.WriteString("ended: back to the dialplan\n")
	}
	return b.String()
}
