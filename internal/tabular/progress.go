package tabular

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Progress draws a one-line progress bar for long work. On a terminal the bar
// is redrawn in place with a carriage return; on anything else (a pipe, a
// file, a log) nothing is written until Finish writes the final state as one
// line. It is safe for concurrent use. A nil *Progress does nothing, so callers
// can pass nil when progress is not wanted.
type Progress struct {
	mu      sync.Mutex
	w       io.Writer
	tty     bool
	label   string
	total   int64
	done    int64
	started time.Time
	drawn   time.Time
}

// NewProgress starts a bar on w for total units of work (0 when unknown).
func NewProgress(w io.Writer, label string, total int64) *Progress {
	p := &Progress{w: w, tty: isTerminal(w), label: label, total: total, started: time.Now()}
	p.draw(true)
	return p
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Add records n more units done and redraws at most ten times a second.
func (p *Progress) Add(n int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	p.draw(false)
}

// Finish draws the final state and ends the line; where w is not a terminal
// this is the one line written.
func (p *Progress) Finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\n", p.line(time.Now()))
		return
	}
	fmt.Fprintln(p.w, p.line(time.Now()))
}

// draw redraws the bar over the previous one on a terminal, at most ten times
// a second unless force.
func (p *Progress) draw(force bool) {
	now := time.Now()
	if !p.tty || !force && now.Sub(p.drawn) < 100*time.Millisecond {
		return
	}
	p.drawn = now
	fmt.Fprintf(p.w, "\r%s", p.line(now))
}

// line is the state of the bar at now.
func (p *Progress) line(now time.Time) string {
	elapsed := now.Sub(p.started).Round(100 * time.Millisecond)
	if p.total <= 0 {
		return fmt.Sprintf("%s %d done  %s", p.label, p.done, elapsed)
	}
	const width = 30
	frac := float64(p.done) / float64(p.total)
	frac = min(max(frac, 0), 1)
	filled := int(frac * width)
	return fmt.Sprintf("%s [%s%s] %d/%d %3.0f%%  %s", p.label,
		strings.Repeat("=", filled), strings.Repeat(" ", width-filled),
		p.done, p.total, frac*100, elapsed)
}
