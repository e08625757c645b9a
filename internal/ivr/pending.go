package ivr

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Backoff of the writes kept for retry: the first retry after retryFirst,
// each further one twice as late, up to retryMax, all with some jitter so the
// calls of one outage do not come back in step.
const (
	retryFirst = 200 * time.Millisecond
	retryMax   = 5 * time.Second
)

// pendingWrites are the writes of calls that ended while the database could
// not take them: the closing writes of a call (its last steps and the call row
// closed) and the whole row of a call whose opening write failed. Each is
// retried with backoff by a goroutine of its own until it succeeds, fails for
// good, or the App stops retrying (Close); the handler of the call has
// returned long before.
//
// A write may also be handed over before its first attempt (start): it then
// runs in the background from the outset, and is kept for retry if that
// attempt fails.
type pendingWrites struct {
	mu       sync.Mutex
	stopped  bool
	quit     chan struct{} // closed by stop: the goroutines end after their attempt
	idle     chan struct{} // closed, and replaced, each time the last goroutine ends
	stats    PendingStats  // Pending counts the goroutines retrying
	starting int           // goroutines making a first attempt (start)
}

// PendingStats counts the writes kept for retry since New.
type PendingStats struct {
	Pending   int   // retried now
	Kept      int64 // kept for retry in all
	Done      int64 // written after one or more retries
	Failed    int64 // refused by the database for good (logged)
	Abandoned int64 // still not written when Close stopped retrying (logged)
}

func newPendingWrites() *pendingWrites {
	return &pendingWrites{quit: make(chan struct{}), idle: make(chan struct{})}
}

// keep retries write until it succeeds or fails for good. what names it in
// the log line written when it ends; first is the error of the attempt that
// failed. After stop, keep logs the write as abandoned at once.
func (p *pendingWrites) keep(log *slog.Logger, timeout time.Duration, what string, first error, write func(ctx context.Context) error) {
	p.mu.Lock()
	p.stats.Kept++
	if p.stopped {
		p.stats.Abandoned++
		p.mu.Unlock()
		log.Error(what+" abandoned: the server is stopping", "err", first.Error())
		return
	}
	p.stats.Pending++
	p.mu.Unlock()
	go func() {
		outcome, attempts, err := p.retry(timeout, write)
		// The line is written before the write counts as ended, so whoever
		// waits for the writes (Close) finds it logged.
		switch outcome {
		case retryDone:
			log.Info(what+" written once the database was back", "attempts", attempts, "first_err", first.Error())
		case retryFailed:
			log.Error(what+" refused by the database", "attempts", attempts, "err", err.Error())
		case retryAbandoned:
			log.Error(what+" abandoned: the server is stopping", "attempts", attempts, "err", err.Error())
		}
		p.mu.Lock()
		p.stats.Pending--
		switch outcome {
		case retryDone:
			p.stats.Done++
		case retryFailed:
			p.stats.Failed++
		case retryAbandoned:
			p.stats.Abandoned++
		}
		p.idleIfDone()
		p.mu.Unlock()
	}()
}

// start makes the first attempt of write at once, in a goroutine of its own,
// and keeps write for retry (as keep does) when that attempt fails. The
// channel gets the error of the first attempt, nil when it wrote; the caller
// may stop waiting for it at any time: the write goes on, and Close waits for
// it like for the writes kept for retry.
func (p *pendingWrites) start(log *slog.Logger, timeout time.Duration, what string, write func(ctx context.Context) error) <-chan error {
	first := make(chan error, 1)
	p.mu.Lock()
	p.starting++
	p.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		err := write(ctx)
		cancel()
		first <- err
		if err != nil {
			// Counted as kept before it stops counting as starting, so wait
			// never sees a moment with nothing pending in between.
			p.keep(log, timeout, what, err, write)
		}
		p.mu.Lock()
		p.starting--
		p.idleIfDone()
		p.mu.Unlock()
	}()
	return first
}

// idleIfDone wakes the waiters of wait when no goroutine is left; p.mu is held.
func (p *pendingWrites) idleIfDone() {
	if p.stats.Pending == 0 && p.starting == 0 {
		close(p.idle)
		p.idle = make(chan struct{})
	}
}

type retryOutcome int

const (
	retryDone retryOutcome = iota
	retryFailed
	retryAbandoned
)

// retry runs write until it succeeds, fails for good (a conflict or a missing
// row: another attempt cannot change that) or stop is called, waiting with
// backoff before each attempt. It returns how it ended, the attempts made
// (counting the one before keep) and the last error.
func (p *pendingWrites) retry(timeout time.Duration, write func(ctx context.Context) error) (retryOutcome, int, error) {
	delay := retryFirst
	var err error
	for attempts := 2; ; attempts++ {
		t := time.NewTimer(delay/2 + rand.N(delay))
		select {
		case <-p.quit:
			t.Stop()
			return retryAbandoned, attempts - 1, err
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		err = write(ctx)
		cancel()
		switch {
		case err == nil:
			return retryDone, attempts, nil
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrConflict):
			return retryFailed, attempts, err
		}
		delay = min(2*delay, retryMax)
	}
}

// stop ends the retries: each goroutine ends after the attempt it is making.
func (p *pendingWrites) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stopped {
		p.stopped = true
		close(p.quit)
	}
}

// wait waits until no write is pending, and reports whether that happened
// before ctx ended.
func (p *pendingWrites) wait(ctx context.Context) bool {
	for {
		p.mu.Lock()
		n, idle := p.stats.Pending+p.starting, p.idle
		p.mu.Unlock()
		if n == 0 {
			return true
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return false
		}
	}
}

func (p *pendingWrites) snapshot() PendingStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Close waits until the writes kept for retry are written, or until ctx ends;
// then it stops retrying those still pending (each is logged as abandoned; its
// call row stays open until a sweep closes it as lost) and waits for their
// goroutines to end, at most one store timeout. It returns how many writes it
// abandoned. Writes that fail after Close are not retried. The App keeps
// serving calls; close it once the agi server has stopped.
func (a *App) Close(ctx context.Context) (abandoned int) {
	p := a.pending
	if p.wait(ctx) {
		p.stop()
		return 0
	}
	before := p.snapshot().Abandoned
	p.stop()
	p.wait(context.Background()) // each ends after its attempt, bounded by the store timeout
	return int(p.snapshot().Abandoned - before)
}

// PendingStats returns the counts of the writes kept for retry.
func (a *App) PendingStats() PendingStats { return a.pending.snapshot() }
