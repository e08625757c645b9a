package metrics

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/ivrhq/ivr/internal/agi"
	"github.com/ivrhq/ivr/internal/ivr"
)

// Instrument sets the hooks of srv that feed m: refused connections,
// sessions and command durations. It replaces any hooks srv had. Every
// refusal reason of srv is counted from zero, so that a rate or an alert
// sees the first refusal too.
func Instrument(srv *agi.Server, m *Metrics) {
	m.startRefused(agi.RefusedNetwork, agi.RefusedMaxSessions, agi.RefusedShutdown, agi.RefusedEnvironment)
	srv.OnRefused = func(_ net.Addr, reason string) { m.Refused(reason) }
	srv.OnSessionStart = func(*agi.Request) { m.SessionStarted() }
	srv.OnSessionEnd = func(r *agi.Request, outcome string, _ time.Duration) { m.SessionEnded(r.Pattern, outcome) }
	srv.OnCommand = func(e agi.CommandEvent) {
		if e.Duration > 0 {
			m.Command(e.Command, e.Duration, e.HungUp)
		}
	}
}

// Ports is every store port the call flows use but the catalog (see
// TimeCatalog) and the lookup (see TimeLookup).
type Ports interface {
	ivr.CallerDirectory
	ivr.Journal
	ivr.PINLedger
	ivr.MessageBox
}

// timedPorts wraps the store ports to observe each operation's latency and
// failures in ivr_db_operation_duration_seconds{op}: the time a call waits for
// the database, group commits included.
type timedPorts struct {
	p Ports
	m *Metrics
}

// TimePorts returns p observed in m's ivr_db_operation_duration_seconds{op}
// and ivr_db_operation_errors_total: the time a call waits for the
// database, group commits included; the verdicts of DecidePIN also count in
// ivr_pin_attempts_total{verdict}. Every call goes on to p unchanged.
func TimePorts(p Ports, m *Metrics) Ports { return timedPorts{p: p, m: m} }

// TimeLookup is TimePorts for the lookup route's port: its operation
// lookup_caller is the time the route waits for a caller, answered from the
// caller cache or read from the database.
func TimeLookup(l ivr.CallerLookup, m *Metrics) ivr.CallerLookup { return timedLookup{l: l, m: m} }

// TimeCatalog is TimePorts for the ivr route's catalog: its operations
// published_menu, published_survey and number are the time the route waits
// for a live menu or survey or a dialled number, answered from the catalog
// cache or read from the database. A number not found is counted
// (ivr_numbers_unknown_total).
func TimeCatalog(c ivr.Catalog, m *Metrics) ivr.Catalog { return timedCatalog{c: c, m: m} }

// timed runs f as the operation op. A not-found answer and a caller who hung
// up are not failures of the database.
func timed[T any](m *Metrics, op string, f func() (T, error)) (T, error) {
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
		return DBConflict
	case errors.Is(err, ivr.ErrInvalidValue):
		return DBInvalid
	}
	return DBUnavailable
}

// timedErr is timed for operations that return only an error.
func timedErr(m *Metrics, op string, f func() error) error {
	_, err := timed(m, op, func() (struct{}, error) { return struct{}{}, f() })
	return err
}

// timedLookup is timedPorts for the lookup route's port: its operation
// lookup_caller is the time the route waits for a caller, answered from the
// caller cache or read from the database.
type timedLookup struct {
	l ivr.CallerLookup
	m *Metrics
}

func (t timedLookup) LookupCaller(ctx context.Context, e164 string) (ivr.Caller, error) {
	return timed(t.m, "lookup_caller", func() (ivr.Caller, error) { return t.l.LookupCaller(ctx, e164) })
}

// timedCatalog is timedPorts for the ivr route's catalog: its operations
// published_menu and published_survey are the time the route waits for a live
// menu or survey, answered from the catalog cache or read from the database.
type timedCatalog struct {
	c ivr.Catalog
	m *Metrics
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

func (t timedPorts) Write(ctx context.Context, e ivr.Entry) error {
	return timedErr(t.m, "write_journal", func() error { return t.p.Write(ctx, e) })
}

func (t timedPorts) RecordCall(ctx context.Context, c ivr.Call, end ivr.CallEnd, steps []ivr.Step) (int64, error) {
	return timed(t.m, "record_call", func() (int64, error) { return t.p.RecordCall(ctx, c, end, steps) })
}

func (t timedPorts) SaveRecording(ctx context.Context, r ivr.Recording) (int64, error) {
	return timed(t.m, "save_recording", func() (int64, error) { return t.p.SaveRecording(ctx, r) })
}

// DecidePIN also counts the verdict in ivr_pin_attempts_total: the store
// decides and locks, so this is where every lockout passes.
func (t timedPorts) DecidePIN(ctx context.Context, e ivr.PINEntry, lock ivr.LockPolicy) (ivr.PINVerdict, error) {
	v, err := timed(t.m, "decide_pin", func() (ivr.PINVerdict, error) { return t.p.DecidePIN(ctx, e, lock) })
	if err == nil {
		t.m.PINDecided(pinVerdict(v, e.At))
	}
	return v, err
}

// pinVerdict is the verdict label of v, decided for an attempt made at at
// (the zero time: now): the flow ends a call as locked out by the same test.
func pinVerdict(v ivr.PINVerdict, at time.Time) string {
	if at.IsZero() {
		at = time.Now()
	}
	switch {
	case v.Accepted:
		return PINAccepted
	case v.Locked(at):
		return PINLocked
	}
	return PINRefused
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

func (t timedCatalog) Number(ctx context.Context, number string) (ivr.Number, error) {
	n, err := timed(t.m, "number", func() (ivr.Number, error) { return t.c.Number(ctx, number) })
	if errors.Is(err, ivr.ErrNotFound) {
		t.m.UnknownNumber()
	}
	return n, err
}

func (t timedCatalog) Schedule(ctx context.Context, key string) (ivr.Schedule, error) {
	return timed(t.m, "schedule", func() (ivr.Schedule, error) { return t.c.Schedule(ctx, key) })
}

func (t timedPorts) CallerMessages(ctx context.Context, callerID int64) ([]ivr.Recording, error) {
	return timed(t.m, "caller_messages", func() ([]ivr.Recording, error) { return t.p.CallerMessages(ctx, callerID) })
}

func (t timedPorts) DeleteRecording(ctx context.Context, id int64, at time.Time) error {
	return timedErr(t.m, "delete_recording", func() error { return t.p.DeleteRecording(ctx, id, at) })
}
