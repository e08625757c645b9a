package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store"
)

const (
	alicePhone = "+14155550101"
	bobPhone   = "+14155550102"
	newPhone   = "+14155550199"
)

// cacheWorld is a store with a listening caller cache over it, two callers
// (accounts 1001 and 1002, "Caller 1001" and "Caller 1002"), and an
// operator's connection of its own for plain SQL.
type cacheWorld struct {
	*listenWorld
	cache      *store.CallerCache
	alice, bob ivr.Caller
}

// newCacheWorld returns a cacheWorld whose cache keeps at most size numbers
// and pings a silent listening connection after ping (0: the defaults), and
// listens already.
func newCacheWorld(t *testing.T, size int, ping time.Duration) *cacheWorld {
	t.Helper()
	w := &cacheWorld{listenWorld: newListenWorld(t)}
	w.alice = createCaller(t, w.db, "1001", alicePhone)
	w.bob = createCaller(t, w.db, "1002", bobPhone)
	opts := store.CallerCacheOptions{Size: size, Logger: w.log}
	if ping == 0 {
		w.cache = store.NewCallerCache(w.db, opts)
	} else {
		w.cache = store.NewCallerCacheWithPing(w.db, opts, ping)
	}
	t.Cleanup(w.cache.Close)
	w.listening(w.cache.Stats, func() uint32 { return store.ListenerPID(w.cache) })
	return w
}

// lookup looks e164 up and says whether the answer came from memory.
func (w *cacheWorld) lookup(e164 string) (c ivr.Caller, err error, hit bool) {
	w.t.Helper()
	hit = w.hit(func() { c, err = w.cache.LookupCaller(context.Background(), e164) })
	if err != nil && !errors.Is(err, ivr.ErrNotFound) {
		w.t.Fatalf("lookup %s: %v", e164, err)
	}
	return c, err, hit
}

// warm looks e164 up twice and checks that the second answer came from memory.
func (w *cacheWorld) warm(e164 string) {
	w.t.Helper()
	w.lookup(e164)
	if _, _, hit := w.lookup(e164); !hit {
		w.t.Fatalf("second lookup of %s read the database: %+v", e164, w.cache.Stats())
	}
}

func TestCallerCacheHitAfterMiss(t *testing.T) {
	t.Parallel()
	w := newCacheWorld(t, 0, 0)
	rt := w.db.Stats().RoundTrips
	for i, wantHit := range []bool{false, true} {
		c, err, hit := w.lookup(alicePhone)
		if err != nil || hit != wantHit {
			t.Fatalf("lookup %d: %v, hit %v, want hit %v", i, err, hit, wantHit)
		}
		if c.ID != w.alice.ID || c.Account != "1001" || c.Name != "Caller 1001" || c.Language != "en" ||
			c.Status != ivr.CallerActive || len(c.Phones) != 1 || c.Phones[0] != alicePhone {
			t.Errorf("lookup %d: %+v, want %+v", i, c, w.alice)
		}
		if !c.PIN.IsZero() || c.PINFailures != 0 || !c.LockedUntil.IsZero() {
			t.Errorf("lookup %d carries PIN state: %+v", i, c)
		}
		c.Phones[0] = "changed by the caller" // must not reach the cache
	}
	for i, wantHit := range []bool{false, true} {
		if _, err, hit := w.lookup(newPhone); !errors.Is(err, ivr.ErrNotFound) || hit != wantHit {
			t.Fatalf("unknown number, lookup %d: %v, hit %v, want not found, hit %v", i, err, hit, wantHit)
		}
	}
	if c, _, _ := w.lookup(alicePhone); c.Phones[0] != alicePhone {
		t.Errorf("phones %v: a caller changed the cached answer", c.Phones)
	}
	if n := w.db.Stats().RoundTrips - rt; n != 2 {
		t.Errorf("%d round trips for two misses and three hits", n)
	}
	if s := w.cache.Stats(); s.Hits != 3 || s.Misses != 2 || s.Bypassed != 0 || s.Entries != 2 {
		t.Errorf("stats %+v", s)
	}
}

// TestCallerCacheSeesChanges changes callers and numbers with plain SQL, as an
// operator would, and expects the next lookup once the change is announced to
// read it.
func TestCallerCacheSeesChanges(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		sql  string
		want func(w *cacheWorld, c ivr.Caller, err error) bool
	}{
		{"name", "UPDATE callers SET name = 'Alice Renamed' WHERE account = '1001'",
			func(w *cacheWorld, c ivr.Caller, err error) bool { return err == nil && c.Name == "Alice Renamed" }},
		{"status", "UPDATE callers SET status = 'disabled' WHERE account = '1001'",
			func(w *cacheWorld, c ivr.Caller, err error) bool { return err == nil && c.Status == ivr.CallerDisabled }},
		{"language", "UPDATE callers SET language = 'nl' WHERE account = '1001'",
			func(w *cacheWorld, c ivr.Caller, err error) bool { return err == nil && c.Language == "nl" }},
		{"account", "UPDATE callers SET account = '2001' WHERE account = '1001'",
			func(w *cacheWorld, c ivr.Caller, err error) bool { return err == nil && c.Account == "2001" }},
		{"another phone", "INSERT INTO caller_phones (caller_id, e164) SELECT id, '" + newPhone + "' FROM callers WHERE account = '1001'",
			func(w *cacheWorld, c ivr.Caller, err error) bool { return err == nil && len(c.Phones) == 2 }},
		{"phone removed", "DELETE FROM caller_phones WHERE e164 = '" + alicePhone + "'",
			func(w *cacheWorld, c ivr.Caller, err error) bool { return errors.Is(err, ivr.ErrNotFound) }},
		{"phone moved", "UPDATE caller_phones SET caller_id = (SELECT id FROM callers WHERE account = '1002') WHERE e164 = '" + alicePhone + "'",
			func(w *cacheWorld, c ivr.Caller, err error) bool { return err == nil && c.ID == w.bob.ID }},
		{"caller deleted", "DELETE FROM callers WHERE account = '1001'",
			func(w *cacheWorld, c ivr.Caller, err error) bool { return errors.Is(err, ivr.ErrNotFound) }},
		{"truncated", "TRUNCATE callers CASCADE",
			func(w *cacheWorld, c ivr.Caller, err error) bool { return errors.Is(err, ivr.ErrNotFound) }},
		{"flushed by hand", "NOTIFY ivr_callers",
			func(w *cacheWorld, c ivr.Caller, err error) bool { return err == nil && c.ID == w.alice.ID }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newCacheWorld(t, 0, 0)
			w.warm(alicePhone)
			w.warm(bobPhone)
			w.exec(tc.sql)
			c, err, hit := w.lookup(alicePhone)
			if hit || !tc.want(w, c, err) {
				t.Errorf("after %s: %+v, %v, hit %v", tc.sql, c, err, hit)
			}
		})
	}
}

// TestCallerCachePINStateKept checks that what the IVR writes on every PIN
// attempt (failures, lock, PIN hash) leaves the cached answer in place.
func TestCallerCachePINStateKept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newCacheWorld(t, 0, 0)
	w.warm(alicePhone)
	before := w.cache.Stats().Invalidations
	for range testLock.After {
		if _, err := w.db.DecidePIN(ctx, ivr.PINEntry{CallerID: w.alice.ID, At: time.Now()}, testLock); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.db.SetPIN(ctx, w.alice.ID, ivr.PINHash{KeyID: "k2", Version: ivr.PINHashV2, Sum: []byte{9, 9}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.op.Exec(ctx, "UPDATE callers SET pin_failures = 4, locked_until = now(), updated_at = now() WHERE account = '1001'"); err != nil {
		t.Fatal(err)
	}
	// Notifications arrive in commit order: once this one is in, any of the
	// changes above would have been too.
	w.exec("UPDATE callers SET name = 'Bob Renamed' WHERE account = '1002'")
	if n := w.cache.Stats().Invalidations - before; n != 1 {
		t.Errorf("%d notifications, want 1 (the rename)", n)
	}
	if c, err, hit := w.lookup(alicePhone); err != nil || !hit || c.ID != w.alice.ID {
		t.Errorf("after the PIN changes: %+v, %v, hit %v, want a hit", c, err, hit)
	}
}

// TestCallerCacheNewNumber gives an unknown, cached number to a caller.
func TestCallerCacheNewNumber(t *testing.T) {
	t.Parallel()
	w := newCacheWorld(t, 0, 0)
	w.warm(newPhone)
	w.exec("INSERT INTO caller_phones (caller_id, e164) VALUES ($1, $2)", w.bob.ID, newPhone)
	for i, wantHit := range []bool{false, true} {
		c, err, hit := w.lookup(newPhone)
		if err != nil || c.ID != w.bob.ID || hit != wantHit || len(c.Phones) != 2 {
			t.Errorf("lookup %d: %+v, %v, hit %v, want Bob with two numbers, hit %v", i, c, err, hit, wantHit)
		}
	}
}

// TestCallerCacheListenerLost cuts the listening connection: the cache is
// empty and bypassed until it listens again, so a change made meanwhile,
// which nobody is told about, is still seen.
func TestCallerCacheListenerLost(t *testing.T) {
	t.Parallel()
	w := newCacheWorld(t, 0, 0)
	w.warm(alicePhone)
	allow := w.stopListener()
	if s := w.cache.Stats(); s.Entries != 0 {
		t.Errorf("%d entries kept without a listener", s.Entries)
	}
	if _, err := w.op.Exec(context.Background(), "UPDATE callers SET name = 'Alice Renamed' WHERE account = '1001'"); err != nil {
		t.Fatal(err)
	}
	bypassed := w.cache.Stats().Bypassed
	for range 2 {
		if c, err, hit := w.lookup(alicePhone); err != nil || hit || c.Name != "Alice Renamed" {
			t.Errorf("without a listener: %+v, %v, hit %v, want the new name from the database", c, err, hit)
		}
	}
	if s := w.cache.Stats(); s.Bypassed != bypassed+2 || s.Entries != 0 {
		t.Errorf("without a listener: %+v, want 2 more bypassed and nothing kept", s)
	}

	allow()
	w.waitUntil("the cache listens again", func(s store.CacheStats) bool { return s.Listening })
	w.warm(alicePhone)
	w.exec("UPDATE callers SET name = 'Alice Again' WHERE account = '1001'")
	if c, _, hit := w.lookup(alicePhone); hit || c.Name != "Alice Again" {
		t.Errorf("listening again: %+v, hit %v, want the new name", c, hit)
	}
	w.checkLossLogged("caller cache")
}

// TestCallerCacheReadRacesChange lets a change, or the loss of the listener,
// happen between a miss's read and its store: the answer read before is not
// kept.
func TestCallerCacheReadRacesChange(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		meanwhile func(w *cacheWorld)
		want      string // the name the next lookup reads
	}{
		{"renamed", func(w *cacheWorld) {
			w.exec("UPDATE callers SET name = 'Alice Renamed' WHERE account = '1001'")
		}, "Alice Renamed"},
		{"listener lost", func(w *cacheWorld) { w.reconnect() }, "Caller 1001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newCacheWorld(t, 0, 0)
			once := sync.OnceFunc(func() { tc.meanwhile(w) })
			store.SetAfterRead(w.cache, once)
			if c, err, _ := w.lookup(alicePhone); err != nil || c.Name != "Caller 1001" {
				t.Fatalf("first lookup: %+v, %v", c, err)
			}
			if n := w.cache.Stats().Entries; n != 0 {
				t.Errorf("%d entries: the answer read before the change was kept", n)
			}
			if c, _, hit := w.lookup(alicePhone); hit || c.Name != tc.want {
				t.Errorf("second lookup: %+v, hit %v, want %q from the database", c, hit, tc.want)
			}
		})
	}
}

// TestCallerCacheConcurrentChanges looks callers up from many goroutines
// while an operator renames them: once the renames are all announced, every
// lookup reads the last name.
func TestCallerCacheConcurrentChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newCacheWorld(t, 0, 0)
	const callers, renames = 8, 40
	phones := make([]string, callers)
	for i := range phones {
		phones[i] = fmt.Sprintf("+1415557%04d", i)
		createCaller(t, w.db, fmt.Sprint(3000+i), phones[i])
	}
	before := w.cache.Stats().Invalidations
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := g; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := w.cache.LookupCaller(ctx, phones[i%callers]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for r := range renames {
		i := r % callers
		if _, err := w.op.Exec(ctx, "UPDATE callers SET name = $1 WHERE account = $2", fmt.Sprintf("rename %d", r), fmt.Sprint(3000+i)); err != nil {
			t.Fatal(err)
		}
	}
	w.waitUntil("every rename is announced", func(s store.CacheStats) bool { return s.Invalidations >= before+renames })
	close(stop)
	wg.Wait()
	for i, p := range phones {
		want := fmt.Sprintf("rename %d", renames-callers+i)
		if c, err, _ := w.lookup(p); err != nil || c.Name != want {
			t.Errorf("%s: %+v, %v, want %q", p, c, err, want)
		}
	}
	t.Logf("stats: %+v", w.cache.Stats())
}

// TestCallerCacheBounded fills a cache of two numbers: the least recently
// used goes.
func TestCallerCacheBounded(t *testing.T) {
	t.Parallel()
	w := newCacheWorld(t, 2, 0)
	w.lookup(alicePhone)
	w.lookup(bobPhone)
	w.lookup(alicePhone)
	w.lookup(newPhone) // unknown numbers count too: Bob's goes
	if s := w.cache.Stats(); s.Entries != 2 || s.Evictions != 1 {
		t.Errorf("stats %+v, want 2 entries and 1 eviction", s)
	}
	for _, tc := range []struct {
		e164 string
		hit  bool
	}{{alicePhone, true}, {newPhone, true}, {bobPhone, false}} {
		if _, _, hit := w.lookup(tc.e164); hit != tc.hit {
			t.Errorf("%s: hit %v, want %v", tc.e164, hit, tc.hit)
		}
	}
	// Alice's entry went for Bob's: a change to Alice finds nothing to drop.
	w.exec("UPDATE callers SET name = 'Alice Renamed' WHERE account = '1001'")
	if s := w.cache.Stats(); s.Entries != 2 {
		t.Errorf("stats %+v after a change to a caller no longer kept, want 2 entries", s)
	}
	if _, _, hit := w.lookup(bobPhone); !hit {
		t.Errorf("Bob's entry went with Alice's change: %+v", w.cache.Stats())
	}
}

// TestCallerCacheClose stops the listener: its connection ends, and lookups
// read the database.
func TestCallerCacheClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newCacheWorld(t, 0, 0)
	pid := store.ListenerPID(w.cache)
	w.warm(alicePhone)
	w.cache.Close()
	if s := w.cache.Stats(); s.Listening || s.Entries != 0 || store.ListenerPID(w.cache) != 0 {
		t.Errorf("after Close: %+v", s)
	}
	// The server process ends just after the connection is closed.
	eventually(t, "the listener's server process ends", func() bool {
		var n int
		if err := w.op.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", int32(pid)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
	if c, err, hit := w.lookup(alicePhone); err != nil || hit || c.ID != w.alice.ID {
		t.Errorf("after Close: %+v, %v, hit %v", c, err, hit)
	}
}

// TestCallerCachePings lets the listening connection stay silent past the
// ping interval a few times: it keeps listening on the same connection, and
// still hears of changes.
func TestCallerCachePings(t *testing.T) {
	t.Parallel()
	w := newCacheWorld(t, 0, 10*time.Millisecond)
	pid := store.ListenerPID(w.cache)
	// The server shows the listener's last statement, and when it ran.
	var pings []time.Time
	eventually(t, "three pings", func() bool {
		var (
			query string
			at    time.Time
		)
		err := w.op.QueryRow(context.Background(), "SELECT query, state_change FROM pg_stat_activity WHERE pid = $1", int32(pid)).Scan(&query, &at)
		if err != nil {
			t.Fatal(err)
		}
		if query == "-- ping" && (len(pings) == 0 || !at.Equal(pings[len(pings)-1])) {
			pings = append(pings, at)
		}
		return len(pings) == 3
	})
	if got := store.ListenerPID(w.cache); got != pid || !w.cache.Stats().Listening {
		t.Fatalf("listener %d, listening %v after pings; was %d\n%s", got, w.cache.Stats().Listening, pid, w.logs())
	}
	w.warm(alicePhone)
	w.exec("UPDATE callers SET name = 'Alice Renamed' WHERE account = '1001'")
	if c, _, hit := w.lookup(alicePhone); hit || c.Name != "Alice Renamed" {
		t.Errorf("after pings: %+v, hit %v, want the new name", c, hit)
	}
}
