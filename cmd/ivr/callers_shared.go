package main

// Helpers shared by the operator commands: callers, menus, surveys and
// recordings. Each of them is a group of subcommands ("ivr callers add ...")
// whose flags may come before or after the positional arguments.

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/peterbourgon/ff/v4"
	"github.com/peterbourgon/ff/v4/ffhelp"
	"golang.org/x/term"

	"github.com/ivrhq/ivr/internal/ivr"
	"github.com/ivrhq/ivr/internal/phone"
	"github.com/ivrhq/ivr/internal/tabular"
)

// subcommand is one verb of a command group such as "callers add".
type subcommand struct {
	name    string
	args    string // positional arguments for the usage line, e.g. "ACCOUNT"
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// dispatch runs the subcommand args[0] of group ("ivr", "callers"). -h and
// help print the group's usage on stdout; help SUB ... runs SUB ... -h. A
// subcommand without a summary runs but is not listed.
func dispatch(ctx context.Context, e *env, group string, subs []subcommand, args []string) error {
	help := groupHelp(group, subs)
	prefix := group + ": "
	if group == "ivr" {
		prefix = ""
	}
	if len(args) == 0 {
		fmt.Fprint(e.stderr, help)
		return usageError{prefix + "no command given"}
	}
	switch args[0] {
	case "-h", "-help", "--help":
		fmt.Fprint(e.stdout, help)
		return flag.ErrHelp
	case "help":
		if len(args) == 1 {
			fmt.Fprint(e.stdout, help)
			return flag.ErrHelp
		}
		args = append(slices.Clone(args[1:]), "-h")
	}
	var names []string
	for _, s := range subs {
		if s.name == args[0] {
			return s.run(ctx, e, args[1:])
		}
		if s.summary != "" {
			names = append(names, s.name)
		}
	}
	fmt.Fprint(e.stderr, help)
	return usageError{fmt.Sprintf("%sunknown command %q (the commands are %s)", prefix, args[0], strings.Join(names, ", "))}
}

// groupHelp is the usage of a group of subcommands.
func groupHelp(group string, subs []subcommand) ffhelp.Help {
	name := strings.TrimPrefix("ivr "+group, "ivr ivr")
	if name == "" {
		name = "ivr"
	}
	cmd := &ff.Command{
		Name:     name,
		Usage:    name + " <command> [flags]",
		LongHelp: "Run '" + name + " <command> -h' or 'ivr help " + strings.TrimPrefix(name+" ", "ivr ") + "<command>' for the flags of a command.",
		Flags:    ff.NewFlagSet(name),
	}
	for _, s := range subs {
		if s.summary != "" {
			cmd.Subcommands = append(cmd.Subcommands, &ff.Command{Name: s.name, ShortHelp: s.summary})
		}
	}
	return ffhelp.Command(cmd)
}

// format adds --format.
func (f *cmdFlags) format() *string {
	return f.String("format", "table", "output format: table, csv or json")
}

// write renders rows in the --format given.
func write(e *env, rows tabular.Rows, format string) error {
	f, err := tabular.ParseFormat(format)
	if err != nil {
		return usageError{err.Error()}
	}
	return rows.Write(e.stdout, f)
}

// pinSource says where a PIN comes from: --pin-file, --pin-stdin, or else a
// prompt on the terminal (or a line of standard input when it is not one).
type pinSource struct {
	file  string
	stdin bool
}

func (f *cmdFlags) pinSource() *pinSource {
	p := &pinSource{}
	f.StringVar(&p.file, "pin-file", "", "read the PIN from this file (first line)")
	f.BoolVar(&p.stdin, "pin-stdin", false, "read the PIN from the first line of standard input")
	return p
}

// read returns the PIN. On a terminal it asks twice without echo and checks
// that both match. The PIN is never printed.
func (p *pinSource) read(e *env) (ivr.Secret, error) {
	switch {
	case p.file != "" && p.stdin:
		return "", usageError{"give --pin-file or --pin-stdin, not both"}
	case p.file != "":
		b, err := os.ReadFile(p.file)
		if err != nil {
			return "", fmt.Errorf("read PIN: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return ivr.Secret(strings.TrimSpace(line)), nil
	}
	if f, ok := e.stdin.(*os.File); ok && !p.stdin && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, "New PIN: ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", fmt.Errorf("read PIN: %w", err)
		}
		fmt.Fprint(e.stderr, "New PIN again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", fmt.Errorf("read PIN: %w", err)
		}
		if string(a) != string(b) {
			return "", errors.New("the two PINs differ")
		}
		return ivr.Secret(strings.TrimSpace(string(a))), nil
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		return "", errors.New("read PIN: standard input is empty")
	}
	return ivr.Secret(strings.TrimSpace(line)), nil
}

// keySource is the PIN key setting: -pin-key or -pin-key-file, with
// IVR_PIN_KEY and IVR_PIN_KEY_FILE behind them.
type keySource struct{ key string }

func (f *cmdFlags) keySource() *keySource {
	k := &keySource{}
	f.pinKey(&k.key)
	return k
}

// keyring parses the PIN key setting.
func (k *keySource) keyring() (*ivr.Keyring, error) { return pinKeyring(k.key) }

// checkRegion refuses a --region (IVR_REGION) without phone numbering data.
func checkRegion(region string) error {
	if err := phone.CheckRegion(region); err != nil {
		return usageError{fmt.Sprintf("--region (IVR_REGION): %v", err)}
	}
	return nil
}

// region adds --region.
func (f *cmdFlags) region() *string {
	return f.String("region", "US", "ISO 3166 region for phone numbers without a country code")
}

// soundsDirs adds --sounds-dir, repeatable.
func (f *cmdFlags) soundsDirs() *dirList {
	l := &dirList{}
	f.Var(l, "sounds-dir", "a local copy of an Asterisk sounds directory (repeat for several): warn about prompts with no file "+
		"there, directly or in a language folder (several separated by "+string(os.PathListSeparator)+")")
	return l
}
