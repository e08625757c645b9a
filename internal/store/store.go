package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/store/internal/sqlcdb"
)

// ErrClosed is returned by the writes of a DB after Close.
var ErrClosed = errors.New("store: closed")

// sqlstatePublished is the SQLSTATE the schema's triggers raise when a change
// would alter a published menu or survey version (see 00002_catalog.sql).
const sqlstatePublished = "IV001"

// defaultMaxConns is the pool size when the URL sets no pool_max_conns: reads
// of many concurrent calls share it with the group commits.
const defaultMaxConns = 16

// DefaultConnectTimeout bounds how long opening a connection may take when the
// URL sets no connect_timeout: a server that accepts the TCP connection but
// never answers fails after this long instead of hanging.
const DefaultConnectTimeout = 5 * time.Second

// DB is the PostgreSQL store of the IVR. It implements the ports of package
// ivr (CallerDirectory, Journal, PINLedger, Catalog, MessageBox) and the
// administrative methods behind them. It is safe for concurrent use. The
// writes calls make most (StartCall, Write, RecordCall, DecidePIN) are group
// committed: the writes of one kind that concurrent calls make at the same
// time share one statement and one commit (see batcher), and each method
// returns once its own write is committed. Everything else runs its own
// statement on the pool.
type DB struct {
	pool  *pgxpool.Pool
	q     *sqlcdb.Queries
	stats *counters
	pid   atomic.Uint32 // server process of the last group commit's connection
	// liveReports makes the reports read every day from the views, never
	// from the daily summaries (for the tests that compare the two).
	liveReports bool

	starts  *batcher[ivr.Call, int64]
	journal *batcher[ivr.Entry, bool]
	records *batcher[wholeCall, int64]
	pins    *batcher[pinDecision, ivr.PINVerdict]
}

// Options tune a DB. The zero value of each field means its default.
type Options struct {
	// MaxBatch is the most writes one group commit carries. Default 256; 1
	// commits every write on its own.
	MaxBatch int
	// StatementTimeout, when positive, makes the server cancel any statement
	// that runs longer (PostgreSQL's statement_timeout), unless the URL sets
	// statement_timeout itself. Zero means no limit: the call path must not
	// have one, operator commands should.
	StatementTimeout time.Duration
	// FullPool makes Open open every connection of the pool before it
	// returns, and the pool keep them open (reopening in the background any
	// that break), unless the URL sets pool_min_conns. A server answering
	// calls sets it, so that the first calls after a start, or a burst, never
	// wait for PostgreSQL to start a backend. Otherwise Open opens one
	// connection, to check that the server answers, and the pool grows with
	// the load.
	FullPool bool
}

// Stats are counters since Open. RoundTrips counts the statements and batches
// sent to the server, Commits the transactions the store committed (each group
// commit and each administrative transaction), Batches the group commits
// among Commits, Writes the group-committed writes they carried, Retries the
// group commits the server refused that were sent again one write at a time,
// and Resends the group commits sent again on another connection after theirs
// broke. The
// Pool fields are the connection pool's: its size, the connections in use and
// idle now, and the acquisitions so far, the time they waited, and how many
// of them found no idle connection.
type Stats struct {
	RoundTrips int64
	Commits    int64
	Writes     int64
	Batches    int64
	Retries    int64
	Resends    int64

	PoolMaxConns, PoolAcquiredConns, PoolIdleConns int32
	PoolAcquires, PoolEmptyAcquires                int64
	PoolAcquireWait                                time.Duration
}

// counters are the live Stats.
type counters struct {
	roundTrips, commits, writes, batches, retries, resends atomic.Int64
}

// Open connects to the database at url (a PostgreSQL URL or key=value string)
// and checks that it answers. The caller must Close the DB.
func Open(ctx context.Context, url string) (*DB, error) {
	return OpenWith(ctx, url, Options{})
}

// OpenWith is Open with tuning options.
func OpenWith(ctx context.Context, url string, opts Options) (*DB, error) {
	stats := new(counters)
	pool, err := connect(ctx, url, opts, roundTripTracer{stats})
	if err != nil {
		return nil, err
	}
	db := &DB{pool: pool, q: sqlcdb.New(pool), stats: stats}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	always := func(ivr.Call) bool { return true }
	db.starts = newBatcher(db, opts, startCalls, always)
	db.journal = newBatcher(db, opts, writeJournal, func(e ivr.Entry) bool { return e.Response == nil })
	db.records = newBatcher(db, opts, recordCalls, func(wholeCall) bool { return true })
	db.pins = newBatcher(db, opts, decidePINs, func(pinDecision) bool { return false })
	db.pins.key = func(d pinDecision) int64 {
		if d.callerID == 0 {
			return -d.callID // attempts on unknown accounts share a statement like distinct callers
		}
		return d.callerID
	}
	return db, nil
}

// newBatcher makes the batcher of one kind of write of db (see batcher).
func newBatcher[W, R any](db *DB, opts Options, run func(context.Context, *pgxpool.Conn, []W) ([]R, error), resend func(W) bool) *batcher[W, R] {
	return &batcher[W, R]{pool: db.pool, stats: db.stats, max: opts.MaxBatch, run: run, resend: resend, pid: &db.pid}
}

// Connect opens a bare connection pool on url, with Open's connect timeout and
// opts.StatementTimeout, and checks that the server answers. It is for code
// that needs no DB, such as migrations through stdlib.OpenDBFromPool. The
// caller closes the pool. Errors name the host and what failed, never the
// password.
func Connect(ctx context.Context, url string, opts Options) (*pgxpool.Pool, error) {
	return connect(ctx, url, opts, nil)
}

// connect is Connect with a query tracer (nil for none).
func connect(ctx context.Context, url string, opts Options, tracer pgx.QueryTracer) (*pgxpool.Pool, error) {
	cfg, err := poolConfig(url, opts.FullPool)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if opts.StatementTimeout > 0 {
		if _, set := cfg.ConnConfig.RuntimeParams["statement_timeout"]; !set {
			cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
		}
	}
	if tracer != nil {
		cfg.ConnConfig.Tracer = tracer
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	n := 1
	if opts.FullPool && cfg.MinConns == cfg.MaxConns {
		n = int(cfg.MaxConns)
	}
	if err := warm(ctx, pool, n); err != nil {
		pool.Close()
		return nil, connectError(cfg, err)
	}
	return pool, nil
}

// warm holds n connections of pool at once and checks that each answers, so
// that n are open when it returns. The pool opens its MinConns in the
// background as well; n is either 1 or the whole pool, so the two never open
// more than the pool holds.
func warm(ctx context.Context, pool *pgxpool.Pool, n int) error {
	errs := make(chan error, n)
	conns := make(chan *pgxpool.Conn, n)
	for range n {
		go func() {
			c, err := pool.Acquire(ctx)
			if err == nil {
				err = c.Ping(ctx)
				conns <- c
			}
			errs <- err
		}()
	}
	var first error
	for range n {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	close(conns)
	for c := range conns {
		c.Release()
	}
	return first
}

// connectError words a failed first connection: which server, and whether it
// timed out, refused or was stopped. pgx's own message, kept at the end,
// names the user and database but never the password.
func connectError(cfg *pgxpool.Config, err error) error {
	where := cfg.ConnConfig.Host
	if !strings.HasPrefix(where, "/") {
		where = net.JoinHostPort(where, strconv.Itoa(int(cfg.ConnConfig.Port)))
	}
	switch {
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("open database: connecting to %s was interrupted: %w", where, err)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Errorf("open database: %s did not answer within %s (connect_timeout in the URL changes this): %w",
			where, cfg.ConnConfig.ConnectTimeout, err)
	}
	return fmt.Errorf("open database: connect to %s: %w", where, err)
}

// isTimeout reports whether err is a network timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// poolConfig parses url into the pool configuration Open uses: the pool size
// is pool_max_conns when url sets it, else defaultMaxConns; the connections
// kept open are pool_min_conns when url sets it, else the whole pool when
// full is set; the connect
// timeout is connect_timeout (or PGCONNECT_TIMEOUT) when set and not zero,
// else DefaultConnectTimeout, so that opening never waits forever.
func poolConfig(url string, full bool) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	// pgxpool.ParseConfig consumes pool_max_conns and fills MaxConns with its
	// own default when absent; the connection settings before it still hold
	// the key when url sets it.
	conn, err := pgconn.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	if _, set := conn.RuntimeParams["pool_max_conns"]; !set {
		cfg.MaxConns = defaultMaxConns
	}
	if _, set := conn.RuntimeParams["pool_min_conns"]; !set && full {
		cfg.MinConns = cfg.MaxConns
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	return cfg, nil
}

// PoolSize returns the most connections Open(url) keeps open, without
// connecting: pool_max_conns from url, or 16.
func PoolSize(url string) (int, error) {
	cfg, err := poolConfig(url, false)
	if err != nil {
		return 0, fmt.Errorf("database URL: %w", err)
	}
	return int(cfg.MaxConns), nil
}

// Close waits for the writes in progress to be committed and closes the
// connections. Writes after Close return ErrClosed.
func (db *DB) Close() {
	db.starts.close()
	db.journal.close()
	db.records.close()
	db.pins.close()
	db.pool.Close()
}

// Pool returns the connection pool, for code that runs its own SQL (reports,
// migrations through stdlib.OpenDBFromPool). The DB keeps ownership of it.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// SQL returns a database/sql handle over the pool, for goose's migrations.
// Closing it leaves the pool open; the DB keeps ownership of the pool.
func (db *DB) SQL() *sql.DB { return stdlib.OpenDBFromPool(db.pool) }

// Stats returns the counters since Open.
func (db *DB) Stats() Stats {
	p := db.pool.Stat()
	return Stats{
		RoundTrips: db.stats.roundTrips.Load(),
		Commits:    db.stats.commits.Load(),
		Writes:     db.stats.writes.Load(),
		Batches:    db.stats.batches.Load(),
		Retries:    db.stats.retries.Load(),
		Resends:    db.stats.resends.Load(),

		PoolMaxConns:      p.MaxConns(),
		PoolAcquiredConns: p.AcquiredConns(),
		PoolIdleConns:     p.IdleConns(),
		PoolAcquires:      p.AcquireCount(),
		PoolEmptyAcquires: p.EmptyAcquireCount(),
		PoolAcquireWait:   p.AcquireDuration(),
	}
}

// tx runs fn in one transaction: committed when fn returns nil, rolled back
// otherwise.
func (db *DB) tx(ctx context.Context, fn func(q *sqlcdb.Queries) error) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		return fn(db.q.WithTx(tx))
	})
	if err == nil {
		db.stats.commits.Add(1)
	}
	return err
}

// mapErr translates a database error into the errors of package ivr: no rows
// is ivr.ErrNotFound, a unique or exclusion violation an *ivr.ConflictError
// naming the constraint, a foreign key violation ivr.ErrNotFound naming the
// constraint (a reference to a missing row: the store never deletes a row
// that a foreign key without ON DELETE guards, such as a menu version calls
// and responses point to, so no violation comes from a delete), a change to a
// published version ivr.ErrPublished, and a value the database refuses (a check or
// not-null violation, or any data exception of SQLSTATE class 22: invalid
// UTF-8, a malformed UUID, a number out of range) an *ivr.InvalidValueError.
// A row for a month of the journal without a partition is ErrNoPartition,
// which a later attempt can get past. Other errors (the database unreachable, timed out or failing) pass
// unchanged.
func mapErr(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ivr.ErrNotFound
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	if noPartition(err) {
		return fmt.Errorf("%w: %s", ErrNoPartition, pgErr.Message)
	}
	switch pgErr.Code {
	case pgerrcode.UniqueViolation, pgerrcode.ExclusionViolation:
		return &ivr.ConflictError{Constraint: pgErr.ConstraintName}
	case pgerrcode.ForeignKeyViolation:
		return fmt.Errorf("%w: %s", ivr.ErrNotFound, pgErr.ConstraintName)
	case sqlstatePublished:
		return ivr.ErrPublished
	case pgerrcode.CheckViolation, pgerrcode.NotNullViolation:
		return &ivr.InvalidValueError{Constraint: pgErr.ConstraintName, Code: pgErr.Code}
	}
	if pgerrcode.IsDataException(pgErr.Code) {
		return &ivr.InvalidValueError{Constraint: pgErr.ConstraintName, Code: pgErr.Code}
	}
	return err
}

// roundTripTracer counts the statements and batches sent to the server.
type roundTripTracer struct{ c *counters }

func (t roundTripTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	t.c.roundTrips.Add(1)
	return ctx
}

func (roundTripTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (t roundTripTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	t.c.roundTrips.Add(1)
	return ctx
}

func (roundTripTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (roundTripTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// DB implements every port of package ivr.
var (
	_ ivr.CallerDirectory = (*DB)(nil)
	_ ivr.Journal         = (*DB)(nil)
	_ ivr.PINLedger       = (*DB)(nil)
	_ ivr.Catalog         = (*DB)(nil)
	_ ivr.MessageBox      = (*DB)(nil)
)

// ReadOnly reports whether the database refuses writes on a connection of the
// pool: it is a standby in recovery (after a failover, the old primary that
// came back as one), or its transactions are read-only by default
// (default_transaction_read_only). Calls answered from it cannot be recorded.
func (db *DB) ReadOnly(ctx context.Context) (bool, error) { return db.q.ReadOnly(ctx) }
