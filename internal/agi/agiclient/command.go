package agiclient

import "strings"

// A Command is one command line the server sent, as Asterisk reads it.
type Command struct {
	Step  int      // 1-based position in the call
	Line  string   // the line as received, without its "\n"
	Name  string   // the command words in upper case ("GET DATA"); the first word when unknown
	Args  []string // the arguments after the command words, unquoted as Asterisk's parse_args does
	Dead  bool     // the channel had hung up when the command arrived
	Known bool     // Name is one of Asterisk's 47 commands

	// Done, set for a Responder, is closed when nobody waits for its reply
	// any more: the caller hung up (Call.HangupAfter) or the server closed
	// the connection. A Responder that waits for a person selects on it.
	Done <-chan struct{}
}

// Arg returns argument i (0-based) or "" when it is absent.
func (c Command) Arg(i int) string {
	if i < 0 || i >= len(c.Args) {
		return ""
	}
	return c.Args[i]
}

// commandNames are the command words of `agi show commands`, with whether
// Asterisk allows them on a dead channel.
var commandNames = map[string]bool{
	"ANSWER": false, "ASYNCAGI BREAK": true, "CHANNEL STATUS": false, "DATABASE DEL": true,
	"DATABASE DELTREE": true, "DATABASE GET": true, "DATABASE PUT": true, "EXEC": true,
	"GET DATA": false, "GET FULL VARIABLE": true, "GET OPTION": false, "GET VARIABLE": true,
	"HANGUP": false, "NOOP": true, "RECEIVE CHAR": false, "RECEIVE TEXT": false,
	"RECORD FILE": false, "SAY ALPHA": false, "SAY DIGITS": false, "SAY NUMBER": false,
	"SAY PHONETIC": false, "SAY DATE": false, "SAY TIME": false, "SAY DATETIME": false,
	"SEND IMAGE": false, "SEND TEXT": false, "SET AUTOHANGUP": false, "SET CALLERID": false,
	"SET CONTEXT": false, "SET EXTENSION": false, "SET MUSIC": false, "SET PRIORITY": false,
	"SET VARIABLE": true, "STREAM FILE": false, "CONTROL STREAM FILE": false, "TDD MODE": false,
	"VERBOSE": true, "WAIT FOR DIGIT": false, "SPEECH CREATE": false, "SPEECH SET": false,
	"SPEECH DESTROY": true, "SPEECH LOAD GRAMMAR": false, "SPEECH UNLOAD GRAMMAR": true,
	"SPEECH ACTIVATE GRAMMAR": false, "SPEECH DEACTIVATE GRAMMAR": false,
	"SPEECH RECOGNIZE": false, "GOSUB": false,
}

// DeadAllowed reports whether Asterisk runs the named command on a dead
// channel (the others get 511).
func DeadAllowed(name string) bool { return commandNames[strings.ToUpper(name)] }

// ParseCommand splits a command line as Asterisk does: parse_args for the
// words, then the longest run of leading words that names a command.
func ParseCommand(line string) Command {
	argv := ParseArgs(line)
	c := Command{Line: line}
	for n := min(len(argv), 3); n >= 1; n-- {
		name := strings.ToUpper(strings.Join(argv[:n], " "))
		if _, ok := commandNames[name]; ok {
			c.Name, c.Args, c.Known = name, argv[n:], true
			return c
		}
	}
	if len(argv) > 0 {
		c.Name, c.Args = strings.ToUpper(argv[0]), argv[1:]
	}
	return c
}

// ParseArgs splits a line the way Asterisk's parse_args does: words are
// separated by spaces or tabs, double quotes group words, "" is an empty
// argument, and a backslash takes the next character literally. At most 127
// arguments are kept.
func ParseArgs(s string) []string {
	var (
		argv                []string
		cur                 []byte
		quoted, escaped     bool
		whitespace, started = true, false
	)
	end := func() {
		if started {
			argv = append(argv, string(cur))
		}
		cur, started = cur[:0], false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '"' && !escaped:
			quoted = !quoted
			if quoted && whitespace {
				if len(argv) >= 127 {
					continue
				}
				started, whitespace = true, false
			}
		case (ch == ' ' || ch == '\t') && !quoted && !escaped:
			if !whitespace {
				end()
			}
			whitespace = true
		case ch == '\\' && !escaped:
			escaped = true
		default:
			if whitespace {
				if len(argv) >= 127 {
					escaped = false
					continue
				}
				started, whitespace = true, false
			}
			cur = append(cur, ch)
			escaped = false
		}
	}
	end()
	return argv
}
