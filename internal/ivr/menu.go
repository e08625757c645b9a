package ivr

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// maxFailureHops bounds how many menus in a row may end in their failure
// action without the caller choosing anything, so failure actions that lead
// from menu to menu cannot keep a silent call forever.
const maxFailureHops = 10

// fetchMenu returns the published menu key.
func (c *call) fetchMenu(key string) (Menu, error) {
	var m Menu
	err := c.db("published menu", func(ctx context.Context) (err error) {
		m, err = c.app.svc.Catalog.PublishedMenu(ctx, key)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return m, &unknownMenuError{kind: "menu", key: key}
	}
	return m, err
}

// option returns the menu option for digits.
func (m Menu) option(digits string) (MenuOption, bool) {
	for _, o := range m.Options {
		if o.Digits == digits {
			return o, true
		}
	}
	return MenuOption{}, false
}

// keys returns the keys the menu accepts: the first key of each option, and
// '#', which ends input (and is an option when one is "#").
func (m Menu) keys() string {
	keys := "#"
	for _, o := range m.Options {
		if o.Digits != "" && !strings.Contains(keys, o.Digits[:1]) {
			keys += o.Digits[:1]
		}
	}
	return keys
}

// runMenus runs menu and the menus its options lead to until an action ends the
// call. The first menu's version is recorded on the call row.
func (c *call) runMenus(menu Menu) (Result, error) {
	if c.end.MenuVersionID == 0 {
		c.end.MenuVersionID = menu.VersionID
	}
	for failures := 0; ; {
		opt, failed, err := c.chooseOption(menu)
		if err != nil {
			return ResultError, err
		}
		act := opt.Action
		switch {
		case !failed:
			failures = 0
		case failures >= maxFailureHops:
			return ResultError, fmt.Errorf("menu %q: %d failure actions in a row", menu.Key, failures+1)
		default:
			failures++
		}
		if opt.Hours.Schedule != "" {
			b, err := c.optionBranch(opt.Hours)
			if err != nil {
				return ResultError, err
			}
			switch {
			case b != nil && b.Kind == BranchMenu:
				c.say(b.Prompt)
				act = Action{Kind: ActionSubmenu, Target: b.Target}
			case b != nil:
				return c.runBranch(*b)
			}
		}
		switch act.Kind {
		case ActionSubmenu:
			if menu, err = c.fetchMenu(act.Target); err != nil {
				return ResultError, err
			}
			continue
		case ActionRepeat:
			continue
		}
		res, err := c.runAction(act)
		if err != nil || res != "" {
			return res, err
		}
	}
}

// chooseOption plays the menu and returns the option the caller chose;
// invalid or no input plays the menu's invalid or timeout prompt and asks
// again, and after the last attempt an option with the menu's failure action
// is returned with failed set. Every choice is saved as a response with the
// menu version.
func (c *call) chooseOption(m Menu) (opt MenuOption, failed bool, err error) {
	cfg := c.app.cfg
	attempts := max(m.MaxAttempts, 1)
	maxDigits := max(m.MaxDigits, 1)
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = cfg.InputTimeout
	}
	key := "menu:" + m.Key
	for attempt := 1; attempt <= attempts; attempt++ {
		heard, in, err := c.getData(ask{prompt: sounds(m.Prompt), keys: m.keys(), timeout: timeout, maxDigits: maxDigits})
		if err != nil {
			return MenuOption{}, false, err
		}
		opt, ok := m.option(in.keys())
		var resp *Response
		if ok {
			resp = &Response{CallerID: c.callerID(), MenuVersionID: m.VersionID, QuestionKey: m.Key, Answer: in.keys(), At: c.app.now()}
		}
		if err := c.journalInput(heard, StepMenu, key, in, in.outcome(ok), false, resp); err != nil {
			return MenuOption{}, false, err
		}
		if ok {
			return opt, false, nil
		}
		switch {
		case attempt == attempts:
		case in.TimedOut && in.empty():
			c.say(orDefault(m.TimeoutPrompt, cfg.Prompts.TryAgain))
		default:
			c.say(orDefault(m.InvalidPrompt, cfg.Prompts.Invalid))
		}
	}
	if m.FailureAction.Kind == "" {
		return MenuOption{Action: Action{Kind: ActionHangup}}, true, nil
	}
	return MenuOption{Action: m.FailureAction}, true, nil
}

// callerID is the identified caller's ID, 0 when none.
func (c *call) callerID() int64 {
	if c.caller == nil {
		return 0
	}
	return c.caller.ID
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// runAction runs one action that is not a menu change. An empty result means
// the caller goes back to the menu.
func (c *call) runAction(act Action) (Result, error) {
	cfg := c.app.cfg
	switch act.Kind {
	case ActionRecord:
		return "", c.recordMessage()
	case ActionSurvey:
		return "", c.runSurvey(act.Target)
	case ActionPlayMessages:
		return "", c.playMessages()
	case ActionChangePIN:
		return "", c.changePIN()
	case ActionTransfer, ActionOperator:
		to := act.Target
		if to == "" {
			to = string(ActionOperator)
		}
		st := c.step(StepTransfer, string(act.Kind)+":"+to, OutcomeValid)
		if err := c.journalStep(st); err != nil {
			return ResultError, err
		}
		if err := c.setVar("IVR_TRANSFER_TO", to); err != nil {
			return ResultError, err
		}
		c.say(cfg.Prompts.Transfer)
		return ResultTransfer, nil
	case ActionHangup:
		c.say(cfg.Prompts.Goodbye)
		c.hangupAtEnd = true
		return ResultCompleted, nil
	}
	return ResultError, fmt.Errorf("menu action %q is not known", act.Kind)
}
