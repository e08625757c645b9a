package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/ivrhq/ivr/internal/store/internal/sqlcdb"
)

// The report methods read the reporting views of 00004_reports.sql over an
// inclusive range of UTC days, from and to (only their dates count), or, for
// the days already rolled up, their daily summaries (rollups.go), with the
// same results. Days in
// the rows are "YYYY-MM-DD" in UTC. Counts are whole numbers; rates are left
// to the caller, who has the counts they come from. Each report runs in one
// read-only transaction with JIT compilation off (on these queries it costs more
// than it saves), a work_mem large enough to aggregate in memory, and a plan
// made for its own range.

// CallsByHour is one row of the calls report: the calls (AGI sessions) of
// one route that started in one UTC hour, by how they ended.
type CallsByHour struct {
	Day   string
	Hour  int32
	Route string
	Calls int64
	// Channels counts the distinct channels (uniqueids) among the calls: fewer
	// than Calls when the route ran more than once on a channel.
	Channels     int64
	Answered     int64
	Completed    int64
	Transferred  int64
	HungUp       int64
	AuthFailed   int64
	LockedOut    int64
	Failed       int64 // ended by an error or a server shutdown
	Lost         int64 // left open by an instance that died, closed by the sweep
	StillOpen    int64 // no end recorded yet
	TotalSeconds int64 // summed duration of the ended calls
}

// Funnel counts the ivr route's calls at each stage. A call is a channel on
// one UTC day: when the route ran more than once on it, the call got as far
// as its furthest session.
type Funnel struct {
	Calls         int64
	Answered      int64
	ReachedPIN    int64
	Authenticated int64
	ChoseOption   int64
	Completed     int64 // chose an option, then ended normally or was transferred
}

// MenuOptionCount is how often one option of one menu version was chosen.
type MenuOptionCount struct {
	Menu    string
	Version int32
	Digits  string
	Label   string
	Action  string
	Chosen  int64
}

// InputQuality counts the attempts at one input (a step key such as "pin",
// "menu:main" or "survey:satisfaction:resolved") by outcome.
type InputQuality struct {
	Kind     string
	Input    string
	Attempts int64
	Valid    int64
	Invalid  int64
	NoInput  int64
}

// HangupPoint counts the hangups right after one step: the prompt playing or
// the input just given. Kind "start" means before the first step.
type HangupPoint struct {
	Kind         string
	Step         string
	Hangups      int64
	DuringPrompt int64 // the caller hung up while the prompt played
}

// SurveyAnswerCount is how often one answer was given to one question of one
// survey version.
type SurveyAnswerCount struct {
	Survey   string
	Version  int32
	Position int32
	Question string
	Answer   string
	Answers  int64
}

// PINSecurityDay is one day of PIN checks and lockouts.
type PINSecurityDay struct {
	Day            string
	Attempts       int64
	Failures       int64
	FailingCallers int64 // callers with at least one failure that day
	LockedCalls    int64 // calls that ended because the account was locked
	LockedCallers  int64
}

// RecordingsDay counts one day's recordings of one purpose.
type RecordingsDay struct {
	Day         string
	Purpose     string
	Recordings  int64
	TotalMS     int64
	LongestMS   int32
	CutByHangup int64
	Deleted     int64
}

// CallerActivity is what one known caller did in the range. LastCall is
// "YYYY-MM-DD HH:MM" in UTC, "" when the range holds no call of theirs.
type CallerActivity struct {
	CallerID      int64
	Account       string
	Name          string
	Calls         int64
	Authenticated int64
	MenuChoices   int64
	SurveyAnswers int64
	Recordings    int64
	PINFailures   int64
	LastCall      string
}

// span is the range of a report as query parameters: the days from and to,
// and within them the days liveFrom to liveTo that are read from the views
// (every day of the range not rolled up, and the rolled-up days between
// them); the other days of the range are read from the daily summaries. An
// empty live range has liveFrom after liveTo.
type span struct {
	from, to, liveFrom, liveTo pgtype.Date
}

// date converts the date of t to a query parameter.
func date(t time.Time) pgtype.Date {
	y, m, d := t.Date()
	return pgtype.Date{Time: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), Valid: true}
}

// liveSpan returns the span of from..to whose rolled-up days are rolled
// (sorted): the live range is the smallest one holding every day of the range
// missing from rolled.
func liveSpan(from, to time.Time, rolled []time.Time) span {
	sp := span{from: date(from), to: date(to)}
	first, last := sp.from.Time, sp.to.Time
	for i := 0; i < len(rolled) && first.Equal(rolled[i]) && !first.After(last); i++ {
		first = first.AddDate(0, 0, 1)
	}
	for i := len(rolled) - 1; i >= 0 && last.Equal(rolled[i]) && !last.Before(first); i-- {
		last = last.AddDate(0, 0, -1)
	}
	if first.After(last) { // every day is rolled up: an empty live range after the range
		first, last = sp.to.Time.AddDate(0, 0, 1), sp.to.Time
	}
	sp.liveFrom, sp.liveTo = date(first), date(last)
	return sp
}

// months returns the days, from the first of a month to the last of one, of
// the whole months of sp read from a monthly summary: the longest run of
// rolled-up months (rolled holds their first days) that starts with the first
// of them inside the days of sp read from the daily summaries before its live
// range. An empty run has its first day after its last.
func (sp span) months(rolled []time.Time) (pgtype.Date, pgtype.Date) {
	end := sp.to.Time // the last day of the summaries before the live range
	if !sp.liveFrom.Time.After(sp.liveTo.Time) {
		end = sp.liveFrom.Time.AddDate(0, 0, -1)
	}
	m := time.Date(sp.from.Time.Year(), sp.from.Time.Month(), 1, 0, 0, 0, 0, time.UTC)
	if m.Before(sp.from.Time) {
		m = m.AddDate(0, 1, 0)
	}
	var first, last time.Time
	for ; !m.AddDate(0, 1, -1).After(end); m = m.AddDate(0, 1, 0) {
		in := slices.ContainsFunc(rolled, m.Equal)
		if in && first.IsZero() {
			first = m
		}
		if !in && !first.IsZero() {
			break
		}
		if in {
			last = m
		}
	}
	if first.IsZero() {
		return date(sp.to.Time.AddDate(0, 0, 1)), sp.to
	}
	return date(first), date(last.AddDate(0, 1, -1))
}

// report runs one report query in a read-only transaction tuned for it. The
// transaction is REPEATABLE READ, so that the rolled-up days it finds are
// those whose summaries its query reads.
func (db *DB) report(ctx context.Context, name string, from, to time.Time, fn func(q *sqlcdb.Queries, sp span) error) error {
	opts := pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}
	err := pgx.BeginTxFunc(ctx, db.pool, opts, func(tx pgx.Tx) error {
		// A report's best plan depends on its days (which of them are read
		// from the summaries, which from the views), so every run is planned
		// for its own parameters, never from a plan cached for others.
		if _, err := tx.Exec(ctx, "SET LOCAL jit = off; SET LOCAL work_mem = '64MB'; SET LOCAL plan_cache_mode = force_custom_plan"); err != nil {
			return err
		}
		q := db.q.WithTx(tx)
		var rolled []time.Time
		if !db.liveReports {
			days, err := q.RollupDaysIn(ctx, sqlcdb.RollupDaysInParams{FromDay: date(from), ToDay: date(to)})
			if err != nil {
				return err
			}
			rolled = make([]time.Time, len(days))
			for i, d := range days {
				rolled[i] = d.Time
			}
		}
		return fn(q, liveSpan(from, to, rolled))
	})
	if err != nil {
		return fmt.Errorf("report %s: %w", name, err)
	}
	return nil
}

// reportParams are the parameters every report query takes; sqlc makes one
// struct of them per query, all of the same shape.
type reportParams struct {
	FromDay, ToDay, LiveFrom, LiveTo pgtype.Date
}

// params returns the parameters of sp.
func (sp span) params() reportParams {
	return reportParams{FromDay: sp.from, ToDay: sp.to, LiveFrom: sp.liveFrom, LiveTo: sp.liveTo}
}

// reportRows runs a report query returning rows and converts each with conv.
func reportRows[P ~struct{ FromDay, ToDay, LiveFrom, LiveTo pgtype.Date }, R, T any](ctx context.Context, db *DB, name string, from, to time.Time,
	query func(*sqlcdb.Queries, context.Context, P) ([]R, error), conv func(R) T) ([]T, error) {
	var out []T
	err := db.report(ctx, name, from, to, func(q *sqlcdb.Queries, sp span) error {
		rows, err := query(q, ctx, P(sp.params()))
		out = make([]T, len(rows))
		for i, r := range rows {
			out[i] = conv(r)
		}
		return err
	})
	return out, err
}

// ReportCallsByHour returns the calls per UTC day, hour and route.
func (db *DB) ReportCallsByHour(ctx context.Context, from, to time.Time) ([]CallsByHour, error) {
	return reportRows(ctx, db, "calls", from, to, (*sqlcdb.Queries).ReportCallsByHour,
		func(r sqlcdb.ReportCallsByHourRow) CallsByHour { return CallsByHour(r) })
}

// ReportFunnel returns the funnel of the ivr route's calls started in the range.
func (db *DB) ReportFunnel(ctx context.Context, from, to time.Time) (Funnel, error) {
	var out Funnel
	err := db.report(ctx, "funnel", from, to, func(q *sqlcdb.Queries, sp span) error {
		r, err := q.ReportFunnel(ctx, sqlcdb.ReportFunnelParams(sp.params()))
		out = Funnel{Calls: r.Calls, Answered: r.Answered, ReachedPIN: r.ReachedPin,
			Authenticated: r.Authenticated, ChoseOption: r.ChoseOption, Completed: r.Completed}
		return err
	})
	return out, err
}

// ReportMenuOptions returns how often each option of each menu version was
// chosen, most chosen first within a version.
func (db *DB) ReportMenuOptions(ctx context.Context, from, to time.Time) ([]MenuOptionCount, error) {
	return reportRows(ctx, db, "options", from, to, (*sqlcdb.Queries).ReportMenuOptions,
		func(r sqlcdb.ReportMenuOptionsRow) MenuOptionCount { return MenuOptionCount(r) })
}

// ReportInputQuality returns the attempts at every input by outcome, the most
// asked first.
func (db *DB) ReportInputQuality(ctx context.Context, from, to time.Time) ([]InputQuality, error) {
	return reportRows(ctx, db, "inputs", from, to, (*sqlcdb.Queries).ReportInputQuality,
		func(r sqlcdb.ReportInputQualityRow) InputQuality { return InputQuality(r) })
}

// ReportHangups returns where callers hung up, the most frequent place first.
func (db *DB) ReportHangups(ctx context.Context, from, to time.Time) ([]HangupPoint, error) {
	return reportRows(ctx, db, "hangups", from, to, (*sqlcdb.Queries).ReportHangups,
		func(r sqlcdb.ReportHangupsRow) HangupPoint { return HangupPoint(r) })
}

// ReportSurveyResults returns the answers per survey version, question and
// answer, in question order.
func (db *DB) ReportSurveyResults(ctx context.Context, from, to time.Time) ([]SurveyAnswerCount, error) {
	return reportRows(ctx, db, "surveys", from, to, (*sqlcdb.Queries).ReportSurveyResults,
		func(r sqlcdb.ReportSurveyResultsRow) SurveyAnswerCount { return SurveyAnswerCount(r) })
}

// ReportPINSecurity returns the PIN checks and lockouts per day.
func (db *DB) ReportPINSecurity(ctx context.Context, from, to time.Time) ([]PINSecurityDay, error) {
	return reportRows(ctx, db, "pins", from, to, (*sqlcdb.Queries).ReportPINSecurity,
		func(r sqlcdb.ReportPINSecurityRow) PINSecurityDay { return PINSecurityDay(r) })
}

// ReportRecordings returns the recordings per day and purpose.
func (db *DB) ReportRecordings(ctx context.Context, from, to time.Time) ([]RecordingsDay, error) {
	return reportRows(ctx, db, "recordings", from, to, (*sqlcdb.Queries).ReportRecordings,
		func(r sqlcdb.ReportRecordingsRow) RecordingsDay {
			return RecordingsDay{Day: r.Day, Purpose: r.Purpose, Recordings: r.Recordings, TotalMS: r.TotalMs,
				LongestMS: r.LongestMs, CutByHangup: r.CutByHangup, Deleted: r.Deleted}
		})
}

// ReportCallerActivity returns the limit most active known callers (by calls)
// of the range.
func (db *DB) ReportCallerActivity(ctx context.Context, from, to time.Time, limit int) ([]CallerActivity, error) {
	var out []CallerActivity
	err := db.report(ctx, "callers", from, to, func(q *sqlcdb.Queries, sp span) error {
		var rolled []time.Time
		if !db.liveReports {
			months, err := q.RollupMonthsIn(ctx, sqlcdb.RollupMonthsInParams{FromDay: sp.from, ToDay: sp.to})
			if err != nil {
				return err
			}
			for _, m := range months {
				rolled = append(rolled, m.Time)
			}
		}
		mFrom, mTo := sp.months(rolled)
		p := sp.params()
		rows, err := q.ReportCallerActivity(ctx, sqlcdb.ReportCallerActivityParams{FromDay: p.FromDay, ToDay: p.ToDay,
			LiveFrom: p.LiveFrom, LiveTo: p.LiveTo, MonthsFrom: mFrom, MonthsTo: mTo, MaxRows: int32(min(limit, 1<<31-1))})
		out = make([]CallerActivity, len(rows))
		for i, r := range rows {
			out[i] = CallerActivity{CallerID: r.CallerID, Account: r.Account, Name: r.Name, Calls: r.Calls,
				Authenticated: r.Authenticated, MenuChoices: r.MenuChoices, SurveyAnswers: r.SurveyAnswers,
				Recordings: r.Recordings, PINFailures: r.PinFailures, LastCall: r.LastCall}
		}
		return err
	})
	return out, err
}

// ChannelRows is what the call rows of one channel say: how many sessions
// it has, and whether every one of them is closed (its end recorded).
type ChannelRows struct {
	Sessions int64
	Closed   bool
}

// CallRowsClosed returns, for each of the uniqueids that has call rows, its
// sessions and whether they are all closed. Uniqueids without a row are
// absent from the map.
func (db *DB) CallRowsClosed(ctx context.Context, uniqueids []string) (map[string]ChannelRows, error) {
	rows, err := db.q.ReportCallRows(ctx, uniqueids)
	if err != nil {
		return nil, fmt.Errorf("call rows: %w", err)
	}
	out := make(map[string]ChannelRows, len(rows))
	for _, r := range rows {
		out[r.Uniqueid] = ChannelRows{Sessions: r.Sessions, Closed: r.Closed}
	}
	return out, nil
}

// JournalSize is how much a history of calls adds up to: the rows of each of
// the journal's tables, and the database on disk in bytes, indexes included.
type JournalSize struct {
	Calls, Steps, Responses, Recordings, PINAttempts int64
	DatabaseBytes                                    int64
}

// JournalSize counts the journal's rows and measures the database. It reads
// every row of the journal's tables, so it takes seconds on millions of calls.
func (db *DB) JournalSize(ctx context.Context) (JournalSize, error) {
	r, err := db.q.JournalSize(ctx)
	if err != nil {
		return JournalSize{}, fmt.Errorf("journal size: %w", mapErr(err))
	}
	return JournalSize{Calls: r.Calls, Steps: r.Steps, Responses: r.Responses, Recordings: r.Recordings,
		PINAttempts: r.PinAttempts, DatabaseBytes: r.DatabaseBytes}, nil
}

// VacuumJournal vacuums the journal's tables and refreshes their planner
// statistics (VACUUM (ANALYZE)), which a large load should be followed by:
// the reports then run on it as on a history autovacuum has kept up with.
func (db *DB) VacuumJournal(ctx context.Context) error {
	if err := db.q.VacuumJournal(ctx); err != nil {
		return fmt.Errorf("vacuum journal: %w", mapErr(err))
	}
	return nil
}
