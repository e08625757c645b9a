package main

import (
	"fmt"
	"math"

	"github.com/ivrhq/ivr/internal/store"
)

// fdMargin is the open files ivr keeps for other than calls and database
// connections: its listeners and standard streams, the HTTP scrapes and
// probes, and the connections it accepts only to refuse them.
const fdMargin = 64

// checkFileLimit raises the soft limit of open files to the hard one, and
// refuses -max-calls when the calls, the database connections (the pool of
// dsn and the connections the caches listen on) and fdMargin cannot all be
// open at once under it: past it, accepting a call fails with "too many open
// files". Without a call limit there is nothing to check.
func checkFileLimit(c *serveConfig, dsn string) error {
	if c.maxCalls == 0 {
		return nil
	}
	pool, err := store.PoolSize(dsn)
	if err != nil {
		return err
	}
	db := pool
	if c.lookupCache > 0 {
		db++
	}
	if c.catalogCache {
		db++
	}
	limit, err := raiseFileLimit()
	if err != nil {
		return err
	}
	need := uint64(c.maxCalls) + uint64(db) + fdMargin
	if limit == math.MaxUint64 || need <= limit { // RLIM_INFINITY
		return nil
	}
	return fmt.Errorf("-max-calls %d does not fit the open-file limit of %d: %d calls, %d database connections and %d for listeners and other files need %d; "+
		"raise the limit (LimitNOFILE= in the systemd unit, ulimit -n, or the container's nofile ulimit) or lower -max-calls to %d",
		c.maxCalls, limit, c.maxCalls, db, fdMargin, need, max(int64(limit)-int64(db)-fdMargin, 1))
}
