package metrics

import "github.com/prometheus/client_golang/prometheus"

// RecoveryStats is a snapshot of what the server does to keep every call's
// row across database outages. Counters count since the server started.
type RecoveryStats struct {
	// Pending is the writes of ended calls the database did not take at
	// first and that are retried now; Kept counts every such write, and
	// Abandoned those still not written when the server stopped retrying.
	Pending, Kept, Abandoned int64
	// Resends counts the group commits sent again on another connection after
	// theirs broke.
	Resends int64
}

// RegisterRecovery registers on reg the metrics of the writes retried in the
// background (ivr_call_writes_*), of the group commits sent again
// (ivr_db_batch_resends_total), read from stats on every scrape, and of the
// call rows the sweep closed as lost (ivr_calls_swept_lost_total), which the
// returned function counts. stats must be safe to call from any goroutine.
func RegisterRecovery(reg prometheus.Registerer, stats func() RecoveryStats) (swept func(n int64)) {
	read := func(f func(RecoveryStats) int64) func() float64 {
		return func() float64 { return float64(f(stats())) }
	}
	lost := prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "calls_swept_lost_total",
		Help: "Call rows left open by an instance that stopped, closed as lost by this instance's sweep."})
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Name: "call_writes_pending",
			Help: "Writes of ended calls the database did not take at first, retried now."},
			read(func(s RecoveryStats) int64 { return s.Pending })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: Namespace, Name: "call_writes_kept_total",
			Help: "Writes of ended calls kept for retry because the database did not take them."},
			read(func(s RecoveryStats) int64 { return s.Kept })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: Namespace, Name: "call_writes_abandoned_total",
			Help: "Writes of ended calls still not written when the server stopped retrying them."},
			read(func(s RecoveryStats) int64 { return s.Abandoned })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: Namespace, Name: "db_batch_resends_total",
			Help: "Group commits sent again on another connection after theirs broke."},
			read(func(s RecoveryStats) int64 { return s.Resends })),
		lost,
	)
	return func(n int64) { lost.Add(float64(n)) }
}
