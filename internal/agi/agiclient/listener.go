package agiclient

import (
	"context"
	"net"
	"sync"
)

// A Listener is a net.Listener of in-memory connections, for serving calls
// to an agi.Server in the same process without a network: Dial makes a
// net.Pipe, returns one end to play a call on (Call.RunConn) and hands the
// other to the server's next Accept. Make one with NewListener; it is safe
// for concurrent use.
type Listener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

// NewListener returns an open Listener. Inside a testing/synctest bubble,
// make it inside the bubble.
func NewListener() *Listener {
	return &Listener{conns: make(chan net.Conn), done: make(chan struct{})}
}

// Dial returns the caller's end of a new in-memory connection once Accept
// has taken the other end. It returns net.ErrClosed when the listener is
// closed first, and the cause of ctx when ctx ends first.
func (l *Listener) Dial(ctx context.Context) (net.Conn, error) {
	client, server := net.Pipe()
	if err := l.Hand(ctx, server); err != nil {
		client.Close()
		server.Close()
		return nil, err
	}
	return client, nil
}

// Hand gives the server's end of a connection made elsewhere (one that
// buffers as a socket does, say) to the next Accept, with the errors of
// Dial. The caller keeps the other end.
func (l *Listener) Hand(ctx context.Context, server net.Conn) error {
	select {
	case l.conns <- server:
		return nil
	case <-l.done:
		return net.ErrClosed
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Accept returns the next connection handed over by Dial or Hand, or
// net.ErrClosed once the listener is closed.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close closes the listener: Accept, Dial and Hand fail from then on.
// Connections already handed over stay open.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr returns the listener's address, network "pipe".
func (l *Listener) Addr() net.Addr { return pipeAddr{} }

// pipeAddr is the address of a Listener and of the connections it makes.
type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }
