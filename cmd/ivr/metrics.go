package main

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ivrhq/ivr/internal/agi"
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
		p := db.Pool().Stat()
		s := db.Stats()
		return metrics.DBStats{
			MaxConns:          p.MaxConns(),
			AcquiredConns:     p.AcquiredConns(),
			IdleConns:         p.IdleConns(),
			AcquireCount:      p.AcquireCount(),
			AcquireDuration:   p.AcquireDuration(),
			EmptyAcquireCount: p.EmptyAcquireCount(),
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

// instrument sets the hooks of srv that feed m.
func instrument(srv *agi.Server, m *metrics.Metrics) {
	srv.OnRefused = func(_ net.Addr, reason string) { m.Refused(reason) }
	srv.OnSessionStart = func(*agi.Request) { m.SessionStarted() }
	srv.OnSessionEnd = func(r *agi.Request, outcome string, _ time.Duration) { m.SessionEnded(r.Pattern, outcome) }
	srv.OnCommand = func(e agi.CommandEvent) {
		if e.Duration > 0 {
			m.Command(e.Command, e.Duration, e.HungUp)
		}
	}
}

// ports is every store port the call flows use but the catalog (see
// timedCatalog).
type ports interface {
	ivr.CallerDirectory
	ivr.Journal
	ivr.PINLedger
	ivr.MessageBox
}

// timedPorts wraps the store ports to observe each operation's latency and
// failures in ivr_db_operation_duration_seconds{op}: the time a call waits for
// the database, group commits included.
type timedPorts struct {
	p ports
	m *metrics.Metrics
}

// timed runs f as the operation op. A not-found answer and a caller who hung
// up are not failures of the database.
func timed[T any](m *metrics.Metrics, op string, f func() (T, error)) (T, error) {
	start := time.Now()
	v, err := f()
	m.DBOperation(op, time.Since(start), dbFailure(err))
	return v, err
}

// dbFailure is the kind of failure of a database operation that returned
// err: "" when it did not fail (a not-found answer and a caller who hung up
// are no failures), a conflict, a refused value, or else unavailable.
func dbFailure(err error) string {
	switch {
	case err == nil, errors.Is(err, ivr.ErrNotFound), errors.Is(err, context.Canceled):
		return ""
	case errors.Is(err, ivr.ErrConflict):
		return metrics.DBConflict
	case errors.Is(err, ivr.ErrInvalidValue):
		return metrics.DBInvalid
	}
	return metrics.DBUnavailable
}

// timedErr is timed for operations that return only an error.
func timedErr(m *metrics.Metrics, op string, f func() error) error {
	_, err := timed(m, op, func() (struct{}, error) { return struct{}{}, f() })
	return err
}

// timedLookup is timedPorts for the lookup route's port: its operation
// lookup_caller is the time the route waits for a caller, answered from the
// caller cache or read from the database.
type timedLookup struct {
	l ivr.CallerLookup
	m *metrics.Metrics
}

func (t timedLookup) LookupCaller(ctx context.Context, e164 string) (ivr.Caller, error) {
	return timed(t.m, "lookup_caller", func() (ivr.Caller, error) { return t.l.LookupCaller(ctx, e164) })
}

// timedCatalog is timedPorts for the ivr route's catalog: its operations
// published_menu and published_survey are the time the route waits for a live
// menu or survey, answered from the catalog cache or read from the database.
type timedCatalog struct {
	c ivr.Catalog
	m *metrics.Metrics
}

func (t timedPorts) CallerByPhone(ctx context.Context, e164 string) (ivr.Caller, error) {
	return timed(t.m, "caller_by_phone", func() (ivr.Caller, error) { return t.p.CallerByPhone(ctx, e164) })
}

func (t timedPorts) CallerByAccount(ctx context.Context, account string) (ivr.Caller, error) {
	return timed(t.m, "caller_by_account", func() (ivr.Caller, error) { return t.p.CallerByAccount(ctx, account) })
}

func (t timedPorts) StartCall(ctx context.Context, c ivr.Call) (int64, error) {
	return timed(t.m, "start_call", func() (int64, error) { return t.p.StartCall(ctx, c) })
}

func (t timedPorts) EndCall(ctx context.Context, callID int64, end ivr.CallEnd) error {
	return timedErr(t.m, "end_call", func() error { return t.p.EndCall(ctx, callID, end) })
}

func (t timedPorts) RecordCall(ctx context.Context, c ivr.Call, end ivr.CallEnd, steps []ivr.Step) (int64, error) {
	return timed(t.m, "record_call", func() (int64, error) { return t.p.RecordCall(ctx, c, end, steps) })
}

func (t timedPorts) AppendSteps(ctx context.Context, steps ...ivr.Step) error {
	return timedErr(t.m, "append_steps", func() error { return t.p.AppendSteps(ctx, steps...) })
}

func (t timedPorts) SaveResponse(ctx context.Context, r ivr.Response) error {
	return timedErr(t.m, "save_response", func() error { return t.p.SaveResponse(ctx, r) })
}

func (t timedPorts) SaveRecording(ctx context.Context, r ivr.Recording) (int64, error) {
	return timed(t.m, "save_recording", func() (int64, error) { return t.p.SaveRecording(ctx, r) })
}

func (t timedPorts) DecidePIN(ctx context.Context, e ivr.PINEntry, lock ivr.LockPolicy) (ivr.PINVerdict, error) {
	return timed(t.m, "decide_pin", func() (ivr.PINVerdict, error) { return t.p.DecidePIN(ctx, e, lock) })
}

func (t timedPorts) RehashPIN(ctx context.Context, callerID int64, old, h ivr.PINHash) error {
	return timedErr(t.m, "rehash_pin", func() error { return t.p.RehashPIN(ctx, callerID, old, h) })
}

func (t timedPorts) SetPIN(ctx context.Context, callerID int64, h ivr.PINHash) error {
	return timedErr(t.m, "set_pin", func() error { return t.p.SetPIN(ctx, callerID, h) })
}

func (t timedCatalog) PublishedMenu(ctx context.Context, key string) (ivr.Menu, error) {
	return timed(t.m, "published_menu", func() (ivr.Menu, error) { return t.c.PublishedMenu(ctx, key) })
}

func (t timedCatalog) PublishedSurvey(ctx context.Context, key string) (ivr.Survey, error) {
	return timed(t.m, "published_survey", func() (ivr.Survey, error) { return t.c.PublishedSurvey(ctx, key) })
}

func (t timedPorts) CallerMessages(ctx context.Context, callerID int64) ([]ivr.Recording, error) {
	return timed(t.m, "caller_messages", func() ([]ivr.Recording, error) { return t.p.CallerMessages(ctx, callerID) })
}

func (t timedPorts) DeleteRecording(ctx context.Context, id int64, at time.Time) error {
	return timedErr(t.m, "delete_recording", func() error { return t.p.DeleteRecording(ctx, id, at) })
}
