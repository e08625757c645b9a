package catalog

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Problem is one mistake in a catalog file, or with Warning set something that
// may go wrong on a call without making the file invalid. Line is 1-based; 0
// means the problem is about the file as a whole.
type Problem struct {
	File    string
	Line    int
	Message string
	Warning bool
}

// String formats p as "file:line: message", or "file:line: warning: message",
// the way compilers do.
func (p Problem) String() string {
	msg := p.Message
	if p.Warning {
		msg = "warning: " + msg
	}
	if p.Line == 0 {
		return fmt.Sprintf("%s: %s", p.File, msg)
	}
	return fmt.Sprintf("%s:%d: %s", p.File, p.Line, msg)
}

// Problems is the error the Parse functions return when a file has mistakes:
// every one found, in the order of their lines.
type Problems []Problem

// Error lists the problems one a line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// report collects problems and warnings for one file.
type report struct {
	file  string
	src   []byte // the file, for hints about its lines
	ps    Problems
	warns Problems
}

func (r *report) add(line int, format string, args ...any) {
	r.ps = append(r.ps, Problem{File: r.file, Line: line, Message: fmt.Sprintf(format, args...)})
}

func (r *report) warn(line int, format string, args ...any) {
	r.warns = append(r.warns, Problem{File: r.file, Line: line, Message: fmt.Sprintf(format, args...), Warning: true})
}

// finish hands the warnings, sorted by line, to warn when it is set, and
// returns the problems sorted by line, or nil when there are none.
func (r *report) finish(warn func(Problem)) error {
	byLine := func(a, b Problem) int { return cmp.Compare(a.Line, b.Line) }
	if warn != nil {
		slices.SortStableFunc(r.warns, byLine)
		for _, w := range r.warns {
			warn(w)
		}
	}
	if len(r.ps) == 0 {
		return nil
	}
	slices.SortStableFunc(r.ps, byLine)
	return withHints(r.src, r.ps)
}

// commentValue matches a line whose value is only a comment: "key: #..." or
// "- #...", where YAML reads no value at all.
var commentValue = regexp.MustCompile(`^\s*(-\s+)?([A-Za-z_][A-Za-z0-9_]*:\s+|-\s+)#`)

// withHints adds to each problem what its line shows of two mistakes YAML
// reports obscurely: a tab in the indentation, and a # that starts a comment
// where a value was meant.
func withHints(src []byte, ps Problems) Problems {
	lines := strings.Split(string(src), "\n")
	for i, p := range ps {
		if p.Line < 1 || p.Line > len(lines) {
			continue
		}
		line := lines[p.Line-1]
		indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		switch {
		case strings.Contains(indent, "\t"):
			ps[i].Message += " (a tab in the indentation: YAML indents with spaces only)"
		case commentValue.MatchString(line):
			ps[i].Message += ` (an unquoted # starts a comment, so there is no value: write "#")`
		}
	}
	return ps
}
