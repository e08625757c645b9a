package agi

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// ErrBadArgument reports a command argument that cannot be sent: it contains
// CR, LF or NUL (which would end or cut the command line and let caller data
// inject a second command), or the command line would exceed Asterisk's 8192
// bytes or 128 arguments. Nothing is written when it is returned.
var ErrBadArgument = errors.New("agi: argument cannot be sent")

const (
	maxCommandBytes = 8192 // AGI_BUF_LEN, the newline included
	maxCommandArgs  = 128  // MAX_ARGS
)

// A cmdBuf builds one command line in a buffer the session reuses: its own
// space, which holds most command lines, until one needs more. It must not be
// copied once used.
type cmdBuf struct {
	b     []byte
	n     int // arguments so far, command words included
	err   error
	name  string        // the command words, for errors and hooks
	wait  time.Duration // how long the command may wait for the caller, on top of playing prompts; unbounded: no limit
	space [64]byte
}

func (c *cmdBuf) reset(name string) {
	if c.b == nil {
		c.b = c.space[:0]
	}
	c.b = append(c.b[:0], name...)
	c.n = strings.Count(name, " ") + 1
	c.err = nil
	c.name = name
	c.wait = 0
}

// str appends one argument quoted the way Asterisk's parse_args reads it: only
// '"' and '\' are special, and a quoted "" is an empty argument.
func (c *cmdBuf) str(s string) {
	c.b = appendArg(append(c.b, ' '), s)
	c.n++
	if strings.ContainsAny(s, "\r\n\x00") {
		c.err = ErrBadArgument
	}
}

// int appends a decimal argument.
func (c *cmdBuf) int(n int64) {
	c.b = strconv.AppendInt(append(c.b, ' '), n, 10)
	c.n++
}

// ms appends a duration in milliseconds; a negative duration becomes -1
// (Asterisk's "forever").
func (c *cmdBuf) ms(d time.Duration) {
	if d < 0 {
		c.int(-1)
		return
	}
	c.int(d.Milliseconds())
}

// line returns the finished command line with its "\n", or the error that
// keeps it from being sent.
func (c *cmdBuf) line() ([]byte, error) {
	if c.err == nil && (len(c.b)+1 > maxCommandBytes || c.n > maxCommandArgs-1) {
		c.err = ErrBadArgument
	}
	if c.err != nil {
		return nil, c.err
	}
	return append(c.b, '\n'), nil
}

// appendArg appends s as one parse_args argument: bare when it is not empty and
// holds no space, tab, '"' or '\', otherwise in double quotes with '"' and '\'
// escaped by a backslash.
func appendArg(b []byte, s string) []byte {
	if s != "" && !strings.ContainsAny(s, " \t\"\\") {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// QuoteArg returns s quoted as one argument of an AGI command line, the way
// Asterisk's parse_args reads it back. It does not check for CR or LF; the
// Session methods do.
func QuoteArg(s string) string { return string(appendArg(nil, s)) }
