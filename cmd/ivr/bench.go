package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/tabular"
)

// benchResult is what a load run measured.
type benchResult struct {
	calls     int
	errors    int                        // calls that could not be played: refused, dropped, FAILURE
	firstErrs []string                   // the first few error messages
	results   map[string]int             // IVR_RESULT (or IVR_CALLER_FOUND for lookup) per value
	callLat   []time.Duration            // whole call, connect to close
	cmdLat    map[string][]time.Duration // per command: the server's time before sending it
	uniqueids []string
	elapsed   time.Duration
}

// runBench is `ivr bench`: many simulated calls at once against a running
// server, for a count or a duration.
func runBench(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench", "", "Load a running server with simulated calls, for a count or a duration, and print the latencies.")
	var cf callFlags
	cf.register(fs)
	dbf := fs.database()
	concurrency := fs.Int("concurrency", 10, "calls in flight at once")
	count := fs.Int("calls", 0, "calls to make in all (default 1000 unless --duration is given)")
	duration := fs.Duration("duration", 0, "keep starting calls this long instead of a count")
	format := fs.String("format", "table", "output format of the latency table: table, csv or json")
	noProgress := fs.Bool("no-progress", false, "do not draw a progress bar")
	hangups := fs.Float64("hangup-rate", 0, "share of the calls (0 to 1) in which the caller hangs up at a random command among the first eight")
	check := fs.Bool("check-db", false, "check the call rows in the database (implied by --database-url or DATABASE_URL)")
	if _, err := fs.parse(args, 0, 0); err != nil {
		return err
	}
	f, err := tabular.ParseFormat(*format)
	if err != nil {
		return usageError{"bench: " + err.Error()}
	}
	if *concurrency < 1 || *count < 0 || *duration < 0 || *hangups < 0 || *hangups > 1 {
		return usageError{"bench: --concurrency must be at least 1, --calls and --duration not negative, --hangup-rate from 0 to 1"}
	}
	if *count == 0 && *duration == 0 {
		*count = 1000
	}
	if len(cf.scripts()) > 1 {
		return usageError{"bench: give one --route; each call is one AGI session"}
	}
	base, err := cf.call()
	if err != nil {
		return err
	}
	_, urlErr := dbf.URL()
	checkDB := *check || urlErr == nil
	if *check && urlErr != nil {
		return urlErr
	}

	var bar *tabular.Progress
	if !*noProgress {
		bar = tabular.NewProgress(e.stderr, "calls", int64(*count))
	}
	res := bench(ctx, base, cf.addr, *concurrency, *count, *duration, bar, randomHangups(*hangups))
	bar.Finish()

	summary := e.stdout
	if f != tabular.Table {
		summary = e.stderr // keep stdout to the machine-readable table
	}
	writeBenchSummary(summary, res)
	if err := latencyRows(res).Write(e.stdout, f); err != nil {
		return err
	}
	var problems []string
	if res.errors > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d calls failed", res.errors, res.calls))
	}
	if checkDB {
		chk, err := checkCallRows(ctx, dbf, res.uniqueids)
		if err != nil {
			return err
		}
		fmt.Fprintf(summary, "call rows: %d of %d closed, %d still open, %d missing, %d stored more than once\n",
			len(res.uniqueids)-chk.missing-chk.open, len(res.uniqueids), chk.open, chk.missing, chk.repeated)
		if chk.missing+chk.open > 0 {
			problems = append(problems, fmt.Sprintf("%d calls have no closed call row", chk.missing+chk.open))
		}
		if chk.repeated > 0 {
			problems = append(problems, fmt.Sprintf("%d calls have more than one call row", chk.repeated))
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if len(problems) > 0 {
		return errors.New("bench: " + strings.Join(problems, "; "))
	}
	return nil
}

// randomHangups returns the vary of bench that makes the caller hang up at a
// random command among the first eight in a share rate of the calls; nil for
// a rate of 0.
func randomHangups(rate float64) func(n int64, c *agiclient.Call) {
	if rate <= 0 {
		return nil
	}
	return func(_ int64, c *agiclient.Call) {
		if rand.Float64() < rate {
			c.HangupAtStep = 1 + rand.IntN(8)
		}
	}
}

// bench plays calls of base against addr, concurrency at a time, until count
// calls have been started or, for a duration, until it has passed. Each call
// gets its own uniqueid; vary, when not nil, may change call number n before
// it is played.
func bench(ctx context.Context, base agiclient.Call, addr string, concurrency, count int, duration time.Duration,
	bar *tabular.Progress, vary func(n int64, c *agiclient.Call)) benchResult {
	res := benchResult{results: map[string]int{}, cmdLat: map[string][]time.Duration{}}
	runID := time.Now().UnixMicro()
	var (
		next     atomic.Int64
		mu       sync.Mutex
		wg       sync.WaitGroup
		deadline time.Time
	)
	start := time.Now()
	if duration > 0 {
		deadline = start.Add(duration)
	}
	resultVar := "IVR_RESULT"
	if strings.HasPrefix(base.Script, "lookup") {
		resultVar = "IVR_CALLER_FOUND"
	}
	for range concurrency {
		wg.Go(func() {
			for ctx.Err() == nil {
				n := next.Add(1)
				if (count > 0 && n > int64(count)) || (!deadline.IsZero() && time.Now().After(deadline)) {
					return
				}
				c := base
				c.Env = make(map[string]string, len(base.Env)+1)
				for k, v := range base.Env {
					c.Env[k] = v
				}
				uid := fmt.Sprintf("%d.%d", runID, n)
				c.Env["agi_uniqueid"] = uid
				if vary != nil {
					vary(n, &c)
				}
				tr, err := c.Run(ctx, addr)
				if err == nil && tr.Failure {
					err = errors.New("the server ended with FAILURE")
				}
				mu.Lock()
				res.calls++
				res.uniqueids = append(res.uniqueids, uid)
				if err != nil {
					res.errors++
					if len(res.firstErrs) < 5 {
						res.firstErrs = append(res.firstErrs, fmt.Sprintf("call %s: %v", uid, err))
					}
				} else {
					res.callLat = append(res.callLat, tr.End.Sub(tr.Start))
					v, ok := tr.Variables[resultVar]
					if !ok {
						v = "(not set)"
					}
					res.results[resultVar+"="+v]++
					for _, s := range tr.Steps {
						res.cmdLat[s.Command.Name] = append(res.cmdLat[s.Command.Name], s.Wait)
					}
				}
				mu.Unlock()
				bar.Add(1)
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

// writeBenchSummary prints the rate, the errors and the results.
func writeBenchSummary(w io.Writer, r benchResult) {
	rate := 0.0
	if s := r.elapsed.Seconds(); s > 0 {
		rate = float64(r.calls) / s
	}
	fmt.Fprintf(w, "calls: %d in %s, %.1f calls/s, %d errors\n", r.calls, r.elapsed.Round(time.Millisecond), rate, r.errors)
	for _, e := range r.firstErrs {
		fmt.Fprintln(w, "  "+e)
	}
	keys := make([]string, 0, len(r.results))
	for k := range r.results {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, r.results[k]))
	}
	if len(parts) > 0 {
		fmt.Fprintln(w, "results: "+strings.Join(parts, ", "))
	}
}

// latencyRows is the latency table: one row for whole calls, then one per
// command, where a command's latency is the server's time before it sent the
// command (from the previous reply, or the environment).
func latencyRows(r benchResult) tabular.Rows {
	rows := tabular.Rows{Columns: []string{"latency_of", "count", "p50", "p90", "p99", "max"}}
	add := func(name string, ds []time.Duration) {
		if len(ds) == 0 {
			return
		}
		ds = slices.Clone(ds)
		slices.Sort(ds)
		q := func(p float64) string {
			i := int(p*float64(len(ds))+0.5) - 1
			return fmtLatency(ds[min(max(i, 0), len(ds)-1)])
		}
		rows.Add(name, len(ds), q(0.50), q(0.90), q(0.99), fmtLatency(ds[len(ds)-1]))
	}
	add("call", r.callLat)
	names := make([]string, 0, len(r.cmdLat))
	for n := range r.cmdLat {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		add(n, r.cmdLat[n])
	}
	return rows
}

// fmtLatency prints a duration in milliseconds with enough precision.
func fmtLatency(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

// callRowCheck counts the simulated calls whose channel has no call row,
// has a row still open, or has more than one row (each simulated call is one
// session on a channel of its own).
type callRowCheck struct{ missing, open, repeated int }

// checkCallRows checks the call rows of the uniqueids.
func checkCallRows(ctx context.Context, dbf *dbFlags, uniqueids []string) (callRowCheck, error) {
	var chk callRowCheck
	db, err := dbf.Store(ctx)
	if err != nil {
		return chk, err
	}
	defer db.Close()
	rows, err := db.CallRowsClosed(ctx, uniqueids)
	if err != nil {
		return chk, err
	}
	for _, u := range uniqueids {
		c, ok := rows[u]
		switch {
		case !ok:
			chk.missing++
		case !c.Closed:
			chk.open++
		}
		if c.Sessions > 1 {
			chk.repeated++
		}
	}
	return chk, nil
}
