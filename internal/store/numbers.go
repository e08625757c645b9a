package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store/internal/sqlcdb"
)

// Number returns the entry of dialled number (as ivr.DialledNumber writes it)
// with its schedule; ivr.ErrNotFound when the number is not in the table.
func (db *DB) Number(ctx context.Context, number string) (ivr.Number, error) {
	row, err := db.q.NumberEntry(ctx, validText(number)) // from the dialplan: any byte
	if err != nil {
		return ivr.Number{}, fmt.Errorf("number %s: %w", number, mapErr(err))
	}
	return numberFromRow(sqlcdb.ListNumbersRow(row))
}

// Numbers returns every dialled number with its schedule, in order.
func (db *DB) Numbers(ctx context.Context) ([]ivr.Number, error) {
	rows, err := db.q.ListNumbers(ctx)
	if err != nil {
		return nil, fmt.Errorf("list numbers: %w", mapErr(err))
	}
	out := make([]ivr.Number, 0, len(rows))
	for _, r := range rows {
		n, err := numberFromRow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// Schedules returns every schedule, in order.
func (db *DB) Schedules(ctx context.Context) ([]ivr.Schedule, error) {
	rows, err := db.q.ListSchedules(ctx)
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", mapErr(err))
	}
	out := make([]ivr.Schedule, 0, len(rows))
	for _, r := range rows {
		s, err := scheduleFromRow(sqlcdb.ScheduleByKeyRow(r))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Schedule returns schedule key; ivr.ErrNotFound for an unknown key.
func (db *DB) Schedule(ctx context.Context, key string) (ivr.Schedule, error) {
	r, err := db.q.ScheduleByKey(ctx, validText(key))
	if err != nil {
		return ivr.Schedule{}, fmt.Errorf("schedule %s: %w", key, mapErr(err))
	}
	return scheduleFromRow(r)
}

func scheduleFromRow(r sqlcdb.ScheduleByKeyRow) (ivr.Schedule, error) {
	s := ivr.Schedule{Key: r.Key, UpdatedAt: r.UpdatedAt}
	if err := json.Unmarshal(r.Rules, &s.Hours); err != nil {
		return s, fmt.Errorf("schedule %s: %w", r.Key, err)
	}
	return s, nil
}

// ReplaceNumbers makes ns the whole numbers table in one transaction: it
// stores each number (one whose content is unchanged keeps its UpdatedAt)
// and deletes those not in ns. A menu or schedule that does not exist is
// ivr.ErrNotFound naming the constraint; a malformed value an
// *ivr.InvalidValueError.
func (db *DB) ReplaceNumbers(ctx context.Context, ns []ivr.Number) error {
	err := db.tx(ctx, func(q *sqlcdb.Queries) error {
		keep := make([]string, 0, len(ns))
		for _, n := range ns {
			p := sqlcdb.UpsertNumberParams{Number: n.Number, MenuKey: n.Menu, Language: n.Language}
			if n.ScheduleKey != "" {
				p.ScheduleKey = &n.ScheduleKey
				p.Closed, p.Holiday = branchJSON(n.Closed), branchJSON(n.Holiday)
			}
			if err := q.UpsertNumber(ctx, p); err != nil {
				return &KeyError{Key: n.Number, Err: mapErr(err)}
			}
			keep = append(keep, n.Number)
		}
		return q.DeleteNumbersExcept(ctx, keep)
	})
	if err != nil {
		return fmt.Errorf("replace numbers: %w", mapErr(err))
	}
	return nil
}

// ReplaceSchedules makes ss the whole schedules table in one transaction,
// like ReplaceNumbers. Deleting a schedule a number still uses is
// ivr.ErrNotFound naming numbers_schedule_key_fkey.
func (db *DB) ReplaceSchedules(ctx context.Context, ss []ivr.Schedule) error {
	err := db.tx(ctx, func(q *sqlcdb.Queries) error {
		keep := make([]string, 0, len(ss))
		for _, s := range ss {
			rules, err := json.Marshal(s.Hours)
			if err != nil {
				return err
			}
			zone := "UTC"
			if s.Hours.Location != nil {
				zone = s.Hours.Location.String()
			}
			if err := q.UpsertSchedule(ctx, sqlcdb.UpsertScheduleParams{Key: s.Key, TimeZone: zone, Rules: rules}); err != nil {
				return &KeyError{Key: s.Key, Err: mapErr(err)}
			}
			keep = append(keep, s.Key)
		}
		return q.DeleteSchedulesExcept(ctx, keep)
	})
	if err != nil {
		return fmt.Errorf("replace schedules: %w", mapErr(err))
	}
	return nil
}

// branchDoc is the JSON form of an ivr.Branch in the numbers table.
type branchDoc struct {
	Action string `json:"action"`
	Target string `json:"target,omitempty"`
	Prompt string `json:"prompt,omitempty"`
}

// branchJSON is b as stored, nil (NULL) when b is zero.
func branchJSON(b ivr.Branch) []byte {
	if b.IsZero() {
		return nil
	}
	data, _ := json.Marshal(branchDoc{Action: string(b.Kind), Target: b.Target, Prompt: b.Prompt}) // cannot fail
	return data
}

func branchFromJSON(data []byte) (ivr.Branch, error) {
	if data == nil || string(data) == "null" {
		return ivr.Branch{}, nil
	}
	var d branchDoc
	if err := json.Unmarshal(data, &d); err != nil {
		return ivr.Branch{}, err
	}
	return ivr.Branch{Kind: ivr.BranchKind(d.Action), Target: d.Target, Prompt: d.Prompt}, nil
}

func numberFromRow(r sqlcdb.ListNumbersRow) (ivr.Number, error) {
	n := ivr.Number{Number: r.Number, Menu: r.MenuKey, Language: r.Language, UpdatedAt: r.UpdatedAt}
	var err error
	if n.Closed, err = branchFromJSON(r.Closed); err != nil {
		return n, fmt.Errorf("number %s closed: %w", r.Number, err)
	}
	if n.Holiday, err = branchFromJSON(r.Holiday); err != nil {
		return n, fmt.Errorf("number %s holiday: %w", r.Number, err)
	}
	if r.ScheduleKey != nil {
		n.ScheduleKey = *r.ScheduleKey
		s := &ivr.Schedule{Key: n.ScheduleKey}
		if r.ScheduleUpdatedAt != nil {
			s.UpdatedAt = *r.ScheduleUpdatedAt
		}
		if err := json.Unmarshal(r.ScheduleRules, &s.Hours); err != nil {
			return n, fmt.Errorf("schedule %s: %w", n.ScheduleKey, err)
		}
		n.Schedule = s
	}
	return n, nil
}

// NumberCalls is one row of the numbers report: the ivr route's calls to a
// dialled number (Known false: not in the numbers table, routed to the
// default menu), by the state of its schedule and how they ended.
type NumberCalls struct {
	Number                         string
	Known                          bool
	Calls                          int64
	Open, Closed, Holiday          int64
	Completed, Transferred, HungUp int64
}

// ReportNumbers returns the calls per dialled number over the UTC days from
// to to, the most called first. It has no daily summary: every day is read
// from the journal.
func (db *DB) ReportNumbers(ctx context.Context, from, to time.Time) ([]NumberCalls, error) {
	var out []NumberCalls
	err := db.report(ctx, "numbers", from, to, func(q *sqlcdb.Queries, sp span) error {
		rows, err := q.ReportNumbers(ctx, sqlcdb.ReportNumbersParams{FromDay: sp.from, ToDay: sp.to})
		out = make([]NumberCalls, len(rows))
		for i, r := range rows {
			out[i] = NumberCalls(r)
		}
		return err
	})
	return out, err
}

// MenuScheduleKeys returns the keys of the schedules that options of menu
// versions, published or not, name.
func (db *DB) MenuScheduleKeys(ctx context.Context) ([]string, error) {
	keys, err := db.q.MenuScheduleKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("schedules of menus: %w", mapErr(err))
	}
	return keys, nil
}
