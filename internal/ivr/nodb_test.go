package ivr_test

import (
	"context"
	"sync"
	"time"

	"github.com/ivrhq/ivr/internal/ivr"
)

// noDB implements the ports in memory. It is the baseline of the benchmarks
// only: the same calls with no database work behind them. The tests use a real
// PostgreSQL.
type noDB struct {
	mu        sync.Mutex
	nextID    int64
	byPhone   map[string]ivr.Caller
	byAccount map[string]ivr.Caller
	menus     map[string]ivr.Menu
	surveys   map[string]ivr.Survey
	numbers   map[string]ivr.Number
}

func newNoDB() *noDB {
	return &noDB{byPhone: map[string]ivr.Caller{}, byAccount: map[string]ivr.Caller{},
		menus: map[string]ivr.Menu{}, surveys: map[string]ivr.Survey{}, numbers: map[string]ivr.Number{}}
}

func (m *noDB) services() ivr.Services {
	return ivr.Services{Callers: m, Journal: m, PINs: m, Catalog: m, Messages: m}
}

// add makes c known by its phones and account.
func (m *noDB) add(c ivr.Caller) {
	for _, p := range c.Phones {
		m.byPhone[p] = c
	}
	m.byAccount[c.Account] = c
}

func (m *noDB) id() int64 {
	m.nextID++
	return m.nextID
}

func find[K comparable, V any](m *noDB, tbl map[K]V, k K) (V, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := tbl[k]; ok {
		return v, nil
	}
	var zero V
	return zero, ivr.ErrNotFound
}

func (m *noDB) CallerByPhone(_ context.Context, e164 string) (ivr.Caller, error) {
	return find(m, m.byPhone, e164)
}

func (m *noDB) CallerByAccount(_ context.Context, account string) (ivr.Caller, error) {
	return find(m, m.byAccount, account)
}

func (m *noDB) StartCall(context.Context, ivr.Call) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.id(), nil
}

func (m *noDB) Write(context.Context, ivr.Entry) error { return nil }

func (m *noDB) RecordCall(context.Context, ivr.Call, ivr.CallEnd, []ivr.Step) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.id(), nil
}

func (m *noDB) SaveRecording(context.Context, ivr.Recording) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.id(), nil
}

func (m *noDB) DecidePIN(_ context.Context, e ivr.PINEntry, _ ivr.LockPolicy) (ivr.PINVerdict, error) {
	return ivr.PINVerdict{Accepted: e.Right && e.CallerID != 0}, nil
}
func (m *noDB) RehashPIN(context.Context, int64, ivr.PINHash, ivr.PINHash) error { return nil }
func (m *noDB) SetPIN(context.Context, int64, ivr.PINHash) error                 { return nil }

func (m *noDB) PublishedMenu(_ context.Context, key string) (ivr.Menu, error) {
	return find(m, m.menus, key)
}

func (m *noDB) PublishedSurvey(_ context.Context, key string) (ivr.Survey, error) {
	return find(m, m.surveys, key)
}

func (m *noDB) Number(_ context.Context, number string) (ivr.Number, error) {
	return find(m, m.numbers, number)
}

func (m *noDB) Schedule(context.Context, string) (ivr.Schedule, error) {
	return ivr.Schedule{}, ivr.ErrNotFound
}

func (m *noDB) CallerMessages(context.Context, int64) ([]ivr.Recording, error) { return nil, nil }
func (m *noDB) DeleteRecording(context.Context, int64, time.Time) error        { return nil }
