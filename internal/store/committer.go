package store

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ivrhq/ivr/internal/store/internal/sqlcdb"
)

// commitTimeout bounds one group commit on the server.
const commitTimeout = 30 * time.Second

// committer is the group commit of the writes made during calls. Callers queue
// writes (one SQL statement each); a committer goroutine takes every write
// waiting, up to MaxBatch, sends them as one pgx.Batch (a pipeline ending in a
// single Sync, which PostgreSQL runs as one implicit transaction) and hands each
// write its own result once the transaction has committed. While one batch
// commits, the next fills up, so the number of commits grows with the
// commit latency, not with the number of calls.
//
// Writes of the same kind in one batch (journal steps, responses, PIN audits,
// call rows opened, closed or recorded whole) are coalesced into one multi-row
// statement over arrays, so a batch costs the server a few statements whatever
// the number of calls sharing it; each write still gets its own result.
//
// A write that fails aborts its batch. When the failing statement is a
// coalesced one, the committer sends the batch again with that kind's writes
// as statements of their own; a failing write of its own gets its error and
// the others are sent again without it, so one bad write does not lose the
// rest.
//
// A batch whose connection breaks (the server terminated the session or
// stopped, the network failed) is sent once more, on another connection. When
// the break came before the commit could have happened (no connection could
// be had, nothing was sent, or the server ended the session in place of a
// statement's result) every write goes again. Otherwise the commit may have
// happened and the client cannot tell: only the writes of a kind that is safe
// to repeat go again (resend), and the others get the error.
type committer struct {
	pool     *pgxpool.Pool
	stats    *counters
	maxBatch int
	queue    chan *op

	mu     sync.RWMutex // held for reading while queueing; Close takes it to set closed
	closed bool
	quit   chan struct{} // closed by close: the goroutines drain the queue and end
	wg     sync.WaitGroup

	pid atomic.Uint32 // server process of the connection of the last batch sent
}

func newCommitter(pool *pgxpool.Pool, stats *counters, opts Options) *committer {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.Committers <= 0 {
		opts.Committers = 1
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 4096
	}
	c := &committer{
		pool:     pool,
		stats:    stats,
		maxBatch: opts.MaxBatch,
		queue:    make(chan *op, opts.QueueSize),
		quit:     make(chan struct{}),
	}
	c.wg.Add(opts.Committers)
	for range opts.Committers {
		go c.loop()
	}
	return c
}

// op is one queued write: a statement, and where its result goes.
type op struct {
	sql  string
	args []any
	exec bool  // true: Exec, false: QueryRow scanned into dest
	dest []any // QueryRow destinations, written only under mu while not abandoned

	// kind, when not nil, lets the write be coalesced with the writes of the
	// same kind in its batch; params are its arguments for kind.coalesce and
	// key, with kind.distinct, keeps two writes of one key out of one statement.
	kind   *opKind
	params any
	key    int64
	// single runs the own statement of an op of a kind through its sqlc
	// method; own captures it into sql, args and exec the first time the op
	// must run on its own (its kind split after a failure). An op with no
	// single runs on its own as its kind's coalesced statement of one op.
	single func(q *sqlcdb.Queries) error
	// n and v are the result of an op of a kind: the value its statement
	// returns (v for a row), set before done is closed. The caller reads them
	// only when do returned nil.
	n int64
	v any

	mu        sync.Mutex
	abandoned bool // the caller stopped waiting: leave dest alone
	tag       pgconn.CommandTag
	err       error
	done      chan struct{} // closed when err (and tag or dest) are final
}

func newOp(sql string, args []any, exec bool, dest []any) *op {
	return &op{sql: sql, args: args, exec: exec, dest: dest, done: make(chan struct{})}
}

// do queues o and waits for its commit. When ctx ends first, do returns
// ctx.Err() at once, also while o's statement is running on the server; the
// write may then still be committed (or not), and the caller cannot tell.
func (c *committer) do(ctx context.Context, o *op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return ErrClosed
	}
	select {
	case c.queue <- o:
		c.mu.RUnlock()
	case <-ctx.Done():
		c.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case <-o.done:
		return o.err
	case <-ctx.Done():
		o.mu.Lock()
		defer o.mu.Unlock()
		select {
		case <-o.done:
			return o.err
		default:
			o.abandoned = true
			return ctx.Err()
		}
	}
}

// close stops taking writes, lets the goroutines commit what is queued and
// waits for them to end.
func (c *committer) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.mu.Unlock()
	close(c.quit)
	c.wg.Wait()
}

func (c *committer) loop() {
	defer c.wg.Done()
	for {
		var batch []*op
		select {
		case o := <-c.queue:
			batch = append(batch, o)
		case <-c.quit:
			// Nothing is queued after quit (close holds mu until every
			// sender is done), so draining empties the queue for good.
			for {
				batch = c.fill(batch[:0])
				if len(batch) == 0 {
					return
				}
				c.commit(batch)
			}
		}
		c.commit(c.fill(batch))
	}
}

// fill adds the writes waiting in the queue to batch, up to maxBatch.
func (c *committer) fill(batch []*op) []*op {
	for len(batch) < c.maxBatch {
		select {
		case o := <-c.queue:
			batch = append(batch, o)
		default:
			return batch
		}
	}
	return batch
}

// commit sends the writes of batch in one transaction, again without the
// failing write until none fails, and finishes every write.
func (c *committer) commit(batch []*op) {
	ops := make([]*op, 0, len(batch))
	for _, o := range batch {
		if !o.isAbandoned() {
			ops = append(ops, o)
		}
	}
	var (
		split  map[*opKind]bool // kinds sent one statement per write, made on the first failure
		resent bool             // the batch was sent again after its connection broke
		lost   *connLostError
	)
	for len(ops) > 0 {
		stmts := plan(ops, split)
		failed, err := c.send(stmts)
		switch {
		case errors.As(err, &lost) && !resent:
			resent = true
			c.stats.resends.Add(1)
			if lost.mayHaveCommitted {
				ops = slices.DeleteFunc(ops, func(o *op) bool {
					if o.kind != nil && o.kind.resend {
						return false
					}
					o.finish(err)
					return true
				})
			}
		case err == nil:
			c.stats.commits.Add(1)
			c.stats.batches.Add(1)
			c.stats.writes.Add(int64(len(ops)))
			c.stats.statements.Add(int64(len(stmts)))
			for _, o := range ops {
				o.finish(nil)
			}
			return
		case failed >= 0 && stmts[failed].coalesced() && !split[stmts[failed].ops[0].kind]:
			if split == nil {
				split = make(map[*opKind]bool)
			}
			split[stmts[failed].ops[0].kind] = true
			c.stats.retries.Add(1)
		case failed >= 0:
			bad := stmts[failed].ops
			for _, o := range bad {
				o.finish(err)
			}
			ops = slices.DeleteFunc(ops, func(x *op) bool { return slices.Contains(bad, x) })
			if len(ops) > 0 {
				c.stats.retries.Add(1)
			}
		default:
			for _, o := range ops {
				o.finish(err)
			}
			return
		}
	}
}

// stmt is one statement of a batch: the statement of one write, or the
// coalesced statement of several writes of one kind.
type stmt struct {
	ops []*op
	run func(q *sqlcdb.Queries) error // coalesced: runs the statement and hands out the results
}

func (s stmt) coalesced() bool { return s.run != nil }

// plan orders the writes of a batch into statements: the writes of a kind that
// is not split become one coalesced statement (also a single one), where the
// first of them was; every other write is a statement of its own (for a kind
// with no single, its coalesced statement of one). Two writes
// of a distinct kind with the same key never share a statement.
func plan(ops []*op, split map[*opKind]bool) []stmt {
	// A batch has writes of a few kinds, so its groups are found by a scan.
	type group struct {
		kind *opKind
		at   int // index of the group's statement
		ops  []*op
		keys map[int64]bool // of a distinct kind
	}
	var (
		stmts  []stmt
		groups []*group
	)
	for _, o := range ops {
		k := o.kind
		if k != nil && split[k] && o.single == nil {
			stmts = append(stmts, stmt{ops: []*op{o}, run: k.coalesce([]*op{o})})
			continue
		}
		if k == nil || split[k] {
			o.own()
			stmts = append(stmts, stmt{ops: []*op{o}})
			continue
		}
		var g *group
		for _, x := range groups {
			if x.kind == k {
				g = x
				break
			}
		}
		if g == nil {
			g = &group{kind: k, at: len(stmts)}
			if k.distinct {
				g.keys = make(map[int64]bool)
			}
			groups = append(groups, g)
			stmts = append(stmts, stmt{})
		}
		if k.distinct {
			if g.keys[o.key] {
				stmts = append(stmts, stmt{ops: []*op{o}, run: k.coalesce([]*op{o})})
				continue
			}
			g.keys[o.key] = true
		}
		g.ops = append(g.ops, o)
	}
	for _, g := range groups {
		stmts[g.at] = stmt{ops: g.ops, run: g.kind.coalesce(g.ops)}
	}
	return stmts
}

// connLostError is the error of a batch whose connection broke.
type connLostError struct {
	err error
	// mayHaveCommitted is false when the batch cannot have committed: no
	// connection, nothing sent, or the server ended the session in place of
	// a statement's result.
	mayHaveCommitted bool
}

func (e *connLostError) Error() string { return "connection lost: " + e.err.Error() }
func (e *connLostError) Unwrap() error { return e.err }

// sessionEnded reports whether err is the server ending the session (it is
// stopping, or the session was terminated): a FATAL or PANIC error.
func sessionEnded(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Severity == "FATAL" || pgErr.Severity == "PANIC")
}

// send runs stmts as one batch, on a connection of its own. It returns (-1,
// nil) when the batch committed, (i, err) when statement i failed on the
// server (the whole batch is rolled back), (-1, *connLostError) when the
// connection broke, and (-1, err) when the batch failed as a whole otherwise.
func (c *committer) send(stmts []stmt) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	conn, err := c.pool.Acquire(ctx)
	if err != nil {
		return -1, &connLostError{err: err}
	}
	defer conn.Release() // a broken connection is destroyed, not pooled
	c.pid.Store(conn.Conn().PgConn().PID())
	b := &pgx.Batch{}
	for _, s := range stmts {
		if !s.coalesced() {
			b.Queue(s.ops[0].sql, s.ops[0].args...)
			continue
		}
		_ = s.run(sqlcdb.New(&captureDBTX{b: b}))
	}
	br := conn.SendBatch(ctx, b)
	for i, s := range stmts {
		var err error
		if s.coalesced() {
			err = s.run(sqlcdb.New(resultsDBTX{br}))
		} else {
			err = s.ops[0].read(br)
		}
		var pgErr *pgconn.PgError
		switch {
		case sessionEnded(err) || (err != nil && pgconn.SafeToRetry(err)):
			_ = br.Close()
			return -1, &connLostError{err: err}
		case errors.As(err, &pgErr):
			_ = br.Close()
			return i, err
		case err != nil && conn.Conn().IsClosed():
			_ = br.Close()
			return -1, &connLostError{err: err, mayHaveCommitted: true}
		}
	}
	if err := br.Close(); err != nil {
		if conn.Conn().IsClosed() {
			return -1, &connLostError{err: err, mayHaveCommitted: true}
		}
		return -1, err
	}
	return -1, nil
}

// read takes the result of o from br, keeping it unless the caller stopped
// waiting, and returns the error of the statement. It holds o.mu only to hand
// the result over, never while the statement runs, so a caller whose ctx ends
// stops waiting at once.
func (o *op) read(br pgx.BatchResults) error {
	if o.exec {
		tag, err := br.Exec()
		o.mu.Lock()
		o.tag, o.err = tag, err
		o.mu.Unlock()
		return err
	}
	rows, _ := br.Query() // its error is rows.Err()
	got := rows.Next()
	var err error
	o.mu.Lock()
	if got && !o.abandoned {
		err = rows.Scan(o.dest...)
	}
	o.mu.Unlock()
	rows.Close()
	switch rerr := rows.Err(); {
	case rerr != nil:
		err = rerr
	case !got:
		err = pgx.ErrNoRows
	}
	o.mu.Lock()
	if !o.abandoned {
		o.err = err
	}
	o.mu.Unlock()
	return err
}

// finish makes err final for o: an error of the batch replaces the result of
// the statement, and nil keeps it (it may be pgx.ErrNoRows).
func (o *op) finish(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil {
		o.err = err
	}
	close(o.done)
}

// set hands the result of a coalesced statement to o: its value n, or err
// (pgx.ErrNoRows when the statement returned nothing for o).
func (o *op) set(n int64, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.n, o.err = n, err
}

// setRow hands a row returned by a coalesced statement to o.
func (o *op) setRow(v any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.v, o.err = v, nil
}

func (o *op) isAbandoned() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.abandoned
}

// groupDBTX is the sqlcdb.DBTX of the group committer: each Exec, and each
// QueryRow when its row is scanned, is one queued write.
type groupDBTX struct{ c *committer }

func (g groupDBTX) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	o := newOp(sql, args, true, nil)
	if err := g.c.do(ctx, o); err != nil {
		return pgconn.CommandTag{}, err
	}
	return o.tag, nil
}

func (g groupDBTX) Query(context.Context, string, ...any) (pgx.Rows, error) {
	return nil, errors.New("store: queries of many rows do not go through the group committer")
}

func (g groupDBTX) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return &groupRow{c: g.c, ctx: ctx, sql: sql, args: args}
}

// groupRow queues its statement when it is scanned. Like pgx's rows it keeps
// the ctx of the call that made it, for the Scan that follows.
type groupRow struct {
	c    *committer
	ctx  context.Context
	sql  string
	args []any
}

func (r *groupRow) Scan(dest ...any) error {
	return r.c.do(r.ctx, newOp(r.sql, r.args, false, dest))
}

// opKind is a kind of write the committer may coalesce: coalesce returns the
// function that runs one statement for all of ops (through the sqlc method on
// the q it is given; it may run a few, in an order that does not depend on
// their results) and, when it succeeds, sets each op's n, or its err to
// pgx.ErrNoRows when the statement returned nothing for it. With distinct, two
// writes of the same key are never coalesced.
//
// resend says that a write of the kind may be sent again after a commit that
// may have happened: it is a read, or stored once by its key (a second
// attempt changes nothing, or is refused as a conflict).
type opKind struct {
	name     string
	distinct bool
	resend   bool
	coalesce func(ops []*op) func(q *sqlcdb.Queries) error
}

// kindOp returns a write of kind k with params p, whose own statement is the
// one the sqlc method in single runs; its result is scanned into o.n.
func kindOp(k *opKind, p any, key int64, single func(q *sqlcdb.Queries) error) *op {
	return &op{kind: k, params: p, key: key, single: single, done: make(chan struct{})}
}

// own makes the own statement of an op of a kind ready to run, once.
func (o *op) own() {
	if o.single == nil || o.sql != "" {
		return
	}
	var cap captureDBTX
	_ = o.single(sqlcdb.New(&cap))
	o.sql, o.args, o.exec = cap.sql, cap.args, cap.exec
	if !o.exec {
		o.dest = []any{&o.n}
	}
}

// errCaptured is what captureDBTX answers every statement with.
var errCaptured = errors.New("store: statement captured, not run")

// captureDBTX records the statements sqlc methods would run, without running
// them: it keeps the last one, and queues each in b when b is not nil.
type captureDBTX struct {
	b    *pgx.Batch
	sql  string
	args []any
	exec bool
}

func (c *captureDBTX) record(sql string, args []any, exec bool) {
	c.sql, c.args, c.exec = sql, args, exec
	if c.b != nil {
		c.b.Queue(sql, args...)
	}
}

func (c *captureDBTX) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	c.record(sql, args, true)
	return pgconn.CommandTag{}, errCaptured
}

func (c *captureDBTX) Query(_ context.Context, sql string, args ...any) (pgx.Rows, error) {
	c.record(sql, args, false)
	return nil, errCaptured
}

func (c *captureDBTX) QueryRow(_ context.Context, sql string, args ...any) pgx.Row {
	c.record(sql, args, false)
	return errRow{errCaptured}
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// resultsDBTX answers the statements of a sqlc method, in the order they were
// captured, with the results of a batch.
type resultsDBTX struct{ br pgx.BatchResults }

func (r resultsDBTX) Exec(context.Context, string, ...any) (pgconn.CommandTag, error) {
	return r.br.Exec()
}

func (r resultsDBTX) Query(context.Context, string, ...any) (pgx.Rows, error) { return r.br.Query() }

func (r resultsDBTX) QueryRow(context.Context, string, ...any) pgx.Row { return r.br.QueryRow() }
