package agi

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrHangup reports that the channel hung up: Asterisk sent HANGUP, a command
// answered result=-1, a command was refused with 511 on the dead channel, or
// Asterisk closed the connection. Commands that Asterisk does not allow on a
// dead channel return it without a round trip once the hangup is known.
var ErrHangup = errors.New("agi: channel hung up")

// A CommandError is a reply that is not a result: 510 (unknown command), 511
// (not permitted on a dead channel), 520 (invalid syntax, with the usage text
// when Asterisk sent the multi-line form), 503, or a command-specific failure
// that Asterisk reports with code 200 (GOSUB's "Gosub label not found").
// A 511 error also matches ErrHangup with errors.Is.
type CommandError struct {
	Code    int    // 510, 511, 520, 503, or 200 for a command-specific failure
	Command string // the command words, such as "GET DATA"
	Text    string // the reply as received; the lines of a multi-line 520 joined by "\n"
}

// Error returns the command and Asterisk's reply text.
func (e *CommandError) Error() string {
	return "agi: " + e.Command + ": " + e.Text
}

// Is reports whether a 511 error is compared with ErrHangup.
func (e *CommandError) Is(target error) bool {
	return target == ErrHangup && e.Code == 511
}

// A PromptError reports that GET DATA, STREAM FILE or another playing command
// answered result=-1 while the channel was still up: Asterisk could not open or
// play the prompt. The session checks the channel (a HANGUP already received,
// or a CHANNEL STATUS probe) before returning it, so it never stands for a
// hangup.
type PromptError struct {
	Prompt string // the file or text that could not be played
}

// Error names the prompt that could not be played.
func (e *PromptError) Error() string {
	return fmt.Sprintf("agi: prompt %q could not be played", e.Prompt)
}

// A Reply is one reply of Asterisk as Session.Raw returns it:
//
//	200 result=1 (value) endpos=1234
//
// The zero value is an empty reply.
type Reply struct {
	Code   int               // 200; other codes come back as *CommandError
	Result string            // the text after "result=", up to the first space; may be empty
	Data   string            // the text in parentheses, up to the last ")" ("timeout", a variable's value)
	Extra  map[string]string // key=value words after the data, such as endpos; nil when there are none
	Text   string            // the whole reply line

	rest string // everything after result and data, for Attr
}

// Attr returns the value of a key=value word of the reply, such as "endpos",
// and whether it was present. It works on every Reply, Extra or not.
func (r Reply) Attr(key string) (string, bool) {
	rest := r.rest
	for rest != "" {
		var w string
		w, rest, _ = strings.Cut(rest, " ")
		if k, v, ok := strings.Cut(w, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// ResultInt returns the result as an integer.
func (r Reply) ResultInt() (int, error) {
	n, err := strconv.Atoi(r.Result)
	if err != nil {
		return 0, fmt.Errorf("agi: result %q is not a number", r.Result)
	}
	return n, nil
}

// fillExtra sets Extra from the key=value words of the reply.
func (r *Reply) fillExtra() {
	rest := r.rest
	for rest != "" {
		var w string
		w, rest, _ = strings.Cut(rest, " ")
		if k, v, ok := strings.Cut(w, "="); ok && k != "" {
			if r.Extra == nil {
				r.Extra = make(map[string]string)
			}
			r.Extra[k] = v
		}
	}
}

// errMalformed reports a line that is not an AGI reply.
var errMalformed = errors.New("agi: malformed reply")

// ParseReply parses one reply line (without its "\n") or the joined lines of a
// multi-line 520. A 200 reply comes back as a Reply whose strings share the
// memory of line, so parsing allocates nothing; any other code comes back as a
// *CommandError with the given command name. A line that is not an AGI reply
// gives an error.
func ParseReply(command, line string) (Reply, error) {
	if len(line) < 3 || !isDigit(line[0]) || !isDigit(line[1]) || !isDigit(line[2]) ||
		(len(line) > 3 && line[3] != ' ' && line[3] != '-') {
		return Reply{}, fmt.Errorf("%w: %q", errMalformed, line)
	}
	code := int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
	if code != 200 {
		return Reply{}, &CommandError{Code: code, Command: command, Text: line}
	}
	r := Reply{Code: 200, Text: line}
	rest, ok := strings.CutPrefix(line[3:], " result=")
	if !ok {
		return Reply{}, fmt.Errorf("%w: %q", errMalformed, line)
	}
	if i := strings.IndexByte(rest, ' '); i >= 0 {
		r.Result, rest = rest[:i], rest[i+1:]
	} else {
		r.Result, rest = rest, ""
	}
	if strings.HasPrefix(rest, "(") {
		// A value may contain ")" (GET VARIABLE), so the data ends at the
		// last one; the words after it are key=value pairs.
		if j := strings.LastIndexByte(rest, ')'); j > 0 {
			r.Data, rest = rest[1:j], strings.TrimPrefix(rest[j+1:], " ")
		}
	}
	r.rest = rest
	return r, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// parseIntPrefix parses a decimal integer (an optional "-" and digits) without
// allocating; ok is false when s is not one.
func parseInt(s string) (n int64, ok bool) {
	neg := false
	if s != "" && s[0] == '-' {
		neg, s = true, s[1:]
	}
	if s == "" || len(s) > 18 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}
