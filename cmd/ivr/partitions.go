package main

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/ivrhq/ivr/internal/store"
)

// partitionEvery is how often a server checks that the journal's partitions
// for the coming months exist, after the check at start.
const partitionEvery = time.Hour

// partitioner makes the month partitions of the journal ahead of time: the
// current month and the store.PartitionsAhead after it. Every instance runs
// one; making them is idempotent and safe to run at once on several.
type partitioner struct {
	st  *store.DB
	log *slog.Logger
	now func() time.Time // time.Now when nil
}

// ensure makes the partitions missing from the current month to
// store.PartitionsAhead months later and returns the names of those it made.
func (p partitioner) ensure(ctx context.Context) ([]string, error) {
	now := time.Now()
	if p.now != nil {
		now = p.now()
	}
	from := store.MonthOf(now)
	return p.st.EnsurePartitions(ctx, from, from.AddDate(0, store.PartitionsAhead, 0))
}

// check runs ensure and logs what it made, or its failure: the calls of a
// month without partitions cannot be stored, and the next check tries again.
func (p partitioner) check(ctx context.Context) {
	made, err := p.ensure(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		p.log.Error("could not make the journal's partitions for the coming months; the next check tries again",
			"err", err.Error(), "months_ahead", store.PartitionsAhead)
	case len(made) > 0:
		p.log.Info("made journal partitions", "tables", strings.Join(made, ","))
	}
}

// run checks every partitionEvery until ctx ends (the check at start is the
// caller's, before it takes calls).
func (p partitioner) run(ctx context.Context) {
	t := time.NewTicker(partitionEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.check(ctx)
		}
	}
}
