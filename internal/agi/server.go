package agi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"sync"
	"time"
)

// ErrServerClosed is returned by Serve and ListenAndServe after Shutdown or
// Close, and is the context.Cause of the calls Close cancels.
var ErrServerClosed = errors.New("agi: server closed")

// Defaults of the Server settings left at zero.
const (
	DefaultAddr           = ":4573"
	DefaultEnvTimeout     = 5 * time.Second
	DefaultCommandTimeout = 30 * time.Minute
)

// Reasons passed to Server.OnRefused.
const (
	RefusedNetwork     = "network"     // the peer is outside AllowedNetworks
	RefusedMaxSessions = "max_calls"   // MaxSessions calls were already in progress
	RefusedShutdown    = "shutdown"    // the server is shutting down
	RefusedEnvironment = "environment" // the environment block was late, too long or malformed
)

// Outcomes passed to Server.OnSessionEnd.
const (
	OutcomeCompleted = "completed" // the handler returned on a live channel
	OutcomeHangup    = "hangup"    // the channel hung up before the handler returned
	OutcomeNotFound  = "notfound"  // no route matched the script
	OutcomePanic     = "panic"     // the handler panicked
	OutcomeClosed    = "closed"    // Server.Close cancelled the call
)

// A CommandEvent describes one command for Server.OnCommand.
type CommandEvent struct {
	Request  *Request      // the call
	Command  string        // the command words in upper case, such as "GET DATA"
	Duration time.Duration // from writing the command to its reply; 0 when it was not sent
	Err      error         // what the command returned, nil on success
	HungUp   bool          // the channel hung up while the command was in progress
}

// A Server accepts FastAGI connections from Asterisk and runs a Handler for
// each call. The zero value is a working server on DefaultAddr that answers
// every script with NotFoundHandler. Set the fields before serving and do not
// change them afterwards.
type Server struct {
	Addr    string  // TCP address for ListenAndServe; "" means DefaultAddr (":4573")
	Handler Handler // the handler for every call; nil means NotFoundHandler()

	EnvTimeout   time.Duration // deadline for the whole environment block; 0 means DefaultEnvTimeout
	MaxEnvLines  int           // lines in the environment block; 0 means DefaultMaxEnvLines (256)
	MaxLineBytes int           // bytes in any line Asterisk sends; 0 means DefaultMaxLineBytes (8192)

	// CommandTimeout is the safety net for a command whose ctx has no
	// deadline: after it passes without a reply the command fails and the
	// connection is closed. 0 means DefaultCommandTimeout (30 minutes, longer
	// than any sane recording).
	CommandTimeout time.Duration

	// AllowedNetworks, when not empty, lists the peer networks served; a
	// connection from anywhere else gets a "FAILURE" line and is closed before
	// a byte is read, so a misrouted dialplan sees AGISTATUS=FAILURE and falls
	// back instead of taking an empty script for a success.
	AllowedNetworks []netip.Prefix

	// MaxSessions, when positive, caps the calls in progress; a connection
	// over it gets a "FAILURE" line and is closed, so the dialplan sees
	// AGISTATUS=FAILURE and continues.
	MaxSessions int

	// Logger receives errors, panics and, at slog.LevelDebug, every protocol
	// line in and out (secret input masked). nil discards everything.
	Logger *slog.Logger

	// Hooks for metrics; nil hooks are skipped. They run on the call's
	// goroutines and must be fast and safe for concurrent use.
	OnRefused      func(addr net.Addr, reason string)                // a connection was closed unserved
	OnSessionStart func(r *Request)                                  // the environment arrived; the handler is about to run
	OnSessionEnd   func(r *Request, outcome string, d time.Duration) // the handler returned; r.Pattern is the route
	OnCommand      func(e CommandEvent)                              // a command finished, or failed before it was sent

	mu        sync.Mutex
	listeners map[*net.Listener]struct{}
	sessions  map[*Session]struct{}
	closing   bool
	idle      chan struct{} // closed when the last session ends during Shutdown
	envPool   sync.Pool     // *[]byte scratch buffers for environment blocks
	envBufs   sync.Pool     // *[envBufSize]byte line buffers while an environment is read
	replyBufs sync.Pool     // *[replyBufSize]byte line buffers for the replies of a call
}

// The sizes of the pooled line buffers: one large enough for a whole
// environment block while it is read, then a small one for the replies, which
// a call keeps until it ends. A longer line grows the buffer of its call.
const (
	envBufSize   = 1024
	replyBufSize = 256
)

// pooled returns a buffer from p, or a new one when p has none.
func pooled[T any](p *sync.Pool) *T {
	if b, ok := p.Get().(*T); ok {
		return b
	}
	return new(T)
}

var discardLogger = slog.New(slog.DiscardHandler)

func (srv *Server) logger() *slog.Logger {
	if srv.Logger == nil {
		return discardLogger
	}
	return srv.Logger
}

// ListenAndServe listens on srv.Addr and serves calls with Serve. It always
// returns a non-nil error: ErrServerClosed after Shutdown or Close.
func (srv *Server) ListenAndServe() error {
	if srv.shuttingDown() {
		return ErrServerClosed
	}
	addr := srv.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	l, err := Listen(addr)
	if err != nil {
		return err
	}
	return srv.Serve(l)
}

// Listen listens on a TCP address the way ListenAndServe does: without Go's
// default TCP keep-alive on accepted connections, which costs four system
// calls per call. A FastAGI peer that vanishes is caught by the command
// timeout instead, and Asterisk hangs its channel up on its own.
func Listen(addr string) (net.Listener, error) {
	lc := net.ListenConfig{KeepAlive: -1}
	return lc.Listen(context.Background(), "tcp", addr)
}

// Serve accepts connections on l and serves each call on its own goroutine.
// Serve closes l when it returns. It always returns a non-nil error:
// ErrServerClosed after Shutdown or Close, otherwise the accept error.
func (srv *Server) Serve(l net.Listener) error {
	if !srv.trackListener(&l, true) {
		l.Close()
		return ErrServerClosed
	}
	defer srv.trackListener(&l, false)
	var backoff time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if srv.shuttingDown() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				srv.logger().Warn("agi accept error; retrying", "err", err, "delay", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		if !srv.allowed(nc.RemoteAddr()) {
			srv.turnAway(nc, RefusedNetwork)
			continue
		}
		s, reason := srv.newSession(nc)
		if s == nil {
			srv.turnAway(nc, reason)
			continue
		}
		go s.serve()
	}
}

var failureLine = []byte("FAILURE\n")

// turnAway refuses nc unserved: it logs and reports the refusal first, then
// answers FAILURE (Asterisk sets AGISTATUS=FAILURE) and closes nc, so that by
// the time the peer sees the refusal it is counted.
func (srv *Server) turnAway(nc net.Conn, reason string) {
	srv.refuse(nc.RemoteAddr(), reason)
	nc.Write(failureLine)
	nc.Close()
}

// refuse logs a refused connection and reports it to OnRefused.
func (srv *Server) refuse(addr net.Addr, reason string) {
	srv.logger().LogAttrs(context.Background(), slog.LevelInfo, "agi connection refused",
		slog.String("remote", addrString(addr)), slog.String("reason", reason))
	if srv.OnRefused != nil {
		srv.OnRefused(addr, reason)
	}
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// allowed reports whether the peer may be served.
func (srv *Server) allowed(a net.Addr) bool {
	if len(srv.AllowedNetworks) == 0 {
		return true
	}
	var ip netip.Addr
	switch a := a.(type) {
	case *net.TCPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	default:
		ap, err := netip.ParseAddrPort(addrString(a))
		if err != nil {
			return false
		}
		ip = ap.Addr()
	}
	ip = ip.Unmap()
	for _, p := range srv.AllowedNetworks {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// newSession registers a session for nc, or returns nil and the reason it is
// refused.
func (srv *Server) newSession(nc net.Conn) (*Session, string) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closing {
		return nil, RefusedShutdown
	}
	if srv.MaxSessions > 0 && len(srv.sessions) >= srv.MaxSessions {
		return nil, RefusedMaxSessions
	}
	if srv.sessions == nil {
		srv.sessions = make(map[*Session]struct{})
	}
	s := &Session{srv: srv, conn: nc}
	srv.sessions[s] = struct{}{}
	return s, ""
}

func (srv *Server) endSession(s *Session) {
	srv.mu.Lock()
	delete(srv.sessions, s)
	if len(srv.sessions) == 0 && srv.idle != nil {
		close(srv.idle)
		srv.idle = nil
	}
	srv.mu.Unlock()
}

func (srv *Server) trackListener(l *net.Listener, add bool) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if add {
		if srv.closing {
			return false
		}
		if srv.listeners == nil {
			srv.listeners = make(map[*net.Listener]struct{})
		}
		srv.listeners[l] = struct{}{}
	} else {
		delete(srv.listeners, l)
	}
	return true
}

func (srv *Server) shuttingDown() bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.closing
}

// closeListeners marks the server closing and closes its listeners; srv.mu is held.
func (srv *Server) closeListenersLocked() error {
	srv.closing = true
	var err error
	for l := range srv.listeners {
		if cerr := (*l).Close(); cerr != nil && err == nil {
			err = cerr
		}
		delete(srv.listeners, l)
	}
	return err
}

// Shutdown stops the server gracefully: it closes the listeners, so new calls
// are refused by the kernel, and waits for the calls in progress to end. When
// ctx ends first it returns ctx.Err() and leaves the calls running; call Close
// to cancel them. Serve returns ErrServerClosed at once.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.mu.Lock()
	err := srv.closeListenersLocked()
	var idle chan struct{}
	if len(srv.sessions) > 0 {
		if srv.idle == nil {
			srv.idle = make(chan struct{})
		}
		idle = srv.idle
	}
	srv.mu.Unlock()
	if idle != nil {
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return err
}

// Close stops the server at once: it closes the listeners and cancels every
// call in progress with the cause ErrServerClosed. A command waiting for a
// reply returns ErrServerClosed, the handlers see their contexts done, and
// each connection is closed when its handler returns. Until then a handler
// may still send the commands Asterisk allows on a dead channel (SET
// VARIABLE to tell the dialplan how the call ended, VERBOSE ...), for a short
// grace; the session first ends the command the close interrupted, which
// Asterisk then does not answer. Every other command returns ErrServerClosed
// without being sent. Close does not wait for the handlers; use Shutdown
// with a short deadline before Close to let them finish.
func (srv *Server) Close() error {
	srv.mu.Lock()
	err := srv.closeListenersLocked()
	for s := range srv.sessions {
		s.abort(ErrServerClosed)
	}
	srv.mu.Unlock()
	return err
}

// serve runs one call on its connection's goroutine.
func (s *Session) serve() {
	srv := s.srv
	defer srv.endSession(s)
	defer s.conn.Close()

	envTimeout := srv.EnvTimeout
	if envTimeout <= 0 {
		envTimeout = DefaultEnvTimeout
	}
	envDeadline := time.Now().Add(envTimeout)
	s.conn.SetReadDeadline(envDeadline)
	scratch := pooled[[]byte](&srv.envPool)
	maxLine := srv.MaxLineBytes
	if maxLine <= 0 {
		maxLine = DefaultMaxLineBytes
	}
	envBuf := pooled[[envBufSize]byte](&srv.envBufs)
	s.lr = lineReader{rd: s.conn, buf: envBuf[:min(envBufSize, maxLine)], max: maxLine}
	r, err := readEnv(&s.lr, scratch, srv.MaxEnvLines)
	if cap(*scratch) <= 64<<10 {
		srv.envPool.Put(scratch)
	}
	if err != nil {
		srv.envBufs.Put(envBuf)
		if !s.closed.Load() {
			srv.logger().LogAttrs(context.Background(), slog.LevelWarn, "agi environment refused",
				slog.String("remote", addrString(s.conn.RemoteAddr())), slog.String("err", err.Error()))
			srv.refuse(s.conn.RemoteAddr(), RefusedEnvironment)
		}
		return
	}
	// The environment's deadline stays: the first command replaces it when
	// it must, and the idle reader clears it.
	s.rdl, s.rdlKnown = envDeadline, true
	// Move what came after the environment (normally nothing) to the small
	// buffer for the replies.
	rest := s.lr.buffered()
	var replyBuf *[replyBufSize]byte
	if n := min(replyBufSize, maxLine); len(rest) <= n {
		replyBuf = pooled[[replyBufSize]byte](&srv.replyBufs)
		s.lr.buf = replyBuf[:n]
	} else {
		s.lr.buf = make([]byte, len(rest))
	}
	s.lr.r, s.lr.w = 0, copy(s.lr.buf, rest)
	srv.envBufs.Put(envBuf)

	r.RemoteAddr = s.conn.RemoteAddr()
	s.start(r)
	start := time.Now()
	if srv.OnSessionStart != nil {
		srv.OnSessionStart(r)
	}
	outcome := s.run()
	if replyBuf != nil {
		// Nothing reads the connection any more: finish stopped the idle
		// reader, and the replies were copied out of the buffer.
		srv.replyBufs.Put(replyBuf)
	}
	if srv.OnSessionEnd != nil {
		srv.OnSessionEnd(r, outcome, time.Since(start))
	}
}

// run calls the handler, recovers a panic, and ends the call.
func (s *Session) run() (outcome string) {
	r := s.req
	defer func() {
		if v := recover(); v != nil {
			s.srv.logger().LogAttrs(context.Background(), slog.LevelError, "agi handler panic",
				slog.String("route", r.Pattern), slog.String("script", r.Script),
				slog.String("uniqueid", r.UniqueID), slog.String("panic", fmt.Sprint(v)),
				slog.String("stack", string(debug.Stack())))
			outcome = OutcomePanic
		}
		// Classify before finish: finish reads the HANGUP line Asterisk sends
		// when the script closes its side, which is not the caller hanging up.
		switch {
		case outcome == OutcomePanic:
		case s.notFound:
			outcome = OutcomeNotFound
		case context.Cause(r.ctx) == ErrServerClosed:
			outcome = OutcomeClosed
		case s.Hungup():
			outcome = OutcomeHangup
		default:
			outcome = OutcomeCompleted
		}
		s.finish()
	}()
	h := s.srv.Handler
	if h == nil {
		h = NotFoundHandler()
	}
	h.ServeAGI(s, r)
	return OutcomeCompleted
}
