package ivr

import (
	"context"
	"errors"
	"time"
)

// Journal keys of the identification steps.
const (
	keyAccount = "account"
	keyPIN     = "pin"
)

// maxAccountDigits bounds the account number a caller can type.
const maxAccountDigits = 16

// authenticate identifies the caller and checks the PIN. It returns an empty
// result once the caller is authenticated, or the result that ends the call
// (auth_failed, locked). A known caller ID goes straight to the PIN; otherwise
// the caller types an account number first, and is asked again after a wrong
// PIN. An unknown account, a wrong PIN and a locked account all sound the same.
func (c *call) authenticate() (Result, error) {
	cfg := c.app.cfg
	byPhone := c.caller != nil
	if byPhone {
		c.end.CallerID = c.caller.ID
	}
	accountTries := 0
	for tries := 0; tries < cfg.MaxPINTries; {
		if c.caller == nil {
			if accountTries >= cfg.MaxAccountTries {
				break
			}
			accountTries++
			found, err := c.askAccount()
			if err != nil {
				return ResultError, err
			}
			if !found {
				continue
			}
		}
		tries++
		ok, err := c.askPIN()
		if err != nil {
			return ResultError, err
		}
		if ok {
			c.end.Authenticated = true
			c.end.CallerID = c.caller.ID
			return "", nil
		}
		if !byPhone {
			c.caller = nil
		}
	}
	c.say(cfg.Prompts.Goodbye)
	if c.locked {
		return ResultLocked, nil
	}
	return ResultAuthFailed, nil
}

// askAccount asks for the account number once. found is false when nothing was
// typed; an account that does not exist still leads to the PIN prompt (c.caller
// stays nil), so the caller cannot tell which of the two was wrong.
func (c *call) askAccount() (found bool, err error) {
	cfg := c.app.cfg
	heard, in, err := c.getData(ask{prompt: sounds(cfg.Prompts.Login), keys: digitKeys, timeout: cfg.InputTimeout, maxDigits: maxAccountDigits})
	if err != nil {
		return false, err
	}
	if in.empty() {
		c.say(cfg.Prompts.TryAgain)
		return false, c.journalInput(heard, StepAccount, keyAccount, in, in.outcome(false), false, nil)
	}
	var caller Caller
	lookupErr := c.db("caller by account", func(ctx context.Context) (err error) {
		caller, err = c.app.svc.Callers.CallerByAccount(ctx, in.Digits)
		return err
	})
	out := OutcomeValid
	switch {
	case errors.Is(lookupErr, ErrNotFound):
		out = OutcomeInvalid
		c.caller = &Caller{} // unknown: the PIN is asked and always refused
	case lookupErr != nil:
		return false, lookupErr
	default:
		c.caller = &caller
		c.end.CallerID = caller.ID
	}
	if err := c.journalInput(heard, StepAccount, keyAccount, in, out, false, nil); err != nil {
		return false, err
	}
	if c.caller.ID != 0 && c.caller.Language != "" && c.caller.Language != c.r.Language {
		if err := c.setLanguage(""); err != nil {
			return false, err
		}
	}
	return true, nil
}

// askPIN collects one PIN and has the store decide it. The store decides from
// the account's failures and lock as they are at that moment, not as they were
// when the caller was identified, so calls in progress cannot outlast a lock;
// every attempt on a real account is audited, failures count across calls and
// lock the account for a growing time once they reach LockAfter. A locked,
// disabled or unknown account hears the same "incorrect" prompt as a wrong PIN,
// after the same work (the same hash, the same decision write and the same
// journal write) and no sooner than Config.RefusalTime after the PIN.
func (c *call) askPIN() (bool, error) {
	cfg := c.app.cfg
	svc := c.app.svc
	heard, in, err := c.getData(ask{prompt: sounds(cfg.Prompts.Password), keys: digitKeys, timeout: cfg.InputTimeout, maxDigits: MaxPINLength, secret: true})
	if err != nil {
		return false, err
	}
	entered := time.Now()
	caller := c.caller
	if in.empty() {
		c.say(cfg.Prompts.TryAgain)
		return false, c.journalInput(heard, StepPIN, keyPIN, in, in.outcome(false), true, nil)
	}
	now := c.app.now()
	entry := PINEntry{CallerID: caller.ID, CallID: c.row.ID, CallStartedAt: c.row.StartedAt,
		Right: svc.Keyring.Verify(caller.Account, in.Digits, caller.PIN), At: now}
	var v PINVerdict
	decideErr := c.db("decide pin", func(ctx context.Context) (err error) {
		v, err = svc.PINs.DecidePIN(ctx, entry, c.app.lock)
		return err
	})
	ok := decideErr == nil && v.Accepted
	if err := c.journalInput(heard, StepPIN, keyPIN, in, in.outcome(ok), true, nil); err != nil || decideErr != nil {
		return false, errors.Join(decideErr, err)
	}
	if ok && svc.Keyring.NeedsRehash(caller.PIN) {
		old, h := caller.PIN, svc.Keyring.Hash(caller.Account, in.Digits)
		err := c.db("rehash pin", func(ctx context.Context) error { return svc.PINs.RehashPIN(ctx, caller.ID, old, h) })
		if err != nil {
			return false, err
		}
	}
	if caller.ID != 0 {
		caller.PINFailures, caller.LockedUntil = v.Failures, v.LockedUntil
	}
	if !ok {
		if v.Locked(now) {
			c.locked = true
		}
		c.holdRefusal(entered)
		c.say(cfg.Prompts.Incorrect)
	}
	return ok, nil
}

// holdRefusal waits until Config.RefusalTime has passed since the PIN was
// entered, so that every refusal reaches the caller after the same time
// whatever deciding it took. A hangup ends the wait.
func (c *call) holdRefusal(entered time.Time) {
	d := c.app.cfg.RefusalTime - time.Since(entered)
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.ctx.Done():
	}
}
