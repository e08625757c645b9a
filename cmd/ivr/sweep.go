package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/ivrhq/ivr/internal/store"
)

// defaultLostAfter is the default of -lost-after: far above any real call
// (menus, a survey and a three-minute recording take minutes), so the sweep
// never closes a call that is still going on.
const defaultLostAfter = 4 * time.Hour

// sweepEvery is how often a server sweeps for lost calls after the sweep at
// start-up: a quarter of lostAfter, at most every 15 minutes.
func sweepEvery(lostAfter time.Duration) time.Duration {
	return min(max(lostAfter/4, time.Second), 15*time.Minute)
}

// sweeper closes as lost the call rows left open by an instance that died.
// Every instance runs one; the sweep is safe to run at once on several.
type sweeper struct {
	st        *store.DB
	log       *slog.Logger
	lostAfter time.Duration
	swept     func(n int64) // counts the rows closed, for the metrics
}

// run sweeps at once and then every sweepEvery until ctx ends.
func (w sweeper) run(ctx context.Context) { repeat(ctx, sweepEvery(w.lostAfter), w.sweep) }

// sweep closes the rows of calls started more than lostAfter ago and still
// open, and logs how many it closed; a failure is logged and the next sweep
// tries again.
func (w sweeper) sweep(ctx context.Context) {
	n, err := w.st.SweepLostCalls(ctx, time.Now().Add(-w.lostAfter))
	if n > 0 && w.swept != nil {
		w.swept(n)
	}
	switch {
	case err != nil && ctx.Err() == nil:
		w.log.Warn("sweep for lost calls failed; the next one tries again", "err", err.Error(), "closed", n)
	case n > 0:
		w.log.Warn("closed the rows of calls left open by an instance that stopped", "closed", n, "end_reason", "lost",
			"older_than", w.lostAfter)
	}
}
