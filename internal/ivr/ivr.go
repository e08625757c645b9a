package ivr

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/ivrhq/ivr/internal/agi"
)

// ServeIVR is the handler of the ivr route (agi://host/ivr?menu=main, or
// agi://host/ivr/main). It answers, opens the call row, reads CHANNEL(linkedid),
// identifies the caller by caller ID or account number, checks the PIN and runs
// the menus. A request that names no menu starts at the entry of the dialled
// number (?number=, else agi_dnid; see route), whose schedule may send the
// caller to a message, a recording or a transfer instead. On the way out it sets IVR_RESULT (and IVR_TRANSFER_TO for a
// transfer) and closes the call row with its end reason, also after a hangup.
func (a *App) ServeIVR(s *agi.Session, r *agi.Request) {
	c := a.newCall(s, r, "ivr")
	res, err := c.runIVR()
	c.finish(res, err)
}

// menuKey is the menu the request asks for: ?menu=, an argument menu=, the path
// below ivr/, else "" (the dialled number decides).
func (c *call) menuKey() string {
	if k := c.r.Param("menu"); k != "" {
		return k
	}
	if k, ok := strings.CutPrefix(strings.Trim(c.r.Script, "/"), "ivr/"); ok && k != "" {
		return k
	}
	return ""
}

// runIVR is the whole ivr route up to the result the dialplan gets.
func (c *call) runIVR() (Result, error) {
	svc := c.app.svc
	key := c.menuKey()

	// Open the call row, look the caller up and fetch the menu while Asterisk
	// answers, so the database's latency hides behind the channel's.
	var (
		wg                         sync.WaitGroup
		startErr, findErr, menuErr error
		found                      Caller
		ent                        entry
	)
	wg.Go(func() {
		startErr = c.db("start call", func(ctx context.Context) (err error) {
			c.row.ID, err = svc.Journal.StartCall(ctx, c.row)
			return err
		})
	})
	if c.row.CallerIDE164 != "" {
		wg.Go(func() {
			findErr = c.db("caller by phone", func(ctx context.Context) (err error) {
				found, err = svc.Callers.CallerByPhone(ctx, c.row.CallerIDE164)
				return err
			})
		})
	}
	wg.Go(func() {
		if key == "" {
			ent, menuErr = c.route()
		} else {
			ent.menu, menuErr = c.fetchMenu(key)
		}
	})
	answerErr := c.s.Answer(c.ctx)
	if answerErr == nil {
		c.end.AnsweredAt = c.app.now()
	}
	var linkErr error
	if answerErr == nil {
		var ok bool
		c.end.LinkedID, ok, linkErr = c.s.GetVariable(c.ctx, "CHANNEL(linkedid)")
		if !ok || c.end.LinkedID == "unknown" {
			c.end.LinkedID = ""
		}
	}
	wg.Wait()
	switch {
	case startErr != nil:
		return ResultError, startErr
	case answerErr != nil:
		return ResultError, c.commandFailed("", answerErr)
	case linkErr != nil:
		return ResultError, c.commandFailed("", linkErr)
	case menuErr != nil:
		return ResultError, menuErr
	case findErr != nil && !errors.Is(findErr, ErrNotFound):
		return ResultError, findErr
	case findErr == nil && c.row.CallerIDE164 != "":
		c.caller = &found
	}
	if ent.steps != nil {
		c.held = ent.steps() // with the next entry: the first prompt or the end
	}

	lang := ""
	if ent.number != nil {
		lang = ent.number.Language
	}
	if err := c.setLanguage(lang); err != nil {
		return ResultError, err
	}
	if ent.branch != nil && ent.branch.Kind != BranchMenu {
		return c.runBranch(*ent.branch)
	}
	if ent.branch != nil {
		c.say(ent.branch.Prompt)
	}
	if res, err := c.authenticate(); err != nil || res != "" {
		return res, err
	}
	return c.runMenus(ent.menu)
}

// setLanguage sets CHANNEL(language) to the caller's preferred language, else
// to the request's lang parameter, else to the dialled number's language
// number (when not ""), else to agi_language.
func (c *call) setLanguage(number string) error {
	lang := c.r.Language
	if number != "" {
		lang = number
	}
	if l := c.r.Param("lang"); l != "" {
		lang = l
	}
	if c.caller != nil && c.caller.Language != "" {
		lang = c.caller.Language
	}
	if lang == "" {
		return nil
	}
	if err := c.s.SetVariable(c.ctx, "CHANNEL(language)", lang); err != nil {
		return c.commandFailed("", err)
	}
	return nil
}
