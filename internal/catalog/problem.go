package catalog

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Problem is one mistake in a catalog file. Line is 1-based; 0 means the
// mistake is about the file as a whole.
type Problem struct {
	File    string
	Line    int
	Message string
}

// String formats p as "file:line: message", the way compilers do.
func (p Problem) String() string {
	if p.Line == 0 {
		return fmt.Sprintf("%s: %s", p.File, p.Message)
	}
	return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message)
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

// report collects problems for one file.
type report struct {
	file string
	ps   Problems
}

func (r *report) add(line int, format string, args ...any) {
	r.ps = append(r.ps, Problem{File: r.file, Line: line, Message: fmt.Sprintf(format, args...)})
}

// err returns the problems sorted by line, or nil when there are none.
func (r *report) err() error {
	if len(r.ps) == 0 {
		return nil
	}
	slices.SortStableFunc(r.ps, func(a, b Problem) int { return cmp.Compare(a.Line, b.Line) })
	return r.ps
}
