package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// PoolStats is a snapshot of a database connection pool, as the store reports it.
type PoolStats struct {
	// MaxConns is the most connections the pool opens.
	MaxConns int32
	// AcquiredConns and IdleConns are the connections in use and idle now.
	AcquiredConns, IdleConns int32
	// AcquireCount is how many connections have been acquired so far, and
	// AcquireDuration the total time spent waiting for them.
	AcquireCount    int64
	AcquireDuration time.Duration
	// EmptyAcquireCount counts acquisitions that had to wait for a connection.
	EmptyAcquireCount int64
}

// poolCollector reads a PoolStats on every scrape.
type poolCollector struct {
	stats                                  func() PoolStats
	maxConns, acquired, idle               *prometheus.Desc
	acquires, acquireSeconds, emptyAcquire *prometheus.Desc
}

// RegisterPool registers collectors on reg that read the pool statistics from
// stats on every scrape: ivr_db_pool_* gauges and counters. stats must be safe
// to call from any goroutine.
func RegisterPool(reg prometheus.Registerer, stats func() PoolStats) {
	name := func(n string) string { return prometheus.BuildFQName(Namespace, "db_pool", n) }
	reg.MustRegister(&poolCollector{
		stats:          stats,
		maxConns:       prometheus.NewDesc(name("max_connections"), "Most connections the database pool opens.", nil, nil),
		acquired:       prometheus.NewDesc(name("acquired_connections"), "Database connections in use.", nil, nil),
		idle:           prometheus.NewDesc(name("idle_connections"), "Idle database connections.", nil, nil),
		acquires:       prometheus.NewDesc(name("acquires_total"), "Database connections acquired from the pool.", nil, nil),
		acquireSeconds: prometheus.NewDesc(name("acquire_wait_seconds_total"), "Total time spent acquiring database connections.", nil, nil),
		emptyAcquire:   prometheus.NewDesc(name("empty_acquires_total"), "Acquisitions that waited because the pool had no idle connection.", nil, nil),
	})
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.maxConns, c.acquired, c.idle, c.acquires, c.acquireSeconds, c.emptyAcquire} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(c.maxConns, prometheus.GaugeValue, float64(s.MaxConns))
	ch <- prometheus.MustNewConstMetric(c.acquired, prometheus.GaugeValue, float64(s.AcquiredConns))
	ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(s.IdleConns))
	ch <- prometheus.MustNewConstMetric(c.acquires, prometheus.CounterValue, float64(s.AcquireCount))
	ch <- prometheus.MustNewConstMetric(c.acquireSeconds, prometheus.CounterValue, s.AcquireDuration.Seconds())
	ch <- prometheus.MustNewConstMetric(c.emptyAcquire, prometheus.CounterValue, float64(s.EmptyAcquireCount))
}
