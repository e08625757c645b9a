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
	"path/filepath"
	"strings"

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

// dispatch runs the subcommand args[0] of group.
func dispatch(ctx context.Context, e *env, group string, subs []subcommand, args []string) error {
	usage := func(w io.Writer) {
		fmt.Fprintf(w, "usage: ivr %s <command> [flags]\n\n", group)
		for _, s := range subs {
			fmt.Fprintf(w, "  %-9s %s\n", s.name, s.summary)
		}
		fmt.Fprintf(w, "\nRun 'ivr %s <command> -h' for the flags of a command.\n", group)
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stdout)
		if len(args) == 0 {
			return usageError{group + ": no command given"}
		}
		return nil
	}
	for _, s := range subs {
		if s.name == args[0] {
			return s.run(ctx, e, args[1:])
		}
	}
	usage(e.stderr)
	return usageError{fmt.Sprintf("%s: unknown command %q", group, args[0])}
}

// cmdFlags is the flag set of one subcommand.
type cmdFlags struct {
	*flag.FlagSet
	e    *env
	name string // "callers add"
	args string
}

func newFlags(e *env, name, args, summary string) *cmdFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	f := &cmdFlags{FlagSet: fs, e: e, name: name, args: args}
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: ivr %s %s[flags]\n\n%s\n\n", name, strings.TrimSpace(args)+" ", summary)
		fs.PrintDefaults()
	}
	return f
}

// envOr returns the environment variable name, or def when it is empty. Flags
// take their defaults from it, so -h shows the value in effect.
func (f *cmdFlags) envOr(name, def string) string {
	if v := f.e.getenv(name); v != "" {
		return v
	}
	return def
}

// format adds --format.
func (f *cmdFlags) format() *string {
	return f.String("format", "table", "output format: table, csv or json")
}

// parse parses flags wherever they stand among args and checks that between min
// and max positional arguments remain; it returns those.
func (f *cmdFlags) parse(args []string, min, max int) ([]string, error) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{fmt.Sprintf("%s: %v", f.name, err)}
		}
		args = f.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) < min || len(pos) > max {
		if min == max && min == 0 {
			return nil, usageError{fmt.Sprintf("%s: unexpected argument %q", f.name, pos[0])}
		}
		return nil, usageError{fmt.Sprintf("usage: ivr %s %s[flags]", f.name, strings.TrimSpace(f.args)+" ")}
	}
	return pos, nil
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

// keySource is the PIN key setting: --pin-key or --pin-key-file, with
// IVR_PIN_KEY and IVR_PIN_KEY_FILE behind them, in ivr.ParseKeyring's format.
type keySource struct{ key, file string }

func (f *cmdFlags) keySource() *keySource {
	k := &keySource{}
	f.StringVar(&k.key, "pin-key", f.envOr("IVR_PIN_KEY", ""), "PIN hashing keys as id:base64key[,...], the first one current ($IVR_PIN_KEY; prefer --pin-key-file)")
	f.StringVar(&k.file, "pin-key-file", f.envOr("IVR_PIN_KEY_FILE", ""), "file holding the PIN keys ($IVR_PIN_KEY_FILE)")
	return k
}

// keyring parses the PIN key setting.
func (k *keySource) keyring() (*ivr.Keyring, error) {
	spec := k.key
	if k.file != "" {
		b, err := os.ReadFile(k.file)
		if err != nil {
			return nil, fmt.Errorf("read PIN key: %w", err)
		}
		spec = string(b)
	}
	if strings.TrimSpace(spec) == "" {
		return nil, usageError{"no PIN key: set IVR_PIN_KEY_FILE (or --pin-key-file) to a file holding id:base64key, the same key the server uses"}
	}
	kr, err := ivr.ParseKeyring(spec)
	if err != nil {
		return nil, err
	}
	return kr, nil
}

// checkRegion refuses a --region (IVR_REGION) without phone numbering data.
func checkRegion(region string) error {
	if err := phone.CheckRegion(region); err != nil {
		return usageError{fmt.Sprintf("--region (IVR_REGION): %v", err)}
	}
	return nil
}

// region adds --region.
func (f *cmdFlags) region() *string {
	return f.String("region", f.envOr("IVR_REGION", "US"), "ISO 3166 region for phone numbers without a country code ($IVR_REGION)")
}

// dirList is the value of a repeatable directory flag. Its default comes from
// an environment variable holding a list (dir1:dir2); the first directory
// given on the command line replaces that list.
type dirList struct {
	dirs  []string
	given bool
}

func (l *dirList) Set(s string) error {
	if !l.given {
		l.dirs, l.given = nil, true
	}
	l.dirs = append(l.dirs, s)
	return nil
}

func (l *dirList) String() string { return strings.Join(l.dirs, string(os.PathListSeparator)) }

// soundsDirs adds --sounds-dir, repeatable, with $IVR_SOUNDS_DIR behind it.
func (f *cmdFlags) soundsDirs() *dirList {
	l := &dirList{}
	for _, d := range filepath.SplitList(f.envOr("IVR_SOUNDS_DIR", "")) {
		if d != "" {
			l.dirs = append(l.dirs, d)
		}
	}
	f.Var(l, "sounds-dir", "a local copy of an Asterisk sounds directory (repeat for several): warn about prompts with no file "+
		"there, directly or in a language folder ($IVR_SOUNDS_DIR, several separated by "+string(os.PathListSeparator)+")")
	return l
}

// database adds --database-url (dbflags.go).
func (f *cmdFlags) database() *dbFlags { return newDBFlags(f.FlagSet, f.e) }
