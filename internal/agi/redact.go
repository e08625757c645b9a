package agi

import (
	"errors"
	"fmt"
	"strings"
)

// redactSecret hides the keys in a line Asterisk sent in reply to a secret
// input, or after one before the next command: a well-formed reply is masked
// by maskReply, and then in any line, well-formed or not, each run of keys
// (digits, '*', '#') becomes "***". The reply code in front and the failure
// markers "-1" and "(timeout)" stay, so a log still tells a hangup or a
// timeout from an input.
func redactSecret(line string) string {
	line = maskReply(line)
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
		c.Text = redactSecret(c.Text)
		return &c
	case errors.Is(err, errMalformed):
		return fmt.Errorf("%w: %q", errMalformed, redactSecret(text))
	}
	return err
}
