package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ivrhq/ivr/internal/datagen"
	"github.com/ivrhq/ivr/internal/tabular"
)

// runGenData fills an empty, migrated database with generated traffic for
// measuring the reports, played through the real call flows: ivr gen-data
// --calls 1000000 --days 365.
func runGenData(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "gen-data", "", "Fill an empty, migrated database with generated calls, played through the call flows, for measuring the reports.")
	dbf := fs.database()
	var opt datagen.Options
	fs.IntVar(&opt.Calls, "calls", 1_000_000, "calls to generate")
	fs.IntVar(&opt.Callers, "callers", 0, "callers to generate (default calls/50)")
	fs.IntVar(&opt.Days, "days", 365, "days the calls spread over, ending yesterday unless --start is given")
	start := fs.String("start", "", "first day of traffic, YYYY-MM-DD (UTC)")
	fs.Uint64Var(&opt.Seed, "seed", 1, "random seed; the same seed makes the same calls")
	fs.IntVar(&opt.Lanes, "lanes", 512, "calls played at once")
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
	// Calls the flows end with an error say why on stderr, one line each.
	opt.Logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	var bar *tabular.Progress
	if !*noProgress {
		bar = tabular.NewProgress(e.stderr, "calls", int64(opt.Calls))
	}
	sum, err := datagen.Generate(ctx, db, opt, func(n int) { bar.Add(int64(n)) })
	bar.Finish()
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	t, j := sum.Tally, sum.Journal
	var r tabular.Rows
	r.Columns = []string{"what", "count"}
	for _, row := range []struct {
		what string
		n    int64
	}{
		{"callers", int64(sum.Callers)},
		{"lookup calls", t.Lookups},
		{"ivr calls", t.Calls},
		{"  completed", t.Completed},
		{"  transferred", t.Transferred},
		{"  hung up", t.HungUp},
		{"  auth failed", t.AuthFailed},
		{"  locked out", t.Locked},
		{"PINs typed", t.PINs},
		{"menu choices", t.MenuChoices},
		{"survey answers", t.SurveyAnswers},
		{"recordings", t.Recordings},
		{"journal steps", j.Steps},
		{"responses", j.Responses},
		{"pin attempts", j.PINAttempts},
	} {
		r.Add(row.what, row.n)
	}
	if err := r.Write(e.stdout, tabular.Table); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "calls from %s to %s, played in %s (%.0f calls/s); database %.1f GB\n",
		sum.From.Format(time.DateOnly), sum.To.Format(time.DateOnly), sum.Elapsed.Round(time.Second),
		float64(t.Lookups+t.Calls)/sum.Elapsed.Seconds(), float64(j.DatabaseBytes)/1e9)
	return nil
}
