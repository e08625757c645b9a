package store

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Timings of a listening connection.
const (
	// listenPing is how long the listening connection may stay silent before
	// it is pinged, so that a connection lost without a word is noticed.
	listenPing = 15 * time.Second
	// listenTimeout bounds connecting, LISTEN, a ping and closing.
	listenTimeout = 10 * time.Second
	// retryMin and retryMax bound the wait before connecting again; it
	// doubles with each failed attempt.
	retryMin = 100 * time.Millisecond
	retryMax = 10 * time.Second
)

// listener keeps a connection of its own listening on one channel for a
// cache, until it is closed. It hands the cache every notification's payload
// (notify), and tells it when listening starts and stops (state): state(true)
// once LISTEN succeeded on a new connection, state(false) when that
// connection is lost or the listener closes. notify and state run on the
// listener's goroutine, one at a time, in that order.
type listener struct {
	conn    *pgx.ConnConfig
	channel string
	name    string        // of the cache, for the log
	ping    time.Duration // listenPing, shorter in tests
	log     *slog.Logger
	notify  func(payload string)
	state   func(listening bool)
	stop    context.CancelFunc
	done    chan struct{} // closed when the listener has ended

	// pid is the server process of the listening connection, 0 when there is
	// none (for tests).
	pid atomic.Uint32
}

// startListener starts listening on channel with db's connection settings,
// for the cache called name in the lines it writes to log (nil discards).
func startListener(db *DB, channel, name string, ping time.Duration, log *slog.Logger,
	notify func(payload string), state func(listening bool)) *listener {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, stop := context.WithCancel(context.Background())
	l := &listener{
		conn:    db.pool.Config().ConnConfig.Copy(),
		channel: channel,
		name:    name,
		ping:    ping,
		log:     log,
		notify:  notify,
		state:   state,
		stop:    stop,
		done:    make(chan struct{}),
	}
	go l.listen(ctx)
	return l
}

// close stops listening and waits until the connection is closed and state
// has been told.
func (l *listener) close() {
	l.stop()
	<-l.done
}

// listen keeps a connection listening until ctx ends, connecting again after
// a growing pause whenever it is lost. It logs the loss, and the first failed
// attempt of a run of them; the errors of pgx name the server, user and
// database, never the password.
func (l *listener) listen(ctx context.Context) {
	defer close(l.done)
	wait, failing := retryMin, false
	for {
		listened, err := l.listenOnce(ctx)
		l.state(false)
		if ctx.Err() != nil {
			return
		}
		switch {
		case listened:
			wait, failing = retryMin, false
			l.log.Warn(l.name+": listening connection lost; reads go to the database until it listens again", "err", err)
		case !failing:
			failing = true
			l.log.Warn(l.name+": cannot listen; reads go to the database until it does", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, retryMax)
	}
}

// listenOnce connects, listens and hands on the notifications until the
// connection fails or ctx ends. listened reports that LISTEN succeeded.
func (l *listener) listenOnce(ctx context.Context) (listened bool, err error) {
	cctx, cancel := context.WithTimeout(ctx, listenTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, l.conn)
	if err != nil {
		return false, err
	}
	defer func() {
		l.pid.Store(0)
		closing, cancel := context.WithTimeout(context.Background(), listenTimeout)
		defer cancel()
		_ = conn.Close(closing)
	}()
	if _, err := conn.Exec(cctx, "LISTEN "+pgx.Identifier{l.channel}.Sanitize()); err != nil {
		return false, err
	}
	l.pid.Store(conn.PgConn().PID())
	l.state(true)
	l.log.Info(l.name + ": listening")
	for {
		wctx, cancel := context.WithTimeout(ctx, l.ping)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			l.notify(n.Payload)
		case ctx.Err() != nil:
			return true, ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			pctx, cancel := context.WithTimeout(ctx, listenTimeout)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return true, err
			}
		default:
			return true, err
		}
	}
}
