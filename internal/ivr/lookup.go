package ivr

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/ivrhq/ivr/internal/agi"
	"github.com/ivrhq/ivr/internal/phone"
)

// normalize reads a caller ID as E.164 in the configured region.
func (a *App) normalize(raw string) (string, bool) { return phone.Normalize(raw, a.cfg.DefaultRegion) }

// ServeLookup is the handler of the lookup route (agi://host/lookup), the
// caller lookup the dialplan runs before anything else. It normalises the
// caller ID, finds the caller and sets IVR_CALLER_FOUND (1 or 0) and, for a
// known caller, IVR_CALLER_ID, IVR_CALLER_NAME, IVR_CALLER_ACCOUNT,
// IVR_CALLER_LANGUAGE and IVR_CALLER_STATUS; with setname=1 (a query parameter
// or an argument) it also sets CALLERID(name). It never answers nor plays.
//
// The caller is found through Services.Lookup, which may answer from a cache.
// Config.LookupTimeout bounds what the dialplan waits for: past it the route
// sets IVR_CALLER_FOUND=0 and IVR_LOOKUP_ERROR=timeout (IVR_LOOKUP_ERROR=error
// for a failing database) and returns, so the call goes on. The call row and
// its lookup step are written in one go (Journal.RecordCall) while the
// variables are being set; the route waits for that write until the same
// deadline at most, and a write that takes longer or fails is finished in the
// background (bounded by Config.StoreTimeout each attempt, retried until the
// database takes it, and waited for by Close).
func (a *App) ServeLookup(s *agi.Session, r *agi.Request) {
	deadline := time.Now().Add(a.cfg.LookupTimeout)
	c := a.newCall(s, r, "lookup")
	st := Step{Seq: 1, Key: "lookup", Kind: StepLookup, Attempt: 1, Outcome: OutcomeInvalid}
	var (
		caller   Caller
		found    bool
		errLabel string
		problem  error
	)
	if c.row.CallerIDE164 != "" {
		ctx, cancel := context.WithDeadline(c.ctx, deadline)
		var err error
		caller, err = a.svc.Lookup.LookupCaller(ctx, c.row.CallerIDE164)
		cancel()
		switch {
		case err == nil:
			found = true
			st.Outcome = OutcomeValid
			c.row.CallerID = caller.ID
		case errors.Is(err, ErrNotFound):
		case errors.Is(err, context.DeadlineExceeded):
			errLabel, st.Outcome, problem = "timeout", OutcomeTimeout, &storeError{op: "caller by phone", err: err}
		case c.ctx.Err() != nil:
			st.Outcome = OutcomeHangup
		default:
			errLabel, st.Outcome, problem = "error", OutcomeError, &storeError{op: "caller by phone", err: err}
		}
	}
	st.At = a.now()
	st.Elapsed = st.At.Sub(c.row.StartedAt)

	// The call row and its lookup step are written in the background while
	// the variables are set; the dialplan waits for the write no longer than
	// the lookup's deadline. A write still running then goes on after the
	// route returns, and one the database does not take is retried until
	// written: the pending writes own it either way.
	end := CallEnd{Reason: EndCompleted, CallerID: c.row.CallerID, EndedAt: a.now()}
	recorded := a.pending.start(c.log, a.cfg.StoreTimeout, "call row", c.recordCall(end, []Step{st}))
	wait := time.NewTimer(time.Until(deadline))
	defer wait.Stop()

	vars := [][2]string{{"IVR_CALLER_FOUND", "0"}}
	if found {
		vars = [][2]string{
			{"IVR_CALLER_FOUND", "1"},
			{"IVR_CALLER_ID", strconv.FormatInt(caller.ID, 10)},
			{"IVR_CALLER_NAME", caller.Name},
			{"IVR_CALLER_ACCOUNT", caller.Account},
			{"IVR_CALLER_LANGUAGE", caller.Language},
			{"IVR_CALLER_STATUS", string(caller.Status)},
		}
		if truthy(r.Param("setname")) && caller.Name != "" {
			vars = append(vars, [2]string{"CALLERID(name)", caller.Name})
		}
	}
	if errLabel != "" {
		vars = append(vars, [2]string{"IVR_LOOKUP_ERROR", errLabel})
	}
	var setErr error
	for _, v := range vars {
		if setErr = c.setVar(v[0], v[1]); setErr != nil {
			break
		}
	}
	select {
	case err := <-recorded:
		if err != nil {
			problem = errors.Join(problem, err)
		}
	case <-wait.C:
		c.log.Debug("call row still being written when the lookup returned")
	}
	if setErr != nil && !c.s.Hungup() {
		problem = errors.Join(problem, setErr)
	}
	if problem != nil {
		c.report(ResultError, problem)
	}
}

// truthy reports whether a parameter value means yes.
func truthy(v string) bool {
	switch v {
	case "1", "yes", "true", "on", "y":
		return true
	}
	return false
}
