package ivr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ivrhq/ivr/internal/agi"
)

// Result is what a route tells the dialplan in IVR_RESULT when it returns.
type Result string

// Values of IVR_RESULT.
const (
	ResultCompleted  Result = "completed"   // the caller finished, or chose to hang up
	ResultHangup     Result = "hangup"      // the caller hung up
	ResultAuthFailed Result = "auth_failed" // no valid account and PIN within the tries
	ResultLocked     Result = "locked"      // the account is locked after too many failures
	ResultTransfer   Result = "transfer"    // IVR_TRANSFER_TO names where to send the call
	ResultError      Result = "error"       // the service failed; the caller heard an apology
)

// endReason maps a result to the end reason stored on the call row.
func (r Result) endReason() EndReason {
	switch r {
	case ResultCompleted:
		return EndCompleted
	case ResultHangup:
		return EndHangup
	case ResultAuthFailed:
		return EndAuthFailed
	case ResultLocked:
		return EndLockedOut
	case ResultTransfer:
		return EndTransferred
	}
	return EndError
}

// storeError marks a failure of the database behind the ports, so the flow
// apologises and ends with IVR_RESULT=error.
type storeError struct {
	op  string
	err error
}

func (e *storeError) Error() string { return e.op + ": " + e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// message is the log message of the failure: the database refused a
// duplicate, refused a value, or was unavailable (anything else).
func (e *storeError) message() string {
	switch {
	case errors.Is(e.err, ErrConflict):
		return "database refused a duplicate"
	case errors.Is(e.err, ErrInvalidValue):
		return "database refused a value"
	}
	return "database unavailable"
}

// unknownMenuError reports a menu or survey key with no published version: an
// error for the dialplan, not for the database.
type unknownMenuError struct{ kind, key string }

func (e *unknownMenuError) Error() string { return fmt.Sprintf("no published %s %q", e.kind, e.key) }

// errShutdown is returned when the server closes a call that is still up.
var errShutdown = errors.New("server shutting down")

// call is the state of one ivr or lookup session. It lives as long as the
// handler and is used by the handler's goroutine only (the writes it fans out
// are waited for before the method that started them returns).
type call struct {
	app *App
	s   *agi.Session
	r   *agi.Request
	// ctx is the channel's context: cancelled on HANGUP, a dropped connection or
	// server Close. dctx outlives it for the closing writes and the dead-channel
	// commands.
	ctx, dctx context.Context
	log       *slog.Logger

	row      Call
	end      CallEnd
	seq      int
	attempts map[string]int
	caller   *Caller // identified caller, nil when none
	locked   bool    // the caller's account was locked during this call

	// queued are the sounds played before the next input, one STREAM FILE
	// each with the input's keys as escape digits, or flushed at the end.
	queued []string
	// hungup is set once the hangup step is journaled, so it is written once.
	hungup bool
	// hangupAtEnd asks finish to hang up the channel after IVR_RESULT is set.
	hangupAtEnd bool
	// held are journal steps that go out with the next entry written (the
	// routing of the call, which needs no commit of its own).
	held []Step
}

func (a *App) newCall(s *agi.Session, r *agi.Request, route string) *call {
	ctx := r.Context()
	raw := r.CallerID
	c := &call{
		app:      a,
		s:        s,
		r:        r,
		ctx:      ctx,
		dctx:     context.WithoutCancel(ctx),
		attempts: make(map[string]int),
	}
	c.row = Call{
		SessionID:   NewSessionID(),
		UniqueID:    r.UniqueID,
		Channel:     r.Channel,
		Route:       route,
		CallerIDRaw: raw,
		DNID:        r.DNID,
		StartedAt:   a.now(),
	}
	if e164, ok := a.normalize(raw); ok {
		c.row.CallerIDE164 = e164
	}
	c.log = a.log.With("uniqueid", r.UniqueID, "session_id", c.row.SessionID, "route", route)
	return c
}

// db runs one store operation with the store timeout, on a context the channel
// cannot cancel, and marks its failure as a store error.
func (c *call) db(op string, f func(ctx context.Context) error) error {
	ctx, cancel := c.storeContext()
	defer cancel()
	return storeErr(op, f(ctx))
}

// storeContext returns the context of store operations: the store timeout, on
// a context the channel cannot cancel.
func (c *call) storeContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.dctx, c.app.cfg.StoreTimeout)
}

// storeErr marks the failure err of the store operation op as a store error;
// nil stays nil.
func storeErr(op string, err error) error {
	if err != nil {
		return &storeError{op: op, err: err}
	}
	return nil
}

// journal stores the writes of one step of the call (see Entry) in one
// commit; the flow moves on only once they are durable.
func (c *call) journal(e Entry) error {
	e.Steps = append(c.takeHeld(), e.Steps...)
	if e.empty() {
		return nil
	}
	e.CallID, e.CallStartedAt = c.row.ID, c.row.StartedAt
	return c.db("write journal", func(ctx context.Context) error { return c.app.svc.Journal.Write(ctx, e) })
}

// takeHeld returns the held steps and holds none from then on.
func (c *call) takeHeld() []Step {
	h := c.held
	c.held = nil
	return h
}

// step returns the next journal entry of the call, numbered and timed.
func (c *call) step(kind StepKind, key string, out Outcome) Step {
	c.seq++
	c.attempts[key]++
	return Step{CallID: c.row.ID, Seq: c.seq, Key: key, Kind: kind, Outcome: out, Attempt: c.attempts[key], At: c.app.now()}
}

// journalStep stores one journal step.
func (c *call) journalStep(st Step) error { return c.journal(Entry{Steps: []Step{st}}) }

// promptSteps returns the journal steps of the prompts played, in order: the
// last with out, the ones before it valid.
func (c *call) promptSteps(heard []string, out Outcome) []Step {
	steps := make([]Step, 0, len(heard))
	for i, p := range heard {
		o := OutcomeValid
		if i == len(heard)-1 {
			o = out
		}
		steps = append(steps, c.step(StepPrompt, p, o))
	}
	return steps
}

// sounds returns the sound files of a prompt from the catalog, which lists
// several joined with "&"; each is played by a command of its own, since
// Asterisk takes one file per command.
func sounds(prompt string) []string {
	var out []string
	for p := range strings.SplitSeq(prompt, "&") {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// say queues the sounds of a prompt for the next input, or for the end of
// the call.
func (c *call) say(prompt string) { c.queued = append(c.queued, sounds(prompt)...) }

// input is what a caller did at one prompt.
type input struct {
	Digits   string
	TimedOut bool // nothing pressed, or digits followed by silence
	Elapsed  time.Duration
}

// empty reports whether nothing was pressed.
func (in input) empty() bool { return in.Digits == "" }

// keys returns the digits, or "#" when the caller pressed # alone: GET DATA
// never returns the # that ends input, and reports it as an empty result
// without "(timeout)".
func (in input) keys() string {
	if in.Digits == "" && !in.TimedOut {
		return "#"
	}
	return in.Digits
}

// outcome is the journal outcome of a collected input: valid, timeout when
// nothing was pressed in time, else invalid.
func (in input) outcome(valid bool) Outcome {
	switch {
	case valid:
		return OutcomeValid
	case in.empty() && in.TimedOut:
		return OutcomeTimeout
	}
	return OutcomeInvalid
}

// The keys inputs accept, as escape digits of the prompts before them. '#'
// ends any input, so it is always among them.
const (
	digitKeys = "0123456789#"  // account numbers, PINs, numbers in a range
	anyKeys   = "0123456789*#" // free digits, where GET DATA keeps '*'
)

// ask describes one input: the sounds that ask for it, the keys it accepts
// and GET DATA's limits.
type ask struct {
	prompt    []string      // the input's own sounds; the last one goes with GET DATA
	keys      string        // the keys the input accepts, '#' included
	timeout   time.Duration // for each key
	maxDigits int
	secret    bool // a PIN: masked by the agi package and never journaled
}

// getData plays the queued sounds and the input's own, and collects up to
// maxDigits keys. Every sound but the last is one STREAM FILE with the keys
// the input accepts as escape digits, and the last goes with GET DATA. A key
// pressed during a STREAM FILE is the input's first key: the sounds after it
// are skipped and GET DATA, without a prompt, collects the rest. heard are the
// sounds played, the interrupted one included. A hangup, an unplayable prompt
// or a failed command is journaled with the sounds and returned as an error;
// otherwise the caller of getData journals the input with journalInput once it
// knows whether the input is valid.
func (c *call) getData(a ask) (heard []string, in input, err error) {
	played := append(c.queued, a.prompt...)
	c.queued = nil
	start := c.app.now()
	last := ""
	if len(played) > 0 {
		last = played[len(played)-1]
		played = played[:len(played)-1]
	}
	for _, p := range played {
		var pb agi.Playback
		if a.secret {
			pb, err = c.s.StreamSecretFile(c.ctx, p, a.keys)
		} else {
			pb, err = c.s.StreamFile(c.ctx, p, a.keys)
		}
		heard = append(heard, p)
		if err != nil {
			return heard, in, c.promptsFailed(heard, err)
		}
		if pb.Key != 0 {
			in, err = c.typedOn(pb.Key, a)
			in.Elapsed = c.app.now().Sub(start)
			return heard, in, err
		}
	}
	if last != "" {
		heard = append(heard, last)
	}
	got, err := c.collect(last, a.timeout, a.maxDigits, a.secret)
	in = input{Digits: got.Digits, TimedOut: got.TimedOut, Elapsed: c.app.now().Sub(start)}
	if err != nil {
		return heard, in, c.promptsFailed(heard, err)
	}
	return heard, in, nil
}

// typedOn completes an input whose first key interrupted a prompt: '#' alone
// ends it empty, a key that reaches maxDigits ends it, and otherwise GET DATA
// without a prompt collects the rest under the same rules.
func (c *call) typedOn(key rune, a ask) (input, error) {
	switch {
	case key == '#':
		return input{}, nil // as GET DATA reports a lone '#'
	case a.maxDigits == 1:
		return input{Digits: string(key)}, nil
	}
	got, err := c.collect("", a.timeout, a.maxDigits-1, a.secret)
	in := input{Digits: string(key) + got.Digits, TimedOut: got.TimedOut}
	if err != nil {
		return in, c.commandFailed("", err)
	}
	return in, nil
}

// collect runs one GET DATA, secret or not.
func (c *call) collect(prompt string, timeout time.Duration, maxDigits int, secret bool) (agi.Input, error) {
	if secret {
		return c.s.GetSecretData(c.ctx, prompt, timeout, maxDigits)
	}
	return c.s.GetData(c.ctx, prompt, timeout, maxDigits)
}

// journalInput stores the prompt steps and the input step of one getData,
// with the caller's answer resp when not nil, in one commit.
func (c *call) journalInput(heard []string, kind StepKind, key string, in input, out Outcome, secret bool, resp *Response) error {
	steps := c.promptSteps(heard, OutcomeValid)
	st := c.step(kind, key, out)
	st.Elapsed = in.Elapsed
	st.Secret = secret
	if !secret {
		st.Digits = in.keys()
	}
	return c.journal(Entry{Steps: append(steps, st), Response: resp})
}

// commandFailed journals a prompt whose command failed and classifies the
// failure: the caller hung up (ErrHangup), Asterisk could not play the prompt
// (*agi.PromptError), or anything else.
// prompt "" is none.
func (c *call) commandFailed(prompt string, err error) error {
	var heard []string
	if prompt != "" {
		heard = []string{prompt}
	}
	return c.promptsFailed(heard, err)
}

// promptsFailed is commandFailed for the sounds heard before and at the
// command that failed, the last of them.
func (c *call) promptsFailed(heard []string, err error) error {
	steps, err := c.failedPrompt(heard, err)
	if werr := c.journal(Entry{Steps: steps}); werr != nil {
		return errors.Join(err, werr)
	}
	return err
}

// failedPrompt classifies the failure of the command of the last sound heard
// like commandFailed, and returns the journal steps of the sounds instead of
// storing them.
func (c *call) failedPrompt(heard []string, err error) ([]Step, error) {
	var pe *agi.PromptError
	switch {
	case c.isHangup(err):
		return c.promptSteps(heard, OutcomeHangup), agi.ErrHangup
	case errors.As(err, &pe):
		return c.promptSteps(heard, OutcomeError), err
	case errors.Is(err, agi.ErrServerClosed):
		return nil, errShutdown
	}
	return nil, err
}

// isHangup reports whether err means the caller is gone.
func (c *call) isHangup(err error) bool {
	return errors.Is(err, agi.ErrHangup) || c.s.Hungup()
}

// play streams a prompt that takes no input (queued prompts first) and
// journals it.
func (c *call) play(prompt string) error {
	c.say(prompt)
	return c.flush()
}

// flush streams the queued prompts and journals each before the next.
func (c *call) flush() error {
	prompts := c.queued
	c.queued = nil
	for _, p := range prompts {
		steps, err := c.playOne(p)
		if werr := c.journal(Entry{Steps: steps}); werr != nil {
			return errors.Join(err, werr)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// playOne streams one prompt that takes no input and returns its journal
// steps, and the failure classified as by commandFailed.
func (c *call) playOne(prompt string) ([]Step, error) {
	heard := []string{prompt}
	if _, err := c.s.StreamFile(c.ctx, prompt, ""); err != nil {
		return c.failedPrompt(heard, err)
	}
	return c.promptSteps(heard, OutcomeValid), nil
}

// setVar sets a channel variable; it works on a dead channel too.
func (c *call) setVar(name, value string) error {
	if err := c.s.SetVariable(c.dctx, name, value); err != nil {
		return fmt.Errorf("set %s: %w", name, err)
	}
	return nil
}
