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
	"sync/atomic"
	"time"
)

// A Session is the command channel of one call. The server creates it and
// hands it to the Handler, which owns it until it returns; its methods are for
// that one goroutine. Every method takes a ctx: when ctx ends before the reply,
// the method returns ErrHangup if the channel hung up and context.Cause(ctx)
// otherwise, and the session waits for the missing reply before it sends the
// next command (it never sends a second command before a reply).
//
// After a hangup the commands that Asterisk allows on a dead channel (GET
// VARIABLE, GET FULL VARIABLE, SET VARIABLE, VERBOSE, EXEC, the DATABASE
// commands, NOOP, ASYNCAGI BREAK and two SPEECH commands) are still sent; the
// others return ErrHangup without a round trip. r.Context() is cancelled by the
// hangup, so to finish up after it pass context.WithoutCancel(r.Context()) or a
// context with its own deadline.
type Session struct {
	srv  *Server
	conn net.Conn
	req  *Request
	lr   *lineReader

	cancel     context.CancelCauseFunc // guarded by srv.mu until start returns
	abortCause error                   // guarded by srv.mu
	notFound   bool

	cmd      cmdBuf
	replies  chan string   // a reply line, or the joined lines of a multi-line 520
	done     chan struct{} // closed when the reader ends
	readErr  error         // why the reader ended; read after done is closed
	inflight atomic.Int32  // 0: no command waits; 1: one does; 2: a secret one does
	hungup   atomic.Bool
	hupMid   atomic.Bool // HANGUP arrived while a command was in flight
	owed     bool        // an abandoned command's reply is still to come
	broken   error       // the connection can no longer carry commands
	debug    bool
}

const (
	deadOK    cmdFlags = 1 << iota // allowed on a dead channel
	secretIn                       // the reply carries secret digits
	minusOne                       // result=-1 means the channel hung up
	playsFile                      // result=-1 may mean the prompt could not be played
)

type cmdFlags uint8

// start begins the call: r gets its context and the reader starts.
func (s *Session) start(r *Request, lr *lineReader) {
	ctx, cancel := context.WithCancelCause(context.Background())
	r.ctx = ctx
	s.req, s.lr = r, lr
	s.replies = make(chan string, 1)
	s.done = make(chan struct{})
	s.debug = s.srv.logger().Enabled(ctx, slog.LevelDebug)
	s.srv.mu.Lock()
	s.cancel = cancel
	cause := s.abortCause
	s.srv.mu.Unlock()
	if cause != nil {
		cancel(cause)
	}
	go s.readLoop()
}

// abort cancels the call and unblocks its reads and writes; srv.mu is held.
func (s *Session) abort(cause error) {
	if s.abortCause != nil {
		return
	}
	s.abortCause = cause
	if s.cancel != nil {
		s.cancel(cause)
	}
	s.conn.SetDeadline(time.Unix(1, 0))
}

// setReadDeadline sets the connection's read deadline unless the call was
// aborted: abort's deadline in the past must stay, or a blocked reader would
// never notice the abort.
func (s *Session) setReadDeadline(t time.Time) {
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	if s.abortCause == nil {
		s.conn.SetReadDeadline(t)
	}
}

func (s *Session) aborted() bool {
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	return s.abortCause != nil
}

// finish ends the call after the handler returned: it closes the writing
// side, so Asterisk leaves the AGI, and lets the reader take what Asterisk
// still sends (its HANGUP lines) until EOF or a short deadline.
func (s *Session) finish() {
	if cw, ok := s.conn.(interface{ CloseWrite() error }); ok && s.broken == nil {
		cw.CloseWrite()
		s.conn.SetReadDeadline(time.Now().Add(drainTimeout))
	} else {
		s.conn.SetReadDeadline(time.Unix(1, 0))
	}
	<-s.done
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

// readLoop is the one reader of the connection. It takes HANGUP lines (any
// number, at any moment) and 1xx lines out of the stream, gathers a multi-line
// 520 up to its "520 " line, and hands every reply to the command waiting for
// it.
func (s *Session) readLoop() {
	defer close(s.done)
	var d demux
	for {
		line, err := s.lr.readLine()
		if err != nil {
			s.readErr = err
			switch {
			case s.aborted():
			case errors.Is(err, os.ErrDeadlineExceeded):
				// The command timeout: the connection is of no more use.
				s.cancel(s.timeoutErr())
				s.conn.Close()
			default:
				s.markHungup()
			}
			return
		}
		if s.debug {
			s.logLine("AGI Rx <<", line, s.inflight.Load() == 2 && d.multi == nil)
		}
		kind, reply, err := d.feed(line)
		switch {
		case err != nil:
			s.readErr = err
			s.conn.Close()
			return
		case kind == lineHangup:
			s.markHungup()
		case kind == lineReply:
			if s.inflight.Swap(0) == 0 {
				s.srv.logger().LogAttrs(context.Background(), slog.LevelWarn, "agi line without a command in flight",
					slog.String("uniqueid", s.req.UniqueID), slog.String("line", string(reply)))
				continue
			}
			s.replies <- string(reply)
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

func (s *Session) logLine(dir string, line []byte, secret bool) {
	v := string(bytes.TrimSuffix(line, []byte("\n")))
	if secret {
		v = maskReply(v)
	}
	s.srv.logger().LogAttrs(context.Background(), slog.LevelDebug, dir,
		slog.String("uniqueid", s.req.UniqueID), slog.String("line", v))
}

// maskReply hides the digits of a reply to a secret input.
func maskReply(line string) string {
	if len(line) > 3 && line[:3] == "200" {
		return "200 result=*** (masked)"
	}
	return line
}

// connErr is the error of a command on a connection whose reader has ended.
func (s *Session) connErr() error {
	if s.aborted() {
		return ErrServerClosed
	}
	if errors.Is(s.readErr, os.ErrDeadlineExceeded) {
		return s.timeoutErr()
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

// roundTrip writes the command and waits for its reply.
func (s *Session) roundTrip(ctx context.Context, fl cmdFlags) (rep Reply, d time.Duration, sent bool, err error) {
	name := s.cmd.name
	line, err := s.cmd.line()
	if err != nil {
		return Reply{}, 0, false, fmt.Errorf("%w (command %q)", err, name)
	}
	if fl&deadOK == 0 && s.Hungup() {
		return Reply{}, 0, false, ErrHangup
	}
	if s.broken != nil {
		return Reply{}, 0, false, s.broken
	}
	if s.owed {
		// The reply of an abandoned command must come first.
		select {
		case <-s.replies:
			s.owed = false
		case <-s.done:
			return Reply{}, 0, false, s.connErr()
		case <-ctx.Done():
			return Reply{}, 0, false, s.ctxErr(ctx)
		}
	}
	select {
	case <-s.done:
		return Reply{}, 0, false, s.connErr()
	default:
	}
	if ctx.Err() != nil {
		return Reply{}, 0, false, s.ctxErr(ctx)
	}
	s.hupMid.Store(false)
	if fl&secretIn != 0 {
		s.inflight.Store(2)
	} else {
		s.inflight.Store(1)
	}
	if s.debug {
		s.logLine("AGI Tx >>", line, false)
	}
	start := time.Now()
	if _, err := s.conn.Write(line); err != nil {
		s.inflight.Store(0)
		s.broken = fmt.Errorf("agi: %s: %w", name, err)
		if s.Hungup() || s.aborted() {
			s.broken = s.connErrAfterWrite()
		}
		return Reply{}, time.Since(start), true, s.broken
	}
	text, err := s.awaitReply(ctx)
	if err != nil {
		return Reply{}, time.Since(start), true, err
	}
	d = time.Since(start)
	rep, err = ParseReply(name, text)
	if ce, ok := err.(*CommandError); ok && ce.Code == 511 {
		s.markHungup()
	}
	return rep, d, true, err
}

func (s *Session) connErrAfterWrite() error {
	if s.aborted() {
		return ErrServerClosed
	}
	return ErrHangup
}

// fail ends the call with a "FAILURE" line, which makes the dialplan see
// AGISTATUS=FAILURE.
func (s *Session) fail() {
	if s.broken == nil && !s.Hungup() {
		if s.debug {
			s.logLine("AGI Tx >>", failureLine, false)
		}
		s.conn.Write(failureLine)
	}
}

// awaitReply waits for the reply of the command in flight. A ctx without a
// deadline gets the CommandTimeout safety net, as a read deadline on the
// connection (its timer lives in the connection, so idle calls cost no extra
// memory). When the hangup cancels ctx, it still takes the reply Asterisk
// sends at once, within hangupGrace.
func (s *Session) awaitReply(ctx context.Context) (string, error) {
	_, hasDeadline := ctx.Deadline()
	if !hasDeadline {
		s.setReadDeadline(time.Now().Add(s.commandTimeout()))
		defer s.setReadDeadline(time.Time{})
	}
	var grace <-chan time.Time
	ctxDone := ctx.Done()
	for {
		select {
		case text := <-s.replies:
			return text, nil
		case <-s.done:
			select {
			case text := <-s.replies:
				return text, nil
			default:
				return "", s.connErr()
			}
		case <-ctxDone:
			if errors.Is(context.Cause(ctx), ErrHangup) {
				ctxDone = nil
				t := time.NewTimer(hangupGrace)
				defer t.Stop()
				grace = t.C
				continue
			}
			s.owed = true
			return "", s.ctxErr(ctx)
		case <-grace:
			s.owed = true
			return "", ErrHangup
		}
	}
}

func (s *Session) timeoutErr() error {
	return fmt.Errorf("agi: no reply in %v: %w", s.commandTimeout(), os.ErrDeadlineExceeded)
}

func (s *Session) commandTimeout() time.Duration {
	return cmp.Or(s.srv.CommandTimeout, DefaultCommandTimeout)
}
