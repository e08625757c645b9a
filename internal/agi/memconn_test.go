package agi

import (
	"bytes"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// MemPipe returns the two ends of an in-memory connection that buffers as a
// socket does (see memPipe), for the tests of package agi_test that run in a
// synctest bubble.
var MemPipe = memPipe

// memPipe returns the two ends of an in-memory connection that behaves as a
// loopback TCP connection where the tests need it, and works in a synctest
// bubble (create it inside the bubble):
//
//   - a Write does not wait for the peer to read: the peer's buffer takes it,
//     so both sides can write at once, as Asterisk writes a HANGUP while the
//     server writes its next command;
//   - a Read returns bytes of one Write only, so a test decides how the
//     stream is cut, as over net.Pipe;
//   - CloseWrite closes the writing side alone: the peer reads EOF after
//     what was written;
//   - after the peer's Close, the first Write is accepted and lost and the
//     later ones fail with EPIPE, as on a socket whose peer answered that
//     first write with RST;
//   - deadlines work as on a net.Conn: a read blocked past its deadline, and
//     any read or write after it, fail with os.ErrDeadlineExceeded, checked
//     before any data.
//
// It is built on channels and timers, so a read waiting for data is durably
// blocked and deadlines run on the bubble's clock. net.Pipe, where a Write
// waits for its Read, deadlocks when both sides write.
func memPipe() (net.Conn, net.Conn) {
	ab, ba := newMemStream(), newMemStream()
	return newMemConn(ba, ab), newMemConn(ab, ba)
}

// A memStream is one direction of a memPipe.
type memStream struct {
	mu      sync.Mutex
	chunks  [][]byte // what was written and not read yet, one entry per Write
	eof     bool     // the writing side is closed: reads return EOF once chunks is empty
	gone    bool     // the reading side is closed: writes are lost
	dropped bool     // a write was lost: the next ones fail
	ready   chan struct{}
}

func newMemStream() *memStream { return &memStream{ready: make(chan struct{}, 1)} }

// signal wakes a reader waiting on ready; mu is held.
func (s *memStream) signal() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// read takes the next bytes of the first chunk; ok is false when there is
// nothing to read yet.
func (s *memStream) read(p []byte) (n int, err error, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.chunks) > 0 {
		n = copy(p, s.chunks[0])
		if s.chunks[0] = s.chunks[0][n:]; len(s.chunks[0]) == 0 {
			s.chunks = s.chunks[1:]
		}
		if len(s.chunks) > 0 || s.eof {
			s.signal() // for a second reader
		}
		return n, nil, true
	}
	if s.eof {
		return 0, io.EOF, true
	}
	return 0, nil, false
}

func (s *memStream) write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.eof:
		return 0, syscall.EPIPE
	case s.gone && s.dropped:
		return 0, syscall.EPIPE
	case s.gone:
		s.dropped = true
		return len(p), nil
	case len(p) == 0:
		return 0, nil
	}
	s.chunks = append(s.chunks, bytes.Clone(p))
	s.signal()
	return len(p), nil
}

// closeWrite makes the reader see EOF after what was written.
func (s *memStream) closeWrite() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.eof = true
	s.signal()
}

// closeRead drops what was not read, and the writes to come.
func (s *memStream) closeRead() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gone, s.chunks = true, nil
}

// A memConn is one end of a memPipe.
type memConn struct {
	in, out  *memStream
	rdl, wdl memDeadline
	once     sync.Once
	closed   chan struct{}
}

func newMemConn(in, out *memStream) *memConn {
	c := &memConn{in: in, out: out, closed: make(chan struct{})}
	c.rdl.ch, c.wdl.ch = make(chan struct{}), make(chan struct{})
	return c
}

func (c *memConn) Read(p []byte) (int, error) {
	for {
		select {
		case <-c.closed:
			return 0, net.ErrClosed
		default:
		}
		passed := c.rdl.passed()
		select {
		case <-passed:
			return 0, os.ErrDeadlineExceeded
		default:
		}
		if n, err, ok := c.in.read(p); ok {
			return n, err
		}
		select {
		case <-c.in.ready:
		case <-passed:
		case <-c.closed:
		}
	}
}

func (c *memConn) Write(p []byte) (int, error) {
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	case <-c.wdl.passed():
		return 0, os.ErrDeadlineExceeded
	default:
	}
	return c.out.write(p)
}

// CloseWrite closes the writing side: the peer reads EOF after what was
// written.
func (c *memConn) CloseWrite() error {
	select {
	case <-c.closed:
		return net.ErrClosed
	default:
	}
	c.out.closeWrite()
	return nil
}

func (c *memConn) Close() error {
	err := net.ErrClosed
	c.once.Do(func() {
		close(c.closed)
		c.out.closeWrite()
		c.in.closeRead()
		err = nil
	})
	return err
}

func (c *memConn) LocalAddr() net.Addr  { return pipeAddr{} }
func (c *memConn) RemoteAddr() net.Addr { return pipeAddr{} }

func (c *memConn) SetDeadline(t time.Time) error {
	c.rdl.set(t)
	c.wdl.set(t)
	return nil
}

func (c *memConn) SetReadDeadline(t time.Time) error  { c.rdl.set(t); return nil }
func (c *memConn) SetWriteDeadline(t time.Time) error { c.wdl.set(t); return nil }

// A memDeadline is a read or write deadline of a memConn.
type memDeadline struct {
	mu    sync.Mutex
	timer *time.Timer
	ch    chan struct{} // closed while the deadline has passed
}

// passed returns a channel that is closed when the deadline passes, and
// stays open while there is none.
func (d *memDeadline) passed() chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ch
}

// set sets the deadline to t; zero means none. A reader waiting on the
// channel of passed sees the new deadline: the channel stays the same unless
// it was closed already.
func (d *memDeadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.ch // the timer fired: wait until it closed the channel
	}
	d.timer = nil
	select {
	case <-d.ch: // passed: a new one for the new deadline
		d.ch = make(chan struct{})
	default:
	}
	if t.IsZero() {
		return
	}
	if wait := time.Until(t); wait > 0 {
		ch := d.ch
		d.timer = time.AfterFunc(wait, func() { close(ch) })
		return
	}
	close(d.ch)
}
