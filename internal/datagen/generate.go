package datagen

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ivrhq/ivr/internal/agi"
	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store"
)

// Summary is what Generate did: the callers seeded, the tally of the calls as
// the callers' side saw them, and the size of the journal afterwards.
type Summary struct {
	Callers  int
	Tally    Tally
	Journal  store.JournalSize
	From, To time.Time // the first and the last call's start
	Elapsed  time.Duration
}

// Generate plays the traffic of opt through the real call flows into the
// database behind db: it makes the journal's month partitions of the plan's
// days, seeds the callers (with their phone numbers and
// PINs), the main menu and the satisfaction survey (the first versions
// published, the later ones published when the first call after they go live
// is due), then plays every call of the plan, opt.Lanes at a time, and
// vacuums and analyzes the journal's tables. progress, when not nil, is called with 1
// after each call, from many goroutines at once.
//
// The database must be migrated and hold no calls and no menu "main" or
// survey "satisfaction": Generate is for a database of its own. It returns
// the first error, with the calls played before it stored; a call the App
// ended with IVR_RESULT=error (counted in Tally.Errors) is an error too,
// returned once every call has been played.
func Generate(ctx context.Context, db *store.DB, opt Options, progress func(calls int)) (Summary, error) {
	began := time.Now()
	p := NewPlan(opt, began)
	sum := Summary{Callers: len(p.Callers)}
	if n := len(p.Starts); n > 0 {
		sum.From, sum.To = p.Starts[0], p.Starts[n-1]
	}
	if err := checkEmpty(ctx, db); err != nil {
		return sum, err
	}
	if _, err := db.EnsurePartitions(ctx, sum.From, sum.To); err != nil {
		return sum, err
	}
	kr, err := keyring(p.Options.Seed)
	if err != nil {
		return sum, err
	}
	if err := seedCallers(ctx, db, kr, p.Callers); err != nil {
		return sum, err
	}
	later, err := seedCatalog(ctx, db, p)
	if err != nil {
		return sum, err
	}

	callers := store.NewCallerCache(db, store.CallerCacheOptions{Logger: p.Options.Logger})
	defer callers.Close()
	catalog := store.NewCatalogCache(db, store.CatalogCacheOptions{Logger: p.Options.Logger})
	defer catalog.Close()
	svc := ivr.Services{Callers: db, Lookup: callers, Journal: db, PINs: db, Catalog: catalog, Messages: db,
		Keyring: kr, Logger: p.Options.Logger}
	cfg := ivr.Config{
		// The calls run as fast as the machine goes, many at once: the store
		// and the lookup get all the time they need, and a refused PIN is
		// answered at once. None of this changes what is written.
		StoreTimeout:  time.Minute,
		LookupTimeout: time.Minute,
		RefusalTime:   -1,
	}
	lanes := make([]*lane, 0, p.Options.Lanes)
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		for _, ln := range lanes {
			ln.stop()
		}
	}
	defer stop()
	for range p.Options.Lanes {
		ln := newLane()
		svc := svc
		svc.Now = ln.clock.Now
		if ln.app, err = ivr.New(cfg, svc); err != nil {
			return sum, err
		}
		ln.start()
		lanes = append(lanes, ln)
	}
	pr := newPrompts(p, lanes[0].app.Config())
	pins := make([]ivr.Secret, len(p.Callers))
	for i, c := range p.Callers {
		pins[i] = c.PIN
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup // the lanes' goroutines
	ended := newEnded(len(p.Starts))
	for _, ln := range lanes {
		wg.Go(func() {
			for s := range ln.calls {
				if ctx.Err() == nil {
					t, err := ln.play(ctx, &s, pr, pins)
					if err != nil {
						cancel(fmt.Errorf("call %d: %w", s.N, err))
					}
					ln.tally.add(t)
					if progress != nil {
						progress(1)
					}
				}
				ended.add(s.N)
			}
		})
	}

	err = dispatch(ctx, p, lanes, later, catalog, ended)
	for _, ln := range lanes {
		close(ln.calls)
	}
	wg.Wait()
	for _, ln := range lanes {
		sum.Tally.add(ln.tally)
	}
	if err == nil {
		err = context.Cause(ctx)
	}
	stop()
	closeCtx, cancelClose := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancelClose()
	for _, ln := range lanes {
		if n := ln.app.Close(closeCtx); n > 0 && err == nil {
			err = fmt.Errorf("%d writes of ended calls abandoned", n)
		}
	}
	if err == nil {
		err = db.VacuumJournal(ctx)
	}
	if err == nil {
		sum.Journal, err = db.JournalSize(ctx)
	}
	if err == nil && sum.Tally.Errors > 0 {
		err = fmt.Errorf("%d calls ended in error (IVR_RESULT=error): the App's log says why", sum.Tally.Errors)
	}
	sum.Elapsed = time.Since(began)
	return sum, err
}

// dispatch hands the scripts to the lanes in start order and publishes the
// later catalog versions on time. A call about a caller goes to that caller's
// lane; any other to the lane with the fewest calls waiting. No call starts
// before every call 2×lanes before it has ended, so the rows of the calls
// reach the tables in nearly the order of their times, as they do in
// service, which the reports' BRIN indexes depend on.
func dispatch(ctx context.Context, p *Plan, lanes []*lane, later []release, catalog *store.CatalogCache, ended *ended) error {
	window := 2 * len(lanes)
	for n := range p.Starts {
		s := p.Script(n)
		for len(later) > 0 && !later[0].at.After(s.Start) {
			// The calls before it end first, as they would have.
			ended.wait(n)
			if err := later[0].publish(ctx, catalog); err != nil {
				return fmt.Errorf("publish the version live from %s: %w", later[0].at.Format(time.DateTime), err)
			}
			later = later[1:]
		}
		ended.wait(n - window)
		ln := lanes[0]
		if s.Route == RouteIVR && s.Caller >= 0 {
			ln = lanes[s.Caller%len(lanes)]
		} else {
			for _, o := range lanes[1:] {
				if len(o.calls) < len(ln.calls) {
					ln = o
				}
			}
		}
		select {
		case ln.calls <- s:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	ended.wait(len(p.Starts))
	return nil
}

// ended tracks which calls have ended (been played, or skipped after an
// error), by call number.
type ended struct {
	mu     sync.Mutex
	cond   sync.Cond
	done   []bool
	before int // every call before this one has ended
}

func newEnded(calls int) *ended {
	e := &ended{done: make([]bool, calls)}
	e.cond.L = &e.mu
	return e
}

// add notes that call n has ended.
func (e *ended) add(n int) {
	e.mu.Lock()
	e.done[n] = true
	moved := false
	for e.before < len(e.done) && e.done[e.before] {
		e.before++
		moved = true
	}
	e.mu.Unlock()
	if moved {
		e.cond.Broadcast()
	}
}

// wait blocks until every call before n has ended.
func (e *ended) wait(n int) {
	e.mu.Lock()
	for e.before < n {
		e.cond.Wait()
	}
	e.mu.Unlock()
}

// lane plays calls one after the other on an App of its own, whose clock is
// the lane's, served by an agi.Server over in-memory connections (net.Pipe).
type lane struct {
	clock clock
	app   *ivr.App
	srv   *agi.Server
	l     *agiclient.Listener
	calls chan Script
	done  chan struct{} // closed when Serve has returned
	tally Tally         // of the calls played, read once the lane's goroutine ended
}

// laneQueue is how many scripts wait for a lane at most: enough that a lane
// busy with a frequent caller seldom holds up the others within the window
// of dispatch.
const laneQueue = 16

// newLane returns a lane without its App, which takes the lane's clock.
func newLane() *lane {
	return &lane{l: agiclient.NewListener(), calls: make(chan Script, laneQueue), done: make(chan struct{})}
}

// start serves the lane's App.
func (ln *lane) start() {
	mux := agi.NewServeMux()
	ln.app.Register(mux)
	ln.srv = &agi.Server{Handler: mux}
	go func() {
		defer close(ln.done)
		_ = ln.srv.Serve(ln.l) // ErrServerClosed once stopped; the listener never fails
	}()
}

// stop shuts the lane's server down once its calls have ended.
func (ln *lane) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if ln.srv.Shutdown(ctx) != nil {
		ln.srv.Close()
	}
	<-ln.done
}

// play runs the call of s on the lane and returns its tally. pins are the
// callers' current PINs; the call may change the one of s.Caller, which only
// this lane's calls touch.
func (ln *lane) play(ctx context.Context, s *Script, pr *prompts, pins []ivr.Secret) (Tally, error) {
	ln.clock.set(s.Start)
	c := &caller{s: s, p: pr, clock: &ln.clock, pace: rng(s.Pace, 0, uint64(s.N)), asked: map[string]int{}}
	if s.Caller >= 0 && s.Route == RouteIVR {
		c.pin = &pins[s.Caller]
		for c.wrong = c.goodPIN(); c.wrong == string(*c.pin); c.wrong = c.goodPIN() {
		}
	}
	number := s.Number
	if number == "" {
		number = "unknown"
	}
	call := agiclient.Call{
		Script: s.Route,
		Env: map[string]string{
			"agi_uniqueid":  fmt.Sprintf("%d.%d", s.Start.Unix(), s.N),
			"agi_channel":   fmt.Sprintf("PJSIP/trunk-%08x", s.N),
			"agi_callerid":  number,
			"agi_dnid":      serviceNumber,
			"agi_extension": serviceNumber,
		},
		Records:   s.Takes,
		Responder: c.respond,
	}
	conn, err := ln.l.Dial(ctx)
	if err != nil {
		return Tally{}, err
	}
	tr, err := call.RunConn(ctx, conn, "datagen")
	if err != nil {
		return Tally{}, err
	}
	if tr.Failure {
		return Tally{}, errors.New("the server ended the call with FAILURE")
	}
	c.end(tr)
	return c.tally, nil
}

// keyring returns the PIN keyring of a plan: one key, made from the seed.
// The callers' PINs are hashed with it, so only an App with the same key
// accepts them; the data is for reports, not for logging in.
func keyring(seed uint64) (*ivr.Keyring, error) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seed)
	key := sha256.Sum256(append([]byte("ivr datagen pin key\x00"), b[:]...))
	return ivr.NewKeyring("datagen", map[string][]byte{"datagen": key[:]})
}

// checkEmpty refuses a database that has calls or the plan's menu or survey.
func checkEmpty(ctx context.Context, db *store.DB) error {
	calls, err := db.CallsSince(ctx, time.Time{}, 1)
	if err != nil {
		return err
	}
	_, menuErr := db.LatestMenuVersion(ctx, "main")
	_, surveyErr := db.LatestSurveyVersion(ctx, "satisfaction")
	for _, e := range []error{menuErr, surveyErr} {
		if e != nil && !errors.Is(e, ivr.ErrNotFound) {
			return e
		}
	}
	if len(calls) > 0 || menuErr == nil || surveyErr == nil {
		return errors.New("the database already holds calls, or a menu \"main\" or a survey \"satisfaction\": generate into an empty database")
	}
	return nil
}

// seedCallers stores the callers with their phone numbers and PIN hashes.
func seedCallers(ctx context.Context, db *store.DB, kr *ivr.Keyring, seeds []CallerSeed) error {
	callers := make([]ivr.Caller, len(seeds))
	for i, s := range seeds {
		callers[i] = ivr.Caller{Account: s.Account, Name: s.Name, Status: ivr.CallerActive, Phones: []string{s.Phone},
			PIN: kr.Hash(s.Account, string(s.PIN))}
	}
	if err := db.ImportCallers(ctx, callers, 1000, func(int) {}); err != nil {
		return fmt.Errorf("seed callers: %w", err)
	}
	return nil
}

// release is a catalog version to publish when the calls reach at.
type release struct {
	at      time.Time
	publish func(ctx context.Context, catalog *store.CatalogCache) error
}

// serviceNumber is the number every generated call dials: an extension of
// the numbers table whose entry is the main menu.
const serviceNumber = "5000"

// seedCatalog stores every menu and survey version of the plan and the
// service number, publishes
// the first of each, and returns the releases of the others in time order.
func seedCatalog(ctx context.Context, db *store.DB, p *Plan) ([]release, error) {
	menus, err := seedVersions(ctx, db.SaveMenus, db.PublishMenu, (*store.CatalogCache).PublishedMenu, p.Menus,
		func(m MenuSeed) (ivr.Menu, time.Time) { return m.Menu, m.Live },
		func(m ivr.Menu) (int64, string) { return m.VersionID, m.Key })
	if err != nil {
		return nil, fmt.Errorf("seed menus: %w", err)
	}
	surveys, err := seedVersions(ctx, db.SaveSurveys, db.PublishSurvey, (*store.CatalogCache).PublishedSurvey, p.Surveys,
		func(s SurveySeed) (ivr.Survey, time.Time) { return s.Survey, s.Live },
		func(s ivr.Survey) (int64, string) { return s.VersionID, s.Key })
	if err != nil {
		return nil, fmt.Errorf("seed surveys: %w", err)
	}
	// The ivr calls dial the service number, which the numbers table routes
	// to the main menu (docs/ivr.md, An IVR per dialled number).
	if err := db.ReplaceNumbers(ctx, []ivr.Number{{Number: serviceNumber, Menu: "main"}}); err != nil {
		return nil, fmt.Errorf("seed numbers: %w", err)
	}
	later := append(menus, surveys...)
	slices.SortStableFunc(later, func(a, b release) int { return a.at.Compare(b.at) })
	return later, nil
}

// seedVersions stores the versions of one menu or survey, in the order of
// seeds, with save; it publishes the first and returns the releases of the
// others. A release publishes its version (publish) and waits until the
// catalog cache answers it (live), for at most ten seconds. version gives a
// seed's version and when it goes live, ref a stored version's id and key.
func seedVersions[S, V any](ctx context.Context,
	save func(ctx context.Context, vs []V, publish bool, alsoPublish []int64) ([]V, error),
	publish func(ctx context.Context, id int64) error,
	live func(c *store.CatalogCache, ctx context.Context, key string) (V, error),
	seeds []S, version func(S) (V, time.Time), ref func(V) (int64, string),
) ([]release, error) {
	var later []release
	for i, s := range seeds {
		v, at := version(s)
		saved, err := save(ctx, []V{v}, i == 0, nil)
		if err != nil {
			return nil, err
		}
		id, key := ref(saved[0])
		if i == 0 {
			continue
		}
		later = append(later, release{at: at, publish: func(ctx context.Context, c *store.CatalogCache) error {
			if err := publish(ctx, id); err != nil {
				return err
			}
			for deadline := time.Now().Add(10 * time.Second); ; {
				v, err := live(c, ctx, key)
				if err != nil {
					return err
				}
				if got, _ := ref(v); got == id {
					return nil
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("%s: the catalog cache does not answer version id %d ten seconds after it was published", key, id)
				}
				select {
				case <-ctx.Done():
					return context.Cause(ctx)
				case <-time.After(5 * time.Millisecond):
				}
			}
		}})
	}
	return later, nil
}
