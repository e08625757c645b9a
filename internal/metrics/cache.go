package metrics

import "github.com/prometheus/client_golang/prometheus"

// CacheStats is a snapshot of one of the server's caches kept fresh by
// database notifications (the lookup route's callers, the live menus and
// surveys), as the store reports it. Counters count since the cache started.
// Its fields are those of the store's CacheStats, in the same order, so that
// one converts to the other.
type CacheStats struct {
	// Hits were answered from memory, Misses read the database while the
	// cache was in use, Bypassed read it while the cache was not listening.
	Hits, Misses, Bypassed int64
	// Invalidations counts the change notifications received, Evictions the
	// entries dropped to make room.
	Invalidations, Evictions int64
	// Entries is the number of answers kept now.
	Entries int
	// Listening reports whether the cache is in use: its connection listens
	// for changes.
	Listening bool
}

// cacheKind names one of the caches, and says in the help texts of its
// metrics what it keeps.
type cacheKind struct {
	subsystem string // of the metric names: "caller_cache"
	reads     string // what it answers, capitalised: "Caller lookups"
	bypass    string // what happens while it is not in use
	changes   string // what its notifications are about: "callers"
	entries   string // the help of the entries gauge
}

// The caches of the server.
var (
	callerCache = cacheKind{
		subsystem: "caller_cache",
		reads:     "Caller lookups",
		bypass:    "every lookup reads the database",
		changes:   "callers",
		entries:   "Phone numbers kept, unknown ones included.",
	}
	catalogCache = cacheKind{
		subsystem: "catalog_cache",
		reads:     "Reads of live menus and surveys",
		bypass:    "every read goes to the database",
		changes:   "menus and surveys",
		entries:   "Menu and survey keys kept, unknown ones included.",
	}
)

// RegisterCallerCache registers the metrics ivr_caller_cache_* of the lookup
// route's caller cache on reg, read from stats on every scrape. stats must be
// safe to call from any goroutine.
func RegisterCallerCache(reg prometheus.Registerer, stats func() CacheStats) {
	registerCache(reg, callerCache, stats)
}

// RegisterCatalogCache registers the metrics ivr_catalog_cache_* of the
// cache of live menus and surveys on reg, read from stats on every scrape.
// stats must be safe to call from any goroutine.
func RegisterCatalogCache(reg prometheus.Registerer, stats func() CacheStats) {
	registerCache(reg, catalogCache, stats)
}

// registerCache registers the metrics of the cache k on reg.
func registerCache(reg prometheus.Registerer, k cacheKind, stats func() CacheStats) {
	counter := func(name, help string, v func(CacheStats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: Namespace, Subsystem: k.subsystem, Name: name, Help: help},
			func() float64 { return float64(v(stats())) })
	}
	gauge := func(name, help string, v func(CacheStats) int64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: k.subsystem, Name: name, Help: help},
			func() float64 { return float64(v(stats())) })
	}
	reg.MustRegister(
		counter("hits_total", k.reads+" answered from memory.", func(s CacheStats) int64 { return s.Hits }),
		counter("misses_total", k.reads+" that read the database while the cache was in use.", func(s CacheStats) int64 { return s.Misses }),
		counter("bypassed_total", k.reads+" that read the database because the cache was not listening for changes.", func(s CacheStats) int64 { return s.Bypassed }),
		counter("invalidations_total", "Notifications of changes to "+k.changes+" received.", func(s CacheStats) int64 { return s.Invalidations }),
		counter("evictions_total", "Entries dropped to make room.", func(s CacheStats) int64 { return s.Evictions }),
		gauge("entries", k.entries, func(s CacheStats) int64 { return int64(s.Entries) }),
		gauge("listening", "1 while the cache listens for changes and is in use, 0 while "+k.bypass+".", func(s CacheStats) int64 {
			if s.Listening {
				return 1
			}
			return 0
		}),
	)
}
