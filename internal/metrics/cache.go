package metrics

import "github.com/prometheus/client_golang/prometheus"

// CallerCacheStats is a snapshot of the lookup route's caller cache, as the
// store reports it. Counters count since the cache started.
type CallerCacheStats struct {
	// Hits were answered from memory, Misses read the database while the
	// cache was in use, Bypassed read it while the cache was not listening.
	Hits, Misses, Bypassed int64
	// Invalidations counts the change notifications received, Evictions the
	// entries dropped to make room.
	Invalidations, Evictions int64
	// Entries is the number of phone numbers kept now.
	Entries int
	// Listening reports whether the cache is in use: its connection listens
	// for changes.
	Listening bool
}

// RegisterCallerCache registers the metrics ivr_caller_cache_* on reg, read
// from stats on every scrape. stats must be safe to call from any goroutine.
func RegisterCallerCache(reg prometheus.Registerer, stats func() CallerCacheStats) {
	counter := func(name, help string, v func(CallerCacheStats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "caller_cache", Name: name, Help: help},
			func() float64 { return float64(v(stats())) })
	}
	gauge := func(name, help string, v func(CallerCacheStats) int64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: "caller_cache", Name: name, Help: help},
			func() float64 { return float64(v(stats())) })
	}
	reg.MustRegister(
		counter("hits_total", "Caller lookups answered from memory.", func(s CallerCacheStats) int64 { return s.Hits }),
		counter("misses_total", "Caller lookups that read the database while the cache was in use.", func(s CallerCacheStats) int64 { return s.Misses }),
		counter("bypassed_total", "Caller lookups that read the database because the cache was not listening for changes.", func(s CallerCacheStats) int64 { return s.Bypassed }),
		counter("invalidations_total", "Notifications of changes to callers received.", func(s CallerCacheStats) int64 { return s.Invalidations }),
		counter("evictions_total", "Entries dropped to make room.", func(s CallerCacheStats) int64 { return s.Evictions }),
		gauge("entries", "Phone numbers kept, unknown ones included.", func(s CallerCacheStats) int64 { return int64(s.Entries) }),
		gauge("listening", "1 while the cache listens for changes and is in use, 0 while every lookup reads the database.", func(s CallerCacheStats) int64 {
			if s.Listening {
				return 1
			}
			return 0
		}),
	)
}
