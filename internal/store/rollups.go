package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/ivrhq/ivr/internal/store/internal/sqlcdb"
)

// DefaultRollUpGrace is how long after the end of a UTC day RollUp waits
// before it rolls the day up. A call started just before midnight can stay
// open until the sweep closes it as lost: its row is closed at most
// -lost-after (4 hours by default) plus one sweep interval (at most 15
// minutes) after it started. Six hours covers that with room for the writes
// a short database outage holds back. A day that still has an open call after
// the grace waits for it (see RollUp).
const DefaultRollUpGrace = 6 * time.Hour

// RollUpOptions says which days RollUp rolls up and how it tells progress.
type RollUpOptions struct {
	// Now is the current time; RollUp rolls up the days that ended Grace or
	// more before it.
	Now time.Time
	// Grace is how long after its end a day is complete. Zero means
	// DefaultRollUpGrace.
	Grace time.Duration
	// Progress, when set, is called after each day rolled up, with the days
	// done so far and the days RollUp set out to do.
	Progress func(done, total int, day RolledDay)
}

// RolledDay is one day RollUp rolled up.
type RolledDay struct {
	Day  time.Time // midnight UTC
	Rows int64     // summary rows written for it
	Took time.Duration
}

// RollUpResult is what RollUp did.
type RollUpResult struct {
	// Rolled are the days it rolled up, oldest first.
	Rolled []RolledDay
	// Skipped are the complete days it left because another instance rolled
	// them up first.
	Skipped []time.Time
	// Waiting are the complete days it left because a call started on them is
	// still open: a later run rolls them up once the call is closed (by its
	// end, or by the sweep of lost calls).
	Waiting []time.Time
	// Months are the first days of the months whose callers it added up
	// once every day of the month was rolled up.
	Months []time.Time
}

// RollUp rolls up every complete day not rolled up yet, oldest first: it
// writes each day's rows of the report views into the daily summaries that
// the reports read instead of the journal for that day. Each day is one
// transaction, which claims the day in rollup_days first, so a day is rolled
// up once however many instances run RollUp at the same time, and a failure
// leaves no half day behind. On an existing database the first run rolls up
// every past day (a backfill); later runs find one new day a day. A day is
// complete once opts.Grace has passed since its end and no call started on it
// is still open. Once every day of a month is rolled up, RollUp also adds up
// the month's daily summary of callers (the one summary with about a row per
// call), in one transaction per month claimed the same way. RollUp stops at
// the first error, returning what it did.
func (db *DB) RollUp(ctx context.Context, opts RollUpOptions) (RollUpResult, error) {
	var res RollUpResult
	grace := opts.Grace
	if grace <= 0 {
		grace = DefaultRollUpGrace
	}
	// The last complete day is the one that ended grace or more before now.
	last := opts.Now.UTC().Add(-grace).Truncate(24*time.Hour).AddDate(0, 0, -1)
	pending, err := db.q.RollupPendingDays(ctx, date(last))
	if err != nil {
		return res, fmt.Errorf("roll up: pending days: %w", err)
	}
	var todo []time.Time
	for _, p := range pending {
		if p.HasOpen {
			res.Waiting = append(res.Waiting, p.Day.Time)
			continue
		}
		todo = append(todo, p.Day.Time)
	}
	for i, day := range todo {
		start := time.Now()
		rows, claimed, err := db.rollUpDay(ctx, day)
		if err != nil {
			return res, fmt.Errorf("roll up %s: %w", day.Format(time.DateOnly), err)
		}
		if !claimed {
			res.Skipped = append(res.Skipped, day)
			continue
		}
		d := RolledDay{Day: day, Rows: rows, Took: time.Since(start)}
		res.Rolled = append(res.Rolled, d)
		if opts.Progress != nil {
			opts.Progress(i+1, len(todo), d)
		}
	}
	months, err := db.q.RollupPendingMonths(ctx)
	if err != nil {
		return res, fmt.Errorf("roll up: pending months: %w", err)
	}
	for _, m := range months {
		claimed, err := db.rollUpMonth(ctx, m.Time)
		if err != nil {
			return res, fmt.Errorf("roll up %s: %w", m.Time.Format("2006-01"), err)
		}
		if claimed {
			res.Months = append(res.Months, m.Time)
		}
	}
	return res, nil
}

// rollUpMonth adds up the daily summaries of callers of the month starting
// on month, in one transaction, or returns claimed false when the month was
// already done.
func (db *DB) rollUpMonth(ctx context.Context, month time.Time) (claimed bool, err error) {
	err = db.rollUpTx(ctx, func(q *sqlcdb.Queries) error {
		n, err := q.RollupClaimMonth(ctx, date(month))
		if err != nil || n == 0 {
			return err
		}
		claimed = true
		_, err = q.RollupCallerActivityMonth(ctx, sqlcdb.RollupCallerActivityMonthParams{
			Month: date(month), LastDay: date(month.AddDate(0, 1, -1))})
		return err
	})
	return claimed, err
}

// rollUpTx runs fn in one transaction tuned for aggregating.
func (db *DB) rollUpTx(ctx context.Context, fn func(q *sqlcdb.Queries) error) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL jit = off; SET LOCAL work_mem = '64MB'"); err != nil {
			return err
		}
		return fn(db.q.WithTx(tx))
	})
}

// rollUpDay rolls up one day in one transaction and returns the summary rows
// it wrote, or claimed false when the day was already rolled up.
func (db *DB) rollUpDay(ctx context.Context, day time.Time) (rows int64, claimed bool, err error) {
	d := date(day)
	err = db.rollUpTx(ctx, func(q *sqlcdb.Queries) error {
		n, err := q.RollupClaimDay(ctx, d)
		if err != nil || n == 0 {
			return err
		}
		claimed = true
		for _, copyRows := range []func(*sqlcdb.Queries, context.Context, pgtype.Date) (int64, error){
			(*sqlcdb.Queries).RollupCallsByHour, (*sqlcdb.Queries).RollupFunnel, (*sqlcdb.Queries).RollupMenuOptions,
			(*sqlcdb.Queries).RollupInputQuality, (*sqlcdb.Queries).RollupHangups, (*sqlcdb.Queries).RollupSurveyResults,
			(*sqlcdb.Queries).RollupPINSecurity, (*sqlcdb.Queries).RollupRecordings, (*sqlcdb.Queries).RollupCallerActivity,
		} {
			n, err := copyRows(q, ctx, d)
			if err != nil {
				return err
			}
			rows += n
		}
		return nil
	})
	if err != nil {
		return 0, false, err
	}
	return rows, claimed, nil
}
