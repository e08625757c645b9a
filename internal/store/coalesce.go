package store

import (
	"cmp"
	"context"
	"errors"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store/internal/sqlcdb"
)

// The kinds of write the group committer coalesces: the writes of one kind in
// a batch become one multi-row statement over arrays (see committer).
var (
	kindStartCall  = &opKind{name: "start call", resend: true, coalesce: coalesceStartCalls}
	kindEndCall    = &opKind{name: "end call", distinct: true, resend: true, coalesce: coalesceEndCalls}
	kindRecordCall = &opKind{name: "record call", resend: true, coalesce: coalesceRecordCalls}
	kindStep       = &opKind{name: "append step", resend: true, coalesce: coalesceSteps}
	kindResponse   = &opKind{name: "save response", coalesce: coalesceResponses}
	kindPINAttempt = &opKind{name: "pin attempt", distinct: true, coalesce: coalescePINAttempts}

	// kindCallerByPhone is a read, grouped by the DB's reader: concurrent
	// caller lookups by phone share one statement.
	kindCallerByPhone = &opKind{name: "caller by phone", resend: true, coalesce: coalesceCallerByPhone}

	// kindPublishedMenu and kindPublishedSurvey are reads too: concurrent
	// reads of the live version of one key share one statement.
	kindPublishedMenu = &opKind{name: "published menu", resend: true, coalesce: func(ops []*op) func(q *sqlcdb.Queries) error {
		return coalesceByKey(ops, func(q *sqlcdb.Queries, key string) (any, error) {
			return q.MenuVersion(context.Background(), sqlcdb.MenuVersionParams{Key: key})
		})
	}}
	kindPublishedSurvey = &opKind{name: "published survey", resend: true, coalesce: func(ops []*op) func(q *sqlcdb.Queries) error {
		return coalesceByKey(ops, func(q *sqlcdb.Queries, key string) (any, error) {
			return q.SurveyVersion(context.Background(), sqlcdb.SurveyVersionParams{Key: key})
		})
	}}
)

// handOut gives each op the value got has for its key, or pgx.ErrNoRows.
func handOut[K comparable](ops []*op, key func(*op) K, got map[K]int64) {
	for _, o := range ops {
		if n, ok := got[key(o)]; ok {
			o.set(n, nil)
		} else {
			o.set(0, pgx.ErrNoRows)
		}
	}
}

// allDone gives every op a nil error when err, the error of their statement,
// is nil, and returns err.
func allDone(ops []*op, err error) error {
	if err == nil {
		for _, o := range ops {
			o.set(0, nil)
		}
	}
	return err
}

func coalesceStartCalls(ops []*op) func(q *sqlcdb.Queries) error {
	var p sqlcdb.StartCallsParams
	for _, o := range ops {
		c := o.params.(sqlcdb.StartCallParams)
		p.SessionIds = append(p.SessionIds, c.SessionID)
		p.Uniqueids = append(p.Uniqueids, c.Uniqueid)
		p.Linkedids = append(p.Linkedids, c.Linkedid)
		p.Channels = append(p.Channels, c.Channel)
		p.Routes = append(p.Routes, c.Route)
		p.CalleridRaws = append(p.CalleridRaws, c.CalleridRaw)
		p.CalleridE164s = append(p.CalleridE164s, c.CalleridE164)
		p.Dnids = append(p.Dnids, c.Dnid)
		p.CallerIds = append(p.CallerIds, c.CallerID)
		p.StartedAts = append(p.StartedAts, c.StartedAt)
	}
	return func(q *sqlcdb.Queries) error {
		rows, err := q.StartCalls(context.Background(), p)
		if err != nil {
			return err
		}
		got := make(map[string]int64, len(rows))
		for _, r := range rows {
			got[r.SessionID] = r.ID
		}
		handOut(ops, func(o *op) string { return o.params.(sqlcdb.StartCallParams).SessionID }, got)
		return nil
	}
}

// coalesceEndCalls hands each op 1 when its call exists, else 0, as EndCall.
func coalesceEndCalls(ops []*op) func(q *sqlcdb.Queries) error {
	var p sqlcdb.EndCallsParams
	for _, o := range ops {
		e := o.params.(sqlcdb.EndCallParams)
		p.Ids = append(p.Ids, e.ID)
		p.EndedAts = append(p.EndedAts, e.EndedAt)
		p.EndReasons = append(p.EndReasons, e.EndReason)
		p.Answered = append(p.Answered, e.AnsweredAt != nil)
		p.AnsweredAts = append(p.AnsweredAts, timeOrZero(e.AnsweredAt))
		p.Linkedids = append(p.Linkedids, e.Linkedid)
		p.CallerIds = append(p.CallerIds, e.CallerID)
		p.Authenticated = append(p.Authenticated, e.Authenticated)
		p.MenuVersionIds = append(p.MenuVersionIds, e.MenuVersionID)
	}
	return func(q *sqlcdb.Queries) error {
		ids, err := q.EndCalls(context.Background(), p)
		if err != nil {
			return err
		}
		found := make(map[int64]bool, len(ids))
		for _, id := range ids {
			found[id] = true
		}
		for _, o := range ops {
			if found[o.key] {
				o.set(1, nil)
			} else {
				o.set(0, nil)
			}
		}
		return nil
	}
}

func coalesceRecordCalls(ops []*op) func(q *sqlcdb.Queries) error {
	var p sqlcdb.RecordCallsParams
	for _, o := range ops {
		c := o.params.(sqlcdb.RecordCallParams)
		p.SessionIds = append(p.SessionIds, c.SessionID)
		p.Uniqueids = append(p.Uniqueids, c.Uniqueid)
		p.Linkedids = append(p.Linkedids, c.Linkedid)
		p.Channels = append(p.Channels, c.Channel)
		p.Routes = append(p.Routes, c.Route)
		p.CalleridRaws = append(p.CalleridRaws, c.CalleridRaw)
		p.CalleridE164s = append(p.CalleridE164s, c.CalleridE164)
		p.Dnids = append(p.Dnids, c.Dnid)
		p.CallerIds = append(p.CallerIds, c.CallerID)
		p.StartedAts = append(p.StartedAts, c.StartedAt)
		p.Answered = append(p.Answered, c.AnsweredAt != nil)
		p.AnsweredAts = append(p.AnsweredAts, timeOrZero(c.AnsweredAt))
		p.EndedAts = append(p.EndedAts, c.EndedAt)
		p.EndReasons = append(p.EndReasons, c.EndReason)
		p.Authenticated = append(p.Authenticated, c.Authenticated)
		p.MenuVersionIds = append(p.MenuVersionIds, c.MenuVersionID)
		for range c.Seqs {
			p.StepSessionIds = append(p.StepSessionIds, c.SessionID)
		}
		p.Seqs = append(p.Seqs, c.Seqs...)
		p.Keys = append(p.Keys, c.Keys...)
		p.Kinds = append(p.Kinds, c.Kinds...)
		p.Digits = append(p.Digits, c.Digits...)
		p.Secrets = append(p.Secrets, c.Secrets...)
		p.Outcomes = append(p.Outcomes, c.Outcomes...)
		p.Attempts = append(p.Attempts, c.Attempts...)
		p.ElapsedMs = append(p.ElapsedMs, c.ElapsedMs...)
		p.Ats = append(p.Ats, c.Ats...)
	}
	return func(q *sqlcdb.Queries) error {
		rows, err := q.RecordCalls(context.Background(), p)
		if err != nil {
			return err
		}
		got := make(map[string]int64, len(rows))
		for _, r := range rows {
			got[r.SessionID] = r.ID
		}
		handOut(ops, func(o *op) string { return o.params.(sqlcdb.RecordCallParams).SessionID }, got)
		return nil
	}
}

func coalesceSteps(ops []*op) func(q *sqlcdb.Queries) error {
	steps := make([][]ivr.Step, len(ops))
	for i, o := range ops {
		steps[i] = o.params.([]ivr.Step)
	}
	p := stepArrays(steps...)
	return func(q *sqlcdb.Queries) error { return allDone(ops, q.AppendSteps(context.Background(), p)) }
}

func coalesceResponses(ops []*op) func(q *sqlcdb.Queries) error {
	var p sqlcdb.InsertResponsesParams
	for _, o := range ops {
		r := o.params.(sqlcdb.InsertResponseParams)
		p.CallIds = append(p.CallIds, r.CallID)
		p.CallerIds = append(p.CallerIds, r.CallerID)
		p.MenuVersionIds = append(p.MenuVersionIds, r.MenuVersionID)
		p.SurveyVersionIds = append(p.SurveyVersionIds, r.SurveyVersionID)
		p.QuestionKeys = append(p.QuestionKeys, r.QuestionKey)
		p.Answers = append(p.Answers, r.Answer)
		p.Ats = append(p.Ats, r.At)
	}
	return func(q *sqlcdb.Queries) error { return allDone(ops, q.InsertResponses(context.Background(), p)) }
}

// coalescePINAttempts decides the PIN attempts of ops (pinDecision params) in
// one DecidePINAttempts statement per lock policy among them (one, when a
// single App shares the store), and hands each op its sqlcdb.DecidePINAttemptsRow,
// the zero row for a caller that does not exist. The kind is distinct by
// caller: a caller's attempts in one batch are decided one statement after
// the other.
func coalescePINAttempts(ops []*op) func(q *sqlcdb.Queries) error {
	var (
		params []sqlcdb.DecidePINAttemptsParams
		groups [][]*op
	)
	for _, o := range ops {
		d := o.params.(pinDecision)
		i := slices.IndexFunc(params, func(p sqlcdb.DecidePINAttemptsParams) bool {
			return p.LockAfter == d.lockAfter && slices.Equal(p.LockMs, d.lockMs)
		})
		if i < 0 {
			i = len(params)
			params = append(params, sqlcdb.DecidePINAttemptsParams{LockAfter: d.lockAfter, LockMs: d.lockMs})
			groups = append(groups, nil)
		}
		p := &params[i]
		p.CallerIds = append(p.CallerIds, d.callerID)
		p.CallIds = append(p.CallIds, d.callID)
		p.RightPins = append(p.RightPins, d.right)
		p.Ats = append(p.Ats, d.at)
		groups[i] = append(groups[i], o)
	}
	return func(q *sqlcdb.Queries) error {
		for i, p := range params {
			rows, err := q.DecidePINAttempts(context.Background(), p)
			switch {
			case errors.Is(err, errCaptured):
				continue
			case err != nil:
				return err
			}
			got := make(map[int64]sqlcdb.DecidePINAttemptsRow, len(rows))
			for _, r := range rows {
				got[r.ID] = r
			}
			for _, o := range groups[i] {
				o.setRow(got[o.params.(pinDecision).callerID])
			}
		}
		return nil
	}
}

// coalesceCallerByPhone hands each op, whose params are an E.164 number, the
// sqlcdb.CallersByPhonesRow of its caller, or pgx.ErrNoRows.
func coalesceCallerByPhone(ops []*op) func(q *sqlcdb.Queries) error {
	e164s := make([]string, len(ops))
	for i, o := range ops {
		e164s[i] = o.params.(string)
	}
	return func(q *sqlcdb.Queries) error {
		rows, err := q.CallersByPhones(context.Background(), e164s)
		if err != nil {
			return err
		}
		got := make(map[string]sqlcdb.CallersByPhonesRow, len(rows))
		for _, r := range rows {
			got[r.FoundBy] = r
		}
		for _, o := range ops {
			if r, ok := got[o.params.(string)]; ok {
				o.setRow(r)
			} else {
				o.set(0, pgx.ErrNoRows)
			}
		}
		return nil
	}
}

// coalesceByKey runs read once for each distinct key among ops (their params)
// and hands each op the row of its key, or pgx.ErrNoRows.
func coalesceByKey(ops []*op, read func(q *sqlcdb.Queries, key string) (any, error)) func(q *sqlcdb.Queries) error {
	var keys []string
	for _, o := range ops {
		if k := o.params.(string); !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return func(q *sqlcdb.Queries) error {
		var first error
		for _, k := range keys {
			row, err := read(q, k)
			switch {
			case errors.Is(err, errCaptured):
				continue
			case err != nil && !errors.Is(err, pgx.ErrNoRows):
				first = cmp.Or(first, err)
				continue
			}
			for _, o := range ops {
				if o.params.(string) != k {
					continue
				}
				if err != nil {
					o.set(0, err)
				} else {
					o.setRow(row)
				}
			}
		}
		return first
	}
}
