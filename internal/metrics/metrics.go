// Package metrics defines the Prometheus metrics of the ivr server and the
// methods that feed them from the FastAGI server's hooks and the database
// pool's statistics. Everything is registered on a registry passed in, never on
// the global default one, so tests and several servers in one process do not
// collide.
//
// Labels are bounded: a route is a mux pattern ("lookup", "ivr/"), a command is
// an AGI command word ("GET DATA"), never a phone number or a script query.
//
//	reg := prometheus.NewRegistry()
//	m := metrics.New(reg)
//	m.SessionStarted()
//	defer m.SessionEnded("ivr/", "completed")
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Namespace prefixes every metric name.
const Namespace = "ivr"

// Metrics holds the server's collectors. Build it with New; its methods are
// safe for concurrent use. A nil *Metrics ignores every call, so code that
// takes one works without metrics.
type Metrics struct {
	sessionsActive  prometheus.Gauge
	sessionsTotal   *prometheus.CounterVec
	commandDuration *prometheus.HistogramVec
	hangupsMid      *prometheus.CounterVec
	refused         *prometheus.CounterVec
	dbDuration      *prometheus.HistogramVec
	dbErrors        *prometheus.CounterVec
	pinAttempts     *prometheus.CounterVec
	numbersUnknown  prometheus.Counter
}

// New creates the metrics and registers them on reg. It panics if one of them
// is already registered there, as prometheus.MustRegister does.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		sessionsActive: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Subsystem: "agi", Name: "sessions_active",
			Help: "FastAGI sessions (calls) in progress.",
		}),
		sessionsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "agi", Name: "sessions_total",
			Help: "FastAGI sessions finished, by route (mux pattern) and outcome.",
		}, []string{"route", "outcome"}),
		commandDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "agi", Name: "command_duration_seconds",
			Help: "Time from sending an AGI command to its reply, by command. GET DATA and RECORD FILE include the caller's time.",
			// From a NOOP on a LAN (~1ms) to a recording (minutes).
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 180},
		}, []string{"command"}),
		hangupsMid: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "agi", Name: "hangups_mid_command_total",
			Help: "Calls whose caller hung up while a command was in progress, by command.",
		}, []string{"command"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "agi", Name: "refused_total",
			Help: "FastAGI connections closed before serving them, by reason (max_calls, network, shutdown, environment).",
		}, []string{"reason"}),
		dbDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "db", Name: "operation_duration_seconds",
			Help:    "Time of database operations, by operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"op"}),
		dbErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "db", Name: "operation_errors_total",
			Help: "Database operations that failed, by operation and kind (conflict, invalid, unavailable).",
		}, []string{"op", "kind"}),
		pinAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "pin", Name: "attempts_total",
			Help: "PIN attempts decided, by verdict (accepted; refused; locked: refused, and the account locked after it).",
		}, []string{"verdict"}),
		numbersUnknown: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "numbers", Name: "unknown_total",
			Help: "Calls of the ivr route whose dialled number is not in the numbers table; they start at the default menu.",
		}),
	}
	// Every verdict has a series from the start, so a rate over the first
	// lockout sees it.
	for _, v := range []string{PINAccepted, PINRefused, PINLocked} {
		m.pinAttempts.WithLabelValues(v)
	}
	reg.MustRegister(m.sessionsActive, m.sessionsTotal, m.commandDuration, m.hangupsMid, m.refused, m.dbDuration, m.dbErrors, m.pinAttempts, m.numbersUnknown)
	return m
}

// SessionStarted counts a session in progress.
func (m *Metrics) SessionStarted() {
	if m == nil {
		return
	}
	m.sessionsActive.Inc()
}

// SessionEnded counts a finished session with its route (the mux pattern, or
// "" when none matched) and outcome.
func (m *Metrics) SessionEnded(route, outcome string) {
	if m == nil {
		return
	}
	m.sessionsActive.Dec()
	if route == "" {
		route = "none"
	}
	m.sessionsTotal.WithLabelValues(route, outcome).Inc()
}

// Command observes one AGI command that took d; hungup reports that the channel
// hung up while it was in progress.
func (m *Metrics) Command(command string, d time.Duration, hungup bool) {
	if m == nil {
		return
	}
	m.commandDuration.WithLabelValues(command).Observe(d.Seconds())
	if hungup {
		m.hangupsMid.WithLabelValues(command).Inc()
	}
}

// Refused counts a connection closed unserved, for a reason such as
// "max_calls" or "network" (the FastAGI server's).
func (m *Metrics) Refused(reason string) {
	if m == nil {
		return
	}
	m.refused.WithLabelValues(reason).Inc()
}

// startRefused makes the count of each of reasons start at zero.
func (m *Metrics) startRefused(reasons ...string) {
	if m == nil {
		return
	}
	for _, r := range reasons {
		m.refused.WithLabelValues(r)
	}
}

// Kinds of failed database operations: the kind label of
// ivr_db_operation_errors_total.
const (
	DBConflict    = "conflict"    // the database refused a duplicate (a unique rule)
	DBInvalid     = "invalid"     // the database refused a value (a check rule, bad text or number)
	DBUnavailable = "unavailable" // the database was unreachable, timed out or failed otherwise
)

// DBOperation observes one database operation that took d; failure is ""
// when it succeeded, else the kind of its failure (DBConflict, DBInvalid or
// DBUnavailable).
func (m *Metrics) DBOperation(op string, d time.Duration, failure string) {
	if m == nil {
		return
	}
	m.dbDuration.WithLabelValues(op).Observe(d.Seconds())
	if failure != "" {
		m.dbErrors.WithLabelValues(op, failure).Inc()
	}
}

// Verdicts of PIN attempts: the verdict label of ivr_pin_attempts_total.
const (
	PINAccepted = "accepted" // the caller is authenticated
	PINRefused  = "refused"  // a wrong PIN, or an unknown or disabled account, left unlocked
	PINLocked   = "locked"   // refused, and the account is locked after it: the attempt locked it or extended its lock
)

// PINDecided counts one decided PIN attempt with its verdict (PINAccepted,
// PINRefused or PINLocked).
func (m *Metrics) PINDecided(verdict string) {
	if m == nil {
		return
	}
	m.pinAttempts.WithLabelValues(verdict).Inc()
}

// UnknownNumber counts a call whose dialled number is not in the numbers
// table.
func (m *Metrics) UnknownNumber() {
	if m == nil {
		return
	}
	m.numbersUnknown.Inc()
}
