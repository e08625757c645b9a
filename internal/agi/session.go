package agi

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// A Session is the command channel of one call. The server creates it and
// hands it to the Handler, which owns it until it returns; its methods are for
// that one goroutine. Every method takes a ctx: when ctx ends before the reply,
// the method returns ErrHangup if the channel hung up and context.Cause(ctx)
// otherwise, and the session waits for the missing reply before it sends the
// next command (it never sends a second command before a reply). Whatever
// ctx says, a reply later than the command's reply timeout (see
// Server.ReplyTimeout) closes the connection: the command returns an error
// matching os.ErrDeadlineExceeded, and so do the commands after it.
//
// After a hangup the commands that Asterisk allows on a dead channel (GET
// VARIABLE, GET FULL VARIABLE, SET VARIABLE, VERBOSE, EXEC, the DATABASE
// commands, NOOP, ASYNCAGI BREAK and two SPEECH commands) are still sent; the
// others, which Asterisk would refuse with 511, return ErrHangup without a
// round trip (Raw also sends a command Asterisk does not know, which it
// answers 510 on a dead channel as on a live one). r.Context() is cancelled by
// the hangup, so to finish up after it pass context.WithoutCancel(r.Context())
// or a context with its own deadline.
type Session struct {
	srv  *Server
	conn net.Conn
	req  *Request
	lr   lineReader
	d    demux // the state of lr's lines; owned by whoever reads

	cancel     context.CancelCauseFunc // guarded by srv.mu until start returns
	abortCause error                   // guarded by srv.mu
	closed     atomic.Bool             // abort ran: the server is closing the call
	notFound   bool

	cmd         cmdBuf
	readErr     error        // why reading ended; nil while the connection is readable
	hangupLines int          // HANGUP lines read so far; owned by whoever reads
	inflight    atomic.Int32 // 0: no reply is due; else how to log the one that is (replyPlain ...)
	hungup      atomic.Bool
	hupMid      atomic.Bool // HANGUP arrived while a command was in flight
	broken      error       // the connection can no longer carry commands
	debug       bool
	secretTail  bool          // the last command sent was secret: what Asterisk sends is masked until the next; owned by whoever reads
	strays      int           // lines no command waited for; owned by whoever reads
	due         time.Time     // when the reply of the command in flight is late
	dueFor      time.Duration // the reply timeout of the command in flight
	dueCmd      string        // the command in flight, for the timeout's error

	// The handler's goroutine reads the reply of its command itself. When
	// the handler stays away from the session for idleReadDelay, the idle
	// timer starts a reader goroutine that takes HANGUP lines while the
	// handler works; the next command stops it before it reads. Ownership of
	// lr, d and readErr passes with idleState and readerOut. The timer is not
	// set again for every command: when it fires early it sets itself for
	// the rest of the delay.
	idle      *time.Timer
	idleState atomic.Int32       // idleBusy, idleAway or idleReading
	idleSince atomic.Int64       // when the handler went away, as a time.Duration since born
	timerSet  atomic.Bool        // the idle timer is set
	born      time.Time          // the start of the call, for idleSince
	stopRead  atomic.Bool        // asks the idle reader to return
	readerOut chan struct{}      // one token each time the idle reader returns
	wake      func()             // interrupts a read: for context.AfterFunc
	raw       syscall.RawConn    // the socket, when the fast path can use it (see useSocket)
	rawStep   func(uintptr) bool // actThenRead's callback, set with raw
	act       int                // for step: actWrite, actShutdown, or 0 to read
	line      []byte             // for actWrite
	written   int
	rdl       time.Time // the read deadline the handler set last
	rdlKnown  bool      // rdl is still the connection's read deadline
	closeBy   time.Time // the end of closeGrace, once a command was sent after Close
}

const (
	deadOK    cmdFlags = 1 << iota // allowed on a dead channel
	secretIn                       // the reply carries secret digits
	minusOne                       // result=-1 means the channel hung up
	playsFile                      // result=-1 may mean the prompt could not be played
	secretKey                      // the reply carries a secret key as its ASCII code
)

// What Session.inflight says about the reply that is due.
const (
	replyPlain  = 1 + iota // logged as it is
	replyDigits            // secret digits: a result other than "" and -1 is masked
	replyKey               // a secret key: a result other than 0 and -1 is masked
)

type cmdFlags uint8

// idleReadDelay is how long the handler may stay away from the session
// before a reader goroutine watches the connection for HANGUP. Commands sent
// back to back never start one; a handler that waits on a database sees a
// hangup within this delay.
const idleReadDelay = 10 * time.Millisecond

// start begins the call: r gets its context and the idle timer is set.
func (s *Session) start(r *Request) {
	ctx, cancel := context.WithCancelCause(context.Background())
	r.ctx = ctx
	s.req = r
	s.debug = s.srv.logger().Enabled(ctx, slog.LevelDebug)
	s.useSocket()
	s.srv.mu.Lock()
	s.cancel = cancel
	cause := s.abortCause
	s.srv.mu.Unlock()
	if cause != nil {
		cancel(cause)
	}
	s.born = time.Now()
	s.readerOut = make(chan struct{}, 1)
	s.idle = time.AfterFunc(time.Hour, s.idleFire) // set by armIdle once s.idle is stored
	s.idle.Stop()
	s.armIdle()
}

// abort cancels the call and unblocks its reads and writes; srv.mu is held.
func (s *Session) abort(cause error) {
	if s.abortCause != nil {
		return
	}
	s.abortCause = cause
	s.closed.Store(true)
	if s.cancel != nil {
		s.cancel(cause)
	}
	s.conn.SetDeadline(time.Unix(1, 0))
}

// finish ends the call after the handler returned: it closes the writing
// side, so Asterisk leaves the AGI, and takes what Asterisk still sends up to
// its last HANGUP line, EOF or a short deadline. Asterisk answers the
// half-close with one HANGUP line and closes; a channel that hung up during
// the call has had, or is still to get, a HANGUP line of its own before it.
// So the call is over after one HANGUP line in all on a live channel and two
// on a dead one, without a read for the EOF that follows. With AGISIGHUP=no
// there are none, and EOF ends the wait.
func (s *Session) finish() {
	s.stopIdle()
	s.idle.Stop()
	if cw, ok := s.conn.(interface{ CloseWrite() error }); ok && s.broken == nil && s.readErr == nil && !s.closed.Load() {
		last := 1
		if s.Hungup() {
			last = 2
		}
		until := time.Now().Add(drainTimeout)
		s.conn.SetReadDeadline(until)
		if s.canWait() {
			// Asterisk answers the half-close with HANGUP: wait for it
			// instead of a read that finds nothing.
			s.act = actShutdown
			s.actThenRead()
		} else {
			cw.CloseWrite()
		}
		s.drain(until, last)
	}
	s.cancel(context.Canceled)
}

const (
	drainTimeout = 2 * time.Second // for Asterisk's last lines after the handler returned
	hangupGrace  = 5 * time.Second // for the reply of the command in flight at a hangup
)

// Hungup reports whether the channel is known to be gone: Asterisk sent
// HANGUP, a reply showed a dead channel, or the connection dropped.
func (s *Session) Hungup() bool { return s.hungup.Load() }

func (s *Session) markHungup() {
	if s.inflight.Load() != 0 {
		s.hupMid.Store(true)
	}
	if !s.hungup.Swap(true) {
		s.cancel(ErrHangup)
	}
}

const maxMultiLine = 64 << 10

// The states of Session.idleState.
const (
	idleBusy    = iota // the handler's goroutine reads, or nobody needs to
	idleAway           // the handler is away; the idle timer is on its way
	idleReading        // the idle reader runs
)

// armIdle notes that the handler is leaving the session, and sets the idle
// timer unless it is set already.
func (s *Session) armIdle() {
	if s.readErr != nil {
		return
	}
	s.stopRead.Store(false)
	s.idleSince.Store(int64(time.Since(s.born)))
	s.idleState.Store(idleAway)
	if !s.timerSet.Swap(true) {
		s.idle.Reset(idleReadDelay)
	}
}

// stopIdle takes reading back for the handler's goroutine, stopping the idle
// reader if it started.
func (s *Session) stopIdle() {
	if s.idleState.CompareAndSwap(idleAway, idleBusy) || s.idleState.Load() == idleBusy {
		return
	}
	s.stopRead.Store(true)
	s.conn.SetReadDeadline(time.Unix(1, 0))
	<-s.readerOut
	s.idleState.Store(idleBusy)
	s.rdlKnown = false
}

// idleFire runs when the idle timer fires: it starts the idle reader when
// the handler has been away for idleReadDelay, and sets the timer for the
// rest of it when the handler came back in between.
func (s *Session) idleFire() {
	s.timerSet.Store(false)
	if s.idleState.Load() != idleAway {
		return // armIdle sets the timer again
	}
	if wait := idleReadDelay - (time.Since(s.born) - time.Duration(s.idleSince.Load())); wait > 0 {
		if !s.timerSet.Swap(true) {
			s.idle.Reset(wait)
		}
		return
	}
	if s.idleState.CompareAndSwap(idleAway, idleReading) {
		s.idleRead()
	}
}

// idleRead is the reader while the handler is away: it takes HANGUP lines
// (cancelling the call's context), the reply of an abandoned command and
// anything else Asterisk sends, until stopIdle asks it to return or the
// connection ends.
func (s *Session) idleRead() {
	defer func() { s.readerOut <- struct{}{} }()
	for {
		s.conn.SetReadDeadline(time.Time{})
		// Checked after setting the deadline: a stop or an abort that
		// came before has its past deadline overwritten, and is seen here.
		if s.stopRead.Load() || s.closed.Load() {
			return
		}
		line, err := s.lr.readLine()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue // a stop, an abort, or a late wake of a finished command
		}
		if !s.takeIdle(line, err) {
			return
		}
	}
}

// drain reads Asterisk's last lines after the half-close, until the call has
// had last HANGUP lines in all, EOF, an abort or until, the read deadline
// already set.
func (s *Session) drain(until time.Time, last int) {
	for !s.closed.Load() && s.hangupLines < last {
		line, err := s.lr.readLine()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if !time.Now().Before(until) {
				return
			}
			s.conn.SetReadDeadline(until) // a late wake of a finished command
			continue
		}
		if !s.takeIdle(line, err) {
			return
		}
	}
}

// take sorts one line from Asterisk: a HANGUP marks the channel dead, 1xx
// lines and the inner lines of a multi-line 520 are skipped, and a reply is
// returned with ok when a command waits for it. A reply that no command waits
// for is logged and dropped.
func (s *Session) take(line []byte) (reply string, ok bool, err error) {
	if s.debug {
		due := int32(replyPlain)
		if s.d.multi == nil {
			due = s.inflight.Load()
		}
		if due <= replyPlain && s.secretTail {
			// A line after a secret command, or inside its 520 block.
			due = replyDigits
		}
		s.logLine("AGI Rx <<", line, due)
	}
	kind, rep, err := s.d.feed(line)
	switch {
	case err != nil:
		return "", false, err
	case kind == lineHangup:
		s.hangupLines++
		s.markHungup()
	case kind == lineReply:
		if s.inflight.Swap(0) == 0 {
			return "", false, s.stray(rep)
		}
		return string(rep), true, nil
	}
	return "", false, nil
}

// strayLogged is how many lines without a command in flight a call logs one
// by one; the rest are counted in one line at its end.
const strayLogged = 3

// errStrayLines ends a call that got more than MaxStrayLines lines no
// command waited for.
var errStrayLines = errors.New("agi: too many lines without a command in flight")

// stray takes a reply no command waits for: it logs the first few (masked
// after a secret command) and returns errStrayLines for the one over
// MaxStrayLines.
func (s *Session) stray(line []byte) error {
	s.strays++
	if s.strays > cmp.Or(s.srv.MaxStrayLines, DefaultMaxStrayLines) {
		return errStrayLines
	}
	if s.strays <= strayLogged {
		v := string(line)
		if s.secretTail {
			v = redactSecret(v, false)
		}
		s.srv.logger().LogAttrs(context.Background(), slog.LevelWarn, "agi line without a command in flight",
			slog.String("uniqueid", s.req.UniqueID), slog.String("line", v))
	}
	return nil
}

// logEnd logs, after the call ended with outcome, what the peer did wrong:
// the lines without a command in flight that were not logged one by one, and
// why a misbehaving peer's connection was closed.
func (s *Session) logEnd(outcome string) {
	log := s.srv.logger()
	attrs := []slog.Attr{slog.String("uniqueid", s.req.UniqueID), slog.String("route", s.req.Pattern)}
	if s.strays > strayLogged {
		log.LogAttrs(context.Background(), slog.LevelWarn, "agi lines without a command in flight",
			append(attrs, slog.Int("count", s.strays))...)
	}
	var msg string
	switch outcome {
	case OutcomeTimeout:
		msg = "agi call closed: no reply in time"
	case OutcomeOversized:
		msg = "agi call closed: line over the limit"
	case OutcomeProtocol:
		msg = "agi call closed: too many lines without a command in flight"
	default:
		return
	}
	log.LogAttrs(context.Background(), slog.LevelWarn, msg,
		append(attrs, slog.String("remote", addrString(s.conn.RemoteAddr())), slog.String("err", s.readErr.Error()))...)
}

// takeIdle takes a line read while no command waits, and reports whether
// reading can go on.
func (s *Session) takeIdle(line []byte, err error) bool {
	if err == nil {
		_, _, err = s.take(line)
		if err != nil {
			s.badStream(err)
			return false
		}
		return true
	}
	s.readEnded(err)
	return false
}

// readEnded records why reading ended: a connection that drops means the
// channel is gone (unless the server is closing the call).
func (s *Session) readEnded(err error) {
	if errors.Is(err, ErrLineTooLong) {
		s.badStream(err)
		return
	}
	s.readErr = err
	if !s.closed.Load() {
		s.markHungup()
	}
}

// badStream ends a stream that breaks the protocol's limits: the connection
// is closed and the call's context cancelled with err.
func (s *Session) badStream(err error) {
	s.readErr = err
	s.conn.Close()
	s.cancel(err)
}

// setReadDeadline makes sure the connection's read deadline is not later
// than t (zero: none). An earlier deadline is left as it is: when it passes,
// readReply sees the time has not come and sets t.
func (s *Session) setReadDeadline(t time.Time) {
	if s.rdlKnown && !s.rdl.IsZero() && (t.IsZero() || !s.rdl.After(t)) {
		return
	}
	s.conn.SetReadDeadline(t)
	s.rdl, s.rdlKnown = t, true
}

// send writes a command line. On a connection that gives access to its
// socket, when nothing is left in the buffer, it writes and then waits until
// the reply can be read before reading it: Go's Read would first try a read
// that finds nothing, one system call per command. Readiness that came
// before the write is forgotten by the wait, which is safe because Asterisk
// answers every command (or closes the connection, which wakes the wait too).
// Anything it cannot do that way (a partial write, a read error) is left to
// conn.Write and the next readLine.
func (s *Session) send(line []byte) error {
	if !s.canWait() {
		_, err := s.conn.Write(line)
		return err
	}
	s.act, s.line, s.written = actWrite, line, 0
	s.actThenRead()
	s.line = nil
	if s.written < len(line) {
		_, err := s.conn.Write(line[s.written:])
		return err
	}
	return nil
}

// canWait reports whether actThenRead may be used: the connection gives
// access to its socket and the buffer holds nothing still to be read.
func (s *Session) canWait() bool {
	return s.raw != nil && s.lr.r == s.lr.w && s.lr.err == nil
}

// What actThenRead does before it waits.
const (
	actWrite    = iota + 1 // write s.line, counting s.written
	actShutdown            // close the writing side
)

// actThenRead does s.act on the socket and, when it succeeded, waits for the
// socket to be readable and reads what came into the line buffer. A read
// error is kept for the next readLine; a deadline or a closed connection ends
// the wait, and readLine sees them too.
func (s *Session) actThenRead() {
	s.lr.r, s.lr.w = 0, 0
	s.raw.Read(s.rawStep)
}

// readReply writes line, when it is not nil, and reads on the handler's
// goroutine up to the reply of the command in flight. The reply is due by
// s.due, the command's reply timeout, kept as a read deadline on the
// connection (its timer lives in the connection, so a call waiting costs no
// timer of its own); when it passes the call is ended.
// When the hangup cancels ctx and grace is set, it still takes the reply
// Asterisk sends at once, within hangupGrace. When ctx ends otherwise, the
// reply stays due and the next command reads it first. Without a line (the
// reply of an abandoned command) a hangup ends the wait at once.
func (s *Session) readReply(ctx context.Context, line []byte) (reply string, writeErr, err error) {
	var graceEnd time.Time
	cmdEnd := s.due
	sent := false
	if ctx != s.req.ctx && ctx.Done() != nil {
		// The call's own context is only cancelled from this goroutine or
		// by abort, which interrupts the read itself; others need a wake.
		if s.wake == nil {
			s.wake = func() { s.conn.SetReadDeadline(time.Unix(1, 0)) }
		}
		defer context.AfterFunc(ctx, s.wake)()
	}
	for {
		dl := cmdEnd
		if !graceEnd.IsZero() && (dl.IsZero() || graceEnd.Before(dl)) {
			dl = graceEnd
		}
		s.setReadDeadline(dl)
		// Checked after setting the deadline, which may have overwritten
		// the past deadline of an abort or a wake that came before.
		if s.closed.Load() {
			return "", nil, ErrServerClosed
		}
		if graceEnd.IsZero() && ctx.Err() != nil {
			if !sent || !errors.Is(context.Cause(ctx), ErrHangup) {
				return "", nil, s.ctxErr(ctx)
			}
			graceEnd = time.Now().Add(hangupGrace)
			continue
		}
		if line != nil && !sent {
			sent = true
			if err := s.send(line); err != nil {
				return "", err, nil
			}
		}
		line, err := s.lr.readLine()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			s.rdlKnown = false
			now := time.Now()
			switch {
			case s.closed.Load():
				return "", nil, ErrServerClosed
			case !graceEnd.IsZero() && !now.Before(graceEnd):
				return "", nil, ErrHangup
			case !cmdEnd.IsZero() && !now.Before(cmdEnd):
				s.readErr = s.timeoutErr()
				s.cancel(s.readErr)
				s.conn.Close()
				return "", nil, s.connErr()
			}
			continue // an earlier deadline, a wake, or ctx ended: looked at above
		}
		if err != nil {
			s.readEnded(err)
			return "", nil, s.connErr()
		}
		reply, ok, err := s.take(line)
		if err != nil {
			s.badStream(err)
			return "", nil, s.connErr()
		}
		if ok {
			// Take what came with the reply, such as a HANGUP right after
			// it, so Hungup is up to date when the command returns.
			for s.readErr == nil {
				line, more := s.lr.bufferedLine()
				if !more {
					break
				}
				if _, _, err := s.take(line); err != nil {
					s.badStream(err)
				}
			}
			return reply, nil, nil
		}
	}
}

// lineKind classifies a line from Asterisk.
type lineKind int

const (
	linePart   lineKind = iota // a 100 Trying line, or a line inside a multi-line 520
	lineHangup                 // the asynchronous HANGUP
	lineReply                  // a reply, or the last line of a multi-line 520
)

// A demux sorts the lines Asterisk sends into replies and HANGUP signals.
type demux struct {
	multi []byte // the lines of a multi-line 520 so far, or nil
}

// feed takes one line. For lineReply it returns the reply: the line itself,
// or the joined lines of a multi-line 520, valid until the next call.
func (d *demux) feed(line []byte) (lineKind, []byte, error) {
	if d.multi != nil {
		// Inside a usage text every line is text, even one that looks like
		// a reply, until the line starting "520 ".
		if len(d.multi)+len(line) > maxMultiLine {
			return linePart, nil, ErrLineTooLong
		}
		d.multi = append(append(d.multi, '\n'), line...)
		if !bytes.HasPrefix(line, []byte("520 ")) {
			return linePart, nil, nil
		}
		reply := d.multi
		d.multi = nil
		return lineReply, reply, nil
	}
	switch {
	case string(line) == "HANGUP":
		return lineHangup, nil, nil
	case len(line) >= 4 && line[0] == '1' && isDigit(line[1]) && isDigit(line[2]) && line[3] == ' ':
		return linePart, nil, nil // 100 Trying (GOSUB)
	case bytes.HasPrefix(line, []byte("520-")):
		d.multi = append(make([]byte, 0, 256), line...)
		return linePart, nil, nil
	}
	return lineReply, line, nil
}

// logLine logs a line sent or received; due says how to log a reply, so the
// keys of a secret input are masked.
func (s *Session) logLine(dir string, line []byte, due int32) {
	v := string(bytes.TrimSuffix(line, []byte("\n")))
	if due == replyDigits || due == replyKey {
		v = redactSecret(v, due == replyKey)
	}
	s.srv.logger().LogAttrs(context.Background(), slog.LevelDebug, dir,
		slog.String("uniqueid", s.req.UniqueID), slog.String("line", v))
}

// maskReply hides the keys in the reply to a secret input: the result of a
// 200 reply becomes "***" unless it holds no key, which is an empty result
// ("200 result=" or "200 result= (timeout)") or -1 for GET DATA, and 0 or -1
// for a key's ASCII code (key set). The rest of the reply stays.
func maskReply(line string, key bool) string {
	const prefix = "200 result="
	if !strings.HasPrefix(line, prefix) {
		return line
	}
	result, rest, _ := strings.Cut(line[len(prefix):], " ")
	switch {
	case result == "" || result == "-1":
		return line
	case key && result == "0":
		return line
	}
	if rest != "" {
		rest = " " + rest
	}
	return prefix + "***" + rest
}

// connErr is the error of a command on a connection whose reader has ended.
func (s *Session) connErr() error {
	if s.closed.Load() {
		return ErrServerClosed
	}
	if errors.Is(s.readErr, os.ErrDeadlineExceeded) {
		return s.readErr
	}
	if s.readErr == io.EOF || s.readErr == nil || s.Hungup() {
		return ErrHangup
	}
	return fmt.Errorf("agi: connection: %w", s.readErr)
}

func (s *Session) ctxErr(ctx context.Context) error {
	if s.Hungup() {
		return ErrHangup
	}
	return context.Cause(ctx)
}

// do sends the command in s.cmd, waits for its reply and interprets the
// codes every command shares: 5xx as *CommandError (511 marks the channel
// dead), and result=-1 as ErrHangup or a *PromptError according to fl. It
// reports the command to Server.OnCommand. The Reply is valid with
// ErrHangup too, for the endpos of a hangup during a recording.
func (s *Session) do(ctx context.Context, fl cmdFlags, prompt string) (Reply, error) {
	name := s.cmd.name
	rep, d, sent, err := s.roundTrip(ctx, fl)
	if err == nil && rep.Result == "-1" {
		switch {
		case fl&playsFile != 0:
			err = s.promptOrHangup(prompt)
		case fl&minusOne != 0 && rep.Data != "writefile":
			s.markHungup()
			err = ErrHangup
		}
	}
	if h := s.srv.OnCommand; h != nil {
		h(CommandEvent{Request: s.req, Command: name, Duration: d, Err: err,
			HungUp: sent && (s.hupMid.Load() || errors.Is(err, ErrHangup))})
	}
	return rep, err
}

// promptOrHangup decides what result=-1 of a playing command means: a hangup
// when HANGUP already came or CHANNEL STATUS is refused with 511 (Asterisk
// without AGISIGHUP sends no HANGUP line), otherwise a prompt that could not
// be played.
func (s *Session) promptOrHangup(prompt string) error {
	if s.Hungup() {
		return ErrHangup
	}
	s.cmd.reset("CHANNEL STATUS")
	_, err := s.do(context.Background(), 0, "")
	if err != nil {
		if errors.Is(err, ErrHangup) || errors.Is(err, ErrServerClosed) {
			return ErrHangup
		}
		return err
	}
	if s.Hungup() {
		return ErrHangup
	}
	return &PromptError{Prompt: prompt}
}

// roundTrip writes the command and reads its reply.
func (s *Session) roundTrip(ctx context.Context, fl cmdFlags) (rep Reply, d time.Duration, sent bool, err error) {
	name := s.cmd.name
	line, err := s.cmd.line()
	if err != nil {
		return Reply{}, 0, false, fmt.Errorf("%w (command %q)", err, name)
	}
	s.stopIdle()
	defer s.armIdle()
	if s.closed.Load() {
		if fl&deadOK == 0 || s.broken != nil || s.readErr != nil {
			return Reply{}, 0, false, ErrServerClosed
		}
		return s.closingTrip(name, line)
	}
	if fl&deadOK == 0 && s.Hungup() {
		return Reply{}, 0, false, ErrHangup
	}
	if s.broken != nil {
		return Reply{}, 0, false, s.broken
	}
	if s.readErr != nil {
		return Reply{}, 0, false, s.connErr()
	}
	if s.inflight.Load() != 0 {
		// The reply of an abandoned command must come first.
		if _, _, err := s.readReply(ctx, nil); err != nil {
			return Reply{}, 0, false, err
		}
	}
	if ctx.Err() != nil {
		return Reply{}, 0, false, s.ctxErr(ctx)
	}
	s.hupMid.Store(false)
	s.secretTail = fl&(secretIn|secretKey) != 0
	switch {
	case fl&secretIn != 0:
		s.inflight.Store(replyDigits)
	case fl&secretKey != 0:
		s.inflight.Store(replyKey)
	default:
		s.inflight.Store(replyPlain)
	}
	s.dueFor = s.replyTimeout()
	s.due, s.dueCmd = time.Now().Add(s.dueFor), name
	if s.debug {
		s.logLine("AGI Tx >>", line, 0)
	}
	start := time.Now()
	text, werr, err := s.readReply(ctx, line)
	if werr != nil {
		s.inflight.Store(0)
		s.broken = fmt.Errorf("agi: %s: %w", name, werr)
		if s.Hungup() || s.closed.Load() {
			s.broken = s.connErrAfterWrite()
		}
		return Reply{}, time.Since(start), true, s.broken
	}
	if err != nil {
		return Reply{}, time.Since(start), true, err
	}
	d = time.Since(start)
	rep, err = ParseReply(name, text)
	if ce, ok := err.(*CommandError); ok && ce.Code == 511 {
		s.markHungup()
	}
	if err != nil && fl&(secretIn|secretKey) != 0 {
		err = redactErr(err, text)
	}
	return rep, d, true, err
}

// closeGrace bounds the commands a handler sends after Server.Close, all of
// them together, from the first.
const closeGrace = 2 * time.Second

// syncLine is the command that ends a command still running in Asterisk
// after Server.Close, and its reply, which no playing, input or recording
// command can give.
const (
	syncLine  = "GET FULL VARIABLE agi-sync\n"
	syncReply = "200 result=1 (agi-sync)"
)

// closingTrip sends a command Asterisk allows on a dead channel after
// Server.Close, so the handler can still tell the dialplan how the call
// ended (SET VARIABLE) before the connection is closed; all such commands
// share closeGrace. A command still in flight (a GET DATA the close
// interrupted) is ended first by syncLine: Asterisk aborts a playing or input
// command when the next command arrives and sends no reply for it, while a
// command that had already finished has its reply come before syncLine's.
func (s *Session) closingTrip(name string, line []byte) (Reply, time.Duration, bool, error) {
	if s.closeBy.IsZero() {
		s.closeBy = time.Now().Add(closeGrace)
	}
	// abort holds srv.mu until its past deadline is set: taken here, it
	// cannot come after this deadline.
	s.srv.mu.Lock()
	s.conn.SetDeadline(s.closeBy)
	s.srv.mu.Unlock()
	s.rdlKnown = false
	if s.inflight.Load() != 0 {
		if s.debug {
			s.logLine("AGI Tx >>", []byte(syncLine), 0)
		}
		if _, err := s.closingExchange([]byte(syncLine), syncReply); err != nil {
			return Reply{}, 0, true, err
		}
	}
	s.inflight.Store(replyPlain)
	if s.debug {
		s.logLine("AGI Tx >>", line, 0)
	}
	start := time.Now()
	text, err := s.closingExchange(line, "")
	if err != nil {
		return Reply{}, time.Since(start), true, err
	}
	rep, err := ParseReply(name, text)
	return rep, time.Since(start), true, err
}

// closingExchange writes line and reads up to its reply: the first reply, or
// the first that is want when want is set (an earlier reply is the late one
// of the command syncLine ended). A failure breaks the connection.
func (s *Session) closingExchange(line []byte, want string) (string, error) {
	if _, err := s.conn.Write(line); err != nil {
		s.broken = fmt.Errorf("agi: closing: %w", err)
		return "", s.broken
	}
	for {
		l, err := s.lr.readLine()
		if err != nil {
			s.broken = fmt.Errorf("agi: closing: %w", err)
			s.inflight.Store(0)
			return "", s.broken
		}
		reply, ok, err := s.take(l)
		switch {
		case err != nil:
			s.badStream(err)
			s.broken = fmt.Errorf("agi: closing: %w", err)
			return "", s.broken
		case !ok:
		case want == "" || reply == want:
			return reply, nil
		default:
			s.inflight.Store(replyPlain) // the reply to line is still due
		}
	}
}

func (s *Session) connErrAfterWrite() error {
	if s.closed.Load() {
		return ErrServerClosed
	}
	return ErrHangup
}

// fail ends the call with a "FAILURE" line, which makes the dialplan see
// AGISTATUS=FAILURE.
func (s *Session) fail() {
	if s.broken == nil && !s.Hungup() {
		if s.debug {
			s.logLine("AGI Tx >>", failureLine, 0)
		}
		s.conn.Write(failureLine)
	}
}

// timeoutErr is the error of the command in flight when its reply is late.
func (s *Session) timeoutErr() error {
	return fmt.Errorf("agi: %s: no reply in %v: %w", s.dueCmd, s.dueFor, os.ErrDeadlineExceeded)
}
