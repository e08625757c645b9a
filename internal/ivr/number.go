package ivr

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/ivrhq/ivr/internal/phone"
	"github.com/ivrhq/ivr/internal/schedule"
)

// Number is the entry of one dialled number: the menu the ivr route starts
// with when the dialplan names none, the channel's default language, and,
// when the number keeps hours, its schedule and where a caller goes while it
// is closed or on holiday.
type Number struct {
	// Number is the dialled number as DialledNumber writes it: E.164, or an
	// extension as dialled.
	Number string
	// Menu is the key of the entry menu, reached while the schedule is open
	// or when there is none.
	Menu string
	// Language is the channel's language unless the caller has one of their
	// own or the dialplan names one (?lang=). "" keeps the channel's.
	Language string
	// ScheduleKey names the schedule, "" for none (always open).
	ScheduleKey string
	// Schedule is the schedule ScheduleKey names, read with the number by
	// Catalog.Number; nil when there is none.
	Schedule *Schedule
	// Closed is where a caller goes while the schedule is closed, and
	// Holiday while it is on holiday (zero: as Closed). Both are zero without
	// a schedule.
	Closed, Holiday Branch
	// UpdatedAt is when the number was last stored.
	UpdatedAt time.Time
}

// Schedule is a named set of opening hours (see package schedule).
type Schedule struct {
	Key       string
	Hours     schedule.Schedule
	UpdatedAt time.Time
}

// BranchKind says what a caller gets while a schedule is closed or on holiday.
type BranchKind string

// Branch kinds.
const (
	BranchMenu     BranchKind = "menu"     // the menu Target instead of the entry menu
	BranchMessage  BranchKind = "message"  // Prompt, then the call hangs up
	BranchRecord   BranchKind = "record"   // Prompt, then the caller leaves a message
	BranchTransfer BranchKind = "transfer" // Prompt, then a transfer to Target
)

// Branch is where a call goes while a schedule is closed or on holiday. Prompt,
// a catalog prompt ("&" joins sounds), is played first; a message needs one.
type Branch struct {
	Kind   BranchKind
	Target string // the menu key, or the transfer target
	Prompt string
}

// IsZero reports whether b is unset.
func (b Branch) IsZero() bool { return b == Branch{} }

// BranchFor returns where a caller of n goes in state st: nil while open or
// without a schedule (the entry menu), else the closed or holiday branch.
func (n Number) BranchFor(st schedule.State) *Branch {
	if n.Schedule == nil {
		return nil
	}
	return branchFor(st, n.Closed, n.Holiday)
}

// branchFor returns nil while open, else closed, or holiday when it is set
// and st is a holiday.
func branchFor(st schedule.State, closed, holiday Branch) *Branch {
	switch {
	case st == schedule.Open:
		return nil
	case st == schedule.OnHoliday && !holiday.IsZero():
		return &holiday
	}
	return &closed
}

// optionBranch reads the schedule of a menu option's hours, journals its
// state, and returns where the caller goes: nil while it is open (the
// option's action).
func (c *call) optionBranch(h OptionHours) (*Branch, error) {
	var s Schedule
	err := c.db("schedule", func(ctx context.Context) (err error) {
		s, err = c.app.svc.Catalog.Schedule(ctx, h.Schedule)
		return err
	})
	if err != nil {
		return nil, err
	}
	st := s.Hours.At(c.app.now())
	if err := c.journalStep(c.step(StepSchedule, keySchedule+":"+s.Key+":"+string(st.State), OutcomeValid)); err != nil {
		return nil, err
	}
	return branchFor(st.State, h.Closed, h.Holiday), nil
}

// extension is what DialledNumber keeps as dialled: up to six keys.
var extension = regexp.MustCompile(`^[0-9*#]{1,6}$`)

// DialledNumber returns the form a dialled number is stored and looked up
// in: an extension of up to six keys (0-9, * and #) as dialled, anything
// longer read as a phone number of region (or international, with + or the
// region's international prefix) and written in E.164. ok is false for
// anything else, such as Asterisk's "unknown" for no number.
func DialledNumber(raw, region string) (string, bool) {
	s := strings.TrimSpace(raw)
	if extension.MatchString(s) {
		return s, true
	}
	return phone.Normalize(s, region)
}

// Journal keys of the routing steps.
const (
	keyNumber   = "number"
	keySchedule = "schedule"
)

// entry is where an ivr call starts: the entry menu, fetched, or a branch of
// the number's schedule to run instead.
type entry struct {
	menu   Menu
	number *Number          // the matched number, nil when none
	status *schedule.Status // the schedule's state, nil without a schedule
	branch *Branch          // nil: run menu
	steps  func() []Step    // the journal steps of the routing, once the call row is open
}

// route picks the entry of a call whose dialplan names no menu: the number
// ?number= names, else agi_dnid, looked up in the catalog; its schedule
// decides between the entry menu and a branch. An unknown number, or none,
// starts at Config.MenuKey.
func (c *call) route() (entry, error) {
	dialled := c.r.Param("number")
	if dialled == "" {
		dialled = c.r.DNID
	}
	key, ok := DialledNumber(dialled, c.app.cfg.DefaultRegion)
	var n Number
	var err error
	if ok {
		err = c.db("number", func(ctx context.Context) (err error) {
			n, err = c.app.svc.Catalog.Number(ctx, key)
			return err
		})
	}
	if !ok || errors.Is(err, ErrNotFound) {
		if !ok {
			key = "unknown"
		}
		m, err := c.fetchMenu(c.app.cfg.MenuKey)
		return entry{menu: m, steps: func() []Step {
			return []Step{c.step(StepNumber, keyNumber+":"+key, OutcomeInvalid)}
		}}, err
	}
	if err != nil {
		return entry{}, err
	}
	e := entry{number: &n}
	menuKey := n.Menu
	if n.Schedule != nil {
		st := n.Schedule.Hours.At(c.app.now())
		e.status = &st
		if e.branch = n.BranchFor(st.State); e.branch != nil && e.branch.Kind == BranchMenu {
			menuKey = e.branch.Target
		}
	}
	e.steps = func() []Step {
		steps := []Step{c.step(StepNumber, keyNumber+":"+n.Number, OutcomeValid)}
		if e.status != nil {
			steps = append(steps, c.step(StepSchedule, keySchedule+":"+n.Schedule.Key+":"+string(e.status.State), OutcomeValid))
		}
		return steps
	}
	if e.branch != nil && e.branch.Kind != BranchMenu {
		return e, nil
	}
	e.menu, err = c.fetchMenu(menuKey)
	return e, err
}

// runBranch runs a closed or holiday branch that is not a menu: its prompt,
// then a hangup, a message to record, or a transfer.
func (c *call) runBranch(b Branch) (Result, error) {
	c.say(b.Prompt)
	switch b.Kind {
	case BranchMessage:
		c.hangupAtEnd = true
		return ResultCompleted, nil
	case BranchRecord:
		if err := c.recordMessage(); err != nil {
			return ResultError, err
		}
		return c.runAction(Action{Kind: ActionHangup})
	case BranchTransfer:
		return c.runAction(Action{Kind: ActionTransfer, Target: b.Target})
	}
	return ResultError, errors.New("schedule branch " + string(b.Kind) + " is not known")
}
