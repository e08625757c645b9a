package agiclient_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ivrhq/ivr/internal/agi/agiclient"
)

func TestParseArgs(t *testing.T) {
	for _, tt := range []struct {
		line string
		want []string
	}{
		{"GET DATA beep 3000 4", []string{"GET", "DATA", "beep", "3000", "4"}},
		{"  SET\tVARIABLE   X  1 ", []string{"SET", "VARIABLE", "X", "1"}},
		{`SET VARIABLE X "a b"`, []string{"SET", "VARIABLE", "X", "a b"}},
		{`STREAM FILE beep ""`, []string{"STREAM", "FILE", "beep", ""}},
		{`VERBOSE "say \"hi\" \\ bye" 1`, []string{"VERBOSE", `say "hi" \ bye`, "1"}},
		{`VERBOSE a\ b`, []string{"VERBOSE", "a b"}},
		{`VERBOSE \t`, []string{"VERBOSE", "t"}}, // a backslash takes the next character as it is
		{`EXEC Dial "PJSIP/1,20"x`, []string{"EXEC", "Dial", "PJSIP/1,20x"}},
		{"", nil},
	} {
		if got := agiclient.ParseArgs(tt.line); !slices.Equal(got, tt.want) {
			t.Errorf("ParseArgs(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
	if n := len(agiclient.ParseArgs(strings.Repeat("a ", 200))); n != 127 {
		t.Errorf("200 words parse as %d arguments, want Asterisk's 127", n)
	}
}

func TestParseCommand(t *testing.T) {
	for _, tt := range []struct {
		line  string
		name  string
		args  []string
		known bool
	}{
		{"GET DATA beep 3000 4", "GET DATA", []string{"beep", "3000", "4"}, true},
		{"get full variable ${X}", "GET FULL VARIABLE", []string{"${X}"}, true},
		{"database deltree fam", "DATABASE DELTREE", []string{"fam"}, true},
		{"ANSWER", "ANSWER", []string{}, true},
		{"FOO BAR baz", "FOO", []string{"BAR", "baz"}, false},
		{`SAY "digits 1" 2`, "SAY", []string{"digits 1", "2"}, false},
		{"ANSWER\r", "ANSWER\r", []string{}, false},
	} {
		c := agiclient.ParseCommand(tt.line)
		if c.Name != tt.name || !slices.Equal(c.Args, tt.args) || c.Known != tt.known || c.Line != tt.line {
			t.Errorf("ParseCommand(%q) = %+v, want name %q args %q known %v", tt.line, c, tt.name, tt.args, tt.known)
		}
	}
	c := agiclient.ParseCommand("GET DATA beep")
	if c.Arg(0) != "beep" || c.Arg(1) != "" || c.Arg(-1) != "" {
		t.Errorf("Arg: %q %q %q", c.Arg(0), c.Arg(1), c.Arg(-1))
	}
}

// TestDeadAllowed checks the commands a dead channel runs against Asterisk's
// own list, "agi show commands" from the captures.
func TestDeadAllowed(t *testing.T) {
	data, err := os.ReadFile("../testdata/asterisk-22.10.1/agi-show-commands.txt")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	end := strings.Index(lines[0], "Command") + len("Command")
	for _, l := range lines[1:] {
		name := strings.TrimSpace(l[5:end])
		dead := strings.TrimSpace(l[:5]) == "Yes"
		if got := agiclient.DeadAllowed(name); got != dead {
			t.Errorf("DeadAllowed(%q) = %v, Asterisk says %v", name, got, dead)
		}
		if !agiclient.ParseCommand(name + " x").Known {
			t.Errorf("%q is not known", name)
		}
	}
	if agiclient.DeadAllowed("FOO") {
		t.Errorf("an unknown command is allowed on a dead channel")
	}
}
