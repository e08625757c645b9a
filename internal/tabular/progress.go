package tabular

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Progress draws a one-line progress bar for long work, redrawn in place with a
// carriage return. It is safe for concurrent use. A nil *Progress does nothing, so
// callers can pass nil when output is not a terminal or progress is not wanted.
type Progress struct {
	mu      sync.Mutex
	w       io.Writer
	label   string
	total   int64
	done    int64
	started time.Time
	drawn   time.Time
}

// NewProgress starts a bar on w for total units of work (0 when unknown).
func NewProgress(w io.Writer, label string, total int64) *Progress {
	p := &Progress{w: w, label: label, total: total, started: time.Now()}
	p.draw(true)
	return p
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

// Finish draws the final state and ends the line.
func (p *Progress) Finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draw(true)
	fmt.Fprintln(p.w)
}

func (p *Progress) draw(force bool) {
	now := time.Now()
	if !force && now.Sub(p.drawn) < 100*time.Millisecond {
		return
	}
	p.drawn = now
	elapsed := now.Sub(p.started).Round(100 * time.Millisecond)
	if p.total <= 0 {
		fmt.Fprintf(p.w, "\r%s %d done  %s", p.label, p.done, elapsed)
		return
	}
	const width = 30
	frac := float64(p.done) / float64(p.total)
	frac = min(max(frac, 0), 1)
	filled := int(frac * width)
	fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d %3.0f%%  %s", p.label,
		strings.Repeat("=", filled), strings.Repeat(" ", width-filled),
		p.done, p.total, frac*100, elapsed)
}
