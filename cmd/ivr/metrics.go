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
// every call's row across database outages, and returns the function the
// sweep counts the rows it closed as lost with.
func registerRecovery(reg *prometheus.Registry, db *store.DB, app *ivr.App) (swept func(int64)) {
	return metrics.RegisterRecovery(reg, func() metrics.RecoveryStats {
		p := app.PendingStats()
		return metrics.RecoveryStats{Pending: int64(p.Pending), Kept: p.Kept, Abandoned: p.Abandoned, Resends: db.Stats().Resends}
	})
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
