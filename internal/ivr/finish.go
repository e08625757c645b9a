package ivr

import (
	"context"
	"errors"
	"log/slog"

	"github.com/ivrhq/ivr/internal/agi"
)

// finish ends a call of the ivr route whatever happened: it journals a hangup
// once, plays the queued prompts (or the apology when the service failed), sets
// IVR_RESULT, closes the call row with its end reason and, when the call went
// wrong, writes exactly one log line. Every command and write here runs on a
// context the hangup does not cancel.
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

	if res == ResultHangup {
		if werr := c.journalHangup(); werr != nil {
			problems = append(problems, werr)
		}
	} else if res == ResultError && c.ctx.Err() == nil {
		c.apologise(err)
	} else if c.ctx.Err() == nil {
		// The last prompts (goodbye, transfer): a hangup now is journaled but
		// changes no result, the caller has got what the call was for.
		switch perr := c.flush(); {
		case errors.Is(perr, agi.ErrHangup):
			if werr := c.journalHangup(); werr != nil {
				problems = append(problems, werr)
			}
		case perr != nil:
			problems = append(problems, perr)
		}
	}
	if serr := c.setVar("IVR_RESULT", string(res)); serr != nil && !c.s.Hungup() {
		problems = append(problems, serr)
	}
	if c.hangupAtEnd && c.ctx.Err() == nil {
		_ = c.s.Hangup(c.ctx) // the caller chose to hang up; a failure changes nothing
	}
	if c.row.ID != 0 {
		c.end.Reason = reason
		c.end.EndedAt = c.app.now()
		end := c.end
		if werr := c.db("end call", func(ctx context.Context) error {
			return c.app.svc.Journal.EndCall(ctx, c.row.ID, end)
		}); werr != nil {
			problems = append(problems, werr)
		}
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
		_ = c.writeAll(c.promptSteps(p, OutcomeValid)...) // the failure is reported already
	}
}

// journalHangup writes the hangup step, once per call.
func (c *call) journalHangup() error {
	if c.hungup || c.row.ID == 0 {
		return nil
	}
	c.hungup = true
	return c.writeAll(c.stepWrite(c.step(StepHangup, "hangup", OutcomeHangup)))
}

// report writes the one log line of a call that went wrong, naming its uniqueid
// (in the logger), what failed and, for an unplayable prompt, the prompt.
func (c *call) report(res Result, err error) {
	if err == nil {
		return
	}
	attrs := []slog.Attr{slog.String("result", string(res)), slog.String("err", err.Error())}
	var pe *agi.PromptError
	var se *storeError
	var um *errUnknownMenu
	msg := "call failed"
	switch {
	case errors.As(err, &pe):
		msg = "prompt could not be played"
		attrs = append(attrs, slog.String("prompt", pe.Prompt))
	case errors.As(err, &um):
		msg = "menu not published"
	case errors.As(err, &se):
		msg = "database unavailable"
	}
	c.log.LogAttrs(c.dctx, slog.LevelError, msg, attrs...)
}
