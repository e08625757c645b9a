// Package store is the PostgreSQL store of the IVR. A *DB implements the ports
// that package ivr declares (CallerDirectory, Journal, PINLedger, Catalog,
// MessageBox) and the administrative methods behind them (CreateCaller,
// CreateMenuVersion, PublishMenu ...).
//
// The SQL lives in db/queries; sqlc generates the typed code under
// internal/sqlcdb, which never leaves this package. Database errors are
// translated once, here: no rows is ivr.ErrNotFound, a unique or exclusion
// violation an *ivr.ConflictError naming the constraint, and a change to a
// published menu or survey version ivr.ErrPublished.
//
// The writes calls make most are group committed (see batcher): the writes
// of one kind that concurrent calls make at the same time become one
// statement over arrays, written by a query of db/queries like any other, and
// sent by the first of those calls on its own goroutine; each method returns
// once its own write is committed, with its own result. One failing write
// does not fail the others. Everything else, reads included, runs its own
// statement on the pool. Stats counts round trips and commits.
//
// A CallerCache answers the lookup route (ivr.CallerLookup) from memory. The
// schema's triggers announce every change to callers and their numbers on the
// channel ivr_callers; the cache listens on a connection of its own, drops
// what a notification names, and is empty and bypassed whenever that
// connection is not listening.
//
//	db, err := store.Open(ctx, os.Getenv("DATABASE_URL"))
//	if err != nil {
//		return err
//	}
//	defer db.Close()
//	caller, err := db.CallerByPhone(ctx, "+14155550123")
//	if errors.Is(err, ivr.ErrNotFound) {
//		...
//	}
package store
