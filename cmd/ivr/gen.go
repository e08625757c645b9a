package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ivrhq/ivr/internal/datagen"
	"github.com/ivrhq/ivr/internal/tabular"
)

// runGenData fills an empty, migrated database with generated traffic for
// measuring the reports: ivr gen-data --calls 1000000 --days 365.
func runGenData(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "gen-data", "", "Fill an empty, migrated database with generated calls for measuring the reports.")
	dbf := fs.database()
	var opt datagen.Options
	fs.IntVar(&opt.Calls, "calls", 1_000_000, "calls to generate")
	fs.IntVar(&opt.Callers, "callers", 0, "callers to generate (default calls/50)")
	fs.IntVar(&opt.Days, "days", 365, "days the calls spread over, ending yesterday unless --start is given")
	start := fs.String("start", "", "first day of traffic, YYYY-MM-DD (UTC)")
	fs.Uint64Var(&opt.Seed, "seed", 1, "random seed; the same seed makes the same data")
	noProgress := fs.Bool("no-progress", false, "do not draw a progress bar")
	if _, err := fs.parse(args, 0, 0); err != nil {
		return err
	}
	if *start != "" {
		t, err := time.Parse(time.DateOnly, *start)
		if err != nil {
			return usageError{fmt.Sprintf("--start %q: want YYYY-MM-DD", *start)}
		}
		opt.Start = t
	}
	db, err := dbf.Store(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	var bar *tabular.Progress
	if !*noProgress {
		bar = tabular.NewProgress(e.stderr, "calls", int64(opt.Calls))
	}
	sum, err := datagen.Write(ctx, db.Pool(), opt, func(n int) { bar.Add(int64(n)) })
	bar.Finish()
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	var r tabular.Rows
	r.Columns = []string{"what", "rows"}
	r.Add("callers", sum.Callers)
	r.Add("calls", sum.Calls)
	r.Add("call steps", sum.Steps)
	r.Add("responses", sum.Responses)
	r.Add("recordings", sum.Recordings)
	r.Add("pin attempts", sum.PINAttempts)
	if err := r.Write(e.stdout, tabular.Table); err != nil {
		return err
	}
	secs := sum.Elapsed.Seconds()
	fmt.Fprintf(e.stdout, "calls from %s to %s, written in %s (%.0f calls/s, %.0f rows/s)\n",
		sum.From.Format(time.DateOnly), sum.To.Format(time.DateOnly), sum.Elapsed.Round(time.Second),
		float64(sum.Calls)/secs, float64(sum.Calls+sum.Steps+sum.Responses+sum.Recordings+sum.PINAttempts)/secs)
	return nil
}
