package agi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"sync"
	"syscall"
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
	DefaultReplyTimeout   = 10 * time.Second
	DefaultPromptTimeout  = 2 * time.Minute
	DefaultMaxStrayLines  = 100
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
	OutcomeTimeout   = "timeout"   // Asterisk sent no reply in the command's reply timeout; the connection was closed
	OutcomeOversized = "oversized" // Asterisk sent a line or a multi-line 520 over the limits; the connection was closed
	OutcomeProtocol  = "protocol"  // Asterisk sent more than MaxStrayLines lines no command waited for; the connection was closed
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

	// Every command has a reply timeout, whatever its ctx says: when it
	// passes without a reply, the peer is taken for gone, the command fails
	// with an error matching os.ErrDeadlineExceeded, the connection is
	// closed and the call ends with OutcomeTimeout.
	//
	// ReplyTimeout is the reply timeout of the commands Asterisk answers at
	// once (ANSWER, GET and SET VARIABLE, VERBOSE, NOOP, CHANNEL STATUS, the
	// DATABASE and SET commands ...). 0 means DefaultReplyTimeout (10 s).
	ReplyTimeout time.Duration
	// PromptTimeout is the allowance for playing prompts: STREAM FILE and
	// the SAY commands get it, and the commands that wait for the caller get
	// it on top of the wait their arguments ask for (GET DATA: the first-key
	// timeout plus maxdigits inter-key timeouts; RECORD FILE: its maximum
	// duration; WAIT FOR DIGIT and GET OPTION: their timeouts). 0 means
	// DefaultPromptTimeout (2 minutes).
	PromptTimeout time.Duration
	// CommandTimeout caps every reply timeout, and is the reply timeout of
	// the commands whose length no argument bounds: EXEC and GOSUB (which
	// run dialplan), waits without a limit (a negative GET DATA timeout, a
	// RECORD FILE without a maximum duration), and Raw commands that do not
	// answer at once. 0 means DefaultCommandTimeout (30 minutes, longer than
	// any sane recording).
	CommandTimeout time.Duration

	// MaxStrayLines is how many lines no command waits for (replies that
	// come twice or unasked) a call may get; the one after it closes the
	// connection and ends the call with OutcomeProtocol. The first few are
	// logged and the rest counted in one line at the end of the call. 0
	// means DefaultMaxStrayLines (100).
	MaxStrayLines int

	// AllowedNetworks, when not empty, lists the peer networks served; a
	// connection from anywhere else gets a "FAILURE" line and is closed before
	// a byte is read, so a misrouted dialplan sees AGISTATUS=FAILURE and falls
	// back instead of taking an empty script for a success. Empty serves
	// every peer.
	AllowedNetworks []netip.Prefix

	// MaxSessions, when positive, caps the calls in progress; a connection
	// over it gets a "FAILURE" line and is closed, so the dialplan sees
	// AGISTATUS=FAILURE and continues.
	MaxSessions int

	// Logger receives errors, panics, calls ended for a misbehaving peer
	// and, at slog.LevelDebug, refused connections and every protocol line in
	// and out. The digits of secret input, and anything Asterisk sends after a
	// secret command until the next command, are masked. nil discards
	// everything.
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
// Serve closes l when it returns. An accept error that can pass (too many
// open files, a connection aborted before it was accepted, a timeout ...) is
// retried after a pause that doubles from 5 ms to 1 s, and logged at most
// once per acceptLogEvery. Serve always returns a non-nil error:
// ErrServerClosed after Shutdown or Close, otherwise the accept error that
// cannot pass.
func (srv *Server) Serve(l net.Listener) error {
	if !srv.trackListener(&l, true) {
		l.Close()
		return ErrServerClosed
	}
	defer srv.trackListener(&l, false)
	var backoff time.Duration
	var alog acceptLog
	for {
		nc, err := l.Accept()
		if err != nil {
			if srv.shuttingDown() {
				return ErrServerClosed
			}
			if !temporaryAcceptError(err) {
				l.Close()
				return err
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			alog.note(srv.logger(), err, backoff)
			time.Sleep(backoff)
			continue
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

// temporaryAcceptError reports whether an accept error can pass: a timeout,
// or a shortage of file descriptors, buffers or memory, or a connection the
// peer gave up before it was accepted.
func temporaryAcceptError(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return false
	}
	switch errno {
	case syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
		syscall.ECONNABORTED, syscall.ECONNRESET, syscall.EPROTO, syscall.EPERM, syscall.EINTR:
		return true
	}
	return false
}

// acceptLogEvery is the least time between two log lines about accept errors.
const acceptLogEvery = 10 * time.Second

// An acceptLog rate-limits the log lines of Serve's accept errors: one line
// for the first error, then at most one per acceptLogEvery with the count of
// errors since the last line.
type acceptLog struct {
	last   time.Time
	missed int // errors since the last line
}

func (a *acceptLog) note(log *slog.Logger, err error, delay time.Duration) {
	a.missed++
	now := time.Now()
	if !a.last.IsZero() && now.Sub(a.last) < acceptLogEvery {
		return
	}
	log.LogAttrs(context.Background(), slog.LevelWarn, "agi accept error; retrying",
		slog.String("err", err.Error()), slog.Int("errors", a.missed), slog.Duration("delay", delay))
	a.last, a.missed = now, 0
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

// refuse logs a refused connection, at debug level (anyone who can reach the
// port can make refusals; OnRefused counts them), and reports it to OnRefused.
func (srv *Server) refuse(addr net.Addr, reason string) {
	srv.logger().LogAttrs(context.Background(), slog.LevelDebug, "agi connection refused",
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
			srv.logger().LogAttrs(context.Background(), slog.LevelDebug, "agi environment refused",
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
		// The idle reader stops first, so readErr is this goroutine's.
		s.stopIdle()
		switch {
		case outcome == OutcomePanic:
		case errors.Is(s.readErr, os.ErrDeadlineExceeded):
			outcome = OutcomeTimeout
		case errors.Is(s.readErr, ErrLineTooLong):
			outcome = OutcomeOversized
		case errors.Is(s.readErr, errStrayLines):
			outcome = OutcomeProtocol
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
		s.logEnd(outcome)
	}()
	h := s.srv.Handler
	if h == nil {
		h = NotFoundHandler()
	}
	h.ServeAGI(s, r)
	return OutcomeCompleted
}
