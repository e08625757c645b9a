package agi

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
)

func addFixtureSeeds(f *testing.F, add func(raw []byte)) {
	files, _ := filepath.Glob(filepath.Join(fixtureDir, "*.from-asterisk.raw"))
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		add(raw)
	}
}

// FuzzParseReply checks that any line parses without panicking, and that a
// 200 reply's parts come from the line.
func FuzzParseReply(f *testing.F) {
	addFixtureSeeds(f, func(raw []byte) {
		for _, l := range strings.Split(string(raw), "\n") {
			f.Add(l)
		}
	})
	f.Fuzz(func(t *testing.T, line string) {
		r, err := ParseReply("X", line)
		if err != nil {
			return
		}
		if r.Code != 200 || r.Text != line || !strings.HasPrefix(line, "200 result="+r.Result) ||
			strings.Contains(r.Result, " ") || !strings.Contains(line, r.Data) {
			t.Fatalf("ParseReply(%q) = %+v", line, r)
		}
		r.Attr("endpos")
		r.fillExtra()
	})
}

// FuzzParseEnv checks that any environment block parses without panicking
// within its limits, and that every key and value stays on its line.
func FuzzParseEnv(f *testing.F) {
	f.Add([]byte(envBlock))
	addFixtureSeeds(f, func(raw []byte) { f.Add(raw) })
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseEnv(bytes.NewReader(data), 64, 512)
		if err != nil {
			return
		}
		env := envMap(r)
		if len(env) > 64 {
			t.Fatalf("%d keys over the limit of 64 lines", len(env))
		}
		for k, v := range env {
			if strings.ContainsRune(k, '\n') || strings.ContainsRune(v, '\n') || len(k)+len(v) > 512 {
				t.Fatalf("key %q value %q", k, v)
			}
		}
		for i, a := range r.Args {
			if env["agi_arg_"+strconv.Itoa(i+1)] != a {
				t.Fatalf("arg %d = %q", i+1, a)
			}
		}
		for k, vs := range r.Query() {
			if got := r.Param(k); got != vs[0] {
				t.Fatalf("Param(%q) = %q, Query has %q", k, got, vs)
			}
		}
	})
}

// FuzzStreamSplit checks that a stream from Asterisk reads the same however
// it is cut in two.
func FuzzStreamSplit(f *testing.F) {
	addFixtureSeeds(f, func(raw []byte) { f.Add(raw, uint16(len(raw)/2)) })
	f.Fuzz(func(t *testing.T, raw []byte, cut uint16) {
		want := streamEvents(bytes.NewReader(raw))
		got := streamEvents(&splitReader{data: raw, cuts: []int{int(cut)}})
		if !slices.Equal(got, want) {
			t.Fatalf("cut at %d:\n got %q\nwant %q", cut, got, want)
		}
	})
}

// FuzzQuoteArg checks that every argument the session sends is read back by
// Asterisk's parse_args as the same single argument.
func FuzzQuoteArg(f *testing.F) {
	for _, s := range []string{"", "a b", `"`, `\`, "x\ty", `a\"b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var c cmdBuf
		c.reset("VERBOSE")
		c.str(s)
		c.int(1)
		line, err := c.line()
		if err != nil {
			if !strings.ContainsAny(s, "\r\n\x00") && len(s) < 8000 {
				t.Fatalf("refused %q: %v", s, err)
			}
			return
		}
		got := agiclient.ParseArgs(strings.TrimSuffix(string(line), "\n"))
		if len(got) != 3 || got[1] != s {
			t.Fatalf("%q sent as %q reads back as %q", s, line, got)
		}
	})
}
