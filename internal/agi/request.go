package agi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// A Request is the environment Asterisk sent at the start of a FastAGI call,
// parsed once. Its fields are read-only for handlers; the server owns it.
type Request struct {
	// Env holds every key of the environment block as received, agi_ prefix
	// included, with "unknown" kept as Asterisk sent it.
	Env map[string]string
	// Script is agi_network_script without its query, such as "ivr/main";
	// empty when the AGI URL had no path.
	Script string
	// Query holds the parameters of the script's ?query; nil when there are none.
	Query url.Values
	// Args holds agi_arg_1 .. agi_arg_N in order.
	Args []string
	// Pattern is the ServeMux pattern that matched the script, "" before
	// routing or when none matched.
	Pattern string

	// Typed copies of the common keys, with "unknown" turned into "".
	UniqueID     string // agi_uniqueid
	Channel      string // agi_channel
	Language     string // agi_language
	Type         string // agi_type
	CallerID     string // agi_callerid
	CallerIDName string // agi_calleridname
	DNID         string // agi_dnid
	RDNIS        string // agi_rdnis
	DialContext  string // agi_context (the field cannot be called Context: that is the method)
	Extension    string // agi_extension
	Priority     string // agi_priority
	AccountCode  string // agi_accountcode
	Version      string // agi_version
	ThreadID     string // agi_threadid
	RequestURL   string // agi_request, the AGI() URL verbatim

	// RemoteAddr is the address of the Asterisk side of the connection.
	RemoteAddr net.Addr

	ctx context.Context
}

// Context returns the call's context. It is cancelled when Asterisk sends
// HANGUP or a reply shows the channel is gone, when the connection drops, and
// when the server is closed; context.Cause then returns ErrHangup or
// ErrServerClosed. It is never nil for a request the server built.
func (r *Request) Context() context.Context {
	if r.ctx == nil {
		return context.Background()
	}
	return r.ctx
}

// Arg returns agi_arg_i (1-based), or "" when there is no such argument.
func (r *Request) Arg(i int) string {
	if i < 1 || i > len(r.Args) {
		return ""
	}
	return r.Args[i-1]
}

// Param returns a named parameter: from the script's query first, then from
// the first AGI() argument of the form name=value. It returns "" when neither
// has it.
func (r *Request) Param(name string) string {
	if vs, ok := r.Query[name]; ok && len(vs) > 0 {
		return vs[0]
	}
	for _, a := range r.Args {
		if k, v, ok := strings.Cut(a, "="); ok && k == name {
			return v
		}
	}
	return ""
}

// Errors of the environment block. ReadEnv wraps them with the line number.
var (
	ErrEnvTooLong  = errors.New("agi: environment has too many lines")
	ErrLineTooLong = errors.New("agi: line too long")
	ErrEnvSyntax   = errors.New("agi: environment line is not \"key: value\"")
)

// Limits of ParseEnv when the caller passes zero.
const (
	DefaultMaxEnvLines  = 256
	DefaultMaxLineBytes = 8192
)

// ParseEnv reads an environment block from r up to and including its empty
// line and returns the parsed Request, with no context and no remote address.
// It reads at most maxLines lines of at most maxLineBytes bytes each (zero
// means the defaults) and may read past the empty line into its buffer, so
// use it on a reader whose later bytes do not matter, such as a fuzz input.
func ParseEnv(r io.Reader, maxLines, maxLineBytes int) (*Request, error) {
	lr := newLineReader(r, 512, maxLineBytes)
	var scratch []byte
	return readEnv(lr, &scratch, maxLines)
}

// readEnv reads the environment block with lr, collecting it in scratch
// (reused across calls), and parses it. The block's text becomes one string
// that every key and value of the Request shares.
func readEnv(lr *lineReader, scratch *[]byte, maxLines int) (*Request, error) {
	if maxLines <= 0 {
		maxLines = DefaultMaxEnvLines
	}
	buf := (*scratch)[:0]
	n := 0
	for {
		line, err := lr.readLine()
		if err != nil {
			*scratch = buf
			if err == io.EOF && (n > 0 || len(buf) > 0) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("agi: read environment line %d: %w", n+1, err)
		}
		if len(line) == 0 {
			break
		}
		n++
		if n > maxLines {
			*scratch = buf
			return nil, fmt.Errorf("agi: environment line %d: %w", n, ErrEnvTooLong)
		}
		if bytes.IndexByte(line, ':') < 0 {
			*scratch = buf
			return nil, fmt.Errorf("agi: environment line %d: %w", n, ErrEnvSyntax)
		}
		buf = append(append(buf, line...), '\n')
	}
	*scratch = buf
	return parseEnvBlock(string(buf), n), nil
}

// parseEnvBlock parses "key: value\n" lines; every line has a ':'.
func parseEnvBlock(block string, lines int) *Request {
	r := &Request{Env: make(map[string]string, lines)}
	var args int
	for block != "" {
		var line string
		line, block, _ = strings.Cut(block, "\n")
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimPrefix(v, " ")
		r.Env[k] = v
		if strings.HasPrefix(k, "agi_arg_") {
			args++
		}
	}
	known := func(k string) string {
		v := r.Env[k]
		if v == "unknown" {
			return ""
		}
		return v
	}
	r.UniqueID = known("agi_uniqueid")
	r.Channel = known("agi_channel")
	r.Language = known("agi_language")
	r.Type = known("agi_type")
	r.CallerID = known("agi_callerid")
	r.CallerIDName = known("agi_calleridname")
	r.DNID = known("agi_dnid")
	r.RDNIS = known("agi_rdnis")
	r.DialContext = known("agi_context")
	r.Extension = known("agi_extension")
	r.Priority = known("agi_priority")
	r.AccountCode = known("agi_accountcode")
	r.Version = known("agi_version")
	r.ThreadID = known("agi_threadid")
	r.RequestURL = r.Env["agi_request"]
	script, query, hasQuery := strings.Cut(r.Env["agi_network_script"], "?")
	r.Script = script
	if hasQuery && query != "" {
		r.Query, _ = url.ParseQuery(query) // keep what parses, as net/url does
	}
	if args > 0 {
		r.Args = make([]string, 0, args)
		for i := 1; ; i++ {
			v, ok := r.Env["agi_arg_"+strconv.Itoa(i)]
			if !ok {
				break
			}
			r.Args = append(r.Args, v)
		}
	}
	return r
}

// A lineReader reads "\n"-terminated lines into a buffer that starts small and
// grows only when a line does not fit, up to max bytes. It is the one reader
// of a connection for its whole life.
type lineReader struct {
	rd   io.Reader
	buf  []byte
	r, w int
	max  int
}

func newLineReader(rd io.Reader, size, max int) *lineReader {
	if max <= 0 {
		max = DefaultMaxLineBytes
	}
	if size > max {
		size = max
	}
	return &lineReader{rd: rd, buf: make([]byte, size), max: max}
}

// readLine returns the next line without its "\n". The slice is valid until
// the next call.
func (l *lineReader) readLine() ([]byte, error) {
	for {
		if i := bytes.IndexByte(l.buf[l.r:l.w], '\n'); i >= 0 {
			line := l.buf[l.r : l.r+i]
			l.r += i + 1
			if l.r == l.w {
				l.r, l.w = 0, 0
			}
			return line, nil
		}
		if l.r > 0 {
			l.w = copy(l.buf, l.buf[l.r:l.w])
			l.r = 0
		}
		if l.w == len(l.buf) {
			if len(l.buf) >= l.max {
				return nil, ErrLineTooLong
			}
			nb := make([]byte, min(2*len(l.buf), l.max))
			copy(nb, l.buf[:l.w])
			l.buf = nb
		}
		n, err := l.rd.Read(l.buf[l.w:])
		l.w += n
		if n == 0 && err != nil {
			if err == io.EOF && l.w > 0 {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

// buffered returns the bytes read but not yet returned as lines.
func (l *lineReader) buffered() []byte { return l.buf[l.r:l.w] }
