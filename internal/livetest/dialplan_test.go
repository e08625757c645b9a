//go:build asterisk

package livetest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// A dialplan source is a document whose dialplan the calls run: the fenced
// blocks of a Markdown page that hold an extension, or a whole .conf file.
type dialplanSource struct {
	name string // short name, the prefix of its contexts: readme, asterisk-md ...
	path string // relative to the repository
}

// dialplanSources are the documents that show a dialplan.
var dialplanSources = []dialplanSource{
	{"readme", "README.md"},
	{"astmd", "docs/asterisk.md"},
	{"ivrmd", "docs/ivr.md"},
	{"deploy", "deploy/asterisk/extensions.conf"},
}

// section is one [context] of a dialplan.
type section struct {
	name  string
	lines []string
}

// readDialplan returns the contexts of a source. A Markdown block without a
// [context] line becomes a context named after the source and the block's
// number (block1 for the first block). Blocks
// that call hagi:// (they need DNS SRV records) or elide lines ("...") are not
// runnable and are left out.
func readDialplan(repo string, src dialplanSource) ([]section, error) {
	b, err := os.ReadFile(filepath.Join(repo, src.path))
	if err != nil {
		return nil, err
	}
	var blocks []string
	if strings.HasSuffix(src.path, ".md") {
		blocks = fencedDialplans(string(b))
	} else {
		blocks = []string{string(b)}
	}
	var secs []section
	for i, block := range blocks {
		cur := section{name: fmt.Sprintf("block%d", i+1)}
		for line := range strings.Lines(block) {
			line = strings.TrimRight(line, "\r\n")
			if m := contextLine.FindStringSubmatch(line); m != nil {
				if len(cur.lines) > 0 {
					secs = append(secs, cur)
				}
				cur = section{name: m[1]}
				continue
			}
			cur.lines = append(cur.lines, line)
		}
		if len(cur.lines) > 0 {
			secs = append(secs, cur)
		}
	}
	if len(secs) == 0 {
		return nil, fmt.Errorf("%s: no dialplan found", src.path)
	}
	return secs, nil
}

var (
	contextLine = regexp.MustCompile(`^\s*\[([A-Za-z0-9_.-]+)\]\s*$`)
	agiURL      = regexp.MustCompile(`agi://[^/,)]+/`)
)

// fencedDialplans returns the fenced code blocks of a Markdown text that define
// an extension and can run here.
func fencedDialplans(md string) []string {
	var blocks []string
	var cur []string
	in := false
	for line := range strings.Lines(md) {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			if in {
				block := strings.Join(cur, "")
				if strings.Contains(block, "exten =>") && !strings.Contains(block, "hagi://") && !strings.Contains(block, "...") {
					blocks = append(blocks, block)
				}
				cur = nil
			}
			in = !in
			continue
		}
		if in {
			cur = append(cur, line)
		}
	}
	return blocks
}

// dialplanFor returns the contexts of secs renamed with the prefix (the
// server's tag and the document's name, main-readme-), so that each document
// keeps its own [transfers] and every server its own copy, and pointing at
// ivr on addr (host:port): each agi://HOST/ becomes agi://addr/. A reference to
// one of the document's contexts in Goto, GotoIf or Gosub (transfers,operator,1)
// is renamed with it. [general] and [globals] are left out: the kit's own
// extensions.conf has them.
func dialplanFor(secs []section, prefix, addr string) string {
	var names []string
	for _, s := range secs {
		if !kitContext(s.name) {
			names = append(names, regexp.QuoteMeta(s.name))
		}
	}
	// A context name where Goto-like arguments start: after "(", "?" or ":",
	// and followed by the extension.
	ref := regexp.MustCompile(`([(?:])(` + strings.Join(names, "|") + `),`)
	var b strings.Builder
	for _, s := range secs {
		if kitContext(s.name) {
			continue
		}
		fmt.Fprintf(&b, "[%s%s]\n", prefix, s.name)
		for _, l := range s.lines {
			l = agiURL.ReplaceAllString(l, "agi://"+addr+"/")
			if gotoApp.MatchString(l) {
				l = ref.ReplaceAllString(l, "${1}"+prefix+"${2},")
			}
			b.WriteString(l + "\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// gotoApp matches a dialplan line that runs an application naming a context.
var gotoApp = regexp.MustCompile(`(?i)\b(Goto|GotoIf|Gosub|GosubIf)\(`)

// kitContext reports whether the context is one the kit's extensions.conf
// defines itself.
func kitContext(name string) bool { return name == "general" || name == "globals" }
