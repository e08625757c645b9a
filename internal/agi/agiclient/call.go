// Package agiclient plays Asterisk's side of FastAGI: it dials a server, sends
// the environment exactly as Asterisk 22 does, and answers every command the
// way a channel would, from a script of keys the caller presses, recording
// outcomes and channel variables, or from a Responder function that decides
// each answer (an interactive simulator asks a person). It can hang up at a
// step or after a time, honour AGISIGHUP=no and AGIEXITONHANGUP=yes, and inject
// protocol faults. Every exchange is kept in a Transcript. A Listener serves
// calls to a server in the same process over in-memory connections.
//
// It is used by the agi tests, the call simulator, the load generator and
// the report data generator, and it does not import package agi, so both can
// test each other.
package agiclient

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Hangup, as an entry of Call.Keys, makes the caller hang up at that input.
const Hangup = "!"

// A Call describes one simulated call. The zero value is a call to the script
// "" that answers every command as a live channel would, with no keys pressed.
// A Call can be run many times, also concurrently; Run does not modify it.
type Call struct {
	// Script is the path and query after agi://host/, such as "ivr/main?lang=es".
	Script string
	// Args are the AGI() arguments after the URL (agi_arg_1 ...).
	Args []string
	// Env sets environment values over the defaults, by key ("agi_callerid").
	// Keys Asterisk does not send are added after agi_threadid, sorted.
	Env map[string]string

	// Keys are what the caller types at each input, in order: GET DATA, WAIT
	// FOR DIGIT, GET OPTION, and STREAM FILE, CONTROL STREAM FILE or SAY with
	// escape digits. "1234#" is four digits then '#', "12" is two digits then
	// silence (a timeout unless maxdigits is reached), "" is silence, and
	// Hangup hangs up. When the keys run out the caller is silent. A key
	// that interrupts a playing command (one of its escape digits) is its
	// result, and the keys typed after it go to the next input, as for a
	// caller who barges in and types on: "1234" at a STREAM FILE with escape
	// digits "0123456789#" answers '1' and leaves "234" for the GET DATA.
	Keys []string
	// Records are the outcomes of RECORD FILE in order; when they run out a
	// recording ends by timeout after 2 seconds of audio.
	Records []Record
	// Variables are the channel variables GET VARIABLE finds before any SET
	// VARIABLE; CHANNEL(linkedid) defaults to the uniqueid.
	Variables map[string]string
	// Sounds, when set, are the sound files that exist: playing any other
	// answers result=-1, as Asterisk does for a file it cannot find in any
	// format. Nil means every file exists but MissingFiles. Either way a file
	// name holding "&" is missing: Asterisk plays one file per command.
	Sounds *Sounds
	// MissingFiles are sound files that do not exist: playing one answers
	// result=-1 on a live channel, as Asterisk does.
	MissingFiles []string

	// Responder, when set, is asked first about every command; a zero Reply
	// lets the script answer.
	Responder func(cmd Command) Reply

	// HangupAtStep hangs the caller up during command number N (1-based):
	// a playing or input command answers -1, any other command finds the
	// channel already dead.
	HangupAtStep int
	// HangupAfter hangs the caller up that long after connecting, whatever
	// the server is doing.
	HangupAfter time.Duration
	// NoHangupLines is AGISIGHUP=no: Asterisk sends no HANGUP line at all.
	NoHangupLines bool
	// ExitOnHangup is AGIEXITONHANGUP=yes: Asterisk closes the connection
	// right after the hangup.
	ExitOnHangup bool

	// Faults changes what is sent at given steps.
	Faults []Fault
	// ChunkDelay is the pause between the writes of one reply (the lines of a
	// multi-line 520, a split reply); 0 means 1ms.
	ChunkDelay time.Duration
}

// A Record is the outcome of one RECORD FILE.
type Record struct {
	Reason string // "dtmf", "timeout", "hangup", "writefile", "randomerror" or "waitfor"
	Key    rune   // the key that ended it, for "dtmf"
	EndPos int64  // samples written
}

// A Reply is a Responder's answer to one command. The zero Reply lets the
// script answer.
type Reply struct {
	Keys    string        // for an input: the keys the caller types, as in Call.Keys
	Silence bool          // for an input: the caller types nothing
	Hangup  bool          // the caller hangs up during this command
	Raw     string        // sent verbatim instead of the computed reply; end each line with "\n"
	Delay   time.Duration // wait before replying; a hangup meanwhile cuts it short
	Fault   FaultKind     // a fault to inject at this command
}

func (r Reply) isZero() bool { return r == Reply{} }

// FaultKind names a fault Call.Faults can inject.
type FaultKind int

// The faults.
const (
	NoFault          FaultKind = iota
	HangupBefore               // the caller hangs up; HANGUP is written before the reply
	HangupWithReply            // the caller hangs up; HANGUP goes in the same write as the reply
	HangupAfterReply           // the caller hangs up; HANGUP is written in its own write after the reply
	SplitReply                 // the reply is written one byte per write
	CoalesceReply              // every line of this step (HANGUP, 100 Trying, a multi-line 520) goes in one write
	Reply510                   // the reply is "510 Invalid or unknown command"
	Reply511                   // the reply is the dead-channel 511
	Reply520                   // the reply is the one-line 520
	Reply520Multi              // the reply is a multi-line 520 usage text
	Trying                     // "100 result=0 Trying..." comes before the reply
	SlowReply                  // the reply waits Fault.Delay
	CloseConn                  // the connection is closed instead of a reply
	NoReply                    // nothing is sent (as for a GET DATA aborted by a second command)
)

// A Fault injects a FaultKind at a step.
type Fault struct {
	Step  int           // the 1-based command number; 0 means every command
	Kind  FaultKind     // what to do
	Delay time.Duration // for SlowReply and HangupAfterReply
}

// EnvVar is one line of the environment block.
type EnvVar struct {
	Key, Value string
}

// envOrder is the order of Asterisk's environment keys after agi_network and
// agi_network_script.
var envOrder = []string{
	"agi_request", "agi_channel", "agi_language", "agi_type", "agi_uniqueid", "agi_version",
	"agi_callerid", "agi_calleridname", "agi_callingpres", "agi_callingani2", "agi_callington",
	"agi_callingtns", "agi_dnid", "agi_rdnis", "agi_context", "agi_extension", "agi_priority",
	"agi_enhanced", "agi_accountcode", "agi_threadid",
}

var uniqueSeq atomic.Int64

// Environment returns the environment block the call sends to a server at
// host (such as "127.0.0.1:4573"), in Asterisk's order.
func (c *Call) Environment(host string) []EnvVar {
	n := uniqueSeq.Add(1)
	def := map[string]string{
		"agi_request":      "agi://" + host + "/" + c.Script,
		"agi_channel":      fmt.Sprintf("PJSIP/sim-%08x", n),
		"agi_language":     "en",
		"agi_type":         "PJSIP",
		"agi_uniqueid":     fmt.Sprintf("1700000000.%d", n),
		"agi_version":      "22.10.1",
		"agi_callerid":     "unknown",
		"agi_calleridname": "unknown",
		"agi_callingpres":  "0",
		"agi_callingani2":  "0",
		"agi_callington":   "0",
		"agi_callingtns":   "0",
		"agi_dnid":         "unknown",
		"agi_rdnis":        "unknown",
		"agi_context":      "default",
		"agi_extension":    "s",
		"agi_priority":     "1",
		"agi_enhanced":     "0.0",
		"agi_accountcode":  "",
		"agi_threadid":     "139708584285888",
	}
	env := []EnvVar{{"agi_network", "yes"}}
	if c.Script != "" {
		env = append(env, EnvVar{"agi_network_script", c.Script})
	}
	for _, k := range envOrder {
		v := def[k]
		if o, ok := c.Env[k]; ok {
			v = o
		}
		env = append(env, EnvVar{k, v})
	}
	for i, a := range c.Args {
		env = append(env, EnvVar{"agi_arg_" + strconv.Itoa(i+1), a})
	}
	var extra []string
	for k := range c.Env {
		if _, std := def[k]; !std && k != "agi_network" && k != "agi_network_script" {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		env = append(env, EnvVar{k, c.Env[k]})
	}
	return env
}

// Run dials addr over TCP and plays the call until the server closes the
// connection, the caller's side closes it (ExitOnHangup), or ctx ends. It
// returns the transcript so far with any error.
func (c *Call) Run(ctx context.Context, addr string) (*Transcript, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return &Transcript{}, err
	}
	return c.RunConn(ctx, conn, addr)
}

// RunConn plays the call on an open connection, which it closes; host is
// used in agi_request.
func (c *Call) RunConn(ctx context.Context, conn net.Conn, host string) (*Transcript, error) {
	env := c.Environment(host)
	return c.runConn(ctx, conn, env, newChannel(c, env))
}

// RunScripts plays one channel that runs an AGI session for each script in
// turn, as a dialplan with several AGI() on one extension does (a lookup, then
// the IVR) or a route entered again after a Goto. Every session sends the
// same agi_uniqueid and agi_channel, and the channel keeps its variables, the
// caller's keys and records, and the files it recorded from one session to
// the next; c.Script is not used. The channel ends, and no further script
// runs, when the caller or the server hangs up or a session fails to play.
// It returns a transcript per session played, with the first error.
func (c *Call) RunScripts(ctx context.Context, addr string, scripts ...string) ([]*Transcript, error) {
	var (
		out []*Transcript
		ch  *channel
	)
	for _, script := range scripts {
		sc := *c
		sc.Script = script
		if ch != nil {
			sc.Env = maps.Clone(c.Env)
			if sc.Env == nil {
				sc.Env = map[string]string{}
			}
			sc.Env["agi_uniqueid"], sc.Env["agi_channel"] = ch.uniqueid, ch.name
			if c.HangupAfter > 0 {
				left := c.HangupAfter - time.Since(ch.start)
				if left <= 0 {
					break // the caller hung up between two sessions
				}
				sc.HangupAfter = left
			}
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return out, err
		}
		env := sc.Environment(addr)
		if ch == nil {
			ch = newChannel(c, env)
		}
		tr, err := sc.runConn(ctx, conn, env, ch)
		out = append(out, tr)
		if err != nil || tr.CallerHungUp || tr.ServerHungUp {
			return out, err
		}
	}
	return out, nil
}

// channel is what a simulated channel keeps across its AGI sessions.
type channel struct {
	uniqueid, name string
	start          time.Time
	vars           map[string]string // channel variables
	db             map[string]string // the Asterisk database
	keyIdx, recIdx int               // the next of Call.Keys and Call.Records
	typedOn        string            // keys typed after the key that interrupted a playback, for the next input
	recorded       map[string]bool   // files RECORD FILE wrote, by name without extension
}

func newChannel(c *Call, env []EnvVar) *channel {
	ch := &channel{start: time.Now(), vars: map[string]string{}, db: map[string]string{}, recorded: map[string]bool{}}
	for _, e := range env {
		switch e.Key {
		case "agi_uniqueid":
			ch.uniqueid = e.Value
		case "agi_channel":
			ch.name = e.Value
		}
	}
	maps.Copy(ch.vars, c.Variables)
	if _, ok := ch.vars["CHANNEL(linkedid)"]; !ok {
		ch.vars["CHANNEL(linkedid)"] = ch.uniqueid
	}
	return ch
}

func (c *Call) runConn(ctx context.Context, conn net.Conn, env []EnvVar, ch *channel) (*Transcript, error) {
	p := &player{c: c, conn: conn, t: &Transcript{Start: time.Now(), Variables: map[string]string{}, Env: env},
		ch: ch, hung: make(chan struct{})}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	var b strings.Builder
	for _, e := range p.t.Env {
		b.WriteString(e.Key + ": " + e.Value + "\n")
	}
	b.WriteString("\n")
	if err := p.write(b.String()); err != nil {
		return p.finish(err)
	}
	p.lastReply = time.Now()
	if c.HangupAfter > 0 {
		t := time.AfterFunc(c.HangupAfter, func() { p.hangup(true) })
		defer t.Stop()
	}
	br := bufio.NewReader(conn)
	p.br = br
	p.cancelled = func() bool { return ctx.Err() != nil }
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) && line == "" {
				// The server ended the AGI: Asterisk sends its last HANGUP
				// lines and closes.
				p.mu.Lock()
				if !c.NoHangupLines && !p.closed {
					p.flushHangupLocked()
					p.sendHangupLocked()
				}
				p.mu.Unlock()
				return p.finish(nil)
			}
			if p.isClosed() {
				return p.finish(nil)
			}
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return p.finish(err)
		}
		line = strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(strings.ToLower(line), "failure") {
			p.t.Failure = true
			continue
		}
		if done := p.step(line); done {
			return p.finish(nil)
		}
	}
}

// player is the state of one running call.
type player struct {
	c         *Call
	conn      net.Conn
	br        *bufio.Reader // the connection's reader; runConn's loop reads it between commands
	cancelled func() bool   // reports whether the call's context is done
	t         *Transcript

	mu          sync.Mutex // guards writes and the fields below
	dead        bool       // the channel hung up
	hangupOwed  bool       // a HANGUP line is due before the next reply
	closed      bool
	hung        chan struct{} // closed when the caller hangs up
	ch          *channel
	lastReply   time.Time
	inFlightCmd bool
	warning     string // what Asterisk logs for the command being answered
}

func (p *player) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

func (p *player) finish(err error) (*Transcript, error) {
	p.mu.Lock()
	p.t.End = time.Now()
	p.mu.Unlock()
	return p.t, err
}

func (p *player) write(s string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.writeLocked(s)
}

func (p *player) writeLocked(s string) error {
	if p.closed {
		return net.ErrClosed
	}
	_, err := io.WriteString(p.conn, s)
	return err
}

// hangup hangs the caller up. idle is true when no command is being answered:
// Asterisk then pushes HANGUP at once.
func (p *player) hangup(idle bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hangupLocked(idle && !p.inFlightCmd)
}

func (p *player) hangupLocked(now bool) {
	if p.dead {
		return
	}
	p.dead = true
	p.t.CallerHungUp = true
	close(p.hung)
	if p.c.NoHangupLines {
		if now && p.c.ExitOnHangup {
			p.closeLocked()
		}
		return
	}
	p.hangupOwed = true
	if now {
		p.flushHangupLocked()
		if p.c.ExitOnHangup {
			p.closeLocked()
		}
	}
}

// takeHangupLocked returns the HANGUP line that is due, if any, and counts it.
func (p *player) takeHangupLocked() string {
	if p.hangupOwed && !p.c.NoHangupLines {
		p.hangupOwed = false
		p.t.HangupLines++
		return "HANGUP\n"
	}
	return ""
}

func (p *player) flushHangupLocked() {
	if p.hangupOwed && !p.c.NoHangupLines {
		p.hangupOwed = false
		p.sendHangupLocked()
	}
}

// sendHangupLocked writes a HANGUP line, and counts it when it could be written.
func (p *player) sendHangupLocked() {
	if p.writeLocked("HANGUP\n") == nil {
		p.t.HangupLines++
	}
}

func (p *player) closeLocked() {
	if !p.closed {
		p.closed = true
		p.conn.Close()
	}
}

// watch closes done when the caller hangs up or the server closes the
// connection while a Responder works out its reply. The stop it returns ends
// the watch before runConn's loop reads the connection again.
func (p *player) watch(done chan struct{}) (stop func()) {
	var once sync.Once
	end := func() { once.Do(func() { close(done) }) }
	quit, peeked := make(chan struct{}), make(chan struct{})
	go func() {
		select {
		case <-p.hung:
			end()
		case <-quit:
		}
	}()
	go func() {
		defer close(peeked)
		// Peek consumes nothing: whatever the server sends stays for the loop.
		if _, err := p.br.Peek(1); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			end()
		}
	}()
	return func() {
		close(quit)
		p.conn.SetReadDeadline(time.Unix(1, 0))
		<-peeked
		if !p.cancelled() {
			p.conn.SetReadDeadline(time.Time{})
			if p.cancelled() { // cancelled meanwhile: keep the loop from blocking
				p.conn.SetReadDeadline(time.Unix(1, 0))
			}
		}
	}
}

// faults returns the faults for a step.
func (p *player) faults(step int) []Fault {
	var fs []Fault
	for _, f := range p.c.Faults {
		if f.Step == step || f.Step == 0 {
			fs = append(fs, f)
		}
	}
	return fs
}

// step answers one command; it returns true when the connection was closed.
func (p *player) step(line string) bool {
	received := time.Now()
	cmd := ParseCommand(line)
	p.mu.Lock()
	cmd.Step = len(p.t.Steps) + 1
	cmd.Dead = p.dead
	p.inFlightCmd = true
	st := Step{Command: cmd, Received: received, Wait: received.Sub(p.lastReply)}
	exitNow := p.dead && p.c.ExitOnHangup
	p.mu.Unlock()
	if exitNow {
		// AGIEXITONHANGUP: Asterisk left the loop; the command is never read.
		p.mu.Lock()
		p.flushHangupLocked()
		p.closeLocked()
		p.t.Steps = append(p.t.Steps, st)
		p.mu.Unlock()
		return true
	}

	var rep Reply
	if p.c.Responder != nil {
		done := make(chan struct{})
		cmd.Done = done
		stop := p.watch(done)
		rep = p.c.Responder(cmd)
		stop()
	}
	faults := p.faults(cmd.Step)
	if rep.Fault != NoFault {
		faults = append(faults, Fault{Step: cmd.Step, Kind: rep.Fault, Delay: rep.Delay})
	}
	var delay time.Duration = rep.Delay
	hangupKind := NoFault
	coalesce, split, trying := false, false, false
	override := rep.Raw
	var afterDelay time.Duration
	for _, f := range faults {
		switch f.Kind {
		case HangupBefore, HangupWithReply, HangupAfterReply:
			hangupKind = f.Kind
			afterDelay = f.Delay
		case SplitReply:
			split = true
		case CoalesceReply:
			coalesce = true
		case Trying:
			trying = true
		case SlowReply:
			delay = max(delay, f.Delay)
		case Reply510:
			override = "510 Invalid or unknown command\n"
		case Reply511:
			override = reply511
		case Reply520:
			override = "520 Invalid command syntax.  Proper usage not available.\n"
		case Reply520Multi:
			override = usage520(cmd.Name)
		case CloseConn:
			p.mu.Lock()
			p.closeLocked()
			p.t.Steps = append(p.t.Steps, st)
			p.mu.Unlock()
			return true
		case NoReply:
			p.mu.Lock()
			p.t.Steps = append(p.t.Steps, st)
			p.inFlightCmd = false
			p.mu.Unlock()
			return false
		}
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-p.hung:
		}
	}
	hangupNow := rep.Hangup || hangupKind != NoFault || cmd.Step == p.c.HangupAtStep

	p.mu.Lock()
	defer p.mu.Unlock()
	defer func() { p.inFlightCmd = false }()
	if p.closed {
		p.t.Steps = append(p.t.Steps, st)
		return true
	}
	blocking := isBlocking(cmd.Name)
	if hangupNow && !p.dead && !blocking {
		// The caller hung up just before this command arrived.
		p.hangupLocked(false)
	}
	// A HANGUP line still due goes out before the reply, as Asterisk sends it
	// when it reads the next command.
	before := p.takeHangupLocked()
	text, keys, hungDuring := p.answerLocked(cmd, rep, hangupNow && blocking)
	if hungDuring {
		p.hangupLocked(false)
	}
	st.Keys = keys
	st.Hangup = hangupNow || hungDuring
	st.Warning, p.warning = p.warning, ""
	if override != "" {
		text = override
	}
	if trying {
		text = "100 result=0 Trying...\n" + text
	}
	// A hangup during this command: by default its HANGUP line waits for the
	// next reply (or the end); the faults put it before, with or after this one.
	var chunks []string
	if hangupKind == HangupBefore {
		before += p.takeHangupLocked()
	}
	if before != "" {
		chunks = append(chunks, before)
	}
	chunks = append(chunks, splitLines(text)...)
	if hangupKind == HangupWithReply {
		if h := p.takeHangupLocked(); h != "" {
			text += h
			chunks[len(chunks)-1] += h
		}
	}
	if hangupKind == HangupAfterReply {
		if h := p.takeHangupLocked(); h != "" {
			chunks = append(chunks, "\x00"+h)
		}
	}
	if coalesce {
		chunks = []string{strings.ReplaceAll(strings.Join(chunks, ""), "\x00", "")}
	}
	if split {
		var bytesOut []string
		for _, c := range chunks {
			for i := 0; i < len(c); i++ {
				if c[i] != 0 {
					bytesOut = append(bytesOut, c[i:i+1])
				}
			}
		}
		chunks = bytesOut
	}
	gap := p.c.ChunkDelay
	if gap <= 0 {
		gap = time.Millisecond
	}
	for i, c := range chunks {
		if strings.HasPrefix(c, "\x00") {
			c = c[1:]
			p.mu.Unlock()
			time.Sleep(max(afterDelay, gap))
			p.mu.Lock()
		} else if i > 0 && (split || len(chunks) > 1 && !coalesce) {
			p.mu.Unlock()
			time.Sleep(gap)
			p.mu.Lock()
		}
		if err := p.writeLocked(c); err != nil {
			break
		}
	}
	st.Reply = text
	st.Replied = time.Now()
	p.lastReply = st.Replied
	p.t.Steps = append(p.t.Steps, st)
	if p.dead && p.c.ExitOnHangup && hangupNow {
		p.flushHangupLocked()
		p.closeLocked()
		return true
	}
	return false
}

// splitLines cuts text after every "\n", one write per line as Asterisk
// writes them.
func splitLines(text string) []string {
	if strings.Count(text, "\n") <= 1 {
		return []string{text}
	}
	var out []string
	for text != "" {
		i := strings.IndexByte(text, '\n')
		if i < 0 {
			out = append(out, text)
			break
		}
		out = append(out, text[:i+1])
		text = text[i+1:]
	}
	return out
}

const reply511 = "511 Command Not Permitted on a dead channel or intercept routine\n"

func usage520(name string) string {
	return "520-Invalid command syntax.  Proper usage follows:\n" +
		"Usage: " + name + " <replaceable>file</replaceable>\n" +
		"Example return code: 200 result=1 (testvariable)\n" +
		"520 End of proper usage.\n"
}

// isBlocking reports whether a command waits on the channel (playing, input,
// recording), so a hangup during it ends it with -1.
func isBlocking(name string) bool {
	switch name {
	case "GET DATA", "STREAM FILE", "CONTROL STREAM FILE", "GET OPTION", "WAIT FOR DIGIT",
		"RECORD FILE", "SAY ALPHA", "SAY DIGITS", "SAY NUMBER", "SAY PHONETIC", "SAY DATE",
		"SAY TIME", "SAY DATETIME", "RECEIVE CHAR", "RECEIVE TEXT", "SPEECH RECOGNIZE", "GOSUB":
		return true
	}
	return false
}

// minArgs is the argument count below which Asterisk answers 520.
var minArgs = map[string]int{
	"GET DATA": 1, "STREAM FILE": 2, "CONTROL STREAM FILE": 2, "GET OPTION": 2, "WAIT FOR DIGIT": 1,
	"RECORD FILE": 4, "SAY ALPHA": 2, "SAY DIGITS": 2, "SAY NUMBER": 2, "SAY PHONETIC": 2,
	"SAY DATE": 2, "SAY TIME": 2, "SAY DATETIME": 2, "SET VARIABLE": 2, "GET VARIABLE": 1,
	"GET FULL VARIABLE": 1, "DATABASE GET": 2, "DATABASE PUT": 3, "DATABASE DEL": 2,
	"DATABASE DELTREE": 1, "EXEC": 1, "GOSUB": 3, "SET CONTEXT": 1, "SET EXTENSION": 1,
	"SET PRIORITY": 1, "SET CALLERID": 1, "SET AUTOHANGUP": 1, "SET MUSIC": 1, "SEND TEXT": 1,
	"SEND IMAGE": 1, "TDD MODE": 1, "VERBOSE": 1,
}

// nextKeys takes the keys for the next input.
func (p *player) nextKeys(rep Reply) string {
	switch {
	case rep.Keys != "":
		return rep.Keys
	case rep.Silence:
		return ""
	}
	if k := p.ch.typedOn; k != "" {
		p.ch.typedOn = ""
		return k
	}
	if p.ch.keyIdx < len(p.c.Keys) {
		k := p.c.Keys[p.ch.keyIdx]
		p.ch.keyIdx++
		return k
	}
	return ""
}

// missingFileLocked returns the reply of a command that plays a file Asterisk
// cannot find, and notes the warning Asterisk logs; ok is false when the
// command plays no file or its file exists.
func (p *player) missingFileLocked(cmd Command) (reply string, ok bool) {
	file := cmd.Arg(0)
	switch cmd.Name {
	case "GET DATA":
		if file == "" {
			return "", false // ast_app_getdata_full plays no prompt and reads the digits
		}
		reply = "200 result=-1\n"
	case "STREAM FILE":
		reply = "200 result=-1 endpos=" + offsetArg(cmd.Arg(2)) + "\n"
	case "GET OPTION":
		reply = "200 result=-1 endpos=0\n"
	case "CONTROL STREAM FILE":
		reply = "200 result=-1 endpos=" + offsetArg(cmd.Arg(7)) + "\n"
	default:
		return "", false
	}
	if p.existsLocked(file) {
		return "", false
	}
	p.warning = missingWarning(file)
	return reply, true
}

// offsetArg is the offset argument of a playback as Asterisk echoes it in
// endpos when the file cannot be opened.
func offsetArg(s string) string {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return strconv.FormatInt(n, 10)
	}
	return "0"
}

// existsLocked reports whether the channel can play file: a file it recorded,
// or one of Call.Sounds (any file when that is nil) not in MissingFiles. A
// name holding "&" never exists.
func (p *player) existsLocked(file string) bool {
	switch {
	case file == "" || strings.Contains(file, "&") || slices.Contains(p.c.MissingFiles, file):
		return false
	case p.ch.recorded[file] || p.c.Sounds == nil:
		return true
	}
	lang, ok := p.ch.vars["CHANNEL(language)"]
	if !ok {
		lang = p.t.EnvValue("agi_language")
	}
	return p.c.Sounds.Has(file, lang)
}

// answerLocked computes the reply of a live or dead channel. hangup is true
// when the caller hangs up during this (blocking) command. It returns the
// reply text, the keys the caller typed and whether the caller hung up.
func (p *player) answerLocked(cmd Command, rep Reply, hangup bool) (text, keys string, hung bool) {
	if !cmd.Known {
		return "510 Invalid or unknown command\n", "", false
	}
	if p.dead && !commandNames[cmd.Name] {
		return reply511, "", false
	}
	if len(cmd.Args) < minArgs[cmd.Name] {
		return usage520(cmd.Name), "", false
	}
	if !hangup {
		if text, ok := p.missingFileLocked(cmd); ok {
			// Asterisk gives up before it plays or listens: no key is taken.
			return text, "", false
		}
	}
	input := false
	switch cmd.Name {
	case "GET DATA", "WAIT FOR DIGIT", "GET OPTION":
		input = true
	case "STREAM FILE", "CONTROL STREAM FILE", "SAY ALPHA", "SAY DIGITS", "SAY NUMBER",
		"SAY PHONETIC", "SAY DATE", "SAY TIME", "SAY DATETIME":
		input = cmd.Arg(1) != ""
	}
	if input && !hangup && p.dead {
		// The caller hung up while this command waited (HangupAfter):
		// nobody is there to press keys.
		hangup = true
	}
	if input && !hangup {
		keys = p.nextKeys(rep)
		if keys == Hangup {
			hangup = true
		}
	}
	if hangup {
		switch cmd.Name {
		case "STREAM FILE", "GET OPTION", "CONTROL STREAM FILE":
			return "200 result=-1 endpos=0\n", keys, true
		case "RECORD FILE":
			return "200 result=-1 (hangup) endpos=0\n", keys, true
		}
		return "200 result=-1\n", keys, true
	}
	a0, a1 := cmd.Arg(0), cmd.Arg(1)
	switch cmd.Name {
	case "ANSWER", "NOOP", "SET CONTEXT", "SET EXTENSION", "SET PRIORITY", "SET AUTOHANGUP",
		"SET MUSIC", "ASYNCAGI BREAK":
		return "200 result=0\n", "", false
	case "HANGUP":
		if len(cmd.Args) == 0 {
			p.dead = true
			p.t.ServerHungUp = true
			if !p.c.NoHangupLines {
				p.hangupOwed = true
			}
			if !isClosed(p.hung) {
				close(p.hung)
			}
		}
		return "200 result=1\n", "", false
	case "CHANNEL STATUS":
		return "200 result=6\n", "", false
	case "VERBOSE", "SET CALLERID", "TDD MODE", "SPEECH CREATE", "SPEECH SET", "SPEECH DESTROY",
		"SPEECH LOAD GRAMMAR", "SPEECH UNLOAD GRAMMAR", "SPEECH ACTIVATE GRAMMAR", "SPEECH DEACTIVATE GRAMMAR":
		return "200 result=1\n", "", false
	case "SEND TEXT", "SEND IMAGE":
		return "200 result=0\n", "", false
	case "SET VARIABLE":
		p.ch.vars[a0] = a1
		p.t.Variables[a0] = a1
		return "200 result=1\n", "", false
	case "GET VARIABLE":
		if v, ok := p.ch.vars[a0]; ok {
			return "200 result=1 (" + v + ")\n", "", false
		}
		return "200 result=0\n", "", false
	case "GET FULL VARIABLE":
		return "200 result=1 (" + p.expand(a0) + ")\n", "", false
	case "DATABASE GET":
		if v, ok := p.ch.db[a0+"/"+a1]; ok {
			return "200 result=1 (" + v + ")\n", "", false
		}
		return "200 result=0\n", "", false
	case "DATABASE PUT":
		p.ch.db[a0+"/"+a1] = cmd.Arg(2)
		return "200 result=1\n", "", false
	case "DATABASE DEL":
		if _, ok := p.ch.db[a0+"/"+a1]; ok {
			delete(p.ch.db, a0+"/"+a1)
			return "200 result=1\n", "", false
		}
		return "200 result=0\n", "", false
	case "DATABASE DELTREE":
		// Asterisk answers 0 when it deleted keys and 1 when there were none,
		// the reverse of its documentation.
		reply := "200 result=1\n"
		for k := range p.ch.db {
			if strings.HasPrefix(k, a0+"/"+a1) {
				delete(p.ch.db, k)
				reply = "200 result=0\n"
			}
		}
		return reply, "", false
	case "EXEC":
		return "200 result=0\n", "", false
	case "GOSUB":
		return "100 result=0 Trying...\n200 result=0 Gosub complete\n", "", false
	case "GET DATA":
		return getDataReply(keys, cmd.Arg(2)), keys, false
	case "WAIT FOR DIGIT", "RECEIVE CHAR":
		if keys == "" {
			return "200 result=0\n", keys, false
		}
		return "200 result=" + strconv.Itoa(int(keys[0])) + "\n", keys, false
	case "STREAM FILE", "GET OPTION":
		if keys != "" && strings.IndexByte(a1, keys[0]) >= 0 {
			p.ch.typedOn = keys[1:]
			return "200 result=" + strconv.Itoa(int(keys[0])) + " endpos=8000\n", keys, false
		}
		return "200 result=0 endpos=16000\n", keys, false
	case "CONTROL STREAM FILE":
		// endpos is in milliseconds here, and -1 when the file played to its end.
		if keys != "" && strings.IndexByte(a1, keys[0]) >= 0 {
			return "200 result=" + strconv.Itoa(int(keys[0])) + " endpos=1000\n", keys, false
		}
		return "200 result=0 endpos=-1\n", keys, false
	case "SAY ALPHA", "SAY DIGITS", "SAY NUMBER", "SAY PHONETIC", "SAY DATE", "SAY TIME", "SAY DATETIME":
		if keys != "" && strings.IndexByte(a1, keys[0]) >= 0 {
			p.ch.typedOn = keys[1:]
			return "200 result=" + strconv.Itoa(int(keys[0])) + "\n", keys, false
		}
		return "200 result=0\n", keys, false
	case "RECORD FILE":
		r := Record{Reason: "timeout", EndPos: 16000}
		if p.ch.recIdx < len(p.c.Records) {
			r = p.c.Records[p.ch.recIdx]
			p.ch.recIdx++
		}
		if r.Reason != "writefile" {
			p.ch.recorded[a0] = true
		}
		switch r.Reason {
		case "writefile":
			return "200 result=-1 (writefile)\n", "", false
		case "hangup":
			return "200 result=-1 (hangup) endpos=" + strconv.FormatInt(r.EndPos, 10) + "\n", "", true
		case "dtmf":
			return fmt.Sprintf("200 result=%d (dtmf) endpos=%d\n", r.Key, r.EndPos), "", false
		}
		return fmt.Sprintf("200 result=0 (%s) endpos=%d\n", r.Reason, r.EndPos), "", false
	case "RECEIVE TEXT":
		return "200 result=1 ()\n", "", false
	case "SPEECH RECOGNIZE":
		return "200 result=1 (timeout) endpos=0\n", "", false
	}
	return "200 result=0\n", "", false
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// getDataReply formats GET DATA's result for keys typed with maxdigits.
func getDataReply(keys, maxArg string) string {
	maxDigits := 1024
	if n, err := strconv.Atoi(maxArg); err == nil && n > 0 {
		maxDigits = n
	}
	var digits []byte
	for i := 0; i < len(keys); i++ {
		if keys[i] == '#' {
			return "200 result=" + string(digits) + "\n"
		}
		digits = append(digits, keys[i])
		if len(digits) == maxDigits {
			return "200 result=" + string(digits) + "\n"
		}
	}
	return "200 result=" + string(digits) + " (timeout)\n"
}

// expand substitutes ${NAME} with channel variables, as GET FULL VARIABLE does.
func (p *player) expand(expr string) string {
	var b strings.Builder
	for {
		i := strings.Index(expr, "${")
		if i < 0 {
			b.WriteString(expr)
			return b.String()
		}
		j := strings.IndexByte(expr[i:], '}')
		if j < 0 {
			b.WriteString(expr)
			return b.String()
		}
		b.WriteString(expr[:i])
		b.WriteString(p.ch.vars[expr[i+2:i+j]])
		expr = expr[i+j+1:]
	}
}
