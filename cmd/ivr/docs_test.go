package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ivrhq/ivr/internal/testdb"
)

// A docBlock is a fenced code block of a Markdown page with the HTML comments
// right before its fence:
//
//	<!-- not run: WHY -->           the block is not run by TestDocExamples
//	<!-- env: NAME=VALUE -->        the block runs with this environment variable
//	<!-- file: NAME -->             the block is the content of the file NAME,
//	                                written before the page's commands run
type docBlock struct {
	path   string
	line   int // of the opening fence
	info   string
	lines  []string
	notRun string
	env    map[string]string
	file   string
}

// docMarker matches one of the HTML comments a docBlock reads.
var docMarker = regexp.MustCompile(`^<!--\s*(not run|env|file):\s*(.+?)\s*-->$`)

// docBlocks returns the fenced code blocks of a Markdown page.
func docBlocks(t *testing.T, path string) []docBlock {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []docBlock
	var cur *docBlock
	var marks []string
	indent := ""
	for i, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimLeft(line, " ")
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			cur = &docBlock{path: path, line: i + 1, info: strings.TrimSpace(strings.TrimPrefix(trimmed, "```")), env: map[string]string{}}
			indent = line[:len(line)-len(trimmed)]
			for _, m := range marks {
				g := docMarker.FindStringSubmatch(m)
				switch g[1] {
				case "not run":
					cur.notRun = g[2]
				case "env":
					k, v, _ := strings.Cut(g[2], "=")
					cur.env[k] = v
				case "file":
					cur.file = g[2]
				}
			}
			marks = nil
		case cur != nil && strings.TrimSpace(line) == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, strings.TrimPrefix(line, indent))
		case docMarker.MatchString(strings.TrimSpace(line)):
			marks = append(marks, strings.TrimSpace(line))
		default:
			marks = nil
		}
	}
	return blocks
}

// shellWords are the first words of the lines of a shell example.
var shellWords = []string{"ivr", "go", "make", "docker", "export", "printf", "echo", "git", "bash", "cd"}

// isShell reports whether b is a shell example: a sh block, or one whose
// first line is a command.
func (b docBlock) isShell() bool {
	if b.info == "sh" || b.info == "bash" || b.info == "shell" {
		return true
	}
	if b.info != "" || len(b.lines) == 0 {
		return false
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(b.lines[0], "$ "), " ")
	for _, w := range shellWords {
		if first == w {
			return true
		}
	}
	return false
}

// docCommand is one command of a shell example and the output the page shows
// for it (only in examples whose commands start with "$ ").
type docCommand struct {
	words  []string
	output []string
}

// commands splits b into its commands, joining continued lines.
func (b docBlock) commands(t *testing.T) []docCommand {
	t.Helper()
	prompted := strings.HasPrefix(b.lines[0], "$ ")
	var cmds []docCommand
	var pending string
	for _, line := range b.lines {
		if pending == "" && prompted && !strings.HasPrefix(line, "$ ") {
			if len(cmds) > 0 && (line != "" || len(cmds[len(cmds)-1].output) > 0) {
				cmds[len(cmds)-1].output = append(cmds[len(cmds)-1].output, line)
			}
			continue
		}
		if pending == "" {
			line = strings.TrimPrefix(line, "$ ")
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		if s, ok := strings.CutSuffix(line, "\\"); ok {
			pending += s
			continue
		}
		words, err := shellSplit(pending + line)
		pending = ""
		if err != nil {
			t.Fatalf("%s:%d: %v", b.path, b.line, err)
		}
		cmds = append(cmds, docCommand{words: words})
	}
	for i := range cmds {
		for len(cmds[i].output) > 0 && cmds[i].output[len(cmds[i].output)-1] == "" {
			cmds[i].output = cmds[i].output[:len(cmds[i].output)-1]
		}
	}
	return cmds
}

// shellSplit splits a command line into words the way a POSIX shell does for
// the quoting the docs use: '...', "..." with \" and \\, and a # comment.
func shellSplit(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case c == '#' && !inWord:
			return words, nil
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' in %q", s)
			}
			w.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\' || s[i+1] == '$') {
					i++
				}
				w.WriteByte(s[i])
			}
			if i == len(s) {
				return nil, fmt.Errorf("unterminated \" in %q", s)
			}
			inWord = true
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

// ivrArgs returns the arguments of an ivr command, written as `ivr ...` or `go
// run ./cmd/ivr ...`, and false for any other command.
func ivrArgs(words []string) ([]string, bool) {
	switch {
	case len(words) >= 1 && words[0] == "ivr":
		return words[1:], true
	case len(words) >= 3 && words[0] == "go" && words[1] == "run" && words[2] == "./cmd/ivr":
		return words[3:], true
	}
	return nil, false
}

// docPages are the pages whose shell examples TestDocExamples runs.
func docPages(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"../../README.md"}, pages...)
}

// Every shell example of the README and docs/ either runs as shown, against a
// database of its own (and, for `ivr call`, a server with the demo caller and
// the sample menus), or says in the page why it is not run. Where an example
// shows output after a "$ " command, the command prints those lines, in that
// order; a "..." line stands for lines left out, and uniqueids and timings
// may differ.
func TestDocExamples(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range docPages(t) {
		name := strings.TrimPrefix(page, "../../")
		blocks := docBlocks(t, page)
		var run []docBlock
		unmarked := false
		for _, b := range blocks {
			if !b.isShell() {
				continue
			}
			if b.notRun != "" {
				continue
			}
			for _, c := range b.commands(t) {
				if _, ok := ivrArgs(c.words); !ok && c.words[0] != "export" {
					t.Errorf("%s:%d: %q is not an ivr command: run it here, or say before the block why not (<!-- not run: why -->)",
						name, b.line, strings.Join(c.words, " "))
					unmarked = true
					break
				}
			}
			run = append(run, b)
		}
		if len(run) == 0 || unmarked {
			continue
		}
		t.Run(name, func(t *testing.T) {
			runDocPage(t, repo, blocks, run)
		})
	}
}

// runDocPage runs the shell examples of one page in order, in a directory
// holding copies of the repository's sample files, its deploy directory and
// the page's file blocks.
func runDocPage(t *testing.T, repo string, all, run []docBlock) {
	dir := t.TempDir()
	for _, f := range []string{"menus.yaml", "surveys.yaml", "schedules.yaml", "numbers.yaml"} {
		data, err := os.ReadFile(filepath.Join(repo, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The sounds are only read: an example writing there would fail.
	if err := os.Symlink(filepath.Join(repo, "deploy"), filepath.Join(dir, "deploy")); err != nil {
		t.Fatal(err)
	}
	for _, b := range all {
		if b.file != "" {
			if err := os.WriteFile(filepath.Join(dir, b.file), []byte(strings.Join(b.lines, "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	env := map[string]string{
		"IVR_PIN_KEY":         testPINKey,
		"IVR_CALL_SOUNDS_DIR": filepath.Join(repo, "deploy/asterisk/sounds") + string(filepath.ListSeparator) + "/usr/share/asterisk/sounds",
		// The pages say to set the prompts directory once for the apply commands.
		"IVR_PROMPTS_DIR": promptsDir(t),
	}
	addr := ""
	for _, b := range run {
		for _, c := range b.commands(t) {
			if args, _ := ivrArgs(c.words); len(args) > 0 && (args[0] == "call" || args[0] == "bench") {
				addr, env["DATABASE_URL"] = startCallTarget(t)
				break
			}
		}
	}
	if env["DATABASE_URL"] == "" {
		env["DATABASE_URL"] = testdb.URL(t)
	}
	env["IVR_CALL_ADDR"] = addr
	t.Chdir(dir)

	for _, b := range run {
		benv := map[string]string{}
		for k, v := range env {
			benv[k] = v
		}
		for k, v := range b.env {
			benv[k] = v
		}
		for _, c := range b.commands(t) {
			where := fmt.Sprintf("%s:%d: %s", strings.TrimPrefix(b.path, "../../"), b.line, strings.Join(c.words, " "))
			if c.words[0] == "export" {
				for _, kv := range c.words[1:] {
					k, v, _ := strings.Cut(kv, "=")
					benv[k] = v
				}
				continue
			}
			args, _ := ivrArgs(c.words)
			out := runDocCommand(t, where, args, benv, addr)
			if len(c.output) > 0 {
				want := strings.ReplaceAll(strings.Join(c.output, "\n"), "127.0.0.1:4573", addr)
				if err := matchShown(out, strings.Split(want, "\n")); err != nil {
					t.Errorf("%s: %v\ngot:\n%s", where, err, out)
				}
			}
		}
	}
}

// runDocCommand runs ivr with args, a `> FILE` at their end writing stdout
// to FILE, and the server's address in place of the one the page shows.
func runDocCommand(t *testing.T, where string, args []string, env map[string]string, addr string) string {
	t.Helper()
	args = append([]string(nil), args...)
	redirect := ""
	if n := len(args); n >= 2 && args[n-2] == ">" {
		redirect, args = args[n-1], args[:n-2]
	}
	for i := range args {
		if (args[i] == "--addr" || args[i] == "-addr") && i+1 < len(args) && addr != "" {
			args[i+1] = addr
		}
	}
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	if err != nil {
		t.Errorf("%s: %v\n%s%s", where, err, out.String(), errOut.String())
	}
	if redirect != "" {
		if err := os.WriteFile(redirect, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return ""
	}
	return out.String()
}

// varying matches what differs from one run to the next: uniqueids and the
// time a call took.
var varying = regexp.MustCompile(`\d{10}\.\d+|\(\d+ commands in [^)]*\)`)

// matchShown checks that got holds the lines of want in order: each run of
// lines between "..." lines appears together, the runs in want's order.
func matchShown(got string, want []string) error {
	norm := func(s string) string { return varying.ReplaceAllString(strings.TrimRight(s, " "), "#") }
	gotLines := strings.Split(strings.TrimRight(got, "\n"), "\n")
	for i := range gotLines {
		gotLines[i] = norm(gotLines[i])
	}
	var runs [][]string
	cur := []string{}
	for _, w := range want {
		if strings.TrimSpace(w) == "..." {
			runs = append(runs, cur)
			cur = []string{}
			continue
		}
		cur = append(cur, norm(w))
	}
	runs = append(runs, cur)
	at := 0
	for _, r := range runs {
		if len(r) == 0 {
			continue
		}
		found := false
		for i := at; i+len(r) <= len(gotLines); i++ {
			if equalLines(gotLines[i:i+len(r)], r) {
				at, found = i+len(r), true
				break
			}
		}
		if !found {
			return fmt.Errorf("the output does not show, after what came before:\n%s", strings.Join(r, "\n"))
		}
	}
	return nil
}

func equalLines(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

// mdLink matches the target of a Markdown link.
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// Every relative link of the README and docs/ leads to a file of the
// repository: a reader of a copy of it finds what the link promises.
func TestDocLinksStayInTheRepository(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range docPages(t) {
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllStringSubmatch(string(data), -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			abs, err := filepath.Abs(filepath.Join(filepath.Dir(page), target))
			if err != nil {
				t.Fatal(err)
			}
			if rel, err := filepath.Rel(repo, abs); err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("%s links %s, outside the repository", strings.TrimPrefix(page, "../../"), m[1])
				continue
			}
			if _, err := os.Stat(abs); err != nil {
				t.Errorf("%s links %s, which does not exist", strings.TrimPrefix(page, "../../"), m[1])
			}
		}
	}
}

// The README's requirements name the Go version that go.mod requires.
func TestReadmeNamesTheGoVersion(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if want := "- Go " + string(m[1]) + " or newer"; !strings.Contains(string(readme), want) {
		t.Errorf("the README's requirements do not say %q", want)
	}
}
