package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/prompts"
)

// callFlags are the settings of one simulated call, shared by ivr call and
// ivr bench.
type callFlags struct {
	addr        string
	routes      multiFlag
	caller      string
	callerName  string
	dnid        string
	language    string
	uniqueid    string
	keys        multiFlag
	vars        multiFlag
	records     multiFlag
	args        multiFlag
	hangupAfter time.Duration
	soundsDirs  dirList
}

// stockSoundsDirs are where Asterisk's sounds directory usually is: its own
// default (astdatadir /var/lib/asterisk) and Debian's packages.
var stockSoundsDirs = []string{"/var/lib/asterisk/sounds", "/usr/share/asterisk/sounds"}

// multiFlag is a flag that may be given many times.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func (c *callFlags) register(fs *cmdFlags) {
	fs.StringVar(&c.addr, "addr", "127.0.0.1:4573", "host:port of the FastAGI server")
	fs.Var(&c.routes, "route", "the script after agi://host/, with its query: ivr, ivr?menu=main, lookup (default ivr); given again, the next AGI() on the same channel")
	fs.StringVar(&c.caller, "caller", "", "the caller ID number (agi_callerid); empty is a withheld number")
	fs.StringVar(&c.callerName, "caller-name", "", "the caller ID name (agi_calleridname)")
	fs.StringVar(&c.dnid, "dnid", "", "the number dialled (agi_dnid): without ?menu=, the ivr route starts at its entry (ivr numbers)")
	fs.StringVar(&c.language, "language", "en", "the channel language (agi_language)")
	fs.StringVar(&c.uniqueid, "uniqueid", "", "the channel's uniqueid (agi_uniqueid); default a new one from the clock")
	fs.Var(&c.keys, "press", `keys for the next input, once per input in order: "1234", "" for silence, "!" to hang up`)
	fs.Var(&c.vars, "var", "NAME=VALUE a GET VARIABLE finds, such as CHANNEL(linkedid)=1700000000.9 (repeatable)")
	fs.Var(&c.records, "record-result", `outcome of the next RECORD FILE: REASON[:DURATION[:KEY]], e.g. dtmf:4s:#, timeout:0s, hangup:2s, writefile (repeatable)`)
	fs.Var(&c.args, "arg", "an AGI() argument after the URL (agi_arg_N, repeatable)")
	fs.DurationVar(&c.hangupAfter, "hangup-after", 0, "hang up this long after the call starts (0: never)")
	fs.Var(&c.soundsDirs, "sounds-dir", `an Asterisk sounds directory (<dir>/<lang>/<name>.<ext>, <dir>/<name>.<ext>) holding the prompts that exist, repeatable; "none" lets every prompt exist (several separated by `+"`"+string(filepath.ListSeparator)+"`"+`; default Asterisk's own sounds directory when one is found)`)
	// The names other pages of the project use for the same settings.
	fs.Var(&c.routes, "script", "the same as --route")
	fs.StringVar(&c.caller, "callerid", "", "the same as --caller")
	fs.Var(&c.keys, "keys", "the same as --press")
}

// scripts returns the routes given, "ivr" when none was.
func (c *callFlags) scripts() []string {
	if len(c.routes) == 0 {
		return []string{"ivr"}
	}
	out := make([]string, len(c.routes))
	for i, r := range c.routes {
		out[i] = strings.TrimPrefix(r, "/")
	}
	return out
}

// sounds returns the sounds the flags name: the --sounds-dir directories, or
// else those of IVR_CALL_SOUNDS_DIR, or else the first stock sounds directory
// that exists; nil (every prompt exists) for "none" or when none is found.
// The directories it scanned are returned too.
func (c *callFlags) sounds() (*agiclient.Sounds, []string, error) {
	dirs := []string(c.soundsDirs)
	if len(dirs) == 0 {
		for _, d := range stockSoundsDirs {
			if fi, err := os.Stat(filepath.Join(d, "en")); err == nil && fi.IsDir() {
				dirs = []string{d}
				break
			}
		}
	}
	if len(dirs) == 0 || slices.Contains(dirs, "none") {
		if len(dirs) > 1 {
			return nil, nil, usageError{`--sounds-dir none cannot be given with a directory`}
		}
		return nil, nil, nil
	}
	s, err := agiclient.ScanSounds(dirs...)
	if err != nil {
		return nil, nil, usageError{"--sounds-dir: " + err.Error()}
	}
	return s, dirs, nil
}

// call builds the agiclient.Call the flags describe, for the first route.
func (c *callFlags) call() (agiclient.Call, error) {
	sounds, _, err := c.sounds()
	if err != nil {
		return agiclient.Call{}, err
	}
	call := agiclient.Call{
		Script:      c.scripts()[0],
		Sounds:      sounds,
		Args:        c.args,
		Keys:        c.keys,
		HangupAfter: c.hangupAfter,
		Env:         map[string]string{"agi_language": c.language},
		Variables:   map[string]string{},
	}
	// Like Asterisk's "<epoch>.<sequence>"; every route of the call runs on
	// this one channel, with this uniqueid.
	now := time.Now()
	call.Env["agi_uniqueid"] = fmt.Sprintf("%d.%d", now.Unix(), now.Nanosecond()/1000)
	if c.uniqueid != "" {
		call.Env["agi_uniqueid"] = c.uniqueid
	}
	if c.caller != "" {
		call.Env["agi_callerid"] = c.caller
	}
	if c.callerName != "" {
		call.Env["agi_calleridname"] = c.callerName
	}
	if c.dnid != "" {
		call.Env["agi_dnid"] = c.dnid
	}
	for _, v := range c.vars {
		name, value, ok := strings.Cut(v, "=")
		if !ok || name == "" {
			return call, usageError{fmt.Sprintf("--var %q: want NAME=VALUE", v)}
		}
		call.Variables[name] = value
	}
	for _, r := range c.records {
		rec, err := parseRecordResult(r)
		if err != nil {
			return call, err
		}
		call.Records = append(call.Records, rec)
	}
	return call, nil
}

// parseRecordResult reads REASON[:DURATION[:KEY]]; the duration is of audio
// at 8 kHz, the key defaults to # for dtmf.
func parseRecordResult(s string) (agiclient.Record, error) {
	parts := strings.Split(s, ":")
	rec := agiclient.Record{Reason: parts[0]}
	bad := usageError{fmt.Sprintf("--record-result %q: want REASON[:DURATION[:KEY]] with REASON one of dtmf, timeout, hangup, writefile, randomerror, waitfor", s)}
	if !slices.Contains([]string{"dtmf", "timeout", "hangup", "writefile", "randomerror", "waitfor"}, rec.Reason) || len(parts) > 3 {
		return rec, bad
	}
	if len(parts) > 1 {
		d, err := time.ParseDuration(parts[1])
		if err != nil || d < 0 {
			return rec, bad
		}
		rec.EndPos = int64(d / (time.Second / 8000))
	}
	if rec.Reason == "dtmf" {
		rec.Key = '#'
	}
	if len(parts) > 2 {
		if len(parts[2]) != 1 || !strings.Contains("0123456789*#", parts[2]) {
			return rec, bad
		}
		rec.Key = rune(parts[2][0])
	}
	return rec, nil
}

// runCall is `ivr call`: one simulated call, printed as a dialogue.
func runCall(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "call", "", "Place one simulated call against a running server, as Asterisk would, and print it as a dialogue.")
	var cf callFlags
	cf.register(fs)
	interactive := fs.Bool("interactive", false, "ask for the keys on the terminal whenever the server waits for input")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up on a call that lasts longer")
	if _, err := fs.parse(args, 0, 0); err != nil {
		return err
	}
	call, err := cf.call()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	scripts := cf.scripts()
	fmt.Fprintf(e.stdout, "☎ calling agi://%s/%s", cf.addr, scripts[0])
	if cf.caller != "" {
		fmt.Fprintf(e.stdout, " from %s", cf.caller)
	}
	fmt.Fprintln(e.stdout)
	// Each route after the first runs on the same channel; it is announced
	// as it starts when the dialogue is printed as it happens.
	next := func(session int) {
		fmt.Fprintf(e.stdout, "↪ agi://%s/%s on the same channel (uniqueid %s)\n", cf.addr, scripts[session], call.Env["agi_uniqueid"])
	}
	if *interactive {
		session := -1
		stop := make(chan struct{})
		defer close(stop)
		call.Responder = interactiveResponder(e, readLines(e.stdin, stop), func() {
			if session++; session > 0 && session < len(scripts) {
				next(session)
			}
		})
	}
	trs, err := call.RunScripts(ctx, cf.addr, scripts...)
	for i, tr := range trs {
		if *interactive {
			writeWarnings(e.stdout, tr)
		} else {
			if i > 0 {
				next(i)
			}
			writeDialogue(e.stdout, tr)
		}
		writeEnding(e.stdout, tr)
	}
	if err != nil {
		return fmt.Errorf("call %s: %w", cf.addr, err)
	}
	for _, tr := range trs {
		if tr.Failure {
			return errors.New("call: the server ended with FAILURE (the dialplan would see AGISTATUS=FAILURE)")
		}
	}
	return nil
}

// isInput reports whether cmd waits for the caller's keys.
func isInput(cmd agiclient.Command) bool {
	switch cmd.Name {
	case "GET DATA", "WAIT FOR DIGIT", "GET OPTION":
		return true
	}
	return false
}

// readLines reads r line by line into the channel it returns, which is
// closed at the end of r. The reading goroutine ends at the end of r, or with
// the first line after stop is closed (a terminal cannot be read with a
// deadline).
func readLines(r io.Reader, stop <-chan struct{}) <-chan string {
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-stop:
				return
			}
		}
	}()
	return lines
}

// interactiveResponder prints each command as it arrives and asks the person
// at the terminal for the keys of every input. An empty line is silence, "!"
// or the end of input hangs up. The question is dropped when the call ends
// meanwhile (--hangup-after, or the server closing it). newSession is called
// before the first command of each AGI session.
func interactiveResponder(e *env, in <-chan string, newSession func()) func(agiclient.Command) agiclient.Reply {
	return func(cmd agiclient.Command) agiclient.Reply {
		if cmd.Step == 1 {
			newSession()
		}
		if cmd.Dead {
			return agiclient.Reply{}
		}
		fmt.Fprintln(e.stdout, describe(cmd))
		if !isInput(cmd) {
			return agiclient.Reply{}
		}
		fmt.Fprint(e.stdout, "  keys (Enter for silence, ! to hang up)> ")
		var line string
		var ok bool
		select {
		case line, ok = <-in:
		case <-cmd.Done:
			// The call is over: a hangup the channel already knows of,
			// or a server that closed it. Nobody answers.
			fmt.Fprintln(e.stdout)
			return agiclient.Reply{Silence: true}
		}
		if !ok {
			fmt.Fprintln(e.stdout)
			return agiclient.Reply{Hangup: true}
		}
		keys := strings.TrimSpace(line)
		switch {
		case keys == agiclient.Hangup:
			fmt.Fprintln(e.stdout, "✆ caller hangs up")
			return agiclient.Reply{Hangup: true}
		case keys == "":
			fmt.Fprintln(e.stdout, "☎ pressed nothing")
			return agiclient.Reply{Silence: true}
		}
		fmt.Fprintln(e.stdout, "☎ pressed "+keys)
		return agiclient.Reply{Keys: keys}
	}
}

// heard names a sound as the caller hears it: a prompt written as text
// rendered where this command can read it by its words, any other by its
// name.
func heard(sound string) string {
	if words, ok := prompts.Words(sound); ok {
		if r := []rune(words); len(r) > heardWidth {
			words = string(r[:heardWidth]) + "…"
		}
		return strconv.Quote(words)
	}
	return sound
}

// heardWidth is how many characters of a text prompt's words the dialogue
// shows.
const heardWidth = 60

// describe says what a command does, as a person hears it.
func describe(cmd agiclient.Command) string {
	switch cmd.Name {
	case "ANSWER":
		return "☎ answered"
	case "GET DATA":
		if cmd.Arg(0) == "" {
			return "… waits for keys"
		}
		return "▶ " + heard(cmd.Arg(0)) + "  (waits for keys)"
	case "STREAM FILE", "CONTROL STREAM FILE", "GET OPTION":
		// The name as sent: Asterisk plays one file per command, and a
		// name such as "a&b" is a file of that name.
		return "▶ " + heard(cmd.Arg(0))
	case "SAY NUMBER", "SAY DIGITS", "SAY ALPHA", "SAY PHONETIC", "SAY DATE", "SAY TIME", "SAY DATETIME":
		return "▶ " + strings.ToLower(strings.TrimPrefix(cmd.Name, "SAY ")) + " " + cmd.Arg(0)
	case "WAIT FOR DIGIT":
		return "… waits for a key"
	case "RECORD FILE":
		return "● records " + cmd.Arg(0) + "." + cmd.Arg(1)
	case "SET VARIABLE":
		return "= " + cmd.Arg(0) + "=" + cmd.Arg(1)
	case "GET VARIABLE", "GET FULL VARIABLE":
		return "? " + cmd.Arg(0)
	case "HANGUP":
		return "✆ the server hangs up"
	case "VERBOSE":
		return "· verbose: " + cmd.Arg(0)
	case "EXEC":
		return "· exec " + strings.Join(cmd.Args, " ")
	}
	return "· " + cmd.Line
}

// replyValue returns the text in parentheses of a 200 reply ("" when none)
// and its endpos.
func replyValue(reply string) (value string, endpos int64) {
	line, _, _ := strings.Cut(reply, "\n")
	if i := strings.IndexByte(line, '('); i >= 0 {
		if j := strings.LastIndexByte(line, ')'); j > i {
			value = line[i+1 : j]
		}
	}
	if _, after, ok := strings.Cut(line, "endpos="); ok {
		endpos, _ = strconv.ParseInt(strings.Fields(after)[0], 10, 64)
	}
	return value, endpos
}

// writeDialogue prints a finished call step by step: what was played, what
// the caller pressed, what the server read and set.
func writeDialogue(w io.Writer, tr *agiclient.Transcript) {
	for _, s := range tr.Steps {
		cmd := s.Command
		line := describe(cmd)
		value, endpos := replyValue(s.Reply)
		reply := strings.TrimSpace(s.Reply)
		switch {
		case cmd.Name == "GET VARIABLE" || cmd.Name == "GET FULL VARIABLE":
			if strings.HasPrefix(reply, "200 result=1") {
				line += " → " + value
			} else {
				line += " → (not set)"
			}
		case cmd.Name == "RECORD FILE" && value != "":
			line += fmt.Sprintf(" → %s after %s", value, (time.Duration(endpos) * time.Second / 8000).Round(10*time.Millisecond))
		}
		switch {
		case cmd.Dead && strings.HasPrefix(reply, "511 "):
			// What Asterisk answers every such command after a hangup:
			// the channel is gone, nothing went wrong.
			line += "  (the channel is gone)"
		case reply != "" && !strings.HasPrefix(reply, "200 "):
			line += "  [" + strings.SplitN(reply, "\n", 2)[0] + "]"
		}
		fmt.Fprintln(w, line)
		if s.Warning != "" {
			fmt.Fprintln(w, "⚠ WARNING file.c: "+s.Warning)
		}
		switch {
		case s.Warning != "":
			// Asterisk gave up before the caller could press anything.
		case s.Hangup:
			fmt.Fprintln(w, "✆ caller hangs up")
		case s.Keys != "":
			fmt.Fprintln(w, "☎ pressed "+s.Keys)
		case isInput(cmd) && !cmd.Dead && strings.HasPrefix(reply, "200 "):
			fmt.Fprintln(w, "☎ pressed nothing")
		}
	}
}

// writeWarnings prints what Asterisk would have logged for the commands of a
// call, with the command; the interactive dialogue, printed as the commands
// arrive, cannot show it in place.
func writeWarnings(w io.Writer, tr *agiclient.Transcript) {
	for _, s := range tr.Steps {
		if s.Warning != "" {
			fmt.Fprintf(w, "⚠ WARNING file.c: %s (%s)\n", s.Warning, s.Command.Line)
		}
	}
}

// writeEnding prints how the call ended and the IVR_* variables the dialplan
// got back.
func writeEnding(w io.Writer, tr *agiclient.Transcript) {
	var names []string
	for k := range tr.Variables {
		if strings.HasPrefix(k, "IVR_") {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	switch {
	case tr.Failure:
		fmt.Fprintln(w, "— ended with AGISTATUS=FAILURE")
	case tr.CallerHungUp:
		fmt.Fprintln(w, "— the caller hung up")
	case tr.ServerHungUp:
		fmt.Fprintln(w, "— the server hung up")
	default:
		fmt.Fprintln(w, "— back to the dialplan")
	}
	for _, k := range names {
		fmt.Fprintf(w, "%s=%s\n", k, tr.Variables[k])
	}
	if !tr.End.IsZero() {
		fmt.Fprintf(w, "(%d commands in %s)\n", len(tr.Steps), tr.End.Sub(tr.Start).Round(time.Millisecond))
	}
}
