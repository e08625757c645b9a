package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/ivrhq/ivr/internal/store"
)

// defaultRollUpEvery is how often a server rolls up the days that became
// complete: a day becomes complete once a day, so an hour is soon enough.
const defaultRollUpEvery = time.Hour

// roller rolls up the complete days into the reports' daily summaries (see
// store.DB.RollUp). Every instance runs one; a day is rolled up once however
// many run at the same time.
type roller struct {
	st    *store.DB
	log   *slog.Logger
	grace time.Duration // how long after its end a day is complete
	every time.Duration // 0: never
}

// run rolls up at once and then every r.every until ctx ends; with r.every 0
// it does nothing.
func (r roller) run(ctx context.Context) {
	if r.every > 0 {
		repeat(ctx, r.every, r.rollUp)
	}
}

// rollUp rolls up what is complete and logs what it did; a failure is logged
// and the next run tries again.
func (r roller) rollUp(ctx context.Context) {
	start := time.Now()
	res, err := r.st.RollUp(ctx, store.RollUpOptions{Now: start, Grace: r.grace})
	if err != nil && ctx.Err() == nil {
		r.log.Warn("rolling up the reports' daily summaries failed; the next run tries again", "err", err.Error(),
			"rolled_up", len(res.Rolled))
	}
	if len(res.Rolled) > 0 {
		r.log.Info("rolled up the reports' daily summaries", "days", len(res.Rolled),
			"first", res.Rolled[0].Day.Format(time.DateOnly), "last", res.Rolled[len(res.Rolled)-1].Day.Format(time.DateOnly),
			"took", time.Since(start).Round(time.Millisecond))
	}
	if len(res.Months) > 0 {
		r.log.Info("added up the callers of whole months", "months", dayList(res.Months))
	}
	if len(res.Waiting) > 0 {
		r.log.Info("days not rolled up yet: calls started on them are still open", "days", dayList(res.Waiting))
	}
}

// repeat runs fn at once and then every d until ctx ends.
func repeat(ctx context.Context, d time.Duration, fn func(context.Context)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		fn(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// dayList writes days as YYYY-MM-DD separated by commas.
func dayList(days []time.Time) string {
	s := make([]string, len(days))
	for i, d := range days {
		s[i] = d.Format(time.DateOnly)
	}
	return strings.Join(s, ",")
}

// maintainRollUps is the roll-up of ivr maintain: it rolls up what is
// complete at now, writing a line per day and what is left.
func maintainRollUps(ctx context.Context, db *store.DB, w io.Writer, now time.Time, grace time.Duration) error {
	start := time.Now()
	res, err := db.RollUp(ctx, store.RollUpOptions{Now: now, Grace: grace,
		Progress: func(done, total int, d store.RolledDay) {
			fmt.Fprintf(w, "rolled up %s (%d/%d): %d summary rows in %s\n", d.Day.Format(time.DateOnly), done, total,
				d.Rows, d.Took.Round(time.Millisecond))
		}})
	fmt.Fprintf(w, "rolled up %d days in %s\n", len(res.Rolled), time.Since(start).Round(time.Millisecond))
	if len(res.Months) > 0 {
		fmt.Fprintf(w, "added up the callers of the whole months starting %s\n", dayList(res.Months))
	}
	if len(res.Skipped) > 0 {
		fmt.Fprintf(w, "rolled up by another instance meanwhile: %s\n", dayList(res.Skipped))
	}
	if len(res.Waiting) > 0 {
		fmt.Fprintf(w, "not rolled up yet, calls started on them are still open (the sweep of ivr serve closes lost ones): %s\n",
			dayList(res.Waiting))
	}
	return err
}
