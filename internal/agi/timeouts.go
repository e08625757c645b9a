package agi

import (
	"cmp"
	"strings"
	"time"
)

// quickCommands are the commands Asterisk answers at once: their reply
// timeout is Server.ReplyTimeout.
var quickCommands = map[string]bool{
	"ANSWER": true, "ASYNCAGI BREAK": true, "CHANNEL STATUS": true,
	"DATABASE DEL": true, "DATABASE DELTREE": true, "DATABASE GET": true, "DATABASE PUT": true,
	"GET FULL VARIABLE": true, "GET VARIABLE": true, "HANGUP": true, "NOOP": true,
	"SEND IMAGE": true, "SEND TEXT": true, "SET AUTOHANGUP": true, "SET CALLERID": true,
	"SET CONTEXT": true, "SET EXTENSION": true, "SET MUSIC": true, "SET PRIORITY": true, "SET VARIABLE": true,
	"SPEECH ACTIVATE GRAMMAR": true, "SPEECH CREATE": true, "SPEECH DEACTIVATE GRAMMAR": true,
	"SPEECH DESTROY": true, "SPEECH LOAD GRAMMAR": true, "SPEECH SET": true, "SPEECH UNLOAD GRAMMAR": true,
	"TDD MODE": true, "VERBOSE": true,
}

// unbounded is cmdBuf.wait for a command whose length no argument bounds:
// its reply timeout is Server.CommandTimeout.
const unbounded = -1

// replyTimeout returns the reply timeout of the command in s.cmd: ReplyTimeout
// for a command Asterisk answers at once, CommandTimeout for one that runs
// dialplan or waits without a limit, and otherwise PromptTimeout plus the
// wait its arguments ask for; never more than CommandTimeout.
func (s *Session) replyTimeout() time.Duration {
	srv := s.srv
	limit := cmp.Or(srv.CommandTimeout, DefaultCommandTimeout)
	name := s.cmd.name
	switch {
	case quickCommands[name] || quickCommands[strings.ToUpper(name)]:
		return min(cmp.Or(srv.ReplyTimeout, DefaultReplyTimeout), limit)
	case s.cmd.wait < 0 || s.cmd.wait >= limit || name == "EXEC" || name == "GOSUB":
		return limit
	}
	return min(cmp.Or(srv.PromptTimeout, DefaultPromptTimeout)+s.cmd.wait, limit)
}

// Asterisk's GET DATA defaults (ast_app_getdata_full).
const (
	getDataFirst     = 6 * time.Second
	getDataInter     = 2 * time.Second
	getDataMaxDigits = 1024
)

// getDataWait is how long GET DATA with these arguments may wait for keys:
// the first-key timeout plus maxDigits inter-key timeouts, with Asterisk's
// defaults for zeros; unbounded for a negative timeout (forever).
func getDataWait(timeout time.Duration, maxDigits int) time.Duration {
	if timeout < 0 {
		return unbounded
	}
	first, inter := getDataFirst, getDataInter
	if timeout > 0 {
		first, inter = timeout, timeout
	}
	if maxDigits <= 0 {
		maxDigits = getDataMaxDigits
	}
	if time.Duration(maxDigits) > (1<<61)/inter {
		return unbounded // longer than any CommandTimeout
	}
	return first + time.Duration(maxDigits)*inter
}

// waitFor is the wait of a command with a timeout argument: the timeout, or
// unbounded when it is negative or, with zeroForever, zero.
func waitFor(timeout time.Duration, zeroForever bool) time.Duration {
	if timeout < 0 || (timeout == 0 && zeroForever) {
		return unbounded
	}
	return timeout
}
