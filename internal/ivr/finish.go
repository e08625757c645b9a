package ivr

import (
	"cmp"
	"context"
	"errors"
	"log/slog"

	"github.com/ivrhq/ivr/internal/agi"
)

// finish ends a call of the ivr route whatever happened: it journals a hangup
// once, plays the queued prompts (or the apology when the service failed), sets
// IVR_RESULT, closes the call row with its end reason and, when the call went
// wrong, writes exactly one log line. Every command and write here runs on a
// context the hangup does not cancel. Closing writes the database does not
// take (and the whole row of a call whose row could not be opened) are kept
// and retried after the handler has returned.
func (c *call) finish(res Result, err error) {
	var problems []error
	reason := res.endReason()
	switch {
	case err == nil:
	case errors.Is(err, agi.ErrHangup):
		res, reason = ResultHangup, EndHangup
		var se *storeError
		if errors.As(err, &se) {
			problems = append(problems, err)
		}
	case errors.Is(err, errShutdown):
		res, reason = ResultError, EndShutdown
	default:
		res, reason = ResultError, EndError
		problems = append(problems, err)
	}

	// The closing writes: the steps of the last prompts and of a hangup, and
	// the call row closed. They go out together while IVR_RESULT is set, and
	// the handler returns once they are durable, or once they are kept for
	// retry: a database that is down holds neither the caller nor the
	// dialplan.
	var closing []Step
	if res == ResultHangup {
		closing = c.hangupStep()
	} else if res == ResultError && c.ctx.Err() == nil {
		c.apologise(err)
	} else if c.ctx.Err() == nil {
		// The last prompts (goodbye, transfer): a hangup now is journaled but
		// changes no result, the caller has got what the call was for.
		prompts := c.queued
		c.queued = nil
		for _, p := range prompts {
			steps, perr := c.playOne(p)
			closing = append(closing, steps...)
			if errors.Is(perr, agi.ErrHangup) {
				closing = append(closing, c.hangupStep()...)
			} else if perr != nil {
				problems = append(problems, perr)
			}
			if perr != nil {
				break
			}
		}
	}
	c.end.Reason = reason
	c.end.EndedAt = c.app.now()
	written := make(chan error, 1)
	var again func(ctx context.Context) error // the closing writes, retried when they fail
	if c.row.ID != 0 {
		end := c.end
		e := Entry{CallID: c.row.ID, CallStartedAt: c.row.StartedAt, Steps: append(c.takeHeld(), closing...), End: &end}
		again = func(ctx context.Context) error { return storeErr("write journal", c.app.svc.Journal.Write(ctx, e)) }
		go func() { written <- c.journal(e) }()
	} else {
		// Opening the row failed (reported already): the whole row, opened
		// and closed, is written once the database takes it.
		again = c.recordCall(c.end, nil)
		written <- cmp.Or(err, error(errNoRow))
	}
	if serr := c.setVar("IVR_RESULT", string(res)); serr != nil && !c.s.Hungup() {
		problems = append(problems, serr)
	}
	if c.hangupAtEnd && c.ctx.Err() == nil {
		_ = c.s.Hangup(c.ctx) // the caller chose to hang up; a failure changes nothing
	}
	if werr := <-written; werr != nil {
		// Handled by the retry, which logs how it ends.
		c.app.pending.keep(c.log, c.app.cfg.StoreTimeout, "call row", werr, again)
	}
	c.report(res, errors.Join(problems...))
}

// apologise plays the apology prompt after a failure; it is journaled unless
// the failure was the database's.
func (c *call) apologise(cause error) {
	c.queued = nil
	p := c.app.cfg.Prompts.SomethingWrong
	if _, err := c.s.StreamFile(c.ctx, p, ""); err != nil {
		return
	}
	var se *storeError
	if c.row.ID != 0 && !errors.As(cause, &se) {
		_ = c.journal(Entry{Steps: c.promptSteps([]string{p}, OutcomeValid)}) // the failure is reported already
	}
}

// hangupStep returns the hangup step, once per call.
func (c *call) hangupStep() []Step {
	if c.hungup || c.row.ID == 0 {
		return nil
	}
	c.hungup = true
	return []Step{c.step(StepHangup, "hangup", OutcomeHangup)}
}

// report writes the one log line of a call that went wrong, naming its uniqueid
// (in the logger), what failed and, for an unplayable prompt, the prompt. A
// failure of the database says which of three it was: a write refused as a
// duplicate, a value refused, or the database unavailable.
func (c *call) report(res Result, err error) {
	if err == nil {
		return
	}
	attrs := []slog.Attr{slog.String("result", string(res)), slog.String("err", err.Error())}
	var pe *agi.PromptError
	var se *storeError
	var um *unknownMenuError
	msg := "call failed"
	switch {
	case errors.As(err, &pe):
		msg = "prompt could not be played"
		attrs = append(attrs, slog.String("prompt", pe.Prompt))
	case errors.As(err, &um):
		msg = "menu not published"
	case errors.As(err, &se):
		msg = se.message()
	}
	c.log.LogAttrs(c.dctx, slog.LevelError, msg, attrs...)
}

// errNoRow is the reason a call with no row is kept for retry when the call
// itself reported no error.
var errNoRow = errors.New("the call row was never opened")

// recordCall returns the write of the whole row of the call, opened and
// closed with end and steps, for a retry: a row already there (a first attempt
// was committed after all) counts as written.
func (c *call) recordCall(end CallEnd, steps []Step) func(ctx context.Context) error {
	row := c.row
	return func(ctx context.Context) error {
		_, err := c.app.svc.Journal.RecordCall(ctx, row, end, steps)
		if errors.Is(err, ErrConflict) {
			return nil
		}
		return storeErr("record call", err)
	}
}
