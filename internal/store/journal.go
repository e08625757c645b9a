package store

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store/internal/sqlcdb"
)

// StartCall opens the call row of a session and returns its ID, once
// committed. A zero StartedAt means now and an empty SessionID a new session.
// Sessions of one channel (one UniqueID) get a row each; a session written
// again with the same StartedAt keeps its row, and its ID is returned (the
// start is part of the session's key: it names the month of the call's
// partition, so a write to be retried must carry its start). A month without
// a partition is ErrNoPartition. Concurrent calls share one statement (see
// batcher).
func (db *DB) StartCall(ctx context.Context, c ivr.Call) (int64, error) {
	c = validCall(c)
	c.SessionID, c.StartedAt = sessionKey(c.SessionID), orNow(c.StartedAt)
	id, err := db.starts.do(ctx, c)
	if err != nil {
		return 0, fmt.Errorf("start call: %w", mapErr(err))
	}
	return id, nil
}

// startCalls is the statement of the batcher of StartCall.
func startCalls(ctx context.Context, conn *pgxpool.Conn, cs []ivr.Call) ([]int64, error) {
	var calls callColumns
	for _, c := range cs {
		calls.add(c)
	}
	var p sqlcdb.StartCallsParams
	p.SessionIds, p.Uniqueids, p.Linkedids, p.Channels, p.Routes = calls.sessionIDs, calls.uniqueIDs, calls.linkedIDs, calls.channels, calls.routes
	p.CalleridRaws, p.CalleridE164s, p.Dnids, p.CallerIds, p.StartedAts = calls.raws, calls.e164s, calls.dnids, calls.callerIDs, calls.startedAts
	rows, err := sqlcdb.New(conn).StartCalls(ctx, p)
	if err != nil {
		return nil, err
	}
	return idsBySession(cs, rows, func(r sqlcdb.StartCallsRow) (string, int64) { return r.SessionID, r.ID }), nil
}

// idsBySession returns the ID rows have for the session of each call, in
// order; key gives a row's session and ID.
func idsBySession[R any](cs []ivr.Call, rows []R, key func(R) (string, int64)) []int64 {
	ids := make(map[string]int64, len(rows))
	for _, r := range rows {
		session, id := key(r)
		ids[session] = id
	}
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = ids[c.SessionID]
	}
	return out
}

// Write stores the journal writes of one step of a call (see ivr.Entry) in
// one commit, once committed: its steps (a step already written, same call and
// Seq, is stored once; the digits of a Secret step never), its response, and
// the closing of the call row. A zero Attempt is 1 and a zero At or EndedAt
// now; zero fields of End (LinkedID, CallerID, MenuVersionID, AnsweredAt) keep
// what the row has, and closing a closed call changes nothing. An unknown call
// is ivr.ErrNotFound, and then nothing of e is written. A zero CallStartedAt
// costs a look-up of the call's start first. Concurrent calls share one
// statement (see batcher).
func (db *DB) Write(ctx context.Context, e ivr.Entry) error {
	e.Steps = slices.Clone(e.Steps) // read when the statement is sent
	var err error
	if e.CallStartedAt, err = db.callStart(ctx, e.CallID, e.CallStartedAt); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	found, err := db.journal.do(ctx, e)
	if err == nil && e.End != nil && !found {
		err = ivr.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("write journal: %w", mapErr(err))
	}
	return nil
}

// writeJournal is the statement of the batcher of Write: its result for an
// entry that closes its call says whether the call exists.
func writeJournal(ctx context.Context, conn *pgxpool.Conn, es []ivr.Entry) ([]bool, error) {
	var p sqlcdb.WriteJournalParams
	var steps stepColumns
	for _, e := range es {
		for _, s := range e.Steps {
			s.CallID = e.CallID
			steps.add(s)
			p.StepCallStartedAts = append(p.StepCallStartedAts, e.CallStartedAt)
		}
		if r := e.Response; r != nil {
			p.ResponseCallIds = append(p.ResponseCallIds, e.CallID)
			p.ResponseCallStartedAts = append(p.ResponseCallStartedAts, e.CallStartedAt)
			p.ResponseCallerIds = append(p.ResponseCallerIds, r.CallerID)
			p.ResponseMenuVersionIds = append(p.ResponseMenuVersionIds, r.MenuVersionID)
			p.ResponseSurveyVersionIds = append(p.ResponseSurveyVersionIds, r.SurveyVersionID)
			p.ResponseQuestionKeys = append(p.ResponseQuestionKeys, validText(r.QuestionKey))
			p.ResponseAnswers = append(p.ResponseAnswers, validText(r.Answer))
			p.ResponseAts = append(p.ResponseAts, orNow(r.At))
		}
		if end := e.End; end != nil {
			if p.EndsFrom == nil || e.CallStartedAt.Before(*p.EndsFrom) {
				p.EndsFrom = &e.CallStartedAt
			}
			if p.EndsTo == nil || e.CallStartedAt.After(*p.EndsTo) {
				p.EndsTo = &e.CallStartedAt
			}
			p.EndIds = append(p.EndIds, e.CallID)
			p.EndCallStartedAts = append(p.EndCallStartedAts, e.CallStartedAt)
			p.EndAts = append(p.EndAts, orNow(end.EndedAt))
			p.EndReasons = append(p.EndReasons, string(end.Reason))
			p.EndAnswered = append(p.EndAnswered, !end.AnsweredAt.IsZero())
			p.EndAnsweredAts = append(p.EndAnsweredAts, end.AnsweredAt)
			p.EndLinkedids = append(p.EndLinkedids, validText(end.LinkedID))
			p.EndCallerIds = append(p.EndCallerIds, end.CallerID)
			p.EndAuthenticated = append(p.EndAuthenticated, end.Authenticated)
			p.EndMenuVersionIds = append(p.EndMenuVersionIds, end.MenuVersionID)
		}
	}
	p.StepCallIds, p.StepSeqs, p.StepKeys, p.StepKinds, p.StepDigits = steps.callIDs, steps.seqs, steps.keys, steps.kinds, steps.digits
	p.StepSecrets, p.StepOutcomes, p.StepAttempts, p.StepElapsedMs, p.StepAts = steps.secrets, steps.outcomes, steps.attempts, steps.elapsedMs, steps.ats
	closed, err := sqlcdb.New(conn).WriteJournal(ctx, p)
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(es))
	for i, e := range es {
		out[i] = e.End != nil && slices.Contains(closed, e.CallID)
	}
	return out, nil
}

// RecordCall writes a whole call, opened, with its steps, and closed, in one
// statement and returns its ID once committed. The steps' CallID is ignored.
// Like StartCall, a session already written with the same StartedAt keeps its
// row (only its missing steps are added) and its ID is returned.
func (db *DB) RecordCall(ctx context.Context, c ivr.Call, end ivr.CallEnd, steps []ivr.Step) (int64, error) {
	c = validCall(c)
	c.SessionID, c.StartedAt = sessionKey(c.SessionID), orNow(c.StartedAt)
	id, err := db.records.do(ctx, wholeCall{call: c, end: end, steps: slices.Clone(steps)})
	if err != nil {
		return 0, fmt.Errorf("record call: %w", mapErr(err))
	}
	return id, nil
}

// wholeCall is a RecordCall write.
type wholeCall struct {
	call  ivr.Call
	end   ivr.CallEnd
	steps []ivr.Step
}

// recordCalls is the statement of the batcher of RecordCall.
func recordCalls(ctx context.Context, conn *pgxpool.Conn, ws []wholeCall) ([]int64, error) {
	var p sqlcdb.RecordCallsParams
	var calls callColumns
	var steps stepColumns
	cs := make([]ivr.Call, len(ws))
	for i, w := range ws {
		c, end := w.call, w.end
		if end.LinkedID != "" {
			c.LinkedID = validText(end.LinkedID)
		}
		if end.CallerID != 0 {
			c.CallerID = end.CallerID
		}
		cs[i] = c
		calls.add(c)
		p.Answered = append(p.Answered, !end.AnsweredAt.IsZero())
		p.AnsweredAts = append(p.AnsweredAts, end.AnsweredAt)
		p.EndedAts = append(p.EndedAts, orNow(end.EndedAt))
		p.EndReasons = append(p.EndReasons, string(end.Reason))
		p.Authenticated = append(p.Authenticated, end.Authenticated)
		p.MenuVersionIds = append(p.MenuVersionIds, end.MenuVersionID)
		for _, s := range w.steps {
			p.StepSessionIds = append(p.StepSessionIds, c.SessionID)
			steps.add(s)
		}
	}
	p.SessionIds, p.Uniqueids, p.Linkedids, p.Channels, p.Routes = calls.sessionIDs, calls.uniqueIDs, calls.linkedIDs, calls.channels, calls.routes
	p.CalleridRaws, p.CalleridE164s, p.Dnids, p.CallerIds, p.StartedAts = calls.raws, calls.e164s, calls.dnids, calls.callerIDs, calls.startedAts
	p.Seqs, p.Keys, p.Kinds, p.Digits = steps.seqs, steps.keys, steps.kinds, steps.digits
	p.Secrets, p.Outcomes, p.Attempts, p.ElapsedMs, p.Ats = steps.secrets, steps.outcomes, steps.attempts, steps.elapsedMs, steps.ats
	rows, err := sqlcdb.New(conn).RecordCalls(ctx, p)
	if err != nil {
		return nil, err
	}
	return idsBySession(cs, rows, func(r sqlcdb.RecordCallsRow) (string, int64) { return r.SessionID, r.ID }), nil
}

// callColumns are call rows as the parallel arrays of the statements that
// open them.
type callColumns struct {
	sessionIDs, uniqueIDs, linkedIDs, channels, routes, raws, e164s, dnids []string
	callerIDs                                                              []int64
	startedAts                                                             []time.Time
}

// add appends c.
func (cc *callColumns) add(c ivr.Call) {
	cc.sessionIDs = append(cc.sessionIDs, c.SessionID)
	cc.uniqueIDs = append(cc.uniqueIDs, c.UniqueID)
	cc.linkedIDs = append(cc.linkedIDs, c.LinkedID)
	cc.channels = append(cc.channels, c.Channel)
	cc.routes = append(cc.routes, c.Route)
	cc.raws = append(cc.raws, c.CallerIDRaw)
	cc.e164s = append(cc.e164s, c.CallerIDE164)
	cc.dnids = append(cc.dnids, c.DNID)
	cc.callerIDs = append(cc.callerIDs, c.CallerID)
	cc.startedAts = append(cc.startedAts, c.StartedAt)
}

// stepColumns are journal steps as the parallel arrays of the statements that
// write them.
type stepColumns struct {
	callIDs             []int64
	seqs                []int32
	keys, kinds, digits []string
	secrets             []bool
	outcomes            []string
	attempts, elapsedMs []int32
	ats                 []time.Time
}

// add appends s, with a zero Attempt as 1 and a zero At as now.
func (c *stepColumns) add(s ivr.Step) {
	c.callIDs = append(c.callIDs, s.CallID)
	c.seqs = append(c.seqs, int32(s.Seq))
	c.keys = append(c.keys, validText(s.Key))
	c.kinds = append(c.kinds, string(s.Kind))
	c.digits = append(c.digits, validText(s.Digits))
	c.secrets = append(c.secrets, s.Secret)
	c.outcomes = append(c.outcomes, string(s.Outcome))
	c.attempts = append(c.attempts, int32(max(s.Attempt, 1)))
	c.elapsedMs = append(c.elapsedMs, millis(s.Elapsed))
	c.ats = append(c.ats, orNow(s.At))
}

// validCall returns c with the text it got from the wire made valid for the
// database (see validText).
func validCall(c ivr.Call) ivr.Call {
	c.UniqueID, c.LinkedID, c.Channel = validText(c.UniqueID), validText(c.LinkedID), validText(c.Channel)
	c.Route, c.CallerIDRaw, c.CallerIDE164, c.DNID = validText(c.Route), validText(c.CallerIDRaw), validText(c.CallerIDE164), validText(c.DNID)
	return c
}

// SaveRecording stores a recording's metadata and returns its ID, once
// committed. A zero CreatedAt means now; a zero CallStartedAt costs a look-up
// of the call's start. DeletedAt and ID are ignored.
func (db *DB) SaveRecording(ctx context.Context, r ivr.Recording) (int64, error) {
	var err error
	if r.CallStartedAt, err = db.callStart(ctx, r.CallID, r.CallStartedAt); err != nil {
		return 0, fmt.Errorf("save recording: %w", err)
	}
	id, err := db.q.InsertRecording(ctx, sqlcdb.InsertRecordingParams{
		CallID:        r.CallID,
		CallStartedAt: r.CallStartedAt,
		CallerID:      r.CallerID,
		Path:          r.Path,
		Format:        r.Format,
		Endpos:        r.EndPos,
		DurationMs:    millis(r.Duration),
		EndReason:     string(r.Reason),
		EndKey:        r.Key,
		Purpose:       string(r.Purpose),
		CreatedAt:     orNow(r.CreatedAt),
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

// callStart returns given, or when it is zero the start of the call with id:
// the key, with id, of the call's rows. An unknown call is ivr.ErrNotFound.
func (db *DB) callStart(ctx context.Context, id int64, given time.Time) (time.Time, error) {
	if !given.IsZero() {
		return given, nil
	}
	at, err := db.q.CallStart(ctx, id)
	if err != nil {
		return time.Time{}, mapErr(err)
	}
	return at, nil
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
			ID:            r.ID,
			CallID:        r.CallID,
			CallStartedAt: r.CallStartedAt,
			CallerID:      idOrZero(r.CallerID),
			Path:          r.Path,
			Format:        r.Format,
			EndPos:        r.Endpos,
			Duration:      time.Duration(r.DurationMs) * time.Millisecond,
			Reason:        ivr.RecordingReason(r.EndReason),
			Key:           r.EndKey,
			Purpose:       ivr.RecordingPurpose(r.Purpose),
			CreatedAt:     r.CreatedAt,
			DeletedAt:     timeOrZero(r.DeletedAt),
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
