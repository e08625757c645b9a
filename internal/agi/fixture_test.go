package agi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
)

const fixtureDir = "testdata/asterisk-22.10.1"

// A fixture is one captured conversation with Asterisk 22.10.1.
type fixture struct {
	name     string
	raw      []byte     // the whole stream from Asterisk
	env      []byte     // the environment block, its empty line included
	cmds     []string   // the command lines the capturing server sent
	groups   [][]string // per command: the lines Asterisk sent up to and including its reply; nil when it never replied
	trailing []string   // the lines after the last reply (HANGUP lines when the script ended)
}

func fixtureNames(t testing.TB) []string {
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.from-asterisk.raw"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in %s: %v", fixtureDir, err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".from-asterisk.raw"))
	}
	return names
}

func loadFixture(t testing.TB, name string) fixture {
	from, err := os.ReadFile(filepath.Join(fixtureDir, name+".from-asterisk.raw"))
	if err != nil {
		t.Fatal(err)
	}
	to, err := os.ReadFile(filepath.Join(fixtureDir, name+".to-asterisk.raw"))
	if err != nil {
		t.Fatal(err)
	}
	f := fixture{name: name, raw: from}
	i := bytes.Index(from, []byte("\n\n"))
	f.env = from[:i+2]
	var d demux
	var group []string
	for _, line := range strings.SplitAfter(string(from[i+2:]), "\n") {
		if line == "" {
			continue
		}
		group = append(group, line)
		if kind, _, _ := d.feed([]byte(strings.TrimSuffix(line, "\n"))); kind == lineReply {
			f.groups = append(f.groups, group)
			group = nil
		}
	}
	f.trailing = group
	f.cmds = strings.SplitAfter(string(to), "\n")
	f.cmds = f.cmds[:len(f.cmds)-1]
	for i := range f.cmds {
		f.cmds[i] = strings.TrimSuffix(f.cmds[i], "\n")
	}
	// A command Asterisk read but never answered (one aborted by the next)
	// has no group: the replies belong to the commands after it.
	for i, ok := range answered(t, name) {
		if !ok && i <= len(f.groups) {
			f.groups = slices.Insert(f.groups, i, nil)
		}
	}
	return f
}

// answered reads Asterisk's own log of a capture (its "AGI Rx <<" and
// "AGI Tx >>" lines) and reports for each command it read whether it wrote a
// reply before it read the next command.
func answered(t testing.TB, name string) []bool {
	log, err := os.ReadFile(filepath.Join(fixtureDir, name+".agi-debug.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var out []bool
	for _, line := range strings.Split(string(log), "\n") {
		switch _, tx, _ := strings.Cut(line, "AGI Tx >> "); {
		case strings.Contains(line, "AGI Rx << "):
			out = append(out, false)
		case len(out) > 0 && strings.Contains(line, "AGI Tx >> ") && tx != "HANGUP":
			out[len(out)-1] = true
		}
	}
	return out
}

// replied reports whether Asterisk answered captured command i.
func (f fixture) replied(i int) bool { return i >= len(f.groups) || f.groups[i] != nil }

// streamEvents reads a stream from Asterisk as the server does (environment,
// then replies and HANGUP lines) and describes what it saw.
func streamEvents(r io.Reader) []string {
	lr := newLineReader(r, 16, 0)
	var scratch []byte
	req, err := readEnv(lr, &scratch, 0)
	if err != nil {
		return []string{"env error: " + err.Error()}
	}
	out := []string{fmt.Sprintf("env %d keys, script %q, args %q", len(envMap(req)), req.Script, req.Args)}
	var d demux
	for {
		line, err := lr.readLine()
		if err != nil {
			return append(out, "end: "+err.Error())
		}
		kind, reply, err := d.feed(line)
		switch {
		case err != nil:
			return append(out, "error: "+err.Error())
		case kind == lineHangup:
			out = append(out, "HANGUP")
		case kind == lineReply:
			r, err := ParseReply("X", string(reply))
			out = append(out, fmt.Sprintf("reply %+v %v", r, err))
		}
	}
}

// splitReader returns the stream in reads that end at the given offsets.
type splitReader struct {
	data []byte
	cuts []int
	off  int
}

func (s *splitReader) Read(p []byte) (int, error) {
	if s.off == len(s.data) {
		return 0, io.EOF
	}
	end := len(s.data)
	for _, c := range s.cuts {
		if c > s.off {
			end = min(end, c)
			break
		}
	}
	n := copy(p, s.data[s.off:end])
	s.off += n
	return n, nil
}

// TestFixtureStreamSplitAtEveryByte cuts every captured stream at every
// byte boundary, and into single bytes, and checks that the server reads the
// same environment, replies and HANGUP lines.
func TestFixtureStreamSplitAtEveryByte(t *testing.T) {
	for _, name := range fixtureNames(t) {
		f := loadFixture(t, name)
		want := streamEvents(bytes.NewReader(f.raw))
		if len(want) < 3 || strings.HasPrefix(want[len(want)-1], "error") {
			t.Fatalf("%s: whole stream read as %q", name, want)
		}
		for k := 1; k < len(f.raw); k++ {
			got := streamEvents(&splitReader{data: f.raw, cuts: []int{k}})
			if !slices.Equal(got, want) {
				t.Fatalf("%s split at byte %d:\n got %q\nwant %q", name, k, got, want)
			}
		}
		if got := streamEvents(iotest.OneByteReader(bytes.NewReader(f.raw))); !slices.Equal(got, want) {
			t.Fatalf("%s one byte at a time:\n got %q\nwant %q", name, got, want)
		}
	}
}

// Ways the replaying Asterisk writes each group of lines.
type writeMode int

const (
	writeGroup writeMode = iota // one write per reply, HANGUP lines included (coalesced)
	writeLines                  // one write per line, 1ms apart
	writeBytes                  // one write per byte
)

func (m writeMode) String() string { return [...]string{"coalesced", "per-line", "per-byte"}[m] }

func writeChunks(w io.Writer, lines []string, mode writeMode) error {
	var chunks []string
	switch mode {
	case writeGroup:
		chunks = []string{strings.Join(lines, "")}
	case writeLines:
		chunks = lines
	case writeBytes:
		for _, l := range lines {
			for i := range len(l) {
				chunks = append(chunks, l[i:i+1])
			}
		}
	}
	for i, c := range chunks {
		if i > 0 && mode == writeLines {
			time.Sleep(time.Millisecond)
		}
		if _, err := io.WriteString(w, c); err != nil {
			return err
		}
	}
	return nil
}

// replay plays Asterisk's side of a fixture on conn: it answers each command
// the server sends with the lines Asterisk sent for the same command in the
// capture, skipping captured commands the server did not send. A CHANNEL
// STATUS right after a result=-1 (the server's liveness probe) is answered
// as Asterisk would: 511 when the capture shows the channel dead later on.
// When the capture has no more replies (AGIEXITONHANGUP), it sends the last
// lines and closes.
// It returns the command lines it received.
func replay(conn net.Conn, f fixture, mode writeMode) ([]string, error) {
	defer conn.Close()
	if err := writeChunks(conn, []string{string(f.env)}, mode); err != nil {
		return nil, err
	}
	var got []string
	buf := make([]byte, 0, 512)
	next := 0
	trailingSent := false
	probe := false // the last reply was -1 of a playing command: a CHANNEL STATUS may follow
	one := make([]byte, 1)
	for {
		buf = buf[:0]
		for {
			n, err := conn.Read(one)
			if err != nil {
				if !trailingSent {
					writeChunks(conn, f.trailing, mode)
				}
				return got, nil
			}
			if n == 1 && one[0] == '\n' {
				break
			}
			buf = append(buf, one[:n]...)
		}
		line := string(buf)
		got = append(got, line)
		cmd := agiclient.ParseCommand(line)
		if next >= len(f.groups) {
			// Asterisk left the AGI (AGIEXITONHANGUP): its last lines, then close.
			writeChunks(conn, f.trailing, mode)
			return got, nil
		}
		if cmd.Name == "CHANNEL STATUS" && probe {
			probe = false
			reply := "200 result=6\n"
			if f.deadAfter(next) {
				reply = "511 Command Not Permitted on a dead channel or intercept routine\n"
			}
			writeChunks(conn, []string{reply}, mode)
			continue
		}
		j := next
		for j < len(f.cmds) && !sameCommand(agiclient.ParseCommand(f.cmds[j]), cmd) {
			j++
		}
		if j == len(f.cmds) {
			return got, fmt.Errorf("command %q is not in the capture after step %d", line, next)
		}
		next = j + 1
		if j >= len(f.groups) {
			writeChunks(conn, f.trailing, mode)
			return got, nil
		}
		if f.groups[j] == nil {
			probe = false
			continue // Asterisk never answered it
		}
		last := f.groups[j][len(f.groups[j])-1]
		probe = strings.HasPrefix(last, "200 result=-1") && !strings.Contains(last, "(")
		if err := writeChunks(conn, f.groups[j], mode); err != nil {
			return got, err
		}
	}
}

func sameCommand(a, b agiclient.Command) bool {
	return a.Name == b.Name && slices.Equal(a.Args, b.Args)
}

// deadAfter reports whether the capture shows the channel dead from command i on.
func (f fixture) deadAfter(i int) bool {
	for _, g := range f.groups[min(i, len(f.groups)):] {
		for _, l := range g {
			if l == "HANGUP\n" || strings.HasPrefix(l, "511 ") {
				return true
			}
		}
	}
	return false
}

// runCaptured sends one captured command through the typed Session method
// for it (Raw when its arguments do not fit one) and describes the outcome.
func runCaptured(ctx context.Context, s *Session, line string) string {
	c := agiclient.ParseCommand(line)
	a := c.Args
	arg := func(i int) string {
		if i < len(a) {
			return a[i]
		}
		return ""
	}
	num := func(i int) int {
		n, _ := strconv.Atoi(arg(i))
		return n
	}
	ms := func(i int) time.Duration { return time.Duration(num(i)) * time.Millisecond }
	name := strings.Trim(strconv.Quote(c.Name), `"`) // a CR in a command shows as \r
	describe := func(v any, err error) string {
		if in, ok := v.(Input); ok {
			v = fmt.Sprintf("digits=%q timeout=%v", in.Digits, in.TimedOut)
		}
		switch {
		case err == nil:
			return fmt.Sprintf("%s: %+v", name, v)
		case errors.Is(err, ErrHangup):
			return fmt.Sprintf("%s: hangup (%v)", name, err)
		}
		return fmt.Sprintf("%s: error %v", name, err)
	}
	arity := map[string]int{"GET DATA": 3, "STREAM FILE": 2, "WAIT FOR DIGIT": 1, "SET VARIABLE": 2,
		"RECORD FILE": 4, "DATABASE GET": 2, "GET VARIABLE": 1, "GET FULL VARIABLE": 1, "SAY DIGITS": 2,
		"VERBOSE": 2, "EXEC": 1, "SET CONTEXT": 1, "SET EXTENSION": 1, "SET PRIORITY": 1}
	if n, ok := arity[c.Name]; !c.Known || (ok && len(a) < n) || (c.Name == "WAIT FOR DIGIT" && num(0) == 0) {
		r, err := s.Raw(ctx, c.Name, a...)
		return "RAW " + describe(r.Text, err)
	}
	switch c.Name {
	case "ANSWER":
		return describe(nil, s.Answer(ctx))
	case "HANGUP":
		return describe(nil, s.Hangup(ctx))
	case "NOOP":
		return describe(nil, s.Noop(ctx))
	case "VERBOSE":
		return describe(nil, s.Verbose(ctx, arg(0), num(1)))
	case "GET DATA":
		return describe(s.GetData(ctx, arg(0), ms(1), num(2)))
	case "STREAM FILE":
		return describe(s.StreamFile(ctx, arg(0), arg(1)))
	case "SAY DIGITS":
		return describe(s.SayDigits(ctx, arg(0), arg(1)))
	case "WAIT FOR DIGIT":
		k, err := s.WaitForDigit(ctx, ms(0))
		return describe(strconv.QuoteRune(k), err)
	case "SET VARIABLE":
		return describe(nil, s.SetVariable(ctx, arg(0), arg(1)))
	case "GET VARIABLE":
		v, ok, err := s.GetVariable(ctx, arg(0))
		return describe(fmt.Sprintf("%q %v", v, ok), err)
	case "GET FULL VARIABLE":
		v, ok, err := s.GetFullVariable(ctx, arg(0))
		return describe(fmt.Sprintf("%q %v", v, ok), err)
	case "CHANNEL STATUS":
		return describe(s.ChannelStatus(ctx))
	case "EXEC":
		return describe(s.Exec(ctx, arg(0), a[1:]...))
	case "SET CONTEXT":
		return describe(nil, s.SetContext(ctx, arg(0)))
	case "SET EXTENSION":
		return describe(nil, s.SetExtension(ctx, arg(0)))
	case "SET PRIORITY":
		return describe(nil, s.SetPriority(ctx, arg(0)))
	case "RECORD FILE":
		o := RecordOptions{Path: arg(0), Format: arg(1), EscapeDigits: arg(2), MaxDuration: ms(3)}
		for _, x := range a[4:] {
			switch {
			case strings.HasPrefix(x, "s="):
				n, _ := strconv.Atoi(x[2:])
				o.Silence = time.Duration(n) * time.Second
			case x == "0":
			default:
				o.Beep = true
			}
		}
		return describe(s.RecordFile(ctx, o))
	}
	return "untested command " + c.Name
}
