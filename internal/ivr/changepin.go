package ivr

import "context"

// changePIN lets an authenticated caller choose a new PIN: entered twice, the
// two must match and the PIN must pass ValidatePIN. The new hash replaces the
// old one under the keyring's current key, bound to the caller's account.
func (c *call) changePIN() error {
	cfg := c.app.cfg
	for attempt := 1; attempt <= maxTakes; attempt++ {
		pin, ok, err := c.askSecret(cfg.Prompts.NewPassword, "new_pin", func(p string) bool { return ValidatePIN(p) == nil }, nil)
		if err != nil {
			return err
		}
		if !ok {
			c.say(cfg.Prompts.WeakPIN)
			continue
		}
		again, _, err := c.askSecret(cfg.Prompts.ReenterPassword, "new_pin_again", func(p string) bool { return p == string(pin) }, c.setPIN)
		if err != nil {
			return err
		}
		if again != pin {
			c.say(cfg.Prompts.Mismatch)
			continue
		}
		c.say(cfg.Prompts.PassChanged)
		return nil
	}
	return nil
}

// askSecret collects a secret input and journals it (without its digits) as
// valid or not by valid; once journaled, a valid input is handed to onValid
// when it is not nil.
func (c *call) askSecret(prompt, key string, valid func(string) bool, onValid func(Secret) error) (Secret, bool, error) {
	heard, in, err := c.getData(ask{prompt: sounds(prompt), keys: digitKeys, timeout: c.app.cfg.InputTimeout, maxDigits: MaxPINLength, secret: true})
	if err != nil {
		return "", false, err
	}
	secret := Secret(in.Digits)
	ok := valid(in.Digits)
	if err := c.journalInput(heard, StepPIN, key, in, in.outcome(ok), true, nil); err != nil {
		return secret, ok, err
	}
	if ok && onValid != nil {
		return secret, ok, onValid(secret)
	}
	return secret, ok, nil
}

// setPIN stores pin as the caller's new PIN.
func (c *call) setPIN(pin Secret) error {
	var account string
	if c.caller != nil {
		account = c.caller.Account
	}
	h := c.app.svc.Keyring.Hash(account, string(pin))
	id := c.callerID()
	return c.db("set pin", func(ctx context.Context) error { return c.app.svc.PINs.SetPIN(ctx, id, h) })
}
