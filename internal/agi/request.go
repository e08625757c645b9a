package agi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// A Request is the environment Asterisk sent at the start of a FastAGI call,
// parsed once. Its fields are read-only for handlers; the server owns it.
type Request struct {
	// Script is agi_network_script without its query, such as "ivr/main";
	// empty when the AGI URL had no path.
	Script string
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

	env      string // the environment block: "key: value\n" lines, every line with a ':'
	rawQuery string // the script's query, without '?'
	ctx      context.Context
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

// Env returns the value of an environment key as received, agi_ prefix
// included ("agi_callerid"), with "unknown" kept as Asterisk sent it; "" when
// the key is absent. A key sent twice has its last value.
func (r *Request) Env(key string) string {
	v, _ := r.LookupEnv(key)
	return v
}

// LookupEnv is Env that also reports whether the key was sent.
func (r *Request) LookupEnv(key string) (value string, ok bool) {
	for k, v := range r.EnvAll() {
		if k == key {
			value, ok = v, true
		}
	}
	return value, ok
}

// EnvAll yields every line of the environment block as a key and its value,
// in the order Asterisk sent them.
func (r *Request) EnvAll() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for block := r.env; block != ""; {
			var line string
			line, block, _ = strings.Cut(block, "\n")
			k, v, _ := strings.Cut(line, ":")
			if !yield(k, strings.TrimPrefix(v, " ")) {
				return
			}
		}
	}
}

// Query parses the script's ?query each time it is called, as url.URL.Query
// does, keeping the parameters that parse; it returns an empty Values when
// there is no query.
func (r *Request) Query() url.Values {
	v, _ := url.ParseQuery(r.rawQuery)
	return v
}

// Arg returns agi_arg_i (1-based), or "" when there is no such argument.
func (r *Request) Arg(i int) string {
	if i < 1 || i > len(r.Args) {
		return ""
	}
	return r.Args[i-1]
}

// Param returns a named parameter: from the script's query first (its first
// value, as url.Values.Get), then from the first AGI() argument of the form
// name=value. It returns "" when neither has it.
func (r *Request) Param(name string) string {
	if v, ok := queryParam(r.rawQuery, name); ok {
		return v
	}
	for _, a := range r.Args {
		if k, v, ok := strings.Cut(a, "="); ok && k == name {
			return v
		}
	}
	return ""
}

// queryParam finds the first value of name in a query the way url.ParseQuery
// reads it, without building the map.
func queryParam(query, name string) (string, bool) {
	for query != "" {
		var kv string
		kv, query, _ = strings.Cut(query, "&")
		if kv == "" || strings.Contains(kv, ";") {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, err := url.QueryUnescape(k)
		if err != nil || k != name {
			continue
		}
		if v, err = url.QueryUnescape(v); err == nil {
			return v, true
		}
	}
	return "", false
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
	return parseEnvBlock(string(buf)), nil
}

// parseEnvBlock parses "key: value\n" lines; every line has a ':'.
func parseEnvBlock(block string) *Request {
	r := &Request{env: block}
	var script string
	inOrder := true // agi_arg_N came as 1, 2, 3 ... once each
	for k, v := range r.EnvAll() {
		known := v
		if v == "unknown" {
			known = ""
		}
		switch k {
		case "agi_uniqueid":
			r.UniqueID = known
		case "agi_channel":
			r.Channel = known
		case "agi_language":
			r.Language = known
		case "agi_type":
			r.Type = known
		case "agi_callerid":
			r.CallerID = known
		case "agi_calleridname":
			r.CallerIDName = known
		case "agi_dnid":
			r.DNID = known
		case "agi_rdnis":
			r.RDNIS = known
		case "agi_context":
			r.DialContext = known
		case "agi_extension":
			r.Extension = known
		case "agi_priority":
			r.Priority = known
		case "agi_accountcode":
			r.AccountCode = known
		case "agi_version":
			r.Version = known
		case "agi_threadid":
			r.ThreadID = known
		case "agi_request":
			r.RequestURL = v
		case "agi_network_script":
			script = v
		default:
			if n, ok := strings.CutPrefix(k, "agi_arg_"); ok {
				if inOrder && n == strconv.Itoa(len(r.Args)+1) {
					r.Args = append(r.Args, v)
				} else {
					inOrder = false
				}
			}
		}
	}
	if !inOrder {
		// Gaps, repeats or another order: agi_arg_1 .. up to the first
		// missing one, each with its last value.
		r.Args = r.Args[:0]
		for i := 1; ; i++ {
			v, ok := r.LookupEnv("agi_arg_" + strconv.Itoa(i))
			if !ok {
				break
			}
			r.Args = append(r.Args, v)
		}
	}
	if len(r.Args) == 0 {
		r.Args = nil
	}
	script, query, hasQuery := strings.Cut(script, "?")
	r.Script = script
	if hasQuery {
		r.rawQuery = query
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
	err  error // a read error to return before reading again
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
		if err := l.err; err != nil {
			l.err = nil
			if err == io.EOF && l.w > 0 {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
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

// bufferedLine returns the next line when it is already in the buffer,
// without reading; the slice is valid until the next call.
func (l *lineReader) bufferedLine() ([]byte, bool) {
	i := bytes.IndexByte(l.buf[l.r:l.w], '\n')
	if i < 0 {
		return nil, false
	}
	line, _ := l.readLine()
	return line, true
}
