package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DBStats is a snapshot of the database side of the server, as the store and
// its connection pool report it. Counters count since the store was opened.
type DBStats struct {
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
	// RoundTrips counts statements and batches sent to the server.
	RoundTrips int64
	// Commits counts committed transactions; Batches counts the group commits
	// among them, which carried Writes writes in all.
	Commits, Batches, Writes int64
}

// dbCollector reads a DBStats on every scrape.
type dbCollector struct {
	stats func() DBStats
	descs []*prometheus.Desc
}

// RegisterDB registers a collector on reg that reads stats on every scrape and
// reports it as ivr_db_pool_* and ivr_db_*_total. stats must be safe to call
// from any goroutine.
func RegisterDB(reg prometheus.Registerer, stats func() DBStats) {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "db", name), help, nil, nil)
	}
	reg.MustRegister(&dbCollector{stats: stats, descs: []*prometheus.Desc{
		desc("pool_max_connections", "Most connections the database pool opens."),
		desc("pool_acquired_connections", "Database connections in use."),
		desc("pool_idle_connections", "Idle database connections."),
		desc("pool_acquires_total", "Database connections acquired from the pool."),
		desc("pool_acquire_wait_seconds_total", "Total time spent acquiring database connections."),
		desc("pool_empty_acquires_total", "Acquisitions that waited because the pool had no idle connection."),
		desc("round_trips_total", "Statements and batches sent to the database."),
		desc("commits_total", "Transactions committed."),
		desc("group_commits_total", "Group commits: transactions that carried the writes of several calls."),
		desc("group_commit_writes_total", "Writes carried by group commits."),
	}})
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	for i, v := range []struct {
		t prometheus.ValueType
		v float64
	}{
		{gauge, float64(s.MaxConns)},
		{gauge, float64(s.AcquiredConns)},
		{gauge, float64(s.IdleConns)},
		{counter, float64(s.AcquireCount)},
		{counter, s.AcquireDuration.Seconds()},
		{counter, float64(s.EmptyAcquireCount)},
		{counter, float64(s.RoundTrips)},
		{counter, float64(s.Commits)},
		{counter, float64(s.Batches)},
		{counter, float64(s.Writes)},
	} {
		ch <- prometheus.MustNewConstMetric(c.descs[i], v.t, v.v)
	}
}
