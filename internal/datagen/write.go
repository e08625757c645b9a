package datagen

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/ivrhq/ivr/internal/ivr"
)

// Summary counts what Write stored.
type Summary struct {
	Callers, Calls, Steps, Responses, Recordings, PINAttempts int64
	From, To                                                  time.Time // first and last call start
	Elapsed                                                   time.Duration
}

// batchSize is the number of calls per COPY transaction.
const batchSize = 5000

// Write makes the traffic of opt and stores it in the database behind pool:
// callers and their phone numbers, the main menu and the satisfaction survey
// (three and two published versions), then the calls with their steps,
// responses, recordings and PIN attempts, in batches of COPY, each batch in its
// own transaction, on up to two connections at once. progress, when not nil, is
// called with the number of calls of each stored batch.
//
// The database must be migrated and must hold no callers, menus or surveys with
// the keys the generator uses ("main", "satisfaction", accounts from 100000):
// Write is for a database of its own. It returns the first error, with the
// batches stored before it committed.
func Write(ctx context.Context, pool *pgxpool.Pool, opt Options, progress func(calls int)) (Summary, error) {
	began := time.Now()
	opt = opt.withDefaults(time.Now())
	callers, menus, surveys := plan(opt)
	var sum Summary
	if err := writeCatalog(ctx, pool, callers, menus, surveys); err != nil {
		return sum, err
	}
	sum.Callers = int64(len(callers))
	firstID, err := reserveIDs(ctx, pool, "calls", opt.Calls)
	if err != nil {
		return sum, err
	}

	g := newGenerator(opt, callers, menus, surveys)
	starts := g.startTimes(opt.Calls)
	sum.Calls = int64(len(starts))
	if len(starts) > 0 {
		sum.From, sum.To = starts[0], starts[len(starts)-1]
		if err := createPartitions(ctx, pool, sum.From, sum.To); err != nil {
			return sum, err
		}
	}
	batches := make(chan []CallRecord, 2)
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		defer close(batches)
		for lo := 0; lo < len(starts); lo += batchSize {
			hi := min(lo+batchSize, len(starts))
			b := make([]CallRecord, 0, hi-lo)
			for i := lo; i < hi; i++ {
				rec := g.next(starts[i], int64(i+1))
				resolve(&rec, firstID+int64(i), callers, menus, surveys)
				b = append(b, rec)
			}
			select {
			case batches <- b:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	counts := make(chan Summary, 2)
	for range 2 {
		eg.Go(func() error {
			var n Summary
			defer func() { counts <- n }()
			for b := range batches {
				c, err := writeBatch(ctx, pool, b)
				if err != nil {
					return err
				}
				n.Steps += c.Steps
				n.Responses += c.Responses
				n.Recordings += c.Recordings
				n.PINAttempts += c.PINAttempts
				if progress != nil {
					progress(len(b))
				}
			}
			return nil
		})
	}
	err = eg.Wait()
	close(counts)
	for c := range counts {
		sum.Steps += c.Steps
		sum.Responses += c.Responses
		sum.Recordings += c.Recordings
		sum.PINAttempts += c.PINAttempts
	}
	if err == nil {
		_, err = pool.Exec(context.WithoutCancel(ctx), "ANALYZE calls, call_steps, responses, recordings, pin_attempts")
	}
	sum.Elapsed = time.Since(began)
	return sum, err
}

// createPartitions makes the month partitions of the journal from the month
// of from to that of to, those missing (see ivr_create_month_partitions in
// db/migrations).
func createPartitions(ctx context.Context, pool *pgxpool.Pool, from, to time.Time) error {
	if _, err := pool.Exec(ctx, "SELECT ivr_create_month_partitions($1, $2)", from.UTC().Format(time.DateOnly), to.UTC().Format(time.DateOnly)); err != nil {
		return fmt.Errorf("create partitions: %w", err)
	}
	return nil
}

// reserveIDs advances the identity sequence of table by n and returns the first
// of the n ids reserved.
func reserveIDs(ctx context.Context, pool *pgxpool.Pool, table string, n int) (int64, error) {
	if n <= 0 {
		return 1, nil
	}
	var last int64
	err := pool.QueryRow(ctx, `SELECT setval(pg_get_serial_sequence($1, 'id'), nextval(pg_get_serial_sequence($1, 'id')) + $2 - 1)`,
		table, n).Scan(&last)
	if err != nil {
		return 0, fmt.Errorf("reserve %s ids: %w", table, err)
	}
	return last - int64(n) + 1, nil
}

// resolve replaces the generator's placeholders (caller index+1, menu and
// survey version numbers) by database ids and sets the call id everywhere.
func resolve(rec *CallRecord, callID int64, callers []CallerSeed, menus []MenuSeed, surveys []SurveySeed) {
	caller := func(placeholder int64) int64 {
		if placeholder <= 0 {
			return 0
		}
		return callers[placeholder-1].ID
	}
	rec.Call.ID = callID
	rec.Call.CallerID = caller(rec.Call.CallerID)
	rec.End.CallerID = caller(rec.End.CallerID)
	if v := rec.End.MenuVersionID; v > 0 {
		rec.End.MenuVersionID = menus[v-1].VersionID
	}
	for i := range rec.Steps {
		rec.Steps[i].CallID = callID
	}
	for i := range rec.Responses {
		r := &rec.Responses[i]
		r.CallID = callID
		r.CallerID = caller(r.CallerID)
		if r.MenuVersionID > 0 {
			r.MenuVersionID = menus[r.MenuVersionID-1].VersionID
		}
		if r.SurveyVersionID > 0 {
			r.SurveyVersionID = surveys[r.SurveyVersionID-1].VersionID
		}
	}
	for i := range rec.Recordings {
		rec.Recordings[i].CallID = callID
		rec.Recordings[i].CallerID = caller(rec.Recordings[i].CallerID)
	}
	for i := range rec.PINAttempts {
		rec.PINAttempts[i].CallID = callID
		rec.PINAttempts[i].CallerID = caller(rec.PINAttempts[i].CallerID)
	}
}

// writeCatalog stores the callers, menus and surveys and fills in their ids.
func writeCatalog(ctx context.Context, pool *pgxpool.Pool, callers []CallerSeed, menus []MenuSeed, surveys []SurveySeed) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM calls) + (SELECT count(*) FROM menus WHERE key = 'main')
			+ (SELECT count(*) FROM surveys WHERE key = 'satisfaction')`).Scan(&n); err != nil {
			return fmt.Errorf("check database: %w", err)
		}
		if n > 0 {
			return errors.New("the database already holds calls, or a menu \"main\" or a survey \"satisfaction\": generate into an empty database")
		}
		first, err := reserveIDs(ctx, pool, "callers", len(callers))
		if err != nil {
			return err
		}
		for i := range callers {
			callers[i].ID = first + int64(i)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"callers"}, []string{"id", "account", "name"},
			source(callers, func(c CallerSeed) []any { return []any{c.ID, c.Account, c.Name} })); err != nil {
			return fmt.Errorf("copy callers: %w", err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"caller_phones"}, []string{"caller_id", "e164"},
			source(callers, func(c CallerSeed) []any { return []any{c.ID, c.Phone} })); err != nil {
			return fmt.Errorf("copy caller phones: %w", err)
		}
		var menuID int64
		if err := tx.QueryRow(ctx, `INSERT INTO menus (key) VALUES ('main') RETURNING id`).Scan(&menuID); err != nil {
			return fmt.Errorf("insert menu: %w", err)
		}
		for i := range menus {
			m := &menus[i]
			// Options go in before the version is published: a published
			// version is immutable.
			if err := tx.QueryRow(ctx, `INSERT INTO menu_versions (menu_id, version, prompt, timeout_ms, max_digits, max_attempts, failure_action, failure_target, created_at)
				VALUES ($1, $2, $3, 5000, 1, 3, 'operator', 'operator', $4) RETURNING id`,
				menuID, m.Version, m.Prompt, m.Live).Scan(&m.VersionID); err != nil {
				return fmt.Errorf("insert menu version: %w", err)
			}
			for pos, o := range m.Options {
				if _, err := tx.Exec(ctx, `INSERT INTO menu_options (menu_version_id, digits, position, action, target, label) VALUES ($1, $2, $3, $4, $5, $6)`,
					m.VersionID, o.Digits, pos+1, string(o.Action.Kind), o.Action.Target, o.Label); err != nil {
					return fmt.Errorf("insert menu option: %w", err)
				}
			}
			if _, err := tx.Exec(ctx, `UPDATE menu_versions SET published_at = $2 WHERE id = $1`, m.VersionID, m.Live); err != nil {
				return fmt.Errorf("publish menu version: %w", err)
			}
		}
		var surveyID int64
		if err := tx.QueryRow(ctx, `INSERT INTO surveys (key) VALUES ('satisfaction') RETURNING id`).Scan(&surveyID); err != nil {
			return fmt.Errorf("insert survey: %w", err)
		}
		for i := range surveys {
			s := &surveys[i]
			if err := tx.QueryRow(ctx, `INSERT INTO survey_versions (survey_id, version, intro_prompt, thank_you_prompt, created_at)
				VALUES ($1, $2, 'survey-intro', 'survey-thanks', $3) RETURNING id`, surveyID, s.Version, s.Live).Scan(&s.VersionID); err != nil {
				return fmt.Errorf("insert survey version: %w", err)
			}
			for _, q := range s.Questions {
				var lo, hi *int
				if q.Range != nil {
					lo, hi = &q.Range.Min, &q.Range.Max
				}
				if _, err := tx.Exec(ctx, `INSERT INTO survey_questions (survey_version_id, position, key, prompt, allowed_digits, range_min, range_max, required)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, s.VersionID, q.Position, q.Key, q.Prompt, q.AllowedDigits, lo, hi, q.Required); err != nil {
					return fmt.Errorf("insert survey question: %w", err)
				}
			}
			if _, err := tx.Exec(ctx, `UPDATE survey_versions SET published_at = $2 WHERE id = $1`, s.VersionID, s.Live); err != nil {
				return fmt.Errorf("publish survey version: %w", err)
			}
		}
		return nil
	})
}

// WriteCalls stores calls exactly as given, ids included, in one transaction:
// the rows, then their steps, responses, recordings and PIN attempts. The
// callers, menu versions and survey versions they name must exist. Tests use
// it to store a small known dataset. The month partitions the calls need are
// made first.
func WriteCalls(ctx context.Context, pool *pgxpool.Pool, calls []CallRecord) error {
	if len(calls) == 0 {
		return nil
	}
	from, to := calls[0].Call.StartedAt, calls[0].Call.StartedAt
	for _, c := range calls {
		if c.Call.StartedAt.Before(from) {
			from = c.Call.StartedAt
		}
		if c.Call.StartedAt.After(to) {
			to = c.Call.StartedAt
		}
	}
	if err := createPartitions(ctx, pool, from, to); err != nil {
		return err
	}
	_, err := writeBatch(ctx, pool, calls)
	return err
}

// ofCall is a row of a call's child table with the start of its call, which
// places it in its call's month.
type ofCall[T any] struct {
	row   T
	start time.Time
}

// withStart pairs each of rows with start.
func withStart[T any](rows []T, start time.Time) []ofCall[T] {
	out := make([]ofCall[T], len(rows))
	for i, r := range rows {
		out[i] = ofCall[T]{r, start}
	}
	return out
}

// writeBatch stores one batch of calls in one transaction.
func writeBatch(ctx context.Context, pool *pgxpool.Pool, b []CallRecord) (Summary, error) {
	var (
		n     Summary
		steps []ofCall[ivr.Step]
		resps []ofCall[ivr.Response]
		recs  []ofCall[ivr.Recording]
		pins  []ofCall[ivr.PINAttempt]
	)
	for i := range b {
		start := b[i].Call.StartedAt
		steps = append(steps, withStart(b[i].Steps, start)...)
		resps = append(resps, withStart(b[i].Responses, start)...)
		recs = append(recs, withStart(b[i].Recordings, start)...)
		pins = append(pins, withStart(b[i].PINAttempts, start)...)
	}
	n.Steps, n.Responses, n.Recordings, n.PINAttempts = int64(len(steps)), int64(len(resps)), int64(len(recs)), int64(len(pins))
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		copies := []struct {
			table string
			cols  []string
			src   pgx.CopyFromSource
		}{
			{"calls", []string{"id", "uniqueid", "linkedid", "channel", "route", "callerid_raw", "callerid_e164", "dnid",
				"caller_id", "started_at", "answered_at", "ended_at", "end_reason", "authenticated", "menu_version_id"},
				source(b, callRow)},
			{"call_steps", []string{"call_id", "seq", "key", "kind", "digits", "secret", "outcome", "attempt", "elapsed_ms", "at", "call_started_at"},
				source(steps, stepRow)},
			{"responses", []string{"call_id", "caller_id", "menu_version_id", "survey_version_id", "question_key", "answer", "at", "call_started_at"},
				source(resps, responseRow)},
			{"recordings", []string{"call_id", "caller_id", "path", "format", "endpos", "duration_ms", "end_reason", "end_key", "purpose", "created_at",
				"call_started_at"},
				source(recs, recordingRow)},
			{"pin_attempts", []string{"caller_id", "call_id", "success", "at", "call_started_at"},
				source(pins, pinRow)},
		}
		for _, c := range copies {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, c.src); err != nil {
				return fmt.Errorf("copy %s: %w", c.table, err)
			}
		}
		return nil
	})
	return n, err
}

func callRow(r CallRecord) []any {
	c, e := r.Call, r.End
	var reason *string
	var ended *time.Time
	if e.Reason != "" {
		s := string(e.Reason)
		reason, ended = &s, &e.EndedAt
	}
	var answered *time.Time
	if !e.AnsweredAt.IsZero() {
		answered = &e.AnsweredAt
	}
	callerID := c.CallerID
	if e.CallerID != 0 {
		callerID = e.CallerID
	}
	linked := c.LinkedID
	if e.LinkedID != "" {
		linked = e.LinkedID
	}
	return []any{c.ID, c.UniqueID, linked, c.Channel, c.Route, c.CallerIDRaw, c.CallerIDE164, c.DNID,
		nullID(callerID), c.StartedAt, answered, ended, reason, e.Authenticated, nullID(e.MenuVersionID)}
}

func stepRow(c ofCall[ivr.Step]) []any {
	s := c.row
	var digits *string
	if !s.Secret {
		digits = &s.Digits
	}
	return []any{s.CallID, int32(s.Seq), s.Key, string(s.Kind), digits, s.Secret, string(s.Outcome),
		int32(max(s.Attempt, 1)), int32(s.Elapsed.Milliseconds()), s.At, c.start}
}

func responseRow(c ofCall[ivr.Response]) []any {
	r := c.row
	return []any{r.CallID, nullID(r.CallerID), nullID(r.MenuVersionID), nullID(r.SurveyVersionID), r.QuestionKey, r.Answer, r.At, c.start}
}

func recordingRow(c ofCall[ivr.Recording]) []any {
	r := c.row
	return []any{r.CallID, nullID(r.CallerID), r.Path, r.Format, r.EndPos, int32(r.Duration.Milliseconds()),
		string(r.Reason), r.Key, string(r.Purpose), r.CreatedAt, c.start}
}

// pinRow is an attempt's row: one made on no call is placed by its own time.
func pinRow(c ofCall[ivr.PINAttempt]) []any {
	p, start := c.row, c.start
	if p.CallID == 0 {
		start = p.At
	}
	return []any{p.CallerID, nullID(p.CallID), p.Success, p.At, start}
}

// nullID maps the domain's "0 means none" to SQL NULL.
func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// sliceSource feeds a slice to COPY, one row per element.
type sliceSource[T any] struct {
	items []T
	row   func(T) []any
	i     int
}

func source[T any](items []T, row func(T) []any) *sliceSource[T] {
	return &sliceSource[T]{items: items, row: row, i: -1}
}

func (s *sliceSource[T]) Next() bool             { s.i++; return s.i < len(s.items) }
func (s *sliceSource[T]) Values() ([]any, error) { return s.row(s.items[s.i]), nil }
func (s *sliceSource[T]) Err() error             { return nil }
