package store

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// CacheStats are the counters of a cache kept fresh by LISTEN (CallerCache,
// CatalogCache) since it started. Hits were answered from memory; Misses read
// the database and kept the answer (unless a notification came in
// meanwhile); Bypassed read the database while the cache was not listening.
// Invalidations counts the notifications received, Evictions the entries
// dropped to make room. Entries is the number of answers kept now, and
// Listening whether the cache is in use.
type CacheStats struct {
	Hits, Misses, Bypassed   int64
	Invalidations, Evictions int64
	Entries                  int
	Listening                bool
}

// cacheCounters are the counters of CacheStats, updated as the cache goes.
type cacheCounters struct {
	hits, misses, bypassed, invalidations, evictions atomic.Int64
}

// snapshot returns the counters with the cache's entries and listening now.
func (s *cacheCounters) snapshot(entries int, listening bool) CacheStats {
	return CacheStats{
		Hits:          s.hits.Load(),
		Misses:        s.misses.Load(),
		Bypassed:      s.bypassed.Load(),
		Invalidations: s.invalidations.Load(),
		Evictions:     s.evictions.Load(),
		Entries:       entries,
		Listening:     listening,
	}
}

// answers is what a cache keeps, as notifiedCache sees it. Its methods are
// called with notifiedCache.mu held.
type answers interface {
	// count returns the number of answers kept.
	count() int
	// empty drops them all.
	empty()
}

// notifiedCache is what the caches kept fresh by LISTEN share: the listening
// connection, the counters, and whether the answers kept are good. They are
// while the connection listens, and only those read after the last
// notification and the last change of the connection: each of these advances
// gen, and a read keeps its answer only if gen is still what it was when the
// read began. The cache embeds it, and sets answers to itself.
type notifiedCache struct {
	answers answers
	listen  *listener
	stats   cacheCounters

	// afterRead, when set (by tests), runs between the read of a miss and
	// its store.
	afterRead func()

	mu        sync.Mutex
	listening bool
	gen       uint64 // advanced by every notification and every change of listening
}

// start starts listening on channel, for the cache called name in the lines
// it writes to log (nil discards), and hands notify every notification's
// payload.
func (n *notifiedCache) start(db *DB, channel, name string, ping time.Duration, log *slog.Logger, notify func(payload string)) {
	n.listen = startListener(db, channel, name, ping, log, notify, n.reset)
}

// Close stops the cache's listening connection and waits for it to end.
// Reads after Close go to the database, as long as the DB is open.
func (n *notifiedCache) Close() {
	n.listen.close()
}

// Stats returns the cache's counters since it was made.
func (n *notifiedCache) Stats() CacheStats {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stats.snapshot(n.answers.count(), n.listening)
}

// missed counts a read that found no answer kept and is about to read the
// database: a miss when the cache was listening as the read began, bypassed
// otherwise.
func (n *notifiedCache) missed(listening bool) {
	if listening {
		n.stats.misses.Add(1)
	} else {
		n.stats.bypassed.Add(1)
	}
}

// current reports whether an answer read from generation gen on may be kept:
// the cache still listens and gen is still current. n.mu is held.
func (n *notifiedCache) current(gen uint64) bool {
	return n.listening && n.gen == gen
}

// reset empties the cache and sets whether it is listening.
func (n *notifiedCache) reset(listening bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.gen++
	n.listening = listening
	n.answers.empty()
}
