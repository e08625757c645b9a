package main

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/metrics"
	"github.com/ivrhq/ivr/internal/store"
)

// newRegistry returns the server's Prometheus registry with the Go runtime and
// process collectors, the server's metrics on it, and the store's statistics
// read on every scrape.
func newRegistry(db *store.DB) (*prometheus.Registry, *metrics.Metrics) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := metrics.New(reg)
	metrics.RegisterDB(reg, func() metrics.DBStats {
		s := db.Stats()
		return metrics.DBStats{
			MaxConns:          s.PoolMaxConns,
			AcquiredConns:     s.PoolAcquiredConns,
			IdleConns:         s.PoolIdleConns,
			AcquireCount:      s.PoolAcquires,
			AcquireDuration:   s.PoolAcquireWait,
			EmptyAcquireCount: s.PoolEmptyAcquires,
			RoundTrips:        s.RoundTrips,
			Commits:           s.Commits,
			Batches:           s.Batches,
			Writes:            s.Writes,
		}
	})
	return reg, m
}

// registerRecovery registers the metrics of what the server does to keep
// every call's row across database outages: the writes of ended calls retried
// in the background, the group commits sent again after their connection
// broke, and the rows the sweep closed as lost. It returns the function the
// sweep counts those rows with.
func registerRecovery(reg *prometheus.Registry, db *store.DB, app *ivr.App) (swept func(int64)) {
	pending := func(f func(ivr.PendingStats) float64) func() float64 {
		return func() float64 { return f(app.PendingStats()) }
	}
	lost := prometheus.NewCounter(prometheus.CounterOpts{Name: "ivr_calls_swept_lost_total",
		Help: "Call rows left open by an instance that stopped, closed as lost by this instance's sweep."})
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ivr_call_writes_pending",
			Help: "Writes of ended calls the database did not take at first, retried now."},
			pending(func(s ivr.PendingStats) float64 { return float64(s.Pending) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "ivr_call_writes_kept_total",
			Help: "Writes of ended calls kept for retry because the database did not take them."},
			pending(func(s ivr.PendingStats) float64 { return float64(s.Kept) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "ivr_call_writes_abandoned_total",
			Help: "Writes of ended calls still not written when the server stopped retrying them."},
			pending(func(s ivr.PendingStats) float64 { return float64(s.Abandoned) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "ivr_db_batch_resends_total",
			Help: "Group commits sent again on another connection after theirs broke."},
			func() float64 { return float64(db.Stats().Resends) }),
		lost,
	)
	return func(n int64) { lost.Add(float64(n)) }
}

// registerCallerCache reads the statistics of the lookup route's caller
// cache on every scrape.
func registerCallerCache(reg *prometheus.Registry, cache *store.CallerCache) {
	metrics.RegisterCallerCache(reg, func() metrics.CacheStats { return metrics.CacheStats(cache.Stats()) })
}

// registerCatalogCache reads the statistics of the cache of live menus and
// surveys on every scrape.
func registerCatalogCache(reg *prometheus.Registry, cache *store.CatalogCache) {
	metrics.RegisterCatalogCache(reg, func() metrics.CacheStats { return metrics.CacheStats(cache.Stats()) })
}
