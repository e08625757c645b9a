package store

import (
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/ivrhq/ivr/internal/ivr"
)

// callersChannel is the channel the triggers of 00005_caller_notify.sql
// announce changes to callers and their phone numbers on.
const callersChannel = "ivr_callers"

// DefaultCallerCacheSize is the number of phone numbers a CallerCache keeps
// when CallerCacheOptions.Size is zero.
const DefaultCallerCacheSize = 100_000

// errCachedNotFound is the answer for a number the cache knows no caller has,
// as CallerByPhone words it.
var errCachedNotFound = fmt.Errorf("caller by phone: %w", ivr.ErrNotFound)

// CallerCache answers the lookup route's question, which caller owns a phone
// number, from memory (it implements ivr.CallerLookup). It keeps the answers
// it read through its DB, that a number has no caller included, and drops
// them when PostgreSQL announces a change: the triggers of the schema notify
// the channel ivr_callers of every change to a caller's account, name,
// language, status or phone numbers, and the cache listens on a connection of
// its own.
//
// While that connection is not listening (before it first does, and from the
// moment it is lost until LISTEN succeeds again on a new one) the cache is
// empty and every lookup reads the database. A read that was in flight when a
// notification arrived, or when the connection was lost, is not kept.
//
// Build one with NewCallerCache; it is safe for concurrent use. The IVR
// flow's own identification reads the DB directly: it needs the PIN state,
// which the cache does not keep.
type CallerCache struct {
	notifiedCache
	db       *DB
	size     int
	entries  map[string]*list.Element // of *cacheEntry, by E.164 number
	byCaller map[int64][]string       // numbers of the entries that found each caller
	lru      list.List                // most recently used first
}

var _ ivr.CallerLookup = (*CallerCache)(nil)

// cacheEntry is what the cache knows of one number: its caller, or that no
// caller has it.
type cacheEntry struct {
	e164   string
	found  bool
	caller ivr.Caller
}

// CallerCacheOptions tune a CallerCache. The zero value of each field means
// its default.
type CallerCacheOptions struct {
	// Size bounds the numbers kept, unknown ones included; when it is
	// reached, the least recently used goes. Default DefaultCallerCacheSize.
	Size int
	// Logger receives a line when the listening connection is lost and when
	// a new one listens again. Nil discards.
	Logger *slog.Logger
}

// NewCallerCache returns a cache of db's callers by phone number and starts
// its listening connection, made with db's connection settings. Until that
// connection listens, lookups read the database. The caller must Close the
// cache, before it closes db.
func NewCallerCache(db *DB, opts CallerCacheOptions) *CallerCache {
	return newCallerCache(db, opts, listenPing)
}

func newCallerCache(db *DB, opts CallerCacheOptions, ping time.Duration) *CallerCache {
	if opts.Size <= 0 {
		opts.Size = DefaultCallerCacheSize
	}
	c := &CallerCache{
		db:       db,
		size:     opts.Size,
		entries:  make(map[string]*list.Element),
		byCaller: make(map[int64][]string),
	}
	c.answers = c
	c.start(db, callersChannel, "caller cache", ping, opts.Logger, c.invalidate)
	return c
}

// LookupCaller finds the caller owning an E.164 number, from memory when the
// cache has the answer, else from the database (see DB.CallerByPhone);
// ivr.ErrNotFound when no caller has the number. The caller carries ID,
// Account, Name, Language, Status and Phones; its other fields are zero.
func (c *CallerCache) LookupCaller(ctx context.Context, e164 string) (ivr.Caller, error) {
	c.mu.Lock()
	listening, gen := c.listening, c.gen
	if el, ok := c.entries[e164]; ok {
		c.lru.MoveToFront(el)
		e := *el.Value.(*cacheEntry)
		c.mu.Unlock()
		c.stats.hits.Add(1)
		if !e.found {
			return ivr.Caller{}, errCachedNotFound
		}
		e.caller.Phones = slices.Clone(e.caller.Phones)
		return e.caller, nil
	}
	c.mu.Unlock()

	c.missed(listening)
	caller, err := c.db.CallerByPhone(ctx, e164)
	if err != nil && !errors.Is(err, ivr.ErrNotFound) {
		return ivr.Caller{}, err
	}
	caller = lookupAnswer(caller)
	if c.afterRead != nil {
		c.afterRead()
	}
	if listening {
		c.keep(gen, &cacheEntry{e164: e164, found: err == nil, caller: caller})
	}
	if err == nil {
		caller.Phones = slices.Clone(caller.Phones)
	}
	return caller, err
}

// lookupAnswer is caller with only the fields the cache keeps.
func lookupAnswer(caller ivr.Caller) ivr.Caller {
	return ivr.Caller{
		ID:       caller.ID,
		Account:  caller.Account,
		Name:     caller.Name,
		Language: caller.Language,
		Status:   caller.Status,
		Phones:   caller.Phones,
	}
}

// keep stores e, read after the generation gen was current, unless a
// notification arrived or the listening connection changed since.
func (c *CallerCache) keep(gen uint64, e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.current(gen) {
		return
	}
	if el, ok := c.entries[e.e164]; ok {
		c.remove(el)
	}
	for len(c.entries) >= c.size {
		c.remove(c.lru.Back())
		c.stats.evictions.Add(1)
	}
	c.entries[e.e164] = c.lru.PushFront(e)
	if e.found {
		c.byCaller[e.caller.ID] = append(c.byCaller[e.caller.ID], e.e164)
	}
}

// remove drops the entry el. c.mu is held.
func (c *CallerCache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*cacheEntry)
	delete(c.entries, e.e164)
	if !e.found {
		return
	}
	id := e.caller.ID
	nums := slices.DeleteFunc(c.byCaller[id], func(n string) bool { return n == e.e164 })
	if len(nums) == 0 {
		delete(c.byCaller, id)
	} else {
		c.byCaller[id] = nums
	}
}

// change is the payload of a notification on callersChannel.
type change struct {
	CallerID *int64 `json:"caller_id"`
	E164     string `json:"e164"`
}

// invalidate drops what the notification payload names: the entries that
// found the caller, and the entry of the number. A payload that names no
// caller empties the cache.
func (c *CallerCache) invalidate(payload string) {
	defer c.stats.invalidations.Add(1) // once applied: tests wait for it
	var ch change
	if err := json.Unmarshal([]byte(payload), &ch); err != nil || ch.CallerID == nil {
		c.reset(true)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, n := range slices.Clone(c.byCaller[*ch.CallerID]) {
		c.remove(c.entries[n])
	}
	if el, ok := c.entries[ch.E164]; ok {
		c.remove(el)
	}
}

// count returns the number of numbers kept. c.mu is held.
func (c *CallerCache) count() int { return len(c.entries) }

// empty drops every entry. c.mu is held.
func (c *CallerCache) empty() {
	clear(c.entries)
	clear(c.byCaller)
	c.lru.Init()
}
