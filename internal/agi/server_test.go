package agi

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
)

// pipeListener hands out in-memory connections, for tests in a synctest
// bubble: net.Pipe ones (dial), and ones that buffer as a socket does
// (dialMem) or can be half-closed (dialHalf).
type pipeListener struct{ *agiclient.Listener }

func newPipeListener() *pipeListener { return &pipeListener{agiclient.NewListener()} }

func (l *pipeListener) dial() net.Conn {
	c, err := l.Dial(context.Background())
	if err != nil {
		panic("dial a closed pipeListener: " + err.Error())
	}
	return c
}

// dialMem is dial with a connection that buffers as a socket does (memPipe);
// ok is false when the listener is closed.
func (l *pipeListener) dialMem() (c net.Conn, ok bool) {
	c, srv := memPipe()
	return c, l.Hand(context.Background(), srv) == nil
}

// dialHalf is dial with a connection that can be half-closed.
func (l *pipeListener) dialHalf() *halfConn {
	c, srv := halfPipe()
	if err := l.Hand(context.Background(), srv); err != nil {
		panic("dial a closed pipeListener: " + err.Error())
	}
	return c
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// A halfConn is one end of an in-memory connection that can be half-closed
// as a TCP connection can: a net.Pipe for each direction.
type halfConn struct {
	in, out net.Conn // read from in, write to out
}

// halfPipe returns the two ends of a connection.
func halfPipe() (*halfConn, *halfConn) {
	a1, a2 := net.Pipe()
	b1, b2 := net.Pipe()
	return &halfConn{in: a1, out: b1}, &halfConn{in: b2, out: a2}
}

func (c *halfConn) Read(p []byte) (int, error)  { return c.in.Read(p) }
func (c *halfConn) Write(p []byte) (int, error) { return c.out.Write(p) }
func (c *halfConn) CloseWrite() error           { return c.out.Close() }
func (c *halfConn) Close() error                { c.out.Close(); return c.in.Close() }
func (c *halfConn) LocalAddr() net.Addr         { return pipeAddr{} }
func (c *halfConn) RemoteAddr() net.Addr        { return pipeAddr{} }
func (c *halfConn) SetDeadline(t time.Time) error {
	c.out.SetWriteDeadline(t)
	return c.in.SetReadDeadline(t)
}
func (c *halfConn) SetReadDeadline(t time.Time) error  { return c.in.SetReadDeadline(t) }
func (c *halfConn) SetWriteDeadline(t time.Time) error { return c.out.SetWriteDeadline(t) }

// TestEndOfCall checks how a call ends after its handler returned: the server
// closes its writing side, takes what Asterisk still sends, and closes the
// connection after the last HANGUP line it can expect (one on a live channel,
// two on one that hung up during the call) without waiting for EOF; with no
// HANGUP lines (AGISIGHUP=no) at EOF, and at the latest after drainTimeout.
func TestEndOfCall(t *testing.T) {
	type send struct {
		after time.Duration // pause before it
		line  string        // "" closes Asterisk's writing side
	}
	answer := func(s *Session, r *Request) { s.Answer(r.Context()) }
	cases := []struct {
		name    string
		handler func(s *Session, r *Request)
		reply   string        // Asterisk's reply to each command; "" sends none
		end     []send        // what Asterisk sends after the server's half-close
		want    time.Duration // when the server closes, after its half-close
		outcome string
	}{
		{name: "live channel: closed at the HANGUP, no wait for EOF", handler: answer, reply: "200 result=0\n",
			end: []send{{0, "HANGUP\n"}}, want: 0, outcome: OutcomeCompleted},
		{name: "hung up during the call with a HANGUP line: one more", handler: answer, reply: "200 result=0\nHANGUP\n",
			end: []send{{time.Second, "HANGUP\n"}}, want: time.Second, outcome: OutcomeHangup},
		{name: "hung up, known from a reply only: two HANGUP lines", handler: answer, reply: "200 result=-1\n",
			end: []send{{0, "HANGUP\n"}, {time.Second, "HANGUP\n"}}, want: time.Second, outcome: OutcomeHangup},
		{name: "the handler hung up: two HANGUP lines", handler: func(s *Session, r *Request) { s.Hangup(r.Context()) },
			reply: "200 result=1\n", end: []send{{0, "HANGUP\n"}, {time.Second, "HANGUP\n"}}, want: time.Second, outcome: OutcomeHangup},
		{name: "AGISIGHUP=no: EOF", handler: answer, reply: "200 result=0\n",
			end: []send{{time.Second, ""}}, want: time.Second, outcome: OutcomeCompleted},
		{name: "AGISIGHUP=no, hung up: EOF", handler: answer, reply: "200 result=-1\n",
			end: []send{{time.Second, ""}}, want: time.Second, outcome: OutcomeHangup},
		{name: "nothing at all: the drain gives up", handler: answer, reply: "200 result=0\n",
			want: drainTimeout, outcome: OutcomeCompleted},
		{name: "a late reply, then the HANGUP", reply: "",
			handler: func(s *Session, r *Request) {
				ctx, cancel := context.WithTimeout(r.Context(), time.Second)
				defer cancel()
				s.GetData(ctx, "beep", 0, 4) // abandoned: its reply comes after the half-close
			},
			end:  []send{{500 * time.Millisecond, "200 result=1234\n"}, {500 * time.Millisecond, "100 result=0 Trying...\n"}, {0, "HANGUP\n"}},
			want: time.Second, outcome: OutcomeCompleted},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				type end struct {
					at      time.Time
					outcome string
				}
				ended := make(chan end, 1)
				srv := &Server{Handler: HandlerFunc(tc.handler),
					OnSessionEnd: func(_ *Request, o string, _ time.Duration) { ended <- end{time.Now(), o} }}
				l := newPipeListener()
				go srv.Serve(l)
				defer srv.Close()
				c := l.dialHalf()
				io.WriteString(c, envBlock)
				br := bufio.NewReader(c)
				for {
					if _, err := br.ReadString('\n'); err != nil {
						break // the server's half-close
					}
					io.WriteString(c, tc.reply)
				}
				halfClosed := time.Now()
				for _, m := range tc.end {
					time.Sleep(m.after)
					if m.line == "" {
						c.CloseWrite()
						break
					}
					if _, err := io.WriteString(c, m.line); err != nil {
						t.Fatalf("writing %q: %v (the server closed too early)", m.line, err)
					}
				}
				e := <-ended
				if got := e.at.Sub(halfClosed); got != tc.want || e.outcome != tc.outcome {
					t.Errorf("the call ended %v after the half-close, %s; want %v, %s", got, e.outcome, tc.want, tc.outcome)
				}
				synctest.Wait()
				if _, err := io.WriteString(c, "HANGUP\n"); err == nil {
					t.Errorf("the server did not close the connection")
				}
			})
		})
	}
}

func TestEnvironmentDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var refused []string
		srv := &Server{Handler: HandlerFunc(func(*Session, *Request) { t.Error("handler ran") }),
			OnRefused: func(_ net.Addr, reason string) { refused = append(refused, reason) }}
		l := newPipeListener()
		go srv.Serve(l)
		c := l.dial()
		io.WriteString(c, "agi_network: yes\n") // and then nothing
		start := time.Now()
		_, err := c.Read(make([]byte, 1))
		if err != io.EOF {
			t.Errorf("read after the deadline: %v, want EOF", err)
		}
		if d := time.Since(start); d != DefaultEnvTimeout {
			t.Errorf("closed after %v, want %v", d, DefaultEnvTimeout)
		}
		srv.Close()
		synctest.Wait()
		if len(refused) != 1 || refused[0] != RefusedEnvironment {
			t.Errorf("refusals %q", refused)
		}
	})
}

func TestCommandTimeoutSafetyNet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errc := make(chan error, 2)
		srv := &Server{CommandTimeout: time.Minute, Handler: HandlerFunc(func(s *Session, r *Request) {
			_, err := s.GetData(r.Context(), "beep", 0, 4) // ctx without deadline: the safety net applies
			errc <- err
			errc <- s.Noop(context.Background())
		})}
		l := newPipeListener()
		go srv.Serve(l)
		c := l.dial()
		io.WriteString(c, envBlock)
		buf := make([]byte, 100)
		n, _ := c.Read(buf)
		if got := string(buf[:n]); got != "GET DATA beep 0 4\n" {
			t.Errorf("command %q", got)
		}
		start := time.Now()
		err := <-errc // Asterisk never answers
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("GetData: %v", err)
		}
		if d := time.Since(start); d != time.Minute {
			t.Errorf("gave up after %v, want 1m", d)
		}
		if err := <-errc; err == nil {
			t.Errorf("a command after the timeout went through on a broken connection")
		}
		srv.Close()
	})
}

func TestCallerContextDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errc := make(chan error, 1)
		srv := &Server{Handler: HandlerFunc(func(s *Session, r *Request) {
			ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
			defer cancel()
			_, err := s.GetData(ctx, "beep", -1, 4)
			errc <- err
		})}
		l := newPipeListener()
		go srv.Serve(l)
		c := l.dial()
		io.WriteString(c, envBlock)
		c.Read(make([]byte, 100))
		start := time.Now()
		if err := <-errc; !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("GetData: %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d != 10*time.Second {
			t.Errorf("returned after %v", d)
		}
		c.Close()
		srv.Close()
	})
}

// TestShutdownAndClose runs 100 calls, shuts the server down while they are in
// progress (they finish), then does the same with Close (they are cancelled).
// It runs in a synctest bubble over in-memory connections: Shutdown's
// deadline passes on the bubble's clock, and synctest.Test fails the test if
// a goroutine the server started is left blocked when the calls are over.
func TestShutdownAndClose(t *testing.T) {
	for _, mode := range []string{"shutdown", "close"} {
		t.Run(mode, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { shutdownOrClose(t, mode) })
		})
	}
}

// shutdownOrClose runs one mode of TestShutdownAndClose in its bubble.
func shutdownOrClose(t *testing.T, mode string) {
	const calls = 100
	var finished, cancelled atomic.Int32
	started := make(chan struct{}, calls)
	release := make(chan struct{})
	var ends sync.WaitGroup
	ends.Add(calls)
	srv := &Server{
		Handler: HandlerFunc(func(s *Session, r *Request) {
			started <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
				if context.Cause(r.Context()) == ErrServerClosed {
					cancelled.Add(1)
				}
				return
			}
			if err := s.Verbose(r.Context(), "finishing", 1); err == nil {
				finished.Add(1)
			}
		}),
		OnSessionEnd: func(*Request, string, time.Duration) { ends.Done() },
	}
	l := newPipeListener()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	var clients sync.WaitGroup
	for range calls {
		c, ok := l.dialMem()
		if !ok {
			t.Fatal("the listener refused a call before the shutdown")
		}
		clients.Go(func() { (&agiclient.Call{Script: "x"}).RunConn(context.Background(), c, "pipe") })
	}
	for range calls {
		<-started
	}
	switch mode {
	case "shutdown":
		shut := make(chan error, 1)
		go func() { shut <- srv.Shutdown(context.Background()) }()
		if err := <-served; err != ErrServerClosed {
			t.Errorf("Serve: %v", err)
		}
		if _, ok := l.dialMem(); ok {
			t.Errorf("a new connection was accepted during Shutdown")
		}
		close(release)
		if err := <-shut; err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if finished.Load() != calls {
			t.Errorf("%d of %d calls finished", finished.Load(), calls)
		}
	case "close":
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		if err := srv.Shutdown(ctx); err != context.DeadlineExceeded {
			t.Errorf("Shutdown with calls stuck: %v", err)
		}
		cancel()
		srv.Close()
		if err := <-served; err != ErrServerClosed {
			t.Errorf("Serve: %v", err)
		}
		ends.Wait()
		if cancelled.Load() != calls {
			t.Errorf("%d of %d calls cancelled", cancelled.Load(), calls)
		}
	}
	ends.Wait()
	clients.Wait()
}

func TestPanicIsRecovered(t *testing.T) {
	var mu sync.Mutex
	var outcomes []string
	var logs syncWriter
	srv := &Server{
		Logger:       newTextLogger(&logs),
		Handler:      HandlerFunc(func(s *Session, r *Request) { panic("boom") }),
		OnSessionEnd: func(r *Request, o string, _ time.Duration) { mu.Lock(); outcomes = append(outcomes, o); mu.Unlock() },
	}
	mux := NewServeMux()
	mux.Handle("ivr/", srv.Handler)
	srv.Handler = mux
	addr := serveOne(t, srv)
	for range 2 {
		tr, err := (&agiclient.Call{Script: "ivr/x"}).Run(context.Background(), addr)
		if err != nil || len(tr.Steps) != 0 {
			t.Errorf("call after a panic: %v %v", tr, err)
		}
	}
	srv.Shutdown(context.Background())
	mu.Lock()
	defer mu.Unlock()
	if len(outcomes) != 2 || outcomes[0] != OutcomePanic {
		t.Errorf("outcomes %q", outcomes)
	}
	if out := logs.String(); !strings.Contains(out, "panic=boom") || !strings.Contains(out, "route=ivr/") || !strings.Contains(out, "uniqueid=1700000000.") {
		t.Errorf("panic log lacks route or uniqueid:\n%s", out)
	}
}

func TestRefusals(t *testing.T) {
	var mu sync.Mutex
	var refused []string
	block := make(chan struct{})
	entered := make(chan struct{}, 1)
	srv := &Server{
		AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		Handler:         HandlerFunc(func(s *Session, r *Request) { entered <- struct{}{}; <-block }),
		OnRefused:       func(_ net.Addr, reason string) { mu.Lock(); refused = append(refused, reason); mu.Unlock() },
	}
	addr := serveOne(t, srv)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing is read from it; it is told FAILURE, so its dialplan falls back.
	if got, err := io.ReadAll(c); err != nil || string(got) != "FAILURE\n" {
		t.Errorf("a peer outside the allowed networks read %q, %v; want FAILURE and EOF", got, err)
	}
	c.Close()
	// A refusal is counted before the peer is told.
	countedBy := func(when string, want int) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if len(refused) != want {
			t.Errorf("%s: %d refusals reported, want %d", when, len(refused), want)
		}
	}
	countedBy("once the peer outside the allowed networks read FAILURE", 1)

	srv2 := &Server{MaxSessions: 1, Handler: srv.Handler, OnRefused: srv.OnRefused}
	addr2 := serveOne(t, srv2)
	first := make(chan *agiclient.Transcript)
	go func() { tr, _ := (&agiclient.Call{}).Run(context.Background(), addr2); first <- tr }()
	<-entered // the first call is in progress: its session counts
	tr, _ := (&agiclient.Call{}).Run(context.Background(), addr2)
	if !tr.Failure {
		t.Errorf("the call over MaxSessions did not get FAILURE")
	}
	countedBy("once the call over MaxSessions read FAILURE", 2)
	close(block)
	<-first
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(refused, ",") != RefusedNetwork+","+RefusedMaxSessions {
		t.Errorf("refusals %q", refused)
	}
}

func TestNotFoundAndHooks(t *testing.T) {
	var mu sync.Mutex
	var events []string
	ended := make(chan struct{}, 1)
	mux := NewServeMux()
	mux.HandleFunc("known", func(s *Session, r *Request) {
		s.Answer(r.Context())
		s.GetData(r.Context(), "beep", time.Second, 1)
	})
	srv := &Server{Handler: mux,
		OnSessionStart: func(r *Request) { mu.Lock(); events = append(events, "start "+r.Script); mu.Unlock() },
		OnSessionEnd: func(r *Request, o string, d time.Duration) {
			mu.Lock()
			events = append(events, "end "+r.Pattern+" "+o)
			mu.Unlock()
			ended <- struct{}{}
		},
		OnCommand: func(e CommandEvent) {
			mu.Lock()
			events = append(events, e.Command+" "+strings.TrimSpace(strings.Repeat("hungup", btoi(e.HungUp))))
			mu.Unlock()
		},
	}
	addr := serveOne(t, srv)
	tr, err := (&agiclient.Call{Script: "nosuch"}).Run(context.Background(), addr)
	if err != nil || !tr.Failure {
		t.Errorf("unknown script: failure %v, %v", tr.Failure, err)
	}
	// A call can be over for the caller before its session ends: each call
	// waits for the end of the one before, so the hooks come in order.
	<-ended
	(&agiclient.Call{Script: "known", HangupAtStep: 2}).Run(context.Background(), addr)
	<-ended
	// A call the script ends is completed, although Asterisk sends HANGUP
	// when the script closes its side.
	(&agiclient.Call{Script: "known", Keys: []string{"1"}}).Run(context.Background(), addr)
	<-ended
	srv.Shutdown(context.Background())
	// The liveness probe after GET DATA's -1 is reported before GET DATA ends.
	want := "start nosuch|end  notfound|start known|ANSWER |CHANNEL STATUS hungup|GET DATA hungup|end known hangup" +
		"|start known|ANSWER |GET DATA |end known completed"
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(events, "|"); got != want {
		t.Errorf("hooks\n got %s\nwant %s", got, want)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
