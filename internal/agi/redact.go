package agi

import (
	"errors"
	"fmt"
	"strings"
)

// redactSecret hides the keys in a line Asterisk sent in reply to a secret
// input (key: a key's ASCII code, as STREAM FILE answers), or after one before
// the next command. A well-formed 200 reply is masked by maskReply, so only its
// result is hidden; in any other line each run of keys (digits, '*', '#')
// becomes "***". The reply code in front and the failure markers "-1" and
// "(timeout)" stay, so a log still tells a hangup or a timeout from an input.
func redactSecret(line string, key bool) string {
	if wellFormedReply(line) {
		return maskReply(line, key)
	}
	var b strings.Builder
	i := 0
	if len(line) >= 3 && isDigit(line[0]) && isDigit(line[1]) && isDigit(line[2]) &&
		(len(line) == 3 || line[3] == ' ' || line[3] == '-') {
		b.WriteString(line[:3])
		i = 3
	}
	for i < len(line) {
		if !isKey(line[i]) {
			b.WriteByte(line[i])
			i++
			continue
		}
		j := i
		for j < len(line) && isKey(line[j]) {
			j++
		}
		if run := line[i:j]; run == "1" && i > 0 && line[i-1] == '-' {
			b.WriteString(run) // result=-1
		} else {
			b.WriteString("***")
		}
		i = j
	}
	return b.String()
}

// wellFormedReply reports whether line is a 200 reply that maskReply masks
// whole: a result of keys, -1 or nothing, then only "(timeout)" and
// "endpos=<samples>".
func wellFormedReply(line string) bool {
	rest, ok := strings.CutPrefix(line, "200 result=")
	if !ok {
		return false
	}
	result, extra, _ := strings.Cut(rest, " ")
	if result != "-1" && strings.IndexFunc(result, func(r rune) bool { return r > 0x7f || !isKey(byte(r)) }) >= 0 {
		return false
	}
	for _, f := range strings.Fields(extra) {
		n, isPos := strings.CutPrefix(f, "endpos=")
		if f != "(timeout)" && (!isPos || n == "" || strings.IndexFunc(n, func(r rune) bool { return r < '0' || r > '9' }) >= 0) {
			return false
		}
	}
	return true
}

// isKey reports whether c is a key a caller can type that GET DATA returns.
func isKey(c byte) bool { return isDigit(c) || c == '*' || c == '#' }

// redactErr returns the error of a reply (text) to a secret input with the
// keys in it hidden: the text of a *CommandError, the line of a malformed
// reply.
func redactErr(err error, text string) error {
	var ce *CommandError
	switch {
	case errors.As(err, &ce):
		c := *ce
		c.Text = redactSecret(c.Text, false)
		return &c
	case errors.Is(err, errMalformed):
		return fmt.Errorf("%w: %q", errMalformed, redactSecret(text, false))
	}
	return err
}
