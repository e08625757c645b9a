package store_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store"
)

// catalogWorld is a store with a listening catalog cache over it, the menu
// "main" and the survey "csat" published, and an operator's connection of
// its own for plain SQL.
type catalogWorld struct {
	*listenWorld
	cache *store.CatalogCache
	main  ivr.Menu
	csat  ivr.Survey
}

// newCatalogWorld returns a catalogWorld whose cache keeps at most size keys
// (0: the default), and listens already.
func newCatalogWorld(t *testing.T, size int) *catalogWorld {
	t.Helper()
	w := &catalogWorld{listenWorld: newListenWorld(t)}
	w.main = publishedMenu(t, w.db, "main")
	w.csat = publishedSurvey(t, w.db, "csat")
	w.cache = store.NewCatalogCache(w.db, store.CatalogCacheOptions{Size: size, Logger: w.log})
	t.Cleanup(w.cache.Close)
	w.listening(w.cache.Stats, func() uint32 { return store.CatalogListenerPID(w.cache) })
	return w
}

// sampleSurvey is a survey with a question answered by a key and one
// answered by a number.
func sampleSurvey(key string) ivr.Survey {
	return ivr.Survey{
		Key:            key,
		IntroPrompt:    "survey-intro",
		ThankYouPrompt: "survey-thanks",
		Questions: []ivr.Question{
			{Key: "satisfied", Prompt: "q-satisfied", AllowedDigits: "12345", Required: true},
			{Key: "age", Prompt: "q-age", Range: &ivr.AnswerRange{Min: 18, Max: 120}},
		},
	}
}

// publishedSurvey creates and publishes a version of survey key and returns
// it as the live version.
func publishedSurvey(t testing.TB, db *store.DB, key string) ivr.Survey {
	t.Helper()
	ctx := context.Background()
	s, err := db.CreateSurveyVersion(ctx, sampleSurvey(key))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PublishSurvey(ctx, s.VersionID); err != nil {
		t.Fatal(err)
	}
	if s, err = db.PublishedSurvey(ctx, key); err != nil {
		t.Fatal(err)
	}
	return s
}

// newVersions creates a version of the menu m.Key and one of the survey s.Key
// and publishes them when publish is set, waiting until each change is
// announced, and returns them.
func (w *catalogWorld) newVersions(m ivr.Menu, s ivr.Survey, publish bool) (ivr.Menu, ivr.Survey) {
	w.t.Helper()
	ctx := context.Background()
	w.announced(func() (err error) { m, err = w.db.CreateMenuVersion(ctx, m); return err })
	w.announced(func() (err error) { s, err = w.db.CreateSurveyVersion(ctx, s); return err })
	if publish {
		w.announced(func() error { return w.db.PublishMenu(ctx, m.VersionID) })
		w.announced(func() error { return w.db.PublishSurvey(ctx, s.VersionID) })
	}
	return m, s
}

// menu reads the live menu key and says whether the answer came from memory.
func (w *catalogWorld) menu(key string) (ivr.Menu, error, bool) {
	return readLive(w, w.cache.PublishedMenu, key)
}

// survey reads the live survey key and says whether the answer came from
// memory.
func (w *catalogWorld) survey(key string) (ivr.Survey, error, bool) {
	return readLive(w, w.cache.PublishedSurvey, key)
}

// readLive reads key with read and says whether the answer came from memory.
func readLive[T any](w *catalogWorld, read func(context.Context, string) (T, error), key string) (v T, err error, hit bool) {
	w.t.Helper()
	hit = w.hit(func() { v, err = read(context.Background(), key) })
	if err != nil && !errors.Is(err, ivr.ErrNotFound) {
		w.t.Fatalf("%s: %v", key, err)
	}
	return v, err, hit
}

// warm reads the menu main and the survey csat twice each, and checks that
// the second answers came from memory.
func (w *catalogWorld) warm() {
	w.t.Helper()
	w.menu("main")
	w.survey("csat")
	_, _, menuHit := w.menu("main")
	_, _, surveyHit := w.survey("csat")
	if !menuHit || !surveyHit {
		w.t.Fatalf("second reads went to the database (menu hit %v, survey hit %v): %+v", menuHit, surveyHit, w.cache.Stats())
	}
}

func TestCatalogCacheHitAfterMiss(t *testing.T) {
	t.Parallel()
	w := newCatalogWorld(t, 0)
	rt := w.db.Stats().RoundTrips
	for i, wantHit := range []bool{false, true} {
		m, err, hit := w.menu("main")
		if err != nil || hit != wantHit || !reflect.DeepEqual(m, w.main) {
			t.Errorf("menu, read %d: %v, hit %v, want hit %v\n got %+v\nwant %+v", i, err, hit, wantHit, m, w.main)
		}
		s, err, hit := w.survey("csat")
		if err != nil || hit != wantHit || !reflect.DeepEqual(s, w.csat) {
			t.Errorf("survey, read %d: %v, hit %v, want hit %v\n got %+v\nwant %+v", i, err, hit, wantHit, s, w.csat)
		}
	}
	// A key with no published version, menu or survey, is remembered too,
	// with the database's own error.
	_, want := w.db.PublishedMenu(context.Background(), "none")
	for i, wantHit := range []bool{false, true} {
		if _, err, hit := w.menu("none"); !errors.Is(err, ivr.ErrNotFound) || err.Error() != want.Error() || hit != wantHit {
			t.Errorf("unknown menu, read %d: %v, hit %v, want %q, hit %v", i, err, hit, want, wantHit)
		}
		if _, err, hit := w.survey("main"); !errors.Is(err, ivr.ErrNotFound) || hit != wantHit {
			t.Errorf("unknown survey, read %d: %v, hit %v, want not found, hit %v", i, err, hit, wantHit)
		}
	}
	if got, want := w.cache.Stats(), (store.CacheStats{Hits: 4, Misses: 4, Entries: 4, Listening: true}); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
	if n := w.db.Stats().RoundTrips - rt; n != 5 {
		t.Errorf("%d round trips for four misses, one direct read and four hits", n)
	}
}

// TestCatalogCacheCopies changes what the cache answered, on a miss and on a
// hit: the next answer is still the live version.
func TestCatalogCacheCopies(t *testing.T) {
	t.Parallel()
	w := newCatalogWorld(t, 0)
	for i := range 2 {
		m, _, _ := w.menu("main")
		m.Options[0].Digits = "9"
		m.Options[1].Action.Target = "changed by the caller"
		m.Options = append(m.Options[:1], ivr.MenuOption{Digits: "8"})
		s, _, _ := w.survey("csat")
		s.Questions[0].Prompt = "changed by the caller"
		s.Questions[1].Range.Max = 7
		if m, _, _ := w.menu("main"); !reflect.DeepEqual(m, w.main) {
			t.Errorf("menu after change %d: %+v, want %+v", i, m, w.main)
		}
		if s, _, _ := w.survey("csat"); !reflect.DeepEqual(s, w.csat) || *s.Questions[1].Range != (ivr.AnswerRange{Min: 18, Max: 120}) {
			t.Errorf("survey after change %d: %+v, want %+v", i, s, w.csat)
		}
	}
}

// TestCatalogCacheSeesPublish publishes a new version of a cached menu and
// survey: the next read once it is announced finds it.
func TestCatalogCacheSeesPublish(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newCatalogWorld(t, 0)
	// A draft is not live: reads find the version before it, from memory
	// once more.
	m2, s2 := w.main, w.csat
	m2.Prompt = "ivr-main-menu-2"
	s2.ThankYouPrompt = "survey-thanks-2"
	m2, s2 = w.newVersions(m2, s2, false)
	w.warm()
	if m, _, _ := w.menu("main"); m.VersionID != w.main.VersionID {
		t.Fatalf("a draft went live: %+v", m)
	}

	w.announced(func() error { return w.db.PublishMenu(ctx, m2.VersionID) })
	w.announced(func() error { return w.db.PublishSurvey(ctx, s2.VersionID) })
	for i, wantHit := range []bool{false, true} {
		if m, err, hit := w.menu("main"); err != nil || hit != wantHit || m.VersionID != m2.VersionID || m.Prompt != "ivr-main-menu-2" {
			t.Errorf("menu after the publish, read %d: %+v, %v, hit %v, want version %d", i, m, err, hit, m2.Version)
		}
		if s, err, hit := w.survey("csat"); err != nil || hit != wantHit || s.VersionID != s2.VersionID || s.ThankYouPrompt != "survey-thanks-2" {
			t.Errorf("survey after the publish, read %d: %+v, %v, hit %v, want version %d", i, s, err, hit, s2.Version)
		}
	}
}

// TestCatalogCacheSeesChanges changes the catalog with plain SQL, as an
// operator would, and expects the next reads once the change is announced to
// go to the database and find what it made.
func TestCatalogCacheSeesChanges(t *testing.T) {
	t.Parallel()
	found := func(err error) bool { return err == nil }
	for _, tc := range []struct {
		name             string
		sql              string
		menuOK, surveyOK func(error) bool
	}{
		{"menu key changed", "UPDATE menus SET key = 'old-main' WHERE key = 'main'", notFound, found},
		{"survey key changed", "UPDATE surveys SET key = 'old-csat' WHERE key = 'csat'", found, notFound},
		{"drafts deleted", "DELETE FROM menu_versions WHERE published_at IS NULL", found, found},
		{"no row changed", "UPDATE survey_questions SET prompt = 'x' WHERE false", found, found},
		{"menus truncated", "TRUNCATE menus, menu_versions, menu_options CASCADE", notFound, found},
		{"surveys truncated", "TRUNCATE surveys, survey_versions, survey_questions CASCADE", found, notFound},
		{"flushed by hand", "NOTIFY ivr_catalog", found, found},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newCatalogWorld(t, 0)
			w.newVersions(sampleMenu("main"), sampleSurvey("csat"), false) // drafts, for "drafts deleted"
			w.warm()
			w.exec(tc.sql)
			if s := w.cache.Stats(); s.Entries != 0 {
				t.Errorf("after %s: %d entries kept", tc.sql, s.Entries)
			}
			m, err, hit := w.menu("main")
			if hit || !tc.menuOK(err) || (err == nil && m.VersionID != w.main.VersionID) {
				t.Errorf("menu after %s: %+v, %v, hit %v", tc.sql, m, err, hit)
			}
			s, err, hit := w.survey("csat")
			if hit || !tc.surveyOK(err) || (err == nil && s.VersionID != w.csat.VersionID) {
				t.Errorf("survey after %s: %+v, %v, hit %v", tc.sql, s, err, hit)
			}
		})
	}
}

// notFound reports whether err says that no version is published.
func notFound(err error) bool { return errors.Is(err, ivr.ErrNotFound) }

// TestCatalogCacheFirstPublish reads keys with no published version, then
// publishes one for each: once it is announced, the reads find it.
func TestCatalogCacheFirstPublish(t *testing.T) {
	t.Parallel()
	w := newCatalogWorld(t, 0)
	for _, read := range []func() (error, bool){
		func() (error, bool) { _, err, hit := w.menu("dept"); return err, hit },
		func() (error, bool) { _, err, hit := w.survey("nps"); return err, hit },
	} {
		for i, wantHit := range []bool{false, true} {
			if err, hit := read(); !notFound(err) || hit != wantHit {
				t.Fatalf("before the publish, read %d: %v, hit %v, want not found, hit %v", i, err, hit, wantHit)
			}
		}
	}
	dept, nps := w.newVersions(sampleMenu("dept"), sampleSurvey("nps"), true)
	for i, wantHit := range []bool{false, true} {
		if m, err, hit := w.menu("dept"); err != nil || hit != wantHit || m.VersionID != dept.VersionID {
			t.Errorf("menu after the publish, read %d: %+v, %v, hit %v, want hit %v", i, m, err, hit, wantHit)
		}
		if s, err, hit := w.survey("nps"); err != nil || hit != wantHit || s.VersionID != nps.VersionID {
			t.Errorf("survey after the publish, read %d: %+v, %v, hit %v, want hit %v", i, s, err, hit, wantHit)
		}
	}
}

// TestCatalogCacheListenerLost cuts the listening connection: the cache is
// empty and bypassed until it listens again, so a change made meanwhile,
// which nobody is told about, is still seen.
func TestCatalogCacheListenerLost(t *testing.T) {
	t.Parallel()
	w := newCatalogWorld(t, 0)
	w.warm()
	allow := w.stopListener()
	if s := w.cache.Stats(); s.Entries != 0 {
		t.Errorf("%d entries kept without a listener", s.Entries)
	}
	if _, err := w.op.Exec(context.Background(), "UPDATE menus SET key = 'old-main' WHERE key = 'main'"); err != nil {
		t.Fatal(err)
	}
	bypassed := w.cache.Stats().Bypassed
	for range 2 {
		if m, err, hit := w.menu("main"); !notFound(err) || hit {
			t.Errorf("without a listener: %+v, %v, hit %v, want not found from the database", m, err, hit)
		}
		if s, err, hit := w.survey("csat"); err != nil || hit || s.VersionID != w.csat.VersionID {
			t.Errorf("without a listener: %+v, %v, hit %v, want the survey from the database", s, err, hit)
		}
	}
	if s := w.cache.Stats(); s.Bypassed != bypassed+4 || s.Misses != 2 || s.Entries != 0 {
		t.Errorf("without a listener: %+v, want 4 more bypassed, no more misses, and nothing kept", s)
	}

	allow()
	w.waitUntil("the cache listens again", func(s store.CacheStats) bool { return s.Listening })
	w.exec("UPDATE menus SET key = 'main' WHERE key = 'old-main'")
	w.warm()
	w.exec("UPDATE surveys SET key = 'old-csat' WHERE key = 'csat'")
	if s, err, hit := w.survey("csat"); !notFound(err) || hit {
		t.Errorf("listening again: %+v, %v, hit %v, want not found", s, err, hit)
	}
	w.checkLossLogged("catalog cache")
}

// TestCatalogCacheReadRacesChange lets a change, or the loss of the listener,
// happen between a miss's read and its store: the answer read before is not
// kept.
func TestCatalogCacheReadRacesChange(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		meanwhile func(w *catalogWorld)
		want      func(error) bool // for the next read
	}{
		{"key changed", func(w *catalogWorld) {
			w.exec("UPDATE menus SET key = 'old-main' WHERE key = 'main'")
		}, notFound},
		{"listener lost", func(w *catalogWorld) { w.reconnect() }, func(err error) bool { return err == nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newCatalogWorld(t, 0)
			store.SetCatalogAfterRead(w.cache, sync.OnceFunc(func() { tc.meanwhile(w) }))
			if m, err, _ := w.menu("main"); err != nil || m.VersionID != w.main.VersionID {
				t.Fatalf("first read: %+v, %v", m, err)
			}
			if n := w.cache.Stats().Entries; n != 0 {
				t.Errorf("%d entries: the answer read before the change was kept", n)
			}
			if m, err, hit := w.menu("main"); hit || !tc.want(err) {
				t.Errorf("second read: %+v, %v, hit %v, want it from the database", m, err, hit)
			}
		})
	}
}

// TestCatalogCacheConcurrentPublishes reads the live menu from many
// goroutines while an operator publishes new versions of it: once the
// publishes are all announced, every read finds the last one.
func TestCatalogCacheConcurrentPublishes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newCatalogWorld(t, 0)
	const publishes = 10
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := w.cache.PublishedMenu(ctx, "main"); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var last ivr.Menu
	before := w.cache.Stats().Invalidations
	for range publishes {
		last = publishedMenu(t, w.db, "main")
	}
	w.waitUntil("every publish is announced", func(s store.CacheStats) bool { return s.Invalidations >= before+2*publishes })
	close(stop)
	wg.Wait()
	if m, err, _ := w.menu("main"); err != nil || m.VersionID != last.VersionID {
		t.Errorf("after the publishes: version %d, %v, want %d", m.Version, err, last.Version)
	}
	t.Logf("stats: %+v", w.cache.Stats())
}

// TestCatalogCacheBounded fills a cache of two keys: the next answer empties
// it first.
func TestCatalogCacheBounded(t *testing.T) {
	t.Parallel()
	w := newCatalogWorld(t, 2)
	w.warm()
	w.menu("none") // unknown keys count too
	if s := w.cache.Stats(); s.Entries != 1 || s.Evictions != 2 {
		t.Errorf("stats %+v, want 1 entry and 2 evictions", s)
	}
	if _, _, hit := w.menu("none"); !hit {
		t.Errorf("the answer that emptied the cache was not kept: %+v", w.cache.Stats())
	}
	if _, _, hit := w.menu("main"); hit {
		t.Errorf("an answer was kept past the bound: %+v", w.cache.Stats())
	}
}

// TestCatalogCacheClose stops the listener: reads go to the database.
func TestCatalogCacheClose(t *testing.T) {
	t.Parallel()
	w := newCatalogWorld(t, 0)
	w.warm()
	w.cache.Close()
	if s := w.cache.Stats(); s.Listening || s.Entries != 0 || store.CatalogListenerPID(w.cache) != 0 {
		t.Errorf("after Close: %+v", s)
	}
	for range 2 {
		if m, err, hit := w.menu("main"); err != nil || hit || m.VersionID != w.main.VersionID {
			t.Errorf("after Close: %+v, %v, hit %v", m, err, hit)
		}
	}
}
