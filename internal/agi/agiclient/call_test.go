package agiclient_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
	"github.com/ivrhq/ivr/internal/agi/agitest"
)

// A fakeServer plays the FastAGI server against a Call over net.Pipe, which
// has no buffer: every Read returns bytes of one Write, so a test sees how
// the call cut what it sent.
type fakeServer struct {
	t    *testing.T
	conn net.Conn
	done chan result
	env  []string // the environment lines, without "\n"
}

type result struct {
	tr  *agiclient.Transcript
	err error
}

// dial runs c on a pipe and reads its environment block.
func dial(t *testing.T, c agiclient.Call) *fakeServer {
	t.Helper()
	client, server := net.Pipe()
	s := &fakeServer{t: t, conn: server, done: make(chan result, 1)}
	go func() {
		tr, err := c.RunConn(context.Background(), client, "10.0.0.5:4573")
		s.done <- result{tr, err}
	}()
	br := bufio.NewReader(server)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("environment: %v", err)
		}
		if line == "\n" {
			break
		}
		s.env = append(s.env, strings.TrimSuffix(line, "\n"))
	}
	if br.Buffered() != 0 {
		t.Fatalf("%d bytes after the environment", br.Buffered())
	}
	return s
}

// read returns the bytes of the call's next write.
func (s *fakeServer) read() string {
	s.t.Helper()
	buf := make([]byte, 4096)
	n, err := s.conn.Read(buf)
	if err != nil {
		s.t.Fatalf("read: %v", err)
	}
	return string(buf[:n])
}

// do sends a command and returns the writes that answer it, up to and
// including the one that completes its reply: HANGUP and 1xx lines before
// it, every line of a multi-line 520.
func (s *fakeServer) do(cmd string) []string {
	s.t.Helper()
	if _, err := io.WriteString(s.conn, cmd+"\n"); err != nil {
		s.t.Fatalf("write %q: %v", cmd, err)
	}
	var writes []string
	text := ""
	for !replyComplete(text) {
		w := s.read()
		writes = append(writes, w)
		text += w
	}
	return writes
}

// replyComplete reports whether text ends with a whole reply.
func replyComplete(text string) bool {
	if !strings.HasSuffix(text, "\n") {
		return false
	}
	multi := false
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		switch {
		case multi:
			if strings.HasPrefix(l, "520 ") {
				return true
			}
		case strings.HasPrefix(l, "520-"):
			multi = true
		case l == "HANGUP", strings.HasPrefix(l, "100 "):
		default:
			return true
		}
	}
	return false
}

// envValue returns the value of an environment key the call sent.
func (s *fakeServer) envValue(key string) string {
	for _, l := range s.env {
		if v, ok := strings.CutPrefix(l, key+": "); ok {
			return v
		}
	}
	s.t.Fatalf("no %s in the environment", key)
	return ""
}

// end closes the server's side and returns the call's transcript.
func (s *fakeServer) end() *agiclient.Transcript {
	s.t.Helper()
	s.conn.Close()
	r := <-s.done
	if r.err != nil {
		s.t.Fatalf("Run: %v", r.err)
	}
	return r.tr
}

func TestEnvironment(t *testing.T) {
	c := agiclient.Call{Script: "ivr/main?lang=es", Args: []string{"a b", "x=1"},
		Env: map[string]string{"agi_callerid": "+15551230001", "agi_zz": "last", "agi_aa": "first"}}
	env := c.Environment("10.0.0.5:4573")
	var keys []string
	for _, e := range env {
		keys = append(keys, e.Key)
	}
	want := []string{"agi_network", "agi_network_script", "agi_request", "agi_channel", "agi_language",
		"agi_type", "agi_uniqueid", "agi_version", "agi_callerid", "agi_calleridname", "agi_callingpres",
		"agi_callingani2", "agi_callington", "agi_callingtns", "agi_dnid", "agi_rdnis", "agi_context",
		"agi_extension", "agi_priority", "agi_enhanced", "agi_accountcode", "agi_threadid",
		"agi_arg_1", "agi_arg_2", "agi_aa", "agi_zz"}
	if !slices.Equal(keys, want) {
		t.Errorf("keys\n got %q\nwant %q", keys, want)
	}
	value := func(env []agiclient.EnvVar, key string) string {
		for _, e := range env {
			if e.Key == key {
				return e.Value
			}
		}
		return "(absent)"
	}
	for k, v := range map[string]string{"agi_request": "agi://10.0.0.5:4573/ivr/main?lang=es",
		"agi_network_script": "ivr/main?lang=es", "agi_callerid": "+15551230001", "agi_calleridname": "unknown",
		"agi_accountcode": "", "agi_arg_1": "a b", "agi_arg_2": "x=1", "agi_zz": "last"} {
		if got := value(env, k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if other := (&agiclient.Call{}).Environment("h"); value(other, "agi_uniqueid") == value(env, "agi_uniqueid") ||
		value(other, "agi_network_script") != "(absent)" {
		t.Errorf("a second call: uniqueid %q (first %q), agi_network_script %q",
			value(other, "agi_uniqueid"), value(env, "agi_uniqueid"), value(other, "agi_network_script"))
	}
}

// TestScript plays the scripted caller: keys per input, records, variables,
// missing files and a hangup at an input, as Asterisk answers them.
func TestScript(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := dial(t, agiclient.Call{
			Keys:         []string{"1234#", "12", "", "78901", "#", "5", "5", agiclient.Hangup},
			Records:      []agiclient.Record{{Reason: "dtmf", Key: '#', EndPos: 25615}},
			Variables:    map[string]string{"X": "a)b"},
			MissingFiles: []string{"nosuch"},
		})
		for _, step := range []struct{ cmd, reply string }{
			{"ANSWER", "200 result=0\n"},
			{"GET DATA beep 3000 6", "200 result=1234\n"},
			{"GET DATA beep 3000 6", "200 result=12 (timeout)\n"},
			{"GET DATA beep 3000 6", "200 result= (timeout)\n"},
			{"GET DATA beep 3000 4", "200 result=7890\n"},
			{"GET DATA beep 3000 4", "200 result=\n"},
			{"WAIT FOR DIGIT 3000", "200 result=53\n"},
			{`STREAM FILE beep "#5"`, "200 result=53 endpos=8000\n"},
			{`STREAM FILE nosuch ""`, "200 result=-1 endpos=0\n"},
			{`RECORD FILE /tmp/r wav "#" 3000`, "200 result=35 (dtmf) endpos=25615\n"},
			{`RECORD FILE /tmp/r wav "#" 3000`, "200 result=0 (timeout) endpos=16000\n"},
			{"GET VARIABLE X", "200 result=1 (a)b)\n"},
			{`SET VARIABLE Y "1 2"`, "200 result=1\n"},
			{"GET FULL VARIABLE ${Y}-${X}", "200 result=1 (1 2-a)b)\n"},
			{"GET VARIABLE CHANNEL(linkedid)", "200 result=1 (" + s.envValue("agi_uniqueid") + ")\n"},
			{"DATABASE GET fam key", "200 result=0\n"},
			{"DATABASE PUT fam key v", "200 result=1\n"},
			{"DATABASE GET fam key", "200 result=1 (v)\n"},
			{"GET DATA", "520-Invalid command syntax.  Proper usage follows:\nUsage: GET DATA <replaceable>file</replaceable>\n" +
				"Example return code: 200 result=1 (testvariable)\n520 End of proper usage.\n"},
			{"FOO BAR", "510 Invalid or unknown command\n"},
			{"GET DATA beep 3000 4", "200 result=-1\n"}, // the caller hangs up at this input
			{"VERBOSE x 1", "HANGUP\n200 result=1\n"},
			{`STREAM FILE beep ""`, "511 Command Not Permitted on a dead channel or intercept routine\n"},
			{"FOO BAR", "510 Invalid or unknown command\n"},
		} {
			if got := strings.Join(s.do(step.cmd), ""); got != step.reply {
				t.Errorf("%s: got %q, want %q", step.cmd, got, step.reply)
			}
		}
		tr := s.end()
		if !tr.CallerHungUp || tr.ServerHungUp || tr.Failure {
			t.Errorf("caller hung up %v, server hung up %v, failure %v", tr.CallerHungUp, tr.ServerHungUp, tr.Failure)
		}
		if tr.Variables["Y"] != "1 2" || len(tr.Variables) != 1 {
			t.Errorf("variables set: %q", tr.Variables)
		}
		if tr.HangupLines != 1 { // the server closed instead of half-closing: the last HANGUP could not be sent
			t.Errorf("HANGUP lines %d, want 1", tr.HangupLines)
		}
		keys := []string{}
		for _, st := range tr.Steps {
			if st.Keys != "" {
				keys = append(keys, st.Keys)
			}
		}
		if want := []string{"1234#", "12", "78901", "#", "5", "5", agiclient.Hangup}; !slices.Equal(keys, want) {
			t.Errorf("keys per step %q, want %q", keys, want)
		}
		if st := tr.Steps[20]; !st.Hangup || st.Command.Dead || !tr.Steps[21].Command.Dead {
			t.Errorf("the hangup step: hangup %v dead %v, next dead %v", st.Hangup, st.Command.Dead, tr.Steps[21].Command.Dead)
		}
	})
}

// TestFaults checks each injected fault by how the reply is cut into writes.
func TestFaults(t *testing.T) {
	const dead511 = "511 Command Not Permitted on a dead channel or intercept routine\n"
	for _, tc := range []struct {
		name   string
		kind   agiclient.FaultKind
		cmd    string
		writes []string
		later  []string // writes that follow the reply
	}{
		{"hangup before the reply", agiclient.HangupBefore, "GET DATA beep 3000 4", []string{"HANGUP\n", "200 result=-1\n"}, nil},
		{"hangup in the reply's write", agiclient.HangupWithReply, "GET DATA beep 3000 4", []string{"200 result=-1\nHANGUP\n"}, nil},
		{"hangup after the reply", agiclient.HangupAfterReply, "GET DATA beep 3000 4", []string{"200 result=-1\n"}, []string{"HANGUP\n"}},
		{"hangup before a command that does not wait", agiclient.HangupBefore, "ANSWER", []string{"HANGUP\n", dead511}, nil},
		{"split reply", agiclient.SplitReply, "NOOP", []string{"2", "0", "0", " ", "r", "e", "s", "u", "l", "t", "=", "0", "\n"}, nil},
		{"100 Trying", agiclient.Trying, "NOOP", []string{"100 result=0 Trying...\n", "200 result=0\n"}, nil},
		{"510", agiclient.Reply510, "NOOP", []string{"510 Invalid or unknown command\n"}, nil},
		{"511", agiclient.Reply511, "NOOP", []string{dead511}, nil},
		{"520", agiclient.Reply520, "NOOP", []string{"520 Invalid command syntax.  Proper usage not available.\n"}, nil},
		{"multi-line 520, a write per line", agiclient.Reply520Multi, "NOOP", []string{
			"520-Invalid command syntax.  Proper usage follows:\n", "Usage: NOOP <replaceable>file</replaceable>\n",
			"Example return code: 200 result=1 (testvariable)\n", "520 End of proper usage.\n"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := dial(t, agiclient.Call{Faults: []agiclient.Fault{{Step: 1, Kind: tc.kind}}})
				if got := s.do(tc.cmd); !slices.Equal(got, tc.writes) {
					t.Errorf("writes %q, want %q", got, tc.writes)
				}
				for _, w := range tc.later {
					if got := s.read(); got != w {
						t.Errorf("then %q, want %q", got, w)
					}
				}
				// Faults at step 1 only: the next command gets a plain reply.
				if got := s.do("NOOP"); !slices.Equal(got, []string{"200 result=0\n"}) {
					t.Errorf("the next command: %q", got)
				}
				s.end()
			})
		})
	}
}

func TestFaultsCombined(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := dial(t, agiclient.Call{Faults: []agiclient.Fault{
			{Step: 1, Kind: agiclient.Trying}, {Step: 1, Kind: agiclient.CoalesceReply},
			{Step: 2, Kind: agiclient.SlowReply, Delay: 3 * time.Second},
			{Step: 3, Kind: agiclient.NoReply},
			{Step: 5, Kind: agiclient.CloseConn},
		}})
		if got := s.do("NOOP"); !slices.Equal(got, []string{"100 result=0 Trying...\n200 result=0\n"}) {
			t.Errorf("100 Trying coalesced with the reply: %q", got)
		}
		start := time.Now()
		if got := s.do("NOOP"); !slices.Equal(got, []string{"200 result=0\n"}) || time.Since(start) != 3*time.Second {
			t.Errorf("slow reply: %q after %v", got, time.Since(start))
		}
		io.WriteString(s.conn, "GET DATA beep 5000 4\n") // no reply, as when a second command aborts GET DATA
		if got := s.do("NOOP"); !slices.Equal(got, []string{"200 result=0\n"}) {
			t.Errorf("after the unanswered command: %q", got)
		}
		io.WriteString(s.conn, "NOOP\n")
		if n, err := s.conn.Read(make([]byte, 10)); err != io.EOF {
			t.Errorf("CloseConn: read %d bytes, %v; want EOF", n, err)
		}
		tr := s.end()
		if want := []string{"NOOP", "NOOP", "GET DATA", "NOOP", "NOOP"}; !slices.Equal(tr.Commands(), want) {
			t.Errorf("commands %q, want %q", tr.Commands(), want)
		}
		if tr.Steps[2].Reply != "" || !tr.Steps[2].Replied.IsZero() || tr.Steps[1].Replied.Sub(tr.Steps[1].Received) != 3*time.Second {
			t.Errorf("steps: unanswered %+v, slow %+v", tr.Steps[2], tr.Steps[1])
		}
	})
}

func TestResponder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var seen []agiclient.Command
		s := dial(t, agiclient.Call{Responder: func(c agiclient.Command) agiclient.Reply {
			seen = append(seen, c)
			switch c.Step {
			case 1:
				return agiclient.Reply{Keys: "42#"}
			case 2:
				return agiclient.Reply{Raw: "200 result=7 (custom)\n", Delay: time.Second}
			case 3:
				return agiclient.Reply{Silence: true}
			case 4:
				return agiclient.Reply{Hangup: true}
			}
			return agiclient.Reply{} // the script answers
		}})
		for _, step := range []struct{ cmd, reply string }{
			{"GET DATA beep 3000 4", "200 result=42\n"},
			{"NOOP", "200 result=7 (custom)\n"},
			{"WAIT FOR DIGIT 100", "200 result=0\n"},
			{"GET DATA beep 3000 4", "200 result=-1\n"},
			{"get variable X", "HANGUP\n200 result=0\n"},
		} {
			if got := strings.Join(s.do(step.cmd), ""); got != step.reply {
				t.Errorf("%s: got %q, want %q", step.cmd, got, step.reply)
			}
		}
		s.end()
		last := seen[len(seen)-1]
		if len(seen) != 5 || last.Step != 5 || last.Name != "GET VARIABLE" || !slices.Equal(last.Args, []string{"X"}) ||
			!last.Dead || !last.Known || last.Line != "get variable X" {
			t.Errorf("commands seen: %d, last %+v", len(seen), last)
		}
	})
}

func TestHangupTimers(t *testing.T) {
	t.Run("HangupAfter while the server is idle", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			s := dial(t, agiclient.Call{HangupAfter: 2 * time.Second})
			if got := s.read(); got != "HANGUP\n" || time.Since(start) != 2*time.Second {
				t.Errorf("read %q after %v, want HANGUP after 2s", got, time.Since(start))
			}
			if got := s.do("VERBOSE x 1"); !slices.Equal(got, []string{"200 result=1\n"}) {
				t.Errorf("a dead-channel command after the hangup: %q", got)
			}
			if tr := s.end(); !tr.CallerHungUp {
				t.Errorf("the caller did not hang up")
			}
		})
	})
	t.Run("HangupAtStep during a command that waits", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := dial(t, agiclient.Call{HangupAtStep: 2})
			s.do("ANSWER")
			if got := s.do(`STREAM FILE beep ""`); !slices.Equal(got, []string{"200 result=-1 endpos=0\n"}) {
				t.Errorf("the playback the caller hangs up in: %q", got)
			}
			if got := s.do("ANSWER"); !slices.Equal(got, []string{"HANGUP\n", "511 Command Not Permitted on a dead channel or intercept routine\n"}) {
				t.Errorf("the next command: %q", got)
			}
			s.end()
		})
	})
	t.Run("AGIEXITONHANGUP=yes", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := dial(t, agiclient.Call{HangupAfter: time.Second, ExitOnHangup: true})
			if got := s.read(); got != "HANGUP\n" {
				t.Errorf("read %q, want HANGUP", got)
			}
			if n, err := s.conn.Read(make([]byte, 10)); err != io.EOF {
				t.Errorf("after HANGUP: %d bytes, %v; want EOF", n, err)
			}
			s.end()
		})
	})
	t.Run("AGISIGHUP=no", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := dial(t, agiclient.Call{HangupAtStep: 1, NoHangupLines: true})
			if got := s.do("GET DATA beep 3000 4"); !slices.Equal(got, []string{"200 result=-1\n"}) {
				t.Errorf("GET DATA: %q", got)
			}
			if got := s.do("CHANNEL STATUS"); !slices.Equal(got, []string{"511 Command Not Permitted on a dead channel or intercept routine\n"}) {
				t.Errorf("CHANNEL STATUS: %q (no HANGUP line with AGISIGHUP=no)", got)
			}
			if tr := s.end(); tr.HangupLines != 0 || !tr.CallerHungUp {
				t.Errorf("HANGUP lines %d, caller hung up %v", tr.HangupLines, tr.CallerHungUp)
			}
		})
	})
}

// TestEndOfCall checks the end as Asterisk does it, over TCP: after the
// server's half-close, one last HANGUP (two lines in all for a call that
// hung up, none with AGISIGHUP=no), then EOF.
func TestEndOfCall(t *testing.T) {
	for _, tc := range []struct {
		name string
		call agiclient.Call
		cmds []string
		want string // what follows the last reply
	}{
		{"live channel", agiclient.Call{}, []string{"ANSWER"}, "HANGUP\n"},
		{"the server sends FAILURE", agiclient.Call{}, []string{"FAILURE"}, "HANGUP\n"},
		{"hung up during the last command", agiclient.Call{HangupAtStep: 1}, []string{"GET DATA beep 3000 4"}, "HANGUP\nHANGUP\n"},
		{"the server hung up", agiclient.Call{}, []string{"HANGUP"}, "HANGUP\nHANGUP\n"},
		{"AGISIGHUP=no", agiclient.Call{HangupAtStep: 1, NoHangupLines: true}, []string{"GET DATA beep 3000 4"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			done := make(chan result, 1)
			go func() {
				tr, err := tc.call.Run(context.Background(), l.Addr().String())
				done <- result{tr, err}
			}()
			conn, err := l.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			br := bufio.NewReader(conn)
			for {
				if line, _ := br.ReadString('\n'); line == "\n" {
					break
				}
			}
			for _, cmd := range tc.cmds {
				io.WriteString(conn, cmd+"\n")
				if cmd != "FAILURE" {
					br.ReadString('\n')
				}
			}
			conn.(*net.TCPConn).CloseWrite()
			rest, err := io.ReadAll(br)
			if string(rest) != tc.want || err != nil {
				t.Errorf("after the half-close: %q, %v; want %q", rest, err, tc.want)
			}
			r := <-done
			if r.err != nil || r.tr.HangupLines != strings.Count(tc.want, "HANGUP") || r.tr.End.IsZero() {
				t.Errorf("Run: %v, HANGUP lines %d, end %v", r.err, r.tr.HangupLines, r.tr.End)
			}
			if tc.cmds[0] == "FAILURE" && (!r.tr.Failure || len(r.tr.Steps) != 0) {
				t.Errorf("FAILURE: failure %v, steps %d", r.tr.Failure, len(r.tr.Steps))
			}
			if tc.cmds[0] == "HANGUP" && !r.tr.ServerHungUp {
				t.Errorf("the HANGUP command is not in the transcript")
			}
		})
	}
}

// TestKeysTypedOnAfterAnInterrupt checks that the keys after the one that
// interrupts a playback go to the next input, as a caller who barges in
// types on, and that a key that is not an escape digit interrupts nothing.
func TestKeysTypedOnAfterAnInterrupt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := dial(t, agiclient.Call{Keys: []string{"1234#", "#", "9", "56"}})
		for _, step := range []struct{ cmd, reply string }{
			{"STREAM FILE vm-incorrect 0123456789#", "200 result=49 endpos=8000\n"},
			{`GET DATA "" 3000 5`, "200 result=234\n"},
			{"STREAM FILE pm-invalid-option 12#", "200 result=35 endpos=8000\n"},
			{"STREAM FILE pm-invalid-option 12#", "200 result=0 endpos=16000\n"}, // 9 is dropped
			{"SAY DIGITS 12 0123456789", "200 result=53\n"},
			{"WAIT FOR DIGIT 3000", "200 result=54\n"},
			{"GET DATA beep 3000 4", "200 result= (timeout)\n"},
		} {
			if got := strings.Join(s.do(step.cmd), ""); got != step.reply {
				t.Errorf("%s: got %q, want %q", step.cmd, got, step.reply)
			}
		}
		s.end()
	})
}

// TestOneFilePerCommand: Asterisk passes the file argument of a playing
// command to ast_streamfile whole, so "a&b" names one file that does not
// exist. The reply is the command's failure form, no key is taken, and the
// warning Asterisk logs is kept.
func TestOneFilePerCommand(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := dial(t, agiclient.Call{Keys: []string{"42", "7"}})
		for _, step := range []struct{ cmd, reply string }{
			{"GET DATA vm-incorrect&vm-password 3000 4", "200 result=-1\n"},
			{`STREAM FILE vm-incorrect&vm-password "12"`, "200 result=-1 endpos=0\n"},
			{`STREAM FILE a&b "" 800`, "200 result=-1 endpos=800\n"},
			{`GET OPTION a&b "12" 1000`, "200 result=-1 endpos=0\n"},
			{`CONTROL STREAM FILE a&b ""`, "200 result=-1 endpos=0\n"},
			// The keys were not taken by the failed commands.
			{"GET DATA vm-password 3000 4", "200 result=42 (timeout)\n"},
			{`CONTROL STREAM FILE vm-password "7"`, "200 result=55 endpos=1000\n"},
			{`CONTROL STREAM FILE vm-password ""`, "200 result=0 endpos=-1\n"},
		} {
			if got := strings.Join(s.do(step.cmd), ""); got != step.reply {
				t.Errorf("%s: got %q, want %q", step.cmd, got, step.reply)
			}
		}
		tr := s.end()
		for i, want := range []string{
			"File vm-incorrect&vm-password does not exist in any format",
			"File vm-incorrect&vm-password does not exist in any format",
			"File a&b does not exist in any format",
			"File a&b does not exist in any format",
			"File a&b does not exist in any format",
			"", "", "",
		} {
			if got := tr.Steps[i].Warning; got != want {
				t.Errorf("step %d (%s): warning %q, want %q", i+1, tr.Steps[i].Command.Line, got, want)
			}
		}
		if got := strings.Join(tr.Prompts(), " "); got != "vm-password vm-password vm-password" {
			t.Errorf("Prompts() = %q, want only the files that played", got)
		}
	})
}

// TestSoundSet: with Sounds given, only those files play, looked up in
// Asterisk's order of language folders; a file the call recorded plays too,
// and GET DATA "" reads digits without a prompt.
func TestSoundSet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sounds := agiclient.NewSounds("beep", "es/vm-password", "en/vm-login", "ivr/main-menu")
		s := dial(t, agiclient.Call{Sounds: sounds, Keys: []string{"5", "1234#"},
			Env: map[string]string{"agi_language": "es_MX"}})
		for _, step := range []struct{ cmd, reply string }{
			{`STREAM FILE beep ""`, "200 result=0 endpos=16000\n"},          // no language folder
			{`STREAM FILE vm-password ""`, "200 result=0 endpos=16000\n"},   // es_MX, then es
			{`STREAM FILE vm-login ""`, "200 result=0 endpos=16000\n"},      // the default en last
			{`STREAM FILE ivr/main-menu ""`, "200 result=0 endpos=16000\n"}, // a folder of its own
			{`STREAM FILE es/beep ""`, "200 result=-1 endpos=0\n"},
			{"GET DATA ivr/other-menu 3000 1", "200 result=-1\n"},
			{`GET OPTION nosuch "5"`, "200 result=-1 endpos=0\n"},
			{`CONTROL STREAM FILE nosuch "" 3000 # * 0 0 500`, "200 result=-1 endpos=500\n"},
			{`SET VARIABLE CHANNEL(language) fr`, "200 result=1\n"},
			{`STREAM FILE vm-password ""`, "200 result=-1 endpos=0\n"}, // only in es/
			{`GET DATA "" 3000 1`, "200 result=5\n"},
			{`RECORD FILE /var/spool/asterisk/ivr/m1 wav "#" 3000`, "200 result=0 (timeout) endpos=16000\n"},
			{`STREAM FILE /var/spool/asterisk/ivr/m1 ""`, "200 result=0 endpos=16000\n"},
			{`STREAM FILE /var/spool/asterisk/ivr/m2 ""`, "200 result=-1 endpos=0\n"},
			{"GET DATA beep 3000 4", "200 result=1234\n"},
		} {
			if got := strings.Join(s.do(step.cmd), ""); got != step.reply {
				t.Errorf("%s: got %q, want %q", step.cmd, got, step.reply)
			}
		}
		tr := s.end()
		if w := tr.Steps[5].Warning; w != "File ivr/other-menu does not exist in any format" {
			t.Errorf("warning of a missing prompt: %q", w)
		}
	})
}

// TestRunScripts plays a lookup and then the IVR on one channel: both
// sessions carry the channel's uniqueid and name, a variable the first set is
// there for the second, and the caller's keys go on where they stopped.
func TestRunScripts(t *testing.T) {
	addr, seen := agitest.ScriptServer(t,
		[]string{"SET VARIABLE IVR_CALLER_FOUND 1", "GET DATA beep 3000 2"},
		[]string{"GET VARIABLE IVR_CALLER_FOUND", "GET DATA beep 3000 2", "HANGUP"},
		[]string{"NOOP"},
	)
	call := agiclient.Call{Keys: []string{"12", "34"}, Env: map[string]string{"agi_callerid": "+15555550100"}}
	trs, err := call.RunScripts(context.Background(), addr, "lookup", "ivr?menu=main", "never")
	if err != nil {
		t.Fatal(err)
	}
	if len(trs) != 2 {
		t.Fatalf("%d sessions played, want 2: the server hung the channel up in the second", len(trs))
	}
	first, second := <-seen, <-seen
	for _, key := range []string{"agi_uniqueid", "agi_channel", "agi_callerid"} {
		if a, b := first.Env[key], second.Env[key]; a == "" || a != b {
			t.Errorf("%s: %q in the first session, %q in the second", key, a, b)
		}
	}
	if a, b := first.Env["agi_network_script"], second.Env["agi_network_script"]; a != "lookup" || b != "ivr?menu=main" {
		t.Errorf("scripts %q then %q", a, b)
	}
	if want := []string{"200 result=1", "200 result=12"}; strings.Join(first.Replies, "|") != strings.Join(want, "|") {
		t.Errorf("first session: %q, want %q", first.Replies, want)
	}
	if want := []string{"200 result=1 (1)", "200 result=34", "200 result=1"}; strings.Join(second.Replies, "|") != strings.Join(want, "|") {
		t.Errorf("second session: %q, want %q", second.Replies, want)
	}
	if trs[0].EnvValue("agi_uniqueid") != trs[1].EnvValue("agi_uniqueid") || !trs[1].ServerHungUp {
		t.Errorf("transcripts: uniqueids %q and %q, the second hung up by the server: %v",
			trs[0].EnvValue("agi_uniqueid"), trs[1].EnvValue("agi_uniqueid"), trs[1].ServerHungUp)
	}
}
