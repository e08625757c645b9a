package store

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store/internal/sqlcdb"
)

// StartCall opens the call row of a session and returns its ID, once
// committed. A zero StartedAt means now and an empty SessionID a new session.
// Sessions of one channel (one UniqueID) get a row each; a session already
// written keeps its row, and its ID is returned.
func (db *DB) StartCall(ctx context.Context, c ivr.Call) (int64, error) {
	c = validCall(c)
	p := sqlcdb.StartCallParams{
		SessionID:    sessionKey(c.SessionID),
		Uniqueid:     c.UniqueID,
		Linkedid:     c.LinkedID,
		Channel:      c.Channel,
		Route:        c.Route,
		CalleridRaw:  c.CallerIDRaw,
		CalleridE164: c.CallerIDE164,
		Dnid:         c.DNID,
		CallerID:     c.CallerID,
		StartedAt:    orNow(c.StartedAt),
	}
	o := kindOp(kindStartCall, p, 0, func(q *sqlcdb.Queries) error {
		_, err := q.StartCall(ctx, p)
		return err
	})
	if err := db.gc.do(ctx, o); err != nil {
		return 0, fmt.Errorf("start call: %w", mapErr(err))
	}
	return o.n, nil
}

// EndCall closes the call row, once committed. A zero EndedAt means now; zero
// fields of end (LinkedID, CallerID, MenuVersionID, AnsweredAt) keep what the
// row has. Closing a closed call changes nothing; an unknown call is
// ivr.ErrNotFound.
func (db *DB) EndCall(ctx context.Context, callID int64, end ivr.CallEnd) error {
	p := sqlcdb.EndCallParams{
		ID:            callID,
		EndedAt:       orNow(end.EndedAt),
		EndReason:     string(end.Reason),
		AnsweredAt:    timeOrNil(end.AnsweredAt),
		Linkedid:      validText(end.LinkedID),
		CallerID:      end.CallerID,
		Authenticated: end.Authenticated,
		MenuVersionID: end.MenuVersionID,
	}
	o := kindOp(kindEndCall, p, callID, func(q *sqlcdb.Queries) error {
		_, err := q.EndCall(ctx, p)
		return err
	})
	err := db.gc.do(ctx, o)
	if err == nil && o.n == 0 {
		err = ivr.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("end call: %w", mapErr(err))
	}
	return nil
}

// RecordCall writes a whole call, opened, with its steps, and closed, in one
// statement and returns its ID once committed. The steps' CallID is ignored.
// Like StartCall, a session already written keeps its row (only its missing
// steps are added) and its ID is returned.
func (db *DB) RecordCall(ctx context.Context, c ivr.Call, end ivr.CallEnd, steps []ivr.Step) (int64, error) {
	c = validCall(c)
	p := sqlcdb.RecordCallParams{
		SessionID:     sessionKey(c.SessionID),
		Uniqueid:      c.UniqueID,
		Linkedid:      c.LinkedID,
		Channel:       c.Channel,
		Route:         c.Route,
		CalleridRaw:   c.CallerIDRaw,
		CalleridE164:  c.CallerIDE164,
		Dnid:          c.DNID,
		CallerID:      c.CallerID,
		StartedAt:     orNow(c.StartedAt),
		AnsweredAt:    timeOrNil(end.AnsweredAt),
		EndedAt:       orNow(end.EndedAt),
		EndReason:     string(end.Reason),
		Authenticated: end.Authenticated,
		MenuVersionID: end.MenuVersionID,
	}
	if end.LinkedID != "" {
		p.Linkedid = validText(end.LinkedID)
	}
	if end.CallerID != 0 {
		p.CallerID = end.CallerID
	}
	a := stepArrays(steps)
	p.Seqs, p.Keys, p.Kinds, p.Digits, p.Secrets = a.Seqs, a.Keys, a.Kinds, a.Digits, a.Secrets
	p.Outcomes, p.Attempts, p.ElapsedMs, p.Ats = a.Outcomes, a.Attempts, a.ElapsedMs, a.Ats
	o := kindOp(kindRecordCall, p, 0, func(q *sqlcdb.Queries) error {
		_, err := q.RecordCall(ctx, p)
		return err
	})
	if err := db.gc.do(ctx, o); err != nil {
		return 0, fmt.Errorf("record call: %w", mapErr(err))
	}
	return o.n, nil
}

// AppendStep writes one journal step, once committed, as AppendSteps does.
func (db *DB) AppendStep(ctx context.Context, s ivr.Step) error { return db.AppendSteps(ctx, s) }

// AppendSteps writes journal steps, of one call or of several, in one write,
// once committed; writing the same (CallID, Seq) twice stores it once. The
// digits of a Secret step are not stored. A zero Attempt is 1 and a zero At
// now. A step of an unknown call is ivr.ErrNotFound, and then none of the
// steps is written.
func (db *DB) AppendSteps(ctx context.Context, steps ...ivr.Step) error {
	if len(steps) == 0 {
		return nil
	}
	steps = slices.Clone(steps) // the committer reads them, also after ctx ends
	o := kindOp(kindStep, steps, 0, func(q *sqlcdb.Queries) error { return q.AppendSteps(ctx, stepArrays(steps)) })
	if err := db.gc.do(ctx, o); err != nil {
		return fmt.Errorf("append steps: %w", mapErr(err))
	}
	return nil
}

// validCall returns c with the text it got from the wire made valid for the
// database (see validText).
func validCall(c ivr.Call) ivr.Call {
	c.UniqueID, c.LinkedID, c.Channel = validText(c.UniqueID), validText(c.LinkedID), validText(c.Channel)
	c.Route, c.CallerIDRaw, c.CallerIDE164, c.DNID = validText(c.Route), validText(c.CallerIDRaw), validText(c.CallerIDE164), validText(c.DNID)
	return c
}

// stepArrays returns the steps of the slices in steps, in order, as the
// parallel arrays of AppendSteps (and of the steps of RecordCall), with a zero
// Attempt as 1 and a zero At as now.
func stepArrays(steps ...[]ivr.Step) sqlcdb.AppendStepsParams {
	n := 0
	for _, ss := range steps {
		n += len(ss)
	}
	p := sqlcdb.AppendStepsParams{
		CallIds: make([]int64, 0, n), Seqs: make([]int32, 0, n), Keys: make([]string, 0, n),
		Kinds: make([]string, 0, n), Digits: make([]string, 0, n), Secrets: make([]bool, 0, n),
		Outcomes: make([]string, 0, n), Attempts: make([]int32, 0, n), ElapsedMs: make([]int32, 0, n),
		Ats: make([]time.Time, 0, n),
	}
	for _, ss := range steps {
		for _, s := range ss {
			p.CallIds = append(p.CallIds, s.CallID)
			p.Seqs = append(p.Seqs, int32(s.Seq))
			p.Keys = append(p.Keys, validText(s.Key))
			p.Kinds = append(p.Kinds, string(s.Kind))
			p.Digits = append(p.Digits, validText(s.Digits))
			p.Secrets = append(p.Secrets, s.Secret)
			p.Outcomes = append(p.Outcomes, string(s.Outcome))
			p.Attempts = append(p.Attempts, int32(max(s.Attempt, 1)))
			p.ElapsedMs = append(p.ElapsedMs, millis(s.Elapsed))
			p.Ats = append(p.Ats, orNow(s.At))
		}
	}
	return p
}

// SaveResponse stores an answer, once committed. A zero At means now.
func (db *DB) SaveResponse(ctx context.Context, r ivr.Response) error {
	p := sqlcdb.InsertResponseParams{
		CallID:          r.CallID,
		CallerID:        r.CallerID,
		MenuVersionID:   r.MenuVersionID,
		SurveyVersionID: r.SurveyVersionID,
		QuestionKey:     validText(r.QuestionKey),
		Answer:          validText(r.Answer),
		At:              orNow(r.At),
	}
	o := kindOp(kindResponse, p, 0, func(q *sqlcdb.Queries) error { return q.InsertResponse(ctx, p) })
	if err := db.gc.do(ctx, o); err != nil {
		return fmt.Errorf("save response: %w", mapErr(err))
	}
	return nil
}

// SaveRecording stores a recording's metadata and returns its ID, once
// committed. A zero CreatedAt means now; DeletedAt and ID are ignored.
func (db *DB) SaveRecording(ctx context.Context, r ivr.Recording) (int64, error) {
	id, err := db.jq.InsertRecording(ctx, sqlcdb.InsertRecordingParams{
		CallID:     r.CallID,
		CallerID:   r.CallerID,
		Path:       r.Path,
		Format:     r.Format,
		Endpos:     r.EndPos,
		DurationMs: millis(r.Duration),
		EndReason:  string(r.Reason),
		EndKey:     r.Key,
		Purpose:    string(r.Purpose),
		CreatedAt:  orNow(r.CreatedAt),
	})
	if err != nil {
		return 0, fmt.Errorf("save recording: %w", mapErr(err))
	}
	return id, nil
}

// CallRecord is a stored call: how it started and, once closed, how it ended
// (End.Reason is empty while the call is open).
type CallRecord struct {
	Call ivr.Call
	End  ivr.CallEnd
}

// CallByID returns the call with id; ivr.ErrNotFound when there is none.
func (db *DB) CallByID(ctx context.Context, id int64) (CallRecord, error) {
	c, err := db.q.CallByID(ctx, id)
	if err != nil {
		return CallRecord{}, fmt.Errorf("call by id: %w", mapErr(err))
	}
	return callFromRow(c), nil
}

// CallsByUniqueID returns the sessions of the channel with Asterisk's
// uniqueid (a lookup and an ivr session, say), oldest first; none when the
// channel has no session.
func (db *DB) CallsByUniqueID(ctx context.Context, uniqueid string) ([]CallRecord, error) {
	rows, err := db.q.CallsByUniqueID(ctx, uniqueid)
	if err != nil {
		return nil, fmt.Errorf("calls by uniqueid: %w", mapErr(err))
	}
	return callsFromRows(rows), nil
}

// CallsSince returns up to limit calls started at or after since, oldest
// first.
func (db *DB) CallsSince(ctx context.Context, since time.Time, limit int) ([]CallRecord, error) {
	rows, err := db.q.CallsSince(ctx, sqlcdb.CallsSinceParams{Since: since, Lim: int32(min(limit, math.MaxInt32))})
	if err != nil {
		return nil, fmt.Errorf("calls since: %w", mapErr(err))
	}
	return callsFromRows(rows), nil
}

func callsFromRows(rows []sqlcdb.Call) []CallRecord {
	out := make([]CallRecord, len(rows))
	for i, c := range rows {
		out[i] = callFromRow(c)
	}
	return out
}

// sessionKey is the key of a session as the database writes it (a UUID in
// canonical lowercase form), so that results handed back by key match: a new
// one when id is empty, id itself when it is no UUID (the database refuses it).
func sessionKey(id string) string {
	if id == "" {
		return ivr.NewSessionID()
	}
	h := strings.ToLower(strings.NewReplacer("-", "", "{", "", "}", "").Replace(id))
	if len(h) != 32 || strings.Trim(h, "0123456789abcdef") != "" {
		return id
	}
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Steps returns the journal of a call in order (empty for an unknown call).
func (db *DB) Steps(ctx context.Context, callID int64) ([]ivr.Step, error) {
	rows, err := db.q.CallSteps(ctx, callID)
	if err != nil {
		return nil, fmt.Errorf("steps: %w", mapErr(err))
	}
	out := make([]ivr.Step, len(rows))
	for i, s := range rows {
		out[i] = ivr.Step{
			CallID:  s.CallID,
			Seq:     int(s.Seq),
			Key:     s.Key,
			Kind:    ivr.StepKind(s.Kind),
			Secret:  s.Secret,
			Outcome: ivr.Outcome(s.Outcome),
			Attempt: int(s.Attempt),
			Elapsed: time.Duration(s.ElapsedMs) * time.Millisecond,
			At:      s.At,
		}
		if s.Digits != nil {
			out[i].Digits = *s.Digits
		}
	}
	return out, nil
}

// Responses returns the answers given in a call, in order.
func (db *DB) Responses(ctx context.Context, callID int64) ([]ivr.Response, error) {
	rows, err := db.q.CallResponses(ctx, callID)
	if err != nil {
		return nil, fmt.Errorf("responses: %w", mapErr(err))
	}
	out := make([]ivr.Response, len(rows))
	for i, r := range rows {
		out[i] = ivr.Response{
			CallID:          r.CallID,
			CallerID:        idOrZero(r.CallerID),
			MenuVersionID:   idOrZero(r.MenuVersionID),
			SurveyVersionID: idOrZero(r.SurveyVersionID),
			QuestionKey:     r.QuestionKey,
			Answer:          r.Answer,
			At:              r.At,
		}
	}
	return out, nil
}

// Recordings returns the recordings made in a call, deleted ones included,
// oldest first.
func (db *DB) Recordings(ctx context.Context, callID int64) ([]ivr.Recording, error) {
	rows, err := db.q.CallRecordings(ctx, callID)
	if err != nil {
		return nil, fmt.Errorf("recordings: %w", mapErr(err))
	}
	return recordingsFromRows(rows), nil
}

func callFromRow(c sqlcdb.Call) CallRecord {
	r := CallRecord{
		Call: ivr.Call{
			ID:           c.ID,
			SessionID:    c.SessionID,
			UniqueID:     c.Uniqueid,
			LinkedID:     c.Linkedid,
			Channel:      c.Channel,
			Route:        c.Route,
			CallerIDRaw:  c.CalleridRaw,
			CallerIDE164: c.CalleridE164,
			DNID:         c.Dnid,
			CallerID:     idOrZero(c.CallerID),
			StartedAt:    c.StartedAt,
		},
		End: ivr.CallEnd{
			EndedAt:       timeOrZero(c.EndedAt),
			AnsweredAt:    timeOrZero(c.AnsweredAt),
			LinkedID:      c.Linkedid,
			CallerID:      idOrZero(c.CallerID),
			Authenticated: c.Authenticated,
			MenuVersionID: idOrZero(c.MenuVersionID),
		},
	}
	if c.EndReason != nil {
		r.End.Reason = ivr.EndReason(*c.EndReason)
	}
	return r
}

func recordingsFromRows(rows []sqlcdb.Recording) []ivr.Recording {
	out := make([]ivr.Recording, len(rows))
	for i, r := range rows {
		out[i] = ivr.Recording{
			ID:        r.ID,
			CallID:    r.CallID,
			CallerID:  idOrZero(r.CallerID),
			Path:      r.Path,
			Format:    r.Format,
			EndPos:    r.Endpos,
			Duration:  time.Duration(r.DurationMs) * time.Millisecond,
			Reason:    ivr.RecordingReason(r.EndReason),
			Key:       r.EndKey,
			Purpose:   ivr.RecordingPurpose(r.Purpose),
			CreatedAt: r.CreatedAt,
			DeletedAt: timeOrZero(r.DeletedAt),
		}
	}
	return out
}

// millis is d in whole milliseconds, clamped to the int32 of the schema.
func millis(d time.Duration) int32 {
	return int32(min(max(d.Milliseconds(), 0), math.MaxInt32))
}

// sweepBatch is the most rows one statement of SweepLostCalls closes.
const sweepBatch = 1000

// SweepLostCalls closes the calls still open that started before
// startedBefore with ivr.EndLost, and returns how many it closed. Such a row
// was left open by an instance that stopped without closing it (killed, or its
// host lost). Each row's ended_at is the time of its last journal step, else
// its start. Sweeps of several instances may run at once: each row is closed
// once, by one of them.
func (db *DB) SweepLostCalls(ctx context.Context, startedBefore time.Time) (int64, error) {
	var total int64
	for {
		n, err := db.q.SweepLostCalls(ctx, sqlcdb.SweepLostCallsParams{StartedBefore: startedBefore, Lim: sweepBatch})
		if err != nil {
			return total, fmt.Errorf("sweep lost calls: %w", mapErr(err))
		}
		total += n
		if n < sweepBatch {
			return total, nil
		}
	}
}
