package agi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ivrhq/ivr/internal/agi"
	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/agi/agitest"
)

// outcome describes what a Session method returned, for the tables.
func outcome(v any, err error) string {
	var ce *agi.CommandError
	var pe *agi.PromptError
	switch {
	case errors.As(err, &ce):
		return fmt.Sprintf("command error %d (hangup=%v)", ce.Code, errors.Is(err, agi.ErrHangup))
	case errors.As(err, &pe):
		return "prompt error " + pe.Prompt
	case errors.Is(err, agi.ErrHangup):
		return "hangup"
	case err != nil:
		return "error: " + err.Error()
	}
	switch v := v.(type) {
	case agi.Input:
		return fmt.Sprintf("digits %q timeout %v", v.Digits, v.TimedOut)
	case agi.Playback:
		return fmt.Sprintf("key %q endpos %d", v.Key, v.EndPos)
	case rune:
		return fmt.Sprintf("key %q", v)
	case nil:
		return "ok"
	}
	return fmt.Sprintf("%+v", v)
}

type protocolCase struct {
	name    string
	call    agiclient.Call
	handler func(ctx context.Context, s *agi.Session, r *agi.Request) []string
	want    []string
	check   func(t *testing.T, tr *agiclient.Transcript)
	// timed cases depend on how long the handler and the caller pause:
	// they run in a synctest bubble, on fake time, over in-memory
	// connections.
	timed bool
}

func getData(max int) func(ctx context.Context, s *agi.Session, r *agi.Request) []string {
	return func(ctx context.Context, s *agi.Session, r *agi.Request) []string {
		return []string{outcome(s.GetData(ctx, "beep", 3*time.Second, max))}
	}
}

// then runs a second step with a context that survives the hangup.
func dead(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

var protocolCases = []protocolCase{
	// GET DATA results, as Asterisk 22 formats them.
	{name: "getdata digits then #", call: agiclient.Call{Keys: []string{"1234#"}}, handler: getData(6), want: []string{`digits "1234" timeout false`}},
	{name: "getdata leading zero", call: agiclient.Call{Keys: []string{"0123#"}}, handler: getData(6), want: []string{`digits "0123" timeout false`}},
	{name: "getdata zero", call: agiclient.Call{Keys: []string{"0#"}}, handler: getData(6), want: []string{`digits "0" timeout false`}},
	{name: "getdata star", call: agiclient.Call{Keys: []string{"*9#"}}, handler: getData(6), want: []string{`digits "*9" timeout false`}},
	{name: "getdata max digits", call: agiclient.Call{Keys: []string{"78901"}}, handler: getData(4), want: []string{`digits "7890" timeout false`}},
	{name: "getdata nothing", call: agiclient.Call{}, handler: getData(4), want: []string{`digits "" timeout true`}},
	{name: "getdata partial then silence", call: agiclient.Call{Keys: []string{"12"}}, handler: getData(4), want: []string{`digits "12" timeout true`}},
	{name: "getdata only #", call: agiclient.Call{Keys: []string{"#"}}, handler: getData(4), want: []string{`digits "" timeout false`}},
	{name: "getdata reply split per byte", call: agiclient.Call{Keys: []string{"0042#"}, Faults: []agiclient.Fault{{Step: 1, Kind: agiclient.SplitReply}}}, handler: getData(6), want: []string{`digits "0042" timeout false`}},

	// HANGUP before, with and after a reply, and while idle.
	{name: "hangup before reply", call: agiclient.Call{Faults: []agiclient.Fault{{Step: 1, Kind: agiclient.HangupBefore}}},
		handler: getDataThenVerbose, want: []string{"hangup", "ok", "hangup", "hung up true cause agi: channel hung up"}},
	{name: "hangup in the same write as the reply", call: agiclient.Call{Faults: []agiclient.Fault{{Step: 1, Kind: agiclient.HangupWithReply}}},
		handler: getDataThenVerbose, want: []string{"hangup", "ok", "hangup", "hung up true cause agi: channel hung up"}},
	// The HANGUP comes 5 ms after the reply, when the server has sent its
	// CHANNEL STATUS probe.
	{name: "hangup after the reply", call: agiclient.Call{Faults: []agiclient.Fault{{Step: 1, Kind: agiclient.HangupAfterReply, Delay: 5 * time.Millisecond}}},
		handler: getDataThenVerbose, want: []string{"hangup", "ok", "hangup", "hung up true cause agi: channel hung up"},
		check: func(t *testing.T, tr *agiclient.Transcript) {
			if want := []string{"GET DATA", "CHANNEL STATUS", "VERBOSE"}; !slices.Equal(tr.Commands(), want) {
				t.Errorf("commands %q, want %q", tr.Commands(), want)
			}
		}, timed: true},
	{name: "hangup before the reply of a dead-channel command", call: agiclient.Call{Faults: []agiclient.Fault{{Step: 1, Kind: agiclient.HangupBefore}}},
		handler: func(ctx context.Context, s *agi.Session, r *agi.Request) []string {
			v, ok, err := s.GetVariable(ctx, "X")
			return []string{outcome(fmt.Sprintf("%v %v", v, ok), err), outcome(nil, s.Answer(dead(ctx))), fmt.Sprint(s.Hungup())}
		}, want: []string{" false", "hangup", "true"}},
	// The HANGUP comes 20 ms after the ANSWER, while the handler waits and
	// the idle reader watches the connection.
	{name: "hangup while the server is idle", call: agiclient.Call{HangupAfter: 20 * time.Millisecond},
		handler: func(ctx context.Context, s *agi.Session, r *agi.Request) []string {
			out := []string{outcome(nil, s.Answer(ctx))}
			<-ctx.Done() // a slow database query
			out = append(out, fmt.Sprint(context.Cause(ctx)))
			out = append(out, outcome(nil, s.Verbose(dead(ctx), "finishing", 1)))
			return append(out, outcome(s.GetData(dead(ctx), "beep", time.Second, 1)))
		}, want: []string{"ok", "agi: channel hung up", "ok", "hangup"},
		check: func(t *testing.T, tr *agiclient.Transcript) {
			if want := []string{"ANSWER", "VERBOSE"}; !slices.Equal(tr.Commands(), want) {
				t.Errorf("commands %q, want %q (GET DATA must not go out after the hangup)", tr.Commands(), want)
			}
		}, timed: true},
	{name: "AGIEXITONHANGUP=yes while the handler is briefly away", call: agiclient.Call{ExitOnHangup: true, HangupAfter: 5 * time.Millisecond},
		handler: func(ctx context.Context, s *agi.Session, r *agi.Request) []string {
			out := []string{outcome(nil, s.Answer(ctx))}
			time.Sleep(8 * time.Millisecond) // HANGUP and the close arrive before the idle reader would start
			return append(out, outcome(nil, s.Verbose(dead(ctx), "after", 1)), outcome(nil, s.Noop(dead(ctx))))
		}, want: []string{"ok", "hangup", "hangup"}, timed: true},
	{name: "hangup at an input key", call: agiclient.Call{Keys: []string{agiclient.Hangup}}, handler: getData(4), want: []string{"hangup"}},

	// AGISIGHUP=no and AGIEXITONHANGUP=yes.
	{name: "AGISIGHUP=no hangup during GET DATA", call: agiclient.Call{NoHangupLines: true, HangupAtStep: 1},
		handler: getDataThenVerbose, want: []string{"hangup", "ok", "hangup", "hung up true cause agi: channel hung up"},
		check: func(t *testing.T, tr *agiclient.Transcript) {
			if tr.HangupLines != 0 {
				t.Errorf("%d HANGUP lines with AGISIGHUP=no", tr.HangupLines)
			}
			if want := []string{"GET DATA", "CHANNEL STATUS", "VERBOSE"}; !slices.Equal(tr.Commands(), want) {
				t.Errorf("commands %q, want %q", tr.Commands(), want)
			}
		}},
	{name: "missing prompt on a live channel", call: agiclient.Call{NoHangupLines: true, MissingFiles: []string{"beep"}},
		handler: func(ctx context.Context, s *agi.Session, r *agi.Request) []string {
			_, err := s.GetData(ctx, "beep", time.Second, 4)
			_, err2 := s.StreamFile(ctx, "beep", "")
			return []string{outcome(nil, err), outcome(nil, err2), fmt.Sprint(s.Hungup())}
		}, want: []string{"prompt error beep", "prompt error beep", "false"}},
	{name: "AGIEXITONHANGUP=yes", call: agiclient.Call{ExitOnHangup: true, HangupAtStep: 1},
		handler: getDataThenVerbose, want: []string{"hangup", "hangup", "hangup", "hung up true cause agi: channel hung up"}},

	// Error replies.
	{name: "510", call: agiclient.Call{Faults: []agiclient.Fault{{Step: 1, Kind: agiclient.Reply510}}}, handler: noopTwice, want: []string{"command error 510 (hangup=false)", "ok"}},
	{name: "520", call: agiclient.Call{Faults: []agiclient.Fault{{Step: 1, Kind: agiclient.Reply520}}}, handler: noopTwice, want: []string{"command error 520 (hangup=false)", "ok"}},
	{name: "520 multi-line, one write per line", call: agiclient.Call{Faults: []agiclient.Fault{{Step: 1, Kind: agiclient.Reply520Multi}}}, handler: noopTwice, want: []string{"command error 520 (hangup=false)", "ok"}},
	{name: "520 multi-line coalesced", call: agiclient.Call{Faults: []agiclient.Fault{{Step: 1, Kind: agiclient.Reply520Multi}, {Step: 1, Kind: agiclient.CoalesceReply}}}, handler: noopTwice, want: []string{"command error 520 (hangup=false)", "ok"}},
	{name: "520 multi-line split per byte", call: agiclient.Call{Faults: []agiclient.Fault{{Step: 1, Kind: agiclient.Reply520Multi}, {Step: 1, Kind: agiclient.SplitReply}}}, handler: noopTwice, want: []string{"command error 520 (hangup=false)", "ok"}},
	{name: "511 marks the channel dead", call: agiclient.Call{Faults: []agiclient.Fault{{Step: 1, Kind: agiclient.Reply511}}},
		handler: func(ctx context.Context, s *agi.Session, r *agi.Request) []string {
			return []string{outcome(nil, s.Answer(ctx)), fmt.Sprint(s.Hungup()), outcome(nil, s.Noop(dead(ctx)))}
		}, want: []string{"command error 511 (hangup=true)", "true", "ok"}},
	{name: "Raw after a hangup: a command Asterisk does not know still goes out (510)",
		call: agiclient.Call{Faults: []agiclient.Fault{{Step: 1, Kind: agiclient.HangupBefore}}},
		handler: func(ctx context.Context, s *agi.Session, r *agi.Request) []string {
			out := []string{outcome(nil, s.Answer(ctx))}
			for _, c := range [][]string{
				{"FOO BAR", "baz"},                // unknown: 510, dead channel or not
				{"get", "variable", "X"},          // GET VARIABLE, as Asterisk reads the words: allowed
				{"SAY", "digits 123", "#"},        // "digits 123" is one quoted word: no such command, 510
				{"Stream  File", "beep", ""},      // refused with 511: not sent
				{"GOSUB", "sub", "s", "1"},        // refused with 511: not sent
				{"database", "deltree", "fam"},    // allowed
				{"SPEECH", "RECOGNIZE", "x", "1"}, // refused with 511: not sent
			} {
				rep, err := s.Raw(dead(ctx), c[0], c[1:]...)
				out = append(out, outcome(rep.Result, err))
			}
			return out
		},
		want: []string{"command error 511 (hangup=true)", "command error 510 (hangup=false)", "0",
			"command error 510 (hangup=false)", "hangup", "hangup", "1", "hangup"},
		check: func(t *testing.T, tr *agiclient.Transcript) {
			want := []string{"ANSWER", "FOO BAR baz", "get variable X", `SAY "digits 123" #`, "database deltree fam"}
			if !slices.Equal(tr.Lines(), want) {
				t.Errorf("lines sent %q, want %q", tr.Lines(), want)
			}
		}},
	{name: "connection closed instead of a reply", call: agiclient.Call{Faults: []agiclient.Fault{{Step: 1, Kind: agiclient.CloseConn}}}, handler: noopTwice, want: []string{"hangup", "hangup"}},

	// 1xx lines.
	{name: "100 Trying before a reply", call: agiclient.Call{Faults: []agiclient.Fault{{Step: 1, Kind: agiclient.Trying}}}, handler: noopTwice, want: []string{"ok", "ok"}},
	{name: "gosub", call: agiclient.Call{},
		handler: func(ctx context.Context, s *agi.Session, r *agi.Request) []string {
			return []string{outcome(nil, s.Gosub(ctx, "sub", "s", "1", "a b", "c"))}
		}, want: []string{"ok"},
		check: func(t *testing.T, tr *agiclient.Transcript) {
			if got := tr.Steps[0].Command.Args; !slices.Equal(got, []string{"sub", "s", "1", "a b,c"}) {
				t.Errorf("GOSUB args %q", got)
			}
		}},
	{name: "gosub coalesced", call: agiclient.Call{Faults: []agiclient.Fault{{Step: 1, Kind: agiclient.CoalesceReply}}},
		handler: func(ctx context.Context, s *agi.Session, r *agi.Request) []string {
			return []string{outcome(nil, s.Gosub(ctx, "sub", "s", "1")), outcome(nil, s.Noop(ctx))}
		}, want: []string{"ok", "ok"}},
	{name: "gosub label not found", call: agiclient.Call{Responder: func(c agiclient.Command) agiclient.Reply {
		if c.Name == "GOSUB" {
			return agiclient.Reply{Raw: "100 result=0 Trying...\n200 result=-1 Gosub label not found\n"}
		}
		return agiclient.Reply{}
	}}, handler: func(ctx context.Context, s *agi.Session, r *agi.Request) []string {
		return []string{outcome(nil, s.Gosub(ctx, "sub", "nowhere", "1")), fmt.Sprint(s.Hungup())}
	}, want: []string{"command error 200 (hangup=false)", "false"}},

	// Slow replies and contexts: never a second command before a reply.
	{name: "ctx ends before a slow reply", call: agiclient.Call{Variables: map[string]string{"X": "1"}, Faults: []agiclient.Fault{{Step: 1, Kind: agiclient.SlowReply, Delay: 80 * time.Millisecond}}},
		handler: func(ctx context.Context, s *agi.Session, r *agi.Request) []string {
			short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
			defer cancel()
			_, _, err := s.GetVariable(short, "X")
			v, ok, err2 := s.GetVariable(ctx, "X")
			return []string{outcome(nil, err), outcome(fmt.Sprintf("%v %v", v, ok), err2)}
		}, want: []string{"error: context deadline exceeded", "1 true"},
		check: func(t *testing.T, tr *agiclient.Transcript) {
			if len(tr.Steps) != 2 || tr.Steps[1].Received.Before(tr.Steps[0].Replied) {
				t.Errorf("the second command arrived before the first reply")
			}
		}, timed: true},

	{name: "commands after pauses of the handler", call: agiclient.Call{Keys: []string{"12#"}, Variables: map[string]string{"X": "1"}, Faults: []agiclient.Fault{{Step: 2, Kind: agiclient.SlowReply, Delay: 40 * time.Millisecond}}},
		handler: func(ctx context.Context, s *agi.Session, r *agi.Request) []string {
			time.Sleep(30 * time.Millisecond) // the idle reader starts, and the command stops it
			in, err := s.GetData(ctx, "beep", time.Second, 4)
			short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
			_, _, err2 := s.GetVariable(short, "X")
			cancel()
			time.Sleep(60 * time.Millisecond) // the idle reader takes the abandoned reply
			v, ok, err3 := s.GetVariable(ctx, "X")
			return []string{outcome(in, err), outcome(nil, err2), outcome(fmt.Sprintf("%v %v", v, ok), err3), fmt.Sprint(s.Hungup())}
		}, want: []string{`digits "12" timeout false`, "error: context deadline exceeded", "1 true", "false"}, timed: true},

	// Keys during playback come as ASCII codes.
	{name: "stream file interrupted", call: agiclient.Call{Keys: []string{"5"}},
		handler: func(ctx context.Context, s *agi.Session, r *agi.Request) []string {
			return []string{outcome(s.StreamFile(ctx, "menu", "#5"))}
		}, want: []string{`key '5' endpos 8000`}},
	{name: "wait for digit and say digits", call: agiclient.Call{Keys: []string{"7", "9", ""}},
		handler: func(ctx context.Context, s *agi.Session, r *agi.Request) []string {
			k, err := s.WaitForDigit(ctx, 5*time.Second)
			p, err2 := s.SayDigits(ctx, "12345", "9")
			k3, err3 := s.WaitForDigit(ctx, time.Second)
			return []string{outcome(k, err), outcome(p, err2), outcome(k3, err3)}
		}, want: []string{"key '7'", "key '9' endpos 0", "key '\\x00'"}},

	// Recording.
	{name: "record dtmf then hangup", call: agiclient.Call{Records: []agiclient.Record{{Reason: "dtmf", Key: '#', EndPos: 25615}, {Reason: "hangup", EndPos: 8000}}},
		handler: func(ctx context.Context, s *agi.Session, r *agi.Request) []string {
			o := agi.RecordOptions{Path: "/tmp/x", Format: "wav", EscapeDigits: "#", MaxDuration: time.Minute, Silence: 1500 * time.Millisecond, Beep: true}
			a, err := s.RecordFile(ctx, o)
			b, err2 := s.RecordFile(ctx, o)
			return []string{outcome(a, err), outcome(b, err2), fmt.Sprintf("%+v", b)}
		}, want: []string{"{Reason:dtmf Key:35 EndPos:25615 Duration:3.201875s}", "hangup", "{Reason:hangup Key:0 EndPos:8000 Duration:1s}"},
		check: func(t *testing.T, tr *agiclient.Transcript) {
			if got := tr.Steps[0].Command.Args; !slices.Equal(got, []string{"/tmp/x", "wav", "#", "60000", "0", "BEEP", "s=2"}) {
				t.Errorf("RECORD FILE args %q", got)
			}
		}},

	// Variables, quoting and injection.
	{name: "variables with spaces, quotes and parentheses", call: agiclient.Call{},
		handler: func(ctx context.Context, s *agi.Session, r *agi.Request) []string {
			var out []string
			for _, v := range []string{"a) b (c)", `say "hi" \ bye`, "", "\ttab"} {
				out = append(out, outcome(nil, s.SetVariable(ctx, "X", v)))
				got, ok, err := s.GetVariable(ctx, "X")
				out = append(out, outcome(fmt.Sprintf("%q %v", got, ok), err))
			}
			return out
		}, want: []string{"ok", `"a) b (c)" true`, "ok", `"say \"hi\" \\ bye" true`, "ok", `"" true`, "ok", `"\ttab" true`}},
	{name: "CR or LF in an argument never reaches Asterisk", call: agiclient.Call{},
		handler: func(ctx context.Context, s *agi.Session, r *agi.Request) []string {
			return []string{
				fmt.Sprint(errors.Is(s.SetVariable(ctx, "X", "1\nHANGUP"), agi.ErrBadArgument)),
				fmt.Sprint(errors.Is(s.Verbose(ctx, "a\rb", 1), agi.ErrBadArgument)),
				fmt.Sprint(errors.Is(func() error { _, err := s.Raw(ctx, "NOOP\nHANGUP"); return err }(), agi.ErrBadArgument)),
				outcome(nil, s.Noop(ctx)),
			}
		}, want: []string{"true", "true", "true", "ok"},
		check: func(t *testing.T, tr *agiclient.Transcript) {
			if want := []string{"NOOP"}; !slices.Equal(tr.Lines(), want) {
				t.Errorf("lines sent %q, want %q", tr.Lines(), want)
			}
		}},
	{name: "database", call: agiclient.Call{},
		handler: func(ctx context.Context, s *agi.Session, r *agi.Request) []string {
			e1 := s.DatabasePut(ctx, "fam", "key", "v 1")
			v, ok, e2 := s.DatabaseGet(ctx, "fam", "key")
			e3 := s.DatabaseDel(ctx, "fam", "key")
			_, ok2, e4 := s.DatabaseGet(ctx, "fam", "key")
			e5 := s.DatabaseDel(ctx, "fam", "key")
			return []string{outcome(nil, e1), outcome(fmt.Sprintf("%v %v", v, ok), e2), outcome(nil, e3), outcome(fmt.Sprint(ok2), e4), outcome(nil, e5)}
		}, want: []string{"ok", "v 1 true", "ok", "false", "command error 200 (hangup=false)"}},
}

func getDataThenVerbose(ctx context.Context, s *agi.Session, r *agi.Request) []string {
	_, err := s.GetData(ctx, "beep", 3*time.Second, 4)
	out := []string{outcome(nil, err), outcome(nil, s.Verbose(dead(ctx), "after", 1))}
	_, err = s.StreamFile(dead(ctx), "beep", "")
	return append(out, outcome(nil, err), fmt.Sprintf("hung up %v cause %v", s.Hungup(), context.Cause(r.Context())))
}

func noopTwice(ctx context.Context, s *agi.Session, r *agi.Request) []string {
	return []string{outcome(nil, s.Noop(ctx)), outcome(nil, s.Noop(dead(ctx)))}
}

// TestProtocolCases drives the server over TCP through the cases of the
// protocol notes, with the faults injected by the client.
func TestProtocolCases(t *testing.T) {
	for _, tc := range protocolCases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.timed {
				synctest.Test(t, tc.runInMemory)
				return
			}
			t.Parallel()
			got := make(chan []string, 1)
			srv := agitest.NewServer(tc.serve(got))
			defer srv.Close()
			tc.verify(t, srv.Run(t, tc.call), got)
		})
	}
}

// serve returns the handler of the case, which sends its outcomes on got.
func (tc *protocolCase) serve(got chan<- []string) agi.Handler {
	return agi.HandlerFunc(func(s *agi.Session, r *agi.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		got <- tc.handler(ctx, s, r)
	})
}

// verify compares the handler's outcomes and the transcript with the case.
func (tc *protocolCase) verify(t *testing.T, tr *agiclient.Transcript, got <-chan []string) {
	t.Helper()
	if out := <-got; !slices.Equal(out, tc.want) {
		t.Errorf("outcomes\n got %q\nwant %q\ntranscript:\n%s", out, tc.want, tr)
	}
	if tc.check != nil {
		tc.check(t, tr)
	}
}

// runInMemory plays the case over an in-memory connection, for a synctest
// bubble: the pauses of the handler and the caller then take fake time, and
// their order is the one the case is written for.
func (tc *protocolCase) runInMemory(t *testing.T) {
	got := make(chan []string, 1)
	m := serveInMemory(&agi.Server{Handler: tc.serve(got)})
	defer m.stop(t)
	tr, err := m.run(tc.call)
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	tc.verify(t, tr, got)
}

// A memServer serves an agi.Server on in-memory connections that buffer as
// sockets do (agi.MemPipe), for tests in a synctest bubble.
type memServer struct {
	srv    *agi.Server
	l      *agiclient.Listener
	served chan error
}

// serveInMemory starts serving srv.
func serveInMemory(srv *agi.Server) *memServer {
	m := &memServer{srv: srv, l: agiclient.NewListener(), served: make(chan error, 1)}
	go func() { m.served <- srv.Serve(m.l) }()
	return m
}

// run plays c on a new connection to the server.
func (m *memServer) run(c agiclient.Call) (*agiclient.Transcript, error) {
	client, server := agi.MemPipe()
	if err := m.l.Hand(context.Background(), server); err != nil {
		return nil, err
	}
	return c.RunConn(context.Background(), client, "pipe")
}

// stop shuts the server down and waits for Serve to return.
func (m *memServer) stop(t *testing.T) {
	t.Helper()
	m.srv.Shutdown(context.Background())
	if err := <-m.served; err != agi.ErrServerClosed {
		t.Errorf("Serve returned %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for a logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSecretInputIsMasked(t *testing.T) {
	var logs syncBuffer
	got := make(chan agi.Input, 1)
	srv := agitest.NewUnstartedServer(agi.HandlerFunc(func(s *agi.Session, r *agi.Request) {
		in, _ := s.GetSecretData(r.Context(), "enter-pin", 5*time.Second, 4)
		s.Verbose(r.Context(), "done", 1)
		got <- in
	}))
	srv.Config.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv.Start()
	defer srv.Close()
	srv.Run(t, agiclient.Call{Keys: []string{"9876"}})
	in := <-got
	srv.Close()
	if in.Digits != "9876" || !in.Secret {
		t.Fatalf("input %+v", in)
	}
	if in.String() == "9876" || strings.Contains(fmt.Sprint(in), "9876") {
		t.Errorf("String shows the PIN: %v", in)
	}
	var rec syncBuffer
	slog.New(slog.NewJSONHandler(&rec, nil)).Info("input", "in", in)
	if strings.Contains(rec.String(), "9876") {
		t.Errorf("LogValue shows the PIN: %s", rec.String())
	}
	out := logs.String()
	if strings.Contains(out, "9876") {
		t.Errorf("the protocol log shows the PIN:\n%s", out)
	}
	for _, want := range []string{"AGI Tx >>", "GET DATA enter-pin 5000 4", "AGI Rx <<", "VERBOSE done 1", "200 result=1"} {
		if !strings.Contains(out, want) {
			t.Errorf("the protocol log lacks %q:\n%s", want, out)
		}
	}
}
