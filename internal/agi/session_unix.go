//go:build unix

package agi

import (
	"io"
	"net"
	"os"
	"syscall"
)

// useSocket gives the session the connection's socket when it has one, for
// the fast path of send and finish (actThenRead): a write, or the
// half-close, and the wait for the reply in one trip through the poller.
func (s *Session) useSocket() {
	sc, ok := s.conn.(syscall.Conn)
	if !ok {
		return
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	s.raw = raw
	s.rawStep = s.step // one closure for the call, not one per command
}

// step is actThenRead's callback: the first call acts, the others read.
func (s *Session) step(fd uintptr) bool {
	switch s.act {
	case actWrite:
		s.act = 0
		for s.written < len(s.line) {
			n, err := syscall.Write(int(fd), s.line[s.written:])
			if err == syscall.EINTR {
				continue
			}
			if err != nil || n <= 0 {
				return true // conn.Write finishes
			}
			s.written += n
		}
		return false
	case actShutdown:
		s.act = 0
		return syscall.Shutdown(int(fd), syscall.SHUT_WR) != nil
	}
	lr := &s.lr
	n, err := syscall.Read(int(fd), lr.buf[lr.w:])
	for err == syscall.EINTR {
		n, err = syscall.Read(int(fd), lr.buf[lr.w:])
	}
	switch {
	case err == syscall.EAGAIN:
		return false
	case err != nil:
		lr.err = &net.OpError{Op: "read", Net: "tcp", Source: s.conn.LocalAddr(), Addr: s.conn.RemoteAddr(), Err: os.NewSyscallError("read", err)}
	case n == 0:
		lr.err = io.EOF
	default:
		lr.w += n
	}
	return true
}
