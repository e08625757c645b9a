package store

import (
	"context"
	"errors"
	"log/slog"
	"slices"

	"github.com/ivrhq/ivr/internal/ivr"
)

// catalogChannel is the channel the triggers of 00006_catalog_notify.sql
// announce every change to menus and surveys on.
const catalogChannel = "ivr_catalog"

// DefaultCatalogCacheSize is the number of menu and survey keys a
// CatalogCache keeps when CatalogCacheOptions.Size is zero.
const DefaultCatalogCacheSize = 4096

// CatalogCache answers the ivr route's reads of the live menus and surveys,
// and of the dialled numbers with their schedules, from memory (it implements
// ivr.Catalog). It keeps the answers it read
// through its DB, that a key has no published version included, and forgets
// them all when PostgreSQL announces a change: the triggers of the schema
// notify the channel ivr_catalog of every change to menus, surveys, their
// versions, options and questions, and the cache listens on a connection of
// its own. Published versions never change, so only a publish, or rows
// changed by hand, can change an answer; both are rare, and any change empties
// the whole cache.
//
// While that connection is not listening (before it first does, and from the
// moment it is lost until LISTEN succeeds again on a new one) the cache is
// empty and every read goes to the database. A read that was in flight when a
// notification arrived, or when the connection was lost, is not kept.
//
// The cache keeps at most CatalogCacheOptions.Size keys, menus and surveys
// together; when an answer comes in while it is full, it is emptied first
// (Evictions counts what it dropped). A deployment's live menus and surveys
// are far fewer, so only reads of many unknown keys fill it.
//
// Build one with NewCatalogCache; it is safe for concurrent use. Every answer
// is a copy the caller owns.
type CatalogCache struct {
	notifiedCache
	db        *DB
	size      int
	menus     map[string]catalogAnswer[ivr.Menu]
	surveys   map[string]catalogAnswer[ivr.Survey]
	numbers   map[string]catalogAnswer[ivr.Number]
	schedules map[string]catalogAnswer[ivr.Schedule]
}

var _ ivr.Catalog = (*CatalogCache)(nil)

// catalogAnswer is what the cache knows of one key: its live version, or the
// error that none is published (err wraps ivr.ErrNotFound).
type catalogAnswer[T any] struct {
	v   T
	err error
}

// CatalogCacheOptions tune a CatalogCache. The zero value of each field means
// its default.
type CatalogCacheOptions struct {
	// Size bounds the menu and survey keys kept, unknown ones included; an
	// answer that comes in when it is reached empties the cache first.
	// Default DefaultCatalogCacheSize.
	Size int
	// Logger receives a line when the listening connection is lost and when
	// a new one listens again. Nil discards.
	Logger *slog.Logger
}

// NewCatalogCache returns a cache of db's live menus and surveys and starts
// its listening connection, made with db's connection settings. Until that
// connection listens, reads go to the database. The caller must Close the
// cache, before it closes db.
func NewCatalogCache(db *DB, opts CatalogCacheOptions) *CatalogCache {
	if opts.Size <= 0 {
		opts.Size = DefaultCatalogCacheSize
	}
	c := &CatalogCache{
		db:        db,
		size:      opts.Size,
		menus:     make(map[string]catalogAnswer[ivr.Menu]),
		surveys:   make(map[string]catalogAnswer[ivr.Survey]),
		numbers:   make(map[string]catalogAnswer[ivr.Number]),
		schedules: make(map[string]catalogAnswer[ivr.Schedule]),
	}
	c.answers = c
	c.start(db, catalogChannel, "catalog cache", listenPing, opts.Logger, c.invalidate)
	return c
}

// PublishedMenu returns the live version of menu key, from memory when the
// cache has the answer, else from the database (see DB.PublishedMenu);
// ivr.ErrNotFound when none is published.
func (c *CatalogCache) PublishedMenu(ctx context.Context, key string) (ivr.Menu, error) {
	return readThrough(ctx, c, c.menus, key, c.db.PublishedMenu, cloneMenu)
}

// PublishedSurvey returns the live version of survey key, from memory when
// the cache has the answer, else from the database (see DB.PublishedSurvey);
// ivr.ErrNotFound when none is published.
func (c *CatalogCache) PublishedSurvey(ctx context.Context, key string) (ivr.Survey, error) {
	return readThrough(ctx, c, c.surveys, key, c.db.PublishedSurvey, cloneSurvey)
}

// Number returns the entry of a dialled number with its schedule, from
// memory when the cache has the answer, else from the database (see
// DB.Number); ivr.ErrNotFound for a number not in the table. The numbers and
// schedules tables notify the same channel as the menus (00013_numbers.sql),
// so any change to them empties the cache too.
func (c *CatalogCache) Number(ctx context.Context, number string) (ivr.Number, error) {
	return readThrough(ctx, c, c.numbers, number, c.db.Number, cloneNumber)
}

// Schedule returns schedule key, which menu options name, from memory when
// the cache has the answer, else from the database (see DB.Schedule).
func (c *CatalogCache) Schedule(ctx context.Context, key string) (ivr.Schedule, error) {
	return readThrough(ctx, c, c.schedules, key, c.db.Schedule, cloneSchedule)
}

// readThrough answers key from kept, one of c's maps, or else reads it with
// read and keeps the answer, found or not found, unless a notification
// arrived or the listening connection changed since the read began. Other
// errors are returned and not kept. Every answer goes out through clone.
func readThrough[T any](ctx context.Context, c *CatalogCache, kept map[string]catalogAnswer[T], key string,
	read func(context.Context, string) (T, error), clone func(T) T) (T, error) {
	c.mu.Lock()
	a, hit := kept[key]
	listening, gen := c.listening, c.gen
	c.mu.Unlock()
	if hit {
		c.stats.hits.Add(1)
		return clone(a.v), a.err
	}
	c.missed(listening)

	v, err := read(ctx, key)
	if err != nil && !errors.Is(err, ivr.ErrNotFound) {
		return v, err
	}
	if c.afterRead != nil {
		c.afterRead()
	}
	if listening {
		c.mu.Lock()
		if c.current(gen) {
			if _, ok := kept[key]; !ok && c.count() >= c.size {
				c.stats.evictions.Add(int64(c.count()))
				c.empty()
			}
			kept[key] = catalogAnswer[T]{v: v, err: err}
		}
		c.mu.Unlock()
	}
	return clone(v), err
}

// cloneMenu returns m with options of its own.
func cloneMenu(m ivr.Menu) ivr.Menu {
	m.Options = slices.Clone(m.Options)
	return m
}

// cloneSurvey returns s with questions, and answer ranges, of its own.
func cloneSurvey(s ivr.Survey) ivr.Survey {
	s.Questions = slices.Clone(s.Questions)
	for i, q := range s.Questions {
		if q.Range != nil {
			r := *q.Range
			s.Questions[i].Range = &r
		}
	}
	return s
}

// cloneNumber returns n with a schedule of its own.
func cloneNumber(n ivr.Number) ivr.Number {
	if n.Schedule != nil {
		s := cloneSchedule(*n.Schedule)
		n.Schedule = &s
	}
	return n
}

// cloneSchedule returns s with rules of its own.
func cloneSchedule(s ivr.Schedule) ivr.Schedule {
	s.Hours.Holidays = slices.Clone(s.Hours.Holidays)
	s.Hours.Exceptions = slices.Clone(s.Hours.Exceptions)
	for i, e := range s.Hours.Exceptions {
		s.Hours.Exceptions[i].Hours = slices.Clone(e.Hours)
	}
	for d, spans := range s.Hours.Weekly {
		s.Hours.Weekly[d] = slices.Clone(spans)
	}
	return s
}

// invalidate empties the cache: whatever the notification's payload, some
// menu or survey changed.
func (c *CatalogCache) invalidate(string) {
	defer c.stats.invalidations.Add(1) // once applied: tests wait for it
	c.reset(true)
}

// count returns the number of menu and survey keys kept. c.mu is held.
func (c *CatalogCache) count() int {
	return len(c.menus) + len(c.surveys) + len(c.numbers) + len(c.schedules)
}

// empty drops every answer kept. c.mu is held.
func (c *CatalogCache) empty() {
	clear(c.menus)
	clear(c.surveys)
	clear(c.numbers)
	clear(c.schedules)
}
