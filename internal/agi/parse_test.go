package agi

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
)

func TestParseReply(t *testing.T) {
	tests := []struct {
		line               string
		result, data, attr string // attr: endpos
		code               int    // a *CommandError's code, 0 for a Reply
	}{
		{line: "200 result=0", result: "0"},
		{line: "200 result=1234", result: "1234"},
		{line: "200 result=0123", result: "0123"},
		{line: "200 result=*9", result: "*9"},
		{line: "200 result=", result: ""},
		{line: "200 result= (timeout)", result: "", data: "timeout"},
		{line: "200 result=12 (timeout)", result: "12", data: "timeout"},
		{line: "200 result=-1", result: "-1"},
		{line: "200 result=53 endpos=17760", result: "53", attr: "17760"},
		{line: "200 result=-1 endpos=24160", result: "-1", attr: "24160"},
		{line: "200 result=35 (dtmf) endpos=25615", result: "35", data: "dtmf", attr: "25615"},
		{line: "200 result=-1 (writefile)", result: "-1", data: "writefile"},
		{line: "200 result=1 (bar baz)", result: "1", data: "bar baz"},
		{line: "200 result=1 (a) b (c))", result: "1", data: "a) b (c)"},
		{line: `200 result=1 ("" <+15551230007>)`, result: "1", data: `"" <+15551230007>`},
		{line: "200 result=1 (bar\r)", result: "1", data: "bar\r"},
		{line: "200 result=0 Gosub complete", result: "0"},
		{line: "510 Invalid or unknown command", code: 510},
		{line: "511 Command Not Permitted on a dead channel or intercept routine", code: 511},
		{line: "511 Command Not Permitted on a dead channel", code: 511},
		{line: "520 Invalid command syntax.  Proper usage not available.", code: 520},
		{line: "520-Invalid command syntax.  Proper usage follows:\nExample return code: 200 result=1 (testvariable)\n520 End of proper usage.", code: 520},
		{line: "503 result=-2 Memory allocation failure", code: 503},
	}
	for _, tt := range tests {
		r, err := ParseReply("X", tt.line)
		if tt.code != 0 {
			var ce *CommandError
			if !errors.As(err, &ce) || ce.Code != tt.code || ce.Text != tt.line {
				t.Errorf("ParseReply(%q) = %v, want a CommandError %d", tt.line, err, tt.code)
			}
			if got := errors.Is(err, ErrHangup); got != (tt.code == 511) {
				t.Errorf("ParseReply(%q): errors.Is(ErrHangup) = %v", tt.line, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseReply(%q): %v", tt.line, err)
			continue
		}
		endpos, _ := r.Attr("endpos")
		if r.Code != 200 || r.Result != tt.result || r.Data != tt.data || endpos != tt.attr {
			t.Errorf("ParseReply(%q) = %+v, want result %q data %q endpos %q", tt.line, r, tt.result, tt.data, tt.attr)
		}
	}
	for _, bad := range []string{"", "HANGUP", "20", "2000 result=1", "200 rezult=1", "abc result=1"} {
		if _, err := ParseReply("X", bad); err == nil {
			t.Errorf("ParseReply(%q) accepted a malformed line", bad)
		}
	}
}

func TestParseReplyAllocatesNothing(t *testing.T) {
	for _, line := range []string{"200 result=1234", "200 result=12 (timeout)", "200 result=53 endpos=17760", "200 result=1 (value) x=y"} {
		n := testing.AllocsPerRun(100, func() {
			r, err := ParseReply("GET DATA", line)
			if err != nil || r.Result == "" {
				panic("parse")
			}
			r.Attr("endpos")
		})
		if n != 0 {
			t.Errorf("ParseReply(%q) allocates %v times", line, n)
		}
	}
}

func TestQuoteMatchesAsteriskParseArgs(t *testing.T) {
	for _, s := range []string{"", "plain", "two words", `quote"in`, `back\slash`, "tab\there", `"`, `\`, `\"`, `""`, "ünïcode", "a,b|c", "(x)", "trailing\\"} {
		line := "VERBOSE " + QuoteArg(s) + " 1"
		got := agiclient.ParseArgs(line)
		if len(got) != 3 || got[1] != s || got[2] != "1" {
			t.Errorf("quoting %q as %q parses back as %q", s, line, got)
		}
	}
}

func TestBadArguments(t *testing.T) {
	var c cmdBuf
	for _, s := range []string{"a\nHANGUP", "a\r", "nul\x00"} {
		c.reset("SET VARIABLE")
		c.str("X")
		c.str(s)
		if _, err := c.line(); !errors.Is(err, ErrBadArgument) {
			t.Errorf("argument %q: %v, want ErrBadArgument", s, err)
		}
	}
	c.reset("VERBOSE")
	c.str(strings.Repeat("x", 8200))
	if _, err := c.line(); !errors.Is(err, ErrBadArgument) {
		t.Errorf("an 8 KiB line: %v, want ErrBadArgument", err)
	}
	c.reset("EXEC")
	for range 130 {
		c.str("a")
	}
	if _, err := c.line(); !errors.Is(err, ErrBadArgument) {
		t.Errorf("130 arguments: %v, want ErrBadArgument", err)
	}
	c.reset("GET DATA")
	c.str("beep")
	c.int(3000)
	line, err := c.line()
	if err != nil || string(line) != "GET DATA beep 3000\n" {
		t.Errorf("line = %q, %v", line, err)
	}
}

const envBlock = "agi_network: yes\nagi_network_script: ivr/main?lang=es&x=1\nagi_request: agi://10.0.0.5/ivr/main?lang=es&x=1\n" +
	"agi_channel: PJSIP/100-00000001\nagi_language: en\nagi_type: PJSIP\nagi_uniqueid: 1700000000.1\nagi_version: 22.10.1\n" +
	"agi_callerid: unknown\nagi_calleridname: Alice\nagi_callingpres: 0\nagi_callingani2: 0\nagi_callington: 0\n" +
	"agi_callingtns: 0\nagi_dnid: 500\nagi_rdnis: unknown\nagi_context: default\nagi_extension: 500\nagi_priority: 1\n" +
	"agi_enhanced: 0.0\nagi_accountcode: \nagi_threadid: 139876543\nagi_arg_1: foo\nagi_arg_2: menu=sales\n\n"

func TestParseEnv(t *testing.T) {
	for name, rd := range map[string]io.Reader{
		"one write":          strings.NewReader(envBlock + "200 result=0\n"),
		"one byte at a time": iotest.OneByteReader(strings.NewReader(envBlock + "200 result=0\n")),
	} {
		r, err := ParseEnv(rd, 0, 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r.Script != "ivr/main" || r.Param("lang") != "es" || r.Param("x") != "1" || r.Param("menu") != "sales" ||
			r.Arg(1) != "foo" || r.Arg(3) != "" || r.CallerID != "" || r.CallerIDName != "Alice" || r.RDNIS != "" ||
			r.DNID != "500" || r.DialContext != "default" || r.AccountCode != "" || r.UniqueID != "1700000000.1" ||
			r.Env("agi_callerid") != "unknown" || len(envMap(r)) != 24 {
			t.Errorf("%s: request = %+v", name, r)
		}
		if v, ok := r.LookupEnv("agi_nothere"); ok || v != "" || r.Query().Get("lang") != "es" || r.Query().Get("x") != "1" {
			t.Errorf("%s: LookupEnv = %q %v, Query = %v", name, v, ok, r.Query())
		}
	}
	for _, tt := range []struct {
		in   string
		want error
	}{
		{strings.Repeat("agi_x: y\n", 300) + "\n", ErrEnvTooLong},
		{"agi_x: " + strings.Repeat("y", 9000) + "\n\n", ErrLineTooLong},
		{"no colon here\n\n", ErrEnvSyntax},
		{"agi_network: yes\n", nil},
	} {
		_, err := ParseEnv(strings.NewReader(tt.in), 0, 0)
		if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("ParseEnv(%.30q...) = %v, want %v", tt.in, err, tt.want)
		}
	}
}

// TestCommandTable checks the table of commands against Asterisk's own list
// ("agi show commands", which marks those it runs on a dead channel), and
// how Raw finds the command Asterisk would run in its words and arguments.
func TestCommandTable(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(fixtureDir, "agi-show-commands.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	end := strings.Index(lines[0], "Command") + len("Command")
	for _, l := range lines[1:] {
		name := strings.ToUpper(strings.TrimSpace(l[5:end]))
		fl, ok := commandFlags[name]
		if dead := strings.TrimSpace(l[:5]) == "Yes"; !ok || (fl&deadOK != 0) != dead {
			t.Errorf("%s: in the table %v, allowed on a dead channel %v; Asterisk says %v", name, ok, fl&deadOK != 0, dead)
		}
	}
	if len(commandFlags) != len(lines)-1 {
		t.Errorf("%d commands in the table, Asterisk has %d", len(commandFlags), len(lines)-1)
	}
	for _, tt := range []struct {
		words string
		args  []string
		sent  bool // sent on a dead channel
	}{
		{"GET VARIABLE", []string{"X"}, true},
		{"get", []string{"variable", "X"}, true},
		{"Database  DelTree", []string{"fam"}, true},
		{"STREAM FILE", []string{"beep", ""}, false},
		{"stream", []string{"file", "beep"}, false},
		{"GOSUB", []string{"sub", "s", "1"}, false},
		{"SPEECH", []string{"RECOGNIZE", "x", "1"}, false},
		{"FOO BAR", nil, true},                // unknown: 510
		{"SAY", []string{"digits 123"}, true}, // one quoted word "digits 123": no such command, 510
		{"GET", nil, true},                    // no command is just GET
	} {
		if got := rawFlags(tt.words, tt.args)&deadOK != 0; got != tt.sent {
			t.Errorf("Raw %q %q on a dead channel: sent %v, want %v", tt.words, tt.args, got, tt.sent)
		}
	}
}

func TestServeMux(t *testing.T) {
	m := NewServeMux()
	h := func(name string) HandlerFunc { return func(*Session, *Request) { _ = name } }
	m.Handle("lookup", h("lookup"))
	m.Handle("/ivr/", h("ivr/"))
	m.Handle("ivr/admin/", h("ivr/admin/"))
	m.Handle("ivr", h("ivr"))
	for script, want := range map[string]string{
		"lookup": "lookup", "/lookup": "lookup", "lookup/x": "", "ivr": "ivr", "ivr/main": "ivr/",
		"ivr/admin/x": "ivr/admin/", "other": "", "": "",
	} {
		_, p := m.Handler(&Request{Script: script})
		if p != want {
			t.Errorf("script %q matched %q, want %q", script, p, want)
		}
	}
	m.Handle("/", h("/"))
	if _, p := m.Handler(&Request{Script: "other"}); p != "/" {
		t.Errorf("catch-all matched %q", p)
	}
	for _, dup := range []string{"lookup", "/lookup", "ivr/", "/"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("duplicate pattern %q did not panic", dup)
				}
			}()
			m.Handle(dup, h(dup))
		}()
	}
}

// envMap collects the environment as a map, a key sent twice with its last value.
func envMap(r *Request) map[string]string {
	m := make(map[string]string)
	for k, v := range r.EnvAll() {
		m[k] = v
	}
	return m
}
