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
// The lookup is bounded by Config.LookupTimeout: past it the route sets
// IVR_CALLER_FOUND=0 and IVR_LOOKUP_ERROR=timeout (IVR_LOOKUP_ERROR=error for a
// failing database) and returns, so the call goes on. The call row and its
// lookup step are written in one go (Journal.RecordCall) while the variables
// are being set, bounded by the same timeout.
func (a *App) ServeLookup(s *agi.Session, r *agi.Request) {
	c := a.newCall(s, r, "lookup")
	st := Step{Seq: 1, Key: "lookup", Kind: StepLookup, Attempt: 1, Outcome: OutcomeInvalid}
	var (
		caller   Caller
		found    bool
		errLabel string
		problem  error
	)
	if c.row.CallerIDE164 != "" {
		ctx, cancel := context.WithTimeout(c.ctx, a.cfg.LookupTimeout)
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
	st.Elapsed = time.Since(c.row.StartedAt)
	st.At = a.now()

	// Write the call row while the variables are set.
	end := CallEnd{Reason: EndCompleted, CallerID: c.row.CallerID}
	recorded := make(chan error, 1)
	wait := time.NewTimer(a.cfg.LookupTimeout)
	defer wait.Stop()
	end.EndedAt = a.now()
	go func() {
		ctx, cancel := context.WithTimeout(c.dctx, a.cfg.LookupTimeout)
		defer cancel()
		_, err := a.svc.Journal.RecordCall(ctx, c.row, end, []Step{st})
		recorded <- err
	}()

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
	// The wait is bounded here too: a store may finish a write it has already
	// sent after the write's context ends; the goroutine ends with it.
	// A row not written is kept and written once the database takes it.
	var recordErr error
	select {
	case err := <-recorded:
		recordErr = err
	case <-wait.C:
		recordErr = context.DeadlineExceeded
	}
	if recordErr != nil {
		problem = errors.Join(problem, &storeError{op: "record call", err: recordErr})
		a.pending.keep(c.log, a.cfg.StoreTimeout, "call row", recordErr, c.recordCall(end, []Step{st}))
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
