package agi

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// failingListener returns an accept error n times, then hands out l's
// connections; closed is set once it is closed.
type failingListener struct {
	*pipeListener
	n      int
	err    error
	closed atomic.Bool
}

func (l *failingListener) Accept() (net.Conn, error) {
	if l.n > 0 {
		l.n--
		return nil, l.err
	}
	return l.pipeListener.Accept()
}

func (l *failingListener) Close() error {
	l.closed.Store(true)
	return l.pipeListener.Close()
}

// countLines returns how many lines of the log contain msg.
func countLines(log, msg string) int {
	n := 0
	for line := range strings.Lines(log) {
		if strings.Contains(line, msg) {
			n++
		}
	}
	return n
}

func TestServeSurvivesTemporaryAcceptErrors(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ECONNABORTED} {
		t.Run(errno.Error(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var logs syncWriter
				served := make(chan string, 1)
				srv := &Server{Logger: newTextLogger(&logs),
					Handler: HandlerFunc(func(s *Session, r *Request) { served <- r.UniqueID })}
				l := &failingListener{pipeListener: newPipeListener(), n: 8,
					err: &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", errno)}}
				done := make(chan error, 1)
				go func() { done <- srv.Serve(l) }()
				c := l.dialHalf()
				io.WriteString(c, envBlock)
				if got := <-served; got != "1700000000.1" {
					t.Errorf("served %q", got)
				}
				c.Close()
				srv.Close()
				if err := <-done; err != ErrServerClosed {
					t.Errorf("Serve returned %v, want ErrServerClosed", err)
				}
				// Eight errors within a second and a half: one line.
				if n := countLines(logs.String(), "agi accept error"); n != 1 {
					t.Errorf("%d log lines about accept errors, want 1:\n%s", n, logs.String())
				}
			})
		})
	}
}

func TestServeReturnsOnAPermanentAcceptError(t *testing.T) {
	l := &failingListener{pipeListener: newPipeListener(), n: 1, err: errors.New("broken listener")}
	if err := (&Server{}).Serve(l); err == nil || err.Error() != "broken listener" {
		t.Errorf("Serve returned %v", err)
	}
	if !l.closed.Load() {
		t.Error("Serve returned on a permanent accept error without closing its listener")
	}
}

// startCall serves srv on a pipe listener and starts a call: it sends the
// environment and returns Asterisk's side of the connection.
func startCall(srv *Server) (*halfConn, *bufio.Reader) {
	l := newPipeListener()
	go srv.Serve(l)
	c := l.dialHalf()
	io.WriteString(c, envBlock)
	return c, bufio.NewReader(c)
}

// TestReplyTimeouts runs one command against a peer that never answers, and
// checks when the connection is closed and how the call ends.
func TestReplyTimeouts(t *testing.T) {
	def := func() *Server { return &Server{} }
	cases := []struct {
		name string
		srv  func() *Server
		run  func(ctx context.Context, s *Session) error
		want time.Duration
	}{
		{"ANSWER", def, func(ctx context.Context, s *Session) error { return s.Answer(ctx) }, DefaultReplyTimeout},
		{"SET VARIABLE, own setting", func() *Server { return &Server{ReplyTimeout: 3 * time.Second} },
			func(ctx context.Context, s *Session) error { return s.SetVariable(ctx, "X", "1") }, 3 * time.Second},
		{"GET VARIABLE with a longer ctx", def, func(ctx context.Context, s *Session) error {
			ctx, cancel := context.WithTimeout(ctx, time.Hour)
			defer cancel()
			_, _, err := s.GetVariable(ctx, "X")
			return err
		}, DefaultReplyTimeout},
		{"raw get variable", def, func(ctx context.Context, s *Session) error {
			_, err := s.Raw(ctx, "get variable", "X")
			return err
		}, DefaultReplyTimeout},
		{"STREAM FILE", def, func(ctx context.Context, s *Session) error {
			_, err := s.StreamFile(ctx, "welcome", "")
			return err
		}, DefaultPromptTimeout},
		{"GET DATA with Asterisk's default timeouts", def, func(ctx context.Context, s *Session) error {
			_, err := s.GetData(ctx, "enter-account", 0, 4)
			return err
		}, DefaultPromptTimeout + 6*time.Second + 4*2*time.Second},
		{"GET DATA 3 s, 5 digits, own prompt allowance", func() *Server { return &Server{PromptTimeout: time.Minute} }, func(ctx context.Context, s *Session) error {
			_, err := s.GetSecretData(ctx, "enter-pin", 3*time.Second, 5)
			return err
		}, time.Minute + 3*time.Second + 5*3*time.Second},
		{"RECORD FILE", def, func(ctx context.Context, s *Session) error {
			_, err := s.RecordFile(ctx, RecordOptions{Path: "/tmp/x", MaxDuration: 3 * time.Minute})
			return err
		}, DefaultPromptTimeout + 3*time.Minute},
		{"RECORD FILE without a limit", def, func(ctx context.Context, s *Session) error {
			_, err := s.RecordFile(ctx, RecordOptions{Path: "/tmp/x"})
			return err
		}, DefaultCommandTimeout},
		{"WAIT FOR DIGIT", def, func(ctx context.Context, s *Session) error {
			_, err := s.WaitForDigit(ctx, 5*time.Second)
			return err
		}, DefaultPromptTimeout + 5*time.Second},
		{"EXEC", func() *Server { return &Server{CommandTimeout: time.Hour} }, func(ctx context.Context, s *Session) error {
			_, err := s.Exec(ctx, "Dial", "PJSIP/100")
			return err
		}, time.Hour},
		{"GET DATA forever, capped", func() *Server { return &Server{CommandTimeout: 20 * time.Minute} }, func(ctx context.Context, s *Session) error {
			_, err := s.GetData(ctx, "beep", -1, 4)
			return err
		}, 20 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var cmdErr error
				var outcome string
				srv := tc.srv()
				srv.Handler = HandlerFunc(func(s *Session, r *Request) { cmdErr = tc.run(r.Context(), s) })
				srv.OnSessionEnd = func(_ *Request, o string, _ time.Duration) { outcome = o }
				defer srv.Close()
				_, br := startCall(srv)
				if _, err := br.ReadString('\n'); err != nil {
					t.Fatalf("no command: %v", err)
				}
				sent := time.Now()
				if line, err := br.ReadString('\n'); err != io.EOF {
					t.Fatalf("read %q, %v; want EOF", line, err)
				}
				if got := time.Since(sent); got != tc.want {
					t.Errorf("closed %v after the command, want %v", got, tc.want)
				}
				synctest.Wait()
				if !errors.Is(cmdErr, os.ErrDeadlineExceeded) || outcome != OutcomeTimeout {
					t.Errorf("command error %v, outcome %q; want a deadline error and %q", cmdErr, outcome, OutcomeTimeout)
				}
			})
		})
	}
}

func TestEnvironmentMustComeSoon(t *testing.T) {
	for name, sent := range map[string]string{"nothing": "", "half an environment": envBlock[:100]} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var refused []string
				srv := &Server{EnvTimeout: time.Second, Handler: HandlerFunc(func(*Session, *Request) { t.Error("handler ran") }),
					OnRefused: func(_ net.Addr, reason string) { refused = append(refused, reason) }}
				l := newPipeListener()
				go srv.Serve(l)
				defer srv.Close()
				c := l.dial()
				io.WriteString(c, sent)
				start := time.Now()
				if _, err := c.Read(make([]byte, 1)); err != io.EOF {
					t.Errorf("read: %v, want EOF", err)
				}
				if d := time.Since(start); d != time.Second {
					t.Errorf("closed after %v, want 1s", d)
				}
				synctest.Wait()
				if len(refused) != 1 || refused[0] != RefusedEnvironment {
					t.Errorf("refusals %q", refused)
				}
			})
		})
	}
}

// TestSecretReplies feeds every malformed or unexpected form of reply to a
// secret GET DATA, and to a STREAM FILE played before a secret input, and
// looks for the digits in the log, at debug level, and in the errors the
// handler got.
func TestSecretReplies(t *testing.T) {
	const pin = "97531"
	cases := []struct {
		name  string
		reply string // Asterisk's side after the GET DATA; a "@" pauses for two seconds
	}{
		{"no equals sign", "200 result97531\n"},
		{"no space after the code", "200result=97531\n"},
		{"unexpected code", "201 result=97531\n"},
		{"510 with digits", "510 Invalid 97531\n"},
		{"single-line 520 with digits", "520 result=97531\n"},
		{"multi-line 520 with digits", "520-Invalid command syntax.  Proper usage follows:\n97531\n200 result=97531\n520 End of proper usage.\n"},
		{"a bare number", "97531\n"},
		{"digits in two words", "200 result=975 31 (timeout)\n"},
		{"the reply twice", "200 result=97531\n200 result=97531\n"},
		{"a line after the reply, later", "200 result=1\n@200 result=97531\n"},
		{"a late reply after the command gave up", "@200 result=97531\n"},
		{"a late reply and one more", "@200 result=97531\n200 result=97531\n"},
		{"a reply, a HANGUP and a stray", "200 result=97531 (timeout)\nHANGUP\n97531\n"},
		{"star and digits", "200 result=*9753#1\n"},
	}
	commands := []struct {
		name string
		run  func(ctx context.Context, s *Session) error
	}{
		{"GET DATA", func(ctx context.Context, s *Session) error {
			_, err := s.GetSecretData(ctx, "enter-pin", 0, 5)
			return err
		}},
		{"STREAM FILE", func(ctx context.Context, s *Session) error {
			_, err := s.StreamSecretFile(ctx, "enter-pin", "0123456789#")
			return err
		}},
	}
	for _, cmd := range commands {
		for _, tc := range cases {
			t.Run(cmd.name+"/"+tc.name, func(t *testing.T) {
				testSecretReply(t, cmd.name, cmd.run, tc.reply)
			})
		}
	}
}

// testSecretReply is one case of TestSecretReplies: command, run by run, gets
// reply.
func testSecretReply(t *testing.T, command string, run func(context.Context, *Session) error, reply string) {
	synctest.Test(t, func(t *testing.T) {
		var logs syncWriter
		var errs []string
		srv := &Server{Logger: newTextLogger(&logs), Handler: HandlerFunc(func(s *Session, r *Request) {
			ctx, cancel := context.WithTimeout(r.Context(), time.Second)
			defer cancel()
			if err := run(ctx, s); err != nil {
				errs = append(errs, err.Error())
			}
			time.Sleep(3 * time.Second) // the handler at work while more lines come
		})}
		defer srv.Close()
		c, br := startCall(srv)
		br.ReadString('\n') // the GET DATA
		for part := range strings.SplitSeq(reply, "@") {
			io.WriteString(c, part)
			time.Sleep(2 * time.Second)
		}
		c.CloseWrite()
		io.Copy(io.Discard, br)
		synctest.Wait()
		out := logs.String()
		if strings.Contains(out, "9753") || strings.Contains(out, "975 31") {
			t.Errorf("the log shows the PIN:\n%s", out)
		}
		for _, e := range errs {
			if strings.Contains(e, "9753") || strings.Contains(e, "975 31") {
				t.Errorf("an error shows the PIN: %s", e)
			}
		}
		if !strings.Contains(out, command+" enter-pin") {
			t.Errorf("the protocol log lacks the command:\n%s", out)
		}
	})
}

func TestRedactSecret(t *testing.T) {
	for line, want := range map[string]string{
		"201 result=97531":         "201 result=***",
		"201 result=-1":            "201 result=-1",
		"201 result= (timeout)":    "201 result= (timeout)",
		"201 result=-12":           "201 result=-***",
		"97531":                    "***",
		"520-Usage:\n 1234 x":      "520-Usage:\n *** x",
		"HANGUP":                   "HANGUP",
		"510 Invalid or unknown 4": "510 Invalid or unknown ***",
	} {
		if got := redactSecret(line, false); got != want {
			t.Errorf("redactSecret(%q) = %q, want %q", line, got, want)
		}
	}
}

// TestMisbehavingPeer checks that a peer sending lines nobody asked for, or a
// line over the limit, has its call ended with its own outcome and a warning,
// and that the warnings about single lines stop after the first few.
func TestMisbehavingPeer(t *testing.T) {
	cases := []struct {
		name    string
		send    string
		outcome string
		warns   map[string]int
	}{
		{"a flood of stray lines", strings.Repeat("200 result=0\n", 150), OutcomeProtocol, map[string]int{
			"agi line without a command in flight": 3, "agi lines without a command in flight": 1,
			"agi call closed: too many lines": 1}},
		{"a few stray lines", strings.Repeat("200 result=0\n", 5), OutcomeCompleted, map[string]int{
			"agi line without a command in flight": 3, "agi lines without a command in flight": 1}},
		{"a line over the limit", strings.Repeat("9", 9000) + "\n", OutcomeOversized, map[string]int{
			"agi call closed: line over the limit": 1}},
		{"a 520 block over the limit", "520-Usage:\n" + strings.Repeat(strings.Repeat("x", 1000)+"\n", 70), OutcomeOversized, map[string]int{
			"agi call closed: line over the limit": 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var logs syncWriter
				var outcome string
				srv := &Server{Logger: newTextLogger(&logs),
					OnSessionEnd: func(_ *Request, o string, _ time.Duration) { outcome = o },
					Handler: HandlerFunc(func(s *Session, r *Request) {
						s.Answer(r.Context())
						select { // the handler at work (a database query) while the lines come
						case <-r.Context().Done():
						case <-time.After(time.Minute):
						}
						s.Noop(context.WithoutCancel(r.Context()))
					})}
				defer srv.Close()
				c, br := startCall(srv)
				br.ReadString('\n') // ANSWER
				io.WriteString(c, "200 result=0\n")
				io.WriteString(c, tc.send)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						break
					}
					if strings.HasPrefix(line, "NOOP") {
						io.WriteString(c, "200 result=0\n")
					}
				}
				c.CloseWrite()
				synctest.Wait()
				if outcome != tc.outcome {
					t.Errorf("outcome %q, want %q", outcome, tc.outcome)
				}
				out := logs.String()
				for msg, n := range tc.warns {
					if got := countLines(out, "level=WARN msg=\""+msg); got != n {
						t.Errorf("%d warnings %q, want %d:\n%s", got, msg, n, out)
					}
				}
			})
		})
	}
}
