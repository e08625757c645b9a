package store

import "time"

// SetAfterRead makes f run in every lookup that missed, between its read of
// the database and the store of the answer.
func SetAfterRead(c *CallerCache, f func()) { c.afterRead = f }

// ListenerPID returns the server process of c's listening connection, or 0
// when there is none.
func ListenerPID(c *CallerCache) uint32 { return c.listen.pid.Load() }

// NewCallerCacheWithPing is NewCallerCache with the listening connection
// pinged after ping of silence.
func NewCallerCacheWithPing(db *DB, opts CallerCacheOptions, ping time.Duration) *CallerCache {
	return newCallerCache(db, opts, ping)
}

// SetCatalogAfterRead makes f run in every read of c that missed, between its
// read of the database and the store of the answer.
func SetCatalogAfterRead(c *CatalogCache, f func()) { c.afterRead = f }

// CatalogListenerPID returns the server process of c's listening connection,
// or 0 when there is none.
func CatalogListenerPID(c *CatalogCache) uint32 { return c.listen.pid.Load() }

// CommitterPID returns the server process of the connection of the last
// group commit, or 0 before the first.
func CommitterPID(db *DB) uint32 { return db.pid.Load() }

// SetLiveReports makes the reports of db read every day from the views
// (on) or the rolled-up days from the daily summaries (off, the default).
func SetLiveReports(db *DB, on bool) { db.liveReports = on }
