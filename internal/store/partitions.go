package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store/internal/sqlcdb"
)

// The journal (calls, call_steps, responses, pin_attempts) is partitioned by
// the UTC month of each call's start, with no default partition: a month's
// partitions must exist before its first call. ivr serve makes the current and
// the next PartitionsAhead months at start and every hour; ivr maintain does
// the same once. The partitions are made and dropped by the SQL functions
// ivr_create_month_partitions and ivr_drop_month_partitions of the
// migrations, run through the queries of db/queries/partitions.sql: table
// names cannot be query parameters, so the names are built and quoted there,
// in one place, rather than in Go.

// PartitionsAhead is how many months after the current one EnsurePartitions
// makes.
const PartitionsAhead = 2

// ddlLockTimeout bounds how long making or dropping a partition waits for the
// lock on its table. While it waits, every write to the table queues behind
// it, so it gives up instead and the next attempt tries again.
const ddlLockTimeout = "5s"

// ErrNoPartition is the error of a write to a month of the journal that has
// no partition yet: the partitions were not made ahead (see
// EnsurePartitions). The write can succeed once they are.
var ErrNoPartition = errors.New("no partition for the month of the call (ivr serve makes them every hour; run ivr maintain)")

// noPartition reports whether err is PostgreSQL refusing a row no partition
// takes.
func noPartition(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == pgerrcode.CheckViolation &&
		strings.HasPrefix(pgErr.Message, "no partition of relation")
}

// MonthOf returns the first instant of the UTC month of t.
func MonthOf(t time.Time) time.Time {
	y, m, _ := t.UTC().Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
}

// EnsurePartitions makes the partitions of the journal for the UTC months
// from that of from to that of to which have none, and returns the names of
// the tables it made (none when all were there). It waits at most a few
// seconds for the tables' locks, so it never holds up the calls' writes for
// long; after such a timeout, running it again finishes the job.
func (db *DB) EnsurePartitions(ctx context.Context, from, to time.Time) ([]string, error) {
	var made []string
	err := db.tx(ctx, func(q *sqlcdb.Queries) error {
		if err := q.SetLockTimeout(ctx, ddlLockTimeout); err != nil {
			return err
		}
		var err error
		made, err = q.CreateMonthPartitions(ctx, sqlcdb.CreateMonthPartitionsParams{FirstMonth: date(from.UTC()), LastMonth: date(to.UTC())})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create partitions: %w", err)
	}
	return made, nil
}

// JournalMonths returns the first instant of each UTC month that has a
// partition of calls, oldest first.
func (db *DB) JournalMonths(ctx context.Context) ([]time.Time, error) {
	rows, err := db.q.JournalMonths(ctx)
	if err != nil {
		return nil, fmt.Errorf("journal months: %w", err)
	}
	out := make([]time.Time, len(rows))
	for i, d := range rows {
		out[i] = d.Time
	}
	return out, nil
}

// MonthUsage is what the journal holds of one month: the calls started in it
// with their steps, responses, PIN attempts and recordings, and the bytes the
// month's partitions take on disk (tables and indexes).
type MonthUsage struct {
	Month                                                   time.Time // first instant, UTC
	Calls, Steps, Responses, PINAttempts, Recordings, Bytes int64
}

// MonthUsage counts what the journal holds of the UTC month of month.
func (db *DB) MonthUsage(ctx context.Context, month time.Time) (MonthUsage, error) {
	m := MonthOf(month)
	r, err := db.q.MonthUsage(ctx, sqlcdb.MonthUsageParams{Since: m, Before: m.AddDate(0, 1, 0), Month: date(m.UTC())})
	if err != nil {
		return MonthUsage{}, fmt.Errorf("month usage: %w", err)
	}
	return MonthUsage{Month: m, Calls: r.Calls, Steps: r.Steps, Responses: r.Responses, PINAttempts: r.PinAttempts,
		Recordings: r.Recordings, Bytes: r.Bytes}, nil
}

// MonthRecordings returns the recordings of the calls started in the UTC month
// of month, deleted ones included, in ID order.
func (db *DB) MonthRecordings(ctx context.Context, month time.Time) ([]ivr.Recording, error) {
	m := MonthOf(month)
	rows, err := db.q.MonthRecordings(ctx, sqlcdb.MonthRecordingsParams{Since: m, Before: m.AddDate(0, 1, 0)})
	if err != nil {
		return nil, fmt.Errorf("month recordings: %w", err)
	}
	return recordingsFromRows(rows), nil
}

// DropMonth removes the UTC month of month from the journal in one
// transaction: the rows of the recordings of its calls (their files are the
// caller's business), the reports' per-caller summaries of the month, then
// the month's partitions of call_steps, responses, pin_attempts and calls. It returns the names of the tables dropped (none
// when the month had no partition). Like EnsurePartitions it waits at most a
// few seconds for the locks.
func (db *DB) DropMonth(ctx context.Context, month time.Time) ([]string, error) {
	m := MonthOf(month)
	var dropped []string
	err := db.tx(ctx, func(q *sqlcdb.Queries) error {
		if err := q.SetLockTimeout(ctx, ddlLockTimeout); err != nil {
			return err
		}
		if _, err := q.DeleteMonthRecordings(ctx, sqlcdb.DeleteMonthRecordingsParams{Since: m, Before: m.AddDate(0, 1, 0)}); err != nil {
			return err
		}
		if err := q.DeleteMonthCallerRollups(ctx, sqlcdb.DeleteMonthCallerRollupsParams{FirstDay: date(m.UTC()), NextFirstDay: date(m.AddDate(0, 1, 0).UTC())}); err != nil {
			return err
		}
		var err error
		dropped, err = q.DropMonthPartitions(ctx, date(m.UTC()))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("drop month %s: %w", m.Format("2006-01"), err)
	}
	return dropped, nil
}
