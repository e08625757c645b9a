package agi

import (
	"log/slog"
	"sort"
	"strings"
)

// A Handler serves one FastAGI call. ServeAGI runs on the connection's own
// goroutine and owns the Session until it returns; when it returns the server
// ends the call and closes the connection, and the dialplan continues after
// AGI(). Use r.Context() for work that must stop when the caller hangs up.
type Handler interface {
	ServeAGI(s *Session, r *Request)
}

// HandlerFunc adapts an ordinary function to a Handler.
type HandlerFunc func(s *Session, r *Request)

// ServeAGI calls f(s, r).
func (f HandlerFunc) ServeAGI(s *Session, r *Request) { f(s, r) }

// NotFoundHandler returns a handler for a script no route knows: it logs the
// script name at warning level and ends the call with a "FAILURE" line, so
// the dialplan sees AGISTATUS=FAILURE.
func NotFoundHandler() Handler { return HandlerFunc(notFound) }

func notFound(s *Session, r *Request) {
	s.notFound = true
	s.srv.logger().LogAttrs(r.Context(), slog.LevelWarn, "unknown AGI script",
		slog.String("script", r.Script), slog.String("uniqueid", r.UniqueID),
		slog.String("remote", addrString(r.RemoteAddr)))
	s.fail()
}

// ServeMux routes calls by script path, the part of agi://host/PATH?query
// after the host. A pattern without a trailing slash ("lookup") matches that
// script exactly; one with a trailing slash ("ivr/") matches every script in
// that subtree; "/" matches every script. A leading "/" is optional. The
// longest matching pattern wins, and an exact pattern beats a subtree.
//
// The zero value is not ready; use NewServeMux. A ServeMux is safe for
// concurrent use, but patterns are meant to be registered before serving.
type ServeMux struct {
	exact   map[string]entry
	subtree []entry // longest prefix first
}

type entry struct {
	pattern string
	h       Handler
}

// NewServeMux returns an empty ServeMux.
func NewServeMux() *ServeMux { return &ServeMux{exact: make(map[string]entry)} }

// Handle registers h for pattern. It panics when the pattern is empty, h is
// nil, or the pattern (after its optional leading "/") is already registered.
func (m *ServeMux) Handle(pattern string, h Handler) {
	if pattern == "" {
		panic("agi: empty pattern")
	}
	if h == nil {
		panic("agi: nil handler for pattern " + pattern)
	}
	p := pattern
	if p != "/" {
		p = strings.TrimPrefix(p, "/")
	}
	if _, dup := m.exact[p]; dup {
		panic("agi: multiple registrations for pattern " + p)
	}
	for _, e := range m.subtree {
		if e.pattern == p {
			panic("agi: multiple registrations for pattern " + p)
		}
	}
	if !strings.HasSuffix(p, "/") {
		m.exact[p] = entry{p, h}
		return
	}
	m.subtree = append(m.subtree, entry{p, h})
	sort.SliceStable(m.subtree, func(i, j int) bool { return len(m.subtree[i].pattern) > len(m.subtree[j].pattern) })
}

// HandleFunc registers f for pattern, as Handle does.
func (m *ServeMux) HandleFunc(pattern string, f func(*Session, *Request)) {
	m.Handle(pattern, HandlerFunc(f))
}

// Handler returns the handler for r.Script and the pattern that matched it.
// When nothing matches it returns NotFoundHandler() and "".
func (m *ServeMux) Handler(r *Request) (h Handler, pattern string) {
	script := strings.TrimPrefix(r.Script, "/")
	if e, ok := m.exact[script]; ok {
		return e.h, e.pattern
	}
	for _, e := range m.subtree {
		if e.pattern == "/" || strings.HasPrefix(script, e.pattern) {
			return e.h, e.pattern
		}
	}
	return NotFoundHandler(), ""
}

// ServeAGI sets r.Pattern to the matching pattern and calls its handler.
func (m *ServeMux) ServeAGI(s *Session, r *Request) {
	h, p := m.Handler(r)
	r.Pattern = p
	h.ServeAGI(s, r)
}
