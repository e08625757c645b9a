package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ivrhq/ivr/internal/store"
)

// runMaintain is `ivr maintain`: the upkeep of the database that ivr serve
// also does on its own, for an operator or a timer to run at any time. It
// makes the journal's missing month partitions, then rolls up the complete
// days into the reports' daily summaries.
func runMaintain(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "maintain", "", fmt.Sprintf("Make the journal's month partitions for the current month and the %d after it "+
		"that are missing, then roll up every complete UTC day not rolled up yet into the daily summaries the reports read, "+
		"printing what it made and each day as it is done (the first run on an existing database does every past day). "+
		"ivr serve does the same at start and every hour; run this where no server runs for a while, after a migration, "+
		"or from a timer. Safe to run while ivr serve runs, and on several hosts at once.", store.PartitionsAhead))
	dbf := fs.database()
	grace := fs.Duration("rollup-grace", store.DefaultRollUpGrace, "how long after the end of a UTC day it is complete and rolled up (keep it above -lost-after of ivr serve)")
	if _, err := fs.parse(args, 0, 0); err != nil {
		return err
	}
	if *grace <= 0 {
		return usageError{"-rollup-grace must be positive"}
	}
	db, err := dbf.Store(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	made, err := partitioner{st: db}.ensure(ctx)
	if err != nil {
		return err
	}
	if len(made) == 0 {
		fmt.Fprintf(e.stdout, "journal partitions already there for this month and the %d after it\n", store.PartitionsAhead)
	} else {
		fmt.Fprintf(e.stdout, "made journal partitions: %s\n", strings.Join(made, ", "))
	}
	return maintainRollUps(ctx, db, e.stdout, time.Now(), *grace)
}
