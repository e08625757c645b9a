package metrics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ivrhq/ivr/internal/agi"
	"github.com/ivrhq/ivr/internal/metrics"
)

func TestSessionsAndCommands(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)

	m.SessionStarted()
	m.SessionStarted()
	m.Command("GET DATA", 2*time.Second, false)
	m.Command("STREAM FILE", 10*time.Millisecond, true)
	m.SessionEnded("ivr/", "hangup")
	m.Refused("max_calls")
	m.DBOperation("start_call", time.Millisecond, "")
	m.DBOperation("start_call", time.Millisecond, metrics.DBUnavailable)
	m.DBOperation("start_call", time.Millisecond, metrics.DBUnavailable)
	m.DBOperation("record_call", time.Millisecond, metrics.DBConflict)
	m.DBOperation("write_journal", time.Millisecond, metrics.DBInvalid)
	m.PINDecided(metrics.PINRefused)
	m.PINDecided(metrics.PINLocked)
	m.PINDecided(metrics.PINLocked)

	want := `
# HELP ivr_agi_sessions_active FastAGI sessions (calls) in progress.
# TYPE ivr_agi_sessions_active gauge
ivr_agi_sessions_active 1
# HELP ivr_agi_sessions_total FastAGI sessions finished, by route (mux pattern) and outcome.
# TYPE ivr_agi_sessions_total counter
ivr_agi_sessions_total{outcome="hangup",route="ivr/"} 1
# HELP ivr_agi_hangups_mid_command_total Calls whose caller hung up while a command was in progress, by command.
# TYPE ivr_agi_hangups_mid_command_total counter
ivr_agi_hangups_mid_command_total{command="STREAM FILE"} 1
# HELP ivr_agi_refused_total FastAGI connections closed before serving them, by reason (max_calls, network, shutdown, environment).
# TYPE ivr_agi_refused_total counter
ivr_agi_refused_total{reason="max_calls"} 1
# HELP ivr_db_operation_errors_total Database operations that failed, by operation and kind (conflict, invalid, unavailable).
# TYPE ivr_db_operation_errors_total counter
ivr_db_operation_errors_total{kind="invalid",op="write_journal"} 1
ivr_db_operation_errors_total{kind="conflict",op="record_call"} 1
ivr_db_operation_errors_total{kind="unavailable",op="start_call"} 2
# HELP ivr_pin_attempts_total PIN attempts decided, by verdict (accepted; refused; locked: refused, and the account locked after it).
# TYPE ivr_pin_attempts_total counter
ivr_pin_attempts_total{verdict="accepted"} 0
ivr_pin_attempts_total{verdict="locked"} 2
ivr_pin_attempts_total{verdict="refused"} 1
`
	err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"ivr_agi_sessions_active", "ivr_agi_sessions_total", "ivr_agi_hangups_mid_command_total",
		"ivr_agi_refused_total", "ivr_db_operation_errors_total", "ivr_pin_attempts_total")
	if err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(reg, "ivr_agi_command_duration_seconds"); n != 2 {
		t.Errorf("command duration series = %d, want 2 (one per command)", n)
	}
}

func TestNilMetricsIgnoresCalls(t *testing.T) {
	var m *metrics.Metrics
	m.SessionStarted()
	m.SessionEnded("lookup", "completed")
	m.Command("ANSWER", time.Millisecond, false)
	m.Refused("network")
	m.DBOperation("x", 0, "")
	m.PINDecided(metrics.PINLocked)
}

func TestDBStatsAreReadOnScrape(t *testing.T) {
	reg := prometheus.NewRegistry()
	calls := 0
	metrics.RegisterDB(reg, func() metrics.DBStats {
		calls++
		return metrics.DBStats{MaxConns: 10, AcquiredConns: 3, IdleConns: 2, AcquireCount: 7, AcquireDuration: 1500 * time.Millisecond, Batches: 4}
	})
	want := `
# HELP ivr_db_pool_acquired_connections Database connections in use.
# TYPE ivr_db_pool_acquired_connections gauge
ivr_db_pool_acquired_connections 3
# HELP ivr_db_pool_acquire_wait_seconds_total Total time spent acquiring database connections.
# TYPE ivr_db_pool_acquire_wait_seconds_total counter
ivr_db_pool_acquire_wait_seconds_total 1.5
# HELP ivr_db_group_commits_total Group commits: transactions that carried the writes of several calls.
# TYPE ivr_db_group_commits_total counter
ivr_db_group_commits_total 4
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "ivr_db_pool_acquired_connections", "ivr_db_pool_acquire_wait_seconds_total", "ivr_db_group_commits_total"); err != nil {
		t.Error(err)
	}
	if calls == 0 {
		t.Error("stats func never called")
	}
}

func TestInstrumentCountsEveryRefusalFromZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	srv := &agi.Server{}
	metrics.Instrument(srv, m)
	srv.OnRefused(nil, agi.RefusedMaxSessions)
	want := `
# HELP ivr_agi_refused_total FastAGI connections closed before serving them, by reason (max_calls, network, shutdown, environment).
# TYPE ivr_agi_refused_total counter
ivr_agi_refused_total{reason="environment"} 0
ivr_agi_refused_total{reason="max_calls"} 1
ivr_agi_refused_total{reason="network"} 0
ivr_agi_refused_total{reason="shutdown"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "ivr_agi_refused_total"); err != nil {
		t.Error(err)
	}
}
