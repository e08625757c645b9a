package store

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
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
// A write that fails aborts its batch. The committer then gives that write its
// error and sends the others again without it, so one bad write does not lose
// the rest.
type committer struct {
	pool     *pgxpool.Pool
	stats    *counters
	maxBatch int
	queue    chan *op

	mu     sync.RWMutex // held for reading while queueing; Close takes it to set closed
	closed bool
	quit   chan struct{} // closed by close: the goroutines drain the queue and end
	wg     sync.WaitGroup
}

func newCommitter(pool *pgxpool.Pool, stats *counters, opts Options) *committer {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.Committers <= 0 {
		opts.Committers = 2
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
	for len(ops) > 0 {
		failed, err := c.send(ops)
		switch {
		case err == nil:
			c.stats.commits.Add(1)
			c.stats.batches.Add(1)
			c.stats.writes.Add(int64(len(ops)))
			for _, o := range ops {
				o.finish(nil)
			}
			return
		case failed >= 0:
			ops[failed].finish(err)
			ops = append(ops[:failed], ops[failed+1:]...)
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

// send runs ops as one batch. It returns (-1, nil) when the batch committed,
// (i, err) when write i failed on the server (the whole batch is rolled back),
// and (-1, err) when the batch failed as a whole.
func (c *committer) send(ops []*op) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	b := &pgx.Batch{}
	for _, o := range ops {
		b.Queue(o.sql, o.args...)
	}
	br := c.pool.SendBatch(ctx, b)
	for i, o := range ops {
		var pgErr *pgconn.PgError
		if err := o.read(br); errors.As(err, &pgErr) {
			_ = br.Close()
			return i, err
		}
	}
	if err := br.Close(); err != nil {
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
