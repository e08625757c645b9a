package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/ivrhq/ivr/db"
	"github.com/ivrhq/ivr/internal/agi"
	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/metrics"
	"github.com/ivrhq/ivr/internal/store"
)

// closeGrace is how long the calls cancelled at the end of a drain get to close
// their rows before the database is closed under them.
const closeGrace = 10 * time.Second

func runServe(ctx context.Context, e *env, args []string) error {
	var c serveConfig
	f := newFlags(e, "serve", "", "Run the FastAGI server and its HTTP endpoints (/metrics, /healthz, /readyz) until SIGTERM or SIGINT.")
	c.register(f)
	log, agiLog, err := parseSettings(f, args, &c, true)
	if err != nil {
		return err
	}
	keyring, dsn, err := c.credentials()
	if err != nil {
		return err
	}
	return serveStore(ctx, &c, dsn, keyring, log, agiLog, c.migrate, nil, nil)
}

// parseSettings parses args into f, which holds c's settings, checks c and
// returns its loggers. needDB is false for dev, which can start a database.
func parseSettings(f *cmdFlags, args []string, c *serveConfig, needDB bool) (log, agiLog *slog.Logger, err error) {
	if _, err := f.parse(args, 0, 0); err != nil {
		return nil, nil, err
	}
	if err := c.check(needDB); err != nil {
		return nil, nil, err
	}
	log, agiLog = c.loggers(f.e.stderr)
	return log, agiLog, nil
}

// serveStore serves the database at dsn until ctx ends. It applies pending
// migrations when migrate is set (and otherwise refuses a schema behind the
// binary), runs seed when not nil, binds the listeners, calls listening when
// not nil, and serves.
func serveStore(ctx context.Context, c *serveConfig, dsn string, keyring *ivr.Keyring, log, agiLog *slog.Logger,
	migrate bool, seed func(context.Context, *store.DB) error, listening func(*server)) error {
	if err := checkFileLimit(c, dsn); err != nil {
		return err
	}
	// The whole pool is opened before the first call: a caller never waits
	// for PostgreSQL to start a backend, after a start or in a burst.
	st, err := store.OpenWith(ctx, dsn, store.Options{FullPool: true})
	if err != nil {
		return err
	}
	defer st.Close()
	srv, err := newServer(c, st, keyring, log, agiLog)
	if err != nil {
		return err
	}
	defer srv.schema.Close()
	defer srv.caches.close()
	if err := srv.schema.prepare(ctx, migrate, log); err != nil {
		return err
	}
	if seed != nil {
		if err := seed(ctx, st); err != nil {
			return err
		}
	}
	// The partitions of this month and the next are there before the first
	// call; a failure is logged and retried every hour (see partitioner).
	srv.parts.check(ctx)
	if err := srv.listen(); err != nil {
		return err
	}
	if listening != nil {
		listening(srv)
	}
	return srv.run(ctx)
}

// server is a running ivr: the FastAGI server with the call flows, the HTTP
// listener, and how they stop. serve and dev both run one.
type server struct {
	cfg    *serveConfig
	log    *slog.Logger
	agi    *agi.Server
	http   *http.Server
	health *health
	schema *schema
	caches caches
	app    *ivr.App
	sweep  sweeper
	rollUp roller
	parts  partitioner

	agiLn, httpLn net.Listener
}

// newServer builds the server over st and starts its caches, which the
// server's owner closes (before st). It does not touch the network otherwise
// yet.
func newServer(c *serveConfig, st *store.DB, keyring *ivr.Keyring, log, agiLog *slog.Logger) (*server, error) {
	reg, m := newRegistry(st)
	p := metrics.TimePorts(st, m)
	svc := ivr.Services{
		Callers: p, Journal: p, PINs: p, Messages: p,
		Catalog: metrics.TimeCatalog(st, m),
		Keyring: keyring,
		Logger:  log,
	}
	var cs caches
	if c.lookupCache > 0 {
		cs.callers = store.NewCallerCache(st, store.CallerCacheOptions{Size: c.lookupCache, Logger: log})
		registerCallerCache(reg, cs.callers)
		svc.Lookup = metrics.TimeLookup(cs.callers, m)
	}
	if c.catalogCache {
		cs.catalog = store.NewCatalogCache(st, store.CatalogCacheOptions{Logger: log})
		registerCatalogCache(reg, cs.catalog)
		svc.Catalog = metrics.TimeCatalog(cs.catalog, m)
	}
	app, err := ivr.New(c.ivr, svc)
	if err != nil {
		cs.close()
		return nil, fmt.Errorf("configure the call flows: %w", err)
	}
	mux := agi.NewServeMux()
	app.Register(mux)

	sch := newSchema(st)
	h := &health{ready: func(ctx context.Context) error { return ready(ctx, sch, st) }, log: log}
	srv := &server{
		cfg: c,
		log: log,
		agi: &agi.Server{
			Addr:            c.agiAddr,
			Handler:         mux,
			MaxSessions:     c.maxCalls,
			AllowedNetworks: c.allowed,
			ReplyTimeout:    c.replyTimeout,
			PromptTimeout:   c.promptTimeout,
			Logger:          agiLog,
		},
		health: h,
		schema: sch,
		caches: cs,
		app:    app,
		sweep:  sweeper{st: st, log: log, lostAfter: c.lostAfter},
		rollUp: roller{st: st, log: log, grace: c.rollUpGrace, every: c.rollUpEvery},
		parts:  partitioner{st: st, log: log},
	}
	srv.sweep.swept = registerRecovery(reg, st, app)
	metrics.Instrument(srv.agi, m)
	if c.httpOn() {
		srv.http = newHTTPServer(h.handler(reg), log)
	}
	return srv, nil
}

// caches are the server's caches kept fresh by LISTEN, each nil when turned
// off: the lookup route's callers, and the ivr route's live menus and surveys.
type caches struct {
	callers *store.CallerCache
	catalog *store.CatalogCache
}

// close stops the caches' listening connections; the store may close after.
func (c caches) close() {
	if c.callers != nil {
		c.callers.Close()
	}
	if c.catalog != nil {
		c.catalog.Close()
	}
}

// listen binds the FastAGI and HTTP addresses, so that a port in use is an
// error before anything is served, and logs where they are.
func (s *server) listen() error {
	var err error
	if s.agiLn, err = net.Listen("tcp", s.cfg.agiAddr); err != nil {
		return fmt.Errorf("listen for FastAGI: %w", err)
	}
	attrs := []any{"agi", s.agiLn.Addr().String()}
	if s.http != nil {
		if s.httpLn, err = net.Listen("tcp", s.cfg.httpAddr); err != nil {
			s.agiLn.Close()
			return fmt.Errorf("listen for HTTP: %w", err)
		}
		attrs = append(attrs, "http", s.httpLn.Addr().String())
	}
	attrs = append(attrs, "max_calls", s.cfg.maxCalls)
	s.log.Info("listening", attrs...)
	return nil
}

// run serves until ctx ends (SIGTERM or SIGINT) or a listener fails, then
// shuts down: it stops accepting, lets calls finish for the drain timeout (or
// until a second SIGTERM or SIGINT), cancels the rest (their rows are closed as a server shutdown),
// waits for the writes of ended calls still retried (see shutdown) and closes the
// HTTP listener. It returns nil after a shutdown asked for by ctx. While it
// serves, it sweeps for rows left open by an instance that died, makes the
// journal's partitions for the coming months and rolls up the complete days
// into the reports' daily summaries.
func (s *server) run(ctx context.Context) error {
	bgCtx, stopBackground := context.WithCancel(ctx)
	var background sync.WaitGroup
	background.Go(func() { s.sweep.run(bgCtx) })
	background.Go(func() { s.parts.run(bgCtx) })
	background.Go(func() { s.rollUp.run(bgCtx) })
	defer func() { stopBackground(); background.Wait() }()
	errc := make(chan error, 2)
	go func() { errc <- s.agi.Serve(s.agiLn) }()
	if s.http != nil {
		go func() { errc <- s.http.Serve(s.httpLn) }()
	}
	var failed error
	select {
	case <-ctx.Done():
	case err := <-errc:
		failed = fmt.Errorf("serve: %w", err)
	}
	s.shutdown()
	return failed
}

func (s *server) shutdown() {
	// A second SIGTERM or SIGINT during the drain cuts it short.
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(again)

	s.health.stopping.Store(true)
	s.log.Info("shutting down: no new calls; a second SIGTERM or SIGINT closes the calls in progress at once",
		"drain_timeout", s.cfg.drainTimeout)
	drain, cancel := context.WithTimeout(context.Background(), s.cfg.drainTimeout)
	go func() {
		select {
		case <-again:
			cancel()
		case <-drain.Done():
		}
	}()
	err := s.agi.Shutdown(drain)
	cancel()
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			s.log.Warn("drain timeout passed: closing the calls in progress")
		} else {
			s.log.Warn("second signal: closing the calls in progress")
		}
		s.agi.Close()
		grace, cancel := context.WithTimeout(context.Background(), closeGrace)
		if err := s.agi.Shutdown(grace); err != nil {
			s.log.Error("calls still running after close; their rows may stay open", "err", err)
		}
		cancel()
	}
	s.closeApp()
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.http.Shutdown(ctx) // only scrapes and probes: dropping one is harmless
		cancel()
	}
	s.log.Info("stopped")
}

// closeApp waits, for up to closeGrace, for the writes of ended calls that the
// database did not take at first and that are still retried; it abandons
// those left (their rows stay open until a sweep closes them as lost) and says
// so.
func (s *server) closeApp() {
	if n := s.app.PendingStats().Pending; n > 0 {
		s.log.Info("waiting for the writes of ended calls the database has not taken yet", "pending", n, "timeout", closeGrace)
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
	defer cancel()
	if n := s.app.Close(ctx); n > 0 {
		s.log.Error("abandoned the writes of ended calls; their rows stay open until a sweep closes them as lost",
			"abandoned", n, "lost_after", s.cfg.lostAfter)
	}
}

// schema is the database's schema as the server sees it: an error when it
// cannot be read at all.
type schema struct {
	*db.Schema
	err error
}

func newSchema(st *store.DB) *schema {
	sch, err := db.NewSchema(st.SQL())
	return &schema{Schema: sch, err: err}
}

// Close releases the schema's handle; the pool stays open.
func (s *schema) Close() error {
	if s.Schema == nil {
		return nil
	}
	return s.Schema.Close()
}

// prepare is db.Schema.Prepare.
func (s *schema) prepare(ctx context.Context, migrate bool, log *slog.Logger) error {
	if s.err != nil {
		return s.err
	}
	return s.Prepare(ctx, migrate, log)
}

// versions is db.Schema.Versions.
func (s *schema) versions(ctx context.Context) (current, newest int64, err error) {
	if s.err != nil {
		return 0, 0, s.err
	}
	return s.Versions(ctx)
}

// ready is the /readyz check: the database answers, its schema is exactly the
// binary's newest migration, and it takes writes.
func ready(ctx context.Context, sch *schema, st *store.DB) error {
	if err := sch.ready(ctx); err != nil {
		return err
	}
	readOnly, err := st.ReadOnly(ctx)
	switch {
	case err != nil:
		return err
	case readOnly:
		return &notReady{Reason: "the database is read-only (a standby, or default_transaction_read_only is on): calls cannot be recorded"}
	}
	return nil
}

// ready checks that the database answers and its schema is exactly the
// binary's newest migration.
func (s *schema) ready(ctx context.Context) error {
	current, newest, err := s.versions(ctx)
	switch {
	case err != nil:
		return err
	case current != newest:
		return &notReady{Reason: fmt.Sprintf("database schema is at version %d, this ivr is built for %d", current, newest)}
	}
	return nil
}
