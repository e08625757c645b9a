package store

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// commitTimeout bounds one batch on the server when the write that sends it
// has no deadline of its own.
const commitTimeout = 30 * time.Second

// batcher is the group commit of one kind of write made during calls. The
// writes of concurrent calls become one statement, so one commit, whatever
// their number: the first write to arrive while no statement of its kind is
// running sends it, with every write of the kind waiting at that moment (up
// to max), on its own goroutine; writes that arrive meanwhile wait, and when
// the statement has committed the first of them sends the next one. A call
// alone sends its own write, and every write returns once its statement has
// committed, with its own result.
//
// A statement the server refuses is sent again as one statement per write, so
// that one bad write fails alone. A statement whose connection broke is sent
// once more on another connection: every write when it cannot have committed
// (no connection could be had, or the server ended the session in place of
// its result), otherwise only the writes that resend allows, since the commit
// may have happened.
type batcher[W, R any] struct {
	pool  *pgxpool.Pool
	stats *counters
	max   int
	// run runs the statement of the writes ws on conn (when it must run
	// several, in one transaction) and returns one result per write, in order.
	run func(ctx context.Context, conn *pgxpool.Conn, ws []W) ([]R, error)
	// resend reports whether w may be sent again after a commit that may
	// have happened: it is stored once by its key, so a second attempt
	// changes nothing.
	resend func(w W) bool
	// key, when not nil, keeps two writes of one key out of one statement:
	// the later waits for the next.
	key func(w W) int64
	// pid is the server process of the connection of the last statement.
	pid *atomic.Uint32

	mu      sync.Mutex
	busy    bool // a statement is being sent, or its sender is being chosen
	waiting []*pending[W, R]
	closed  bool
	wg      sync.WaitGroup // the writes in progress, for close
}

// pending is one write waiting for its statement.
type pending[W, R any] struct {
	w    W
	r    R
	err  error
	done chan struct{} // closed when n and err are final
	lead chan struct{} // closed when this write is to send the next statement
	// deadline is when the write's ctx ends, or commitTimeout after it was
	// made when its ctx has no deadline.
	deadline time.Time
}

// do writes w and returns its result once committed. When ctx ends before
// w's statement was sent, w is not written and do returns ctx.Err(); once
// sent, it waits for the commit, which ends no later than the latest deadline
// among the writes of the statement.
func (b *batcher[W, R]) do(ctx context.Context, w W) (R, error) {
	var zero R
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	p := &pending[W, R]{w: w, done: make(chan struct{}), lead: make(chan struct{})}
	var ok bool
	if p.deadline, ok = ctx.Deadline(); !ok {
		p.deadline = time.Now().Add(commitTimeout)
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return zero, ErrClosed
	}
	b.wg.Add(1)
	defer b.wg.Done()
	b.waiting = append(b.waiting, p)
	if !b.busy {
		b.busy = true
		close(p.lead)
	}
	b.mu.Unlock()

	select {
	case <-p.done:
		return p.r, p.err
	case <-p.lead:
	case <-ctx.Done():
		if b.withdraw(p) {
			return zero, ctx.Err()
		}
		// Already taken into a statement: its result is final with the commit.
		<-p.done
		return p.r, p.err
	}
	b.mu.Lock()
	batch := b.take()
	b.mu.Unlock()
	b.commit(batch)
	b.mu.Lock()
	b.handOn()
	b.mu.Unlock()
	<-p.done
	return p.r, p.err
}

// withdraw takes p, whose caller stopped waiting, out of the writes waiting,
// and hands the sending of the next statement on when it was p's. It reports
// false when p was taken into a statement already.
func (b *batcher[W, R]) withdraw(p *pending[W, R]) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := slices.Index(b.waiting, p)
	if i < 0 {
		return false
	}
	b.waiting = slices.Delete(b.waiting, i, i+1)
	select {
	case <-p.lead:
		b.handOn()
	default:
	}
	return true
}

// take removes the writes of the next statement from the waiting ones: up to
// max, in order, no two of one key. It runs under mu.
func (b *batcher[W, R]) take() []*pending[W, R] {
	var batch, rest []*pending[W, R]
	var keys map[int64]bool
	for _, p := range b.waiting {
		if len(batch) == b.max {
			rest = append(rest, p)
			continue
		}
		if b.key != nil {
			k := b.key(p.w)
			if keys[k] {
				rest = append(rest, p)
				continue
			}
			if keys == nil {
				keys = make(map[int64]bool)
			}
			keys[k] = true
		}
		batch = append(batch, p)
	}
	b.waiting = rest
	return batch
}

// handOn makes the first waiting write the sender of the next statement, or
// marks the batcher idle. It runs under mu.
func (b *batcher[W, R]) handOn() {
	if len(b.waiting) == 0 {
		b.busy = false
		return
	}
	close(b.waiting[0].lead)
}

// close stops taking writes and waits for those in progress.
func (b *batcher[W, R]) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.wg.Wait()
}

// commit sends the statement of batch, and again as described on batcher,
// and finishes every write of it. It gives up at the latest deadline among
// the writes: no write fails for the deadline of another.
func (b *batcher[W, R]) commit(batch []*pending[W, R]) {
	var deadline time.Time
	for _, p := range batch {
		if p.deadline.After(deadline) {
			deadline = p.deadline
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	err := b.send(ctx, batch)
	var lost *connLostError
	if errors.As(err, &lost) {
		b.stats.resends.Add(1)
		if lost.mayHaveCommitted {
			batch = slices.DeleteFunc(batch, func(p *pending[W, R]) bool {
				if b.resend(p.w) {
					return false
				}
				p.finish(err)
				return true
			})
		}
		err = b.send(ctx, batch)
	}
	if err == nil {
		return // send finished every write
	}
	var pgErr *pgconn.PgError
	if len(batch) > 1 && errors.As(err, &pgErr) {
		b.stats.retries.Add(1)
		for _, p := range batch {
			if err := b.send(ctx, []*pending[W, R]{p}); err != nil {
				p.finish(err)
			}
		}
		return
	}
	for _, p := range batch {
		p.finish(err)
	}
}

// send runs the statement of batch on a connection of its own and, when it
// commits, finishes each write with its result. It returns nil when the
// statement committed, a *connLostError when the connection broke, and
// otherwise the statement's error.
func (b *batcher[W, R]) send(ctx context.Context, batch []*pending[W, R]) error {
	if len(batch) == 0 {
		return nil
	}
	conn, err := b.pool.Acquire(ctx)
	if err != nil {
		return &connLostError{err: err}
	}
	defer conn.Release() // a broken connection is destroyed, not pooled
	b.pid.Store(conn.Conn().PgConn().PID())
	ws := make([]W, len(batch))
	for i, p := range batch {
		ws[i] = p.w
	}
	rs, err := b.run(ctx, conn, ws)
	switch {
	case sessionEnded(err) || (err != nil && pgconn.SafeToRetry(err)):
		return &connLostError{err: err}
	case err != nil && conn.Conn().IsClosed():
		return &connLostError{err: err, mayHaveCommitted: true}
	case err != nil:
		return err
	}
	b.stats.commits.Add(1)
	b.stats.batches.Add(1)
	b.stats.writes.Add(int64(len(batch)))
	for i, p := range batch {
		p.r = rs[i]
		p.finish(nil)
	}
	return nil
}

// finish makes err, or the result already set when err is nil, final for p.
func (p *pending[W, R]) finish(err error) {
	p.err = err
	close(p.done)
}

// connLostError is the error of a statement whose connection broke.
type connLostError struct {
	err error
	// mayHaveCommitted is false when the statement cannot have committed: no
	// connection, nothing sent, or the server ended the session in place of
	// its result.
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
